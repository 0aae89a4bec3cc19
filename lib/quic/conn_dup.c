/*
 * The redundant path scheduler's copies: stream data sent on one path is sent
 * again on every other active path (the scheduler's ops->duplicate). Each
 * STREAM frame sent once leaves a record with the set of paths still owed a
 * copy; those paths take copies from the stream's send buffer as their
 * congestion windows allow. A copy of bytes already acknowledged is skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "quic/conn.h"

static bool redundant(const mpq_conn *conn)
{
	return conn->psched.ops->duplicate && mpq_conn_multipath(conn);
}

void mpq_conn_dup_on_sent(mpq_conn *conn, const mpq_conn_path *p, const mpq_frame_rec *r)
{
	if (!redundant(conn) || r->kind != MPQ_REC_STREAM)
		return;
	uint32_t mask = 0;
	for (size_t i = 0; i < conn->npaths; i++)
		if (conn->paths[i]->state == MPQ_PATH_ACTIVE && conn->paths[i] != p)
			mask |= 1u << i;
	if (!mask || conn->ndups == MPQ_DUP_MAX)
		return; /* no other path, or too far behind: the first copy will do */
	if (!conn->dups && !(conn->dups = calloc(MPQ_DUP_MAX, sizeof(*conn->dups))))
		return; /* no memory for the records: the first copy will do too */
	struct mpq_dup *d = &conn->dups[(conn->dup_head + conn->ndups++) % MPQ_DUP_MAX];
	d->rec = *r;
	d->mask = mask;
}

/* Drops records no path owes any more, from the front. */
static void trim(mpq_conn *conn)
{
	while (conn->ndups && conn->dups[conn->dup_head].mask == 0) {
		conn->dup_head = (conn->dup_head + 1) % MPQ_DUP_MAX;
		conn->ndups--;
	}
}

bool mpq_conn_dup_owed(mpq_conn *conn, const mpq_conn_path *p)
{
	uint32_t bit = 1u << mpq_conn_slot_index(conn, p);
	for (size_t i = 0; i < conn->ndups; i++)
		if (conn->dups[(conn->dup_head + i) % MPQ_DUP_MAX].mask & bit)
			return true;
	return false;
}

size_t mpq_conn_write_dups(mpq_conn *conn, mpq_conn_path *p, mpq_writer *w, mpq_frame_rec *recs,
			   size_t maxrecs, bool *ack_eliciting)
{
	uint32_t bit = 1u << mpq_conn_slot_index(conn, p);
	size_t n = 0;
	for (size_t i = 0; i < conn->ndups && n < maxrecs; i++) {
		struct mpq_dup *d = &conn->dups[(conn->dup_head + i) % MPQ_DUP_MAX];
		if (!(d->mask & bit))
			continue;
		mpq_stream *s = mpq_streams_find(&conn->streams, (int64_t)d->rec.id);
		uint64_t off = d->rec.offset, end = off + d->rec.len, rec_end = end;
		if (!s ||
		    (s->send_state != MPQ_SEND_OPEN && s->send_state != MPQ_SEND_FIN_WRITTEN) ||
		    end < s->s_acked || (end == s->s_acked && !d->rec.fin)) {
			d->mask &= ~bit; /* acknowledged or gone: nothing to copy */
			continue;
		}
		if (off < s->s_acked)
			off = s->s_acked;
		size_t len = (size_t)(end - off), contiguous = 0;
		const uint8_t *data = len ? mpq_sendbuf_at(&s->sbuf, off, &contiguous) : NULL;
		if (len && !data) {
			d->mask &= ~bit; /* its chunk is acknowledged whole */
			continue;
		}
		if (len > contiguous)
			len = contiguous;
		size_t room = mpq_writer_left(w);
		size_t overhead = mpq_frame_stream_overhead((uint64_t)s->id, off, len);
		if (room <= overhead + 1 && len)
			break;
		if (len > room - overhead) {
			/* The rest of this copy is owed by this path alone. */
			size_t fit = room - overhead;
			if (conn->ndups < MPQ_DUP_MAX) {
				struct mpq_dup *rest =
					&conn->dups[(conn->dup_head + conn->ndups++) %
						    MPQ_DUP_MAX];
				rest->rec = d->rec;
				rest->rec.offset = off + fit;
				rest->rec.len = (uint32_t)(end - off - fit);
				rest->mask = bit;
			}
			len = fit;
			end = off + len;
		}
		mpq_frame fr = {.type = MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN};
		fr.stream.stream_id = (uint64_t)s->id;
		fr.stream.offset = off;
		fr.stream.data = data;
		fr.stream.len = len;
		/* FIN only on the piece that reaches the record's end. */
		fr.stream.fin = d->rec.fin && off + len == rec_end;
		if (mpq_frame_encode(w, &fr) != 0)
			break;
		recs[n++] = (mpq_frame_rec){.kind = MPQ_REC_STREAM,
					    .id = (uint64_t)s->id,
					    .offset = off,
					    .len = (uint32_t)len,
					    .fin = fr.stream.fin};
		d->mask &= ~bit;
		*ack_eliciting = true;
	}
	trim(conn);
	return n;
}

void mpq_conn_dup_forget_path(mpq_conn *conn, const mpq_conn_path *p)
{
	uint32_t bit = 1u << mpq_conn_slot_index(conn, p);
	for (size_t i = 0; i < conn->ndups; i++)
		conn->dups[(conn->dup_head + i) % MPQ_DUP_MAX].mask &= ~bit;
	trim(conn);
}
