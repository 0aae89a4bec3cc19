/* AF_XDP multi-buffer descriptor chains: see xsk_sg.h. */
#include <string.h>

#include "io/xsk_sg.h"

uint32_t mpq_xsk_sg_chain(const struct xsk_ring_cons *rx, uint32_t idx, uint32_t avail)
{
	for (uint32_t i = 0; i < avail; i++)
		if (!(xsk_ring_cons__rx_desc(rx, idx + i)->options & XDP_PKT_CONTD))
			return i + 1;
	return 0;
}

long mpq_xsk_sg_gather(const struct xsk_ring_cons *rx, uint32_t idx, uint32_t n,
		       const uint8_t *area, uint8_t *buf, size_t cap)
{
	size_t len = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(rx, idx + i);

		if (d->len > cap - len)
			return -1;
		memcpy(buf + len, area + d->addr, d->len);
		len += d->len;
	}
	return (long)len;
}

uint32_t mpq_xsk_sg_frames(size_t len, uint32_t fsize)
{
	return len <= fsize ? 1 : (uint32_t)((len + fsize - 1) / fsize);
}

uint32_t mpq_xsk_sg_scatter(struct xsk_ring_prod *tx, uint32_t idx, uint8_t *area,
			    const uint64_t *addrs, uint32_t fsize, const uint8_t *hdr, size_t hlen,
			    const uint8_t *payload, size_t plen)
{
	size_t off = 0; /* of the payload */
	uint32_t k = 0;

	do {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(tx, idx + k);
		uint8_t *f = area + addrs[k];
		size_t head = k == 0 ? hlen : 0;
		size_t n = plen - off < fsize - head ? plen - off : fsize - head;

		if (head)
			memcpy(f, hdr, head);
		memcpy(f + head, payload + off, n);
		off += n;
		d->addr = addrs[k];
		d->len = (uint32_t)(head + n);
		d->options = off < plen ? XDP_PKT_CONTD : 0;
		k++;
	} while (off < plen);
	return k;
}
