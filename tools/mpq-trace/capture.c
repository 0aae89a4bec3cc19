/*
 * mpq-trace capture: libpcap on one or more interfaces at once into our
 * pcapng writer (mpq/io/pcapng.h), one interface block per interface, with
 * the lines of a key log that may grow while capturing written as
 * Decryption Secrets Blocks before the packets that follow them. Stops on
 * --duration, --count, SIGINT or SIGTERM, and always ends the file cleanly.
 *
 * Interfaces that an XDP program serves through AF_XDP (ours with --io xdp)
 * show libpcap nothing of that traffic: the program redirects frames before
 * the kernel's taps, and AF_XDP transmit skips them too. Such interfaces are
 * named on stderr with a pointer to --pcap, which captures inside our I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "common/opts.h"
#include "common/tool.h"
#include "mpq/io/pcapng.h"
#include "xskcheck.h"

#define MAX_IFACES 16
#define POLL_MS 100
/* Packets wait this long before they are written: the endpoint whose key log
 * this is may log a secret a little after the peer's packet that needs it
 * crossed the interface (a server logs the client's 1-RTT secret once the
 * client's Finished arrived, which the client sent with 1-RTT packets). */
#define HOLD_MS 300
#define HOLD_MAX (64u << 20) /* bytes held at most; beyond, the oldest go out */

struct capture_opts {
	const char *ifaces;
	const char *out;
	const char *keylog;
	const char *filter;
	uint64_t duration; /* seconds, 0: none */
	uint64_t count;	   /* packets, 0: no limit */
	uint64_t snaplen;
};

static const struct tool_option capture_options[] = {
	{"interface", NULL, 'i', "IFACES", TOOL_O_STR(struct capture_opts, ifaces),
	 .help = "interfaces to capture on, comma-separated (required)"},
	{"write", NULL, 'w', "FILE", TOOL_O_STR(struct capture_opts, out),
	 .help = "pcapng file to write (FILE.zst: zstd-compressed;\n"
		 "default capture.pcapng)"},
	{"keylog", NULL, 0, "FILE", TOOL_O_STR(struct capture_opts, keylog),
	 .help = "NSS key log to embed as Decryption Secrets Blocks; read\n"
		 "again as it grows (it may not exist yet)"},
	{"filter", NULL, 'f', "FILTER", TOOL_O_STR(struct capture_opts, filter),
	 .help = "BPF capture filter (pcap-filter(7)), e.g. \"udp port 443\""},
	{"duration", NULL, 0, "S", TOOL_O_UINT(struct capture_opts, duration, 1, 864000),
	 .help = "stop after S seconds"},
	{"count", NULL, 0, "N", TOOL_O_UINT(struct capture_opts, count, 1, UINT64_MAX),
	 .help = "stop after N packets"},
	{"snaplen", NULL, 0, "N", TOOL_O_UINT(struct capture_opts, snaplen, 64, 262144),
	 .help = "bytes kept of each packet (default 262144)"},
	TOOL_OPTION_HELP,
	TOOL_OPTION_END,
};

static const struct tool_command capture_command = {
	.usage = "capture -i IFACES [-w FILE] [--keylog FILE] [-f FILTER] [--duration S]\n"
		 "                  [--count N] [--snaplen N]",
	.summary = "Capture on one or more interfaces into pcapng, with the secrets of a key log\n"
		   "embedded, so that the file opens decrypted in Wireshark or tshark alone.\n"
		   "Stops cleanly on SIGINT. Traffic that AF_XDP moves (mpq-server/mpq-client\n"
		   "--io xdp) is invisible here: use their --pcap for it.",
	.options = capture_options,
	.epilogue = "Exit status: 0 done, 1 capture or write failure, 2 usage.",
};

