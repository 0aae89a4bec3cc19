/*
 * mpq-linkemu: the testbed's link emulator (DESIGN.md "Link emulation in the
 * testbed"). Runs in a router namespace between two legs, A (towards the
 * client) and B (towards the server), and forwards every frame from one to
 * the other through an emulated link per direction (link.h): loss, rate
 * with a drop-tail queue, delay and jitter. The frames it holds wait in a
 * heap keyed by departure time (heldq.h); one thread, one clock read per
 * batch, ppoll until the next departure.
 *
 *   mpq-linkemu [--io xdp|packet] [--ctl PATH] [--pcap FILE] [--at "T OPTIONS"]...
 *               [--seed N] [--rt] IF_A IF_B [LINK OPTIONS...]
 *   mpq-linkemu ctl PATH [[at T] LINK OPTIONS... | stats]
 *
 * A control socket (a Unix seqpacket socket at PATH) takes link options
 * while running ("down", "ab rate 5mbit", ...), the same T later ("at 2s
 * down"; --at: T after the start) and "stats"; each answers
 * with the time it was applied (t_ns=, CLOCK_MONOTONIC) and the counters of
 * both directions. SIGUSR1 prints them on stdout, as
 * does the exit on SIGINT or SIGTERM. --pcap: what it forwards and drops
 * (tap.h). --io: how the legs move frames (port.h): AF_XDP by default,
 * AF_PACKET when AF_XDP cannot be had on a leg (one line on stderr says why).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/tool.h"
#include "heldq.h"
#include "link.h"
#include "port.h"
#include "tap.h"

#define HELD_MAX 65536 /* frames held per direction */
#define CTL_MAX 4096
#define CTL_ARGS 64
#define EVENTS_MAX 64

/* Link options to apply at a time (a handover's path down, a new rate). */
typedef struct event {
	uint64_t due_ns;
	char words[CTL_MAX];
} event;

static event events[EVENTS_MAX]; /* in the order they are due */
static int n_events;

static volatile sig_atomic_t stop, dump;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump = 1;
	else
		stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct dir {
	const char *name; /* "ab", "ba" */
	int index;	  /* 0, 1 */
	emu_tap *tap;	  /* NULL: no capture */
	emu_port *in, *out;
	emu_link link;
	heldq held;
	uint64_t last_arrival_ns;
} dir;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mpq-linkemu [--io xdp|packet] [--ctl PATH] [--pcap FILE]"
		" [--at \"T OPTIONS\"]... [--seed N] [--rt] IF_A IF_B [LINK OPTIONS...]\n"
		"       mpq-linkemu ctl PATH [[at T] LINK OPTIONS... | stats]\n"
		"link options (for both directions, or after 'ab' / 'ba' for one):\n"
		"  delay T  jitter T  reorder [P]|noreorder  loss P  ge P/R[/BAD[/GOOD]]\n"
		"  rate R  trace FILE  dup P  queue SIZE|T  up|down\n"
		"  T: 10ms 250us 1s; P: 1%% or 0.01; R: 50mbit 500kbit; SIZE: 64kB 1500B 1MiB\n");
}

static int fmt_stats(char *buf, size_t len, dir *d)
{
	int n = 0;

	for (int i = 0; i < 2; i++) {
		emu_port *in = d[i].in;

		in->ops->update_stats(in);
		n += snprintf(buf + n, len - (size_t)n, "%s ", d[i].name);
		n += emu_link_fmt_stats(buf + n, len - (size_t)n, &d[i].link.stats);
		n += snprintf(buf + n, len - (size_t)n,
			      " held=%zu rx_dropped=%" PRIu64 " rx_truncated=%" PRIu64 "\n",
			      d[i].held.n, in->rx_dropped, in->rx_truncated);
	}
	return n;
}

/* Sends what is due in |d|; frames the leg refuses are counted and freed. */
static void release(dir *d, uint64_t now)
{
	struct iovec iov[EMU_BATCH];
	emu_frame *f[EMU_BATCH];
	int n;

	do {
		int sent;

		for (n = 0; n < EMU_BATCH && (f[n] = heldq_pop_due(&d->held, now)); n++)
			iov[n] = (struct iovec){f[n]->data, f[n]->len};
		if (!n)
			return;
		sent = d->out->ops->send(d->out, iov, n);
		if (sent < 0)
			sent = 0;
		for (int i = 0; i < n; i++) {
			if (d->tap)
				emu_tap_frame(d->tap, d->index, i >= sent, now,
					      f[i]->data + d->out->hdr_len,
					      f[i]->len - d->out->hdr_len);
			if (i < sent) {
				d->link.stats.forwarded++;
				d->link.stats.forwarded_bytes += f[i]->len - d->out->hdr_len;
			} else {
				d->link.stats.send_errors++;
			}
			free(f[i]);
		}
	} while (n == EMU_BATCH);
}

