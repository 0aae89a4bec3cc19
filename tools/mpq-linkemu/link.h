/*
 * One direction of an emulated link (DESIGN.md "Link emulation in the
 * testbed"): what happens to a frame that enters it at a given time. The
 * model is pure arithmetic on the caller's clock and the link's own random
 * generator, so it is the same whatever moves the frames.
 *
 * A frame is first lost or not (Bernoulli, or Gilbert-Elliott with its two
 * states), then serialized at the rate behind the frames before it (the
 * drop-tail queue is what waits to be serialized: refused when it would
 * hold more than its bytes or its time), then propagated for the delay plus
 * a uniform jitter. Without "reorder" a frame never leaves before the one
 * ahead of it (the jitter only ever holds a frame longer). With "reorder P"
 * (netem's) a frame is, with probability P, sent ahead of those held before
 * it: it skips the delay and the jitter (not the rate), and the frames
 * after it still keep their order behind the others.
 */
#ifndef MPQ_LINKEMU_LINK_H
#define MPQ_LINKEMU_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

typedef struct emu_link_cfg {
	uint64_t delay_ns;
	uint64_t jitter_ns;	/* uniform in [-jitter, +jitter] around the delay */
	bool reorder;		/* jitter may let a frame overtake another */
	double reorder_p;	/* probability a frame skips the delay */
	double loss;		/* Bernoulli loss probability */
	bool ge;		/* Gilbert-Elliott instead of Bernoulli */
	double ge_p;		/* P(good -> bad) per frame */
	double ge_r;		/* P(bad -> good) per frame */
	double ge_bad_loss;	/* loss probability in the bad state */
	double ge_good_loss;	/* loss probability in the good state */
	uint64_t rate_bps;	/* bits per second of frame bytes; 0: no limit */
	const emu_trace *trace; /* in place of the rate; shared, never freed */
	double dup;		/* probability a frame passes twice */
	uint64_t queue_bytes;	/* drop-tail limit in bytes, or */
	uint64_t queue_ns;	/* in time to drain; neither: 100 ms */
	bool down;		/* drops every frame, and drops what it held */
} emu_link_cfg;

typedef struct emu_link_stats {
	uint64_t forwarded; /* frames sent on */
	uint64_t forwarded_bytes;
	uint64_t dropped_loss;
	uint64_t dropped_queue; /* drop-tail, or no memory to hold the frame */
	uint64_t dropped_down;
	uint64_t delayed; /* frames held past the time they were read */
	uint64_t duplicated;
	uint64_t reordered;   /* frames sent ahead by reorder P */
	uint64_t send_errors; /* the outgoing leg refused the frame */
} emu_link_stats;

typedef struct emu_link {
	emu_link_cfg cfg;
	emu_link_stats stats;
	bool ge_bad;		/* Gilbert-Elliott state */
	uint64_t free_ns;	/* when the serializer is idle again */
	const emu_trace *trace; /* the trace the three below follow */
	uint64_t trace_base_ns; /* when its time 0 was */
	uint64_t opp;		/* the opportunity being filled */
	uint32_t opp_used;	/* and its bytes taken */
	uint64_t last_depart_ns;
	uint64_t rng[4]; /* xoshiro256** */
} emu_link;

enum emu_verdict {
	EMU_PASS,
	EMU_DROP_LOSS,
	EMU_DROP_QUEUE,
	EMU_DROP_DOWN,
};

void emu_link_init(emu_link *l, uint64_t seed);

/* Decides the fate of a frame of |len| bytes arriving at |now_ns| (never
 * before the one before); on EMU_PASS *depart_ns is when it leaves. Counts
 * drops. */
enum emu_verdict emu_link_admit(emu_link *l, uint64_t now_ns, uint32_t len, uint64_t *depart_ns);

/*
 * Applies the tokens of a link specification to cfg[0] (a to b) and cfg[1]
 * (b to a): "delay T", "jitter T", "reorder", "reorder P", "noreorder"
 * (both off), "loss P",
 * "ge P/R[/BAD[/GOOD]]", "rate R", "trace FILE" (mahimahi's format, in
 * place of the rate), "dup P", "queue N", "up", "down", and the
 * selectors "ab", "ba", "both" for the tokens after them. T is a time
 * (10ms, 250us, 1s, 5ns; a bare number is ms) up to a day, P a probability
 * (1% or 0.01), R a rate (50mbit, 500kbit, 1gbit, a bare number is bit/s)
 * up to 1 Tbit/s, N a size (64kB, 1500B, 1MB, KiB, MiB) up to 1 TB or a time. Returns 0, or -1 with a message
 * in err; the cfgs are then unchanged.
 */
int emu_link_parse(emu_link_cfg cfg[2], int argc, char **argv, char *err, size_t errlen);

/* "10ms", "250us", "1s", "5ns", "1.5ms"; a bare number is ms; at most a
 * day. 0 or -1. */
int emu_parse_time(const char *s, uint64_t *ns);

/* After EMU_PASS: whether the frame also leaves a second time (counted). */
bool emu_link_duplicate(emu_link *l);

/* "forwarded=N bytes=N loss=N queue=N down=N delayed=N duplicated=N
 * reordered=N send_errors=N" */
int emu_link_fmt_stats(char *buf, size_t len, const emu_link_stats *s);

#endif
