/* Paths of a connection: see path.h. */
#include <string.h>

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
	int rv = mpq_cc_init(&p->cc, cc, s->max_tx_udp_payload, s->initial_cwnd_packets, ts);
	if (rv == 0)
		rv = mpq_pktns_init(&p->ns, MPQ_LEVEL_APP);
	if (rv != 0)
		return rv;
	mpq_pacer_init(&p->pacer, p->cc.cc.cwnd, ts);
	return 0;
}

void mpq_conn_path_free(mpq_conn_path *p)
{
	if (p->state != MPQ_PATH_UNUSED && !p->released)
		mpq_pktns_free(&p->ns);
	p->state = MPQ_PATH_UNUSED;
}
