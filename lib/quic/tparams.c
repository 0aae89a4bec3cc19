/* Transport parameters (RFC 9000 §18, multipath draft-21 §2.1, docs/add_address.md):
 * see tparams.h. */
#include <string.h>

#include "tparams.h"
#include "wire.h"

#define RESET_TOKEN_LEN 16
/* IPv4 + port, IPv6 + port, CID length byte, CID, reset token (RFC 9000 §18.2). */
#define PREFERRED_ADDRESS_MAX (4 + 2 + 16 + 2 + 1 + MPQ_MAX_CIDLEN + RESET_TOKEN_LEN)

/* Ids below 64 this file understands, as a bit mask; others are skipped. */
#define KNOWN_IDS (((1ULL << (MPQ_TP_RETRY_SCID + 1)) - 1) | 1ULL << MPQ_TP_INITIAL_MAX_PATH_ID)

/* Known ids of 64 and above: in the duplicate check, large_ids[i] has bit 64 + i. */
static const uint64_t large_ids[] = {MPQ_TP_ADD_ADDRESS};

#define SEEN_BITS (64 + sizeof(large_ids) / sizeof(large_ids[0]))

MPQ_EXPORT void mpq_tparams_default(mpq_tparams *tp)
{
	/* Padding too, so that two decoded structs compare equal with memcmp. */
	memset(tp, 0, sizeof(*tp));
	tp->struct_version = MPQ_TPARAMS_VERSION;
	tp->max_udp_payload_size = 65527;
	tp->ack_delay_exponent = 3;
	tp->max_ack_delay = 25;
	tp->active_connection_id_limit = 2;
}

/* Integer parameters that are simply absent when they hold their default. */
static const uint8_t int_ids[] = {
	MPQ_TP_MAX_IDLE_TIMEOUT,
	MPQ_TP_MAX_UDP_PAYLOAD_SIZE,
	MPQ_TP_INITIAL_MAX_DATA,
	MPQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL,
	MPQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE,
	MPQ_TP_INITIAL_MAX_STREAM_DATA_UNI,
	MPQ_TP_INITIAL_MAX_STREAMS_BIDI,
	MPQ_TP_INITIAL_MAX_STREAMS_UNI,
	MPQ_TP_ACK_DELAY_EXPONENT,
	MPQ_TP_MAX_ACK_DELAY,
	MPQ_TP_ACTIVE_CONNECTION_ID_LIMIT,
};

/* The field an id of int_ids[] is stored in; NULL for any other id. */
static uint64_t *int_field(mpq_tparams *tp, uint64_t id)
{
	switch (id) {
	case MPQ_TP_MAX_IDLE_TIMEOUT:
		return &tp->max_idle_timeout;
	case MPQ_TP_MAX_UDP_PAYLOAD_SIZE:
		return &tp->max_udp_payload_size;
	case MPQ_TP_INITIAL_MAX_DATA:
		return &tp->initial_max_data;
	case MPQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL:
		return &tp->initial_max_stream_data_bidi_local;
	case MPQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE:
		return &tp->initial_max_stream_data_bidi_remote;
	case MPQ_TP_INITIAL_MAX_STREAM_DATA_UNI:
		return &tp->initial_max_stream_data_uni;
	case MPQ_TP_INITIAL_MAX_STREAMS_BIDI:
		return &tp->initial_max_streams_bidi;
	case MPQ_TP_INITIAL_MAX_STREAMS_UNI:
		return &tp->initial_max_streams_uni;
	case MPQ_TP_ACK_DELAY_EXPONENT:
		return &tp->ack_delay_exponent;
	case MPQ_TP_MAX_ACK_DELAY:
		return &tp->max_ack_delay;
	case MPQ_TP_ACTIVE_CONNECTION_ID_LIMIT:
		return &tp->active_connection_id_limit;
	default:
		return NULL;
	}
}

static uint64_t int_value(const mpq_tparams *tp, uint64_t id)
{
	return *int_field((mpq_tparams *)tp, id); /* read only */
}

static bool server_only(uint64_t id)
{
	return id == MPQ_TP_ORIGINAL_DCID || id == MPQ_TP_STATELESS_RESET_TOKEN ||
	       id == MPQ_TP_PREFERRED_ADDRESS || id == MPQ_TP_RETRY_SCID;
}

static bool cid_ok(int has, const mpq_cid *cid)
{
	return !has || cid->len <= MPQ_MAX_CIDLEN;
}

