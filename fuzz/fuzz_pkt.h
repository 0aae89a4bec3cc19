/*
 * Long header packets made by a harness: its frames, padded with PADDING
 * frames, protected with keys the harness holds (Initial keys from a DCID,
 * or Handshake keys from a TLS session it drives), as a peer would send them.
 */
#ifndef MPQ_FUZZ_PKT_H
#define MPQ_FUZZ_PKT_H

#include <stdint.h>
#include <string.h>

#include "quic/crypto.h"
#include "quic/packet.h"
#include "quic/wire.h"

/* One packet of |type| with |frames| as payload, padded so that the packet
 * is at least |min_len| bytes (a client's Initial datagram: 1200). Returns
 * its length, or 0 when it does not fit |cap|. */
static inline size_t fuzz_long_packet(uint8_t *buf, size_t cap, int type, const mpq_cid *dcid,
				      const mpq_cid *scid, uint64_t pn, const uint8_t *frames,
				      size_t len, size_t min_len, mpq_crypto_keys *keys)
{
	mpq_pkt_hd hd = {.type = type,
			 .version = MPQ_VERSION_1,
			 .dcid = *dcid,
			 .scid = *scid,
			 .pn = pn,
			 .pn_len = 2};
	mpq_writer w;
	mpq_writer_init(&w, buf, cap);
	if (mpq_pkt_encode_hd(&w, &hd) != 0 || mpq_writer_left(&w) < len + MPQ_AEAD_TAGLEN + 4)
		return 0;
	size_t hdr = (size_t)(w.pos - buf), payload = len;
	if (hdr + payload + MPQ_AEAD_TAGLEN < min_len)
		payload = min_len - hdr - MPQ_AEAD_TAGLEN;
	if (payload < 4) /* the header protection sample */
		payload = 4;
	if (payload > mpq_writer_left(&w) - MPQ_AEAD_TAGLEN)
		return 0;
	memcpy(w.pos, frames, len);
	memset(w.pos + len, 0, payload - len);
	int n = mpq_pkt_protect(buf, cap, &hd, payload, keys, 0);
	return n > 0 ? (size_t)n : 0;
}

/* A CRYPTO frame at |offset| with |len| bytes of |data|. Returns its length,
 * or 0 when it does not fit |cap|. */
static inline size_t fuzz_crypto_frame(uint8_t *buf, size_t cap, uint64_t offset,
				       const uint8_t *data, size_t len)
{
	mpq_writer w;
	mpq_writer_init(&w, buf, cap);
	if (mpq_write_varint(&w, 0x06) || mpq_write_varint(&w, offset) ||
	    mpq_write_varint(&w, len) || mpq_write_bytes(&w, data, len))
		return 0;
	return (size_t)(w.pos - buf);
}

#endif
