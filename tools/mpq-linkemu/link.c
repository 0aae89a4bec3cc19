/* One direction of an emulated link: loss, rate and drop-tail queue, delay. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "link.h"

#define DEFAULT_QUEUE_NS 100000000ull /* 100 ms */
/* The largest values taken, so that times, rates and sizes stay far inside
 * 64 bits when added to a clock (casting a larger double is undefined). */
#define MAX_TIME_NS 86400e9 /* a day, as the longest trace */
#define MAX_RATE_BPS 1e12   /* 1 Tbit/s */
#define MAX_QUEUE_BYTES 1e12

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(emu_link *l)
{
	uint64_t *s = l->rng;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, 1). */
static double uniform(emu_link *l)
{
	return (double)(next_u64(l) >> 11) * 0x1.0p-53;
}

void emu_link_init(emu_link *l, uint64_t seed)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < 4; i++) { /* splitmix64 */
		uint64_t z = (seed += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		l->rng[i] = z ^ (z >> 31);
	}
}

static bool lost(emu_link *l)
{
	const emu_link_cfg *c = &l->cfg;

	if (!c->ge)
		return c->loss > 0 && uniform(l) < c->loss;
	/* The state moves first, then the frame meets the state's loss. */
	if (l->ge_bad ? uniform(l) < c->ge_r : uniform(l) < c->ge_p)
		l->ge_bad = !l->ge_bad;
	return uniform(l) < (l->ge_bad ? c->ge_bad_loss : c->ge_good_loss);
}

/*
 * The link of a trace: the frame's IP bytes fill the opportunities from the
 * first not yet full (or the first after now_ns if the link was idle), the
 * frame leaving at the one its last byte takes. The queue is what the
 * opportunities before that one still have to carry. -1: the queue is full.
 */
static int trace_serialize(emu_link *l, uint64_t now_ns, uint32_t len, uint64_t *t)
{
	const emu_link_cfg *c = &l->cfg;
	const emu_trace *tr = c->trace;
	uint32_t ip_len = len > 14 ? len - 14 : 1;
	uint64_t first;

	if (l->trace != tr) { /* a new trace starts now */
		l->trace = tr;
		l->trace_base_ns = now_ns;
		l->opp = 0;
		l->opp_used = 0;
	}
	first = emu_trace_before(tr, l->trace_base_ns, now_ns);
	if (l->opp < first) {
		l->opp = first;
		l->opp_used = 0;
	}
	if (c->queue_bytes) {
		if ((l->opp - first) * EMU_TRACE_MTU + l->opp_used + ip_len > c->queue_bytes)
			return -1;
	} else if ((l->opp > first || l->opp_used) &&
		   emu_trace_time(tr, l->trace_base_ns, l->opp) - now_ns >
			   (c->queue_ns ? c->queue_ns : DEFAULT_QUEUE_NS)) {
		return -1;
	}
	while (ip_len) {
		uint32_t take = EMU_TRACE_MTU - l->opp_used < ip_len ? EMU_TRACE_MTU - l->opp_used
								     : ip_len;

		*t = emu_trace_time(tr, l->trace_base_ns, l->opp);
		l->opp_used += take;
		ip_len -= take;
		if (l->opp_used == EMU_TRACE_MTU) {
			l->opp++;
			l->opp_used = 0;
		}
	}
	return 0;
}

bool emu_link_duplicate(emu_link *l)
{
	if (!(l->cfg.dup > 0 && uniform(l) < l->cfg.dup))
		return false;
	l->stats.duplicated++;
	return true;
}

enum emu_verdict emu_link_admit(emu_link *l, uint64_t now_ns, uint32_t len, uint64_t *depart_ns)
{
	const emu_link_cfg *c = &l->cfg;
	uint64_t t = now_ns;

