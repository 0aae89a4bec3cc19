/* mpq-trace's decoder (tools/mpq-trace) on path IDs the library allows (up
 * to 2^32-1): 1-RTT packets sealed by the core on paths 3, 16, 40 and
 * 2^32-1 all decrypt, each path's state is found by its ID (an ACK on path
 * 40 gives its RTT) and kept in ID order; a connection opens at most
 * TRACE_MAX_PATHS paths, packets on more are counted as path_limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mpq-trace/trace.h"
#include "mpq/io/netaddr.h"
#include "quic/crypto.h"
#include "quic/frame.h"
#include "quic/packet.h"
#include "../common/hex.h"

static const mpq_cid odcid = {8, {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}};
static const mpq_cid server_scid = {4, {0x5e, 0x5e, 0x5e, 0x5e}};
static const uint8_t client_random[32] = {0xaa, 0x01};
static const char *client_secret =
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char *server_secret =
	"ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

static mpq_addr client_addr, server_addr;

/* The CID packets on path |id| carry toward |dir|. */
static mpq_cid path_cid(uint32_t id, int dir)
{
	mpq_cid c = {6,
		     {0xc1, (uint8_t)dir, (uint8_t)(id >> 24), (uint8_t)(id >> 16),
		      (uint8_t)(id >> 8), (uint8_t)id}};

	return c;
}

/* A connection whose 1-RTT keys come from the key log, its handshake
 * (not in this capture) left out. */
static struct trace_conn *conn(struct trace *t)
{
	char text[512];
	mpq_dissect_hdr hd = {.version = MPQ_VERSION_1, .dcid = odcid, .scid = server_scid};
	struct trace_conn *c;

	snprintf(text, sizeof(text),
		 "CLIENT_TRAFFIC_SECRET_0 aa01%060d %s\nSERVER_TRAFFIC_SECRET_0 aa01%060d %s\n", 0,
		 client_secret, 0, server_secret);
	assert_int_equal(trace_keys_add(t, text, strlen(text)), 0);
	c = trace_conn_new(t, &hd, 1000);
	assert_non_null(c);
	c->tls.have_random = true;
	memcpy(c->tls.random, client_random, sizeof(client_random));
	assert_int_equal(mpq_addr_parse_ip(&client_addr, "10.0.0.1", 40000), 0);
	assert_int_equal(mpq_addr_parse_ip(&server_addr, "10.0.0.2", 443), 0);
	return c;
}

/* Feeds a 1-RTT packet toward |dir| on path |path_id|, sealed by the core,
 * holding |f|. */
static void send_1rtt(struct trace *t, int dir, uint32_t path_id, uint64_t pn, uint64_t ts,
		      const mpq_frame *f)
{
	uint8_t buf[256], secret[32];
	mpq_crypto_keys k;
	mpq_writer w;
	mpq_pkt_hd hd = {.type = MPQ_PKT_1RTT,
			 .dcid = path_cid(path_id, dir),
			 .pn = pn,
			 .pn_len = 2};
	int n;

	test_unhex(dir == TO_SERVER ? client_secret : server_secret, secret, sizeof(secret));
	assert_int_equal(mpq_crypto_keys_init(&k, MPQ_CIPHER_AES_128_GCM, MPQ_VERSION_1, secret,
					      sizeof(secret)),
			 0);
	mpq_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), 0);
	assert_int_equal(mpq_frame_encode(&w, f), 0);
	n = mpq_pkt_protect(buf, sizeof(buf), &hd,
			    (size_t)(w.pos - buf) - hd.pn_offset - hd.pn_len, &k, path_id);
	assert_true(n > 0);
	mpq_crypto_keys_free(&k);
	if (dir == TO_SERVER)
		trace_datagram(t, ts, &client_addr, &server_addr, buf, (size_t)n);
	else
		trace_datagram(t, ts, &server_addr, &client_addr, buf, (size_t)n);
}

