/*
 * Frame codec: see frame.h. One descriptor per frame type says its qlog name,
 * the packet types it may appear in and its shape; one decoder, encoder and
 * comparison per shape. Encoding and measuring share one code path, so
 * mpq_frame_encoded_len always equals what mpq_frame_encode writes.
 */
#include <stddef.h>
#include <string.h>

#include "quic/frame.h"
#include "quic/packet.h"

#define LIM_VARINT MPQ_MAX_VARINT
#define LIM_STREAMS (1ULL << 60)  /* RFC 9000 §19.11 */
#define LIM_PATH_ID 0xffffffffULL /* multipath draft-21: path IDs are 32 bits */
/* A field this type does not carry (RETIRE_CONNECTION_ID's path ID):
 * decodes as 0, and must be 0 to encode. */
#define NOT_SENT 0

enum shape {
	SH_PADDING,
	SH_VARINTS,
	SH_ACK,
	SH_CRYPTO,
	SH_NEW_TOKEN,
	SH_STREAM,
	SH_NEW_CID,
	SH_PATH_CHALLENGE,
	SH_CLOSE,
	SH_ADD_ADDRESS,
};

/* Per-type variations of a shape. */
#define F_NOT_ELICITING 0x01 /* RFC 9000 §13.2.1 */
#define F_PATH_ID 0x02	     /* the multipath variant: a Path ID comes first */
#define F_ECN 0x04	     /* ACK with ECN counts */
#define F_FRAME_TYPE 0x08    /* transport CONNECTION_CLOSE carries a frame type */

/* A uint64_t field of mpq_frame and the largest value the wire allows. */
struct field {
	uint16_t off;
	uint64_t max;
};

#define FLD(member, lim) \
	{ \
		offsetof(mpq_frame, member), lim \
	}

struct frame_desc {
	uint64_t type;
	const char *name; /* qlog frame_type */
	const char *pkts; /* RFC 9000 Table 3 "Pkts": Initial, Handshake, 0-RTT, 1-RTT */
	uint8_t shape;
	uint8_t flags;
	uint8_t nfields; /* SH_VARINTS */
	struct field f[3];
};

#define FRAME(type, name, pkts, shape, flags) \
	{ \
		type, name, pkts, shape, flags, 0, \
		{ \
			{ \
				0 \
			} \
		} \
	}
#define VARINTS(type, name, pkts, ...) \
	{ \
		type, name, pkts, SH_VARINTS, 0, \
			sizeof((struct field[]){__VA_ARGS__}) / sizeof(struct field), \
		{ \
			__VA_ARGS__ \
		} \
	}

