/* Path MTU discovery of one path: see pmtud.h. */
#include <stddef.h>

#include "quic/pmtud.h"

/* IP MTUs seen on real links (tunnels, PPPoE, Ethernet, jumbo frames,
 * loopback), smallest first. */
static const uint32_t common_mtus[] = {1280, 1380, 1420, 1480,	1492,  1500, 2048,
				       4096, 8192, 9000, 16384, 32768, 65535};

void mpq_pmtud_init(mpq_pmtud *m, uint32_t size, uint32_t limit, uint32_t hdr)
{
	*m = (mpq_pmtud){.size = size, .initial = size, .limit = limit, .hdr = hdr};
}

void mpq_pmtud_restart(mpq_pmtud *m)
{
	mpq_pmtud_init(m, m->initial, m->limit, m->hdr);
}

/* The next size to try below |ceiling|, or 0 when the search is over. */
static uint32_t next_size(const mpq_pmtud *m, uint32_t ceiling)
{
	if (m->failed && m->failed <= ceiling)
		ceiling = m->failed - 1;
	if (ceiling <= m->size)
		return 0;
	if (!m->tried_limit)
		return ceiling;
	for (size_t i = 0; i < sizeof(common_mtus) / sizeof(common_mtus[0]); i++) {
		uint32_t s = common_mtus[i] - m->hdr;
		if (s > m->size && s <= ceiling)
			return s;
	}
	return 0;
}

uint32_t mpq_pmtud_want_probe(mpq_pmtud *m, uint32_t max, uint64_t ts)
{
	if (!m->limit || m->probe_out)
		return 0;
	if (m->complete) {
		if (!m->raise_at || ts < m->raise_at)
			return 0;
		/* RFC 8899 §5.1.1: the path may carry more by now. */
		m->complete = false;
		m->failed = 0;
		m->tried_limit = false;
	}
	uint32_t ceiling = max < m->limit ? max : m->limit;
	if (m->probe > ceiling || (m->probe && m->probe <= m->size))
		m->probe = 0, m->lost = 0;
	if (!m->probe)
		m->probe = next_size(m, ceiling);
	if (!m->probe) {
		m->complete = true;
		m->raise_at = m->failed ? ts + MPQ_PMTUD_RAISE_TIMER : 0;
	}
	return m->probe;
}

void mpq_pmtud_on_probe_sent(mpq_pmtud *m)
{
	m->probe_out = true;
	m->probes_sent++;
}

bool mpq_pmtud_on_probe_acked(mpq_pmtud *m, uint32_t size, uint64_t ts)
{
	(void)ts;
	m->probe_out = false;
	if (size == m->probe)
		m->probe = 0, m->lost = 0;
	m->tried_limit = true;
	if (size <= m->size)
		return false;
	m->size = size;
	return true;
}

void mpq_pmtud_on_probe_lost(mpq_pmtud *m, uint32_t size, uint64_t ts)
{
	(void)ts;
	m->probe_out = false;
	m->probes_lost++;
	if (size != m->probe || ++m->lost < MPQ_PMTUD_MAX_PROBES)
		return;
	if (!m->failed || size < m->failed)
		m->failed = size;
	m->probe = 0;
	m->lost = 0;
	m->tried_limit = true;
}

void mpq_pmtud_on_acked(mpq_pmtud *m, uint32_t size, uint64_t sent)
{
	if (size > MPQ_PMTUD_BASE && sent > m->big_acked_sent) {
		m->big_acked_sent = sent;
		m->suspect_rounds = 0;
	}
}

bool mpq_pmtud_on_losses(mpq_pmtud *m, uint64_t big_sent, uint64_t ts)
{
	if (!m->limit || !big_sent || big_sent <= m->big_acked_sent || m->size <= MPQ_PMTUD_BASE)
		return false;
	if (++m->suspect_rounds < MPQ_PMTUD_BLACKHOLE_ROUNDS)
		return false;
	/* RFC 8899 §5.2: back to the base, then search below what stopped working. */
	m->failed = m->size;
	m->size = MPQ_PMTUD_BASE;
	m->suspect_rounds = 0;
	m->probe = 0;
	m->lost = 0;
	m->tried_limit = true;
	m->complete = false;
	m->big_acked_sent = ts;
	m->black_holes++;
	return true;
}