/* The range rules of RFC 9000 §18.2 and draft-21 §2.1, for both directions. */
static bool values_ok(const mpq_tparams *tp)
{
	const mpq_cid *pa_cid = &tp->preferred_address.cid;

	return tp->max_udp_payload_size >= MPQ_MIN_INITIAL_DATAGRAM &&
	       tp->ack_delay_exponent <= 20 && tp->max_ack_delay < (1u << 14) &&
	       tp->active_connection_id_limit >= 2 && tp->initial_max_streams_bidi <= 1ULL << 60 &&
	       tp->initial_max_streams_uni <= 1ULL << 60 &&
	       (!tp->has_initial_max_path_id || tp->initial_max_path_id <= UINT32_MAX) &&
	       cid_ok(tp->has_original_dcid, &tp->original_dcid) &&
	       cid_ok(tp->has_initial_scid, &tp->initial_scid) &&
	       cid_ok(tp->has_retry_scid, &tp->retry_scid) &&
	       (!tp->has_preferred_address || (pa_cid->len > 0 && pa_cid->len <= MPQ_MAX_CIDLEN));
}

/* --- encode --- */

static int put_param(mpq_writer *w, uint64_t id, const void *value, size_t len)
{
	int rv = mpq_write_varint(w, id);
	if (rv == 0)
		rv = mpq_write_varint(w, len);
	if (rv == 0)
		rv = mpq_write_bytes(w, value, len);
	return rv;
}

static int put_int(mpq_writer *w, uint64_t id, uint64_t v)
{
	uint8_t tmp[8];
	mpq_writer t;

	mpq_writer_init(&t, tmp, sizeof(tmp));
	int rv = mpq_write_varint(&t, v);
	return rv ? rv : put_param(w, id, tmp, (size_t)(t.pos - tmp));
}

static int put_cid(mpq_writer *w, uint64_t id, const mpq_cid *cid)
{
	return put_param(w, id, cid->data, cid->len);
}

static int put_preferred_address(mpq_writer *w, const mpq_preferred_address *pa)
{
	uint8_t tmp[PREFERRED_ADDRESS_MAX];
	mpq_writer t;

	/* Cannot fail: tmp fits the largest CID, and values_ok checked its length. */
	mpq_writer_init(&t, tmp, sizeof(tmp));
	mpq_write_bytes(&t, pa->ipv4, sizeof(pa->ipv4));
	mpq_write_u16(&t, pa->ipv4_port);
	mpq_write_bytes(&t, pa->ipv6, sizeof(pa->ipv6));
	mpq_write_u16(&t, pa->ipv6_port);
	mpq_write_u8(&t, pa->cid.len);
	mpq_write_bytes(&t, pa->cid.data, pa->cid.len);
	mpq_write_bytes(&t, pa->reset_token, sizeof(pa->reset_token));
	return put_param(w, MPQ_TP_PREFERRED_ADDRESS, tmp, (size_t)(t.pos - tmp));
}

static int put_server_only(mpq_writer *w, const mpq_tparams *tp)
{
	int rv = 0;

	if (tp->has_original_dcid)
		rv = put_cid(w, MPQ_TP_ORIGINAL_DCID, &tp->original_dcid);
	if (rv == 0 && tp->has_stateless_reset_token)
		rv = put_param(w, MPQ_TP_STATELESS_RESET_TOKEN, tp->stateless_reset_token,
			       RESET_TOKEN_LEN);
	if (rv == 0 && tp->has_preferred_address)
		rv = put_preferred_address(w, &tp->preferred_address);
	if (rv == 0 && tp->has_retry_scid)
		rv = put_cid(w, MPQ_TP_RETRY_SCID, &tp->retry_scid);
	return rv;
}

static int put_common(mpq_writer *w, const mpq_tparams *tp)
{
	mpq_tparams def;
	int rv = 0;

	mpq_tparams_default(&def);
	for (size_t i = 0; i < sizeof(int_ids) / sizeof(int_ids[0]) && rv == 0; i++) {
		uint64_t v = int_value(tp, int_ids[i]);
		if (v != int_value(&def, int_ids[i]))
			rv = put_int(w, int_ids[i], v);
	}
	if (rv == 0 && tp->disable_active_migration)
		rv = put_param(w, MPQ_TP_DISABLE_ACTIVE_MIGRATION, NULL, 0);
	if (rv == 0 && tp->has_initial_scid)
		rv = put_cid(w, MPQ_TP_INITIAL_SCID, &tp->initial_scid);
	if (rv == 0 && tp->has_initial_max_path_id)
		rv = put_int(w, MPQ_TP_INITIAL_MAX_PATH_ID, tp->initial_max_path_id);
	if (rv == 0 && tp->has_add_address)
		rv = put_param(w, MPQ_TP_ADD_ADDRESS, NULL, 0);
	return rv;
}

int mpq_tparams_encode(uint8_t *buf, size_t cap, const mpq_tparams *tp, bool is_server)
{
	mpq_writer w;

	if (!values_ok(tp))
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_writer_init(&w, buf, cap);
	int rv = put_common(&w, tp);
	if (rv == 0 && is_server)
		rv = put_server_only(&w, tp);
	return rv ? rv : (int)(w.pos - buf);
}

/* --- decode --- */

/* An integer value: one varint filling the parameter exactly. */
static int read_int(const uint8_t *v, size_t len, uint64_t *out)
{
	mpq_reader r;

	mpq_reader_init(&r, v, len);
	if (mpq_read_varint(&r, out) || mpq_reader_left(&r))
		return MPQ_ERR_TRANSPORT_PARAM;
	return 0;
}