/* RFC 9000 §19, indexed by type (all of 0x00..0x1e are defined). */
static const struct frame_desc rfc_frames[] = {
	[0x00] = FRAME(0x00, "padding", "IH01", SH_PADDING, F_NOT_ELICITING),
	[0x01] = VARINTS(0x01, "ping", "IH01"),
	[0x02] = FRAME(0x02, "ack", "IH_1", SH_ACK, F_NOT_ELICITING),
	[0x03] = FRAME(0x03, "ack", "IH_1", SH_ACK, F_NOT_ELICITING | F_ECN),
	[0x04] = VARINTS(0x04, "reset_stream", "__01", FLD(reset_stream.stream_id, LIM_VARINT),
			 FLD(reset_stream.error_code, LIM_VARINT),
			 FLD(reset_stream.final_size, LIM_VARINT)),
	[0x05] = VARINTS(0x05, "stop_sending", "__01", FLD(stop_sending.stream_id, LIM_VARINT),
			 FLD(stop_sending.error_code, LIM_VARINT)),
	[0x06] = FRAME(0x06, "crypto", "IH_1", SH_CRYPTO, 0),
	[0x07] = FRAME(0x07, "new_token", "___1", SH_NEW_TOKEN, 0),
	[0x08 ... 0x0f] = FRAME(0x08, "stream", "__01", SH_STREAM, 0),
	[0x10] = VARINTS(0x10, "max_data", "__01", FLD(max_data.max, LIM_VARINT)),
	[0x11] = VARINTS(0x11, "max_stream_data", "__01",
			 FLD(max_stream_data.stream_id, LIM_VARINT),
			 FLD(max_stream_data.max, LIM_VARINT)),
	[0x12] = VARINTS(0x12, "max_streams", "__01", FLD(max_streams.max, LIM_STREAMS)),
	[0x13] = VARINTS(0x13, "max_streams", "__01", FLD(max_streams.max, LIM_STREAMS)),
	[0x14] = VARINTS(0x14, "data_blocked", "__01", FLD(max_data.max, LIM_VARINT)),
	[0x15] = VARINTS(0x15, "stream_data_blocked", "__01",
			 FLD(max_stream_data.stream_id, LIM_VARINT),
			 FLD(max_stream_data.max, LIM_VARINT)),
	[0x16] = VARINTS(0x16, "streams_blocked", "__01", FLD(max_streams.max, LIM_STREAMS)),
	[0x17] = VARINTS(0x17, "streams_blocked", "__01", FLD(max_streams.max, LIM_STREAMS)),
	[0x18] = FRAME(0x18, "new_connection_id", "__01", SH_NEW_CID, 0),
	[0x19] = VARINTS(0x19, "retire_connection_id", "__01", FLD(retire_cid.path_id, NOT_SENT),
			 FLD(retire_cid.seq, LIM_VARINT)),
	[0x1a] = FRAME(0x1a, "path_challenge", "__01", SH_PATH_CHALLENGE, 0),
	[0x1b] = FRAME(0x1b, "path_response", "___1", SH_PATH_CHALLENGE, 0),
	/* Only the transport close (0x1c) may end a handshake (Table 3's "ih01"). */
	[0x1c] = FRAME(0x1c, "connection_close", "IH01", SH_CLOSE, F_NOT_ELICITING | F_FRAME_TYPE),
	[0x1d] = FRAME(0x1d, "connection_close", "__01", SH_CLOSE, F_NOT_ELICITING),
	[0x1e] = VARINTS(0x1e, "handshake_done", "___1"),
};

/* draft-ietf-quic-multipath-21 "New Frames": 1-RTT only. */
static const struct frame_desc mp_frames[] = {
	FRAME(MPQ_FT_PATH_ACK, "path_ack", "___1", SH_ACK, F_NOT_ELICITING | F_PATH_ID),
	FRAME(MPQ_FT_PATH_ACK_ECN, "path_ack", "___1", SH_ACK,
	      F_NOT_ELICITING | F_PATH_ID | F_ECN),
	VARINTS(MPQ_FT_PATH_ABANDON, "path_abandon", "___1",
		FLD(path_abandon.path_id, LIM_PATH_ID), FLD(path_abandon.error_code, LIM_VARINT)),
	VARINTS(MPQ_FT_PATH_STATUS_BACKUP, "path_status_backup", "___1",
		FLD(path_status.path_id, LIM_PATH_ID), FLD(path_status.seq, LIM_VARINT)),
	VARINTS(MPQ_FT_PATH_STATUS_AVAILABLE, "path_status_available", "___1",
		FLD(path_status.path_id, LIM_PATH_ID), FLD(path_status.seq, LIM_VARINT)),
	FRAME(MPQ_FT_PATH_NEW_CONNECTION_ID, "path_new_connection_id", "___1", SH_NEW_CID,
	      F_PATH_ID),
	VARINTS(MPQ_FT_PATH_RETIRE_CONNECTION_ID, "path_retire_connection_id", "___1",
		FLD(retire_cid.path_id, LIM_PATH_ID), FLD(retire_cid.seq, LIM_VARINT)),
	VARINTS(MPQ_FT_MAX_PATH_ID, "max_path_id", "___1", FLD(max_path_id.max, LIM_PATH_ID)),
	VARINTS(MPQ_FT_PATHS_BLOCKED, "paths_blocked", "___1", FLD(max_path_id.max, LIM_PATH_ID)),
	VARINTS(MPQ_FT_PATH_CIDS_BLOCKED, "path_cids_blocked", "___1",
		FLD(path_cids_blocked.path_id, LIM_PATH_ID),
		FLD(path_cids_blocked.next_seq, LIM_VARINT)),
};

