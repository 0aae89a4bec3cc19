/*
 * HTTP/0.9 (lib/app/hq_server.c, hq_client.c, hq_body.c) on peer input, both ends: a client and a server
 * connection complete a handshake in memory, the server with the hq server
 * callbacks over three in-memory files, the client with the hq client's.
 * The input is records of an op byte, a length byte and that many bytes:
 *   0  the client opens a bidirectional stream and writes the bytes on it
 *   1  the client writes the bytes on its last stream, 2 with FIN
 *   3  the client resets its last stream (4: asks the server to stop) with
 *      the code bytes[0]
 *   5  an hq request for the bytes as a path (mpq_hq_client_get)
 *   6  the server writes the bytes on client stream 4 * bytes[0] (7: with
 *      FIN), 8 resets it with code bytes[1]: answers the hq client did not
 *      expect
 *   9  1 + bytes[0] % 8 rounds of exchange
 *   10 the bytes as a request line through mpq_hq_parse_request alone
 *   11 the client opens a unidirectional stream with the bytes
 *   12 the server opens a unidirectional stream with the bytes, 13 writes
 *      them on its last one (HTTP/3's control and QPACK streams)
 * fuzz_hq runs it on hq-interop connections, fuzz_h3 (FUZZ_TLS_ALPN "h3")
 * on HTTP/3 ones.
 * Nothing may crash, leak or trip a sanitizer; a parsed path must fit its
 * buffer and be shorter than the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "app/hq.h"
#include "fuzz_tls.h"
#include "mpq/hq.h"
#include "quic/conn.h"

static mpq_tls_ctx *sctx, *cctx;

/* The www root: a file, one the server cannot read to its end, and one
 * whose reads fail. */
static const struct mem_file {
	const char *name;
	uint64_t size; /* as stat says */
	uint64_t readable;
	int64_t err;
} files[] = {
	{"index.html", 3000, 3000, 0},
	{"short", 2000, 100, 0},
	{"broken", 500, 0, -5 /* EIO */},
};

static uint64_t mem_open(void *ud, const char *rel, void **file, uint64_t *size)
{
	(void)ud;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!strcmp(rel, files[i].name)) {
			*file = (void *)&files[i];
			*size = files[i].size;
			return 0;
		}
	}
	return MPQ_HQ_ERR_NOT_FOUND;
}

static int64_t mem_read(void *ud, void *file, uint8_t *buf, size_t len, uint64_t offset)
{
	const struct mem_file *f = file;
	(void)ud;
	if (f->err)
		return f->err;
	if (offset >= f->readable)
		return 0;
	if (len > f->readable - offset)
		len = (size_t)(f->readable - offset);
	mpq_hq_pattern_fill(buf, offset, len);
	return (int64_t)len;
}

static void mem_close(void *ud, void *file)
{
	(void)ud;
	(void)file;
}

static uint64_t cli_clock(void *ud)
{
	return *(const uint64_t *)ud;
}

static void exchange(mpq_conn *c, mpq_conn *s, uint64_t *now, int rounds)
{
	uint8_t buf[1500];
	mpq_path path;
	memset(&path, 0, sizeof(path));
	for (int r = 0; r < rounds; r++) {
		int n;
		while ((n = mpq_conn_write_pkt(c, &path, NULL, buf, sizeof(buf), *now)) > 0)
			mpq_conn_read_pkt(s, &path, NULL, buf, (size_t)n, *now);
		while ((n = mpq_conn_write_pkt(s, &path, NULL, buf, sizeof(buf), *now)) > 0)
			mpq_conn_read_pkt(c, &path, NULL, buf, (size_t)n, *now);
		*now += 2000000;
		if (mpq_conn_get_expiry(c) <= *now)
			mpq_conn_handle_expiry(c, *now);
		if (mpq_conn_get_expiry(s) <= *now)
			mpq_conn_handle_expiry(s, *now);
	}
}

static void parse_alone(const uint8_t *p, size_t len)
{
	char rel[300];
	if (mpq_hq_parse_request((const char *)p, len, rel, sizeof(rel)) == 0)
		CHECK(strlen(rel) < len && strlen(rel) < sizeof(rel));
}