/* Reads a batch from d's leg and admits each frame to d's link. */
static int admit_batch(dir *d, uint64_t now)
{
	uint64_t at[EMU_BATCH];
	uint32_t len[EMU_BATCH];
	uint8_t *data[EMU_BATCH];
	int n = d->in->ops->recv(d->in, data, len, at, EMU_BATCH);

	for (int i = 0; i < n; i++) {
		/* The frame's own arrival, not when we got to it; never ahead
		 * of the link's last one (the two clocks are read apart). */
		uint64_t t = at[i] && at[i] < now ? at[i] : now, depart;
		emu_frame *f;

		if (t < d->last_arrival_ns)
			t = d->last_arrival_ns;
		d->last_arrival_ns = t;
		if (emu_link_admit(&d->link, t, len[i] - d->in->hdr_len, &depart) != EMU_PASS) {
			if (d->tap)
				emu_tap_frame(d->tap, d->index, true, t, data[i] + d->in->hdr_len,
					      len[i] - d->in->hdr_len);
			continue;
		}
		if (depart > now)
			d->link.stats.delayed++;
		/* Held in our own memory: the leg's buffer is its own again at
		 * the next recv (port_xsk.c says why not the UMEM's). */
		for (int copies = 1 + emu_link_duplicate(&d->link); copies; copies--) {
			f = malloc(sizeof(*f) + len[i]);
			if (!f || heldq_push(&d->held, depart, f)) {
				free(f);
				d->link.stats.dropped_queue++;
				continue;
			}
			f->len = len[i];
			memcpy(f->data, data[i], len[i]);
		}
	}
	return n;
}

/* Splits a control message into words, in place. */
static int split_words(char *s, char **argv, int max)
{
	int n = 0;

	for (char *save = NULL, *w = strtok_r(s, " \t\n", &save); w && n < max;
	     w = strtok_r(NULL, " \t\n", &save))
		argv[n++] = w;
	return n;
}

/* Applies link options to both directions; a "down" drops what is held. */
static int apply(dir *d, int argc, char **argv, char *err, size_t errlen)
{
	emu_link_cfg cfg[2] = {d[0].link.cfg, d[1].link.cfg};

	if (emu_link_parse(cfg, argc, argv, err, errlen))
		return -1;
	for (int i = 0; i < 2; i++) {
		d[i].link.cfg = cfg[i];
		if (!cfg[i].down)
			continue;
		for (size_t k = 0; d[i].tap && k < d[i].held.n; k++) {
			emu_frame *f = d[i].held.ents[k].frame;

			emu_tap_frame(d[i].tap, i, true, now_ns(), f->data + d[i].in->hdr_len,
				      f->len - d[i].in->hdr_len);
		}
		d[i].link.stats.dropped_down += heldq_flush(&d[i].held);
	}
	return 0;
}

/* "at T OPTIONS...": checked now, applied at now + T; other options now. */
static int command(dir *d, int argc, char **argv, uint64_t now, char *err, size_t errlen)
{
	emu_link_cfg scratch[2] = {d[0].link.cfg, d[1].link.cfg};
	uint64_t after;
	event *e;
	int i;

	if (!argc || strcmp(argv[0], "at"))
		return apply(d, argc, argv, err, errlen);
	if (argc < 3 || emu_parse_time(argv[1], &after)) {
		snprintf(err, errlen, "at needs a time and link options");
		return -1;
	}
	if (emu_link_parse(scratch, argc - 2, argv + 2, err, errlen))
		return -1;
	if (n_events == EVENTS_MAX) {
		snprintf(err, errlen, "more than %d events waiting", EVENTS_MAX);
		return -1;
	}
	for (i = n_events; i > 0 && events[i - 1].due_ns > now + after; i--)
		;
	memmove(&events[i + 1], &events[i], (size_t)(n_events - i) * sizeof(events[0]));
	n_events++;
	e = &events[i];
	e->due_ns = now + after;
	e->words[0] = 0;
	for (int k = 2; k < argc; k++) {
		strncat(e->words, argv[k], sizeof(e->words) - strlen(e->words) - 2);
		strcat(e->words, " ");
	}
	return 0;
}

