/* Token-bucket pacer: see pacer.h. Products are taken in 128 bits so that
 * long idle times, large windows and long RTTs cannot overflow. */
#include "quic/pacer.h"

typedef unsigned __int128 u128;

/* hi - lo, which may not fit in an int64_t when lo is a large debt. */
static u128 gap(int64_t hi, int64_t lo)
{
	return (u128)((__int128)hi - lo);
}

static int paced(const mpq_pacer *p)
{
	return p->cwnd != 0 && p->srtt != 0;
}

/* Denominator of the rate: tokens per ns = N_NUM * cwnd / (N_DEN * srtt). */
static u128 rate_den(const mpq_pacer *p)
{
	return (u128)MPQ_PACER_N_DEN * p->srtt;
}

/* The send quantum: QUANTUM_NS worth of bytes at the current rate. A 128-bit
 * division, so it is worked out when the rate changes, not per packet. */
static uint64_t quantum_at_rate(const mpq_pacer *p)
{
	if (!paced(p))
		return 0;
	u128 q = (u128)MPQ_PACER_N_NUM * p->cwnd * MPQ_PACER_QUANTUM_NS / rate_den(p);

	return q < MPQ_PACER_QUANTUM_MAX ? (uint64_t)q : MPQ_PACER_QUANTUM_MAX;
}

/* The bucket's depth: room for a quantum even above the configured burst. */
static uint64_t depth(const mpq_pacer *p)
{
	return p->quantum > p->capacity ? p->quantum : p->capacity;
}

/* The bucket as it stands at |now| >= p->last. */
static void refill(const mpq_pacer *p, uint64_t now, int64_t *tokens, uint64_t *rem)
{
	int64_t cap = (int64_t)depth(p);

	*tokens = p->tokens;
	*rem = p->rem;
	if (*tokens >= cap) {
		*tokens = cap; /* a lower rate shrank the quantum */
		*rem = 0;
		return;
	}
	u128 den = rate_den(p);
	u128 num = (u128)(now - p->last) * MPQ_PACER_N_NUM * p->cwnd + *rem;
	u128 room = gap(cap, *tokens) * den;

	if (num >= room) {
		*tokens = cap;
		*rem = 0;
		return;
	}
	*tokens += (int64_t)(num / den);
	*rem = (uint64_t)(num % den);
}

void mpq_pacer_init(mpq_pacer *p, uint64_t burst_bytes, uint64_t ts)
{
	p->capacity = burst_bytes > INT64_MAX ? INT64_MAX : burst_bytes;
	p->tokens = (int64_t)p->capacity;
	p->rem = 0;
	p->last = ts;
	p->cwnd = 0;
	p->srtt = 0;
	p->quantum = 0;
}

void mpq_pacer_update_rate(mpq_pacer *p, uint64_t cwnd, uint64_t srtt)
{
	if (cwnd == 0 || srtt == 0 || !paced(p))
		p->rem = 0;
	else if (srtt != p->srtt)
		p->rem = (uint64_t)((u128)p->rem * srtt / p->srtt); /* same fraction of a byte */
	p->cwnd = cwnd;
	p->srtt = srtt;
	p->quantum = quantum_at_rate(p);
}

uint64_t mpq_pacer_next_send_time(const mpq_pacer *p, uint64_t bytes, uint64_t ts)
{
	uint64_t now = ts > p->last ? ts : p->last;
	int64_t tokens;
	uint64_t rem;

	if (!paced(p))
		return ts;
	uint64_t cap = depth(p);
	uint64_t want = bytes < cap ? bytes : cap;
	refill(p, now, &tokens, &rem);
	if (tokens >= (int64_t)want)
		return ts;
	/* Held back: wake when a whole quantum may leave, not a packet. */
	if (p->quantum > want)
		want = p->quantum;
	/* Smallest w with w * N_NUM * cwnd + rem >= (want - tokens) * den. */
	u128 need = gap((int64_t)want, tokens) * rate_den(p) - rem;
	u128 per_ns = (u128)MPQ_PACER_N_NUM * p->cwnd;
	u128 w = (need + per_ns - 1) / per_ns;

	if (w > UINT64_MAX - now)
		return UINT64_MAX;
	return now + (uint64_t)w;
}

void mpq_pacer_on_sent(mpq_pacer *p, uint64_t bytes, uint64_t ts)
{
	uint64_t now = ts > p->last ? ts : p->last;

	if (!paced(p)) {
		p->tokens = (int64_t)p->capacity;
		p->rem = 0;
		p->last = now;
		return;
	}
	refill(p, now, &p->tokens, &p->rem);
	p->last = now;
	if (bytes > (uint64_t)INT64_MAX || p->tokens < INT64_MIN + (int64_t)bytes)
		p->tokens = INT64_MIN;
	else
		p->tokens -= (int64_t)bytes;
}
