/* Processed packet numbers: see pn_dedup.h. */
#include <string.h>

#include "quic/pn_dedup.h"

void mpq_pn_dedup_init(mpq_pn_dedup *d)
{
	memset(d, 0, sizeof(*d));
}

static bool bit(const mpq_pn_dedup *d, uint64_t pn)
{
	uint64_t i = pn % MPQ_PN_DEDUP_WINDOW;
	return d->seen[i / 64] >> (i % 64) & 1;
}

static void set_bit(mpq_pn_dedup *d, uint64_t pn, bool on)
{
	uint64_t i = pn % MPQ_PN_DEDUP_WINDOW, m = 1ULL << (i % 64);
	d->seen[i / 64] = on ? d->seen[i / 64] | m : d->seen[i / 64] & ~m;
}

bool mpq_pn_dedup_seen(const mpq_pn_dedup *d, uint64_t pn)
{
	if (pn >= d->next)
		return false;
	if (d->next - pn > MPQ_PN_DEDUP_WINDOW)
		return true; /* below the window: treated as seen */
	return bit(d, pn);
}

bool mpq_pn_dedup_insert(mpq_pn_dedup *d, uint64_t pn)
{
	if (mpq_pn_dedup_seen(d, pn))
		return false;
	if (pn >= d->next) {
		/* Slide: the numbers between the old top and |pn| were not seen,
		 * and their bits still hold what was seen a window earlier. */
		if (pn - d->next >= MPQ_PN_DEDUP_WINDOW)
			memset(d->seen, 0, sizeof(d->seen));
		else
			for (uint64_t x = d->next; x < pn; x++)
				set_bit(d, x, false);
		d->next = pn + 1;
	}
	set_bit(d, pn, true);
	return true;
}