/* The ADD_ADDRESS extension (docs/add_address.md): 1-RTT only, ack-eliciting. */
static const struct frame_desc ext_frames[] = {
	FRAME(MPQ_FT_ADD_ADDRESS, "add_address", "___1", SH_ADD_ADDRESS, 0),
	VARINTS(MPQ_FT_REMOVE_ADDRESS, "remove_address", "___1",
		FLD(remove_address.seq, LIM_VARINT)),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct frame_desc *search(const struct frame_desc *t, size_t n, uint64_t type)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].type == type)
			return &t[i];
	return NULL;
}

static const struct frame_desc *find_desc(uint64_t type)
{
	if (type < COUNT(rfc_frames))
		return &rfc_frames[type];
	const struct frame_desc *d = search(mp_frames, COUNT(mp_frames), type);
	return d ? d : search(ext_frames, COUNT(ext_frames), type);
}

/* Bytes of an ADD_ADDRESS address; 0 for an IP version that is neither 4 nor 6. */
static size_t add_address_len(uint8_t ip_version)
{
	switch (ip_version) {
	case MPQ_ADD_ADDRESS_IPV4:
		return 4;
	case MPQ_ADD_ADDRESS_IPV6:
		return 16;
	default:
		return 0;
	}
}

static uint64_t *field_at(mpq_frame *fr, const struct field *f)
{
	return (uint64_t *)((char *)fr + f->off);
}

static uint64_t field_get(const mpq_frame *fr, const struct field *f)
{
	return *(const uint64_t *)((const char *)fr + f->off);
}

/*
 * Decoding. A sticky error lets each shape read straight through; the caller
 * checks once and only then moves the real reader.
 */
struct in {
	mpq_reader r;
	int err;
};

static void in_check(struct in *in, bool ok)
{
	if (!ok && in->err == 0)
		in->err = MPQ_ERR_FRAME_ENCODING;
}

/* A varint no larger than |max|, or 0 after an error. */
static uint64_t in_varint(struct in *in, uint64_t max)
{
	uint64_t v = 0;
	if (in->err == 0)
		in_check(in, mpq_read_varint(&in->r, &v) == 0 && v <= max);
	return in->err ? 0 : v;
}

static uint8_t in_u8(struct in *in)
{
	uint8_t v = 0;
	if (in->err == 0)
		in_check(in, mpq_read_u8(&in->r, &v) == 0);
	return v;
}

static uint16_t in_u16(struct in *in)
{
	uint16_t v = 0;
	if (in->err == 0)
		in_check(in, mpq_read_u16(&in->r, &v) == 0);
	return in->err ? 0 : v;
}

static void in_bytes(struct in *in, uint8_t *dst, size_t len)
{
	if (in->err == 0)
		in_check(in, mpq_read_bytes(&in->r, dst, len) == 0);
}

/* Points into the input: decoded data is never copied. */
static const uint8_t *in_span(struct in *in, uint64_t len)
{
	const uint8_t *p = NULL;
	if (in->err == 0)
		in_check(in, len <= mpq_reader_left(&in->r) &&
				     mpq_read_span(&in->r, &p, (size_t)len) == 0);
	return p;
}

/* Length-prefixed bytes (CRYPTO, STREAM with LEN, NEW_TOKEN, reason phrases). */
static const uint8_t *in_lenspan(struct in *in, size_t *len)
{
	uint64_t n = in_varint(in, LIM_VARINT);
	const uint8_t *p = in_span(in, n);
	*len = in->err ? 0 : (size_t)n;
	return p;
}

static void dec_padding(struct in *in, mpq_frame *fr, const struct frame_desc *d)
{
	/* A client's Initial is mostly padding: 8 bytes a step, then the rest. */
	const uint8_t *p = in->r.pos;
	uint64_t w;
	while (in->r.end - p >= 8 && (memcpy(&w, p, 8), w == 0))
		p += 8;
	while (p < in->r.end && *p == 0)
		p++;
	fr->padding_len = 1 + (size_t)(p - in->r.pos);
	in->r.pos = p;
}

