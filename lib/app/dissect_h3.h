/*
 * The HTTP/3 dissector's qlog events (dissect_h3_qlog.c), written for one
 * stream of a capture: frames sent by the client are http3:frame_created,
 * those sent by the server http3:frame_parsed (the network vantage point's
 * client flow, as quic:packet_sent and quic:packet_received).
 */
#ifndef MPQ_APP_DISSECT_H3_H
#define MPQ_APP_DISSECT_H3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/qlog.h"

/* Huffman-coded strings of one field section, decoded (at most 8/5 of the
 * MPQ_H3_MAX_BUFFERED bytes they come in). */
#define MPQ_DISSECT_H3_SCRATCH (2 * 16384)

struct mpq_dissect_h3_ev {
	mpq_qlog *q;
	uint64_t ts;
	uint64_t stream_id;
	int dir;
	uint8_t *scratch; /* MPQ_DISSECT_H3_SCRATCH bytes */
	int err;	  /* the sink's first error */
};

/* http3:stream_type_set for a unidirectional stream of |type|. */
void mpq_dissect_h3_ev_stream_type(struct mpq_dissect_h3_ev *e, uint64_t type);
/* A frame buffered whole by the reader (any type but DATA); returns 0 or the
 * HTTP/3 error its payload has (it is logged as far as it parsed). */
uint64_t mpq_dissect_h3_ev_frame(struct mpq_dissect_h3_ev *e, uint64_t type,
				 const uint8_t *payload, size_t len);
/* A DATA frame's header: its payload length. */
void mpq_dissect_h3_ev_data(struct mpq_dissect_h3_ev *e, uint64_t len);
/* loglevel:warning: the rest of the stream is not parsed, because of |code|
 * (an HTTP/3 error code, or 0) and |why|. */
void mpq_dissect_h3_ev_warning(struct mpq_dissect_h3_ev *e, uint64_t code, const char *why);

#endif
