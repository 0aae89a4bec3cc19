/*
 * Frames of a decrypted payload for mpq/dissect.h: decoded by the core's
 * frame decoder and copied into the public struct; a few frames of other
 * stacks' extensions that the core does not negotiate are skipped by size.
 */
#include <string.h>

#include "mpq/dissect.h"
#include "quic/frame.h"
#include "quic/wire.h"

/* Extension frames: all varints, so they are sized by count. picoquic sends
 * the first and the last. */
static const struct {
	uint64_t type;
	int nvarints;
	const char *name;
} ext_frames[] = {
	{MPQ_FT_ACK_FREQUENCY, 4, "ack_frequency"},
	{MPQ_FT_IMMEDIATE_ACK, 0, "immediate_ack"},
	{MPQ_FT_TIME_STAMP, 1, "time_stamp"},
};
#define NEXT (sizeof(ext_frames) / sizeof(ext_frames[0]))

static int ext_index(uint64_t type)
{
	for (size_t i = 0; i < NEXT; i++)
		if (ext_frames[i].type == type)
			return (int)i;
	return -1;
}

const char *mpq_dissect_frame_name(uint64_t type)
{
	int i = ext_index(type);

	return i >= 0 ? ext_frames[i].name : mpq_frame_name(type);
}

/* Skips an extension frame at |r|: 0, or -1 with |r| unchanged. */
static int extension(mpq_reader *r, uint64_t *type)
{
	mpq_reader x = *r;
	uint64_t v;
	int i;

	if (mpq_read_varint(&x, type) || (i = ext_index(*type)) < 0)
		return -1;
	for (int k = 0; k < ext_frames[i].nvarints; k++)
		if (mpq_read_varint(&x, &v))
			return -1;
	*r = x;
	return 0;
}

static void copy_ack(mpq_dissect_frame *o, const mpq_frame_ack *a)
{
	o->ack.path_id = a->path_id;
	o->ack.ack_delay = a->ack_delay;
	o->ack.nranges = a->nranges;
	for (size_t i = 0; i < a->nranges; i++) {
		o->ack.ranges[i].smallest = a->ranges[i].smallest;
		o->ack.ranges[i].largest = a->ranges[i].largest;
	}
	o->ack.ecn = a->ecn;
	o->ack.ect0 = a->ect0;
	o->ack.ect1 = a->ect1;
	o->ack.ce = a->ce;
}