static void dec_varints(struct in *in, mpq_frame *fr, const struct frame_desc *d)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const struct field *f = &d->f[i];
		*field_at(fr, f) = f->max == NOT_SENT ? 0 : in_varint(in, f->max);
	}
}

/* Ranges come as (gap, length) pairs below the first; each may not go below 0.
 * Ranges past MPQ_MAX_ACK_RANGES are checked the same way and dropped. */
static void dec_ack_ranges(struct in *in, mpq_frame_ack *a, uint64_t count, uint64_t smallest)
{
	for (uint64_t i = 0; i < count && in->err == 0; i++) {
		uint64_t gap = in_varint(in, LIM_VARINT);
		in_check(in, gap + 2 <= smallest);
		if (in->err)
			return;
		uint64_t largest = smallest - gap - 2;
		smallest = largest - in_varint(in, largest);
		if (in->err == 0 && a->nranges < MPQ_MAX_ACK_RANGES)
			a->ranges[a->nranges++] = (mpq_ack_range){smallest, largest};
	}
}

static void dec_ack(struct in *in, mpq_frame *fr, const struct frame_desc *d)
{
	mpq_frame_ack *a = &fr->ack;
	a->path_id = d->flags & F_PATH_ID ? in_varint(in, LIM_PATH_ID) : 0;
	uint64_t largest = in_varint(in, LIM_VARINT);
	a->ack_delay = in_varint(in, LIM_VARINT);
	uint64_t count = in_varint(in, LIM_VARINT);
	uint64_t smallest = largest - in_varint(in, largest);
	a->ranges[0] = (mpq_ack_range){smallest, largest};
	a->nranges = 1;
	dec_ack_ranges(in, a, count, smallest);
	a->ecn = d->flags & F_ECN;
	a->ect0 = a->ecn ? in_varint(in, LIM_VARINT) : 0;
	a->ect1 = a->ecn ? in_varint(in, LIM_VARINT) : 0;
	a->ce = a->ecn ? in_varint(in, LIM_VARINT) : 0;
}

/* CRYPTO and STREAM data may not reach past 2^62-1 (RFC 9000 §19.6, §19.8). */
static void in_check_data_end(struct in *in, uint64_t offset, size_t len)
{
	in_check(in, len <= LIM_VARINT - offset);
}

static void dec_crypto(struct in *in, mpq_frame *fr, const struct frame_desc *d)
{
	fr->crypto.offset = in_varint(in, LIM_VARINT);
	fr->crypto.data = in_lenspan(in, &fr->crypto.len);
	in_check_data_end(in, fr->crypto.offset, fr->crypto.len);
}

static void dec_new_token(struct in *in, mpq_frame *fr, const struct frame_desc *d)
{
	fr->new_token.token = in_lenspan(in, &fr->new_token.len);
	in_check(in, fr->new_token.len > 0);
}

static void dec_stream(struct in *in, mpq_frame *fr, const struct frame_desc *d)
{
	uint64_t type = fr->type;
	fr->stream.stream_id = in_varint(in, LIM_VARINT);
	fr->stream.offset = type & MPQ_STREAM_FLAG_OFF ? in_varint(in, LIM_VARINT) : 0;
	if (type & MPQ_STREAM_FLAG_LEN) {
		fr->stream.data = in_lenspan(in, &fr->stream.len);
	} else {
		/* Without LEN the data runs to the end of the packet. */
		fr->stream.len = mpq_reader_left(&in->r);
		fr->stream.data = in_span(in, fr->stream.len);
	}
	fr->stream.fin = type & MPQ_STREAM_FLAG_FIN;
	in_check_data_end(in, fr->stream.offset, fr->stream.len);
}

static void dec_new_cid(struct in *in, mpq_frame *fr, const struct frame_desc *d)
{
	fr->new_cid.path_id = d->flags & F_PATH_ID ? in_varint(in, LIM_PATH_ID) : 0;
	fr->new_cid.seq = in_varint(in, LIM_VARINT);
	fr->new_cid.retire_prior_to = in_varint(in, fr->new_cid.seq);
	uint8_t len = in_u8(in);
	in_check(in, len >= 1 && len <= MPQ_MAX_CIDLEN);
	fr->new_cid.cid.len = len;
	in_bytes(in, fr->new_cid.cid.data, len);
	in_bytes(in, fr->new_cid.reset_token, sizeof(fr->new_cid.reset_token));
}

