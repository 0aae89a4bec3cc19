/*
 * qlog of dissected packets (mpq/dissect.h), by the endpoints' qlog writer
 * with the network vantage point. The public frames are decoded again from
 * their bytes into the writer's frames: one decoder, and no public layout
 * has to match a private one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/dissect.h"
#include "quic/frame.h"
#include "quic/packet.h"
#include "quic/qlog.h"

int mpq_dissect_qlog_open(mpq_qlog **out, const mpq_qlog_sink *sink, const mpq_cid *odcid,
			  const char *title, uint64_t ref_ts)
{
	return mpq_qlog_open(out, sink, MPQ_QLOG_VP_NETWORK, odcid, title, ref_ts);
}

int mpq_dissect_qlog_close(mpq_qlog *q)
{
	return mpq_qlog_close(q);
}

int mpq_dissect_qlog_path(mpq_qlog *q, uint64_t ts, uint32_t path_id,
			  const struct sockaddr *client, const struct sockaddr *server)
{
	char id[16], cbuf[MPQ_QLOG_ADDRSTRLEN], sbuf[MPQ_QLOG_ADDRSTRLEN];
	mpq_qlog_endpoint local = {0}, remote = {0};
	int rv;

	snprintf(id, sizeof(id), "%u", path_id);
	if (!client && !server)
		return mpq_qlog_tuple_assigned(q, ts, id, NULL, NULL);
	if (!client || !server)
		return MPQ_ERR_INVALID_ARGUMENT;
	rv = mpq_qlog_endpoint_addr(&local, cbuf, sizeof(cbuf), client);
	if (!rv)
		rv = mpq_qlog_endpoint_addr(&remote, sbuf, sizeof(sbuf), server);
	return rv ? rv : mpq_qlog_tuple_assigned(q, ts, id, &local, &remote);
}

/* The writer's header for |hd|; |pkt| holds the cids it points to. */
static void qlog_hdr(mpq_qlog_hdr *h, mpq_pkt_hd *pkt, const mpq_dissect_hdr *hd)
{
	*pkt = (mpq_pkt_hd){
		.type = hd->type,
		.first = hd->first,
		.version = hd->version,
		.dcid = hd->dcid,
		.scid = hd->scid,
		.len = hd->len,
		.pn_offset = hd->pn_offset,
		.pktlen = hd->pktlen,
		.pn = hd->pn,
		.pn_len = hd->pn_len,
		.key_phase = hd->key_phase,
	};
	mpq_qlog_hdr_from_pkt(h, pkt);
}

#define FRAMES_ON_STACK 16

int mpq_dissect_qlog_packet(mpq_qlog *q, uint64_t ts, int dir, const mpq_dissect_hdr *hd,
			    int64_t path_id, const mpq_dissect_frame *frames, size_t nframes)
{
	mpq_frame small[FRAMES_ON_STACK], *fr = small;
	mpq_qlog_hdr h;
	mpq_pkt_hd pkt;
	size_t n = 0;
	int rv;

	if (!hd || (!frames && nframes))
		return MPQ_ERR_INVALID_ARGUMENT;
	if (nframes > FRAMES_ON_STACK) {
		fr = malloc(nframes * sizeof(*fr));
		if (!fr)
			return MPQ_ERR_NOMEM;
	}
	for (size_t i = 0; i < nframes; i++) {
		mpq_reader r;

		if (frames[i].extension)
			continue;
		mpq_reader_init(&r, frames[i].raw, frames[i].rawlen);
		if (mpq_frame_decode(&fr[n], &r) == 0)
			n++;
	}
	qlog_hdr(&h, &pkt, hd);
	if (dir == MPQ_DISSECT_TO_SERVER)
		rv = mpq_qlog_packet_sent(q, ts, &h, path_id, n ? fr : NULL, n, NULL);
	else
		rv = mpq_qlog_packet_received(q, ts, &h, path_id, n ? fr : NULL, n, NULL);
	if (fr != small)
		free(fr);
	return rv;
}

int mpq_dissect_qlog_dropped(mpq_qlog *q, uint64_t ts, const mpq_dissect_hdr *hd, int64_t path_id,
			     const char *trigger)
{
	mpq_qlog_hdr h;
	mpq_pkt_hd pkt;

	if (!hd)
		return mpq_qlog_packet_dropped(q, ts, NULL, path_id, trigger);
	qlog_hdr(&h, &pkt, hd);
	return mpq_qlog_packet_dropped(q, ts, &h, path_id, trigger);
}
