/*
 * Transport parameters on the wire (RFC 9000 §18, extension 0x39 in TLS):
 * encode, decode with validation. The struct is public: mpq/mpq.h.
 */
#ifndef MPQ_TPARAMS_H
#define MPQ_TPARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/mpq.h"

#define MPQ_TP_ORIGINAL_DCID 0x00
#define MPQ_TP_MAX_IDLE_TIMEOUT 0x01
#define MPQ_TP_STATELESS_RESET_TOKEN 0x02
#define MPQ_TP_MAX_UDP_PAYLOAD_SIZE 0x03
#define MPQ_TP_INITIAL_MAX_DATA 0x04
#define MPQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL 0x05
#define MPQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE 0x06
#define MPQ_TP_INITIAL_MAX_STREAM_DATA_UNI 0x07
#define MPQ_TP_INITIAL_MAX_STREAMS_BIDI 0x08
#define MPQ_TP_INITIAL_MAX_STREAMS_UNI 0x09
#define MPQ_TP_ACK_DELAY_EXPONENT 0x0a
#define MPQ_TP_MAX_ACK_DELAY 0x0b
#define MPQ_TP_DISABLE_ACTIVE_MIGRATION 0x0c
#define MPQ_TP_PREFERRED_ADDRESS 0x0d
#define MPQ_TP_ACTIVE_CONNECTION_ID_LIMIT 0x0e
#define MPQ_TP_INITIAL_SCID 0x0f
#define MPQ_TP_RETRY_SCID 0x10
#define MPQ_TP_INITIAL_MAX_PATH_ID 0x3e
/* ADD_ADDRESS extension (docs/add_address.md): unregistered, empty value. */
#define MPQ_TP_ADD_ADDRESS 0x0addad00ULL

/* Encodes the parameters an endpoint sends; server-only ones are written only
 * when |is_server|, and defaults are omitted. Returns bytes written,
 * MPQ_ERR_NOBUF or MPQ_ERR_INVALID_ARGUMENT (a value out of range). */
int mpq_tparams_encode(uint8_t *buf, size_t cap, const mpq_tparams *tp, bool is_server);

/* Decodes the peer's parameters into |tp| (defaults first). |from_server| says
 * who sent them. Unknown parameters (and GREASE) are skipped. Returns 0 or
 * MPQ_ERR_TRANSPORT_PARAM for: truncation, a duplicate, a server-only parameter
 * from a client, a value out of range (max_udp_payload_size < 1200,
 * ack_delay_exponent > 20, max_ack_delay ≥ 2^14, active_connection_id_limit < 2,
 * initial_max_streams_* > 2^60, initial_max_path_id > 2^32-1, a CID over 20 bytes,
 * a bad preferred_address (zero-length CID)), or a value whose length does not
 * match its encoding (add_address and disable_active_migration: not empty). */
int mpq_tparams_decode(mpq_tparams *tp, const uint8_t *data, size_t len, bool from_server);

#endif
