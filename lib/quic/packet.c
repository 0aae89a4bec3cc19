/* QUIC packet headers, packet numbers, protection, VN and Retry: see packet.h. */
#include "packet.h"

#include <string.h>

#include <openssl/crypto.h>

#define HDR_FORM 0x80
#define HDR_FIXED 0x40
#define HDR_KEY_PHASE 0x04
#define LONG_HP_MASK 0x0f
#define SHORT_HP_MASK 0x1f
#define LONG_RESERVED 0x0c
#define SHORT_RESERVED 0x18

/* The HP sample assumes a 4-byte packet number (RFC 9001 §5.4.2), so a packet
 * needs PN_SAMPLE_END bytes after pn_offset to be processed at all. */
#define SAMPLE_OFFSET 4
#define PN_SAMPLE_END (SAMPLE_OFFSET + MPQ_HP_SAMPLELEN)

/* The Length placeholder is a 2-byte varint: packets up to 16383 bytes. */
#define LENGTH_FIELD_LEN 2

/* Long header type bits per version, indexed by (first >> 4) & 3 (RFC 9369 §3.2). */
static const uint8_t v1_types[4] = {MPQ_PKT_INITIAL, MPQ_PKT_0RTT, MPQ_PKT_HANDSHAKE,
				    MPQ_PKT_RETRY};
static const uint8_t v2_types[4] = {MPQ_PKT_RETRY, MPQ_PKT_INITIAL, MPQ_PKT_0RTT,
				    MPQ_PKT_HANDSHAKE};

bool mpq_pkt_version_supported(uint32_t version)
{
	return version == MPQ_VERSION_1 || version == MPQ_VERSION_2;
}

static const uint8_t *type_table(uint32_t version)
{
	return version == MPQ_VERSION_2 ? v2_types : v1_types;
}

/* Long header type bits for |type| in |version|, or -1. */
static int type_bits(uint32_t version, int type)
{
	const uint8_t *t = type_table(version);

	for (int i = 0; i < 4; i++)
		if (t[i] == type)
			return i;
	return -1;
}

static bool is_long(const mpq_pkt_hd *hd)
{
	return hd->type != MPQ_PKT_1RTT;
}

size_t mpq_pkt_pn_len(uint64_t pn, int64_t largest_acked)
{
	uint64_t unacked;

	if (largest_acked < 0)
		unacked = pn + 1;
	else if (pn > (uint64_t)largest_acked)
		unacked = pn - (uint64_t)largest_acked;
	else
		unacked = 1;
	/* Enough bits for twice the span, so the receiver's window covers it (A.2). */
	for (size_t n = 1; n < 4; n++)
		if (unacked < (1ULL << (8 * n - 1)))
			return n;
	return 4;
}

uint64_t mpq_pkt_decode_pn(int64_t largest_pn, uint64_t truncated, size_t nbits)
{
	if (nbits == 0 || nbits > 62)
		return truncated;
	uint64_t expected = (uint64_t)(largest_pn + 1);
	uint64_t win = 1ULL << nbits;
	uint64_t hwin = win / 2;
	uint64_t mask = win - 1;
	uint64_t candidate = (expected & ~mask) | (truncated & mask);

	/* RFC 9000 A.3, written without negative intermediates. */
	if (candidate + hwin <= expected && candidate < (1ULL << 62) - win)
		return candidate + win;
	if (candidate > expected + hwin && candidate >= win)
		return candidate - win;
	return candidate;
}

/* Length byte then up to 255 bytes of CID; |cid| is filled only when ≤ 20 bytes. */
static int read_cid(mpq_reader *r, mpq_cid *cid)
{
	const uint8_t *p;
	uint8_t len;

	if (mpq_read_u8(r, &len) || mpq_read_span(r, &p, len))
		return MPQ_ERR_INVALID_PACKET;
	if (len > MPQ_MAX_CIDLEN)
		return MPQ_ERR_INVALID_PACKET;
	cid->len = len;
	memcpy(cid->data, p, len);
	return 0;
}

