/* mpq-server's certificate and TLS context: see server.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tool.h"
#include "mpq/io/cert.h"
#include "server.h"

static int check_readable(const char *what, const char *path)
{
	if (access(path, R_OK) == 0)
		return 0;
	tool_err("cannot read %s %s: %s", what, path, strerror(errno));
	return TOOL_EXIT_USAGE;
}

/* A self-signed certificate for "localhost" and every listening address. */
/* --cert-out: the certificate (not its key) for clients to trust. */
static int write_cert(const char *path, const char *pem)
{
	FILE *f = fopen(path, "w");
	int rv;

	if (!f) {
		tool_err("--cert-out %s: %s", path, strerror(errno));
		return TOOL_EXIT_USAGE;
	}
	rv = fputs(pem, f) < 0 ? errno : 0;
	if (fclose(f) != 0 && !rv)
		rv = errno;
	if (rv) {
		tool_err("--cert-out %s: %s", path, strerror(rv));
		return TOOL_EXIT_FAIL;
	}
	printf("certificate written to %s (mpq-client --ca %s)\n", path, path);
	return 0;
}

static int self_signed(struct server *s)
{
	const char *names[MAX_LISTEN + 1];
	static char ips[MAX_LISTEN][MPQ_ADDR_STRLEN];
	char list[1024] = "", fp[32 * 3];
	uint8_t sha[32];
	size_t n = 0, len = 0;
	int rv;

	names[n++] = "localhost";
	for (size_t i = 0; i < s->nlisten; i++) {
		for (size_t j = 0; j < s->listen[i].naddrs && n <= MAX_LISTEN; j++) {
			mpq_addr a = s->listen[i].addrs[j];

			/* Certificates carry IPv6 addresses without a scope. */
			if (a.ss.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&a.ss)->sin6_scope_id = 0;
			if (!mpq_addr_is_any(&a) &&
			    mpq_addr_format_ip(&a, ips[n - 1], sizeof(ips[n - 1])) > 0) {
				names[n] = ips[n - 1];
				n++;
			}
		}
	}
	rv = mpq_cert_self_signed(names, n, &s->cert_pem, &s->key_pem, sha);
	if (rv < 0) {
		tool_err("cannot make a self-signed certificate: %s", mpq_strerror(rv));
		return TOOL_EXIT_FAIL;
	}
	for (size_t i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					names[i]);
	for (size_t i = 0; i < sizeof(sha); i++)
		snprintf(fp + 3 * i, sizeof(fp) - 3 * i, "%02X%s", sha[i],
			 i + 1 < sizeof(sha) ? ":" : "");
	printf("self-signed certificate for %s\nSHA-256 fingerprint %s\n", list, fp);
	fflush(stdout);
	return s->o.cert_out ? write_cert(s->o.cert_out, s->cert_pem) : 0;
}

int make_tls(struct server *s)
{
	mpq_tls_config cfg = {.struct_version = MPQ_TLS_CONFIG_VERSION,
			      .is_server = true,
			      .alpn = MPQ_HQ_ALPN "," MPQ_H3_ALPN};
	char why[256] = "";
	int err = 0, rv;

	if (s->o.cert_dir) {
		snprintf(s->cert_file, sizeof(s->cert_file), "%s/fullchain.pem", s->o.cert_dir);
		snprintf(s->key_file, sizeof(s->key_file), "%s/privkey.pem", s->o.cert_dir);
	} else if (s->o.cert) {
		snprintf(s->cert_file, sizeof(s->cert_file), "%s", s->o.cert);
		snprintf(s->key_file, sizeof(s->key_file), "%s", s->o.key);
	}
	if (s->cert_file[0]) {
		rv = check_readable("certificate", s->cert_file);
		if (rv == 0)
			rv = check_readable("key", s->key_file);
		if (rv != 0)
			return rv;
		cfg.cert_file = s->cert_file;
		cfg.key_file = s->key_file;
	} else {
		rv = self_signed(s);
		if (rv != 0)
			return rv;
		cfg.cert_pem = s->cert_pem;
		cfg.key_pem = s->key_pem;
	}
	s->tls = mpq_tls_context_new(&cfg, &err, why, sizeof(why));
	if (!s->tls && err == MPQ_ERR_INVALID_ARGUMENT) {
		tool_err("bad certificate or key (%s, %s): %s", s->cert_file, s->key_file,
			 why[0] ? why : mpq_strerror(err));
		return TOOL_EXIT_USAGE;
	}
	if (!s->tls) {
		tool_err("cannot set up TLS: %s", why[0] ? why : mpq_strerror(err));
		return TOOL_EXIT_FAIL;
	}
	return 0;
}
