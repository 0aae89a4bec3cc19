/*
 * Sends a server what an attacker would, for tests/net/test-initial-flood.sh:
 *
 *   initial_flood noise ADDR PORT COUNT FROM
 *	COUNT 1200-byte datagrams that parse as client Initials and carry
 *	noise, as fast as it can, from one socket bound to FROM.
 *   initial_flood valid ADDR PORT FROM HOSTS PORTS SECONDS RATE
 *	Real client Initials (each from a new client connection, so a new
 *	DCID) from HOSTS consecutive IPv4 addresses starting at FROM, PORTS
 *	sockets on each, in turn, RATE a second for SECONDS. It never reads
 *	what comes back.
 *
 * Prints "sent N" and exits 0, or says what failed and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mpq/endpoint.h"
#include "noise_initial.h"

static void rnd(uint8_t *d, size_t n, void *ud)
{
	(void)ud;
	while (n > 0) {
		ssize_t got = getrandom(d, n, 0);
		if (got > 0) {
			d += got;
			n -= (size_t)got;
		}
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int ipv4(mpq_addr *a, const char *ip, unsigned int port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
	memset(a, 0, sizeof(*a));
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	a->len = sizeof(*in);
	if (inet_pton(AF_INET, ip, &in->sin_addr) != 1) {
		fprintf(stderr, "initial_flood: %s: not an IPv4 address\n", ip);
		return -1;
	}
	return 0;
}

/* A UDP socket bound to |from| (its port 0: one the kernel picks). */
static int bound_socket(const mpq_addr *from)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (const struct sockaddr *)&from->ss, from->len) != 0) {
		perror("initial_flood: socket");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int noise(const mpq_addr *to, const mpq_addr *from, long count)
{
	int fd = bound_socket(from);
	if (fd < 0)
		return 1;
	uint8_t buf[NOISE_INITIAL_LEN];
	long sent = 0;
	for (long i = 0; i < count; i++) {
		size_t n = noise_initial(buf, rnd, NULL);
		sent += sendto(fd, buf, n, 0, (const struct sockaddr *)&to->ss, to->len) ==
			(ssize_t)n;
	}
	close(fd);
	printf("sent %ld\n", sent);
	return 0;
}

/* The first datagram of a new client connection to |to|: its Initial. */
static int client_initial(mpq_tls_ctx *tls, const mpq_addr *to, uint8_t *buf, size_t cap)
{
	mpq_settings s;
	mpq_tparams tp;
	mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION, .rand = rnd};
	mpq_path path = {.remote = *to};
	mpq_conn *conn;
	mpq_settings_default(&s);
	s.server_name = "localhost";
	mpq_tparams_default(&tp);
	int rv = mpq_conn_client_new(&conn, &path, &s, &tp, &cb, tls, 0);
	if (rv != 0)
		return rv;
	mpq_path out;
	rv = mpq_conn_write_pkt(conn, &out, NULL, buf, cap, 0);
	mpq_conn_del(conn);
	return rv;
}

static int valid(const mpq_addr *to, const mpq_addr *from, int hosts, int ports, double seconds,
		 double rate)
{
	/* One descriptor per source port: more than the usual soft limit. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int nfd = hosts * ports;
	int *fds = calloc((size_t)nfd, sizeof(*fds));
	if (!fds)
		return 1;
	for (int h = 0; h < hosts; h++) {
		mpq_addr a = *from;
		struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;
		in->sin_addr.s_addr = htonl(ntohl(in->sin_addr.s_addr) + (uint32_t)h);
		for (int p = 0; p < ports; p++)
			if ((fds[h * ports + p] = bound_socket(&a)) < 0)
				return 1;
	}
	int err;
	char errbuf[256];
	mpq_tls_config tc = {.struct_version = MPQ_TLS_CONFIG_VERSION,
			     .alpn = "hq-interop",
			     .insecure = true};
	mpq_tls_ctx *tls = mpq_tls_context_new(&tc, &err, errbuf, sizeof(errbuf));
	if (!tls) {
		fprintf(stderr, "initial_flood: TLS: %s\n", errbuf);
		return 1;
	}
	uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
	long sent = 0;
	uint8_t buf[1500];
	for (long i = 0;; i++) {
		/* Paced: the i-th Initial goes out i / RATE seconds after the start. */
		uint64_t due = start + (uint64_t)((double)i / rate * 1e9), t = now_ns();
		if (due >= end || t >= end)
			break; /* the time is up, whether or not RATE was reached */
		if (due > t) {
			struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(due - t)};
			nanosleep(&ts, NULL);
		}
		int n = client_initial(tls, to, buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "initial_flood: client Initial: %s\n", mpq_strerror(n));
			return 1;
		}
		int fd = fds[i % nfd];
		sent += sendto(fd, buf, (size_t)n, 0, (const struct sockaddr *)&to->ss, to->len) ==
			n;
	}
	mpq_tls_context_free(tls);
	for (int i = 0; i < nfd; i++)
		close(fds[i]);
	free(fds);
	printf("sent %ld\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	mpq_addr to, from;
	if (argc == 6 && strcmp(argv[1], "noise") == 0) {
		if (ipv4(&to, argv[2], (unsigned int)atoi(argv[3])) || ipv4(&from, argv[5], 0))
			return 1;
		return noise(&to, &from, atol(argv[4]));
	}
	if (argc == 9 && strcmp(argv[1], "valid") == 0) {
		int hosts = atoi(argv[5]), ports = atoi(argv[6]);
		double seconds = atof(argv[7]), rate = atof(argv[8]);
		if (ipv4(&to, argv[2], (unsigned int)atoi(argv[3])) || ipv4(&from, argv[4], 0))
			return 1;
		if (hosts < 1 || ports < 1 || seconds <= 0 || rate <= 0) {
			fprintf(stderr, "initial_flood: HOSTS, PORTS, SECONDS and RATE must be "
					"positive\n");
			return 1;
		}
		return valid(&to, &from, hosts, ports, seconds, rate);
	}
	fprintf(stderr, "usage: initial_flood noise ADDR PORT COUNT FROM\n"
			"       initial_flood valid ADDR PORT FROM HOSTS PORTS SECONDS RATE\n");
	return 1;
}