/* Retry: the token runs to the 16-byte integrity tag that ends the datagram. */
static int decode_retry_rest(mpq_pkt_hd *hd, mpq_reader *r, const uint8_t *data)
{
	size_t left = mpq_reader_left(r);

	if (left < MPQ_AEAD_TAGLEN)
		return MPQ_ERR_INVALID_PACKET;
	hd->token = r->pos;
	hd->tokenlen = left - MPQ_AEAD_TAGLEN;
	hd->pktlen = (size_t)(r->end - data);
	return 0;
}

/* Initial, 0-RTT, Handshake: [token,] Length, then the protected packet number. */
static int decode_long_rest(mpq_pkt_hd *hd, mpq_reader *r, const uint8_t *data)
{
	uint64_t v;

	if (hd->type == MPQ_PKT_INITIAL) {
		if (mpq_read_varint(r, &v) || v > mpq_reader_left(r) ||
		    mpq_read_span(r, &hd->token, (size_t)v))
			return MPQ_ERR_INVALID_PACKET;
		hd->tokenlen = (size_t)v;
	}
	if (mpq_read_varint(r, &v) || v > mpq_reader_left(r) || v < PN_SAMPLE_END)
		return MPQ_ERR_INVALID_PACKET;
	hd->len = (size_t)v;
	hd->pn_offset = (size_t)(r->pos - data);
	hd->pktlen = hd->pn_offset + hd->len;
	return 0;
}

static int decode_long(mpq_pkt_hd *hd, mpq_reader *r, const uint8_t *data)
{
	int rv;

	if (mpq_read_u32(r, &hd->version))
		return MPQ_ERR_INVALID_PACKET;
	rv = read_cid(r, &hd->dcid);
	if (rv == 0)
		rv = read_cid(r, &hd->scid);
	if (rv)
		return rv; /* CIDs over 20 bytes: no version of ours, nothing to answer */
	if (hd->version == 0) {
		/* Version Negotiation: its fixed bit is unused; decode_vn reads the rest. */
		hd->type = MPQ_PKT_VERSION_NEGOTIATION;
		hd->pktlen = (size_t)(r->end - data);
		return 0;
	}
	if (!mpq_pkt_version_supported(hd->version))
		return MPQ_ERR_UNKNOWN_VERSION;
	if (!(hd->first & HDR_FIXED))
		return MPQ_ERR_INVALID_PACKET;
	hd->type = type_table(hd->version)[(hd->first >> 4) & 3];
	if (hd->type == MPQ_PKT_RETRY)
		return decode_retry_rest(hd, r, data);
	return decode_long_rest(hd, r, data);
}

static int decode_short(mpq_pkt_hd *hd, mpq_reader *r, const uint8_t *data, size_t short_dcidlen)
{
	const uint8_t *p;

	if (!(hd->first & HDR_FIXED) || short_dcidlen > MPQ_MAX_CIDLEN ||
	    mpq_read_span(r, &p, short_dcidlen))
		return MPQ_ERR_INVALID_PACKET;
	hd->type = MPQ_PKT_1RTT;
	hd->dcid.len = (uint8_t)short_dcidlen;
	memcpy(hd->dcid.data, p, short_dcidlen);
	hd->pn_offset = (size_t)(r->pos - data);
	hd->pktlen = (size_t)(r->end - data);
	hd->len = hd->pktlen - hd->pn_offset;
	return 0;
}

int mpq_pkt_decode_hd(mpq_pkt_hd *hd, const uint8_t *data, size_t len, size_t short_dcidlen)
{
	mpq_reader r;

	memset(hd, 0, sizeof(*hd));
	mpq_reader_init(&r, data, len);
	if (mpq_read_u8(&r, &hd->first))
		return MPQ_ERR_INVALID_PACKET;
	if (hd->first & HDR_FORM)
		return decode_long(hd, &r, data);
	return decode_short(hd, &r, data, short_dcidlen);
}

