/*
 * Cost of the capture hook (io/capture.h) on the UDP backend: datagrams per
 * second through a pair of sockets on 127.0.0.1 (send_batch of 32, then
 * recv_batch until they are in), with the hook off (io->capture NULL, the
 * only cost a NULL check per batch), with a hook that only counts, and with
 * --pcap's writer (io/capture_pcap.h) to a file in /tmp: written by the
 * thread calling the hook through a 1 MiB stdio buffer (the writer before
 * the writer thread, mpq_capture_pcap_open_sink on a FILE sink), and by
 * mpq_capture_pcap_open's writer thread. Rounds alternate the four so that the machine's load hits them alike; the best round of
 * each counts. Prints each rate and its ratio to "off", and the CPU time per
 * datagram of the thread moving them (what a path I/O loop pays) and of the
 * whole process (with --pcap's writer thread), which a loaded machine
 * disturbs less than the rates.
 *
 *   build/bench/bench_capture [datagrams per round]     (default 200000)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpq/io/capture_pcap.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/pathio.h"
#include "mpq/io/qlog_file.h"
#include "mpq/io/udp.h"

#define BATCH 32
#define SIZE 1200
#define ROUNDS 5
#define MODES 4

static uint64_t counted;

static void count_dgram(void *user_data, const mpq_capture_dgram *d)
{
	counted += d->len;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this thread (RUSAGE_THREAD) or the process (RUSAGE_SELF). */
static double cpu_s(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static mpq_pathio *open_udp(void)
{
	mpq_pathio_config cfg;
	mpq_pathio *io;

	mpq_pathio_config_default(&cfg);
	mpq_addr_parse(&cfg.local, "127.0.0.1:0");
	cfg.batch = BATCH;
	cfg.no_gso = true;
	cfg.gro = false;
	if (mpq_pathio_udp.open(&io, &cfg, NULL) < 0) {
		fprintf(stderr, "bench_capture: cannot open a UDP socket on 127.0.0.1\n");
		exit(1);
	}
	return io;
}

/* Datagrams per second moved from |a| to |b|, |n| of them. */
static double run(mpq_pathio *a, mpq_pathio *b, size_t n)
{
	static uint8_t payload[SIZE];
	mpq_dgram tx[BATCH], rx[BATCH];
	size_t moved = 0;
	double t0 = now_s();

	memset(tx, 0, sizeof(tx));
	for (size_t i = 0; i < BATCH; i++) {
		tx[i].data = payload;
		tx[i].len = SIZE;
		tx[i].remote = b->local;
	}
	while (moved < n) {
		int sent = mpq_pathio_send(a, tx, BATCH), got = 0;

		if (sent < 0) {
			fprintf(stderr, "bench_capture: send failed\n");
			exit(1);
		}
		for (int spins = 0; got < sent && spins < 1000; spins++) {
			int r = mpq_pathio_recv(b, rx, BATCH);

			if (r < 0) {
				fprintf(stderr, "bench_capture: receive failed\n");
				exit(1);
			}
			got += r;
		}
		moved += (size_t)sent;
	}
	return (double)moved / (now_s() - t0);
}

/* A capture into a new file in /tmp, removed at once: by a writer thread, or
 * by the caller through a 1 MiB stdio buffer. */
static mpq_capture_pcap *open_pcap(bool thread)
{
	char path[] = "/tmp/bench_capture.XXXXXX";
	int fd = mkstemp(path);
	mpq_capture_pcap *c = NULL;
	mpq_qlog_sink sink;
	FILE *f = NULL;
	int rv = -1;

	if (fd >= 0 && thread) {
		rv = mpq_capture_pcap_open(&c, path);
		close(fd);
	} else if (fd >= 0 && (f = fdopen(fd, "wb"))) {
		setvbuf(f, NULL, _IOFBF, 1 << 20);
		rv = mpq_qlog_sink_file(&sink, f, false);
		if (!rv)
			rv = mpq_capture_pcap_open_sink(&c, &sink);
	}
	if (fd >= 0)
		unlink(path);
	if (rv < 0) {
		fprintf(stderr, "bench_capture: cannot write %s\n", path);
		exit(1);
	}
	return c;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 200000;
	const mpq_capture counter = {count_dgram, NULL};
	const char *names[MODES] = {"hook off", "hook on, counting only", "--pcap, caller writes",
				    "--pcap, writer thread"};
	double best[MODES] = {0}, thread_ns[MODES], proc_ns[MODES];
	mpq_pathio *a = open_udp(), *b = open_udp();
	mpq_capture_pcap *pcap[2] = {open_pcap(false), open_pcap(true)};

	for (int k = 0; k < MODES; k++)
		thread_ns[k] = proc_ns[k] = 1e30;
	run(a, b, n / 10); /* warm up */
	for (int r = 0; r < ROUNDS; r++) {
		for (int k = 0; k < MODES; k++) {
			const mpq_capture *hook = k == 0   ? NULL
						  : k == 1 ? &counter
							   : mpq_capture_pcap_hook(pcap[k - 2]);
			double rate, t0 = cpu_s(RUSAGE_THREAD), p0 = cpu_s(RUSAGE_SELF), t, p;

			a->capture = hook;
			b->capture = hook;
			rate = run(a, b, n);
			if (k >= 2) /* what is still on its way to the file counts too */
				mpq_capture_pcap_flush(pcap[k - 2]);
			t = (cpu_s(RUSAGE_THREAD) - t0) * 1e9 / (double)n;
			p = (cpu_s(RUSAGE_SELF) - p0) * 1e9 / (double)n;
			if (rate > best[k])
				best[k] = rate;
			if (t < thread_ns[k])
				thread_ns[k] = t;
			if (p < proc_ns[k])
				proc_ns[k] = p;
		}
	}
	printf("capture hook, UDP backend over 127.0.0.1, %d-byte datagrams in batches of %d "
	       "(best of %d rounds of %zu; CPU per datagram of the moving thread and of the "
	       "process):\n",
	       SIZE, BATCH, ROUNDS, n);
	for (int k = 0; k < MODES; k++)
		printf("  %-24s %8.0f datagrams/s  ratio %.3f  thread %5.0f ns (%.2f)  process "
		       "%5.0f ns (%.2f)\n",
		       names[k], best[k], best[k] / best[0], thread_ns[k],
		       thread_ns[k] / thread_ns[0], proc_ns[k], proc_ns[k] / proc_ns[0]);
	for (int i = 0; i < 2; i++)
		mpq_capture_pcap_close(pcap[i]);
	mpq_pathio_close(a);
	mpq_pathio_close(b);
	return counted ? 0 : 1;
}
