/*
 * mpquic public API: error values, QUIC constants and the types every layer shares.
 *
 * Library functions return 0 (or a byte count) on success and a negative
 * MPQ_ERR_* on failure. QUIC wire error codes (MPQ_TE_*) are a separate
 * uint64_t space, never mixed with library errors.
 */
#ifndef MPQ_MPQ_H
#define MPQ_MPQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MPQ_EXPORT __attribute__((visibility("default")))

/* Library errors. Values below MPQ_ERR_FATAL end the connection or object. */
enum {
	MPQ_ERR_INVALID_ARGUMENT = -201,
	MPQ_ERR_NOBUF = -202,		/* output buffer too small */
	MPQ_ERR_TRUNCATED = -203,	/* input ended before the value did */
	MPQ_ERR_FRAME_ENCODING = -204,	/* malformed frame */
	MPQ_ERR_PROTO = -205,		/* peer broke a protocol rule */
	MPQ_ERR_TRANSPORT_PARAM = -206, /* bad transport parameters */
	MPQ_ERR_DECRYPT = -207,		/* AEAD tag did not verify */
	MPQ_ERR_INVALID_PACKET = -208,	/* packet cannot be parsed; drop it */
	MPQ_ERR_UNKNOWN_VERSION = -209, /* long header with a version we lack */
	MPQ_ERR_FLOW_CONTROL = -210,
	MPQ_ERR_STREAM_LIMIT = -211,
	MPQ_ERR_STREAM_STATE = -212,
	MPQ_ERR_FINAL_SIZE = -213,
	MPQ_ERR_CRYPTO = -214,	      /* TLS alert; the alert is kept on the connection */
	MPQ_ERR_CRYPTO_BUFFER = -215, /* too much buffered handshake data */
	MPQ_ERR_CONNECTION_ID_LIMIT = -216,
	MPQ_ERR_AEAD_LIMIT = -217,
	MPQ_ERR_CLOSING = -218, /* connection is closing; nothing more to send */
	MPQ_ERR_DRAINING = -219,
	MPQ_ERR_IDLE_CLOSE = -220,
	MPQ_ERR_HANDSHAKE_TIMEOUT = -221,
	MPQ_ERR_VERSION_NEGOTIATION = -223,
	MPQ_ERR_STATELESS_RESET = -224,
	MPQ_ERR_NOT_FOUND = -225,
	MPQ_ERR_KEY_UPDATE = -226, /* the peer updated its keys twice without waiting */
	MPQ_ERR_FATAL = -500,
	MPQ_ERR_NOMEM = -501,
	MPQ_ERR_TLS = -502, /* the TLS library failed (not the peer) */
	MPQ_ERR_INTERNAL = -503,
	MPQ_ERR_CALLBACK_FAILURE = -504,
};

/* QUIC transport error codes (RFC 9000 §20.1), carried in CONNECTION_CLOSE. */
#define MPQ_TE_NO_ERROR 0x0ULL
#define MPQ_TE_INTERNAL_ERROR 0x1ULL
#define MPQ_TE_CONNECTION_REFUSED 0x2ULL
#define MPQ_TE_FLOW_CONTROL_ERROR 0x3ULL
#define MPQ_TE_STREAM_LIMIT_ERROR 0x4ULL
#define MPQ_TE_STREAM_STATE_ERROR 0x5ULL
#define MPQ_TE_FINAL_SIZE_ERROR 0x6ULL
#define MPQ_TE_FRAME_ENCODING_ERROR 0x7ULL
#define MPQ_TE_TRANSPORT_PARAMETER_ERROR 0x8ULL
#define MPQ_TE_CONNECTION_ID_LIMIT_ERROR 0x9ULL
#define MPQ_TE_PROTOCOL_VIOLATION 0xaULL
#define MPQ_TE_INVALID_TOKEN 0xbULL
#define MPQ_TE_APPLICATION_ERROR 0xcULL
#define MPQ_TE_CRYPTO_BUFFER_EXCEEDED 0xdULL
#define MPQ_TE_KEY_UPDATE_ERROR 0xeULL
#define MPQ_TE_AEAD_LIMIT_REACHED 0xfULL
#define MPQ_TE_NO_VIABLE_PATH 0x10ULL
#define MPQ_TE_CRYPTO_ERROR 0x100ULL /* + TLS alert */