/* A key log read as it grows: complete lines go out as one DSB. */
struct keytail {
	const char *path;
	off_t off;
	int fd;	    /* -1 until the file exists */
	char *part; /* a line not complete yet */
	size_t part_len;
	uint64_t lines;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Writes the lines added to the key log since the last call: before each
 * packet, so that a packet follows every secret written before it was. */
static int keytail_poll(struct keytail *k, mpq_pcapng *w)
{
	struct stat st;
	size_t n, end;
	char *buf;
	ssize_t got;
	int rv = 0;

	if (!k->path)
		return 0;
	if (k->fd < 0)
		k->fd = open(k->path, O_RDONLY | O_CLOEXEC);
	if (k->fd < 0 || fstat(k->fd, &st) < 0)
		return 0;
	if (st.st_size < k->off) {
		/* Truncated and written anew: start over. */
		k->off = 0;
		k->part_len = 0;
	}
	if (st.st_size == k->off)
		return 0;
	n = (size_t)(st.st_size - k->off);
	buf = realloc(k->part, k->part_len + n);
	if (!buf)
		return MPQ_ERR_NOMEM;
	k->part = buf;
	got = pread(k->fd, buf + k->part_len, n, k->off);
	if (got <= 0)
		return 0;
	k->off += got;
	n = k->part_len + (size_t)got;
	for (end = n; end > 0 && buf[end - 1] != '\n'; end--)
		;
	if (end > 0) {
		for (size_t i = 0; i < end; i++)
			k->lines += buf[i] == '\n';
		rv = mpq_pcapng_secrets(w, buf, end);
	}
	memmove(buf, buf + end, n - end);
	k->part_len = n - end;
	return rv;
}

struct iface {
	const char *name;
	pcap_t *p;
	uint32_t id; /* in the file */
	int fd;
};

/* A packet held back for HOLD_MS: this header, then |caplen| bytes. */
struct held {
	uint64_t arrived_ms; /* CLOCK_MONOTONIC */
	uint64_t ts_ns;
	uint32_t id, caplen, origlen;
};

struct capture {
	struct capture_opts o;
	uint8_t *hold; /* packets waiting, oldest first */
	size_t hold_len, hold_start;
	struct iface ifaces[MAX_IFACES];
	int n_ifaces;
	mpq_pcapng *w;
	struct keytail keys;
	uint64_t packets;
	int write_err;
	struct iface *cur;
};

static int open_iface(struct capture *c, struct iface *f)
{
	char err[PCAP_ERRBUF_SIZE] = "", prog[64];
	struct bpf_program bp;
	int id;

	f->p = pcap_create(f->name, err);
	if (!f->p) {
		tool_err("%s: %s", f->name, err);
		return TOOL_EXIT_FAIL;
	}
	pcap_set_snaplen(f->p, (int)c->o.snaplen);
	/* Not immediate mode: libpcap then uses TPACKET_V2, a ring of slots of
	 * the snaplen each (64 of 256 kB in 16 MB), which a burst overruns;
	 * TPACKET_V3 fills blocks and hands them over at the latest after the
	 * timeout, well within HOLD_MS. */
	pcap_set_timeout(f->p, POLL_MS / 2);
	pcap_set_buffer_size(f->p, 16 << 20);
	pcap_set_tstamp_precision(f->p, PCAP_TSTAMP_PRECISION_NANO);
	if (pcap_activate(f->p) < 0) {
		tool_err("%s: %s", f->name, pcap_geterr(f->p));
		return TOOL_EXIT_FAIL;
	}
	if (c->o.filter) {
		if (pcap_compile(f->p, &bp, c->o.filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			tool_err("-f '%s': %s", c->o.filter, pcap_geterr(f->p));
			return TOOL_EXIT_USAGE;
		}
		if (pcap_setfilter(f->p, &bp) < 0) {
			tool_err("%s: filter: %s", f->name, pcap_geterr(f->p));
			pcap_freecode(&bp);
			return TOOL_EXIT_FAIL;
		}
		pcap_freecode(&bp);
	}
	if (pcap_setnonblock(f->p, 1, err) < 0 || (f->fd = pcap_get_selectable_fd(f->p)) < 0) {
		tool_err("%s: cannot poll: %s", f->name, err);
		return TOOL_EXIT_FAIL;
	}
	id = mpq_pcapng_add_interface(c->w, (uint16_t)pcap_datalink(f->p), f->name,
				      (uint32_t)c->o.snaplen);
	if (id < 0) {
		tool_err("%s: cannot write: %s", c->o.out, strerror(errno));
		return TOOL_EXIT_FAIL;
	}
	f->id = (uint32_t)id;
	if (trace_xsk_program(f->name, prog, sizeof(prog)))
		tool_warn("%s: XDP program '%s' redirects to AF_XDP: libpcap does not see the "
			  "traffic it takes (for mpq-server/mpq-client --io xdp, use their --pcap "
			  "FILE)",
			  f->name, prog);
	return 0;
}

static uint64_t now_ms(void);

/* Writes the held packets that arrived before |before_ms| (all: UINT64_MAX),
 * after the key log lines known now. */
static void write_held(struct capture *c, uint64_t before_ms)
{
	if (!c->write_err)
		c->write_err = keytail_poll(&c->keys, c->w);
	while (c->hold_start < c->hold_len && !c->write_err) {
		struct held h;

		memcpy(&h, c->hold + c->hold_start, sizeof(h));
		if (h.arrived_ms >= before_ms)
			break;
		c->write_err = mpq_pcapng_packet(c->w, h.id, h.ts_ns,
						 c->hold + c->hold_start + sizeof(h), h.caplen,
						 h.origlen);
		c->hold_start += sizeof(h) + h.caplen;
	}
	if (c->hold_start == c->hold_len)
		c->hold_start = c->hold_len = 0;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct capture *c = (struct capture *)user;
	struct held hd = {
		.arrived_ms = now_ms(),
		.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec,
		.id = c->cur->id,
		.caplen = h->caplen,
		.origlen = h->len,
	};

	if (c->o.count && c->packets >= c->o.count)
		return;
	c->packets++;
	if (c->hold_len + sizeof(hd) + h->caplen > HOLD_MAX) {
		/* Full: make room by writing the oldest, then start over. */
		write_held(c, UINT64_MAX);
	}
	memcpy(c->hold + c->hold_len, &hd, sizeof(hd));
	memcpy(c->hold + c->hold_len + sizeof(hd), data, h->caplen);
	c->hold_len += sizeof(hd) + h->caplen;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool done(const struct capture *c, uint64_t end_ms)
{
	return stop_signal || c->write_err || (c->o.count && c->packets >= c->o.count) ||
	       (end_ms && now_ms() >= end_ms);
}

/* Captures until a stop condition. */
static void run(struct capture *c)
{
	struct pollfd pfd[MAX_IFACES];
	uint64_t end_ms = c->o.duration ? now_ms() + c->o.duration * 1000 : 0;

	for (int i = 0; i < c->n_ifaces; i++)
		pfd[i] = (struct pollfd){.fd = c->ifaces[i].fd, .events = POLLIN};
	while (!done(c, end_ms)) {
		int n = poll(pfd, (nfds_t)c->n_ifaces, POLL_MS), r = 0;

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < c->n_ifaces && n > 0 && !done(c, 0); i++) {
			if (!(pfd[i].revents & (POLLIN | POLLERR)))
				continue;
			c->cur = &c->ifaces[i];
			/* Until the ring is empty: one call may return one block. */
			while ((r = pcap_dispatch(c->ifaces[i].p, -1, on_packet, (u_char *)c)) >
				       0 &&
			       !done(c, 0))
				;
			if (r < 0) {
				tool_err("%s: %s", c->ifaces[i].name, pcap_geterr(c->ifaces[i].p));
				c->write_err = MPQ_ERR_INTERNAL;
			}
		}
		write_held(c, now_ms() - HOLD_MS);
		if (n == 0 && !c->write_err)
			c->write_err = mpq_pcapng_flush(c->w);
	}
	/* Let a last secret arrive, then write everything. */
	if (c->hold_len && !stop_signal)
		usleep(HOLD_MS * 1000);
	write_held(c, UINT64_MAX);
}

static void report(struct capture *c)
{
	uint64_t dropped = 0;

	for (int i = 0; i < c->n_ifaces; i++) {
		struct pcap_stat ps;

		if (c->ifaces[i].p && pcap_stats(c->ifaces[i].p, &ps) == 0)
			dropped += ps.ps_drop; /* ps_ifdrop: the interface's, not ours */
	}
	fprintf(stderr, "%s: %llu packets on %s to %s, %llu key log lines embedded", "mpq-trace",
		(unsigned long long)c->packets, c->o.ifaces, c->o.out,
		(unsigned long long)c->keys.lines);
	if (dropped)
		fprintf(stderr, ", %llu lost (the capture buffer was full)",
			(unsigned long long)dropped);
	fprintf(stderr, "\n");
}

static void set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int trace_cmd_capture(int argc, char **argv)
{
	struct capture c;
	char buf[1024];
	const char *names[MAX_IFACES];
	int first, rv, n;

	memset(&c, 0, sizeof(c));
	c.o.out = "capture.pcapng";
	c.o.snaplen = 262144;
	rv = tool_parse(&capture_command, &c.o, argc, argv, &first);
	if (rv != TOOL_PARSE_OK)
		return rv;
	if (!c.o.ifaces || first < argc) {
		tool_err(first < argc ? "unexpected argument '%s'" : "-i IFACES is required",
			 first < argc ? argv[first] : "");
		return TOOL_EXIT_USAGE;
	}
	n = tool_split_list("-i", c.o.ifaces, buf, sizeof(buf), names, MAX_IFACES);
	if (n < 0)
		return TOOL_EXIT_USAGE;
	c.hold = malloc(HOLD_MAX);
	if (!c.hold) {
		tool_err("out of memory");
		return TOOL_EXIT_FAIL;
	}
	rv = mpq_pcapng_open(&c.w, c.o.out);
	if (rv < 0) {
		tool_err("-w %s: %s", c.o.out,
			 rv == MPQ_ERR_NOT_FOUND ? "no such directory" : strerror(errno));
		free(c.hold);
		return TOOL_EXIT_USAGE;
	}
	c.keys.path = c.o.keylog;
	c.keys.fd = -1;
	set_signals();
	for (int i = 0; i < n && rv == 0; i++) {
		c.ifaces[i].name = names[i];
		c.n_ifaces = i + 1;
		rv = open_iface(&c, &c.ifaces[i]);
	}
	if (rv == 0) {
		fprintf(stderr, "mpq-trace: capturing on %s to %s\n", c.o.ifaces, c.o.out);
		run(&c);
		report(&c);
	}
	for (int i = 0; i < c.n_ifaces; i++)
		if (c.ifaces[i].p)
			pcap_close(c.ifaces[i].p);
	if (mpq_pcapng_close(c.w) < 0 || c.write_err) {
		tool_err("%s: cannot write: %s", c.o.out, strerror(errno));
		rv = rv ? rv : TOOL_EXIT_FAIL;
	}
	free(c.keys.part);
	free(c.hold);
	if (c.keys.fd >= 0)
		close(c.keys.fd);
	return rv;
}