static void dec_path_challenge(struct in *in, mpq_frame *fr, const struct frame_desc *d)
{
	in_bytes(in, fr->path_challenge.data, sizeof(fr->path_challenge.data));
}

static void dec_close(struct in *in, mpq_frame *fr, const struct frame_desc *d)
{
	fr->close.error_code = in_varint(in, LIM_VARINT);
	fr->close.frame_type = d->flags & F_FRAME_TYPE ? in_varint(in, LIM_VARINT) : 0;
	fr->close.reason = in_lenspan(in, &fr->close.reasonlen);
}

/* Unused address bytes are zeroed, so decoded frames compare equal with memcmp too. */
static void dec_add_address(struct in *in, mpq_frame *fr, const struct frame_desc *d)
{
	fr->add_address.seq = in_varint(in, LIM_VARINT);
	fr->add_address.ip_version = in_u8(in);
	size_t alen = add_address_len(fr->add_address.ip_version);
	in_check(in, alen > 0);
	memset(fr->add_address.addr, 0, sizeof(fr->add_address.addr));
	in_bytes(in, fr->add_address.addr, alen);
	fr->add_address.port = in_u16(in);
	in_check(in, fr->add_address.port != 0);
}

/*
 * Encoding. With w == NULL the same code only counts and validates; a value
 * decode would reject gives MPQ_ERR_INVALID_ARGUMENT.
 */
struct out {
	mpq_writer *w;
	size_t n;
	int err;
};

static void out_check(struct out *o, bool ok)
{
	if (!ok && o->err == 0)
		o->err = MPQ_ERR_INVALID_ARGUMENT;
}

static void out_varint(struct out *o, uint64_t v, uint64_t max)
{
	out_check(o, v <= max);
	if (o->err)
		return;
	o->n += mpq_varint_len(v);
	if (o->w)
		o->err = mpq_write_varint(o->w, v);
}

static void out_bytes(struct out *o, const void *p, size_t len)
{
	out_check(o, p != NULL || len == 0);
	if (o->err)
		return;
	o->n += len;
	if (o->w)
		o->err = mpq_write_bytes(o->w, p, len);
}

static void out_zeros(struct out *o, size_t len)
{
	if (o->err)
		return;
	o->n += len;
	if (!o->w)
		return;
	if (mpq_writer_left(o->w) < len) {
		o->err = MPQ_ERR_NOBUF;
		return;
	}
	memset(o->w->pos, 0, len);
	o->w->pos += len;
}

/* The type byte is the first zero of the run. */
static void enc_padding(struct out *o, const mpq_frame *fr, const struct frame_desc *d)
{
	out_check(o, fr->padding_len >= 1);
	out_zeros(o, fr->padding_len - 1);
}

static void enc_varints(struct out *o, const mpq_frame *fr, const struct frame_desc *d)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const struct field *f = &d->f[i];
		if (f->max == NOT_SENT)
			out_check(o, field_get(fr, f) == 0);
		else
			out_varint(o, field_get(fr, f), f->max);
	}
}

/* Ranges must be descending with at least one unacknowledged packet between. */
static void enc_ack_ranges(struct out *o, const mpq_frame_ack *a)
{
	const mpq_ack_range *rg = a->ranges;
	out_varint(o, rg[0].largest - rg[0].smallest, rg[0].largest);
	for (size_t i = 1; i < a->nranges && o->err == 0; i++) {
		out_check(o, rg[i].largest < rg[i - 1].smallest &&
				     rg[i - 1].smallest - rg[i].largest >= 2);
		out_varint(o, rg[i - 1].smallest - rg[i].largest - 2, LIM_VARINT);
		out_varint(o, rg[i].largest - rg[i].smallest, rg[i].largest);
	}
}

