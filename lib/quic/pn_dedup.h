/*
 * Which packet numbers of one packet number space were already processed
 * (RFC 9000 §12.3: a packet is never processed twice). The set of numbers to
 * acknowledge cannot answer this: it is bounded and forgets its oldest ranges.
 * Here a window of the MPQ_PN_DEDUP_WINDOW numbers below the highest one seen
 * keeps a bit each; anything below the window counts as already seen, so a
 * packet reordered further than that is dropped (its data is sent again, as
 * for a loss) and memory stays fixed whatever the peer sends.
 */
#ifndef MPQ_PN_DEDUP_H
#define MPQ_PN_DEDUP_H

#include <stdbool.h>
#include <stdint.h>

#define MPQ_PN_DEDUP_WINDOW 1024 /* bits; a multiple of 64 */

typedef struct mpq_pn_dedup {
	uint64_t next; /* one past the highest number seen; 0: none yet */
	/* Bit pn % WINDOW tells whether pn was seen, for pn in [next - WINDOW, next). */
	uint64_t seen[MPQ_PN_DEDUP_WINDOW / 64];
} mpq_pn_dedup;

/* An empty window: memset to zero does the same. */
void mpq_pn_dedup_init(mpq_pn_dedup *d);

/* Was |pn| seen, or is it below the window? */
bool mpq_pn_dedup_seen(const mpq_pn_dedup *d, uint64_t pn);

/* Records |pn| as processed, sliding the window when it is the highest yet.
 * Returns false (and changes nothing) when it was seen or is below the window. */
bool mpq_pn_dedup_insert(mpq_pn_dedup *d, uint64_t pn);

#endif
