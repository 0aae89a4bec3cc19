/*
 * mpq-trace inject: embeds a key log into an existing capture (pcap or
 * pcapng, either zstd-compressed) and writes pcapng with the key log as a
 * Decryption Secrets Block first (what editcap --inject-secrets does), the
 * capture's own secrets blocks and packets after it in their order, one
 * interface block per interface and link type of the input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capfile.h"
#include "cmds.h"
#include "common/opts.h"
#include "common/tool.h"
#include "mpq/io/pcapng.h"

#define MAX_IFACES 256

struct inject_opts {
	const char *keylog;
	const char *out;
};

static const struct tool_option inject_options[] = {
	{"keylog", NULL, 0, "FILE", TOOL_O_STR(struct inject_opts, keylog),
	 .help = "NSS key log to embed (required)"},
	{"write", NULL, 'w', "OUT", TOOL_O_STR(struct inject_opts, out),
	 .help = "pcapng file to write (OUT.zst: zstd-compressed; required)"},
	TOOL_OPTION_HELP,
	TOOL_OPTION_END,
};

static const struct tool_command inject_command = {
	.usage = "inject CAPTURE --keylog FILE -w OUT",
	.summary = "Embed a key log into an existing capture (pcap or pcapng, either\n"
		   "zstd-compressed): OUT is pcapng with the secrets first, so that it opens\n"
		   "decrypted in Wireshark or tshark alone.",
	.options = inject_options,
	.epilogue = "Exit status: 0 done, 1 write failure, 2 usage or unreadable input.",
};

struct injector {
	mpq_pcapng *w;
	struct {
		uint32_t ifindex, linktype, id;
	} map[MAX_IFACES];
	size_t n_map;
	uint64_t packets, secrets;
};

static int out_iface(struct injector *j, const struct cap_record *r)
{
	char name[32];
	int id;

	for (size_t i = 0; i < j->n_map; i++)
		if (j->map[i].ifindex == r->ifindex && j->map[i].linktype == r->linktype)
			return (int)j->map[i].id;
	if (j->n_map == MAX_IFACES || r->linktype > UINT16_MAX)
		return MPQ_ERR_NOBUF;
	snprintf(name, sizeof(name), "if%u", r->ifindex);
	id = mpq_pcapng_add_interface(j->w, (uint16_t)r->linktype, name, 0);
	if (id >= 0)
		j->map[j->n_map++] = (typeof(j->map[0])){r->ifindex, r->linktype, (uint32_t)id};
	return id;
}

static int on_packet(void *user, const struct cap_record *r)
{
	struct injector *j = user;
	int id = out_iface(j, r);

	if (id < 0)
		return id;
	j->packets++;
	return mpq_pcapng_packet(j->w, (uint32_t)id, r->ts_ns, r->data, r->caplen,
				 r->origlen < r->caplen ? r->caplen : r->origlen);
}

static int on_secrets(void *user, uint32_t type, const uint8_t *data, size_t len)
{
	struct injector *j = user;

	if (type != MPQ_PCAPNG_SECRETS_TLS)
		return 0;
	j->secrets++;
	return mpq_pcapng_secrets(j->w, data, len);
}

/* The whole key log, ending in a newline. */
static char *read_keylog(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		char *b;

		if (*len + 4097 > cap) {
			cap = cap ? 2 * cap : 65536;
			b = realloc(buf, cap);
			if (!b)
				break;
			buf = b;
		}
		size_t n = fread(buf + *len, 1, cap - *len - 1, f);

		*len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	if (buf && *len && buf[*len - 1] != '\n')
		buf[(*len)++] = '\n';
	return buf;
}

int trace_cmd_inject(int argc, char **argv)
{
	struct inject_opts o = {0};
	struct injector j;
	struct cap_stats st;
	struct cap_sink sink = {on_packet, on_secrets, &j};
	struct cap_data cap;
	char *keys;
	size_t klen;
	int first, rv;

	rv = tool_parse(&inject_command, &o, argc, argv, &first);
	if (rv != TOOL_PARSE_OK)
		return rv;
	if (!o.keylog || !o.out || first != argc - 1) {
		tool_err("usage: mpq-trace %s", inject_command.usage);
		return TOOL_EXIT_USAGE;
	}
	keys = read_keylog(o.keylog, &klen);
	if (!keys) {
		tool_err("--keylog %s: %s", o.keylog, errno ? strerror(errno) : "empty");
		return TOOL_EXIT_USAGE;
	}
	rv = cap_load(argv[first], &cap);
	if (rv < 0) {
		tool_err("%s: %s%s%s", argv[first], cap_strerror(rv), rv == CAP_ERR_IO ? ": " : "",
			 rv == CAP_ERR_IO ? strerror(errno) : "");
		free(keys);
		return TOOL_EXIT_USAGE;
	}
	memset(&j, 0, sizeof(j));
	memset(&st, 0, sizeof(st));
	rv = mpq_pcapng_open(&j.w, o.out);
	if (rv < 0) {
		tool_err("-w %s: %s", o.out,
			 rv == MPQ_ERR_NOT_FOUND ? "no such directory" : strerror(errno));
		free(keys);
		cap_unload(&cap);
		return TOOL_EXIT_USAGE;
	}
	rv = mpq_pcapng_secrets(j.w, keys, klen);
	if (rv == 0)
		rv = cap_read(cap.buf, cap.len, &sink, &st);
	if (rv == CAP_ERR_NOT_CAPTURE || rv == CAP_ERR_MALFORMED) {
		tool_err("%s: %s", argv[first], cap_strerror(rv));
		mpq_pcapng_close(j.w);
		rv = TOOL_EXIT_USAGE;
	} else if (mpq_pcapng_close(j.w) < 0 || rv < 0) {
		tool_err("%s: cannot write: %s", o.out, strerror(errno));
		rv = TOOL_EXIT_FAIL;
	} else {
		fprintf(stderr, "mpq-trace: %s: %llu packets (%s) and the key log to %s%s\n",
			argv[first], (unsigned long long)j.packets, st.format, o.out,
			st.truncated ? " (the last record was cut short and is left out)" : "");
	}
	free(keys);
	cap_unload(&cap);
	return rv;
}
