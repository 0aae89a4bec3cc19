/*
 * The I/O layer's configuration structs are versioned as the core's are
 * (mpq.h, STYLE.md §2.3): every entry point that takes one refuses a
 * struct_version it does not know with MPQ_ERR_INVALID_ARGUMENT before it
 * reads another field, and nothing a caller passes is kept past the call
 * unless the header says so. Each refusal here is of a struct that is valid
 * but for its version (the same struct with the right version opens).
 */
#include <net/if.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpq/io/capture_pcap.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/pcapng.h"
#include "mpq/io/qlog_file.h"
#include "mpq/io/reuseport.h"
#include "mpq/io/udp.h"
#include "mpq/io/xdp_prog.h"
#include "mpq/io/xsk.h"
#include "mpq/io/xsk_set.h"

/* Versions no release has made: none yet, and one past the newest. */
static const uint32_t bad_versions[] = {0, MPQ_PATHIO_CONFIG_VERSION + 1, UINT32_MAX};
#define N_BAD (sizeof(bad_versions) / sizeof(bad_versions[0]))

static void loopback_config(mpq_pathio_config *cfg)
{
	mpq_pathio_config_default(cfg);
	assert_int_equal(cfg->struct_version, MPQ_PATHIO_CONFIG_VERSION);
	assert_int_equal(mpq_addr_parse(&cfg->local, "127.0.0.1:0"), 0);
}

static void pathio_config_versions(void **state)
{
	mpq_pathio_config cfg;
	mpq_pathio *io, *set[1];
	mpq_reuseport *g;
	mpq_oserr err;

	(void)state;
	loopback_config(&cfg);
	assert_int_equal(mpq_pathio_udp.open(&io, &cfg, &err), 0);
	mpq_pathio_close(io);
	cfg.ifname = "nosuchif0";
	assert_int_equal(mpq_pathio_xdp.open(&io, &cfg, &err), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_pathio_xdp_set.open(&io, &cfg, &err), MPQ_ERR_NOT_FOUND);
	for (size_t i = 0; i < N_BAD; i++) {
		loopback_config(&cfg);
		cfg.struct_version = bad_versions[i];
		assert_int_equal(mpq_pathio_udp.open(&io, &cfg, &err), MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_reuseport_open(&g, &cfg, 1, &err), MPQ_ERR_INVALID_ARGUMENT);
		/* AF_XDP: refused before the interface is looked for (an
		 * interface that does not exist is NOT_FOUND otherwise). */
		cfg.ifname = "nosuchif0";
		assert_int_equal(mpq_pathio_xdp.open(&io, &cfg, &err), MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_pathio_xdp_set.open(&io, &cfg, &err),
				 MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_xsk_open(&io, &cfg, NULL, &err), MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_xsk_open_shared(set, 1, &cfg, NULL, &err),
				 MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_xsk_set_open(set, 1, 1, &cfg, NULL, NULL, &err),
				 MPQ_ERR_INVALID_ARGUMENT);
	}
}

static void xsk_config_versions(void **state)
{
	mpq_pathio_config cfg;
	mpq_xsk_config x;
	mpq_pathio *io, *set[1];
	mpq_oserr err;

	(void)state;
	loopback_config(&cfg);
	cfg.ifname = "nosuchif0";
	mpq_xsk_config_default(&x);
	assert_int_equal(x.struct_version, MPQ_XSK_CONFIG_VERSION);
	assert_int_equal(mpq_xsk_open(&io, &cfg, &x, &err), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_xsk_raw_open(&io, "nosuchif0", 0, &x, &err), MPQ_ERR_NOT_FOUND);
	for (size_t i = 0; i < N_BAD; i++) {
		x.struct_version = bad_versions[i];
		assert_int_equal(mpq_xsk_open(&io, &cfg, &x, &err), MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_xsk_open_shared(set, 1, &cfg, &x, &err),
				 MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_xsk_set_open(set, 1, 1, &cfg, &x, NULL, &err),
				 MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_xsk_raw_open(&io, "nosuchif0", 0, &x, &err),
				 MPQ_ERR_INVALID_ARGUMENT);
	}
}

