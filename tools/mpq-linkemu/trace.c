/* Mahimahi delivery-opportunity traces. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

emu_trace *emu_trace_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	emu_trace *tr;

	if (!f) {
		snprintf(err, errlen, "trace %s: %s", path, strerror(errno));
		return NULL;
	}
	tr = emu_trace_read(f, path, err, errlen);
	fclose(f);
	return tr;
}

emu_trace *emu_trace_read(FILE *f, const char *path, char *err, size_t errlen)
{
	emu_trace *tr = calloc(1, sizeof(*tr));
	size_t cap = 0, line = 0;
	char buf[64];

	if (!tr) {
		snprintf(err, errlen, "trace %s: out of memory", path);
		return NULL;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *end;
		unsigned long long ms = strtoull(buf, &end, 10);

		line++;
		if (end == buf || (*end && *end != '\n' && *end != '\r') ||
		    (tr->n && ms * 1000000 < tr->at_ns[tr->n - 1]) || ms > 86400000ull) {
			snprintf(err, errlen,
				 "trace %s:%zu: not a time in ms after the one before", path,
				 line);
			goto fail;
		}
		if (tr->n == cap) {
			uint64_t *a = realloc(tr->at_ns, (cap ? cap * 2 : 1024) * sizeof(*a));

			if (!a) {
				snprintf(err, errlen, "trace %s: out of memory", path);
				goto fail;
			}
			tr->at_ns = a;
			cap = cap ? cap * 2 : 1024;
		}
		tr->at_ns[tr->n++] = ms * 1000000;
	}
	if (!tr->n || !tr->at_ns[tr->n - 1]) {
		snprintf(err, errlen, "trace %s: no opportunity after 0 ms", path);
		goto fail;
	}
	tr->period_ns = tr->at_ns[tr->n - 1];
	return tr;
fail:
	free(tr->at_ns);
	free(tr);
	return NULL;
}

uint64_t emu_trace_time(const emu_trace *tr, uint64_t base_ns, uint64_t k)
{
	return base_ns + k / tr->n * tr->period_ns + tr->at_ns[k % tr->n];
}

uint64_t emu_trace_before(const emu_trace *tr, uint64_t base_ns, uint64_t t_ns)
{
	uint64_t off = t_ns - base_ns, r = off % tr->period_ns;
	size_t lo = 0, hi = tr->n;

	while (lo < hi) { /* the first opportunity at or after r */
		size_t mid = (lo + hi) / 2;

		if (tr->at_ns[mid] < r)
			lo = mid + 1;
		else
			hi = mid;
	}
	return off / tr->period_ns * tr->n + lo;
}