static void enc_ack(struct out *o, const mpq_frame *fr, const struct frame_desc *d)
{
	const mpq_frame_ack *a = &fr->ack;
	out_check(o, a->nranges >= 1 && a->nranges <= MPQ_MAX_ACK_RANGES);
	if (o->err)
		return;
	if (d->flags & F_PATH_ID)
		out_varint(o, a->path_id, LIM_PATH_ID);
	else
		out_check(o, a->path_id == 0);
	out_varint(o, a->ranges[0].largest, LIM_VARINT);
	out_varint(o, a->ack_delay, LIM_VARINT);
	out_varint(o, a->nranges - 1, LIM_VARINT);
	enc_ack_ranges(o, a);
	if (d->flags & F_ECN) {
		out_varint(o, a->ect0, LIM_VARINT);
		out_varint(o, a->ect1, LIM_VARINT);
		out_varint(o, a->ce, LIM_VARINT);
	} else {
		out_check(o, (a->ect0 | a->ect1 | a->ce) == 0);
	}
}

static void out_lenspan(struct out *o, const uint8_t *p, size_t len)
{
	out_varint(o, len, LIM_VARINT);
	out_bytes(o, p, len);
}

static void enc_crypto(struct out *o, const mpq_frame *fr, const struct frame_desc *d)
{
	out_varint(o, fr->crypto.offset, LIM_VARINT);
	out_check(o, fr->crypto.len <= LIM_VARINT - fr->crypto.offset);
	out_lenspan(o, fr->crypto.data, fr->crypto.len);
}

static void enc_new_token(struct out *o, const mpq_frame *fr, const struct frame_desc *d)
{
	out_check(o, fr->new_token.len > 0);
	out_lenspan(o, fr->new_token.token, fr->new_token.len);
}

/* OFF and FIN follow the fields; LEN is the caller's choice, kept in the type. */
static uint64_t stream_wire_type(const mpq_frame *fr)
{
	return MPQ_FT_STREAM | (fr->type & MPQ_STREAM_FLAG_LEN) |
	       (fr->stream.offset ? MPQ_STREAM_FLAG_OFF : 0) |
	       (fr->stream.fin ? MPQ_STREAM_FLAG_FIN : 0);
}

static void enc_stream(struct out *o, const mpq_frame *fr, const struct frame_desc *d)
{
	out_varint(o, fr->stream.stream_id, LIM_VARINT);
	if (fr->stream.offset)
		out_varint(o, fr->stream.offset, LIM_VARINT);
	out_check(o, fr->stream.len <= LIM_VARINT - fr->stream.offset);
	if (fr->type & MPQ_STREAM_FLAG_LEN)
		out_lenspan(o, fr->stream.data, fr->stream.len);
	else
		out_bytes(o, fr->stream.data, fr->stream.len);
}

static void enc_new_cid(struct out *o, const mpq_frame *fr, const struct frame_desc *d)
{
	const mpq_cid *cid = &fr->new_cid.cid;
	if (d->flags & F_PATH_ID)
		out_varint(o, fr->new_cid.path_id, LIM_PATH_ID);
	else
		out_check(o, fr->new_cid.path_id == 0);
	out_varint(o, fr->new_cid.seq, LIM_VARINT);
	out_varint(o, fr->new_cid.retire_prior_to, fr->new_cid.seq);
	out_check(o, cid->len >= 1 && cid->len <= MPQ_MAX_CIDLEN);
	out_bytes(o, &cid->len, 1);
	out_bytes(o, cid->data, cid->len);
	out_bytes(o, fr->new_cid.reset_token, sizeof(fr->new_cid.reset_token));
}

static void enc_path_challenge(struct out *o, const mpq_frame *fr, const struct frame_desc *d)
{
	out_bytes(o, fr->path_challenge.data, sizeof(fr->path_challenge.data));
}

static void enc_close(struct out *o, const mpq_frame *fr, const struct frame_desc *d)
{
	out_varint(o, fr->close.error_code, LIM_VARINT);
	if (d->flags & F_FRAME_TYPE)
		out_varint(o, fr->close.frame_type, LIM_VARINT);
	else
		out_check(o, fr->close.frame_type == 0);
	out_lenspan(o, fr->close.reason, fr->close.reasonlen);
}

