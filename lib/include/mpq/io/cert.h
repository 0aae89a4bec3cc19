/*
 * X.509 certificates made in memory: the self-signed certificate the server tool
 * uses when none is given, and (through mpq_cert_issue) the CA and leaf
 * certificates the tests need. Keys are ECDSA P-256, certificates are valid for
 * one year from now, names go into the subjectAltName as DNS names or IP
 * addresses (IPv4 or IPv6 literals), and the first name is also the subject CN.
 */
#ifndef MPQ_IO_CERT_H
#define MPQ_IO_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/mpq.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MPQ_CERT_FINGERPRINT_LEN 32

/* Versioned as the core's structs (mpq.h): fill with mpq_cert_params_default
 * or name .struct_version = MPQ_CERT_PARAMS_VERSION. Every string is read
 * during mpq_cert_issue only: none need outlive it. */
#define MPQ_CERT_PARAMS_V1 1
#define MPQ_CERT_PARAMS_VERSION MPQ_CERT_PARAMS_V1
typedef struct mpq_cert_params {
	uint32_t struct_version;  /* MPQ_CERT_PARAMS_VERSION, set by the default */
	const char *const *names; /* at least one; names[0] is the CN */
	size_t nnames;
	bool is_ca; /* basicConstraints CA:TRUE, keyCertSign; no SANs */
	/* Issuer certificate and key as PEM; both NULL for a self-signed certificate. */
	const char *issuer_cert_pem;
	const char *issuer_key_pem;
} mpq_cert_params;

/* Zeroes |p| and sets its struct_version: then set names (and the rest). */
MPQ_EXPORT void mpq_cert_params_default(mpq_cert_params *p);

/* Makes a key and a certificate for it as described by |p|. On success
 * |*cert_pem| and |*key_pem| are malloc'd NUL-terminated PEM strings (free()
 * them) and |sha256_fingerprint| (may be NULL) holds the SHA-256 of the DER
 * certificate. Returns 0, MPQ_ERR_INVALID_ARGUMENT (a struct_version the
 * library does not know, no names, an empty name, a bad issuer PEM), MPQ_ERR_NOMEM or MPQ_ERR_TLS. */
MPQ_EXPORT int mpq_cert_issue(const mpq_cert_params *p, char **cert_pem, char **key_pem,
			      uint8_t sha256_fingerprint[MPQ_CERT_FINGERPRINT_LEN]);

/* A self-signed end-entity certificate for |names| (mpq_cert_issue without an issuer). */
MPQ_EXPORT int mpq_cert_self_signed(const char *const *names, size_t nnames, char **cert_pem,
				    char **key_pem,
				    uint8_t sha256_fingerprint[MPQ_CERT_FINGERPRINT_LEN]);

#ifdef __cplusplus
}
#endif
#endif
