/*
 * HTTP/0.9 (hq-interop) and HTTP/3 over an in-memory client/server pair: files fetched
 * byte-exact with their SHA-256, generated bodies, parallel requests and
 * requests beyond the stream limit, refusals (not found, traversal out of the
 * www root by "..", "//", %2e%2e and symlinks, malformed requests) reported by
 * their reset code, and no file descriptor or request state left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "app/h3_conn.h"
#include "app/h3_frame.h"
#include "app/h3_msg.h"
#include "app/hq.h"
#include "app/qpack.h"
#include "conn_pair.h"
#include "fds.h"
#include "mpq/hq.h"
#include "mpq/http1.h"
#include "mpq/io/hq_files.h"

#define LIMIT (120 * MPQ_SEC)
#define BIG_SIZE (3 * 1024 * 1024)

static const char small_body[] = "Hello over hq-interop\n";
static const char file123_body[] = "a real file named 123\n";
static const char inner_body[] = "inner\n";
static const char secret_body[] = "SECRET outside the www root\n";

/* The temporary tree: TOP/www is served, TOP/x and TOP/outside/ are not. */
struct tree {
	char top[64];
	char www[96];
	uint8_t *big;
};

static struct tree tree;

static void sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned n = 0;
	assert_int_equal(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void put_file(const char *rel, const void *data, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tree.top, rel);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put_dir(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tree.top, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void put_link(const char *target, const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tree.top, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int tree_setup(void **state)
{
	(void)state;
	snprintf(tree.top, sizeof(tree.top), "/tmp/mpq-hq-XXXXXX");
	assert_non_null(mkdtemp(tree.top));
	snprintf(tree.www, sizeof(tree.www), "%s/www", tree.top);
	put_dir("www");
	put_dir("www/dir");
	put_dir("www/a");
	put_dir("outside");
	put_file("x", secret_body, strlen(secret_body));
	put_file("outside/secret", secret_body, strlen(secret_body));
	put_file("www/empty", "", 0);
	put_file("www/small.txt", small_body, strlen(small_body));
	put_file("www/123", file123_body, strlen(file123_body));
	put_file("www/dir/inner.txt", inner_body, strlen(inner_body));
	tree.big = malloc(BIG_SIZE);
	assert_non_null(tree.big);
	uint64_t st = 7;
	for (size_t i = 0; i < BIG_SIZE; i++) {
		uint64_t z = (st += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		tree.big[i] = (uint8_t)(z >> 32);
	}
	put_file("www/big.bin", tree.big, BIG_SIZE);
	put_link("small.txt", "www/inlink");
	put_link("../outside/secret", "www/escape_rel");
	char abs[256];
	snprintf(abs, sizeof(abs), "%s/outside/secret", tree.top);
	put_link(abs, "www/escape_abs");
	put_link("../outside", "www/escape_dir");
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int tree_teardown(void **state)
{
	(void)state;
	free(tree.big);
	return nftw(tree.top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- A pair with the hq server and client installed ---- */

struct hq_test {
	struct conn_pair p;
	mpq_hq_root *root;
	mpq_hq_server *srv;
	mpq_hq_client *cli;
	mpq_callbacks scb, ccb;
	size_t done_calls;
	int fds_before;
};

static uint64_t sim_now(void *ud)
{
	return ((struct hq_test *)ud)->p.now;
}

static void on_request_done(mpq_hq_request *req, void *ud)
{
	struct hq_test *t = ud;
	enum mpq_hq_status s = mpq_hq_request_status(req);
	assert_true(s == MPQ_HQ_OK || s == MPQ_HQ_RESET || s == MPQ_HQ_INCOMPLETE);
	assert_non_null(mpq_hq_request_sha256(req));
	t->done_calls++;
}

/*
 * The pair hands every callback its own pointer as user data (its rand needs
 * it), so these forward each to the side's callbacks as mpq_hq_*_callbacks
 * filled them, with their user data.
 */
static const mpq_callbacks *side_cb(void *pair, mpq_conn *c)
{
	struct hq_test *t = ((struct conn_pair *)pair)->app;
	return mpq_conn_is_server(c) ? &t->scb : &t->ccb;
}

static int fwd_handshake(mpq_conn *c, void *ud)
{
	const mpq_callbacks *cb = side_cb(ud, c);
	return cb->handshake_completed ? cb->handshake_completed(c, cb->user_data) : 0;
}

static int fwd_open(mpq_conn *c, int64_t id, void *ud)
{
	const mpq_callbacks *cb = side_cb(ud, c);
	return cb->stream_open ? cb->stream_open(c, id, cb->user_data) : 0;
}

static int fwd_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len, bool fin,
		    void *ud)
{
	const mpq_callbacks *cb = side_cb(ud, c);
	return cb->stream_data ? cb->stream_data(c, id, off, d, len, fin, cb->user_data) : 0;
}

static int fwd_writable(mpq_conn *c, int64_t id, void *ud)
{
	const mpq_callbacks *cb = side_cb(ud, c);
	return cb->stream_writable ? cb->stream_writable(c, id, cb->user_data) : 0;
}

static int fwd_reset(mpq_conn *c, int64_t id, uint64_t code, void *ud)
{
	const mpq_callbacks *cb = side_cb(ud, c);
	return cb->stream_reset ? cb->stream_reset(c, id, code, cb->user_data) : 0;
}

static int fwd_stop(mpq_conn *c, int64_t id, uint64_t code, void *ud)
{
	const mpq_callbacks *cb = side_cb(ud, c);
	return cb->stream_stop_sending ? cb->stream_stop_sending(c, id, code, cb->user_data) : 0;
}

static int fwd_closed(mpq_conn *c, int64_t id, void *ud)
{
	const mpq_callbacks *cb = side_cb(ud, c);
	return cb->stream_closed ? cb->stream_closed(c, id, cb->user_data) : 0;
}

static int fwd_streams(mpq_conn *c, bool bidi, void *ud)
{
	const mpq_callbacks *cb = side_cb(ud, c);
	return cb->streams_available ? cb->streams_available(c, bidi, cb->user_data) : 0;
}

static const mpq_callbacks fwd_cb = {
	.struct_version = MPQ_CALLBACKS_VERSION,
	.handshake_completed = fwd_handshake,
	.stream_open = fwd_open,
	.stream_data = fwd_data,
	.stream_writable = fwd_writable,
	.stream_reset = fwd_reset,
	.stream_stop_sending = fwd_stop,
	.stream_closed = fwd_closed,
	.streams_available = fwd_streams,
};

/* Server and client contexts and a pair whose client is under way. With
 * |client| the client side gets those callbacks instead of the hq client's. */
static void hq_start_opts(struct hq_test *t, struct pair_opts *o, bool force_realpath,
			  const mpq_callbacks *client)
{
	memset(t, 0, sizeof(*t));
	t->fds_before = test_count_fds();
	assert_int_equal(mpq_hq_root_open(&t->root, tree.www, force_realpath), 0);
	mpq_hq_server_config sc = {.struct_version = MPQ_HQ_SERVER_CONFIG_VERSION,
				   .files = mpq_hq_root_files(t->root)};
	assert_int_equal(mpq_hq_server_new(&t->srv, &sc), 0);
	mpq_hq_client_config cc = {.struct_version = MPQ_HQ_CLIENT_CONFIG_VERSION,
				   .now = sim_now,
				   .request_done = on_request_done,
				   .user_data = t};
	assert_int_equal(mpq_hq_client_new(&t->cli, &cc), 0);
	mpq_hq_server_callbacks(&t->scb, t->srv);
	mpq_hq_client_callbacks(&t->ccb, t->cli);
	assert_ptr_equal(t->scb.user_data, t->srv);
	assert_ptr_equal(t->ccb.user_data, t->cli);
	assert_non_null(t->scb.handshake_completed);
	assert_null(t->ccb.stream_open);
	if (client)
		t->ccb = *client;
	o->app[PAIR_CLIENT] = o->app[PAIR_SERVER] = &fwd_cb;
	o->app_state = t;
	assert_int_equal(pair_init(&t->p, o), 0);
}

static void hq_start(struct hq_test *t, bool force_realpath)
{
	struct pair_opts o = {0};
	hq_start_opts(t, &o, force_realpath, NULL);
	assert_true(pair_run(&t->p, pair_both_complete, LIMIT));
}

static bool all_done(struct conn_pair *p)
{
	return mpq_hq_client_done(((struct hq_test *)p->app)->cli);
}

static void hq_run(struct hq_test *t)
{
	assert_true(pair_run(&t->p, all_done, LIMIT));
	assert_int_equal(t->done_calls, mpq_hq_client_count(t->cli));
}

/* Lets the last ACKs through, then checks every stream was closed and
 * forgotten on the server, and tears down without leaking a descriptor. */
static void hq_finish(struct hq_test *t)
{
	pair_run(&t->p, NULL, 3 * MPQ_SEC);
	assert_int_equal(mpq_hq_server_active(t->srv), 0);
	assert_false(mpq_conn_get_error(t->p.conn[PAIR_CLIENT])->set);
	mpq_hq_client_conn_closed(t->cli, t->p.conn[PAIR_CLIENT]);
	mpq_hq_server_conn_closed(t->srv, t->p.conn[PAIR_SERVER]);
	pair_free(&t->p);
	mpq_hq_client_free(t->cli);
	mpq_hq_server_free(t->srv);
	mpq_hq_root_close(t->root);
	assert_int_equal(test_count_fds(), t->fds_before);
}

static mpq_hq_request *get(struct hq_test *t, const char *path, const mpq_hq_sink *sink)
{
	mpq_hq_request *r;
	assert_int_equal(mpq_hq_client_get(t->cli, t->p.conn[PAIR_CLIENT], path, sink, &r), 0);
	assert_non_null(r);
	assert_string_equal(mpq_hq_request_path(r), path);
	assert_ptr_equal(mpq_hq_request_conn(r), t->p.conn[PAIR_CLIENT]);
	return r;
}

static void expect_body(const mpq_hq_request *r, const void *data, size_t len)
{
	char hex[65];
	sha256_hex(data, len, hex);
	assert_int_equal(mpq_hq_request_status(r), MPQ_HQ_OK);
	assert_string_equal(mpq_hq_status_name(mpq_hq_request_status(r)), "ok");
	assert_int_equal(mpq_hq_request_code(r), 0);
	assert_int_equal(mpq_hq_request_error(r), 0);
	assert_int_equal(mpq_hq_request_bytes(r), len);
	assert_string_equal(mpq_hq_request_sha256(r), hex);
	uint64_t sent, first, last;
	mpq_hq_request_times(r, &sent, &first, &last);
	assert_true(sent > 0 && sent < first && first <= last);
}

static void expect_reset(const mpq_hq_request *r, uint64_t code)
{
	char hex[65];
	sha256_hex("", 0, hex);
	assert_int_equal(mpq_hq_request_status(r), MPQ_HQ_RESET);
	assert_string_equal(mpq_hq_status_name(MPQ_HQ_RESET), "reset");
	assert_int_equal(mpq_hq_request_code(r), code);
	assert_int_equal(mpq_hq_request_bytes(r), 0);
	/* Nothing came, so the hash is the empty body's. */
	assert_string_equal(mpq_hq_request_sha256(r), hex);
}

/* The whole content of |f| (a sink after the fetch). */
static uint8_t *slurp(FILE *f, size_t *len)
{
	assert_int_equal(fflush(f), 0);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	uint8_t *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	*len = (size_t)n;
	return buf;
}

static void expect_sink(FILE *f, const void *data, size_t len)
{
	size_t n;
	uint8_t *got = slurp(f, &n);
	assert_int_equal(n, len);
	assert_memory_equal(got, data, len);
	free(got);
}

/* ---- Request parsing ---- */

static void parse(const char *line, uint64_t code, const char *rel)
{
	char out[256];
	uint64_t rv = mpq_hq_parse_request(line, strlen(line), out, sizeof(out));
	if (rv != code)
		fail_msg("\"%s\": code %llu, expected %llu", line, (unsigned long long)rv,
			 (unsigned long long)code);
	if (rel)
		assert_string_equal(out, rel);
}

static void parse_request_lines(void **state)
{
	(void)state;
	parse("GET /index.html", 0, "index.html");
	parse("GET /a/b.txt  ", 0, "a/b.txt");
	parse("GET /", 0, "");
	parse("GET /a/./b", 0, "a/./b");
	parse("GET /...", 0, "...");
	parse("GET /a/..b/c..", 0, "a/..b/c..");
	parse("GET /sp%20ace%2Fx", 0, "sp ace/x");
	parse("GET /caf\xc3\xa9", 0, "caf\xc3\xa9");
	/* Traversal, absolute paths and NUL, encoded or not. */
	parse("GET /..", MPQ_HQ_ERR_FORBIDDEN, NULL);
	parse("GET /../x", MPQ_HQ_ERR_FORBIDDEN, NULL);
	parse("GET /a/../../x", MPQ_HQ_ERR_FORBIDDEN, NULL);
	parse("GET /a/..", MPQ_HQ_ERR_FORBIDDEN, NULL);
	parse("GET //etc/passwd", MPQ_HQ_ERR_FORBIDDEN, NULL);
	parse("GET /%2e%2e/x", MPQ_HQ_ERR_FORBIDDEN, NULL);
	parse("GET /%2E%2e", MPQ_HQ_ERR_FORBIDDEN, NULL);
	parse("GET /a%2f%2e%2e%2f%2e%2e%2fx", MPQ_HQ_ERR_FORBIDDEN, NULL);
	parse("GET /%2fetc/passwd", MPQ_HQ_ERR_FORBIDDEN, NULL);
	parse("GET /a%00b", MPQ_HQ_ERR_FORBIDDEN, NULL);
	char nul[] = "GET /a\0b";
	char out[32];
	assert_int_equal(mpq_hq_parse_request(nul, sizeof(nul) - 1, out, sizeof(out)),
			 MPQ_HQ_ERR_FORBIDDEN);
	/* Malformed. */
	parse("", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET ", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET x", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET  /x", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("get /x", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("POST /x", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET /x HTTP/1.0", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET /x\r", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET /a\tb", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET /a%zz", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET /a%2", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET /a%", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET /a%0Ab", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	parse("GET /a%7f", MPQ_HQ_ERR_BAD_REQUEST, NULL);
	/* The output buffer bounds the path. */
	assert_int_equal(mpq_hq_parse_request("GET /abcdef", 11, out, 6), MPQ_HQ_ERR_BAD_REQUEST);
	assert_int_equal(mpq_hq_parse_request("GET /abcde", 10, out, 6), 0);
	assert_string_equal(out, "abcde");
}

static void pattern_is_mod_251(void **state)
{
	(void)state;
	uint8_t buf[600];
	mpq_hq_pattern_fill(buf, 0, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], i % 251);
	uint64_t off = (1ULL << 40) - 300;
	mpq_hq_pattern_fill(buf, off, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], (off + i) % 251);
}

static void bad_arguments(void **state)
{
	(void)state;
	mpq_hq_server *srv;
	mpq_hq_server_config sc = {.struct_version = MPQ_HQ_SERVER_CONFIG_VERSION};
	assert_int_equal(mpq_hq_server_new(&srv, &sc), MPQ_ERR_INVALID_ARGUMENT);
	assert_null(srv);
	mpq_hq_root *root = (mpq_hq_root *)&sc;
	char path[256];
	snprintf(path, sizeof(path), "%s/nonexistent", tree.top);
	assert_int_equal(mpq_hq_root_open(&root, path, false), MPQ_ERR_INVALID_ARGUMENT);
	assert_null(root);
	snprintf(path, sizeof(path), "%s/x", tree.top);
	assert_int_equal(mpq_hq_root_open(&root, path, false), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_hq_root_open(&root, "", false), MPQ_ERR_INVALID_ARGUMENT);
	/* A server needs every files operation, a client its clock. */
	assert_int_equal(mpq_hq_root_open(&root, tree.www, false), 0);
	sc.files = mpq_hq_root_files(root);
	sc.files.read = NULL;
	assert_int_equal(mpq_hq_server_new(&srv, &sc), MPQ_ERR_INVALID_ARGUMENT);
	/* A config of a version the library does not know (mpq.h). */
	mpq_hq_server_config_default(&sc);
	sc.files = mpq_hq_root_files(root);
	sc.struct_version = MPQ_HQ_SERVER_CONFIG_VERSION + 1;
	assert_int_equal(mpq_hq_server_new(&srv, &sc), MPQ_ERR_INVALID_ARGUMENT);
	sc.struct_version = MPQ_HQ_SERVER_CONFIG_VERSION;
	assert_int_equal(mpq_hq_server_new(&srv, &sc), 0);
	mpq_hq_server_free(srv);
	mpq_hq_root_close(root);
	mpq_hq_client *cli = (mpq_hq_client *)&sc;
	assert_int_equal(mpq_hq_client_new(&cli, NULL), MPQ_ERR_INVALID_ARGUMENT);
	assert_null(cli);
	mpq_hq_client_config cc = {.struct_version = MPQ_HQ_CLIENT_CONFIG_VERSION};
	assert_int_equal(mpq_hq_client_new(&cli, &cc), MPQ_ERR_INVALID_ARGUMENT);
	mpq_hq_client_config_default(&cc);
	cc.now = sim_now;
	cc.struct_version = 0;
	assert_int_equal(mpq_hq_client_new(&cli, &cc), MPQ_ERR_INVALID_ARGUMENT);
	cc.struct_version = MPQ_HQ_CLIENT_CONFIG_VERSION;
	assert_int_equal(mpq_hq_client_new(&cli, &cc), 0);
	mpq_hq_client_free(cli);

	struct hq_test t;
	hq_start(&t, false);
	mpq_conn *c = t.p.conn[PAIR_CLIENT];
	mpq_hq_request *r = (mpq_hq_request *)&t;
	assert_int_equal(mpq_hq_client_get(t.cli, c, "x", NULL, &r), MPQ_ERR_INVALID_ARGUMENT);
	assert_null(r);
	assert_int_equal(mpq_hq_client_get(t.cli, c, "", NULL, NULL), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_hq_client_get(t.cli, c, "/a\r\nGET /b", NULL, NULL),
			 MPQ_ERR_INVALID_ARGUMENT);
	mpq_hq_sink unknown = {.struct_version = MPQ_HQ_SINK_VERSION + 1};
	assert_int_equal(mpq_hq_client_get(t.cli, c, "/a", &unknown, NULL),
			 MPQ_ERR_INVALID_ARGUMENT);
	mpq_hq_sink bad;
	assert_int_equal(mpq_hq_sink_file(&bad, NULL), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_hq_sink_fd(&bad, -1), MPQ_ERR_INVALID_ARGUMENT);
	char *longp = malloc(MPQ_HQ_MAX_REQUEST);
	assert_non_null(longp);
	memset(longp, 'a', MPQ_HQ_MAX_REQUEST - 1);
	longp[0] = '/';
	longp[MPQ_HQ_MAX_REQUEST - 1] = '\0';
	assert_int_equal(mpq_hq_client_get(t.cli, c, longp, NULL, NULL), MPQ_ERR_INVALID_ARGUMENT);
	/* The longest path that fits: "GET " + path + "\r\n" is MPQ_HQ_MAX_REQUEST. */
	longp[MPQ_HQ_MAX_REQUEST - 6] = '\0';
	r = get(&t, longp, NULL);
	free(longp);
	assert_int_equal(mpq_hq_client_count(t.cli), 1);
	assert_null(mpq_hq_client_request(t.cli, 1));
	hq_run(&t);
	expect_reset(r, MPQ_HQ_ERR_NOT_FOUND);
	hq_finish(&t);
}

/* ---- Fetches ---- */

static void fetch_files(void **state)
{
	(void)state;
	struct hq_test t;
	struct pair_opts o = {0};
	hq_start_opts(&t, &o, false, NULL);
	FILE *fsmall = tmpfile(), *fbig = tmpfile(), *finner = tmpfile();
	assert_non_null(fsmall);
	assert_non_null(fbig);
	assert_non_null(finner);
	mpq_hq_sink file_small, fd_big, fd_inner;
	assert_int_equal(mpq_hq_sink_file(&file_small, fsmall), 0);
	assert_int_equal(mpq_hq_sink_fd(&fd_big, fileno(fbig)), 0);
	assert_int_equal(mpq_hq_sink_fd(&fd_inner, fileno(finner)), 0);
	/* Asked for before the handshake: they wait for it. */
	mpq_hq_request *empty = get(&t, "/empty", NULL);
	mpq_hq_request *small = get(&t, "/small.txt", &file_small);
	assert_int_equal(mpq_hq_request_status(empty), MPQ_HQ_WAITING);
	assert_int_equal(mpq_hq_request_stream(empty), -1);
	assert_false(mpq_hq_client_done(t.cli));
	assert_null(mpq_hq_request_sha256(empty));
	assert_true(pair_run(&t.p, pair_both_complete, LIMIT));
	assert_int_not_equal(mpq_hq_request_status(empty), MPQ_HQ_WAITING);
	assert_int_equal(mpq_hq_request_stream(empty), 0);
	assert_int_equal(mpq_hq_request_stream(small), 4);
	mpq_hq_request *big = get(&t, "/big.bin", &fd_big);
	mpq_hq_request *inner = get(&t, "/dir/inner.txt", &fd_inner);
	mpq_hq_request *inlink = get(&t, "/inlink", NULL);
	mpq_hq_request *real123 = get(&t, "/123", NULL);
	mpq_hq_request *dotseg = get(&t, "/./dir/./inner.txt", NULL);
	mpq_hq_request *encoded = get(&t, "/%73mall.txt", NULL);
	assert_int_equal(mpq_hq_request_status(big), MPQ_HQ_ACTIVE);
	hq_run(&t);
	expect_body(empty, "", 0);
	expect_body(small, small_body, strlen(small_body));
	expect_body(big, tree.big, BIG_SIZE);
	expect_body(inner, inner_body, strlen(inner_body));
	expect_body(inlink, small_body, strlen(small_body));
	expect_body(real123, file123_body, strlen(file123_body));
	expect_body(dotseg, inner_body, strlen(inner_body));
	expect_body(encoded, small_body, strlen(small_body));
	expect_sink(fsmall, small_body, strlen(small_body));
	expect_sink(fbig, tree.big, BIG_SIZE);
	expect_sink(finner, inner_body, strlen(inner_body));
	/* 3 MB over a 10 ms path takes several round trips. */
	assert_true(mpq_hq_request_seconds(big) > 0.02);
	assert_true(mpq_hq_request_seconds(big) < 60);
	fclose(fsmall);
	fclose(fbig);
	fclose(finner);
	hq_finish(&t);
}

static void fetch_generated(void **state)
{
	(void)state;
	struct hq_test t;
	hq_start(&t, false);
	FILE *f = tmpfile();
	assert_non_null(f);
	mpq_hq_sink sink;
	assert_int_equal(mpq_hq_sink_file(&sink, f), 0);
	mpq_hq_request *r = get(&t, "/100000", &sink);
	mpq_hq_request *zero = get(&t, "/0", NULL);
	mpq_hq_request *max = get(&t, "/1099511627777", NULL); /* 2^40 + 1 */
	mpq_hq_request *huge = get(&t, "/99999999999999999999999", NULL);
	hq_run(&t);
	uint8_t *want = malloc(100000);
	assert_non_null(want);
	for (size_t i = 0; i < 100000; i++)
		want[i] = (uint8_t)(i % 251);
	expect_body(r, want, 100000);
	expect_sink(f, want, 100000);
	free(want);
	fclose(f);
	expect_body(zero, "", 0);
	expect_reset(max, MPQ_HQ_ERR_NOT_FOUND);
	expect_reset(huge, MPQ_HQ_ERR_NOT_FOUND);
	hq_finish(&t);
}

/* A large generated body is sent as the window allows, and the client can
 * walk away: the server then stops and forgets the request. */
static void generated_large_stopped_by_conn_close(void **state)
{
	(void)state;
	struct hq_test t;
	hq_start(&t, false);
	mpq_hq_request *r = get(&t, "/1099511627776", NULL); /* 2^40: allowed */
	mpq_hq_request *f = get(&t, "/big.bin", NULL);
	pair_run(&t.p, NULL, 60 * MPQ_MS);
	assert_int_equal(mpq_hq_request_status(r), MPQ_HQ_ACTIVE);
	assert_int_equal(mpq_hq_request_status(f), MPQ_HQ_ACTIVE);
	assert_true(mpq_hq_request_bytes(r) > 0);
	assert_int_equal(mpq_hq_server_active(t.srv), 2);
	mpq_hq_client_conn_closed(t.cli, t.p.conn[PAIR_CLIENT]);
	assert_true(mpq_hq_client_done(t.cli));
	assert_int_equal(mpq_hq_request_status(r), MPQ_HQ_INCOMPLETE);
	assert_string_equal(mpq_hq_status_name(MPQ_HQ_INCOMPLETE), "incomplete");
	assert_int_equal(mpq_hq_request_error(r), MPQ_ERR_CLOSING);
	assert_int_equal(mpq_hq_request_status(f), MPQ_HQ_INCOMPLETE);
	assert_non_null(mpq_hq_request_sha256(r));
	/* The big file is open on the server until its connection goes. */
	mpq_hq_server_conn_closed(t.srv, t.p.conn[PAIR_SERVER]);
	assert_int_equal(mpq_hq_server_active(t.srv), 0);
	int fds = t.fds_before;
	pair_free(&t.p);
	mpq_hq_client_free(t.cli);
	mpq_hq_server_free(t.srv);
	mpq_hq_root_close(t.root);
	assert_int_equal(test_count_fds(), fds);
}

static void parallel_requests(void **state)
{
	(void)state;
	struct hq_test t;
	hq_start(&t, false);
	enum { N = 24 };
	mpq_hq_request *r[N];
	char path[32];
	for (int i = 0; i < N; i++) {
		switch (i % 4) {
		case 0:
			r[i] = get(&t, "/big.bin", NULL);
			break;
		case 1:
			r[i] = get(&t, "/small.txt", NULL);
			break;
		case 2:
			snprintf(path, sizeof(path), "/%d", 1000 * i + 7);
			r[i] = get(&t, path, NULL);
			break;
		default:
			r[i] = get(&t, "/empty", NULL);
		}
		/* All on the wire at once, each on its own stream. */
		assert_int_equal(mpq_hq_request_status(r[i]), MPQ_HQ_ACTIVE);
		assert_int_equal(mpq_hq_request_stream(r[i]), 4 * i);
	}
	/* Every body is under way before the first big one is complete. */
	pair_run(&t.p, NULL, 150 * MPQ_MS);
	assert_int_equal(mpq_hq_request_status(r[0]), MPQ_HQ_ACTIVE);
	for (int i = 0; i < N; i += 4)
		assert_true(mpq_hq_request_bytes(r[i]) > 0);
	hq_run(&t);
	for (int i = 0; i < N; i++) {
		switch (i % 4) {
		case 0:
			expect_body(r[i], tree.big, BIG_SIZE);
			break;
		case 1:
			expect_body(r[i], small_body, strlen(small_body));
			break;
		case 2: {
			size_t n = (size_t)(1000 * i + 7);
			uint8_t *want = malloc(n);
			assert_non_null(want);
			mpq_hq_pattern_fill(want, 0, n);
			expect_body(r[i], want, n);
			free(want);
			break;
		}
		default:
			expect_body(r[i], "", 0);
		}
	}
	hq_finish(&t);
}

/*
 * A refusal while other streams fill every packet. lib/quic loses the
 * RESET_STREAM here: when a stream's RESET_STREAM (or STOP_SENDING) does not
 * fit in the packet being written, mpq_conn_write_streams takes the stream off
 * the schedule anyway and nothing puts it back, so the frame is never sent and
 * the client waits until the idle timeout. (Fixed; kept as a regression test.)
 */
static void refusal_among_busy_streams(void **state)
{
	(void)state;
	struct hq_test t;
	hq_start(&t, false);
	mpq_hq_request *big[4];
	for (int i = 0; i < 3; i++)
		big[i] = get(&t, "/big.bin", NULL);
	mpq_hq_request *missing = get(&t, "/missing", NULL);
	big[3] = get(&t, "/big.bin", NULL);
	hq_run(&t);
	expect_reset(missing, MPQ_HQ_ERR_NOT_FOUND);
	for (int i = 0; i < 4; i++)
		expect_body(big[i], tree.big, BIG_SIZE);
	hq_finish(&t);
}

/*
 * The server's RESET_STREAM is lost. lib/quic forgets a stream as soon as its
 * RESET_STREAM is sent (mpq_stream_is_done counts a sent reset as done, and
 * mpq_conn_write_streams retires the stream right after writing it), so
 * mpq_conn_streams_on_lost finds no stream and never sends it again (RFC 9000
 * §13.3 wants it repeated until acknowledged). (Fixed; kept as a regression test.)
 */
static int drop_server_dgrams;

static bool drop_next_from_server(struct conn_pair *p, int from, size_t index, size_t flight,
				  const uint8_t *d, size_t len)
{
	(void)p;
	(void)index;
	(void)flight;
	(void)d;
	(void)len;
	if (from != PAIR_SERVER || !drop_server_dgrams)
		return false;
	drop_server_dgrams--;
	return true;
}

static void lost_reset_is_sent_again(void **state)
{
	(void)state;
	struct hq_test t;
	struct pair_opts o = {.drop = drop_next_from_server};
	hq_start_opts(&t, &o, false, NULL);
	assert_true(pair_run(&t.p, pair_both_complete, LIMIT));
	pair_run(&t.p, NULL, MPQ_SEC);
	mpq_hq_request *missing = get(&t, "/missing", NULL);
	drop_server_dgrams = 1; /* the one with the RESET_STREAM */
	hq_run(&t);
	expect_reset(missing, MPQ_HQ_ERR_NOT_FOUND);
	hq_finish(&t);
}

/* Each finished request makes the next one from its request_done callback. */
struct chain {
	struct hq_test t;
	int left;
	mpq_hq_request *last;
};

static void chain_next(mpq_hq_request *req, void *ud)
{
	struct chain *ch = ud;
	on_request_done(req, &ch->t);
	assert_int_equal(mpq_hq_request_status(req), MPQ_HQ_OK);
	if (ch->left-- > 0)
		assert_int_equal(mpq_hq_client_get(ch->t.cli, mpq_hq_request_conn(req), "/inlink",
						   NULL, &ch->last),
				 0);
}

static void requests_from_request_done(void **state)
{
	(void)state;
	struct chain *ch = calloc(1, sizeof(*ch));
	assert_non_null(ch);
	struct hq_test *t = &ch->t;
	hq_start(t, false);
	/* A client whose request_done makes more requests. */
	mpq_hq_client_free(t->cli);
	mpq_hq_client_config cc = {.struct_version = MPQ_HQ_CLIENT_CONFIG_VERSION,
				   .now = sim_now,
				   .request_done = chain_next,
				   .user_data = ch};
	assert_int_equal(mpq_hq_client_new(&t->cli, &cc), 0);
	mpq_hq_client_callbacks(&t->ccb, t->cli);
	ch->left = 5;
	get(t, "/small.txt", NULL);
	hq_run(t);
	assert_int_equal(ch->left, -1);
	assert_int_equal(mpq_hq_client_count(t->cli), 6);
	for (size_t i = 0; i < 6; i++) {
		mpq_hq_request *r = mpq_hq_client_request(t->cli, i);
		expect_body(r, small_body, strlen(small_body));
		assert_int_equal(mpq_hq_request_stream(r), (int64_t)(4 * i));
	}
	assert_ptr_equal(ch->last, mpq_hq_client_request(t->cli, 5));
	hq_finish(t);
	free(ch);
}

static bool req_done(const mpq_hq_request *r)
{
	return mpq_hq_request_status(r) >= MPQ_HQ_OK;
}

static mpq_hq_request *wait_for;

static bool request_finished(struct conn_pair *p)
{
	(void)p;
	return req_done(wait_for);
}

static void run_until_done(struct conn_pair *p, mpq_hq_request *r)
{
	wait_for = r;
	assert_true(pair_run(p, request_finished, LIMIT));
}

/* One server and one client context serve two connections, one after the
 * other and side by side; a closed connection's requests are forgotten. */
static void contexts_shared_by_connections(void **state)
{
	(void)state;
	struct hq_test a, b;
	char hex[65];
	hq_start(&a, false);
	mpq_hq_request *ra = get(&a, "/small.txt", NULL);
	run_until_done(&a.p, ra);
	expect_body(ra, small_body, strlen(small_body));
	/* A second connection to the same server context, from the same client
	 * (b's requests are timed by a's clock, which stands still meanwhile). */
	memset(&b, 0, sizeof(b));
	b.srv = a.srv;
	b.cli = a.cli;
	b.scb = a.scb;
	b.ccb = a.ccb;
	struct pair_opts o = {.app = {&fwd_cb, &fwd_cb}, .app_state = &b};
	assert_int_equal(pair_init(&b.p, &o), 0);
	assert_true(pair_run(&b.p, pair_both_complete, LIMIT));
	mpq_hq_request *rb = mpq_hq_client_request(a.cli, 0);
	assert_int_equal(mpq_hq_client_get(a.cli, b.p.conn[PAIR_CLIENT], "/dir/inner.txt", NULL,
					   &rb),
			 0);
	mpq_hq_request *missing;
	assert_int_equal(mpq_hq_client_get(a.cli, b.p.conn[PAIR_CLIENT], "/missing", NULL,
					   &missing),
			 0);
	assert_int_equal(mpq_hq_request_stream(rb), 0);
	run_until_done(&b.p, missing);
	run_until_done(&b.p, rb);
	sha256_hex(inner_body, strlen(inner_body), hex);
	assert_int_equal(mpq_hq_request_status(rb), MPQ_HQ_OK);
	assert_string_equal(mpq_hq_request_sha256(rb), hex);
	expect_reset(missing, MPQ_HQ_ERR_NOT_FOUND);
	/* Back to the first connection, still open. */
	ra = get(&a, "/123", NULL);
	assert_int_equal(mpq_hq_request_stream(ra), 4);
	run_until_done(&a.p, ra);
	expect_body(ra, file123_body, strlen(file123_body));
	assert_true(mpq_hq_client_done(a.cli));
	/* b goes away with a request under way; a goes on. */
	pair_run(&b.p, NULL, MPQ_SEC); /* b's finished streams close */
	size_t active = mpq_hq_server_active(a.srv);
	assert_int_equal(active, 1); /* a's last one, not acknowledged yet */
	rb = get(&b, "/big.bin", NULL);
	pair_run(&b.p, NULL, 60 * MPQ_MS);
	assert_int_equal(mpq_hq_server_active(a.srv), active + 1);
	mpq_hq_client_conn_closed(b.cli, b.p.conn[PAIR_CLIENT]);
	mpq_hq_server_conn_closed(b.srv, b.p.conn[PAIR_SERVER]);
	pair_free(&b.p);
	assert_int_equal(mpq_hq_request_status(rb), MPQ_HQ_INCOMPLETE);
	assert_int_equal(mpq_hq_server_active(a.srv), active);
	ra = get(&a, "/big.bin", NULL);
	hq_run(&a);
	expect_body(ra, tree.big, BIG_SIZE);
	assert_int_equal(mpq_hq_client_count(a.cli), 6);
	hq_finish(&a);
}

static void requests_beyond_stream_limit_wait(void **state)
{
	(void)state;
	struct hq_test t;
	struct pair_opts o = {0};
	hq_start_opts(&t, &o, false, NULL);
	/* The server is created on the first datagram: lower its limit first. */
	t.p.tparams[PAIR_SERVER].initial_max_streams_bidi = 3;
	assert_true(pair_run(&t.p, pair_both_complete, LIMIT));
	enum { N = 14 };
	mpq_hq_request *r[N];
	for (int i = 0; i < N; i++)
		r[i] = get(&t, i % 2 ? "/small.txt" : "/20000", NULL);
	for (int i = 0; i < N; i++)
		assert_int_equal(mpq_hq_request_status(r[i]),
				 i < 3 ? MPQ_HQ_ACTIVE : MPQ_HQ_WAITING);
	hq_run(&t);
	uint8_t want[20000];
	mpq_hq_pattern_fill(want, 0, sizeof(want));
	for (int i = 0; i < N; i++) {
		if (i % 2)
			expect_body(r[i], small_body, strlen(small_body));
		else
			expect_body(r[i], want, sizeof(want));
		/* Issued in order, one stream each. */
		assert_int_equal(mpq_hq_request_stream(r[i]), 4 * i);
	}
	hq_finish(&t);
}

static void refused(bool force_realpath)
{
	struct hq_test t;
	hq_start(&t, force_realpath);
	static const struct {
		const char *path;
		uint64_t code;
	} cases[] = {
		{"/missing", MPQ_HQ_ERR_NOT_FOUND},
		{"/dir", MPQ_HQ_ERR_NOT_FOUND},
		{"/dir/", MPQ_HQ_ERR_NOT_FOUND},
		{"/", MPQ_HQ_ERR_NOT_FOUND},
		{"/small.txt/x", MPQ_HQ_ERR_NOT_FOUND},
		{"/../x", MPQ_HQ_ERR_FORBIDDEN},
		{"/a/../../x", MPQ_HQ_ERR_FORBIDDEN},
		{"/dir/../small.txt", MPQ_HQ_ERR_FORBIDDEN},
		{"//etc/passwd", MPQ_HQ_ERR_FORBIDDEN},
		{"/%2e%2e/x", MPQ_HQ_ERR_FORBIDDEN},
		{"/a/%2E%2E/%2e%2e/x", MPQ_HQ_ERR_FORBIDDEN},
		{"/%2e%2e%2fx", MPQ_HQ_ERR_FORBIDDEN},
		{"/%2fetc/passwd", MPQ_HQ_ERR_FORBIDDEN},
		{"/small.txt%00", MPQ_HQ_ERR_FORBIDDEN},
		{"/escape_rel", MPQ_HQ_ERR_FORBIDDEN},
		{"/escape_abs", MPQ_HQ_ERR_FORBIDDEN},
		{"/escape_dir/secret", MPQ_HQ_ERR_FORBIDDEN},
		{"/small%zz", MPQ_HQ_ERR_BAD_REQUEST},
		{"/small.txt HTTP/1.0", MPQ_HQ_ERR_BAD_REQUEST},
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	mpq_hq_request *r[N];
	for (size_t i = 0; i < N; i++)
		r[i] = get(&t, cases[i].path, NULL);
	hq_run(&t);
	for (size_t i = 0; i < N; i++) {
		if (mpq_hq_request_status(r[i]) != MPQ_HQ_RESET ||
		    mpq_hq_request_code(r[i]) != cases[i].code)
			fail_msg("%s: %s, code %llu (expected %llu)%s", cases[i].path,
				 mpq_hq_status_name(mpq_hq_request_status(r[i])),
				 (unsigned long long)mpq_hq_request_code(r[i]),
				 (unsigned long long)cases[i].code,
				 force_realpath ? " with realpath" : "");
		/* Never a byte, so never the secret. */
		expect_reset(r[i], cases[i].code);
	}
	hq_finish(&t);
}

static void refusals_openat2(void **state)
{
	(void)state;
	refused(false);
}

static void refusals_realpath(void **state)
{
	(void)state;
	refused(true);
}

/* ---- Requests the hq client would never send, written raw ---- */

enum { RAW_MAX = 32 };

struct raw {
	uint64_t bytes[RAW_MAX];
	uint8_t head[RAW_MAX][64];
	bool fin[RAW_MAX], reset[RAW_MAX], stopped[RAW_MAX];
	uint64_t reset_code[RAW_MAX], stop_code[RAW_MAX];
};

struct raw_test {
	struct hq_test t;
	struct raw w;
};

static struct raw *raw_of(void *ud)
{
	return &((struct raw_test *)ud)->w;
}

/* Bidirectional streams in the low half, unidirectional in the high one. */
static size_t raw_slot(int64_t id)
{
	size_t i = (size_t)(id >> 2);
	assert_true(i < RAW_MAX / 2);
	return id & 2 ? RAW_MAX / 2 + i : i;
}

static int raw_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len, bool fin,
		    void *ud)
{
	(void)c;
	struct raw *w = raw_of(ud);
	size_t i = raw_slot(id);
	for (size_t k = 0; k < len; k++)
		if (off + k < sizeof(w->head[i]))
			w->head[i][off + k] = d[k];
	w->bytes[i] += len;
	w->fin[i] |= fin;
	return 0;
}

static int raw_reset(mpq_conn *c, int64_t id, uint64_t code, void *ud)
{
	(void)c;
	struct raw *w = raw_of(ud);
	w->reset[raw_slot(id)] = true;
	w->reset_code[raw_slot(id)] = code;
	return 0;
}

static int raw_stop(mpq_conn *c, int64_t id, uint64_t code, void *ud)
{
	(void)c;
	struct raw *w = raw_of(ud);
	w->stopped[raw_slot(id)] = true;
	w->stop_code[raw_slot(id)] = code;
	return 0;
}


static int64_t raw_send(struct hq_test *t, const void *data, size_t len, bool fin)
{
	int64_t id;
	assert_int_equal(mpq_conn_open_stream(t->p.conn[PAIR_CLIENT], true, &id), 0);
	assert_int_equal(mpq_conn_stream_write(t->p.conn[PAIR_CLIENT], id, data, len, fin),
			 (int64_t)len);
	return id;
}

static void raw_write(struct hq_test *t, int64_t id, const char *s, bool fin)
{
	assert_int_equal(mpq_conn_stream_write(t->p.conn[PAIR_CLIENT], id, (const uint8_t *)s,
					       strlen(s), fin),
			 (int64_t)strlen(s));
}

static void malformed_requests(void **state)
{
	(void)state;
	struct raw_test *rt = calloc(1, sizeof(*rt));
	assert_non_null(rt);
	struct hq_test *t = &rt->t;
	/* The client side is raw. */
	mpq_callbacks raw_cb = {
		.struct_version = MPQ_CALLBACKS_VERSION,
		.stream_data = raw_data,
		.stream_reset = raw_reset,
		.stream_stop_sending = raw_stop,
		.user_data = rt,
	};
	struct pair_opts o = {0};
	hq_start_opts(t, &o, false, &raw_cb);
	assert_true(pair_run(&t->p, pair_both_complete, LIMIT));
	struct raw *w = &rt->w;

	/* Over-long, never ending: refused once 4 KiB came, and told to stop.
	 * Sent alone: see refusal_among_busy_streams for why. */
	uint8_t *junk = malloc(6000);
	assert_non_null(junk);
	memset(junk, 'A', 6000);
	int64_t longreq = raw_send(t, junk, 6000, false);
	pair_run(&t->p, NULL, 200 * MPQ_MS);
	int64_t post = raw_send(t, "POST /small.txt\r\n", 17, true);
	int64_t nopath = raw_send(t, "GET small.txt\r\n", 15, true);
	int64_t empty = raw_send(t, "", 0, true);
	int64_t lf = raw_send(t, "GET /small.txt\n", 15, true);
	int64_t nole = raw_send(t, "GET /small.txt", 14, true);
	/* Just at the limit ("GET /" + 4089 'a' + "\r\n" = 4096 bytes). */
	memcpy(junk, "GET /", 5);
	memset(junk + 5, 'a', 4089);
	memcpy(junk + 4094, "\r\n", 2);
	int64_t atlimit = raw_send(t, junk, 4096, true);
	/* One byte over it. */
	memset(junk + 5, 'a', 4090);
	memcpy(junk + 4095, "\r\n", 2);
	int64_t overlimit = raw_send(t, junk, 4097, true);
	free(junk);
	/* A request in pieces, each in its own packet. */
	int64_t split;
	assert_int_equal(mpq_conn_open_stream(t->p.conn[PAIR_CLIENT], true, &split), 0);
	raw_write(t, split, "GE", false);
	pair_run(&t->p, NULL, 30 * MPQ_MS);
	raw_write(t, split, "T /inl", false);
	pair_run(&t->p, NULL, 30 * MPQ_MS);
	raw_write(t, split, "ink\r", false);
	pair_run(&t->p, NULL, 30 * MPQ_MS);
	raw_write(t, split, "\n", false);
	pair_run(&t->p, NULL, 30 * MPQ_MS);
	/* Answered before the FIN; what follows the line is ignored. */
	assert_int_equal(w->bytes[raw_slot(split)], strlen(small_body));
	assert_true(w->fin[raw_slot(split)]);
	raw_write(t, split, "trailing", true);
	/* A unidirectional stream is not a request. */
	int64_t uni;
	assert_int_equal(mpq_conn_open_stream(t->p.conn[PAIR_CLIENT], false, &uni), 0);
	assert_int_equal(mpq_conn_stream_write(t->p.conn[PAIR_CLIENT], uni,
					       (const uint8_t *)"GET /small.txt\r\n", 16, false),
			 16);
	pair_run(&t->p, NULL, 3 * MPQ_SEC);

	int64_t bad[] = {post, nopath, empty, longreq, overlimit};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t s = raw_slot(bad[i]);
		assert_true(w->reset[s]);
		assert_int_equal(w->reset_code[s], MPQ_HQ_ERR_BAD_REQUEST);
		assert_int_equal(w->bytes[s], 0);
		assert_false(w->fin[s]);
	}
	assert_true(w->stopped[raw_slot(longreq)]);
	assert_int_equal(w->stop_code[raw_slot(longreq)], MPQ_HQ_ERR_BAD_REQUEST);
	assert_true(w->reset[raw_slot(atlimit)]);
	assert_int_equal(w->reset_code[raw_slot(atlimit)], MPQ_HQ_ERR_NOT_FOUND);
	int64_t good[] = {lf, nole, split};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t s = raw_slot(good[i]);
		assert_false(w->reset[s]);
		assert_true(w->fin[s]);
		assert_int_equal(w->bytes[s], strlen(small_body));
		assert_memory_equal(w->head[s], small_body, strlen(small_body));
	}
	/* Uni stream 2 → the server asked the client to stop with BAD_REQUEST. */
	assert_true(w->stopped[raw_slot(uni)]);
	assert_int_equal(w->stop_code[raw_slot(uni)], MPQ_HQ_ERR_BAD_REQUEST);
	assert_false(mpq_conn_get_error(t->p.conn[PAIR_SERVER])->set);
	hq_finish(t);
	free(rt);
}

/* The sink fails: the client asks the server to stop, the server closes the
 * file at once. */
static void sink_failure_stops_server(void **state)
{
	(void)state;
	struct hq_test t;
	hq_start(&t, false);
	int rdonly = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(rdonly >= 0);
	mpq_hq_sink sink;
	assert_int_equal(mpq_hq_sink_fd(&sink, rdonly), 0);
	mpq_hq_request *r = get(&t, "/big.bin", &sink);
	mpq_hq_request *ok = get(&t, "/small.txt", NULL);
	hq_run(&t);
	assert_int_equal(mpq_hq_request_status(r), MPQ_HQ_INCOMPLETE);
	assert_int_equal(mpq_hq_request_errno(r), EBADF);
	assert_int_equal(mpq_hq_request_error(r), 0);
	assert_int_equal(mpq_hq_request_bytes(r), 0);
	expect_body(ok, small_body, strlen(small_body));
	/* Stopped long before 3 MB went out. */
	pair_run(&t.p, NULL, 2 * MPQ_SEC);
	assert_int_equal(mpq_hq_server_active(t.srv), 0);
	assert_true(t.p.bytes_sent[PAIR_SERVER] < BIG_SIZE / 2);
	close(rdonly);
	hq_finish(&t);
}

/* Files from memory: the server reads only through mpq_hq_files. "/mem" is
 * MEM_SIZE bytes of the generated pattern whose reads fail with EIO from
 * MEM_FAIL on; "/gone" refuses as forbidden; anything else is not found. */
#define MEM_SIZE 60000
#define MEM_FAIL 20000

struct mem_files {
	int opens, closes, reads;
	char last_rel[64];
};

static uint64_t mem_open(void *ud, const char *rel, void **file, uint64_t *size)
{
	struct mem_files *m = ud;
	snprintf(m->last_rel, sizeof(m->last_rel), "%s", rel);
	if (!strcmp(rel, "gone"))
		return MPQ_HQ_ERR_FORBIDDEN;
	if (strcmp(rel, "mem"))
		return MPQ_HQ_ERR_NOT_FOUND;
	m->opens++;
	*file = m;
	*size = MEM_SIZE;
	return 0;
}

static int64_t mem_read(void *ud, void *file, uint8_t *buf, size_t len, uint64_t offset)
{
	struct mem_files *m = ud;
	assert_ptr_equal(file, m);
	m->reads++;
	if (offset + len > MEM_FAIL)
		return -EIO;
	mpq_hq_pattern_fill(buf, offset, len);
	return (int64_t)len;
}

static void mem_close(void *ud, void *file)
{
	struct mem_files *m = ud;
	assert_ptr_equal(file, m);
	m->closes++;
}

static void server_reads_through_files(void **state)
{
	(void)state;
	struct mem_files m = {0};
	struct hq_test t;
	hq_start(&t, false);
	/* The same server, on files from memory. */
	mpq_hq_server_free(t.srv);
	mpq_hq_server_config sc = {.struct_version = MPQ_HQ_SERVER_CONFIG_VERSION,
				   .files = {.open = mem_open,
					     .read = mem_read,
					     .close = mem_close,
					     .user_data = &m}};
	assert_int_equal(mpq_hq_server_new(&t.srv, &sc), 0);
	mpq_hq_server_callbacks(&t.scb, t.srv);
	mpq_hq_request *mem = get(&t, "/m%65m", NULL);
	mpq_hq_request *gone = get(&t, "/gone", NULL);
	mpq_hq_request *missing = get(&t, "/no/such", NULL);
	mpq_hq_request *gen = get(&t, "/777", NULL);
	hq_run(&t);
	/* The read error resets the stream once the readable part went out. */
	assert_int_equal(mpq_hq_request_status(mem), MPQ_HQ_RESET);
	assert_int_equal(mpq_hq_request_code(mem), MPQ_HQ_ERR_INTERNAL);
	assert_true(mpq_hq_request_bytes(mem) <= MEM_FAIL);
	expect_reset(gone, MPQ_HQ_ERR_FORBIDDEN);
	expect_reset(missing, MPQ_HQ_ERR_NOT_FOUND);
	assert_string_equal(m.last_rel, "777");
	uint8_t want[777];
	mpq_hq_pattern_fill(want, 0, sizeof(want));
	expect_body(gen, want, sizeof(want));
	assert_int_equal(m.opens, 1);
	assert_true(m.reads >= 2);
	hq_finish(&t);
	assert_int_equal(m.closes, 1);
}

/* Bursts: three datagrams in a row out of every 37, each way, after the
 * handshake's first ones. */
/* The file shrinks while it is being sent: the stream ends with INTERNAL
 * after the bytes that could be read, which are the file's own. */
static void file_truncated_while_sent(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof(path), "%s/www/shrinks.bin", tree.top);
	put_file("www/shrinks.bin", tree.big, BIG_SIZE);
	struct hq_test t;
	hq_start(&t, false);
	mpq_hq_request *r = get(&t, "/shrinks.bin", NULL);
	pair_run(&t.p, NULL, 60 * MPQ_MS);
	assert_true(mpq_hq_request_bytes(r) > 0);
	assert_int_equal(truncate(path, 1000), 0);
	hq_run(&t);
	assert_int_equal(mpq_hq_request_status(r), MPQ_HQ_RESET);
	assert_int_equal(mpq_hq_request_code(r), MPQ_HQ_ERR_INTERNAL);
	uint64_t n = mpq_hq_request_bytes(r);
	assert_true(n > 0 && n < BIG_SIZE);
	char hex[65];
	sha256_hex(tree.big, (size_t)n, hex);
	assert_string_equal(mpq_hq_request_sha256(r), hex);
	hq_finish(&t);
	assert_int_equal(unlink(path), 0);
}

static bool drop_bursts(struct conn_pair *p, int from, size_t index, size_t flight,
			const uint8_t *d, size_t len)
{
	(void)p;
	(void)flight;
	(void)d;
	(void)len;
	return index > 4 && (index + 11 * (size_t)from) % 37 < 3;
}

static void fetch_with_loss(void **state)
{
	(void)state;
	struct hq_test t;
	struct pair_opts o = {.drop = drop_bursts};
	hq_start_opts(&t, &o, false, NULL);
	assert_true(pair_run(&t.p, pair_both_complete, LIMIT));
	mpq_hq_request *big = get(&t, "/big.bin", NULL);
	mpq_hq_request *gen = get(&t, "/300000", NULL);
	mpq_hq_request *small = get(&t, "/small.txt", NULL);
	mpq_hq_request *missing = get(&t, "/missing", NULL);
	hq_run(&t);
	expect_reset(missing, MPQ_HQ_ERR_NOT_FOUND);
	expect_body(big, tree.big, BIG_SIZE);
	expect_body(small, small_body, strlen(small_body));
	uint8_t *want = malloc(300000);
	assert_non_null(want);
	mpq_hq_pattern_fill(want, 0, 300000);
	expect_body(gen, want, 300000);
	free(want);
	hq_finish(&t);
}

struct log_count {
	size_t lines;
	char last[512];
};

static uint64_t real_now(void *ud)
{
	struct timespec ts;
	(void)ud;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MPQ_SEC + (uint64_t)ts.tv_nsec;
}

static void count_log(void *ud, int level, const char *msg)
{
	struct log_count *lc = ud;
	assert_true(level == 0 || level == 1);
	lc->lines++;
	snprintf(lc->last, sizeof(lc->last), "%s", msg);
}

static void logs_requests(void **state)
{
	(void)state;
	struct log_count slog = {0}, clog = {0};
	struct hq_test t;
	struct pair_opts o = {0};
	memset(&t, 0, sizeof(t));
	assert_int_equal(mpq_hq_root_open(&t.root, tree.www, false), 0);
	mpq_hq_server_config sc = {.struct_version = MPQ_HQ_SERVER_CONFIG_VERSION,
				   .files = mpq_hq_root_files(t.root),
				   .log = count_log,
				   .log_user_data = &slog};
	mpq_hq_client_config cc = {.struct_version = MPQ_HQ_CLIENT_CONFIG_VERSION,
				   .now = real_now,
				   .log = count_log,
				   .log_user_data = &clog};
	assert_int_equal(mpq_hq_server_new(&t.srv, &sc), 0);
	assert_int_equal(mpq_hq_client_new(&t.cli, &cc), 0);
	mpq_hq_server_callbacks(&t.scb, t.srv);
	mpq_hq_client_callbacks(&t.ccb, t.cli);
	o.app[PAIR_CLIENT] = o.app[PAIR_SERVER] = &fwd_cb;
	o.app_state = &t;
	assert_int_equal(pair_init(&t.p, &o), 0);
	mpq_hq_request *r = get(&t, "/missing", NULL);
	mpq_hq_request *ok = get(&t, "/small.txt", NULL);
	for (int i = 0; i < 100 && !mpq_hq_client_done(t.cli); i++)
		pair_run(&t.p, NULL, 100 * MPQ_MS);
	assert_true(mpq_hq_client_done(t.cli));
	expect_reset(r, MPQ_HQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_hq_request_status(ok), MPQ_HQ_OK);
	assert_int_equal(slog.lines, 2);
	assert_int_equal(clog.lines, 2);
	assert_non_null(strstr(slog.last, "GET /small.txt: 22 bytes"));
	assert_non_null(strstr(clog.last, "GET /small.txt: ok, 22 bytes"));
	/* The real clock timed it. */
	uint64_t sent, first, last;
	mpq_hq_request_times(ok, &sent, &first, &last);
	assert_true(sent > 0 && first >= sent && last >= first);
	mpq_hq_client_conn_closed(t.cli, t.p.conn[0]);
	mpq_hq_server_conn_closed(t.srv, t.p.conn[1]);
	pair_free(&t.p);
	mpq_hq_client_free(t.cli);
	mpq_hq_server_free(t.srv);
	mpq_hq_root_close(t.root);
}

/* ---- HTTP/3 over the same server and client ---- */

/* A pair speaking h3 (the server offers both protocols). With |server| the
 * server side gets those callbacks instead of the hq server's. */
static void h3_start_opts(struct hq_test *t, const mpq_callbacks *client,
			  const mpq_callbacks *server)
{
	struct pair_opts o = {.client_alpn = MPQ_H3_ALPN, .server_alpn = "hq-interop,h3"};
	hq_start_opts(t, &o, false, client);
	if (server)
		t->scb = *server;
	assert_true(pair_run(&t->p, pair_both_complete, LIMIT));
	size_t n = 0;
	const uint8_t *a = mpq_conn_alpn(t->p.conn[PAIR_SERVER], &n);
	assert_int_equal(n, 2);
	assert_memory_equal(a, "h3", 2);
}

/* Ended by a refusal status, with no body; the code is the hq one it
 * stands for. */
static void expect_status(const mpq_hq_request *r, unsigned status, uint64_t code)
{
	char hex[65];
	sha256_hex("", 0, hex);
	assert_int_equal(mpq_hq_request_status(r), MPQ_HQ_RESET);
	assert_int_equal(mpq_hq_request_http_status(r), status);
	assert_int_equal(mpq_hq_request_code(r), code);
	assert_int_equal(mpq_hq_request_bytes(r), 0);
	assert_string_equal(mpq_hq_request_sha256(r), hex);
}

static void h3_fetch(void **state)
{
	(void)state;
	struct hq_test t;
	h3_start_opts(&t, NULL, NULL);
	assert_int_equal(mpq_hq_client_set_authority(t.cli, "localhost:4433"), 0);
	assert_int_equal(mpq_hq_client_set_authority(t.cli, "a b"), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_hq_client_set_authority(t.cli, ""), MPQ_ERR_INVALID_ARGUMENT);
	mpq_hq_request *small = get(&t, "/small.txt", NULL);
	mpq_hq_request *big = get(&t, "/big.bin", NULL);
	mpq_hq_request *gen = get(&t, "/300001", NULL);
	mpq_hq_request *empty = get(&t, "/empty", NULL);
	mpq_hq_request *inner = get(&t, "/dir/inner.txt", NULL);
	mpq_hq_request *query = get(&t, "/small.txt?v=1&w=%zz", NULL);
	mpq_hq_request *missing = get(&t, "/nope", NULL);
	mpq_hq_request *dir = get(&t, "/dir", NULL);
	mpq_hq_request *dotdot = get(&t, "/../x", NULL);
	mpq_hq_request *escape = get(&t, "/escape_rel", NULL);
	mpq_hq_request *badpct = get(&t, "/%zz", NULL);
	hq_run(&t);
	expect_body(small, small_body, strlen(small_body));
	expect_body(big, tree.big, BIG_SIZE);
	uint8_t *pattern = malloc(300001);
	assert_non_null(pattern);
	mpq_hq_pattern_fill(pattern, 0, 300001);
	expect_body(gen, pattern, 300001);
	free(pattern);
	expect_body(empty, "", 0);
	expect_body(inner, inner_body, strlen(inner_body));
	expect_body(query, small_body, strlen(small_body));
	assert_int_equal(mpq_hq_request_http_status(small), 200);
	expect_status(missing, 404, MPQ_HQ_ERR_NOT_FOUND);
	expect_status(dir, 404, MPQ_HQ_ERR_NOT_FOUND);
	expect_status(dotdot, 403, MPQ_HQ_ERR_FORBIDDEN);
	expect_status(escape, 403, MPQ_HQ_ERR_FORBIDDEN);
	expect_status(badpct, 400, MPQ_HQ_ERR_BAD_REQUEST);
	/* All on the one connection, each on its own stream. */
	for (size_t i = 0; i < mpq_hq_client_count(t.cli); i++)
		assert_int_equal(mpq_hq_request_stream(mpq_hq_client_request(t.cli, i)), 4 * i);
	assert_false(mpq_conn_get_error(t.p.conn[PAIR_SERVER])->set);
	/* A GOAWAY (naming stream 44) is no error for the client. */
	mpq_hq_server_goaway(t.srv, t.p.conn[PAIR_SERVER]);
	hq_finish(&t);
}

/* The server offering both still speaks hq-interop to an hq client. */
static void h3_server_speaks_hq_too(void **state)
{
	(void)state;
	struct hq_test t;
	struct pair_opts o = {.server_alpn = "hq-interop,h3"};
	hq_start_opts(&t, &o, false, NULL);
	assert_true(pair_run(&t.p, pair_both_complete, LIMIT));
	mpq_hq_request *small = get(&t, "/small.txt", NULL);
	mpq_hq_request *missing = get(&t, "/nope", NULL);
	hq_run(&t);
	expect_body(small, small_body, strlen(small_body));
	expect_reset(missing, MPQ_HQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_hq_request_http_status(small), 0);
	/* Nothing to say before closing on hq-interop, and code 0. */
	mpq_hq_server_goaway(t.srv, t.p.conn[PAIR_SERVER]);
	assert_int_equal(mpq_hq_close_code(t.p.conn[PAIR_SERVER]), 0);
	hq_finish(&t);
}

/* Raw HTTP/3 from the client side. */
static int64_t raw_uni(struct hq_test *t, const void *data, size_t len, bool fin)
{
	int64_t id;
	assert_int_equal(mpq_conn_open_stream(t->p.conn[PAIR_CLIENT], false, &id), 0);
	assert_int_equal(mpq_conn_stream_write(t->p.conn[PAIR_CLIENT], id, data, len, fin),
			 (int64_t)len);
	return id;
}

#define F(n, v) \
	{ \
		(const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), sizeof(v) - 1 \
	}

/* A HEADERS frame of |n| fields. */
static size_t headers(uint8_t *out, size_t cap, const mpq_qpack_field *f, size_t n)
{
	uint8_t sec[512];
	ssize_t len = mpq_qpack_encode(sec, sizeof(sec), f, n);
	assert_true(len > 0);
	size_t h = mpq_h3_write_frame_header(out, cap, MPQ_H3_HEADERS, (uint64_t)len);
	assert_true(h > 0 && h + (size_t)len <= cap);
	memcpy(out + h, sec, (size_t)len);
	return h + (size_t)len;
}

static int64_t raw_request(struct hq_test *t, const mpq_qpack_field *f, size_t n)
{
	uint8_t frame[600];
	return raw_send(t, frame, headers(frame, sizeof(frame), f, n), true);
}

/* The :status of the response HEADERS at the start of |head|. */
static unsigned raw_status(const uint8_t *head, size_t len)
{
	uint64_t type, flen;
	size_t a = mpq_h3_varint(head, len, &type);
	size_t b = mpq_h3_varint(head + a, len - a, &flen);
	assert_int_equal(type, MPQ_H3_HEADERS);
	assert_true(a && b && a + b + flen <= len);
	unsigned status = 0;
	assert_int_equal(mpq_h3_parse_response_head(head + a + b, (size_t)flen, &status), 0);
	return status;
}

static void h3_malformed_requests(void **state)
{
	(void)state;
	struct raw_test *rt = calloc(1, sizeof(*rt));
	assert_non_null(rt);
	struct hq_test *t = &rt->t;
	mpq_callbacks raw_cb = {
		.struct_version = MPQ_CALLBACKS_VERSION,
		.stream_data = raw_data,
		.stream_reset = raw_reset,
		.stream_stop_sending = raw_stop,
		.user_data = rt,
	};
	h3_start_opts(t, &raw_cb, NULL);
	struct raw *w = &rt->w;
	uint8_t ctl[64] = {MPQ_H3_STREAM_CONTROL};
	raw_uni(t, ctl, 1 + mpq_h3_write_settings(ctl + 1, sizeof(ctl) - 1, 0), false);
	static const uint8_t enc[] = {MPQ_H3_STREAM_QPACK_ENCODER, 0x20};
	raw_uni(t, enc, sizeof(enc), false);
	static const uint8_t odd[] = {0x21, 'x', 'y'};
	int64_t unknown = raw_uni(t, odd, sizeof(odd), false);

	const mpq_qpack_field ok_host[] = {F(":method", "GET"), F(":scheme", "https"),
					   F(":path", "/small.txt"), F("host", "localhost")};
	const mpq_qpack_field no_auth[] = {F(":method", "GET"), F(":scheme", "https"),
					   F(":path", "/small.txt")};
	const mpq_qpack_field upper[] = {F(":method", "GET"), F(":scheme", "https"),
					 F(":authority", "x"), F(":path", "/small.txt"),
					 F("User-Agent", "x")};
	const mpq_qpack_field late[] = {F(":method", "GET"), F(":scheme", "https"),
					F("user-agent", "x"), F(":authority", "x"),
					F(":path", "/small.txt")};
	const mpq_qpack_field status[] = {F(":method", "GET"), F(":scheme", "https"),
					  F(":authority", "x"), F(":path", "/small.txt"),
					  F(":status", "200")};
	const mpq_qpack_field twice[] = {F(":method", "GET"), F(":scheme", "https"),
					 F(":authority", "x"), F(":path", "/small.txt"),
					 F(":path", "/small.txt")};
	const mpq_qpack_field conn[] = {F(":method", "GET"), F(":scheme", "https"),
					F(":authority", "x"), F(":path", "/small.txt"),
					F("connection", "close")};
	const mpq_qpack_field post[] = {F(":method", "POST"), F(":scheme", "https"),
					F(":authority", "x"), F(":path", "/small.txt")};
	int64_t good = raw_request(t, ok_host, 4);
	int64_t bad[] = {
		raw_request(t, no_auth, 3), raw_request(t, upper, 5), raw_request(t, late, 5),
		raw_request(t, status, 5),  raw_request(t, twice, 5), raw_request(t, conn, 5),
	};
	int64_t p405 = raw_request(t, post, 4);
	int64_t nohead = raw_send(t, "", 0, true);
	pair_run(&t->p, NULL, 3 * MPQ_SEC);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t s = raw_slot(bad[i]);
		assert_true(w->reset[s]);
		assert_int_equal(w->reset_code[s], MPQ_H3_MESSAGE_ERROR);
		assert_int_equal(w->bytes[s], 0);
	}
	assert_true(w->reset[raw_slot(nohead)]);
	assert_int_equal(w->reset_code[raw_slot(nohead)], MPQ_H3_REQUEST_INCOMPLETE);
	size_t s = raw_slot(p405);
	assert_true(w->fin[s] && !w->reset[s]);
	assert_int_equal(raw_status(w->head[s], (size_t)w->bytes[s]), 405);
	/* The good one: 200, then the body in a DATA frame. */
	s = raw_slot(good);
	assert_true(w->fin[s] && !w->reset[s]);
	assert_int_equal(raw_status(w->head[s], sizeof(w->head[s])), 200);
	const uint8_t *tail = w->head[s] + w->bytes[s] - strlen(small_body);
	assert_memory_equal(tail, small_body, strlen(small_body));
	assert_int_equal(tail[-2], MPQ_H3_DATA);
	assert_int_equal(tail[-1], strlen(small_body));
	/* The unknown stream type is stopped; the server's control stream
	 * (3) starts with its type and SETTINGS. */
	assert_true(w->stopped[raw_slot(unknown)]);
	assert_int_equal(w->stop_code[raw_slot(unknown)], MPQ_H3_STREAM_CREATION_ERROR);
	s = raw_slot(3);
	assert_true(w->bytes[s] > 3);
	assert_int_equal(w->head[s][0], MPQ_H3_STREAM_CONTROL);
	assert_int_equal(w->head[s][1], MPQ_H3_SETTINGS);
	assert_false(w->fin[s]);
	assert_false(mpq_conn_get_error(t->p.conn[PAIR_SERVER])->set);
	/* Shutting down: GOAWAY names the stream after the last request (32),
	 * once; the close code is H3_NO_ERROR. */
	uint64_t before = w->bytes[s];
	mpq_hq_server_goaway(t->srv, t->p.conn[PAIR_SERVER]);
	mpq_hq_server_goaway(t->srv, t->p.conn[PAIR_SERVER]);
	pair_run(&t->p, NULL, 100 * MPQ_MS);
	assert_int_equal(w->bytes[s], before + 3);
	assert_memory_equal(w->head[s] + before, "\x07\x01\x24", 3);
	assert_int_equal(mpq_hq_close_code(t->p.conn[PAIR_SERVER]), MPQ_H3_NO_ERROR);
	hq_finish(t);
	free(rt);
}

/* An h3 pair whose client side (or with |server|, server side) is raw. */
static struct raw_test *h3_raw_start(bool server)
{
	struct raw_test *rt = calloc(1, sizeof(*rt));
	assert_non_null(rt);
	mpq_callbacks raw_cb = {.struct_version = MPQ_CALLBACKS_VERSION,
				.stream_data = raw_data,
				.stream_reset = raw_reset,
				.stream_stop_sending = raw_stop,
				.user_data = rt};
	h3_start_opts(&rt->t, server ? NULL : &raw_cb, server ? &raw_cb : NULL);
	return rt;
}

/* Tears it down after its connection failed (the client's requests were
 * ended by mpq_hq_client_conn_closed). */
static void h3_raw_end(struct raw_test *rt)
{
	struct hq_test *t = &rt->t;
	mpq_hq_server_conn_closed(t->srv, t->p.conn[PAIR_SERVER]);
	pair_free(&t->p);
	mpq_hq_client_free(t->cli);
	mpq_hq_server_free(t->srv);
	mpq_hq_root_close(t->root);
	free(rt);
}

/* The server's control stream and SETTINGS come right after the handshake,
 * before the client opened any stream. */
static void h3_server_settings_first(void **state)
{
	(void)state;
	struct raw_test *rt = h3_raw_start(false);
	pair_run(&rt->t.p, NULL, 100 * MPQ_MS);
	size_t s = raw_slot(3);
	assert_true(rt->w.bytes[s] > 3);
	assert_int_equal(rt->w.head[s][0], MPQ_H3_STREAM_CONTROL);
	assert_int_equal(rt->w.head[s][1], MPQ_H3_SETTINGS);
	struct mpq_h3_settings st;
	assert_int_equal(mpq_h3_parse_settings(rt->w.head[s] + 3, rt->w.head[s][2], &st), 0);
	assert_int_equal(st.qpack_max_table_capacity, 0);
	assert_int_equal(st.qpack_blocked_streams, 0);
	assert_int_equal(st.max_field_section_size, MPQ_H3_MAX_FIELD_SECTION);
	assert_false(mpq_conn_get_error(rt->t.p.conn[PAIR_SERVER])->set);
	h3_raw_end(rt);
}

/* A server's GOAWAY 4 after GETs on streams 0 and 4: the one on 4 ends at
 * once (the server is asked to stop), the one on 0 is answered, a GET made afterwards
 * is never sent. */
static void h3_client_goaway(void **state)
{
	(void)state;
	struct raw_test *rt = h3_raw_start(true);
	struct hq_test *t = &rt->t;
	mpq_conn *s = t->p.conn[PAIR_SERVER];
	mpq_hq_request *a = get(t, "/a", NULL), *b = get(t, "/b", NULL);
	pair_run(&t->p, NULL, 100 * MPQ_MS);
	assert_int_equal(mpq_hq_request_stream(b), 4);
	static const uint8_t ctl[] = {0x00, 0x04, 0x00, 0x07, 0x01, 0x04};
	int64_t id;
	assert_int_equal(mpq_conn_open_stream(s, false, &id), 0);
	assert_int_equal(mpq_conn_stream_write(s, id, ctl, sizeof(ctl), false), sizeof(ctl));
	pair_run(&t->p, NULL, 100 * MPQ_MS);
	assert_int_equal(mpq_hq_request_status(b), MPQ_HQ_INCOMPLETE);
	assert_int_equal(mpq_hq_request_error(b), MPQ_ERR_CLOSING);
	/* Its request went out whole: the server is asked to stop sending. */
	assert_true(rt->w.stopped[raw_slot(4)]);
	assert_int_equal(rt->w.stop_code[raw_slot(4)], MPQ_H3_REQUEST_CANCELLED);
	assert_int_equal(mpq_hq_request_status(a), MPQ_HQ_ACTIVE);
	static const uint8_t resp[] = {0x01, 0x03, 0x00, 0x00, 0xd9, 0x00, 0x02, 'o', 'k'};
	assert_int_equal(mpq_conn_stream_write(s, 0, resp, sizeof(resp), true), sizeof(resp));
	mpq_hq_request *c = get(t, "/c", NULL);
	pair_run(&t->p, NULL, 100 * MPQ_MS);
	expect_body(a, "ok", 2);
	assert_int_equal(mpq_hq_request_status(c), MPQ_HQ_INCOMPLETE);
	assert_int_equal(mpq_hq_request_error(c), MPQ_ERR_CLOSING);
	assert_int_equal(mpq_hq_request_stream(c), -1);
	assert_true(mpq_hq_client_done(t->cli));
	assert_false(mpq_conn_get_error(t->p.conn[PAIR_CLIENT])->set);
	mpq_hq_client_conn_closed(t->cli, t->p.conn[PAIR_CLIENT]);
	h3_raw_end(rt);
}

/* What makes the server close the connection, with which code. */
struct h3_case {
	const char *name;
	bool bidi;    /* on a request stream, else a unidirectional one */
	bool control; /* a valid control stream opens first */
	uint8_t data[8];
	size_t len;
	bool fin;
	uint64_t code;
};

static const struct h3_case h3_cases[] = {
	{"first control frame not SETTINGS",
	 false,
	 false,
	 {0x00, 0x07, 0x01, 0x00},
	 4,
	 false,
	 MPQ_H3_MISSING_SETTINGS},
	{"HTTP/2 setting",
	 false,
	 false,
	 {0x00, 0x04, 0x02, 0x02, 0x00},
	 5,
	 false,
	 MPQ_H3_SETTINGS_ERROR},
	{"duplicate setting",
	 false,
	 false,
	 {0x00, 0x04, 0x04, 0x06, 0x01, 0x06, 0x02},
	 7,
	 false,
	 MPQ_H3_SETTINGS_ERROR},
	{"second SETTINGS",
	 false,
	 false,
	 {0x00, 0x04, 0x00, 0x04, 0x00},
	 5,
	 false,
	 MPQ_H3_FRAME_UNEXPECTED},
	{"DATA on the control stream",
	 false,
	 false,
	 {0x00, 0x04, 0x00, 0x00, 0x00},
	 5,
	 false,
	 MPQ_H3_FRAME_UNEXPECTED},
	{"HTTP/2 PING on the control stream",
	 false,
	 false,
	 {0x00, 0x04, 0x00, 0x06, 0x00},
	 5,
	 false,
	 MPQ_H3_FRAME_UNEXPECTED},
	{"control stream closed",
	 false,
	 false,
	 {0x00, 0x04, 0x00},
	 3,
	 true,
	 MPQ_H3_CLOSED_CRITICAL_STREAM},
	{"second control stream",
	 false,
	 true,
	 {0x00, 0x04, 0x00},
	 3,
	 false,
	 MPQ_H3_STREAM_CREATION_ERROR},
	{"push stream from a client",
	 false,
	 true,
	 {0x01, 0x00},
	 2,
	 false,
	 MPQ_H3_STREAM_CREATION_ERROR},
	{"encoder stream inserts",
	 false,
	 true,
	 {0x02, 0x3f, 0x01},
	 3,
	 false,
	 MPQ_QPACK_ENCODER_STREAM_ERROR},
	{"decoder stream acknowledges",
	 false,
	 true,
	 {0x03, 0x81},
	 2,
	 false,
	 MPQ_QPACK_DECODER_STREAM_ERROR},
	{"encoder stream closed",
	 false,
	 true,
	 {0x02, 0x20},
	 2,
	 true,
	 MPQ_H3_CLOSED_CRITICAL_STREAM},
	{"DATA before HEADERS", true, true, {0x00, 0x01, 'x'}, 3, true, MPQ_H3_FRAME_UNEXPECTED},
	{"SETTINGS on a request", true, true, {0x04, 0x00}, 2, true, MPQ_H3_FRAME_UNEXPECTED},
	{"GOAWAY on a request", true, true, {0x07, 0x01, 0x00}, 3, true, MPQ_H3_FRAME_UNEXPECTED},
	{"PUSH_PROMISE from a client",
	 true,
	 true,
	 {0x05, 0x01, 0x00},
	 3,
	 true,
	 MPQ_H3_FRAME_UNEXPECTED},
	{"HTTP/2 WINDOW_UPDATE", true, true, {0x08, 0x00}, 2, true, MPQ_H3_FRAME_UNEXPECTED},
	{"request ends inside a frame",
	 true,
	 true,
	 {0x01, 0x05, 0x00},
	 3,
	 true,
	 MPQ_H3_FRAME_ERROR},
	{"bad QPACK",
	 true,
	 true,
	 {0x01, 0x03, 0x00, 0x00, 0xff},
	 5,
	 true,
	 MPQ_QPACK_DECOMPRESSION_FAILED},
};

static void h3_connection_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(h3_cases) / sizeof(h3_cases[0]); i++) {
		const struct h3_case *c = &h3_cases[i];
		struct raw_test *rt = h3_raw_start(false);
		struct hq_test *t = &rt->t;
		if (c->control)
			raw_uni(t, "\x00\x04\x00", 3, false);
		if (c->bidi)
			raw_send(t, c->data, c->len, c->fin);
		else
			raw_uni(t, c->data, c->len, c->fin);
		pair_run(&t->p, NULL, 1 * MPQ_SEC);
		const mpq_conn_error *e = mpq_conn_get_error(t->p.conn[PAIR_SERVER]);
		print_message("%s\n", c->name);
		assert_true(e->set && e->app);
		assert_int_equal(e->code, c->code);
		e = mpq_conn_get_error(t->p.conn[PAIR_CLIENT]);
		assert_true(e->set && e->remote);
		assert_int_equal(e->code, c->code);
		mpq_hq_client_conn_closed(t->cli, t->p.conn[PAIR_CLIENT]);
		h3_raw_end(rt);
	}
}

