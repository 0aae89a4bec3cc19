/* In-memory client/server pair: see conn_pair.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_pair.h"
#include "mpq/io/qlog_file.h"
#include "quic/conn.h"
#include "quic/tls.h"

/* The pair being run: the application may own callbacks' user_data. */
static struct conn_pair *current_pair;

/* Deterministic randomness (splitmix64) so runs repeat exactly. */
static void pair_rand(uint8_t *dest, size_t len, void *ud)
{
	(void)ud;
	struct conn_pair *p = current_pair;
	for (size_t i = 0; i < len; i++) {
		uint64_t z = (p->rand_state += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		dest[i] = (uint8_t)(z ^ (z >> 31));
	}
}

static void keylog_client(void *ud, const char *line)
{
	struct conn_pair *p = ud;
	if (p->nkeylog[0] < PAIR_MAX_KEYLOG)
		snprintf(p->keylog[0][p->nkeylog[0]++], 256, "%s", line);
}

static void keylog_server(void *ud, const char *line)
{
	struct conn_pair *p = ud;
	if (p->nkeylog[1] < PAIR_MAX_KEYLOG)
		snprintf(p->keylog[1][p->nkeylog[1]++], 256, "%s", line);
}

static void fake_addr(mpq_addr *a, uint8_t last, uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
	memset(a, 0, sizeof(*a));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(0x7f000000u | last);
	in->sin_port = htons(port);
	a->len = sizeof(*in);
}

static mpq_path path_of(int side)
{
	mpq_path path;
	memset(&path, 0, sizeof(path));
	fake_addr(side == PAIR_CLIENT ? &path.local : &path.remote, 1, 40000);
	fake_addr(side == PAIR_CLIENT ? &path.remote : &path.local, 2, 6121);
	return path;
}

static mpq_tls_ctx *make_ctx(struct conn_pair *p, bool server, const struct pair_opts *o)
{
	mpq_tls_ctx_config cfg = {.is_server = server};
	char err[256];
	int rv;
	if (server) {
		cfg.alpn = o->server_alpn ? o->server_alpn : "hq-interop";
		cfg.cert_file = p->certs.cert_file;
		cfg.key_file = p->certs.key_file;
	} else {
		cfg.alpn = o->client_alpn ? o->client_alpn : "hq-interop";
		cfg.ca_file = o->ca_file ? o->ca_file : p->certs.ca_file;
	}
	mpq_tls_ctx *ctx = mpq_tls_ctx_new(&cfg, &rv, err, sizeof(err));
	if (!ctx)
		fprintf(stderr, "tls ctx: %s\n", err);
	return ctx;
}

int pair_init(struct conn_pair *p, const struct pair_opts *o)
{
	memset(p, 0, sizeof(*p));
	current_pair = p;
	p->delay = 10 * MPQ_MS;
	p->rand_state = 42;
	p->drop = o->drop;
	p->app = o->app_state;
	p->qlog_dir = o->qlog_dir;
	p->drop_path = o->drop_path;
	p->rebind_after = o->rebind_after;
	for (int i = 0; i < 2; i++) {
		p->queue[i] = calloc(PAIR_MAX_QUEUED, sizeof(struct pair_dgram));
		if (!p->queue[i])
			return -1;
	}
	if (test_certs_create(&p->certs) != 0)
		return -1;
	p->tls[0] = make_ctx(p, false, o);
	p->tls[1] = make_ctx(p, true, o);
	if (!p->tls[0] || !p->tls[1])
		return -1;
	for (int i = 0; i < 2; i++) {
		mpq_settings_default(&p->settings[i]);
		if (o->version)
			p->settings[i].version = o->version;
		mpq_tparams_default(&p->tparams[i]);
		p->tparams[i].max_idle_timeout = 30000;
		p->tparams[i].initial_max_data = i == 0 ? 1000000 : 2000000;
		p->tparams[i].initial_max_streams_bidi = i == 0 ? 10 : 100;
		mpq_callbacks_default(&p->cb[i]);
		p->cb[i].rand = pair_rand;
		p->cb[i].keylog = i == 0 ? keylog_client : keylog_server;
		if (o->app[i]) {
			const mpq_callbacks *a = o->app[i];
			p->cb[i].handshake_completed = a->handshake_completed;
			p->cb[i].stream_open = a->stream_open;
			p->cb[i].stream_data = a->stream_data;
			p->cb[i].stream_writable = a->stream_writable;
			p->cb[i].stream_reset = a->stream_reset;
			p->cb[i].stream_stop_sending = a->stream_stop_sending;
			p->cb[i].stream_closed = a->stream_closed;
			p->cb[i].streams_available = a->streams_available;
			p->cb[i].address_added = a->address_added;
			p->cb[i].path_validated = a->path_validated;
			p->cb[i].path_status_changed = a->path_status_changed;
			p->cb[i].path_failed = a->path_failed;
			p->cb[i].path_abandoned = a->path_abandoned;
		}
		p->cb[i].user_data = p;
		if (o->app_user_data[i]) {
			p->cb[i].user_data = o->app_user_data[i];
			p->cb[i].keylog = NULL;
		}
		p->tparams[i].initial_max_stream_data_bidi_local = 256 * 1024;
		p->tparams[i].initial_max_stream_data_bidi_remote = 256 * 1024;
		p->tparams[i].initial_max_stream_data_uni = 256 * 1024;
		p->tparams[i].initial_max_streams_uni = 10;
		if (o->max_data)
			p->tparams[i].initial_max_data = o->max_data;
		if (o->max_stream_data) {
			p->tparams[i].initial_max_stream_data_bidi_local = o->max_stream_data;
			p->tparams[i].initial_max_stream_data_bidi_remote = o->max_stream_data;
			p->tparams[i].initial_max_stream_data_uni = o->max_stream_data;
		}
		if (o->cc)
			p->settings[i].cc = o->cc;
		if (o->stream_sched)
			p->settings[i].stream_sched = o->stream_sched;
		p->settings[i].key_update_interval = o->key_update_interval[i];
		p->settings[i].aead_confidentiality_limit = o->aead_confidentiality_limit[i];
		p->settings[i].aead_integrity_limit = o->aead_integrity_limit[i];
		p->settings[i].multipath = o->multipath;
		p->settings[i].add_address = o->add_address;
		if (o->path_sched)
			p->settings[i].path_sched = o->path_sched;
	}
	p->settings[0].server_name = o->server_name ? o->server_name : "localhost";
	mpq_path path = path_of(PAIR_CLIENT);
	if (mpq_conn_client_new(&p->conn[0], &path, &p->settings[0], &p->tparams[0], &p->cb[0],
				p->tls[0], p->now) != 0)
		return -1;
	if (p->qlog_dir && mpq_conn_set_qlog_dir(p->conn[0], p->qlog_dir, false) != 0)
		return -1;
	return 0;
}

void pair_free(struct conn_pair *p)
{
	for (int i = 0; i < 2; i++) {
		mpq_conn_del(p->conn[i]);
		mpq_tls_ctx_free(p->tls[i]);
		free(p->queue[i]);
	}
	test_certs_cleanup(&p->certs);
}

static bool is_initial(const uint8_t *d, size_t len, uint32_t version)
{
	if (len < 5 || !(d[0] & 0x80))
		return false;
	uint8_t type = (d[0] >> 4) & 3;
	return version == MPQ_VERSION_2 ? type == 1 : type == 0;
}

static void enqueue(struct conn_pair *p, int from, const mpq_path *out, const mpq_pkt_info *pi,
		    const uint8_t *d, size_t len, size_t flight)
{
	size_t index = p->sent[from]++;
	p->bytes_sent[from] += len;
	if (is_initial(d, len, p->settings[0].version) && len < MPQ_MIN_INITIAL_DATAGRAM)
		p->small_initial_dgrams[from]++;
	if (p->conn[1] && !p->conn[1]->paths[0]->validated) {
		if (from == PAIR_SERVER)
			p->server_bytes_before_validation += len;
	}
	if (p->drop && p->drop(p, from, index, flight, d, len))
		return;
	if (p->drop_path && p->drop_path(p, from, out))
		return;
	int to = !from;
	if (p->queued[to] == PAIR_MAX_QUEUED)
		return; /* a full link drops, as a real one would */
	struct pair_dgram *g = &p->queue[to][p->queued[to]++];
	g->arrival = p->now + p->delay;
	g->path.local = out->remote;
	g->path.remote = out->local;
	g->path.ifindex = 0;
	g->path.user_data = NULL;
	g->pi = *pi;
	g->len = len;
	memcpy(g->data, d, len);
}

static void flush(struct conn_pair *p, int side)
{
	uint8_t buf[PAIR_DGRAM_MAX];
	mpq_path path;
	mpq_pkt_info pi = {.version = MPQ_PKT_INFO_VERSION};
	bool any = false;
	if (!p->conn[side])
		return;
	for (int i = 0; i < 64; i++) {
		int n = mpq_conn_write_pkt(p->conn[side], &path, &pi, buf, sizeof(buf), p->now);
		if (n <= 0)
			break;
		enqueue(p, side, &path, &pi, buf, (size_t)n, p->flights[side]);
		any = true;
	}
	if (any)
		p->flights[side]++;
}

static void deliver(struct conn_pair *p, int to, struct pair_dgram *g)
{
	int rv;
	if (to == PAIR_SERVER && !p->conn[1]) {
		mpq_path path = path_of(PAIR_SERVER);
		if (mpq_conn_server_new(&p->conn[1], &path, g->data, g->len, &p->settings[1],
					&p->tparams[1], &p->cb[1], p->tls[1], p->now) != 0)
			return;
		if (p->qlog_dir)
			mpq_conn_set_qlog_dir(p->conn[1], p->qlog_dir, true);
	}
	if (to == PAIR_SERVER && !p->conn[1]->paths[0]->validated)
		p->client_bytes_before_validation += g->len;
	mpq_path path = g->path.local.len ? g->path : path_of(to);
	if (to == PAIR_SERVER && p->rebind_after && ++p->delivered_to_server > p->rebind_after)
		fake_addr(&path.remote, 1, 40001); /* the NAT gave the client a new port */
	rv = mpq_conn_read_pkt(p->conn[to], &path, &g->pi, g->data, g->len, p->now);
	if (rv != 0 && p->last_read_rv[to] == 0)
		p->last_read_rv[to] = rv;
}

static uint64_t next_event(struct conn_pair *p)
{
	uint64_t t = MPQ_TIME_NEVER;
	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < p->queued[s]; i++)
			if (p->queue[s][i].arrival < t)
				t = p->queue[s][i].arrival;
		if (p->conn[s]) {
			uint64_t e = mpq_conn_get_expiry(p->conn[s]);
			if (e < t)
				t = e;
		}
	}
	return t;
}