static void client_get(mpq_hq_client *cli, mpq_conn *c, const uint8_t *p, size_t len)
{
	char path[256];
	memcpy(path, p, len);
	path[len] = '\0';
	mpq_hq_client_get(cli, c, path, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	if (!ready)
		ready = fuzz_tls_contexts(&sctx, &cctx) == 0 ? 1 : -1;
	if (ready < 0 || len > 8192)
		return 0;
	fuzz_seed = 3;
	uint64_t now = 0;

	mpq_hq_server_config scfg;
	mpq_hq_server_config_default(&scfg);
	scfg.files = (mpq_hq_files){.open = mem_open, .read = mem_read, .close = mem_close};
	mpq_hq_client_config ccfg;
	mpq_hq_client_config_default(&ccfg);
	ccfg.now = cli_clock;
	ccfg.user_data = &now;
	mpq_hq_server *srv;
	mpq_hq_client *cli;
	if (mpq_hq_server_new(&srv, &scfg) != 0 || mpq_hq_client_new(&cli, &ccfg) != 0)
		__builtin_trap();

	mpq_settings cs, ss;
	mpq_tparams tp;
	mpq_callbacks ccb = {.struct_version = MPQ_CALLBACKS_VERSION, .rand = fuzz_rand};
	mpq_callbacks scb = ccb;
	mpq_hq_client_callbacks(&ccb, cli);
	mpq_hq_server_callbacks(&scb, srv);
	mpq_settings_default(&cs);
	mpq_settings_default(&ss);
	cs.server_name = "localhost";
	mpq_tparams_default(&tp);
	tp.initial_max_data = 1 << 20;
	tp.initial_max_stream_data_bidi_local = 1 << 16;
	tp.initial_max_stream_data_bidi_remote = 1 << 16;
	tp.initial_max_stream_data_uni = 1 << 16;
	tp.initial_max_streams_bidi = 16;
	tp.initial_max_streams_uni = 4;
	mpq_path path;
	memset(&path, 0, sizeof(path));
	mpq_conn *c = NULL, *s = NULL;
	uint8_t buf[1500];
	if (mpq_conn_client_new(&c, &path, &cs, &tp, &ccb, cctx, now) != 0)
		__builtin_trap();
	int n = mpq_conn_write_pkt(c, &path, NULL, buf, sizeof(buf), now);
	if (n <= 0 || mpq_conn_server_new(&s, &path, buf, (size_t)n, &ss, &tp, &scb, sctx, now))
		__builtin_trap();
	mpq_conn_read_pkt(s, &path, NULL, buf, (size_t)n, now);
	exchange(c, s, &now, 10);
	if (!mpq_conn_is_handshake_complete(s))
		__builtin_trap(); /* a clean in-memory handshake must complete */

	struct fuzz_records recs = {.data = data, .len = len, .lenbytes = 1};
	const uint8_t *p;
	size_t plen;
	int64_t last = -1, slast = -1;
	for (uint8_t op; fuzz_next_record(&recs, &op, &p, &plen);) {
		switch (op %= 14) {
		case 0:
		case 11:
			if (mpq_conn_open_stream(c, op == 0, &last) != 0)
				last = -1;
			/* fall through */
		case 1:
		case 2:
			if (last >= 0)
				mpq_conn_stream_write(c, last, p, plen, op == 2);
			break;
		case 3:
		case 4:
			if (last >= 0 && op == 3)
				mpq_conn_stream_reset(c, last, plen ? p[0] : 0);
			else if (last >= 0)
				mpq_conn_stream_stop_sending(c, last, plen ? p[0] : 0);
			break;
		case 5:
			client_get(cli, c, p, plen);
			break;
		case 6:
		case 7:
		case 8:
			if (!plen)
				break;
			if (op == 8)
				mpq_conn_stream_reset(s, 4 * (int64_t)p[0], plen > 1 ? p[1] : 0);
			else
				mpq_conn_stream_write(s, 4 * (int64_t)p[0], p + 1, plen - 1,
						      op == 7);
			break;
		case 9:
			exchange(c, s, &now, 1 + (plen ? p[0] % 8 : 0));
			break;
		case 12:
		case 13:
			if (op == 12 && mpq_conn_open_stream(s, false, &slast) != 0)
				slast = -1;
			if (slast >= 0)
				mpq_conn_stream_write(s, slast, p, plen, false);
			break;
		default:
			parse_alone(p, plen);
			break;
		}
	}
	exchange(c, s, &now, 20);
	mpq_hq_server_conn_closed(srv, s);
	mpq_hq_client_conn_closed(cli, c);
	mpq_conn_del(c);
	mpq_conn_del(s);
	CHECK(mpq_hq_server_active(srv) == 0);
	mpq_hq_server_free(srv);
	mpq_hq_client_free(cli);
	return 0;
}
