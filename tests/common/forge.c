/* Packets and timers for tests and fuzz harnesses: see forge.h. */
#include <string.h>

#include "forge.h"
#include "quic/packet.h"

size_t forge_1rtt(mpq_conn *c, const uint8_t *frames, size_t len, uint8_t *out, size_t cap)
{
	mpq_pktns *ns = &c->paths[0]->ns;
	mpq_pkt_hd hd = {.type = MPQ_PKT_1RTT,
			 .dcid = c->dcid,
			 .pn = ns->next_pn++,
			 .pn_len = 4,
			 .key_phase = c->kp.tx_phase};
	mpq_writer w;
	mpq_writer_init(&w, out, cap);
	if (mpq_pkt_encode_hd(&w, &hd) != 0 || mpq_writer_left(&w) < len + 4 + MPQ_AEAD_TAGLEN)
		return 0;
	memcpy(w.pos, frames, len);
	size_t plen = len < 4 ? 4 : len;
	memset(w.pos + len, 0, plen - len);
	int n = mpq_pkt_protect(out, cap, &hd, plen, &ns->tx, 0);
	return n > 0 ? (size_t)n : 0;
}

void forge_timers(mpq_conn *client, mpq_endpoint *ep, uint64_t now)
{
	if (client && mpq_conn_get_expiry(client) <= now)
		mpq_conn_handle_expiry(client, now);
	for (size_t i = 0; i < mpq_endpoint_conn_count(ep); i++) {
		mpq_conn *c = mpq_endpoint_conn_at(ep, i);
		if (mpq_conn_get_expiry(c) <= now)
			mpq_conn_handle_expiry(c, now);
	}
}
