/*
 * An endpoint: one per listening (or dialling) set of sockets. It routes each
 * received datagram to its connection by destination CID, creates server
 * connections for new client Initials, and answers on its own what needs no
 * connection: Version Negotiation, Retry (when address validation is on, or
 * when too many handshakes are pending) and stateless resets (RFC 9000 §5.2, §8.1.2, §10.3). Sans I/O like the
 * connection: the caller moves the datagrams and keeps the time.
 */
#ifndef MPQ_ENDPOINT_H
#define MPQ_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/conn.h"
#include "mpq/mpq.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_endpoint mpq_endpoint;

#define MPQ_ENDPOINT_SECRET_LEN 32

#define MPQ_ENDPOINT_CONFIG_V1 1
#define MPQ_ENDPOINT_CONFIG_VERSION MPQ_ENDPOINT_CONFIG_V1
typedef struct mpq_endpoint_config {
	uint32_t struct_version; /* MPQ_ENDPOINT_CONFIG_VERSION (mpq.h), set by the default */
	/* What every server connection starts with; callbacks.user_data is shared.
	 * Copied by mpq_endpoint_new, names included (settings.cc, ...);
	 * settings.token and server_name are client-only and ignored. */
	mpq_settings settings;
	mpq_tparams tparams;
	mpq_callbacks callbacks;
	mpq_tls_ctx *tls; /* a server context; must outlive the endpoint */
	/* Versions offered, in preference order (default: v1, v2). */
	uint32_t versions[4];
	size_t nversions;
	bool retry;		 /* validate every client address with Retry first */
	uint64_t token_lifetime; /* ns a Retry token stays valid (default 10 s) */
	size_t max_conns;	 /* 0: 1024 */
	/* Half-open connections (handshake not complete) from which a new client
	 * without a token is asked for a Retry even when |retry| is off, so that
	 * Initials from addresses that never answer cannot fill the slots
	 * (0: 128; SIZE_MAX: never). */
	size_t retry_threshold;
	/* Half-open connections one client address (IPv4 address, IPv6 /64) may
	 * hold, tokens or not; beyond, its new Initials are dropped (0: 32). */
	size_t max_half_open_per_addr;
	/* What all connections' send buffers together may hold (0: 256 MiB);
	 * each connection's own limit is settings.send_budget. */
	size_t send_budget;
	/* Called for each new server connection before its first packet is
	 * read, to give it a qlog trace (mpq_conn_set_qlog, or the I/O layer's
	 * mpq_conn_set_qlog_dir in mpq/io/qlog_file.h) with |qlog_user_data|; NULL: no traces. A trace
	 * that cannot be written does not stop the connection. */
	void (*qlog_start)(mpq_conn *conn, void *user_data);
	void *qlog_user_data;
	/* Addresses every connection announces with ADD_ADDRESS (--advertise). */
	mpq_addr advertise[8];
	size_t nadvertise;
	/* Key for Retry tokens and stateless reset tokens: random per run is fine. */
	uint8_t secret[MPQ_ENDPOINT_SECRET_LEN];
} mpq_endpoint_config;

/* Fills |cfg| with defaults (settings, tparams and callbacks defaults, v1 and
 * v2, no Retry) and the struct versions; the caller still sets tls,
 * callbacks and the secret. */
MPQ_EXPORT void mpq_endpoint_config_default(mpq_endpoint_config *cfg);

/* |cfg| need not outlive the call (but cfg->tls must outlive the endpoint).
 * Returns 0, MPQ_ERR_INVALID_ARGUMENT (a struct_version the library does not
 * know, here or in settings, tparams or callbacks; no tls or rand; an unknown
 * cc or scheduler name) or MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_endpoint_new(mpq_endpoint **out, const mpq_endpoint_config *cfg);
/* Deletes the endpoint and every connection it still holds. */
MPQ_EXPORT void mpq_endpoint_del(mpq_endpoint *ep);

/* Takes one received datagram (modified in place) and what the I/O layer saw
 * of it (|pi|, as for mpq_conn_read_pkt; NULL: nothing). |*conn| is set to
 * the connection that took it, or NULL when the endpoint answered or dropped
 * it. Returns 0 or what mpq_conn_read_pkt returned for that connection (the
 * connection is then closing or draining; remove it once its timer says so). */
MPQ_EXPORT int mpq_endpoint_read(mpq_endpoint *ep, const mpq_path *path, const mpq_pkt_info *pi,
				 uint8_t *data, size_t len, uint64_t ts, mpq_conn **conn);

/* The next stateless answer to send (Version Negotiation, Retry, stateless
 * reset): its length, or 0 when none is waiting. */
MPQ_EXPORT int mpq_endpoint_write_stateless(mpq_endpoint *ep, mpq_path *path_out, uint8_t *buf,
					    size_t buflen);

/* The connections, for the caller's send and timer loop: index 0 .. count-1.
 * Removing a connection may reorder them. */
MPQ_EXPORT size_t mpq_endpoint_conn_count(const mpq_endpoint *ep);
MPQ_EXPORT mpq_conn *mpq_endpoint_conn_at(const mpq_endpoint *ep, size_t i);

/* Forgets and deletes |conn| (once it has closed). */
MPQ_EXPORT void mpq_endpoint_remove(mpq_endpoint *ep, mpq_conn *conn);

/* Bytes the connections' send buffers hold now (charged to send_budget). */
MPQ_EXPORT size_t mpq_endpoint_send_memory(const mpq_endpoint *ep);

/* The earliest expiry over every connection (MPQ_TIME_NEVER: none). */
MPQ_EXPORT uint64_t mpq_endpoint_get_expiry(const mpq_endpoint *ep);

/* Public TLS context creation for the tools (lib/quic/tls.c does the work).
 * Every string and buffer is read during mpq_tls_context_new only (the ALPN
 * list is encoded, files read, the pin copied): none need outlive it. */
#define MPQ_TLS_CONFIG_V1 1
#define MPQ_TLS_CONFIG_VERSION MPQ_TLS_CONFIG_V1
typedef struct mpq_tls_config {
	uint32_t struct_version; /* MPQ_TLS_CONFIG_VERSION, set by mpq_tls_config_default */
	bool is_server;
	const char *alpn;		  /* comma-separated; "hq-interop" */
	const char *cert_file, *key_file; /* server: PEM files, or */
	const char *cert_pem, *key_pem;	  /* PEM text in memory */
	const char *ca_file;		  /* client: NULL = system store */
	bool insecure;			  /* client: skip certificate checks */
	/* client: accept exactly the certificate whose SHA-256 (of its DER form,
	 * as mpq_self_signed_cert gives it) is these 32 bytes, in place of a CA
	 * chain and name check; NULL: none. Copied by mpq_tls_context_new. */
	const uint8_t *pin_sha256;
} mpq_tls_config;

/* Zeroes |cfg| and sets its struct_version. */
MPQ_EXPORT void mpq_tls_config_default(mpq_tls_config *cfg);

/* Returns the context, or NULL with |*err| set (MPQ_ERR_INVALID_ARGUMENT for
 * an unknown struct_version) and a reason in |errbuf|. */
MPQ_EXPORT mpq_tls_ctx *mpq_tls_context_new(const mpq_tls_config *cfg, int *err, char *errbuf,
					    size_t errbuflen);
MPQ_EXPORT void mpq_tls_context_free(mpq_tls_ctx *ctx);

/* A self-signed certificate for a server given none is the I/O layer's (it
 * reads the clock): mpq_cert_self_signed in mpq/io/cert.h. */

#ifdef __cplusplus
}
#endif
#endif
