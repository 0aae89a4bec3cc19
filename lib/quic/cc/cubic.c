/*
 * CUBIC, RFC 9438, in bytes. Slow start is the shared one (cc.c): RFC 9002's
 * with HyStart++ (RFC 9406, hystart.h) to leave it before the first loss.
 *
 * In congestion avoidance, t seconds after the stage began,
 *	W_cubic(t) = C * mds * (t - K)^3 + W_max	(bytes; C = 0.4 segments/s^3)
 *	K = cbrt((W_max - cwnd_epoch) / (C * mds))
 * Each ack moves cwnd towards target = W_cubic(t + srtt), clamped to
 * [cwnd, 1.5 * cwnd], by (target - cwnd) * bytes_acked / cwnd (§4.4-4.5),
 * unless the Reno-friendly estimate W_est (§4.3) is above W_cubic(t), when
 * cwnd follows W_est. A congestion event sets W_max (with fast convergence,
 * §4.7), cwnd_prior, and ssthresh = cwnd = 0.7 * cwnd (§4.6); the next stage
 * starts with the first ack that may grow cwnd after recovery. After
 * persistent congestion W_max is forgotten, so the next stage has K = 0 and
 * W_max = cwnd_epoch (§4.8). Time spent app-limited is left out of t (§5.8).
 *
 * Doubles are fine here: the arithmetic runs per ack, not per byte. The API
 * is in ns, the formula in seconds.
 */
#include "quic/cc/cc.h"

#define CUBIC_C 0.4
#define BETA_NUM 7 /* beta_cubic = 0.7 */
#define BETA_DEN 10
/* alpha_cubic = 3 * (1 - beta) / (1 + beta) */
#define ALPHA_RENO (3.0 * (BETA_DEN - BETA_NUM) / (BETA_DEN + BETA_NUM))
#define NS_PER_S 1e9

static mpq_cc_cubic *cubic_of(mpq_cc *cc)
{
	return container_of(cc, mpq_cc_cubic, cc);
}

/* a * num / den without overflow for small num and den. */
static uint64_t mul_div(uint64_t a, uint64_t num, uint64_t den)
{
	return a / den * num + a % den * num / den;
}

/* Cube root of v >= 0 by Newton's method from above (libm is not linked). */
static double cube_root(double v)
{
	double x = 1.0;

	if (v <= 0)
		return 0;
	while (x * x * x < v)
		x *= 2;
	/* x >= cbrt(v): each step moves down towards the root until it stalls. */
	for (int i = 0; i < 200; i++) {
		double next = (2 * x + v / (x * x)) / 3;
		if (next >= x)
			break;
		x = next;
	}
	return x;
}

static double w_cubic(const mpq_cc *cc, const struct mpq_cc_cubic_vars *v, double t)
{
	double d = t - v->k;

	return CUBIC_C * (double)cc->max_datagram_size * d * d * d + (double)v->w_max;
}

static void reset_vars(struct mpq_cc_cubic_vars *v)
{
	v->w_max = 0;
	v->cwnd_prior = 0;
	v->epoch_start = MPQ_CC_NO_TIME;
	v->k = 0;
	v->w_est = 0;
	v->frac = 0;
}

static int cubic_init(mpq_cc *cc, uint64_t max_datagram_size, uint32_t initial_window_packets,
		      uint64_t ts)
{
	mpq_cc_cubic *cu = cubic_of(cc);

	reset_vars(&cu->v);
	reset_vars(&cu->undo_v);
	cu->app_limited_since = MPQ_CC_NO_TIME;
	return 0;
}

/* Leaves app-limited time out of t by moving the epoch start forward by it.
 * The pause is measured from the first send or ack seen app-limited to the
 * first one seen after the flag was cleared. */
static void track_app_limited(mpq_cc_cubic *cu, uint64_t ts)
{
	if (cu->cc.app_limited) {
		if (cu->app_limited_since == MPQ_CC_NO_TIME)
			cu->app_limited_since = ts;
		return;
	}
	if (cu->app_limited_since == MPQ_CC_NO_TIME)
		return;
	if (cu->v.epoch_start != MPQ_CC_NO_TIME && ts > cu->app_limited_since)
		cu->v.epoch_start += ts - cu->app_limited_since;
	cu->app_limited_since = MPQ_CC_NO_TIME;
}