	if (c->down) {
		l->stats.dropped_down++;
		return EMU_DROP_DOWN;
	}
	if (lost(l)) {
		l->stats.dropped_loss++;
		return EMU_DROP_LOSS;
	}
	if (c->trace) {
		if (trace_serialize(l, now_ns, len, &t) < 0) {
			l->stats.dropped_queue++;
			return EMU_DROP_QUEUE;
		}
	} else if (c->rate_bps) {
		uint64_t wait = l->free_ns > now_ns ? l->free_ns - now_ns : 0;
		uint64_t tx = (uint64_t)len * 8 * 1000000000ull / c->rate_bps;

		if (c->queue_bytes) {
			/* What still waits to be serialized, in bytes. */
			double backlog = (double)wait * (double)c->rate_bps / 8e9;

			if (backlog + len > (double)c->queue_bytes) {
				l->stats.dropped_queue++;
				return EMU_DROP_QUEUE;
			}
		} else if (wait > (c->queue_ns ? c->queue_ns : DEFAULT_QUEUE_NS)) {
			l->stats.dropped_queue++;
			return EMU_DROP_QUEUE;
		}
		l->free_ns = now_ns + wait + tx;
		t = l->free_ns;
	}
	if (c->reorder_p > 0 && uniform(l) < c->reorder_p) {
		/* Ahead of the held frames; the next ones stay behind them. */
		l->stats.reordered++;
		*depart_ns = t;
		return EMU_PASS;
	}
	t += c->delay_ns;
	if (c->jitter_ns) {
		/* From the arrival: a jitter below -(delay) leaves at arrival,
		 * never before (a fraction of a ns below it included). */
		double d = (double)(t - now_ns) + (uniform(l) * 2 - 1) * (double)c->jitter_ns;

		t = d > 0 ? now_ns + (uint64_t)d : now_ns;
	}
	if (!c->reorder && t < l->last_depart_ns)
		t = l->last_depart_ns;
	l->last_depart_ns = t;
	*depart_ns = t;
	return EMU_PASS;
}

int emu_parse_time(const char *s, uint64_t *ns)
{
	char *end;
	double v = strtod(s, &end), mul = 1e6;

	if (end == s || v < 0 || !isfinite(v))
		return -1;
	if (!strcmp(end, "s"))
		mul = 1e9;
	else if (!strcmp(end, "ms") || !*end)
		mul = 1e6;
	else if (!strcmp(end, "us"))
		mul = 1e3;
	else if (!strcmp(end, "ns"))
		mul = 1;
	else
		return -1;
	if (v * mul > MAX_TIME_NS)
		return -1;
	*ns = (uint64_t)(v * mul + 0.5);
	return 0;
}

/* "1%" or "0.01". */
static int parse_prob(const char *s, double *p)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -1;
	if (!strcmp(end, "%"))
		v /= 100;
	else if (*end)
		return -1;
	if (!(v >= 0 && v <= 1))
		return -1;
	*p = v;
	return 0;
}

static int parse_rate(const char *s, uint64_t *bps)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = {
		{"", 1}, {"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9},
	};
	char *end;
	double v = strtod(s, &end);

	if (end == s || !(v > 0) || !isfinite(v))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcasecmp(end, units[i].unit) && v * units[i].mul >= 1 &&
		    v * units[i].mul <= MAX_RATE_BPS) {
			*bps = (uint64_t)(v * units[i].mul + 0.5);
			return 0;
		}
	}
	return -1;
}

/* A queue size in bytes (64kB, 1500B, 1MB, 64KiB) or in time. */
static int parse_queue(const char *s, emu_link_cfg *c)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = {
		{"B", 1}, {"kB", 1e3}, {"MB", 1e6}, {"KiB", 1024}, {"MiB", 1048576},
	};
	char *end;
	double v = strtod(s, &end);
	uint64_t ns;

	if (end == s || !(v > 0) || !isfinite(v))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].unit)) {
			if (v * units[i].mul > MAX_QUEUE_BYTES)
				return -1;
			c->queue_bytes = (uint64_t)(v * units[i].mul + 0.5);
			c->queue_ns = 0;
			return 0;
		}
	}
	if (!*end || emu_parse_time(s, &ns) || !ns)
		return -1;
	c->queue_ns = ns;
	c->queue_bytes = 0;
	return 0;
}