static void xdp_prog_config_versions(void **state)
{
	mpq_xdp_prog_config cfg;
	mpq_xdp_prog *p;

	(void)state;
	mpq_xdp_prog_config_default(&cfg);
	assert_int_equal(cfg.struct_version, MPQ_XDP_PROG_CONFIG_VERSION);
	assert_int_equal(mpq_xdp_prog_new(&p, &cfg, NULL), 0);
	mpq_xdp_prog_del(p);
	for (size_t i = 0; i < N_BAD; i++) {
		cfg.struct_version = bad_versions[i];
		assert_int_equal(mpq_xdp_prog_new(&p, &cfg, NULL), MPQ_ERR_INVALID_ARGUMENT);
		assert_null(p);
	}
}

static int count_write(void *user_data, const void *data, size_t len)
{
	(void)data;
	*(size_t *)user_data += len;
	return 0;
}

static int count_close(void *user_data)
{
	*(size_t *)user_data += 1000000;
	return 0;
}

/* The I/O layer's entry points that take a byte sink (the core's versioned
 * mpq_qlog_sink) check it too: an unknown version is neither written nor
 * closed. */
static void byte_sink_versions(void **state)
{
	size_t used = 0;
	mpq_qlog_sink sink = {MPQ_QLOG_SINK_VERSION, count_write, NULL, count_close, &used}, t;
	mpq_pcapng *w;
	mpq_capture_pcap *c;

	(void)state;
	assert_int_equal(mpq_pcapng_open_sink(&w, &sink), 0);
	assert_int_equal(mpq_pcapng_close(w), 0);
	assert_true(used > 1000000); /* a section header written, then closed */
	for (size_t i = 0; i < N_BAD; i++) {
		used = 0;
		sink.struct_version = bad_versions[i];
		assert_int_equal(mpq_pcapng_open_sink(&w, &sink), MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_capture_pcap_open_sink(&c, &sink), MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_qlog_sink_thread(&t, &sink, 65536), MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(used, 0);
	}
}

/* The interface name is read during open only: a socket bound to "lo" from a
 * name freed at once stays bound to lo and carries datagrams. */
static void pathio_ifname_not_kept(void **state)
{
	mpq_pathio_config cfg;
	mpq_pathio *io;
	mpq_oserr err;
	uint8_t byte = 7, buf[16];
	mpq_dgram d = {.data = &byte, .len = 1}, r = {.data = buf, .len = sizeof(buf)};
	char *name = strdup("lo");

	(void)state;
	assert_non_null(name);
	loopback_config(&cfg);
	cfg.ifname = name;
	int rv = mpq_pathio_udp.open(&io, &cfg, &err);
	memset(name, 'x', 2); /* a name of no interface, were it read again */
	free(name);
	if (rv == MPQ_ERR_INTERNAL)
		skip(); /* SO_BINDTODEVICE needs CAP_NET_RAW */
	assert_int_equal(rv, 0);
	assert_int_equal(io->ifindex, if_nametoindex("lo"));
	d.remote = io->local;
	assert_int_equal(mpq_pathio_send(io, &d, 1), 1);
	assert_int_equal(poll(&(struct pollfd){.fd = mpq_pathio_fd(io), .events = POLLIN}, 1,
			      2000),
			 1);
	assert_int_equal(mpq_pathio_recv(io, &r, 1), 1);
	assert_int_equal(r.len, 1);
	assert_int_equal(r.data[0], 7);
	mpq_pathio_close(io);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pathio_config_versions),
		cmocka_unit_test(pathio_ifname_not_kept),
		cmocka_unit_test(xsk_config_versions),
		cmocka_unit_test(xdp_prog_config_versions),
		cmocka_unit_test(byte_sink_versions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
