/* X.509 certificates made in memory: see cert.h. In the I/O layer because
 * validity starts at the current time, which the core never reads. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mpq/io/cert.h"

#define VALIDITY_SECS (365L * 24 * 3600)
/* Starting an hour early lets a peer whose clock is a little behind accept it. */
#define BACKDATE_SECS (-3600L)
#define SERIAL_LEN 16

/* The issuer's certificate and key; both NULL when self-signed. */
struct issuer {
	X509 *cert;
	EVP_PKEY *key;
};

static bool params_valid(const mpq_cert_params *p)
{
	if (!p || p->struct_version != MPQ_CERT_PARAMS_V1 || !p->names || p->nnames == 0)
		return false;
	if (!p->issuer_cert_pem != !p->issuer_key_pem)
		return false;
	for (size_t i = 0; i < p->nnames; i++) {
		if (!p->names[i] || !p->names[i][0])
			return false;
	}
	return true;
}

static int load_issuer(const mpq_cert_params *p, struct issuer *iss)
{
	if (!p->issuer_cert_pem)
		return 0;
	BIO *b = BIO_new_mem_buf(p->issuer_cert_pem, -1);
	if (!b)
		return MPQ_ERR_NOMEM;
	iss->cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(p->issuer_key_pem, -1);
	if (!b)
		return MPQ_ERR_NOMEM;
	iss->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!iss->cert || !iss->key)
		return MPQ_ERR_INVALID_ARGUMENT;
	return 0;
}

/* Serial from the public key's hash: unique per key, and no randomness of our own. */
static int set_serial(X509 *x)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	if (!X509_pubkey_digest(x, EVP_sha256(), md, &mdlen))
		return MPQ_ERR_TLS;
	md[0] &= 0x7f; /* positive */
	BIGNUM *bn = BN_bin2bn(md, SERIAL_LEN, NULL);
	if (!bn)
		return MPQ_ERR_NOMEM;
	int ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : MPQ_ERR_TLS;
}

static GENERAL_NAME *san_entry(const char *name)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	if (!gn)
		return NULL;
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
	if (ip) {
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		return gn;
	}
	ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
	if (!dns || !ASN1_STRING_set(dns, name, -1)) {
		ASN1_IA5STRING_free(dns);
		GENERAL_NAME_free(gn);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
	return gn;
}

static int add_sans(X509 *x, const mpq_cert_params *p)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int rv = gens ? 0 : MPQ_ERR_NOMEM;
	for (size_t i = 0; rv == 0 && i < p->nnames; i++) {
		GENERAL_NAME *gn = san_entry(p->names[i]);
		if (!gn || !sk_GENERAL_NAME_push(gens, gn)) {
			GENERAL_NAME_free(gn);
			rv = MPQ_ERR_NOMEM;
		}
	}
	if (rv == 0 && !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0))
		rv = MPQ_ERR_TLS;
	GENERAL_NAMES_free(gens);
	return rv;
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	if (!ext)
		return MPQ_ERR_TLS;
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : MPQ_ERR_TLS;
}

static int add_extensions(X509 *x, const mpq_cert_params *p, const struct issuer *iss)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, iss->cert ? iss->cert : x, x, NULL, NULL, 0);
	int rv = add_ext(x, &v3, NID_subject_key_identifier, "hash");
	if (rv == 0)
		rv = add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (p->is_ca) {
		if (rv == 0)
			rv = add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE");
		if (rv == 0)
			rv = add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
		return rv;
	}
	if (rv == 0)
		rv = add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE");
	if (rv == 0)
		rv = add_ext(x, &v3, NID_key_usage, "critical,digitalSignature");
	if (rv == 0)
		rv = add_ext(x, &v3, NID_ext_key_usage, "serverAuth,clientAuth");
	if (rv == 0)
		rv = add_sans(x, p);
	return rv;
}

static int set_names(X509 *x, const char *cn, const struct issuer *iss)
{
	X509_NAME *subject = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
					-1, -1, 0))
		return MPQ_ERR_TLS;
	X509_NAME *issuer = iss->cert ? X509_get_subject_name(iss->cert) : subject;
	return X509_set_issuer_name(x, issuer) ? 0 : MPQ_ERR_TLS;
}