/* Length-prefixed DCID then SCID, as every long header has them. */
static int write_cids(mpq_writer *w, const mpq_cid *dcid, const mpq_cid *scid)
{
	if (dcid->len > MPQ_MAX_CIDLEN || scid->len > MPQ_MAX_CIDLEN)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (mpq_write_u8(w, dcid->len) || mpq_write_bytes(w, dcid->data, dcid->len) ||
	    mpq_write_u8(w, scid->len) || mpq_write_bytes(w, scid->data, scid->len))
		return MPQ_ERR_NOBUF;
	return 0;
}

/* The truncated packet number in hd->pn_len bytes. */
static int write_pn(mpq_writer *w, const mpq_pkt_hd *hd)
{
	for (size_t i = hd->pn_len; i > 0; i--)
		if (mpq_write_u8(w, (uint8_t)(hd->pn >> (8 * (i - 1)))))
			return MPQ_ERR_NOBUF;
	return 0;
}

static int encode_long(mpq_writer *w, const mpq_pkt_hd *hd)
{
	int bits = type_bits(hd->version, hd->type);
	int rv;

	if (!mpq_pkt_version_supported(hd->version) || bits < 0 || hd->type == MPQ_PKT_RETRY)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (mpq_write_u8(w, (uint8_t)(HDR_FORM | HDR_FIXED | bits << 4 | (hd->pn_len - 1))) ||
	    mpq_write_u32(w, hd->version))
		return MPQ_ERR_NOBUF;
	rv = write_cids(w, &hd->dcid, &hd->scid);
	if (rv)
		return rv;
	if (hd->type == MPQ_PKT_INITIAL &&
	    (mpq_write_varint(w, hd->tokenlen) || mpq_write_bytes(w, hd->token, hd->tokenlen)))
		return MPQ_ERR_NOBUF;
	/* Length is filled in by mpq_pkt_protect once the payload is known. */
	if (mpq_write_varint_len(w, 0, LENGTH_FIELD_LEN))
		return MPQ_ERR_NOBUF;
	return 0;
}

static int encode_short(mpq_writer *w, const mpq_pkt_hd *hd)
{
	/* Spin bit left 0: we do not take part in latency spinning. */
	uint8_t first = (uint8_t)(HDR_FIXED | (hd->pn_len - 1));

	if (hd->key_phase)
		first |= HDR_KEY_PHASE;
	if (hd->dcid.len > MPQ_MAX_CIDLEN)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (mpq_write_u8(w, first) || mpq_write_bytes(w, hd->dcid.data, hd->dcid.len))
		return MPQ_ERR_NOBUF;
	return 0;
}

int mpq_pkt_encode_hd(mpq_writer *w, mpq_pkt_hd *hd)
{
	uint8_t *start = w->pos;
	int rv;

	if (hd->pn_len < 1 || hd->pn_len > 4)
		return MPQ_ERR_INVALID_ARGUMENT;
	rv = is_long(hd) ? encode_long(w, hd) : encode_short(w, hd);
	if (rv == 0) {
		hd->pn_offset = (size_t)(w->pos - start);
		rv = write_pn(w, hd);
	}
	if (rv)
		w->pos = start; /* a failed write leaves the writer unchanged */
	return rv;
}

/* XORs mask[1..pn_len] into the packet number bytes (the first byte is done apart:
 * on receipt it must be unmasked first to learn pn_len). */
static void mask_pn(uint8_t *pkt, const mpq_pkt_hd *hd, const uint8_t mask[MPQ_HP_MASKLEN],
		    size_t pn_len)
{
	for (size_t i = 0; i < pn_len; i++)
		pkt[hd->pn_offset + i] ^= mask[1 + i];
}

static uint8_t first_byte_mask(const mpq_pkt_hd *hd)
{
	return is_long(hd) ? LONG_HP_MASK : SHORT_HP_MASK;
}