/* What a client makes of a raw server's answer on stream 0 to GET /x. */
struct h3_answer {
	const char *name;
	uint8_t ctrl[8]; /* the server's first unidirectional stream */
	size_t ctrl_len;
	uint8_t resp[24]; /* on the request stream */
	size_t resp_len;
	bool fin;
	uint64_t reset;	    /* then resets the stream with this code */
	uint64_t conn_code; /* the client closes the connection with it, or 0 */
	enum mpq_hq_status status;
	unsigned http_status;
	size_t bytes;
};

#define SETTINGS_EMPTY {0x00, 0x04, 0x00}, 3
static const struct h3_answer h3_answers[] = {
	{"103 then 200 with a body",
	 SETTINGS_EMPTY,
	 {0x01, 0x03, 0x00, 0x00, 0xd8, 0x01, 0x03, 0x00, 0x00, 0xd9, 0x00, 0x02, 'o', 'k'},
	 14,
	 true,
	 0,
	 0,
	 MPQ_HQ_OK,
	 200,
	 2},
	{"200, DATA and trailers",
	 SETTINGS_EMPTY,
	 {0x01, 0x03, 0x00, 0x00, 0xd9, 0x00, 0x01, 'x', 0x21, 0x00, 0x01, 0x02, 0x00, 0x00},
	 14,
	 true,
	 0,
	 0,
	 MPQ_HQ_OK,
	 200,
	 1},
	{"500",
	 SETTINGS_EMPTY,
	 {0x01, 0x04, 0x00, 0x00, 0xff, 0x08},
	 6,
	 true,
	 0,
	 0,
	 MPQ_HQ_RESET,
	 500,
	 0},
	{"404 with a body",
	 SETTINGS_EMPTY,
	 {0x01, 0x03, 0x00, 0x00, 0xdb, 0x00, 0x01, 'x'},
	 8,
	 true,
	 0,
	 0,
	 MPQ_HQ_RESET,
	 404,
	 0},
	{"reset", SETTINGS_EMPTY, {0}, 0, false, MPQ_H3_INTERNAL_ERROR, 0, MPQ_HQ_RESET, 0, 0},
	{"no :status",
	 SETTINGS_EMPTY,
	 {0x01, 0x03, 0x00, 0x00, 0xd1},
	 5,
	 true,
	 0,
	 0,
	 MPQ_HQ_INCOMPLETE,
	 0,
	 0},
	{"FIN without HEADERS", SETTINGS_EMPTY, {0}, 0, true, 0, 0, MPQ_HQ_INCOMPLETE, 0, 0},
	{"DATA before HEADERS",
	 SETTINGS_EMPTY,
	 {0x00, 0x01, 'x'},
	 3,
	 true,
	 0,
	 MPQ_H3_FRAME_UNEXPECTED,
	 MPQ_HQ_INCOMPLETE,
	 0,
	 0},
	{"PUSH_PROMISE never allowed",
	 SETTINGS_EMPTY,
	 {0x05, 0x01, 0x00},
	 3,
	 false,
	 0,
	 MPQ_H3_ID_ERROR,
	 MPQ_HQ_INCOMPLETE,
	 0,
	 0},
	{"response ends inside a frame",
	 SETTINGS_EMPTY,
	 {0x01, 0x05, 0x00},
	 3,
	 true,
	 0,
	 MPQ_H3_FRAME_ERROR,
	 MPQ_HQ_INCOMPLETE,
	 0,
	 0},
	{"control stream without SETTINGS",
	 {0x00, 0x07, 0x01, 0x00},
	 4,
	 {0},
	 0,
	 false,
	 0,
	 MPQ_H3_MISSING_SETTINGS,
	 MPQ_HQ_INCOMPLETE,
	 0,
	 0},
	{"MAX_PUSH_ID from a server",
	 {0x00, 0x04, 0x00, 0x0d, 0x01, 0x00},
	 6,
	 {0},
	 0,
	 false,
	 0,
	 MPQ_H3_FRAME_UNEXPECTED,
	 MPQ_HQ_INCOMPLETE,
	 0,
	 0},
	{"push stream never allowed",
	 {0x01, 0x00},
	 2,
	 {0},
	 0,
	 false,
	 0,
	 MPQ_H3_ID_ERROR,
	 MPQ_HQ_INCOMPLETE,
	 0,
	 0},
	{"GOAWAY naming a server stream",
	 {0x00, 0x04, 0x00, 0x07, 0x01, 0x01},
	 6,
	 {0},
	 0,
	 false,
	 0,
	 MPQ_H3_ID_ERROR,
	 MPQ_HQ_INCOMPLETE,
	 0,
	 0},
};