static void enc_add_address(struct out *o, const mpq_frame *fr, const struct frame_desc *d)
{
	uint16_t port = fr->add_address.port;
	const uint8_t port_be[2] = {(uint8_t)(port >> 8), (uint8_t)port};
	size_t alen = add_address_len(fr->add_address.ip_version);

	out_varint(o, fr->add_address.seq, LIM_VARINT);
	out_check(o, alen > 0 && port != 0);
	out_bytes(o, &fr->add_address.ip_version, 1);
	out_bytes(o, fr->add_address.addr, alen);
	out_bytes(o, port_be, sizeof(port_be));
}

/*
 * Comparison: same wire meaning. Data is compared by content, not pointer.
 */
static bool bytes_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool eq_padding(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d)
{
	return a->padding_len == b->padding_len;
}

static bool eq_varints(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (field_get(a, &d->f[i]) != field_get(b, &d->f[i]))
			return false;
	return true;
}

static bool eq_ack(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d)
{
	const mpq_frame_ack *x = &a->ack, *y = &b->ack;
	if (x->nranges > MPQ_MAX_ACK_RANGES)
		return false;
	return x->path_id == y->path_id && x->ack_delay == y->ack_delay && x->ecn == y->ecn &&
	       x->ect0 == y->ect0 && x->ect1 == y->ect1 && x->ce == y->ce &&
	       bytes_eq(x->ranges, x->nranges * sizeof(x->ranges[0]), y->ranges,
			y->nranges * sizeof(y->ranges[0]));
}

static bool eq_crypto(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d)
{
	return a->crypto.offset == b->crypto.offset &&
	       bytes_eq(a->crypto.data, a->crypto.len, b->crypto.data, b->crypto.len);
}

static bool eq_new_token(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d)
{
	return bytes_eq(a->new_token.token, a->new_token.len, b->new_token.token,
			b->new_token.len);
}

static bool eq_stream(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d)
{
	return (a->type & MPQ_STREAM_FLAG_LEN) == (b->type & MPQ_STREAM_FLAG_LEN) &&
	       a->stream.stream_id == b->stream.stream_id &&
	       a->stream.offset == b->stream.offset && a->stream.fin == b->stream.fin &&
	       bytes_eq(a->stream.data, a->stream.len, b->stream.data, b->stream.len);
}

static bool eq_new_cid(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d)
{
	const mpq_cid *x = &a->new_cid.cid, *y = &b->new_cid.cid;
	return a->new_cid.path_id == b->new_cid.path_id && a->new_cid.seq == b->new_cid.seq &&
	       a->new_cid.retire_prior_to == b->new_cid.retire_prior_to &&
	       x->len <= MPQ_MAX_CIDLEN && bytes_eq(x->data, x->len, y->data, y->len) &&
	       memcmp(a->new_cid.reset_token, b->new_cid.reset_token, 16) == 0;
}

static bool eq_path_challenge(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d)
{
	return memcmp(a->path_challenge.data, b->path_challenge.data, 8) == 0;
}

static bool eq_close(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d)
{
	return a->close.error_code == b->close.error_code &&
	       a->close.frame_type == b->close.frame_type &&
	       bytes_eq(a->close.reason, a->close.reasonlen, b->close.reason, b->close.reasonlen);
}

/* Only the bytes the IP version puts on the wire count. */
static bool eq_add_address(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d)
{
	return a->add_address.seq == b->add_address.seq &&
	       a->add_address.ip_version == b->add_address.ip_version &&
	       a->add_address.port == b->add_address.port &&
	       memcmp(a->add_address.addr, b->add_address.addr,
		      add_address_len(a->add_address.ip_version)) == 0;
}

struct shape_ops {
	void (*decode)(struct in *in, mpq_frame *fr, const struct frame_desc *d);
	void (*encode)(struct out *o, const mpq_frame *fr, const struct frame_desc *d);
	bool (*equal)(const mpq_frame *a, const mpq_frame *b, const struct frame_desc *d);
};