int mpq_pkt_protect(uint8_t *pkt, size_t cap, const mpq_pkt_hd *hd, size_t payloadlen,
		    mpq_crypto_keys *k, uint32_t path_id)
{
	size_t hdrlen = hd->pn_offset + hd->pn_len;
	size_t total = hdrlen + payloadlen + MPQ_AEAD_TAGLEN;
	uint8_t mask[MPQ_HP_MASKLEN];

	if (hd->pn_len < 1 || hd->pn_len > 4 || hd->pn_len + payloadlen < 4)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (payloadlen > cap || total > cap)
		return MPQ_ERR_NOBUF;
	if (is_long(hd)) {
		mpq_writer w;
		if (hd->pn_offset < 1 + LENGTH_FIELD_LEN)
			return MPQ_ERR_INVALID_ARGUMENT;
		mpq_writer_init(&w, pkt + hd->pn_offset - LENGTH_FIELD_LEN, LENGTH_FIELD_LEN);
		if (mpq_write_varint_len(&w, total - hd->pn_offset, LENGTH_FIELD_LEN))
			return MPQ_ERR_INVALID_ARGUMENT; /* over 16383 bytes */
	}
	int rv = mpq_crypto_seal(k, path_id, hd->pn, pkt, hdrlen, pkt + hdrlen, payloadlen,
				 pkt + hdrlen);
	if (rv == 0)
		rv = mpq_crypto_hp_mask(k, pkt + hd->pn_offset + SAMPLE_OFFSET, mask);
	if (rv)
		return rv;
	pkt[0] ^= mask[0] & first_byte_mask(hd);
	mask_pn(pkt, hd, mask, hd->pn_len);
	return (int)total;
}

int mpq_pkt_remove_hp(uint8_t *pkt, mpq_pkt_hd *hd, mpq_crypto_keys *k, int64_t largest_pn)
{
	uint8_t mask[MPQ_HP_MASKLEN];
	uint64_t truncated = 0;

	if (hd->type == MPQ_PKT_RETRY || hd->type == MPQ_PKT_VERSION_NEGOTIATION ||
	    hd->pn_offset == 0 || hd->pn_offset + PN_SAMPLE_END > hd->pktlen)
		return MPQ_ERR_INVALID_PACKET;
	if (mpq_crypto_hp_mask(k, pkt + hd->pn_offset + SAMPLE_OFFSET, mask))
		return MPQ_ERR_INVALID_PACKET;
	pkt[0] ^= mask[0] & first_byte_mask(hd);
	hd->first = pkt[0];
	hd->pn_len = (size_t)(hd->first & 3) + 1;
	mask_pn(pkt, hd, mask, hd->pn_len);
	for (size_t i = 0; i < hd->pn_len; i++)
		truncated = truncated << 8 | pkt[hd->pn_offset + i];
	hd->pn = mpq_pkt_decode_pn(largest_pn, truncated, 8 * hd->pn_len);
	hd->key_phase = !is_long(hd) && (hd->first & HDR_KEY_PHASE);
	return 0;
}

int mpq_pkt_decrypt(uint8_t *pkt, const mpq_pkt_hd *hd, mpq_crypto_keys *k, uint32_t path_id,
		    uint8_t **payload, size_t *payloadlen)
{
	size_t hdrlen = hd->pn_offset + hd->pn_len;

	if (hd->pn_len < 1 || hd->pn_len > 4 || hdrlen + MPQ_AEAD_TAGLEN > hd->pktlen)
		return MPQ_ERR_DECRYPT;
	size_t ctlen = hd->pktlen - hdrlen;
	int rv = mpq_crypto_open(k, path_id, hd->pn, pkt, hdrlen, pkt + hdrlen, ctlen,
				 pkt + hdrlen);
	if (rv)
		return MPQ_ERR_DECRYPT;
	*payload = pkt + hdrlen;
	*payloadlen = ctlen - MPQ_AEAD_TAGLEN;
	return 0;
}

