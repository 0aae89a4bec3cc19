/* Paths of a connection: see path.h. */
#include <string.h>
#include <sys/socket.h>

#include "quic/path.h"
#include "quic/tls.h"

int mpq_conn_path_init(mpq_conn_path *p, uint32_t id, const mpq_path *tuple, const mpq_settings *s,
		       const struct mpq_cc_ops *cc, uint64_t ts)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->state = MPQ_PATH_ACTIVE;
	p->tuple = *tuple;
	mpq_rtt_init(&p->rtt, s->initial_rtt);
	size_t size = s->max_tx_udp_payload;
	if (s->pmtud_max_udp_payload && s->pmtud_max_udp_payload < size)
		size = s->pmtud_max_udp_payload;
	mpq_pmtud_init(&p->pmtud, (uint32_t)size, (uint32_t)s->pmtud_max_udp_payload,
		       mpq_path_udp_overhead(tuple));
	int rv = mpq_cc_init(&p->cc, cc, size, s->initial_cwnd_packets, ts);
	if (rv == 0)
		mpq_cc_set_hystart(&p->cc.cc, !s->no_hystart);
	if (rv == 0)
		rv = mpq_pktns_init(&p->ns, MPQ_LEVEL_APP);
	if (rv != 0)
		return rv;
	mpq_pacer_init(&p->pacer, p->cc.cc.cwnd, ts);
	return 0;
}

uint32_t mpq_path_udp_overhead(const mpq_path *tuple)
{
	return tuple->remote.ss.ss_family == AF_INET6 ? 40 + 8 : 20 + 8;
}

void mpq_conn_path_set_size(mpq_conn_path *p)
{
	mpq_cc_set_max_datagram_size(&p->cc.cc, p->pmtud.size);
}

void mpq_conn_path_free(mpq_conn_path *p)
{
	if (p->state != MPQ_PATH_UNUSED && !p->released)
		mpq_pktns_free(&p->ns);
	p->state = MPQ_PATH_UNUSED;
}