static const struct shape_ops shapes[] = {
	[SH_PADDING] = {dec_padding, enc_padding, eq_padding},
	[SH_VARINTS] = {dec_varints, enc_varints, eq_varints},
	[SH_ACK] = {dec_ack, enc_ack, eq_ack},
	[SH_CRYPTO] = {dec_crypto, enc_crypto, eq_crypto},
	[SH_NEW_TOKEN] = {dec_new_token, enc_new_token, eq_new_token},
	[SH_STREAM] = {dec_stream, enc_stream, eq_stream},
	[SH_NEW_CID] = {dec_new_cid, enc_new_cid, eq_new_cid},
	[SH_PATH_CHALLENGE] = {dec_path_challenge, enc_path_challenge, eq_path_challenge},
	[SH_CLOSE] = {dec_close, enc_close, eq_close},
	[SH_ADD_ADDRESS] = {dec_add_address, enc_add_address, eq_add_address},
};

int mpq_frame_decode(mpq_frame *fr, mpq_reader *r)
{
	struct in in = {*r, 0};
	uint64_t type;
	/* RFC 9000 §12.4: frame types use the shortest encoding. */
	if (mpq_read_varint(&in.r, &type) != 0 ||
	    (size_t)(in.r.pos - r->pos) != mpq_varint_len(type))
		return MPQ_ERR_FRAME_ENCODING;
	const struct frame_desc *d = find_desc(type);
	if (!d)
		return MPQ_ERR_FRAME_ENCODING;
	fr->type = type;
	shapes[d->shape].decode(&in, fr, d);
	if (in.err)
		return in.err;
	*r = in.r;
	return 0;
}

static int emit(struct out *o, const mpq_frame *fr)
{
	const struct frame_desc *d = find_desc(fr->type);
	if (!d)
		return MPQ_ERR_INVALID_ARGUMENT;
	out_varint(o, d->shape == SH_STREAM ? stream_wire_type(fr) : fr->type, LIM_VARINT);
	shapes[d->shape].encode(o, fr, d);
	return o->err;
}

size_t mpq_frame_encoded_len(const mpq_frame *fr)
{
	struct out o = {NULL, 0, 0};
	return emit(&o, fr) == 0 ? o.n : 0;
}

/* Measures first, so a frame is either written whole or not at all. */
int mpq_frame_encode(mpq_writer *w, const mpq_frame *fr)
{
	struct out o = {NULL, 0, 0};
	int rv = emit(&o, fr);
	if (rv != 0)
		return rv;
	if (o.n > mpq_writer_left(w))
		return MPQ_ERR_NOBUF;
	o = (struct out){w, 0, 0};
	return emit(&o, fr);
}

bool mpq_frame_equal(const mpq_frame *a, const mpq_frame *b)
{
	const struct frame_desc *d = find_desc(a->type), *e = find_desc(b->type);
	/* All STREAM types share one descriptor type (0x08). */
	if (!d || !e || d->type != e->type)
		return false;
	return shapes[d->shape].equal(a, b, d);
}

size_t mpq_frame_stream_overhead(uint64_t stream_id, uint64_t offset, size_t len)
{
	return 1 + mpq_varint_len(stream_id) + (offset ? mpq_varint_len(offset) : 0) +
	       mpq_varint_len(len);
}

bool mpq_frame_is_ack_eliciting(uint64_t type)
{
	const struct frame_desc *d = find_desc(type);
	return !d || !(d->flags & F_NOT_ELICITING);
}

bool mpq_frame_allowed_in(uint64_t type, int pkt_type)
{
	const struct frame_desc *d = find_desc(type);
	int col;
	switch (pkt_type) {
	case MPQ_PKT_INITIAL:
		col = 0;
		break;
	case MPQ_PKT_HANDSHAKE:
		col = 1;
		break;
	case MPQ_PKT_0RTT:
		col = 2;
		break;
	case MPQ_PKT_1RTT:
		col = 3;
		break;
	default:
		return false;
	}
	return d && d->pkts[col] != '_';
}

const char *mpq_frame_name(uint64_t type)
{
	const struct frame_desc *d = find_desc(type);
	return d ? d->name : "unknown";
}