static int read_cid(const uint8_t *v, size_t len, int *has, mpq_cid *cid)
{
	if (len > MPQ_MAX_CIDLEN)
		return MPQ_ERR_TRANSPORT_PARAM;
	memcpy(cid->data, v, len);
	cid->len = (uint8_t)len;
	*has = 1;
	return 0;
}

static int read_preferred_address(const uint8_t *v, size_t len, mpq_preferred_address *pa)
{
	mpq_reader r;

	mpq_reader_init(&r, v, len);
	if (mpq_read_bytes(&r, pa->ipv4, sizeof(pa->ipv4)) || mpq_read_u16(&r, &pa->ipv4_port) ||
	    mpq_read_bytes(&r, pa->ipv6, sizeof(pa->ipv6)) || mpq_read_u16(&r, &pa->ipv6_port) ||
	    mpq_read_u8(&r, &pa->cid.len) || pa->cid.len > MPQ_MAX_CIDLEN ||
	    mpq_read_bytes(&r, pa->cid.data, pa->cid.len) ||
	    mpq_read_bytes(&r, pa->reset_token, sizeof(pa->reset_token)) || mpq_reader_left(&r))
		return MPQ_ERR_TRANSPORT_PARAM;
	return 0;
}

/* A parameter whose presence is its meaning: the value must be empty. */
static int read_flag(size_t len, int *flag)
{
	*flag = 1;
	return len == 0 ? 0 : MPQ_ERR_TRANSPORT_PARAM;
}

/* Stores one known parameter; range checks come after the whole list. */
static int read_param(mpq_tparams *tp, uint64_t id, const uint8_t *v, size_t len)
{
	uint64_t *field = int_field(tp, id);

	if (field)
		return read_int(v, len, field);
	switch (id) {
	case MPQ_TP_DISABLE_ACTIVE_MIGRATION:
		return read_flag(len, &tp->disable_active_migration);
	case MPQ_TP_STATELESS_RESET_TOKEN:
		if (len != RESET_TOKEN_LEN)
			return MPQ_ERR_TRANSPORT_PARAM;
		memcpy(tp->stateless_reset_token, v, len);
		tp->has_stateless_reset_token = 1;
		return 0;
	case MPQ_TP_PREFERRED_ADDRESS:
		tp->has_preferred_address = 1;
		return read_preferred_address(v, len, &tp->preferred_address);
	case MPQ_TP_ORIGINAL_DCID:
		return read_cid(v, len, &tp->has_original_dcid, &tp->original_dcid);
	case MPQ_TP_INITIAL_SCID:
		return read_cid(v, len, &tp->has_initial_scid, &tp->initial_scid);
	case MPQ_TP_RETRY_SCID:
		return read_cid(v, len, &tp->has_retry_scid, &tp->retry_scid);
	case MPQ_TP_INITIAL_MAX_PATH_ID:
		tp->has_initial_max_path_id = 1;
		return read_int(v, len, &tp->initial_max_path_id);
	case MPQ_TP_ADD_ADDRESS:
		return read_flag(len, &tp->has_add_address);
	default:
		return MPQ_ERR_INTERNAL; /* seen_bit and this switch disagree */
	}
}

/* The bit of a known id in the duplicate check, below SEEN_BITS; -1 for an
 * unknown or GREASE (31 * N + 27) id, which is skipped. Duplicates of those
 * are not tracked: that would cost a scan per parameter, and they change nothing. */
static int seen_bit(uint64_t id)
{
	if (id < 64)
		return KNOWN_IDS >> id & 1 ? (int)id : -1;
	for (size_t i = 0; i < sizeof(large_ids) / sizeof(large_ids[0]); i++)
		if (large_ids[i] == id)
			return 64 + (int)i;
	return -1;
}

int mpq_tparams_decode(mpq_tparams *tp, const uint8_t *data, size_t len, bool from_server)
{
	uint64_t seen[(SEEN_BITS + 63) / 64] = {0};
	mpq_reader r;

	mpq_tparams_default(tp);
	mpq_reader_init(&r, data, len);
	while (mpq_reader_left(&r)) {
		uint64_t id, vlen;
		const uint8_t *v;
		if (mpq_read_varint(&r, &id) || mpq_read_varint(&r, &vlen) ||
		    vlen > mpq_reader_left(&r) || mpq_read_span(&r, &v, (size_t)vlen))
			return MPQ_ERR_TRANSPORT_PARAM;
		int bit = seen_bit(id);
		if (bit < 0)
			continue;
		if ((seen[bit / 64] >> bit % 64 & 1) || (!from_server && server_only(id)))
			return MPQ_ERR_TRANSPORT_PARAM;
		seen[bit / 64] |= 1ULL << bit % 64;
		int rv = read_param(tp, id, v, (size_t)vlen);
		if (rv)
			return rv;
	}
	return values_ok(tp) ? 0 : MPQ_ERR_TRANSPORT_PARAM;
}
