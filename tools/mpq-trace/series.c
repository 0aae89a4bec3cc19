/*
 * Per-path time series for summary --plot and the text summary's goodput:
 * UDP payload bytes each way and new stream bytes per 100 ms bin, and every
 * capture-point RTT sample. Kept only when struct trace's series is set;
 * memory running out marks the path's series incomplete, never the decode.
 */
#include <stdlib.h>
#include <string.h>

#include "trace.h"

void trace_series_add(struct trace_path *p, uint64_t since_ns, int col, uint64_t n)
{
	struct trace_series *s = &p->series;
	size_t bin = (size_t)(since_ns / TRACE_BIN_NS);

	if (bin >= s->nbins) {
		size_t nb = bin + 1 > 2 * s->nbins ? bin + 1 : 2 * s->nbins;
		uint64_t(*b)[TRACE_NCOLS] = realloc(s->bins, nb * sizeof(*b));

		if (!b) {
			s->incomplete = true;
			return;
		}
		memset(b + s->nbins, 0, (nb - s->nbins) * sizeof(*b));
		s->bins = b;
		s->nbins = nb;
	}
	s->bins[bin][col] += n;
	if (bin + 1 > s->used)
		s->used = bin + 1;
}

void trace_series_rtt(struct trace_path *p, uint64_t since_ns, int dir, double sample_ms)
{
	struct trace_series *s = &p->series;

	if (s->nrtt == s->rtt_cap) {
		size_t cap = s->rtt_cap ? 2 * s->rtt_cap : 256;
		struct trace_rtt_sample *r = realloc(s->rtt, cap * sizeof(*r));

		if (!r) {
			s->incomplete = true;
			return;
		}
		s->rtt = r;
		s->rtt_cap = cap;
	}
	s->rtt[s->nrtt++] = (struct trace_rtt_sample){since_ns, dir, sample_ms, p->srtt_ms[dir]};
}

void trace_series_free(struct trace_path *p)
{
	if (!p)
		return;
	free(p->series.bins);
	free(p->series.rtt);
}