static void start_epoch(mpq_cc *cc, struct mpq_cc_cubic_vars *v, uint64_t ts)
{
	v->epoch_start = ts;
	v->w_est = (double)cc->cwnd;
	v->frac = 0;
	if (v->cwnd_prior == 0)
		v->cwnd_prior = cc->cwnd; /* left slow start with no congestion event */
	if (v->w_max <= cc->cwnd) {
		v->w_max = cc->cwnd;
		v->k = 0;
		return;
	}
	v->k = cube_root((double)(v->w_max - cc->cwnd) /
			 (CUBIC_C * (double)cc->max_datagram_size));
}

static void cubic_on_packet_sent(mpq_cc *cc, uint64_t bytes, uint64_t ts)
{
	track_app_limited(cubic_of(cc), ts);
}

static void cubic_on_packets_acked(mpq_cc *cc, uint64_t bytes_acked,
				   uint64_t largest_acked_sent_time, const mpq_rtt *rtt,
				   uint64_t ts)
{
	mpq_cc_cubic *cu = cubic_of(cc);
	struct mpq_cc_cubic_vars *v = &cu->v;

	track_app_limited(cu, ts);
	if (!mpq_cc_ack_in_ca(cc, bytes_acked, largest_acked_sent_time))
		return;
	if (v->epoch_start == MPQ_CC_NO_TIME)
		start_epoch(cc, v, ts);

	double cwnd = (double)cc->cwnd;
	double t = ts > v->epoch_start ? (double)(ts - v->epoch_start) / NS_PER_S : 0;
	double srtt = rtt ? (double)rtt->smoothed / NS_PER_S : 0;
	double target = w_cubic(cc, v, t + srtt);

	if (target < cwnd)
		target = cwnd;
	else if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;

	double alpha = v->w_est >= (double)v->cwnd_prior ? 1.0 : ALPHA_RENO;
	v->w_est += alpha * (double)cc->max_datagram_size * (double)bytes_acked / cwnd;

	if (w_cubic(cc, v, t) < v->w_est) {
		/* Reno-friendly region. */
		if (v->w_est > cwnd) {
			cc->cwnd = (uint64_t)v->w_est;
			v->frac = 0;
		}
		return;
	}
	/* Concave (cwnd < W_max) or convex region: the same step. */
	double inc = (target - cwnd) * (double)bytes_acked / cwnd + v->frac;
	uint64_t whole = (uint64_t)inc;

	v->frac = inc - (double)whole;
	cc->cwnd += whole;
}

static void cubic_on_congestion_event(mpq_cc *cc, uint64_t sent_time, uint64_t ts)
{
	mpq_cc_cubic *cu = cubic_of(cc);
	struct mpq_cc_cubic_vars *v = &cu->v;
	uint64_t cwnd = cc->cwnd;

	if (!mpq_cc_begin_reduction(cc, sent_time, ts))
		return;
	cu->undo_v = *v;
	/* Fast convergence: release bandwidth when the window shrank since the
	 * last event, W_max = cwnd * (1 + beta) / 2. */
	if (cwnd < v->w_max)
		v->w_max = mul_div(cwnd, BETA_DEN + BETA_NUM, 2 * BETA_DEN);
	else
		v->w_max = cwnd;
	v->cwnd_prior = cwnd;
	cc->ssthresh = mul_div(cwnd, BETA_NUM, BETA_DEN);
	if (cc->ssthresh < cc->min_window)
		cc->ssthresh = cc->min_window;
	cc->cwnd = cc->ssthresh;
	v->epoch_start = MPQ_CC_NO_TIME;
	v->frac = 0;
}

static void cubic_on_persistent_congestion(mpq_cc *cc, uint64_t ts)
{
	struct mpq_cc_cubic_vars *v = &cubic_of(cc)->v;

	mpq_cc_collapse(cc);
	v->w_max = 0;
	v->epoch_start = MPQ_CC_NO_TIME;
	v->frac = 0;
}

static void cubic_on_spurious_congestion(mpq_cc *cc, uint64_t ts)
{
	mpq_cc_cubic *cu = cubic_of(cc);

	if (mpq_cc_undo_reduction(cc))
		cu->v = cu->undo_v;
}

const struct mpq_cc_ops mpq_cc_cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.on_packet_sent = cubic_on_packet_sent,
	.on_packets_acked = cubic_on_packets_acked,
	.on_congestion_event = cubic_on_congestion_event,
	.on_persistent_congestion = cubic_on_persistent_congestion,
	.on_spurious_congestion = cubic_on_spurious_congestion,
};