/* The public fields of |f|. */
static void copy_frame(mpq_dissect_frame *o, const mpq_frame *f)
{
	switch (f->type) {
	case MPQ_FT_PADDING:
		o->padding_len = f->padding_len;
		break;
	case MPQ_FT_ACK:
	case MPQ_FT_ACK_ECN:
	case MPQ_FT_PATH_ACK:
	case MPQ_FT_PATH_ACK_ECN:
		copy_ack(o, &f->ack);
		break;
	case MPQ_FT_RESET_STREAM:
		o->reset_stream.stream_id = f->reset_stream.stream_id;
		o->reset_stream.error_code = f->reset_stream.error_code;
		o->reset_stream.final_size = f->reset_stream.final_size;
		break;
	case MPQ_FT_STOP_SENDING:
		o->stop_sending.stream_id = f->stop_sending.stream_id;
		o->stop_sending.error_code = f->stop_sending.error_code;
		break;
	case MPQ_FT_CRYPTO:
		o->crypto.offset = f->crypto.offset;
		o->crypto.data = f->crypto.data;
		o->crypto.len = f->crypto.len;
		break;
	case MPQ_FT_NEW_TOKEN:
		o->new_token.token = f->new_token.token;
		o->new_token.len = f->new_token.len;
		break;
	case MPQ_FT_MAX_DATA:
	case MPQ_FT_DATA_BLOCKED:
		o->max.max = f->max_data.max;
		break;
	case MPQ_FT_MAX_STREAM_DATA:
	case MPQ_FT_STREAM_DATA_BLOCKED:
		o->max.stream_id = f->max_stream_data.stream_id;
		o->max.max = f->max_stream_data.max;
		break;
	case MPQ_FT_MAX_STREAMS_BIDI:
	case MPQ_FT_MAX_STREAMS_UNI:
	case MPQ_FT_STREAMS_BLOCKED_BIDI:
	case MPQ_FT_STREAMS_BLOCKED_UNI:
		o->max.max = f->max_streams.max;
		break;
	case MPQ_FT_MAX_PATH_ID:
	case MPQ_FT_PATHS_BLOCKED:
		o->max.max = f->max_path_id.max;
		break;
	case MPQ_FT_NEW_CONNECTION_ID:
	case MPQ_FT_PATH_NEW_CONNECTION_ID:
		o->new_cid.path_id = f->new_cid.path_id;
		o->new_cid.seq = f->new_cid.seq;
		o->new_cid.retire_prior_to = f->new_cid.retire_prior_to;
		o->new_cid.cid = f->new_cid.cid;
		memcpy(o->new_cid.reset_token, f->new_cid.reset_token, 16);
		break;
	case MPQ_FT_RETIRE_CONNECTION_ID:
	case MPQ_FT_PATH_RETIRE_CONNECTION_ID:
		o->retire_cid.path_id = f->retire_cid.path_id;
		o->retire_cid.seq = f->retire_cid.seq;
		break;
	case MPQ_FT_PATH_CHALLENGE:
	case MPQ_FT_PATH_RESPONSE:
		memcpy(o->path_challenge.data, f->path_challenge.data, 8);
		break;
	case MPQ_FT_CONNECTION_CLOSE:
	case MPQ_FT_CONNECTION_CLOSE_APP:
		o->close.error_code = f->close.error_code;
		o->close.frame_type = f->close.frame_type;
		o->close.reason = f->close.reason;
		o->close.reasonlen = f->close.reasonlen;
		break;
	case MPQ_FT_PATH_ABANDON:
		o->path_abandon.path_id = f->path_abandon.path_id;
		o->path_abandon.error_code = f->path_abandon.error_code;
		break;
	case MPQ_FT_PATH_STATUS_BACKUP:
	case MPQ_FT_PATH_STATUS_AVAILABLE:
		o->path_status.path_id = f->path_status.path_id;
		o->path_status.seq = f->path_status.seq;
		break;
	case MPQ_FT_PATH_CIDS_BLOCKED:
		o->path_cids_blocked.path_id = f->path_cids_blocked.path_id;
		o->path_cids_blocked.next_seq = f->path_cids_blocked.next_seq;
		break;
	case MPQ_FT_ADD_ADDRESS:
		o->add_address.seq = f->add_address.seq;
		o->add_address.ip_version = f->add_address.ip_version;
		memcpy(o->add_address.addr, f->add_address.addr, 16);
		o->add_address.port = f->add_address.port;
		break;
	case MPQ_FT_REMOVE_ADDRESS:
		o->remove_address.seq = f->remove_address.seq;
		break;
	default:
		if ((f->type & ~7ULL) == MPQ_FT_STREAM) {
			o->stream.stream_id = f->stream.stream_id;
			o->stream.offset = f->stream.offset;
			o->stream.data = f->stream.data;
			o->stream.len = f->stream.len;
			o->stream.fin = f->stream.fin;
		}
	}
}

void mpq_dissect_frames_init(mpq_dissect_frames *it, const uint8_t *payload, size_t len)
{
	it->pos = payload;
	it->end = payload ? payload + len : payload;
}

int mpq_dissect_frame_next(mpq_dissect_frames *it, mpq_dissect_frame *fr)
{
	mpq_reader r;
	mpq_frame f;

	if (!it || !fr)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (it->pos == it->end)
		return 0;
	mpq_reader_init(&r, it->pos, (size_t)(it->end - it->pos));
	memset(fr, 0, sizeof(*fr));
	if (mpq_frame_decode(&f, &r) == 0) {
		fr->type = f.type;
		fr->ack_eliciting = mpq_frame_is_ack_eliciting(f.type);
		copy_frame(fr, &f);
	} else if (extension(&r, &fr->type) == 0) {
		fr->extension = true;
		fr->ack_eliciting = true;
	} else {
		return MPQ_ERR_FRAME_ENCODING;
	}
	fr->raw = it->pos;
	fr->rawlen = (size_t)(r.pos - it->pos);
	it->pos = r.pos;
	return 1;
}