/* Applies the events due by |now|, in order. */
static void run_events(dir *d, uint64_t now)
{
	char err[256], *argv[CTL_ARGS];

	while (n_events && events[0].due_ns <= now) {
		int argc = split_words(events[0].words, argv, CTL_ARGS);

		if (apply(d, argc, argv, err, sizeof(err)))
			tool_warn("event: %s",
				  err); /* checked when scheduled: a trace file gone */
		n_events--;
		memmove(&events[0], &events[1], (size_t)n_events * sizeof(events[0]));
	}
}

static void serve_ctl(int lfd, dir *d)
{
	struct timeval tv = {.tv_usec = 200000};
	char msg[CTL_MAX], reply[CTL_MAX], *argv[CTL_ARGS];
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), argc;
	ssize_t n;

	if (fd < 0)
		return;
	/* A client that connects and says nothing stalls the links this long at most. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, msg, sizeof(msg) - 1, 0);
	if (n > 0) {
		msg[n] = 0;
		argc = split_words(msg, argv, CTL_ARGS);
		if ((argc == 1 && !strcmp(argv[0], "stats")) ||
		    command(d, argc, argv, now_ns(), reply, sizeof(reply)) == 0) {
			int k = snprintf(reply, sizeof(reply), "t_ns=%" PRIu64 "\n", now_ns());

			fmt_stats(reply + k, sizeof(reply) - (size_t)k, d);
		} else {
			strcat(reply, "\n");
		}
		send(fd, reply, strlen(reply), MSG_NOSIGNAL);
	}
	close(fd);
}

static int ctl_listen(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 8)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* mpq-linkemu ctl PATH WORDS...: sends the words, prints the answer. */
static int ctl_client(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char msg[CTL_MAX] = "", reply[CTL_MAX];
	ssize_t n;
	int fd;

	if (argc < 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		usage(stderr);
		return TOOL_EXIT_USAGE;
	}
	strcpy(sun.sun_path, argv[1]);
	for (int i = 2; i < argc; i++) {
		if (strlen(msg) + strlen(argv[i]) + 2 > sizeof(msg)) {
			tool_err("control message too long");
			return TOOL_EXIT_USAGE;
		}
		strcat(msg, argv[i]);
		strcat(msg, " ");
	}
	if (argc == 2)
		strcpy(msg, "stats");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    send(fd, msg, strlen(msg), 0) < 0 ||
	    (n = recv(fd, reply, sizeof(reply) - 1, 0)) <= 0) {
		tool_err("%s: %s", argv[1], strerror(errno));
		return TOOL_EXIT_FAIL;
	}
	reply[n] = 0;
	fputs(reply, stdout);
	close(fd);
	return strchr(reply, '=') ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
}

/* Opens both legs with the backend |io| asks for ("auto": xdp, else packet,
 * saying why on stderr). */
static int open_legs(emu_port legs[2], char **ifs, const char *io)
{
	const emu_port_ops *ops = strcmp(io, "packet") ? &emu_port_xsk : &emu_port_packet;

	for (;;) {
		char why[256];
		int k;

		for (k = 0; k < 2; k++) {
			legs[k] = (emu_port){.ops = ops, .fd = -1};
			if (ops->open(&legs[k], ifs[k]))
				break;
		}
		if (k == 2)
			return 0;
		snprintf(why, sizeof(why), "%s: %s", ifs[k],
			 legs[k].why[0] ? legs[k].why : strerror(errno));
		if (k == 1)
			legs[0].ops->close(&legs[0]);
		if (ops == &emu_port_xsk && !strcmp(io, "auto")) {
			tool_warn("--io xdp: %s; using packet", why);
			ops = &emu_port_packet;
			continue;
		}
		tool_err("%s", why);
		return -1;
	}
}

