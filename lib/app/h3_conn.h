/*
 * The connection-wide part of HTTP/3 (RFC 9114 §6.2): our control stream with
 * its SETTINGS, and the peer's unidirectional streams (control, QPACK encoder
 * and decoder; others are stopped). Shared by the server (hq_server.c) and
 * the client (hq_client.c), which hand it the callbacks of unidirectional
 * streams. Connection errors close the connection with their HTTP/3 code.
 */
#ifndef MPQ_APP_H3_CONN_H
#define MPQ_APP_H3_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "app/h3_frame.h"
#include "mpq/conn.h"
#include "mpq/hq.h"

/* Largest field section we accept (SETTINGS_MAX_FIELD_SECTION_SIZE). */
#define MPQ_H3_MAX_FIELD_SECTION 16384

struct mpq_h3_uni;

struct mpq_h3_conn {
	mpq_conn *conn;
	int64_t ctrl_out; /* our control stream, -1 when it could not be opened */
	uint8_t out[64];  /* its stream type and SETTINGS, until all was taken */
	size_t out_len, out_sent;
	int64_t ctrl_in, qenc_in, qdec_in; /* the peer's, -1 until seen */
	struct mpq_h3_reader ctrl;	   /* frames of the peer's control stream */
	bool settings_in;		   /* its first frame, SETTINGS, came */
	struct mpq_h3_settings peer;
	bool qdec_cont; /* inside a multi-byte integer on the decoder stream */
	bool goaway_in;
	uint64_t goaway_id;
	int64_t max_request; /* server: the highest request stream seen, -1 */
	/* Client: told of the peer's GOAWAY (requests from stream |id| on
	 * were not and will not be processed). */
	void (*on_goaway)(void *user_data, mpq_conn *conn, uint64_t id);
	void *goaway_user_data;
	bool failed;		    /* we closed the connection */
	bool goaway_out;	    /* we sent GOAWAY */
	struct mpq_h3_uni *pending; /* peer streams whose type is still coming */
	struct mpq_h3_conn *next;
};

/* Is |conn|'s negotiated ALPN "h3"? */
bool mpq_h3_conn_is_h3(const mpq_conn *conn);

/* The HTTP/3 state of |conn| from |*list|, made (opening our control stream
 * and writing SETTINGS) when there is none yet. NULL when out of memory (the
 * connection is closed). */
struct mpq_h3_conn *mpq_h3_conn_get(struct mpq_h3_conn **list, mpq_conn *conn);
/* Frees the state of |conn| (if any), e.g. before mpq_conn_del. */
void mpq_h3_conn_release(struct mpq_h3_conn **list, mpq_conn *conn);
/* Frees every state of |*list|. */
void mpq_h3_conn_free_all(struct mpq_h3_conn **list);

/* Closes the connection with |code| (once). */
void mpq_h3_conn_fail(struct mpq_h3_conn *h, uint64_t code, const char *why);

/* Stream callbacks of unidirectional streams (the caller checked the ID). */
void mpq_h3_conn_uni_data(struct mpq_h3_conn *h, int64_t id, uint64_t offset, const uint8_t *data,
			  size_t len, bool fin);
void mpq_h3_conn_uni_reset(struct mpq_h3_conn *h, int64_t id);
/* Server: sends GOAWAY on our control stream (once). */
void mpq_h3_conn_goaway(struct mpq_h3_conn *h);

/* Our control stream became writable, or the peer stopped it. */
void mpq_h3_conn_writable(struct mpq_h3_conn *h, int64_t id);
void mpq_h3_conn_stopped(struct mpq_h3_conn *h, int64_t id);

/* A frame a request stream may not carry (control-stream frames; a
 * PUSH_PROMISE we never allowed): the error to close the connection with,
 * 0 when |type| may come on a request stream. */
uint64_t mpq_h3_request_frame_check(uint64_t type, bool server);

#endif