static void send_stream(struct trace *t, uint32_t path_id, uint64_t pn, uint64_t ts)
{
	mpq_frame f = {.type = MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN,
		       .stream = {.stream_id = 4,
				  .offset = 100 * path_id,
				  .data = (const uint8_t *)"hello",
				  .len = 5}};

	send_1rtt(t, TO_SERVER, path_id, pn, ts, &f);
}

static void path_ids_above_15_decrypt(void **state)
{
	(void)state;
	static const uint32_t ids[] = {40, 3, UINT32_MAX, 16};
	mpq_frame ack = {.type = MPQ_FT_PATH_ACK,
			 .ack = {.path_id = 40, .nranges = 1, .ranges = {{7, 7}}}};
	struct trace t = {0};
	struct trace_conn *c = conn(&t);
	struct trace_path *p40;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		mpq_cid to_server = path_cid(ids[i], TO_SERVER),
			to_client = path_cid(ids[i], TO_CLIENT);

		assert_int_equal(trace_cid_add(&t, c, &to_server, TO_SERVER, ids[i]), 0);
		assert_int_equal(trace_cid_add(&t, c, &to_client, TO_CLIENT, ids[i]), 0);
		send_stream(&t, ids[i], 7, 2000 + i);
	}
	/* The server acknowledges path 40's packet 7 on path 40, 5 ms later. */
	send_1rtt(&t, TO_CLIENT, 40, 1, 5002000, &ack);

	assert_int_equal(t.packets, 5);
	assert_int_equal(t.decrypted, 5);
	assert_int_equal(c->npaths, 4);
	assert_int_equal(c->paths[0]->id, 3);
	assert_int_equal(c->paths[1]->id, 16);
	assert_int_equal(c->paths[2]->id, 40);
	assert_int_equal(c->paths[3]->id, UINT32_MAX);
	for (size_t i = 0; i < c->npaths; i++) {
		assert_true(c->paths[i]->seen);
		assert_int_equal(c->paths[i]->packets[TO_SERVER], 1);
		assert_int_equal(c->paths[i]->largest_pn[TO_SERVER], 7);
	}
	p40 = trace_path_find(c, 40);
	assert_ptr_equal(p40, c->paths[2]);
	assert_int_equal(p40->packets[TO_CLIENT], 1);
	assert_true(p40->has_rtt[TO_SERVER]);
	assert_true(p40->srtt_ms[TO_SERVER] > 4.9 && p40->srtt_ms[TO_SERVER] < 5.1);
	assert_null(trace_path_find(c, 41));
	assert_null(trace_path_find(c, (uint64_t)UINT32_MAX + 1));
	trace_free(&t);
}

static void paths_past_the_limit_are_skipped(void **state)
{
	(void)state;
	struct trace t = {0};
	struct trace_conn *c = conn(&t);
	mpq_cid cid = path_cid(5000, TO_SERVER);

	/* Inserted from the top: each goes first. */
	for (uint32_t id = TRACE_MAX_PATHS; id >= 1; id--)
		assert_non_null(trace_path_get(c, id));
	assert_int_equal(c->npaths, TRACE_MAX_PATHS);
	for (size_t i = 0; i < c->npaths; i++)
		assert_int_equal(c->paths[i]->id, i + 1);
	assert_null(trace_path_get(c, 0));
	assert_ptr_equal(trace_path_get(c, 77), c->paths[76]);

	assert_int_equal(trace_cid_add(&t, c, &cid, TO_SERVER, 5000), 0);
	send_stream(&t, 5000, 1, 3000);
	assert_int_equal(t.packets, 1);
	assert_int_equal(t.decrypted, 0);
	assert_int_equal(t.dropped[DROP_PATH_LIMIT], 1);
	assert_int_equal(c->npaths, TRACE_MAX_PATHS);
	assert_null(trace_path_find(c, 5000));
	trace_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_ids_above_15_decrypt),
		cmocka_unit_test(paths_past_the_limit_are_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