bool mpq_pkt_reserved_bits_set(const mpq_pkt_hd *hd)
{
	return hd->first & (is_long(hd) ? LONG_RESERVED : SHORT_RESERVED);
}

int mpq_pkt_encode_vn(uint8_t *buf, size_t cap, const mpq_cid *dcid, const mpq_cid *scid,
		      const uint32_t *versions, size_t nversions, uint8_t unused)
{
	mpq_writer w;
	int rv;

	mpq_writer_init(&w, buf, cap);
	if (mpq_write_u8(&w, HDR_FORM | (unused & 0x7f)) || mpq_write_u32(&w, 0))
		return MPQ_ERR_NOBUF;
	rv = write_cids(&w, dcid, scid);
	for (size_t i = 0; rv == 0 && i < nversions; i++)
		rv = mpq_write_u32(&w, versions[i]);
	return rv ? rv : (int)(cap - mpq_writer_left(&w));
}

/* Skips a CID of any length up to 255 (RFC 8999 invariants). */
static int skip_cid(mpq_reader *r)
{
	const uint8_t *p;
	uint8_t len;

	return mpq_read_u8(r, &len) || mpq_read_span(r, &p, len) ? MPQ_ERR_INVALID_PACKET : 0;
}

int mpq_pkt_decode_vn(const uint8_t *pkt, size_t len, uint32_t *out, size_t max)
{
	mpq_reader r;
	uint8_t first;
	uint32_t version;
	size_t n = 0;

	mpq_reader_init(&r, pkt, len);
	if (mpq_read_u8(&r, &first) || !(first & HDR_FORM) || mpq_read_u32(&r, &version) ||
	    version != 0 || skip_cid(&r) || skip_cid(&r))
		return MPQ_ERR_INVALID_PACKET;
	/* An empty list or a partial version is not a Version Negotiation packet. */
	if (mpq_reader_left(&r) == 0 || mpq_reader_left(&r) % 4)
		return MPQ_ERR_INVALID_PACKET;
	while (n < max && mpq_read_u32(&r, &out[n]) == 0)
		n++;
	return (int)n;
}

int mpq_pkt_encode_retry(uint8_t *buf, size_t cap, uint32_t version, const mpq_cid *dcid,
			 const mpq_cid *scid, const mpq_cid *odcid, const uint8_t *token,
			 size_t tokenlen, uint8_t unused)
{
	int bits = type_bits(version, MPQ_PKT_RETRY);
	mpq_writer w;
	int rv;

	if (!mpq_pkt_version_supported(version))
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_writer_init(&w, buf, cap);
	if (mpq_write_u8(&w, (uint8_t)(HDR_FORM | HDR_FIXED | bits << 4 | (unused & 0x0f))) ||
	    mpq_write_u32(&w, version))
		return MPQ_ERR_NOBUF;
	rv = write_cids(&w, dcid, scid);
	if (rv)
		return rv;
	if (mpq_write_bytes(&w, token, tokenlen) || mpq_writer_left(&w) < MPQ_AEAD_TAGLEN)
		return MPQ_ERR_NOBUF;
	size_t len = cap - mpq_writer_left(&w);
	rv = mpq_crypto_retry_tag(version, odcid, buf, len, w.pos);
	return rv ? rv : (int)(len + MPQ_AEAD_TAGLEN);
}

bool mpq_pkt_verify_retry(uint32_t version, const mpq_cid *odcid, const uint8_t *pkt, size_t len)
{
	uint8_t tag[MPQ_AEAD_TAGLEN];
	mpq_pkt_hd hd;

	if (mpq_pkt_decode_hd(&hd, pkt, len, 0) || hd.type != MPQ_PKT_RETRY ||
	    hd.version != version)
		return false;
	if (mpq_crypto_retry_tag(version, odcid, pkt, len - MPQ_AEAD_TAGLEN, tag))
		return false;
	return CRYPTO_memcmp(tag, pkt + len - MPQ_AEAD_TAGLEN, MPQ_AEAD_TAGLEN) == 0;
}