/* "P/R[/BAD[/GOOD]]": BAD defaults to 100 %, GOOD to 0 (Gilbert's model). */
static int parse_ge(const char *s, emu_link_cfg *c)
{
	char buf[128], *save = NULL, *tok;
	double v[4] = {0, 0, 1, 0};
	int n = 0;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (n == 4 || parse_prob(tok, &v[n]))
			return -1;
		n++;
	}
	if (n < 2)
		return -1;
	c->ge = true;
	c->ge_p = v[0];
	c->ge_r = v[1];
	c->ge_bad_loss = v[2];
	c->ge_good_loss = v[3];
	return 0;
}

int emu_link_parse(emu_link_cfg cfg[2], int argc, char **argv, char *err, size_t errlen)
{
	emu_link_cfg out[2] = {cfg[0], cfg[1]};
	const emu_trace *trace = NULL;
	const char *trace_path = NULL;
	int from = 0, to = 2;

	for (int i = 0; i < argc; i++) {
		const char *key = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes_value = true;

		if (!strcmp(key, "ab") || !strcmp(key, "ba") || !strcmp(key, "both")) {
			from = key[0] == 'b' && key[1] == 'a';
			to = !strcmp(key, "both") ? 2 : from + 1;
			continue;
		}
		for (int d = from; d < to; d++) {
			emu_link_cfg *c = &out[d];
			int bad = 0;

			takes_value = true;
			if (!strcmp(key, "reorder") && val && !parse_prob(val, &c->reorder_p)) {
				/* "reorder P"; a bare "reorder" is the jitter's. */
			} else if (!strcmp(key, "reorder") || !strcmp(key, "noreorder")) {
				c->reorder = key[0] == 'r';
				if (!c->reorder)
					c->reorder_p = 0;
				takes_value = false;
			} else if (!strcmp(key, "up") || !strcmp(key, "down")) {
				c->down = key[0] == 'd';
				takes_value = false;
			} else if (!val) {
				bad = 1;
			} else if (!strcmp(key, "delay")) {
				bad = emu_parse_time(val, &c->delay_ns);
			} else if (!strcmp(key, "jitter")) {
				bad = emu_parse_time(val, &c->jitter_ns);
			} else if (!strcmp(key, "loss")) {
				bad = parse_prob(val, &c->loss);
				c->ge = false;
			} else if (!strcmp(key, "ge")) {
				bad = parse_ge(val, c);
			} else if (!strcmp(key, "rate")) {
				if (!strcmp(val, "0") || !strcmp(val, "none"))
					c->rate_bps = 0;
				else
					bad = parse_rate(val, &c->rate_bps);
			} else if (!strcmp(key, "trace")) {
				if (!strcmp(val, "none")) {
					c->trace = NULL;
				} else {
					/* Loaded once for both directions. */
					if (!trace || strcmp(trace_path, val)) {
						trace = emu_trace_load(val, err, errlen);
						if (!trace)
							return -1;
						trace_path = val;
					}
					c->trace = trace;
				}
			} else if (!strcmp(key, "dup")) {
				bad = parse_prob(val, &c->dup);
			} else if (!strcmp(key, "queue")) {
				bad = parse_queue(val, c);
			} else {
				snprintf(err, errlen, "unknown link option '%s'", key);
				return -1;
			}
			if (bad) {
				snprintf(err, errlen,
					 val ? "bad value '%s' for %s" : "%s%s needs a value",
					 val ? val : "", key);
				return -1;
			}
		}
		if (takes_value)
			i++;
	}
	cfg[0] = out[0];
	cfg[1] = out[1];
	return 0;
}

int emu_link_fmt_stats(char *buf, size_t len, const emu_link_stats *s)
{
	return snprintf(buf, len,
			"forwarded=%" PRIu64 " bytes=%" PRIu64 " loss=%" PRIu64 " queue=%" PRIu64
			" down=%" PRIu64 " delayed=%" PRIu64 " duplicated=%" PRIu64
			" reordered=%" PRIu64 " send_errors=%" PRIu64,
			s->forwarded, s->forwarded_bytes, s->dropped_loss, s->dropped_queue,
			s->dropped_down, s->delayed, s->duplicated, s->reordered, s->send_errors);
}
