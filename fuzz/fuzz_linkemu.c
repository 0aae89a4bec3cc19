/*
 * mpq-linkemu's user input (tools/mpq-linkemu: trace.c, link.c): a mahimahi
 * trace file, then (after the first NUL byte) link options as the command
 * line, --at and the control socket give them ("delay 10ms loss 1% ge
 * 1%/10% rate 5mbit queue 64kB ..."; a "trace" names no file here: the
 * trace read before stands in). What parses then shapes a link that admits
 * 300 frames, sized and spaced by the input bytes. Nothing may crash or trip
 * a sanitizer (float to integer casts included); frames never leave before
 * they arrive.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "../tools/mpq-linkemu/link.h"

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static emu_trace *read_trace(const uint8_t *data, size_t len)
{
	char err[256];
	emu_trace *tr;
	FILE *f;

	if (!len || !(f = fmemopen((void *)data, len, "r")))
		return NULL;
	tr = emu_trace_read(f, "fuzz", err, sizeof(err));
	fclose(f);
	if (tr) {
		CHECK(tr->n > 0 && tr->period_ns == tr->at_ns[tr->n - 1] && tr->period_ns > 0);
		for (size_t i = 1; i < tr->n; i++)
			CHECK(tr->at_ns[i - 1] <= tr->at_ns[i]);
	}
	return tr;
}

static void run_link(const emu_link_cfg *cfg, const uint8_t *data, size_t len)
{
	uint64_t now = 1000000000, depart;
	char stats[512];
	emu_link l;

	emu_link_init(&l, 42);
	l.cfg = *cfg;
	for (size_t i = 0; i < 300; i++) {
		uint8_t b = len ? data[i % len] : 0;

		now += (uint64_t)b * 7919;
		if (emu_link_admit(&l, now, 64 + (uint32_t)b * 6, &depart) == EMU_PASS) {
			CHECK(depart >= now);
			emu_link_duplicate(&l);
		}
	}
	emu_link_fmt_stats(stats, sizeof(stats), &l.stats);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	char words[4096], *argv[MAX_WORDS], err[256], *save = NULL;
	emu_link_cfg cfg[2];
	emu_trace *tr;
	int argc = 0;

	if (size > 8192)
		return 0;
	tr = read_trace(data, tlen);
	if (tr) {
		uint64_t k = tr->n * 3 + 1, t = emu_trace_time(tr, 5, k);

		CHECK(t >= 5 && emu_trace_before(tr, 5, t) <= k + tr->n);
	}
	if (nul) {
		size_t olen = size - tlen - 1;

		if (olen >= sizeof(words))
			olen = sizeof(words) - 1;
		memcpy(words, nul + 1, olen);
		words[olen] = '\0';
		for (char *w = strtok_r(words, " \t\n", &save); w && argc < MAX_WORDS;
		     w = strtok_r(NULL, " \t\n", &save))
			argv[argc++] = w;
	}
	/* The trace read above stands in for any file named. */
	for (int i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], "trace") && strcmp(argv[i + 1], "none"))
			argv[i + 1] = "none";
	memset(cfg, 0, sizeof(cfg));
	cfg[0].trace = cfg[1].trace = tr;
	if (emu_link_parse(cfg, argc, argv, err, sizeof(err)) == 0) {
		run_link(&cfg[0], data, tlen);
		run_link(&cfg[1], data, size);
	}
	if (tr)
		free(tr->at_ns);
	free(tr);
	return 0;
}