static void h3_client_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(h3_answers) / sizeof(h3_answers[0]); i++) {
		const struct h3_answer *a = &h3_answers[i];
		struct raw_test *rt = h3_raw_start(true);
		struct hq_test *t = &rt->t;
		mpq_conn *s = t->p.conn[PAIR_SERVER];
		mpq_hq_request *r = get(t, "/x", NULL);
		pair_run(&t->p, NULL, 100 * MPQ_MS);
		/* The client's control stream (2) opened first, then the GET. */
		assert_int_equal(rt->w.head[raw_slot(2)][0], MPQ_H3_STREAM_CONTROL);
		assert_int_equal(rt->w.head[raw_slot(2)][1], MPQ_H3_SETTINGS);
		assert_int_equal(rt->w.head[raw_slot(0)][0], MPQ_H3_HEADERS);
		assert_true(rt->w.fin[raw_slot(0)]);
		int64_t ctl;
		assert_int_equal(mpq_conn_open_stream(s, false, &ctl), 0);
		assert_int_equal(mpq_conn_stream_write(s, ctl, a->ctrl, a->ctrl_len, false),
				 (int64_t)a->ctrl_len);
		pair_run(&t->p, NULL, 100 * MPQ_MS);
		if (a->resp_len || a->fin)
			assert_int_equal(mpq_conn_stream_write(s, 0, a->resp, a->resp_len, a->fin),
					 (int64_t)a->resp_len);
		if (a->reset)
			mpq_conn_stream_reset(s, 0, a->reset);
		pair_run(&t->p, NULL, 1 * MPQ_SEC);
		print_message("%s\n", a->name);
		const mpq_conn_error *e = mpq_conn_get_error(t->p.conn[PAIR_CLIENT]);
		assert_int_equal(e->set, a->conn_code != 0);
		if (a->conn_code) {
			assert_true(e->app && !e->remote);
			assert_int_equal(e->code, a->conn_code);
		}
		mpq_hq_client_conn_closed(t->cli, t->p.conn[PAIR_CLIENT]);
		assert_int_equal(mpq_hq_request_status(r), a->status);
		assert_int_equal(mpq_hq_request_http_status(r), a->http_status);
		assert_int_equal(mpq_hq_request_bytes(r), a->bytes);
		/* A reset's code, or the hq code of a refusal status. */
		assert_int_equal(mpq_hq_request_code(r),
				 a->reset ? a->reset : mpq_http1_code_of((int)a->http_status));
		h3_raw_end(rt);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_request_lines),
		cmocka_unit_test(pattern_is_mod_251),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(fetch_files),
		cmocka_unit_test(fetch_generated),
		cmocka_unit_test(generated_large_stopped_by_conn_close),
		cmocka_unit_test(parallel_requests),
		cmocka_unit_test(refusal_among_busy_streams),
		cmocka_unit_test(lost_reset_is_sent_again),
		cmocka_unit_test(requests_from_request_done),
		cmocka_unit_test(requests_beyond_stream_limit_wait),
		cmocka_unit_test(contexts_shared_by_connections),
		cmocka_unit_test(refusals_openat2),
		cmocka_unit_test(refusals_realpath),
		cmocka_unit_test(malformed_requests),
		cmocka_unit_test(sink_failure_stops_server),
		cmocka_unit_test(file_truncated_while_sent),
		cmocka_unit_test(server_reads_through_files),
		cmocka_unit_test(fetch_with_loss),
		cmocka_unit_test(logs_requests),
		cmocka_unit_test(h3_fetch),
		cmocka_unit_test(h3_server_speaks_hq_too),
		cmocka_unit_test(h3_malformed_requests),
		cmocka_unit_test(h3_server_settings_first),
		cmocka_unit_test(h3_connection_errors),
		cmocka_unit_test(h3_client_answers),
		cmocka_unit_test(h3_client_goaway),
	};
	return cmocka_run_group_tests(tests, tree_setup, tree_teardown);
}
