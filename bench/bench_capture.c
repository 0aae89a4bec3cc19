/*
 * Cost of the capture hook (io/capture.h) on the UDP backend: datagrams per
 * second through a pair of sockets on 127.0.0.1 (send_batch of 32, then
 * recv_batch until they are in), with the hook off (io->capture NULL, the
 * only cost a NULL check per batch), with a hook that only counts, and with
 * --pcap's writer (io/capture_pcap.h) to a file in /tmp. Rounds alternate
 * the three so that the machine's load hits them alike; the best round of
 * each counts. Prints each rate and its ratio to "off".
 *
 *   build/bench/bench_capture [datagrams per round]     (default 200000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpq/io/capture_pcap.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/pathio.h"
#include "mpq/io/udp.h"

#define BATCH 32
#define SIZE 1200
#define ROUNDS 5

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

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 200000;
	const mpq_capture counter = {count_dgram, NULL};
	char path[] = "/tmp/bench_capture.XXXXXX";
	const char *names[3] = {"hook off", "hook on, counting only", "hook on, --pcap to /tmp"};
	double best[3] = {0, 0, 0};
	mpq_pathio *a = open_udp(), *b = open_udp();
	mpq_capture_pcap *pcap;
	int fd = mkstemp(path);

	if (fd < 0 || mpq_capture_pcap_open(&pcap, path) < 0) {
		fprintf(stderr, "bench_capture: cannot create %s\n", path);
		return 1;
	}
	close(fd);
	run(a, b, n / 10); /* warm up */
	for (int r = 0; r < ROUNDS; r++) {
		for (int k = 0; k < 3; k++) {
			const mpq_capture *hook = k == 0   ? NULL
						  : k == 1 ? &counter
							   : mpq_capture_pcap_hook(pcap);
			double rate;

			a->capture = hook;
			b->capture = hook;
			rate = run(a, b, n);
			if (rate > best[k])
				best[k] = rate;
		}
	}
	printf("capture hook, UDP backend over 127.0.0.1, %d-byte datagrams in batches of %d "
	       "(best of %d rounds of %zu):\n",
	       SIZE, BATCH, ROUNDS, n);
	for (int k = 0; k < 3; k++)
		printf("  %-26s %9.0f datagrams/s  ratio %.3f\n", names[k], best[k],
		       best[k] / best[0]);
	mpq_capture_pcap_close(pcap);
	unlink(path);
	mpq_pathio_close(a);
	mpq_pathio_close(b);
	return counted ? 0 : 1;
}
