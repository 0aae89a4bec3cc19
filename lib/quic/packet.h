/*
 * QUIC packet headers (RFC 9000 §17, RFC 8999 invariants, RFC 9369 v2 types),
 * packet number encoding (Appendix A), protection of whole packets, Version
 * Negotiation and Retry.
 *
 * Receiving is two steps so that the key phase can choose the keys:
 * mpq_pkt_decode_hd (header up to the packet number), mpq_pkt_remove_hp
 * (first byte and packet number), then mpq_pkt_decrypt.
 */
#ifndef MPQ_PACKET_H
#define MPQ_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/dissect.h" /* enum mpq_pkt_type */
#include "mpq/mpq.h"
#include "quic/crypto.h"
#include "quic/wire.h"

typedef struct mpq_pkt_hd {
	int type;	  /* enum mpq_pkt_type */
	uint8_t first;	  /* first byte; unprotected after mpq_pkt_remove_hp */
	uint32_t version; /* long headers; 0 for 1-RTT */
	mpq_cid dcid;
	mpq_cid scid;	      /* long headers */
	const uint8_t *token; /* Initial and Retry: points into the datagram */
	size_t tokenlen;
	size_t len;	  /* long header Length field: pn + payload + tag */
	size_t pn_offset; /* where the packet number starts */
	size_t pktlen;	  /* this packet's bytes in the datagram (coalescing) */
	uint64_t pn;	  /* full packet number (after mpq_pkt_remove_hp) */
	size_t pn_len;	  /* 1..4 */
	bool key_phase;	  /* 1-RTT */
} mpq_pkt_hd;

/* Bytes needed to encode |pn| given the largest acknowledged (-1: none), RFC 9000 A.2. */
size_t mpq_pkt_pn_len(uint64_t pn, int64_t largest_acked);

/* Full packet number from |truncated| (|nbits| wide) and the largest received (-1: none), A.3. */
uint64_t mpq_pkt_decode_pn(int64_t largest_pn, uint64_t truncated, size_t nbits);

/* Parses a header up to the packet number. Short headers need the DCID length
 * the endpoint uses. Sets pktlen (a short header packet takes the rest of the
 * datagram; its len is then pktlen - pn_offset). Returns 0; MPQ_ERR_INVALID_PACKET
 * for anything malformed (fixed bit clear, lengths past the end, CID over 20
 * bytes, a Length below 20, the least that holds a packet number and the header
 * protection sample); MPQ_ERR_UNKNOWN_VERSION
 * for a long header of a version we do not speak (version, dcid and scid are
 * filled so Version Negotiation can answer). Version Negotiation packets decode
 * with type MPQ_PKT_VERSION_NEGOTIATION and pktlen = len. */
int mpq_pkt_decode_hd(mpq_pkt_hd *hd, const uint8_t *data, size_t len, size_t short_dcidlen);

/* Writes the header of |hd| (type, version, cids, token, key_phase, pn, pn_len)
 * with a 2-byte Length placeholder on long headers. Sets hd->pn_offset. The spin
 * bit is 0. Returns 0, MPQ_ERR_NOBUF (writer unchanged) or MPQ_ERR_INVALID_ARGUMENT
 * (Retry or VN type, unsupported version, pn_len outside 1..4, CID over 20 bytes). */
int mpq_pkt_encode_hd(mpq_writer *w, mpq_pkt_hd *hd);

/* Seals the packet that starts at |pkt|: header (hd->pn_offset + hd->pn_len
 * bytes) then |payloadlen| bytes of frames. Fills the Length field, encrypts,
 * appends the tag and applies header protection. |cap| is the room from |pkt|.
 * The payload must be at least 4 - pn_len bytes long (HP sample, RFC 9001 §5.4.2).
 * Returns the packet's length, MPQ_ERR_NOBUF, MPQ_ERR_TLS, or
 * MPQ_ERR_INVALID_ARGUMENT (payload too short; long packet over 16383 bytes). */
int mpq_pkt_protect(uint8_t *pkt, size_t cap, const mpq_pkt_hd *hd, size_t payloadlen,
		    mpq_crypto_keys *k, uint32_t path_id);

/* Removes header protection in place using |k|'s hp key: sets hd->first,
 * pn_len, pn (decoded against |largest_pn|, -1 for none) and key_phase.
 * Returns 0 or MPQ_ERR_INVALID_PACKET (too short for the sample, reserved bits
 * are checked after decryption by the caller). */
int mpq_pkt_remove_hp(uint8_t *pkt, mpq_pkt_hd *hd, mpq_crypto_keys *k, int64_t largest_pn);

/* Decrypts the payload in place. On success |*payload| / |*payloadlen| are the
 * plaintext frames. Returns 0 or MPQ_ERR_DECRYPT. */
int mpq_pkt_decrypt(uint8_t *pkt, const mpq_pkt_hd *hd, mpq_crypto_keys *k, uint32_t path_id,
		    uint8_t **payload, size_t *payloadlen);

/* Reserved bits of the unprotected first byte (must be zero: PROTOCOL_VIOLATION). */
bool mpq_pkt_reserved_bits_set(const mpq_pkt_hd *hd);

/* Version Negotiation (RFC 9000 §17.2.1): dcid/scid are the client's scid/dcid.
 * |unused| fills the 7 unused bits. Returns bytes written or MPQ_ERR_NOBUF. */
int mpq_pkt_encode_vn(uint8_t *buf, size_t cap, const mpq_cid *dcid, const mpq_cid *scid,
		      const uint32_t *versions, size_t nversions, uint8_t unused);

/* The versions listed in a Version Negotiation packet. Returns the count
 * written to |out| (at most |max|), or MPQ_ERR_INVALID_PACKET (also for an
 * empty list or one that is not a whole number of versions). */
int mpq_pkt_decode_vn(const uint8_t *pkt, size_t len, uint32_t *out, size_t max);

/* Retry (RFC 9000 §17.2.5) with its integrity tag; |unused| fills the 4 low bits.
 * Returns bytes, MPQ_ERR_NOBUF, MPQ_ERR_INVALID_ARGUMENT (version) or MPQ_ERR_TLS. */
int mpq_pkt_encode_retry(uint8_t *buf, size_t cap, uint32_t version, const mpq_cid *dcid,
			 const mpq_cid *scid, const mpq_cid *odcid, const uint8_t *token,
			 size_t tokenlen, uint8_t unused);

/* True when the Retry packet's tag verifies against |odcid|. */
bool mpq_pkt_verify_retry(uint32_t version, const mpq_cid *odcid, const uint8_t *pkt, size_t len);

/* True for the versions this library speaks (v1, v2). */
bool mpq_pkt_version_supported(uint32_t version);

#endif
