/* In-memory certificates: names, key type, validity, fingerprint, issuing, bad arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mpq/io/cert.h"

static X509 *read_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	assert_non_null(b);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *read_key(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	assert_non_null(b);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(k);
	return k;
}

static void assert_p256(X509 *x, EVP_PKEY *key)
{
	char group[32];
	size_t len;
	assert_true(EVP_PKEY_is_a(key, "EC"));
	assert_int_equal(EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &len),
			 1);
	assert_string_equal(group, "prime256v1");
	assert_int_equal(X509_check_private_key(x, key), 1);
}

/* notBefore an hour back, notAfter a year after that plus the hour. */
static void assert_validity(X509 *x)
{
	int days, secs;
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
					X509_get0_notAfter(x)),
			 1);
	assert_int_equal(days, 365);
	assert_int_equal(secs, 3600);
	assert_true(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
	assert_true(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);
}

static void self_signed_names_and_key(void **state)
{
	(void)state;
	static const char *const names[] = {"localhost", "127.0.0.1", "::1", "srv.example"};
	char *cert_pem, *key_pem;
	uint8_t fp[MPQ_CERT_FINGERPRINT_LEN];
	assert_int_equal(mpq_cert_self_signed(names, 4, &cert_pem, &key_pem, fp), 0);
	assert_non_null(strstr(cert_pem, "-----BEGIN CERTIFICATE-----"));
	assert_non_null(strstr(key_pem, "-----BEGIN PRIVATE KEY-----"));
	X509 *x = read_cert(cert_pem);
	EVP_PKEY *key = read_key(key_pem);
	assert_p256(x, key);
	assert_validity(x);

	/* SANs: DNS names and IP literals, nothing else. */
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "srv.example", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	assert_int_equal(X509_check_host(x, "example.com", 0, 0, NULL), 0);
	assert_int_equal(X509_check_host(x, "127.0.0.1", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.2", 0), 0);
	char cn[64];
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "localhost");

	/* Self-issued end entity signed with its own key (CA:FALSE, so OpenSSL calls it
	 * self-issued, not self-signed), fingerprint over the DER. */
	assert_true(X509_get_extension_flags(x) & EXFLAG_SI);
	assert_int_equal(X509_verify(x, key), 1);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	assert_int_equal(X509_digest(x, EVP_sha256(), md, &mdlen), 1);
	assert_int_equal(mdlen, MPQ_CERT_FINGERPRINT_LEN);
	assert_memory_equal(md, fp, mdlen);

	X509_free(x);
	EVP_PKEY_free(key);
	free(cert_pem);
	free(key_pem);
}

static void each_certificate_is_new(void **state)
{
	(void)state;
	static const char *const names[] = {"localhost"};
	char *c1, *k1, *c2, *k2;
	uint8_t fp1[MPQ_CERT_FINGERPRINT_LEN], fp2[MPQ_CERT_FINGERPRINT_LEN];
	assert_int_equal(mpq_cert_self_signed(names, 1, &c1, &k1, fp1), 0);
	assert_int_equal(mpq_cert_self_signed(names, 1, &c2, &k2, fp2), 0);
	assert_memory_not_equal(fp1, fp2, sizeof(fp1));
	X509 *x1 = read_cert(c1), *x2 = read_cert(c2);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x1),
					      X509_get0_serialNumber(x2)),
			     0);
	X509_free(x1);
	X509_free(x2);
	free(c1);
	free(k1);
	free(c2);
	free(k2);
}

static void ca_issues_leaf(void **state)
{
	(void)state;
	static const char *const ca_names[] = {"mpquic-test-ca"};
	static const char *const leaf_names[] = {"localhost"};
	char *ca_pem, *ca_key_pem, *leaf_pem, *leaf_key_pem;
	mpq_cert_params ca = {.struct_version = MPQ_CERT_PARAMS_VERSION,
			      .names = ca_names,
			      .nnames = 1,
			      .is_ca = true};
	assert_int_equal(mpq_cert_issue(&ca, &ca_pem, &ca_key_pem, NULL), 0);
	mpq_cert_params leaf = {
		.struct_version = MPQ_CERT_PARAMS_VERSION,
		.names = leaf_names,
		.nnames = 1,
		.issuer_cert_pem = ca_pem,
		.issuer_key_pem = ca_key_pem,
	};
	assert_int_equal(mpq_cert_issue(&leaf, &leaf_pem, &leaf_key_pem, NULL), 0);

	X509 *cax = read_cert(ca_pem), *leafx = read_cert(leaf_pem);
	EVP_PKEY *cakey = read_key(ca_key_pem), *leafkey = read_key(leaf_key_pem);
	assert_int_equal(X509_check_ca(cax), 1);
	assert_int_equal(X509_check_ca(leafx), 0);
	assert_int_equal(X509_check_issued(cax, leafx), X509_V_OK);
	assert_int_equal(X509_verify(leafx, cakey), 1);
	assert_int_equal(X509_verify(leafx, leafkey), 0);
	assert_p256(leafx, leafkey);

	/* A full chain check, as a TLS client would do it. */
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *vctx = X509_STORE_CTX_new();
	assert_non_null(store);
	assert_non_null(vctx);
	assert_int_equal(X509_STORE_add_cert(store, cax), 1);
	assert_int_equal(X509_STORE_CTX_init(vctx, store, leafx, NULL), 1);
	assert_int_equal(X509_verify_cert(vctx), 1);
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);

	X509_free(cax);
	X509_free(leafx);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(leafkey);
	free(ca_pem);
	free(ca_key_pem);
	free(leaf_pem);
	free(leaf_key_pem);
}

static void bad_arguments(void **state)
{
	(void)state;
	static const char *const good[] = {"localhost"};
	static const char *const empty[] = {""};
	static const char *const null[] = {NULL};
	char *c = NULL, *k = NULL;
	assert_int_equal(mpq_cert_self_signed(good, 0, &c, &k, NULL), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_cert_self_signed(NULL, 1, &c, &k, NULL), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_cert_self_signed(empty, 1, &c, &k, NULL), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_cert_self_signed(null, 1, &c, &k, NULL), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_cert_self_signed(good, 1, NULL, &k, NULL), MPQ_ERR_INVALID_ARGUMENT);
	mpq_cert_params p;
	mpq_cert_params_default(&p);
	p.names = good;
	p.nnames = 1;
	assert_int_equal(mpq_cert_issue(&p, &c, &k, NULL), 0);
	free(c);
	free(k);
	c = k = NULL;
	/* An unknown version is refused, however good the rest. */
	static const uint32_t bad_versions[] = {0, MPQ_CERT_PARAMS_VERSION + 1, UINT32_MAX};
	for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
		p.struct_version = bad_versions[i];
		assert_int_equal(mpq_cert_issue(&p, &c, &k, NULL), MPQ_ERR_INVALID_ARGUMENT);
	}
	p.struct_version = MPQ_CERT_PARAMS_VERSION;
	p.issuer_cert_pem = "x";
	assert_int_equal(mpq_cert_issue(&p, &c, &k, NULL), MPQ_ERR_INVALID_ARGUMENT);
	p.issuer_key_pem = "y";
	assert_int_equal(mpq_cert_issue(&p, &c, &k, NULL), MPQ_ERR_INVALID_ARGUMENT);
	assert_null(c);
	assert_null(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(self_signed_names_and_key),
		cmocka_unit_test(each_certificate_is_new),
		cmocka_unit_test(ca_issues_leaf),
		cmocka_unit_test(bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
