/*
 * The capture's records through the link/IP/UDP decoder to the QUIC decoder,
 * in timestamp order: a capture of several interfaces (dumpcap -i A -i B)
 * holds each interface's packets in batches, so a CID issued on one path can
 * come after packets that use it on another. The secrets of every Decryption
 * Secrets Block are read first (they are found by client random, so a block
 * anywhere serves the whole file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tool.h"
#include "input.h"
#include "udpdecode.h"

struct feed {
	struct trace_input *in;
	struct trace *t;
	struct queued *recs;
	size_t n, cap;
};

struct queued {
	struct cap_record rec;
	size_t seq; /* file order, for equal timestamps */
};

static int collect(void *user, const struct cap_record *rec)
{
	struct feed *f = user;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		struct queued *r = realloc(f->recs, cap * sizeof(*r));

		if (!r)
			return MPQ_ERR_NOMEM;
		f->recs = r;
		f->cap = cap;
	}
	f->recs[f->n] = (struct queued){*rec, f->n};
	f->n++;
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct queued *x = a, *y = b;

	if (x->rec.ts_ns != y->rec.ts_ns)
		return x->rec.ts_ns < y->rec.ts_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void decode(struct feed *f, const struct cap_record *rec)
{
	struct cap_udp u;
	int rv = cap_udp_decode(rec->linktype, rec->data, rec->caplen, &u);

	if (rv == CAP_UDP_MALFORMED) {
		f->in->malformed_frames++;
		return;
	}
	if (rv && rec->caplen < rec->origlen) {
		f->in->cut++;
		return;
	}
	if (rv) {
		f->in->other++;
		return;
	}
	f->in->udp++;
	trace_datagram(f->t, rec->ts_ns, &u.src, &u.dst, u.payload, u.len);
}

int trace_keys_load(struct trace *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int rv = 0;

	if (!f)
		return -1;
	while (!rv && fgets(line, sizeof(line), f))
		rv = trace_keys_add(t, line, strlen(line));
	if (!rv && ferror(f))
		rv = -1;
	fclose(f);
	return rv;
}

static int on_secrets(void *user, uint32_t type, const uint8_t *data, size_t len)
{
	struct feed *f = user;

	if (type != MPQ_PCAPNG_SECRETS_TLS)
		return 0;
	return trace_keys_add(f->t, (const char *)data, len) ? MPQ_ERR_NOMEM : 0;
}

int trace_input_run(struct trace_input *in, struct trace *t)
{
	struct feed f = {in, t, NULL, 0, 0};
	struct cap_sink sink = {collect, on_secrets, &f};
	struct cap_data cap;
	int rv;

	if (in->keylog) {
		uint64_t lines = 0;
		size_t randoms = 0;

		rv = trace_keys_load(t, in->keylog);
		if (rv) {
			tool_err("%s: %s", in->keylog,
				 rv == -1 ? strerror(errno) : "out of memory");
			return TOOL_EXIT_USAGE;
		}
		if (t->keys)
			mpq_keylog_counts(t->keys, &lines, NULL, &randoms);
		if (lines && !randoms)
			tool_warn("%s: no TLS 1.3 secrets in %llu lines", in->keylog,
				  (unsigned long long)lines);
	}
	rv = cap_load(in->capture, &cap);
	if (rv) {
		tool_err("%s: %s", in->capture, cap_strerror(rv));
		return TOOL_EXIT_USAGE;
	}
	rv = cap_read(cap.buf, cap.len, &sink, &in->st);
	if (rv && !in->st.records) {
		tool_err("%s: %s", in->capture, cap_strerror(rv));
		free(f.recs);
		cap_unload(&cap);
		return TOOL_EXIT_USAGE;
	}
	qsort(f.recs, f.n, sizeof(f.recs[0]), by_time);
	for (size_t i = 0; i < f.n; i++)
		decode(&f, &f.recs[i].rec);
	free(f.recs);
	cap_unload(&cap);
	if (rv)
		tool_warn("%s: %s after %llu records; the rest is skipped", in->capture,
			  cap_strerror(rv), (unsigned long long)in->st.records);
	if (in->cut)
		tool_warn("%s: %llu frames cut by the snap length were skipped", in->capture,
			  (unsigned long long)in->cut);
	if (in->st.truncated)
		tool_warn("%s: the last record is truncated (capture cut short); %llu records "
			  "read",
			  in->capture, (unsigned long long)in->st.records);
	return TOOL_EXIT_OK;
}

int trace_input_args(struct trace_input *in, struct trace *t, const char *cmd, int argc,
		     char **argv, int first, const char *keylog, uint64_t port)
{
	if (argc - first != 1) {
		tool_err("%s: give one CAPTURE (see --help)", cmd);
		return TOOL_EXIT_USAGE;
	}
	in->capture = argv[first];
	in->keylog = keylog;
	t->port = (uint16_t)port;
	return 0;
}