/* QUIC versions. */
#define MPQ_VERSION_1 0x00000001u
#define MPQ_VERSION_2 0x6b3343cfu

#define MPQ_MAX_CIDLEN 20
#define MPQ_MIN_INITIAL_DATAGRAM 1200
#define MPQ_MAX_VARINT ((1ULL << 62) - 1)

/* A connection ID. */
typedef struct mpq_cid {
	uint8_t len;
	uint8_t data[MPQ_MAX_CIDLEN];
} mpq_cid;

/* Fills |dest| with |len| random bytes. Injected so tests are deterministic. */
typedef void (*mpq_rand_fn)(uint8_t *dest, size_t len, void *user_data);

/* Versioned configuration structs (as ngtcp2's settings and callbacks): each
 * struct a caller fills and passes in starts with a struct_version field,
 * which its *_default() function sets to the version the caller was built
 * with (MPQ_<STRUCT>_VERSION). The library reads only the fields that version
 * has and rejects a version it does not know with MPQ_ERR_INVALID_ARGUMENT
 * (or NULL), so a struct from an older or newer header is never read past its
 * end. Fill such a struct with its *_default() (or set struct_version to the
 * MPQ_<STRUCT>_VERSION macro in an initializer), never with memset alone. */

/* Log callback: the library prints nothing on its own. */
typedef void (*mpq_log_fn)(void *user_data, int level, const char *msg);

/* Transport parameters (RFC 9000 §18.2, multipath draft-21 §2.1) as sent on the
 * wire. Times are in milliseconds as on the wire. has_* flags say which
 * optional parameters are present. */
typedef struct mpq_preferred_address {
	uint8_t ipv4[4];
	uint16_t ipv4_port;
	uint8_t ipv6[16];
	uint16_t ipv6_port;
	mpq_cid cid;
	uint8_t reset_token[16];
} mpq_preferred_address;

#define MPQ_TPARAMS_V1 1
#define MPQ_TPARAMS_VERSION MPQ_TPARAMS_V1
typedef struct mpq_tparams {
	uint32_t struct_version;       /* MPQ_TPARAMS_VERSION, set by mpq_tparams_default */
	uint64_t max_idle_timeout;     /* ms, 0 = none */
	uint64_t max_udp_payload_size; /* default 65527, min 1200 */
	uint64_t initial_max_data;
	uint64_t initial_max_stream_data_bidi_local;
	uint64_t initial_max_stream_data_bidi_remote;
	uint64_t initial_max_stream_data_uni;
	uint64_t initial_max_streams_bidi;   /* ≤ 2^60 */
	uint64_t initial_max_streams_uni;    /* ≤ 2^60 */
	uint64_t ack_delay_exponent;	     /* default 3, ≤ 20 */
	uint64_t max_ack_delay;		     /* ms, default 25, < 2^14 */
	uint64_t active_connection_id_limit; /* default 2, ≥ 2 */
	int disable_active_migration;
	int has_original_dcid; /* server only */
	mpq_cid original_dcid;
	int has_initial_scid;
	mpq_cid initial_scid;
	int has_retry_scid; /* server only */
	mpq_cid retry_scid;
	int has_stateless_reset_token; /* server only */
	uint8_t stateless_reset_token[16];
	int has_preferred_address; /* server only */
	mpq_preferred_address preferred_address;
	int has_initial_max_path_id;  /* multipath negotiated when both send it */
	uint64_t initial_max_path_id; /* ≤ 2^32-1 */
	int has_add_address;	      /* ADD_ADDRESS extension: docs/add_address.md */
} mpq_tparams;

/* RFC 9000 defaults for every field; nothing optional present. */
MPQ_EXPORT void mpq_tparams_default(mpq_tparams *tp);

/* Text for an MPQ_ERR_* value. */
MPQ_EXPORT const char *mpq_strerror(int err);
/* Non-zero when |err| is fatal. */
MPQ_EXPORT int mpq_err_is_fatal(int err);
/* The QUIC transport error code that a library error becomes on the wire. */
MPQ_EXPORT uint64_t mpq_err_to_transport(int err);

#ifdef __cplusplus
}
#endif
#endif
