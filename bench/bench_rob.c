/*
 * Cost of a one-byte fragment in the reassembly buffer (lib/quic/rob.c), as a
 * hostile peer sends them: N fragments 256 bytes apart into a 16 MiB buffer,
 * last first and shuffled, against the same fragments first to last (the
 * baseline) in the same invocation. The rounds alternate the orders; each
 * order's median CPU time per fragment is printed with its ratio to the
 * baseline. A cost that grows with the holes already held shows as a ratio
 * far above 1: the sorted run list this buffer had was 209-248 last first and
 * 105-126 shuffled at N = 65536; the bitmap is 1.04-1.08 and 3.8-4.9 (the
 * shuffled order misses the cache over 16 MiB).
 *
 *   build/bench/bench_rob [N]      (default 65536, at most 65536)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "quic/rob.h"

#define MAX_BUFFERED (16u << 20)
#define STRIDE 256
#define ROUNDS 5

enum { ASCENDING, DESCENDING, SHUFFLED, ORDERS };
static const char *const names[ORDERS] = {"first to last", "last first", "shuffled"};

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Writes each page of [p, p + len) as it is, so that no page fault is timed. */
static void prefault(void *p, size_t len)
{
	volatile uint8_t *b = p;
	for (size_t i = 0; i < len; i += 4096)
		b[i] = b[i];
}

/* Seconds of CPU to push |n| fragments at offsets[i] into a fresh buffer,
 * grown to its full size and its pages touched first (one byte at its end):
 * what is timed is the bookkeeping, not the kernel's page faults. */
static double run(const uint64_t *offsets, size_t n)
{
	static const uint8_t byte = 1;
	mpq_rob rob;
	if (mpq_rob_init(&rob, MAX_BUFFERED) != 0) {
		fprintf(stderr, "bench_rob: no memory\n");
		exit(1);
	}
	if (mpq_rob_push(&rob, MAX_BUFFERED - 1, &byte, 1) != 0) {
		fprintf(stderr, "bench_rob: no memory\n");
		exit(1);
	}
	prefault(rob.ring, rob.size);
	prefault(rob.bits, rob.size / 8);
	double t0 = cpu_now();
	for (size_t i = 0; i < n; i++) {
		if (mpq_rob_push(&rob, offsets[i], &byte, 1) != 0) {
			fprintf(stderr, "bench_rob: fragment %zu refused\n", i);
			exit(1);
		}
	}
	double t = cpu_now() - t0;
	mpq_rob_free(&rob);
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 65536;
	if (n == 0 || n > MAX_BUFFERED / STRIDE) {
		fprintf(stderr, "usage: bench_rob [N], 1 <= N <= %u\n", MAX_BUFFERED / STRIDE);
		return 2;
	}
	uint64_t *off[ORDERS];
	for (int o = 0; o < ORDERS; o++)
		if (!(off[o] = malloc(n * sizeof(uint64_t))))
			return 1;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < n; i++) {
		off[ASCENDING][i] = off[SHUFFLED][i] = 1 + (uint64_t)STRIDE * i;
		off[DESCENDING][i] = 1 + (uint64_t)STRIDE * (n - 1 - i);
	}
	for (size_t i = n - 1; i > 0; i--) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		size_t j = seed % (i + 1);
		uint64_t t = off[SHUFFLED][i];
		off[SHUFFLED][i] = off[SHUFFLED][j];
		off[SHUFFLED][j] = t;
	}
	double t[ORDERS][ROUNDS];
	for (int r = 0; r < ROUNDS; r++)
		for (int o = 0; o < ORDERS; o++)
			t[o][r] = run(off[o], n);
	double base = 0;
	printf("reassembly: %zu one-byte fragments %u bytes apart, median of %d rounds\n", n,
	       STRIDE, ROUNDS);
	for (int o = 0; o < ORDERS; o++) {
		qsort(t[o], ROUNDS, sizeof(double), cmp_double);
		double med = t[o][ROUNDS / 2];
		if (o == ASCENDING)
			base = med;
		printf("  %-14s %8.1f ns a fragment  ratio %.2f\n", names[o],
		       med / (double)n * 1e9, med / base);
	}
	for (int o = 0; o < ORDERS; o++)
		free(off[o]);
	return 0;
}