static void step(struct conn_pair *p)
{
	for (int s = 0; s < 2; s++) {
		/* Deliver in order of arrival; the queue is appended in time order. */
		size_t kept = 0;
		for (size_t i = 0; i < p->queued[s]; i++) {
			if (p->queue[s][i].arrival <= p->now)
				deliver(p, s, &p->queue[s][i]);
			else
				p->queue[s][kept++] = p->queue[s][i];
		}
		p->queued[s] = kept;
	}
	for (int s = 0; s < 2; s++) {
		if (p->conn[s] && mpq_conn_get_expiry(p->conn[s]) <= p->now) {
			int rv = mpq_conn_handle_expiry(p->conn[s], p->now);
			if (rv != 0 && p->last_expiry_rv[s] == 0)
				p->last_expiry_rv[s] = rv;
		}
	}
}

bool pair_run(struct conn_pair *p, bool (*until)(struct conn_pair *p), uint64_t limit)
{
	current_pair = p;
	uint64_t end = p->now + limit;
	for (int iter = 0; iter < 100000; iter++) {
		flush(p, PAIR_CLIENT);
		flush(p, PAIR_SERVER);
		if (until && until(p))
			return true;
		uint64_t t = next_event(p);
		if (t == MPQ_TIME_NEVER || t > end)
			return false;
		if (t > p->now)
			p->now = t;
		step(p);
	}
	return false;
}

bool pair_both_complete(struct conn_pair *p)
{
	return p->conn[0] && p->conn[1] && mpq_conn_is_handshake_complete(p->conn[0]) &&
	       mpq_conn_is_handshake_complete(p->conn[1]) && p->conn[0]->handshake_confirmed;
}

int pair_inject(struct conn_pair *p, int to, const uint8_t *data, size_t len)
{
	uint8_t copy[PAIR_DGRAM_MAX];
	if (len > sizeof(copy))
		return MPQ_ERR_INVALID_ARGUMENT;
	memcpy(copy, data, len);
	current_pair = p;
	mpq_path path = path_of(to);
	return mpq_conn_read_pkt(p->conn[to], &path, NULL, copy, len, p->now);
}