static int build_cert(const mpq_cert_params *p, EVP_PKEY *key, const struct issuer *iss,
		      X509 **out)
{
	X509 *x = X509_new();
	if (!x)
		return MPQ_ERR_NOMEM;
	int rv = 0;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_pubkey(x, key) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), BACKDATE_SECS) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), VALIDITY_SECS))
		rv = MPQ_ERR_TLS;
	if (rv == 0)
		rv = set_serial(x);
	if (rv == 0)
		rv = set_names(x, p->names[0], iss);
	if (rv == 0)
		rv = add_extensions(x, p, iss);
	if (rv == 0 && !X509_sign(x, iss->key ? iss->key : key, EVP_sha256()))
		rv = MPQ_ERR_TLS;
	if (rv < 0) {
		X509_free(x);
		return rv;
	}
	*out = x;
	return 0;
}

/* Copies a memory BIO's contents into a malloc'd NUL-terminated string. */
static int bio_to_string(BIO *b, char **out)
{
	char *data;
	long len = BIO_get_mem_data(b, &data);
	if (len < 0)
		return MPQ_ERR_TLS;
	char *s = malloc((size_t)len + 1);
	if (!s)
		return MPQ_ERR_NOMEM;
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	*out = s;
	return 0;
}

static int cert_to_pem(X509 *x, char **out)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return MPQ_ERR_NOMEM;
	int rv = PEM_write_bio_X509(b, x) ? bio_to_string(b, out) : MPQ_ERR_TLS;
	BIO_free(b);
	return rv;
}

static int key_to_pem(EVP_PKEY *key, char **out)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return MPQ_ERR_NOMEM;
	int ok = PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	int rv = ok ? bio_to_string(b, out) : MPQ_ERR_TLS;
	BIO_free(b);
	return rv;
}

static int export_pem(X509 *x, EVP_PKEY *key, char **cert_pem, char **key_pem,
		      uint8_t fp[MPQ_CERT_FINGERPRINT_LEN])
{
	unsigned int fplen;
	uint8_t md[EVP_MAX_MD_SIZE];
	if (!X509_digest(x, EVP_sha256(), md, &fplen) || fplen != MPQ_CERT_FINGERPRINT_LEN)
		return MPQ_ERR_TLS;
	char *c = NULL, *k = NULL;
	int rv = cert_to_pem(x, &c);
	if (rv == 0)
		rv = key_to_pem(key, &k);
	if (rv < 0) {
		free(c);
		return rv;
	}
	if (fp)
		memcpy(fp, md, MPQ_CERT_FINGERPRINT_LEN);
	*cert_pem = c;
	*key_pem = k;
	return 0;
}

void mpq_cert_params_default(mpq_cert_params *p)
{
	memset(p, 0, sizeof(*p));
	p->struct_version = MPQ_CERT_PARAMS_VERSION;
}

int mpq_cert_issue(const mpq_cert_params *p, char **cert_pem, char **key_pem,
		   uint8_t sha256_fingerprint[MPQ_CERT_FINGERPRINT_LEN])
{
	if (!params_valid(p) || !cert_pem || !key_pem)
		return MPQ_ERR_INVALID_ARGUMENT;
	struct issuer iss = {NULL, NULL};
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int rv = load_issuer(p, &iss);
	if (rv == 0) {
		key = EVP_EC_gen("P-256");
		rv = key ? 0 : MPQ_ERR_TLS;
	}
	if (rv == 0)
		rv = build_cert(p, key, &iss, &x);
	if (rv == 0)
		rv = export_pem(x, key, cert_pem, key_pem, sha256_fingerprint);
	X509_free(x);
	EVP_PKEY_free(key);
	X509_free(iss.cert);
	EVP_PKEY_free(iss.key);
	/* Leave nothing on the thread's error queue for the next caller to trip on. */
	ERR_clear_error();
	return rv;
}

int mpq_cert_self_signed(const char *const *names, size_t nnames, char **cert_pem, char **key_pem,
			 uint8_t sha256_fingerprint[MPQ_CERT_FINGERPRINT_LEN])
{
	mpq_cert_params p = {.struct_version = MPQ_CERT_PARAMS_VERSION,
			     .names = names,
			     .nnames = nnames};
	return mpq_cert_issue(&p, cert_pem, key_pem, sha256_fingerprint);
}
