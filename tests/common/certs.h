/*
 * Test certificates on disk: a CA, a leaf for "localhost" and 127.0.0.1 signed
 * by it, and a second CA that signed nothing, as PEM files in a fresh temporary
 * directory. Made with lib/io/cert.c, so every run has new keys.
 */
#ifndef MPQ_TEST_CERTS_H
#define MPQ_TEST_CERTS_H

#include <limits.h>

struct test_certs {
	char dir[PATH_MAX];
	char ca_file[PATH_MAX];	      /* the CA that signed cert_file */
	char cert_file[PATH_MAX];     /* leaf for localhost, 127.0.0.1 */
	char key_file[PATH_MAX];      /* leaf key */
	char other_ca_file[PATH_MAX]; /* an unrelated CA */
	/* The same as PEM text (NUL-terminated, owned by the struct). */
	char *ca_pem, *ca_key_pem, *cert_pem, *key_pem, *other_ca_pem, *other_ca_key_pem;
};

/* Creates the directory and the files. Returns 0 or -1. */
int test_certs_create(struct test_certs *tc);

/* Removes every file in tc->dir, the directory, and frees the PEM text. */
void test_certs_cleanup(struct test_certs *tc);

/* Writes |text| to |name| in tc->dir and puts the full path in |path|. Returns 0 or -1. */
int test_certs_write(const struct test_certs *tc, const char *name, const char *text,
		     char path[PATH_MAX]);

#endif