static void set_realtime(void)
{
	struct sched_param sp = {.sched_priority = 10};

	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		tool_warn("--rt: %s (running without)", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *ctl_path = NULL, *pcap_path = NULL, *at[EVENTS_MAX], *io = "auto";
	int n_at = 0;
	emu_tap *tap = NULL;
	uint64_t seed = 0;
	bool rt = false, seeded = false;
	emu_port legs[2] = {{.ops = &emu_port_packet, .fd = -1},
			    {.ops = &emu_port_packet, .fd = -1}};
	dir d[2] = {{.name = "ab", .index = 0, .in = &legs[0], .out = &legs[1]},
		    {.name = "ba", .index = 1, .in = &legs[1], .out = &legs[0]}};
	char err[256], buf[CTL_MAX];
	struct sigaction sa = {.sa_handler = on_signal};
	int i = 1, ctl_fd = -1;

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_client(argc - 1, argv + 1);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--ctl") && i + 1 < argc) {
			ctl_path = argv[++i];
		} else if (!strcmp(argv[i], "--io") && i + 1 < argc &&
			   (!strcmp(argv[i + 1], "xdp") || !strcmp(argv[i + 1], "packet"))) {
			io = argv[++i];
		} else if (!strcmp(argv[i], "--at") && i + 1 < argc) {
			at[n_at++ % EVENTS_MAX] = argv[++i];
		} else if (!strcmp(argv[i], "--pcap") && i + 1 < argc) {
			pcap_path = argv[++i];
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
			seeded = true;
		} else if (!strcmp(argv[i], "--rt")) {
			rt = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return TOOL_EXIT_OK;
		} else {
			usage(stderr);
			return TOOL_EXIT_USAGE;
		}
	}
	if (argc - i < 2) {
		usage(stderr);
		return TOOL_EXIT_USAGE;
	}
	if (!seeded)
		tool_rand((uint8_t *)&seed, sizeof(seed), NULL);
	emu_link_init(&d[0].link, seed);
	emu_link_init(&d[1].link, seed ^ 0x5bd1e995ull);
	if (apply(d, argc - i - 2, argv + i + 2, err, sizeof(err))) {
		tool_err("%s", err);
		return TOOL_EXIT_USAGE;
	}
	if (n_at > EVENTS_MAX) {
		tool_err("--at: more than %d", EVENTS_MAX);
		return TOOL_EXIT_USAGE;
	}
	for (int k = 0; k < n_at; k++) {
		char words[CTL_MAX] = "at ", *av[CTL_ARGS];

		strncat(words, at[k], sizeof(words) - 4);
		if (command(d, split_words(words, av, CTL_ARGS), av, now_ns(), err, sizeof(err))) {
			tool_err("--at: %s", err);
			return TOOL_EXIT_USAGE;
		}
	}
	for (int k = 0; k < 2; k++)
		heldq_init(&d[k].held, HELD_MAX);
	if (open_legs(legs, argv + i, io))
		return TOOL_EXIT_FAIL;
	if (pcap_path) {
		tap = emu_tap_open(pcap_path, err, sizeof(err));
		if (!tap) {
			tool_err("%s", err);
			return TOOL_EXIT_FAIL;
		}
		d[0].tap = d[1].tap = tap;
	}
	if (ctl_path && (ctl_fd = ctl_listen(ctl_path)) < 0) {
		tool_err("%s: %s", ctl_path, strerror(errno));
		return TOOL_EXIT_FAIL;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	/* Wake up when the next frame is due, not up to 50 us later. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	if (rt)
		set_realtime();
	printf("forwarding %s <-> %s (%s)\n", argv[i], argv[i + 1], legs[0].ops->name);
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd[3] = {{legs[0].fd, POLLIN, 0},
					{legs[1].fd, POLLIN, 0},
					{ctl_fd, POLLIN, 0}};
		uint64_t now = now_ns(), next;
		struct timespec ts, *tsp = NULL;

		release(&d[0], now);
		release(&d[1], now);
		run_events(d, now);
		next = heldq_next(&d[0].held) < heldq_next(&d[1].held) ? heldq_next(&d[0].held)
								       : heldq_next(&d[1].held);
		if (n_events && events[0].due_ns < next)
			next = events[0].due_ns;
		if (next != UINT64_MAX) {
			uint64_t wait = next > now ? next - now : 0;

			ts = (struct timespec){(time_t)(wait / 1000000000ull),
					       (long)(wait % 1000000000ull)};
			tsp = &ts;
		}
		if (ppoll(pfd, ctl_fd >= 0 ? 3 : 2, tsp, NULL) < 0 && errno != EINTR) {
			tool_err("poll: %s", strerror(errno));
			break;
		}
		if (dump) {
			dump = 0;
			fmt_stats(buf, sizeof(buf), d);
			fputs(buf, stdout);
			fflush(stdout);
		}
		now = now_ns();
		for (int k = 0; k < 2; k++) {
			/* A few batches, then the departures get their turn. */
			for (int b = 0; b < 4 && admit_batch(&d[k], now) == EMU_BATCH; b++)
				;
		}
		if (pfd[2].revents & POLLIN)
			serve_ctl(ctl_fd, d);
	}
	fmt_stats(buf, sizeof(buf), d);
	fputs(buf, stdout);
	for (int k = 0; k < 2; k++) {
		legs[k].ops->close(&legs[k]);
		heldq_free(&d[k].held);
	}
	if (ctl_fd >= 0) {
		close(ctl_fd);
		unlink(ctl_path);
	}
	if (tap && emu_tap_close(tap)) {
		tool_err("%s: a write failed, the capture is incomplete", pcap_path);
		return TOOL_EXIT_FAIL;
	}
	return TOOL_EXIT_OK;
}
