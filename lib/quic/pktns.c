/* Packet number spaces: see pktns.h. */
#include <stdlib.h>
#include <string.h>

#include "quic/pktns.h"

int mpq_pktns_init(mpq_pktns *ns, int level)
{
	memset(ns, 0, sizeof(*ns));
	ns->level = level;
	ns->largest_acked = -1;
	ns->largest_rx = -1;
	mpq_pn_dedup_init(&ns->rx_seen);
	int rv = mpq_ranges_init(&ns->rx_pns, MPQ_ACK_RANGES_KEPT);
	if (rv == 0)
		rv = mpq_sent_init(&ns->sent, 16); /* grows by doubling as packets fly */
	if (rv == 0)
		rv = mpq_rob_init(&ns->crypto_rx, MPQ_CRYPTO_RX_MAX);
	if (rv == 0)
		rv = mpq_ranges_init(&ns->crypto_tx.unsent, 32);
	if (rv != 0)
		mpq_pktns_free(ns);
	return rv;
}

void mpq_pktns_free(mpq_pktns *ns)
{
	mpq_crypto_keys_free(&ns->rx);
	mpq_crypto_keys_free(&ns->tx);
	mpq_ranges_free(&ns->rx_pns);
	mpq_pktns_release(ns);
}

void mpq_pktns_release(mpq_pktns *ns)
{
	mpq_sent_free(&ns->sent);
	mpq_rob_free(&ns->crypto_rx);
	mpq_ranges_free(&ns->crypto_tx.unsent);
	free(ns->crypto_tx.buf);
	memset(&ns->crypto_tx, 0, sizeof(ns->crypto_tx));
}

int mpq_crypto_tx_append(mpq_crypto_tx *c, const uint8_t *data, size_t len)
{
	if (len == 0)
		return 0;
	if (c->len + len > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < c->len + len)
			cap *= 2;
		uint8_t *b = realloc(c->buf, cap);
		if (!b)
			return MPQ_ERR_NOMEM;
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, data, len);
	/* Cannot drop: the set holds few runs, and a full set refuses rather than lose data. */
	int rv = mpq_ranges_add(&c->unsent, c->len, c->len + len - 1);
	if (rv != 0)
		return rv;
	c->len += len;
	return 0;
}

void mpq_crypto_tx_resend(mpq_crypto_tx *c, uint64_t offset, uint64_t len)
{
	if (len == 0 || offset >= c->len)
		return;
	if (offset + len > c->len)
		len = c->len - offset;
	/* When the set is full, resending everything still unsent covers this range. */
	if (mpq_ranges_add(&c->unsent, offset, offset + len - 1) != 0)
		mpq_ranges_insert(&c->unsent, 0, c->len - 1);
}
