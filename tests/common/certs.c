/* Test certificates on disk: see certs.h. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certs.h"
#include "mpq/io/cert.h"

static int make_ca(const char *name, char **cert_pem, char **key_pem)
{
	const char *names[] = {name};
	mpq_cert_params p;

	mpq_cert_params_default(&p);
	p.names = names;
	p.nnames = 1;
	p.is_ca = true;
	return mpq_cert_issue(&p, cert_pem, key_pem, NULL) == 0 ? 0 : -1;
}

static int make_leaf(struct test_certs *tc)
{
	static const char *const names[] = {"localhost", "127.0.0.1"};
	mpq_cert_params p = {
		.struct_version = MPQ_CERT_PARAMS_VERSION,
		.names = names,
		.nnames = 2,
		.issuer_cert_pem = tc->ca_pem,
		.issuer_key_pem = tc->ca_key_pem,
	};
	return mpq_cert_issue(&p, &tc->cert_pem, &tc->key_pem, NULL) == 0 ? 0 : -1;
}

int test_certs_write(const struct test_certs *tc, const char *name, const char *text,
		     char path[PATH_MAX])
{
	if (snprintf(path, PATH_MAX, "%s/%s", tc->dir, name) >= PATH_MAX)
		return -1;
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	size_t len = strlen(text);
	int ok = fwrite(text, 1, len, f) == len;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int test_certs_create(struct test_certs *tc)
{
	memset(tc, 0, sizeof(*tc));
	const char *tmp = getenv("TMPDIR");
	snprintf(tc->dir, sizeof(tc->dir), "%s/mpq-certs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tc->dir)) {
		tc->dir[0] = '\0';
		return -1;
	}
	if (make_ca("mpquic-test-ca", &tc->ca_pem, &tc->ca_key_pem) < 0 ||
	    make_ca("mpquic-other-ca", &tc->other_ca_pem, &tc->other_ca_key_pem) < 0 ||
	    make_leaf(tc) < 0)
		return -1;
	if (test_certs_write(tc, "ca.pem", tc->ca_pem, tc->ca_file) < 0 ||
	    test_certs_write(tc, "other-ca.pem", tc->other_ca_pem, tc->other_ca_file) < 0 ||
	    test_certs_write(tc, "cert.pem", tc->cert_pem, tc->cert_file) < 0 ||
	    test_certs_write(tc, "key.pem", tc->key_pem, tc->key_file) < 0)
		return -1;
	return 0;
}

static void remove_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	rmdir(path);
}

void test_certs_cleanup(struct test_certs *tc)
{
	if (tc->dir[0])
		remove_dir(tc->dir);
	free(tc->ca_pem);
	free(tc->ca_key_pem);
	free(tc->cert_pem);
	free(tc->key_pem);
	free(tc->other_ca_pem);
	free(tc->other_ca_key_pem);
	memset(tc, 0, sizeof(*tc));
}
