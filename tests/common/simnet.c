/* Discrete-event simulated network: see simnet.h. */
#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_set_rand_method: see sim_rand_method */
#include <arpa/inet.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpq/endpoint.h"
#include "simnet.h"

#define SIMNET_STUCK_TURNS 1000 /* turns at one instant before a timer counts as stuck */
#define SIMNET_MAX_BURST 20000	/* datagrams one side may write at one instant */

struct simnet_dgram {
	uint64_t arrival;
	uint64_t seq;
	int to;
	unsigned path;
	mpq_path tuple; /* as the receiver sees it: the sender's turned around */
	uint8_t ecn;	/* MPQ_ECN_*, as it arrives */
	size_t len;
	struct simnet_dgram *next_free;
	uint8_t data[SIMNET_DGRAM_MAX];
};

/* splitmix64: seeds the link generators and serves as the endpoints' rand. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static uint64_t link_next(struct simnet_link_state *l)
{
	uint64_t *s = l->rng;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, 1). */
static double link_unit(struct simnet_link_state *l)
{
	return (double)(link_next(l) >> 11) * 0x1.0p-53;
}

static void end_rand(uint8_t *dest, size_t len, void *ud)
{
	struct simnet_end *e = ud;
	while (len > 0) {
		uint64_t z = splitmix64(&e->rand_state);
		size_t k = len < sizeof(z) ? len : sizeof(z);
		memcpy(dest, &z, k);
		dest += k;
		len -= k;
	}
}

/* Path k: client 192.0.2.(1 + k):(40000 + k), server 198.51.100.(1 + k):4433
 * (documentation ranges). */
void simnet_path_addr(mpq_addr *a, int side, unsigned path)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
	memset(a, 0, sizeof(*a));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl((side == SIMNET_CLIENT ? 0xc0000201u : 0xc6336401u) + path);
	in->sin_port = htons(side == SIMNET_CLIENT ? 40000 + path : 4433);
	a->len = sizeof(*in);
}

/* Path |path| as side |side| sees it. */
static void end_path(mpq_path *tuple, int side, unsigned path)
{
	memset(tuple, 0, sizeof(*tuple));
	simnet_path_addr(&tuple->local, side, path);
	simnet_path_addr(&tuple->remote, !side, path);
}

static bool addr_is(const mpq_addr *a, const mpq_addr *b)
{
	const struct sockaddr_in *x = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in *y = (const struct sockaddr_in *)&b->ss;
	return x->sin_family == AF_INET && y->sin_family == AF_INET &&
	       x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
}

/* The client's address on path |path| as side |side| sees it: behind the
 * NAT's port at the server once the path was rebound. */
static void client_addr(const struct simnet *n, mpq_addr *a, int side, unsigned path)
{
	simnet_path_addr(a, SIMNET_CLIENT, path);
	if (side == SIMNET_SERVER && n->nat_port[path])
		((struct sockaddr_in *)&a->ss)->sin_port = htons(n->nat_port[path]);
}

/* The path a datagram side |from| writes on |out| takes, by the client's
 * address in it; -1 when that names no path. */
static int route(const struct simnet *n, int from, const mpq_path *out)
{
	const mpq_addr *client = from == SIMNET_CLIENT ? &out->local : &out->remote;
	mpq_addr a;
	if (n->npaths == 1 && !n->nat_port[0])
		return 0;
	for (unsigned k = 0; k < n->npaths; k++) {
		client_addr(n, &a, from, k);
		if (addr_is(client, &a))
			return (int)k;
	}
	return -1;
}

void simnet_rebind(struct simnet *n, unsigned path, uint16_t port)
{
	n->nat_port[path] = port;
}

struct simnet_link *simnet_config_link(struct simnet_config *cfg, unsigned path, int from)
{
	return path == 0 ? &cfg->link[from] : &cfg->path_link[path - 1][from];
}

struct simnet_link_state *simnet_link_of(struct simnet *n, unsigned path, int from)
{
	return path == 0 ? &n->link[from] : &n->path_link[path - 1][from];
}

void simnet_kill_path(struct simnet *n, unsigned path, uint64_t at)
{
	for (int i = 0; i < 2; i++)
		simnet_link_of(n, path, i)->dead_from = at;
}

unsigned simnet_paths_opened(const struct simnet *n)
{
	return n->npaths > 1 ? n->next_path : 1;
}

/*
 * Fixed certificates (P-256, valid 2020 to 2120): a CA and a leaf for
 * localhost and 127.0.0.1 signed by it. Fresh keys or validity dates would
 * change the handshake's length from one process to the next.
 */
static const char sim_ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBaTCCAQ+gAwIBAgIBATAKBggqhkjOPQQDAjAbMRkwFwYDVQQDDBBtcHF1aWMt\n"
	"c2ltbmV0LWNhMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAxMDAwMDAwWjAbMRkw\n"
	"FwYDVQQDDBBtcHF1aWMtc2ltbmV0LWNhMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD\n"
	"QgAESEuMpPGE4ZTdqOYWiauOnqWPz0ou+uOomgW/b0Kst+Vr4sSpcqUnfJSPhp7P\n"
	"kDhGYnzrUb32XENIegB2fk3swaNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B\n"
	"Af8EBAMCAQYwHQYDVR0OBBYEFDhIhqqOBJBurbUNLG1eqDI2jSYrMAoGCCqGSM49\n"
	"BAMCA0gAMEUCIQC1UPDmDJFCOnygxDu9pydaeM8gUIoiZkOZbyY7Ej3HLwIgM+cQ\n"
	"1Yb58S15omm6jNPMhuOalslcp+QRnbEkB/CF3R4=\n"
	"-----END CERTIFICATE-----\n";

static const char sim_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBrzCCAVagAwIBAgIBAjAKBggqhkjOPQQDAjAbMRkwFwYDVQQDDBBtcHF1aWMt\n"
	"c2ltbmV0LWNhMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAxMDAwMDAwWjAUMRIw\n"
	"EAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAS6TgQR\n"
	"aqtRoVEKavoZSPO5Qm5GgOUtphIA6jChvHGok1pf0RZlNS4Nyk3zPcbX1BQzKY0S\n"
	"oTWfqJEyVHYf/IP7o4GPMIGMMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAJ\n"
	"BgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAf\n"
	"BgNVHSMEGDAWgBQ4SIaqjgSQbq21DSxtXqgyNo0mKzAdBgNVHQ4EFgQUbH3LesOL\n"
	"zG3PLMPd08Y+ZU+iPBQwCgYIKoZIzj0EAwIDRwAwRAIgOEgaMKewB5FLlMf/uZh9\n"
	"1+rKho9cOhRm3QqqLFOc6+UCIA+6iuzmqKUnjxQ/xT+TAKTyedNSFhtXxP88CMdt\n"
	"v2J5\n"
	"-----END CERTIFICATE-----\n";

static const char sim_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCDr4j40Rjhizoa9I\n"
	"lAMoYOB852iutzVFVyKuReGnhUShRANCAAS6TgQRaqtRoVEKavoZSPO5Qm5GgOUt\n"
	"phIA6jChvHGok1pf0RZlNS4Nyk3zPcbX1BQzKY0SoTWfqJEyVHYf/IP7\n"
	"-----END PRIVATE KEY-----\n";

/*
 * OpenSSL draws its own randomness for TLS (randoms, key shares, ECDSA nonces,
 * ticket keys). The test process replaces it with splitmix64, reseeded from the
 * seed at every simnet_start, so a run's bytes do not depend on what ran
 * before it. Process-wide, as OpenSSL's generator is: a test-only concern.
 */
static uint64_t ossl_rand_state;

static int ossl_rand_bytes(unsigned char *buf, int num)
{
	for (int i = 0; i < num; i += 8) {
		uint64_t z = splitmix64(&ossl_rand_state);
		memcpy(buf + i, &z, num - i < 8 ? (size_t)(num - i) : 8);
	}
	return 1;
}

static int ossl_rand_status(void)
{
	return 1;
}

static const RAND_METHOD sim_rand_method = {
	.bytes = ossl_rand_bytes,
	.pseudorand = ossl_rand_bytes,
	.status = ossl_rand_status,
};

/* The CA goes through a file (the client context takes its CA from one),
 * removed once loaded. */
static mpq_tls_ctx *client_ctx(char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char path[256];
	int rv;
	snprintf(path, sizeof(path), "%s/mpq-simnet-ca-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the CA file in %s",
			 tmp && *tmp ? tmp : "/tmp");
		return NULL;
	}
	size_t len = strlen(sim_ca_pem);
	bool ok = write(fd, sim_ca_pem, len) == (ssize_t)len;
	close(fd);
	mpq_tls_config cfg = {.struct_version = MPQ_TLS_CONFIG_VERSION,
			      .alpn = "hq-interop",
			      .ca_file = path};
	mpq_tls_ctx *ctx = ok ? mpq_tls_context_new(&cfg, &rv, err, errlen) : NULL;
	if (!ok)
		snprintf(err, errlen, "cannot write the CA file");
	unlink(path);
	return ctx;
}

int simnet_tls_init(struct simnet_tls *t)
{
	char err[256];
	int rv;
	memset(t, 0, sizeof(*t));
	ossl_rand_state = 0x73696d6e6574ULL;
	if (RAND_set_rand_method(&sim_rand_method) != 1) {
		fprintf(stderr, "simnet: cannot replace OpenSSL's RAND\n");
		return -1;
	}
	mpq_tls_config server = {
		.struct_version = MPQ_TLS_CONFIG_VERSION,
		.is_server = true,
		.alpn = "hq-interop",
		.cert_pem = sim_cert_pem,
		.key_pem = sim_key_pem,
	};
	t->ctx[SIMNET_CLIENT] = client_ctx(err, sizeof(err));
	if (t->ctx[SIMNET_CLIENT])
		t->ctx[SIMNET_SERVER] = mpq_tls_context_new(&server, &rv, err, sizeof(err));
	if (!t->ctx[SIMNET_CLIENT] || !t->ctx[SIMNET_SERVER]) {
		fprintf(stderr, "simnet: tls context: %s\n", err);
		simnet_tls_free(t);
		return -1;
	}
	return 0;
}

void simnet_tls_free(struct simnet_tls *t)
{
	for (int i = 0; i < 2; i++)
		mpq_tls_context_free(t->ctx[i]);
	memset(t, 0, sizeof(*t));
	RAND_set_rand_method(NULL);
}

static void end_init(struct simnet *n, int side)
{
	struct simnet_end *e = &n->end[side];
	e->net = n;
	e->side = side;
	e->app = n->cfg.app_state[side];
	e->rand_state = n->cfg.seed * 2 + (uint64_t)side + 0x5151;
	mpq_settings_default(&e->settings);
	if (n->cfg.cc)
		e->settings.cc = n->cfg.cc;
	/* Room for the handshake under heavy loss: its failure is not what we test. */
	e->settings.handshake_timeout = 60 * MPQ_SEC;
	if (side == SIMNET_CLIENT)
		e->settings.server_name = "localhost";
	if (n->npaths > 1) {
		e->settings.multipath = true;
		if (e->settings.max_path_id < n->npaths - 1)
			e->settings.max_path_id = n->npaths - 1;
	}
	if (n->cfg.path_sched)
		e->settings.path_sched = n->cfg.path_sched;
	mpq_tparams_default(&e->tparams);
	e->tparams.max_idle_timeout = 60000;
	e->tparams.initial_max_data = side == SIMNET_CLIENT ? 1000000 : 2000000;
	e->tparams.initial_max_stream_data_bidi_local = 256 * 1024;
	e->tparams.initial_max_stream_data_bidi_remote = 256 * 1024;
	e->tparams.initial_max_stream_data_uni = 256 * 1024;
	e->tparams.initial_max_streams_bidi = side == SIMNET_CLIENT ? 10 : 100;
	e->tparams.initial_max_streams_uni = 10;
	if (n->cfg.app[side])
		e->cb = *n->cfg.app[side];
	e->cb.struct_version = MPQ_CALLBACKS_VERSION;
	e->cb.rand = end_rand;
	e->cb.user_data = e;
}

int simnet_init(struct simnet *n, const struct simnet_config *cfg, struct simnet_tls *tls)
{
	memset(n, 0, sizeof(*n));
	n->cfg = *cfg;
	n->tls = tls;
	if (!n->cfg.time_limit)
		n->cfg.time_limit = SIMNET_DEFAULT_TIME_LIMIT;
	if (!n->cfg.iter_limit)
		n->cfg.iter_limit = SIMNET_DEFAULT_ITER_LIMIT;
	if (cfg->npaths > SIMNET_MAX_PATHS)
		return -1;
	n->npaths = cfg->npaths > 1 ? cfg->npaths : 1;
	n->next_path = 1;
	for (unsigned path = 0; path < SIMNET_MAX_PATHS; path++) {
		for (int i = 0; i < 2; i++) {
			struct simnet_link_state *l = simnet_link_of(n, path, i);
			/* Path 0 draws as the single-path network always did. */
			uint64_t s = cfg->seed ^ (path * 0x9e3779b97f4a7c15ULL) ^
				     (i ? 0xa5a5a5a5a5a5a5a5ULL : 0x0123456789abcdefULL);
			l->p = *simnet_config_link(&n->cfg, path, i);
			for (int k = 0; k < 4; k++)
				l->rng[k] = splitmix64(&s);
			l->st.digest = 0xcbf29ce484222325ULL;
			l->dead_from = cfg->kill_at[path] ? cfg->kill_at[path] : MPQ_TIME_NEVER;
		}
	}
	for (int i = 0; i < 2; i++)
		end_init(n, i);
	n->stuck_side = -1;
	return 0;
}

int simnet_start(struct simnet *n)
{
	struct simnet_end *e = &n->end[SIMNET_CLIENT];
	mpq_path path;
	ossl_rand_state = n->cfg.seed ^ 0x6f70656e73736cULL;
	end_path(&path, SIMNET_CLIENT, 0);
	e->create_err = mpq_conn_client_new(&e->conn, &path, &e->settings, &e->tparams, &e->cb,
					    n->tls->ctx[SIMNET_CLIENT], n->now);
	return e->create_err;
}

void simnet_free(struct simnet *n)
{
	for (int i = 0; i < 2; i++)
		mpq_conn_del(n->end[i].conn);
	for (size_t i = 0; i < n->nheap; i++)
		free(n->heap[i]);
	free(n->heap);
	while (n->free_list) {
		struct simnet_dgram *g = n->free_list;
		n->free_list = g->next_free;
		free(g);
	}
	memset(n, 0, sizeof(*n));
}

/* The heap of datagrams in flight, ordered by (arrival, seq). */
static bool dgram_before(const struct simnet_dgram *a, const struct simnet_dgram *b)
{
	return a->arrival != b->arrival ? a->arrival < b->arrival : a->seq < b->seq;
}

static int heap_push(struct simnet *n, struct simnet_dgram *g)
{
	if (n->nheap == n->capheap) {
		size_t cap = n->capheap ? n->capheap * 2 : 1024;
		struct simnet_dgram **h = realloc(n->heap, cap * sizeof(*h));
		if (!h)
			return -1;
		n->heap = h;
		n->capheap = cap;
	}
	size_t i = n->nheap++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!dgram_before(g, n->heap[up]))
			break;
		n->heap[i] = n->heap[up];
		i = up;
	}
	n->heap[i] = g;
	return 0;
}

static struct simnet_dgram *heap_pop(struct simnet *n)
{
	struct simnet_dgram *top = n->heap[0];
	struct simnet_dgram *last = n->heap[--n->nheap];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n->nheap)
			break;
		if (c + 1 < n->nheap && dgram_before(n->heap[c + 1], n->heap[c]))
			c++;
		if (!dgram_before(n->heap[c], last))
			break;
		n->heap[i] = n->heap[c];
		i = c;
	}
	if (n->nheap > 0)
		n->heap[i] = last;
	return top;
}

static struct simnet_dgram *dgram_alloc(struct simnet *n)
{
	struct simnet_dgram *g = n->free_list;
	if (g) {
		n->free_list = g->next_free;
		return g;
	}
	return malloc(sizeof(*g));
}

static void dgram_release(struct simnet *n, struct simnet_dgram *g)
{
	g->next_free = n->free_list;
	n->free_list = g;
}

/* Bytes still waiting in the queue or on the wire of the rate limiter. */
static uint64_t link_backlog(const struct simnet_link_state *l, uint64_t now)
{
	if (!l->p.rate || l->busy_until <= now)
		return 0;
	unsigned __int128 b = (unsigned __int128)(l->busy_until - now) * l->p.rate;
	return (uint64_t)((b + MPQ_SEC - 1) / MPQ_SEC);
}

/* FNV-1a, 64 bits. */
static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* "c->s" or "s->c", and with several paths "/k" ("/?": no path). */
static void way_name(char *buf, size_t len, const struct simnet *n, int path, int from)
{
	snprintf(buf, len, "%s", from == SIMNET_CLIENT ? "c->s" : "s->c");
	if (n->npaths > 1)
		snprintf(buf + 4, len - 4, path < 0 ? "/?" : "/%d", path);
}

/* One line per copy: when, which way (and with several paths, on which),
 * the sender's datagram number, its length and hash (to find where two traces
 * part), its fate. */
static void trace(const struct simnet *n, int path, int from, const uint8_t *data, size_t len,
		  const char *what, uint64_t at)
{
	char way[16];
	if (!n->cfg.trace)
		return;
	way_name(way, sizeof(way), n, path, from);
	fprintf(n->cfg.trace, "%.6f %s #%llu %zu B %08llx %s %.6f\n", (double)n->now / 1e9, way,
		(unsigned long long)n->written[from] - 1, len,
		(unsigned long long)(fnv1a(0xcbf29ce484222325ULL, data, len) & 0xffffffff), what,
		(double)at / 1e9);
}

static void link_killed(struct simnet_link_state *l, size_t len)
{
	l->st.killed++;
	if (len > l->st.killed_max_len)
		l->st.killed_max_len = len;
}

/* One copy of a datagram through path |path|'s link |from|: kill, loss,
 * queue, rate, delay, jitter, reordering. Every copy makes the same three
 * draws, whatever happens to it, so one outcome does not shift the next
 * datagram's draws. */
/* The mark a copy of |len| bytes leaves |l| with, |backlog| bytes ahead of it. */
static uint8_t link_ecn(struct simnet_link_state *l, uint8_t ecn, uint64_t backlog,
			const uint8_t *data, size_t len)
{
	if (l->p.bleach)
		return MPQ_ECN_NOT_ECT;
	if (ecn != MPQ_ECN_ECT0 && ecn != MPQ_ECN_ECT1)
		return ecn;
	l->st.ect++;
	if (!(l->p.ce_every && l->st.ect % l->p.ce_every == 0) &&
	    !(l->p.ce_threshold && backlog + len > l->p.ce_threshold))
		return ecn;
	l->st.ce_marked++;
	if (len && !(data[0] & 0x80))
		l->st.ce_marked_short++;
	return MPQ_ECN_CE;
}

static void link_send(struct simnet *n, unsigned path, int from, const mpq_path *out, uint8_t ecn,
		      const uint8_t *data, size_t len)
{
	struct simnet_link_state *l = simnet_link_of(n, path, from);
	bool lost = link_unit(l) < l->p.loss;
	uint64_t r = link_next(l);
	uint64_t jitter = l->p.jitter ? r % (l->p.jitter + 1) : 0;
	bool held = link_unit(l) < l->p.reorder;
	if (n->now >= l->dead_from) {
		link_killed(l, len);
		trace(n, (int)path, from, data, len, "killed", n->now);
		return;
	}
	if (l->p.mtu && len + SIMNET_UDP_OVERHEAD > l->p.mtu) {
		l->st.too_big++;
		trace(n, (int)path, from, data, len, "too-big", n->now);
		return;
	}
	if (lost) {
		l->st.lost++;
		trace(n, (int)path, from, data, len, "lost", n->now);
		return;
	}
	uint64_t depart = n->now, backlog = 0;
	if (l->p.rate) {
		backlog = link_backlog(l, n->now);
		if (l->p.queue_bytes && backlog + len > l->p.queue_bytes) {
			l->st.queue_drops++;
			trace(n, (int)path, from, data, len, "queue-full", n->now);
			return;
		}
		if (backlog + len > l->st.max_queue_bytes)
			l->st.max_queue_bytes = backlog + len;
		uint64_t start = l->busy_until > n->now ? l->busy_until : n->now;
		uint64_t num = (uint64_t)len * MPQ_SEC + l->tx_frac;
		l->busy_until = start + num / l->p.rate;
		l->tx_frac = num % l->p.rate;
		depart = l->busy_until;
	}
	ecn = link_ecn(l, ecn, backlog, data, len);
	uint64_t arrival = depart + l->p.delay + jitter;
	if (arrival < l->last_arrival)
		arrival = l->last_arrival;
	l->last_arrival = arrival;
	if (held) {
		arrival += l->p.reorder_delay;
		l->st.reordered++;
	}
	trace(n, (int)path, from, data, len, held ? "held, arrives" : "arrives", arrival);
	struct simnet_dgram *g = dgram_alloc(n);
	if (!g)
		return;
	g->arrival = arrival;
	g->seq = n->seq++;
	g->to = !from;
	g->path = path;
	memset(&g->tuple, 0, sizeof(g->tuple));
	g->tuple.local = out->remote;
	g->tuple.remote = out->local;
	/* The NAT translates the client's address, both ways. */
	client_addr(n, from == SIMNET_CLIENT ? &g->tuple.remote : &g->tuple.local, !from, path);
	g->ecn = ecn;
	g->len = len;
	memcpy(g->data, data, len);
	if (heap_push(n, g) != 0)
		dgram_release(n, g);
}

static void net_send(struct simnet *n, int from, const mpq_path *out, uint8_t ecn,
		     const uint8_t *data, size_t len)
{
	uint64_t index = n->written[from]++;
	int path = route(n, from, out);
	if (path < 0) {
		n->unrouted++;
		trace(n, path, from, data, len, "unrouted", n->now);
		return;
	}
	struct simnet_link_state *l = simnet_link_of(n, (unsigned)path, from);
	uint32_t len32 = (uint32_t)len;
	l->st.sent++;
	l->st.bytes_sent += len;
	if (len > l->st.max_len_sent)
		l->st.max_len_sent = len;
	l->st.digest = fnv1a(l->st.digest, (const uint8_t *)&len32, sizeof(len32));
	l->st.digest = fnv1a(l->st.digest, data, len);
	bool twice = link_unit(l) < l->p.dup;
	if (n->cfg.filter && n->cfg.filter(n, from, index, data, len)) {
		l->st.filtered++;
		trace(n, path, from, data, len, "filtered", n->now);
		return;
	}
	link_send(n, (unsigned)path, from, out, ecn, data, len);
	if (twice) {
		l->st.duplicated++;
		link_send(n, (unsigned)path, from, out, ecn, data, len);
	}
}

/* Lets |side| write until it has nothing more. Returns -1 if it never stops. */
static int flush(struct simnet *n, int side)
{
	struct simnet_end *e = &n->end[side];
	uint8_t buf[SIMNET_DGRAM_MAX];
	mpq_path path;
	mpq_pkt_info pi = {.version = MPQ_PKT_INFO_VERSION};
	if (!e->conn)
		return 0;
	for (int i = 0; i < SIMNET_MAX_BURST; i++) {
		int rv = mpq_conn_write_pkt(e->conn, &path, &pi, buf, sizeof(buf), n->now);
		if (rv == 0)
			return 0;
		if (rv < 0) {
			if (!e->write_err) {
				e->write_err = rv;
				e->write_err_at = n->now;
			}
			return 0;
		}
		net_send(n, side, &path, pi.ecn, buf, (size_t)rv);
	}
	return -1;
}

static void deliver(struct simnet *n, struct simnet_dgram *g)
{
	struct simnet_end *e = &n->end[g->to];
	struct simnet_link_state *l = simnet_link_of(n, g->path, !g->to);
	mpq_path path = g->tuple;
	if (n->now >= l->dead_from) {
		link_killed(l, g->len);
		return;
	}
	l->st.delivered++;
	l->st.bytes_delivered += g->len;
	if (g->len > l->st.max_len_delivered)
		l->st.max_len_delivered = g->len;
	l->st.last_delivered_at = n->now;
	if (!e->conn) {
		int rv = mpq_conn_server_new(&e->conn, &path, g->data, g->len, &e->settings,
					     &e->tparams, &e->cb, n->tls->ctx[SIMNET_SERVER],
					     n->now);
		if (rv != 0) {
			e->conn = NULL;
			if (!e->create_err)
				e->create_err = rv;
			return;
		}
	}
	mpq_pkt_info pi = {.version = MPQ_PKT_INFO_VERSION, .ecn = g->ecn};
	int rv = mpq_conn_read_pkt(e->conn, &path, &pi, g->data, g->len, n->now);
	if (rv != 0 && !e->read_err) {
		e->read_err = rv;
		e->read_err_at = n->now;
	}
}

static uint64_t next_event(const struct simnet *n)
{
	uint64_t t = n->nheap ? n->heap[0]->arrival : MPQ_TIME_NEVER;
	if (n->wake_at > n->now && n->wake_at < t)
		t = n->wake_at;
	for (int s = 0; s < 2; s++) {
		if (n->end[s].conn) {
			uint64_t x = mpq_conn_get_expiry(n->end[s].conn);
			if (x < t)
				t = x;
		}
	}
	return t;
}

static void fire_timers(struct simnet *n)
{
	for (int s = 0; s < 2; s++) {
		struct simnet_end *e = &n->end[s];
		if (!e->conn || mpq_conn_get_expiry(e->conn) > n->now)
			continue;
		int rv = mpq_conn_handle_expiry(e->conn, n->now);
		if (rv != 0 && !e->expiry_err) {
			e->expiry_err = rv;
			e->expiry_err_at = n->now;
		}
	}
}

/* The client opens paths 1 .. npaths-1 in order once its handshake is
 * complete, asking again at every turn while the library says "later". */
static void open_paths(struct simnet *n)
{
	mpq_conn *c = n->end[SIMNET_CLIENT].conn;
	if (!c || n->next_path >= n->npaths || !mpq_conn_is_handshake_complete(c) ||
	    !mpq_conn_is_multipath(c))
		return;
	while (n->next_path < n->npaths) {
		unsigned k = n->next_path;
		mpq_path tuple;
		uint32_t id;
		end_path(&tuple, SIMNET_CLIENT, k);
		int rv = mpq_conn_open_path(c, &tuple, &id);
		if (rv == MPQ_ERR_NOT_FOUND || rv == MPQ_ERR_INVALID_ARGUMENT) {
			n->open_tries++;
			return;
		}
		if (rv != 0) {
			n->open_err = rv;
			n->next_path = n->npaths;
			return;
		}
		n->path_id[k] = id;
		n->opened_at[k] = n->now;
		n->next_path++;
		if (n->cfg.path_opened)
			n->cfg.path_opened(n, k, id);
	}
}

enum simnet_result simnet_run(struct simnet *n, bool (*until)(struct simnet *n))
{
	uint64_t end = n->now + n->cfg.time_limit;
	uint64_t turns = 0, same_instant = 0;
	for (;;) {
		if (turns++ >= n->cfg.iter_limit)
			return SIMNET_ITER_LIMIT;
		n->iters++;
		open_paths(n);
		for (int s = 0; s < 2; s++)
			if (flush(n, s) != 0)
				return SIMNET_WRITE_LOOP;
		if (until && until(n))
			return SIMNET_DONE;
		uint64_t t = next_event(n);
		if (t == MPQ_TIME_NEVER)
			return SIMNET_QUIET;
		if (t > end) {
			n->now = end;
			return SIMNET_TIME_LIMIT;
		}
		if (t > n->now) {
			n->now = t;
			same_instant = 0;
		} else if (++same_instant > SIMNET_STUCK_TURNS) {
			/* Nothing arrives now, so a timer is due and firing it changes nothing. */
			for (int s = 0; s < 2; s++) {
				if (n->end[s].conn &&
				    mpq_conn_get_expiry(n->end[s].conn) <= n->now) {
					n->stuck_side = s;
					n->stuck_expiry = mpq_conn_get_expiry(n->end[s].conn);
				}
			}
			return SIMNET_STUCK;
		}
		while (n->nheap && n->heap[0]->arrival <= n->now) {
			struct simnet_dgram *g = heap_pop(n);
			deliver(n, g);
			dgram_release(n, g);
		}
		fire_timers(n);
	}
}

bool simnet_handshake_done(struct simnet *n)
{
	return n->end[0].conn && n->end[1].conn &&
	       mpq_conn_is_handshake_complete(n->end[0].conn) &&
	       mpq_conn_is_handshake_complete(n->end[1].conn);
}

const char *simnet_result_str(enum simnet_result r)
{
	static const char *const names[] = {
		[SIMNET_DONE] = "done",
		[SIMNET_QUIET] = "quiet (nothing in flight, no timer)",
		[SIMNET_TIME_LIMIT] = "simulated-time limit",
		[SIMNET_ITER_LIMIT] = "iteration limit",
		[SIMNET_STUCK] = "stuck (a timer stays due at one instant)",
		[SIMNET_WRITE_LOOP] = "write loop (write_pkt never returned 0)",
	};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const char *simnet_path_state_str(int state)
{
	switch (state) {
	case MPQ_PATH_STATE_VALIDATING:
		return "validating";
	case MPQ_PATH_STATE_ACTIVE:
		return "active";
	case MPQ_PATH_STATE_ABANDONED:
		return "abandoned";
	case MPQ_PATH_STATE_FAILED:
		return "failed";
	default:
		return "?";
	}
}

void simnet_link_format(const struct simnet_link *l, char *buf, size_t len)
{
	snprintf(buf, len,
		 "delay %.3f ms jitter %.3f ms rate %.3f Mbit/s queue %llu B loss %.2f%% "
		 "reorder %.2f%% by %.3f ms dup %.2f%% mtu %u",
		 (double)l->delay / 1e6, (double)l->jitter / 1e6, (double)l->rate * 8 / 1e6,
		 (unsigned long long)l->queue_bytes, l->loss * 100, l->reorder * 100,
		 (double)l->reorder_delay / 1e6, l->dup * 100, (unsigned)l->mtu);
}

static size_t describe_end(const struct simnet *n, int side, char *buf, size_t len)
{
	const struct simnet_end *e = &n->end[side];
	const char *name = side == SIMNET_CLIENT ? "client" : "server";
	if (!e->conn)
		return (size_t)snprintf(buf, len, "%s: none (create %s)\n", name,
					e->create_err ? mpq_strerror(e->create_err) : "not yet");
	mpq_conn_stats st;
	mpq_conn_get_stats(e->conn, &st);
	const mpq_conn_error *err = mpq_conn_get_error(e->conn);
	uint64_t x = mpq_conn_get_expiry(e->conn);
	return (size_t)snprintf(
		buf, len,
		"%s: hs %d expiry %.3f s, sent %llu rcvd %llu lost %llu retx %llu B, "
		"srtt %.3f ms cwnd %llu inflight %llu; read %s@%.3f expiry %s@%.3f write %s@%.3f; "
		"error %s%s%s code 0x%llx frame 0x%llx \"%s\"\n",
		name, mpq_conn_is_handshake_complete(e->conn),
		x == MPQ_TIME_NEVER ? -1.0 : (double)x / 1e9, (unsigned long long)st.packets_sent,
		(unsigned long long)st.packets_received, (unsigned long long)st.packets_lost,
		(unsigned long long)st.stream_bytes_retransmitted, (double)st.srtt / 1e6,
		(unsigned long long)st.cwnd, (unsigned long long)st.bytes_in_flight,
		e->read_err ? mpq_strerror(e->read_err) : "ok", (double)e->read_err_at / 1e9,
		e->expiry_err ? mpq_strerror(e->expiry_err) : "ok", (double)e->expiry_err_at / 1e9,
		e->write_err ? mpq_strerror(e->write_err) : "ok", (double)e->write_err_at / 1e9,
		err->set ? "set" : "none", err->remote ? " remote" : "", err->app ? " app" : "",
		(unsigned long long)err->code, (unsigned long long)err->frame_type, err->reason);
}

static size_t describe_link(const struct simnet *n, unsigned path, int from, char *buf, size_t len)
{
	const struct simnet_link_stats *st = path ? &n->path_link[path - 1][from].st
						  : &n->link[from].st;
	char way[16];
	way_name(way, sizeof(way), n, (int)path, from);
	return (size_t)snprintf(
		buf, len,
		"%s: sent %llu (%llu B) filtered %llu dup %llu lost %llu qdrop %llu "
		"reordered %llu too-big %llu "
		"killed %llu delivered %llu (%llu B, largest %llu B) maxq %llu B ect %llu "
		"ce %llu\n",
		way, (unsigned long long)st->sent, (unsigned long long)st->bytes_sent,
		(unsigned long long)st->filtered, (unsigned long long)st->duplicated,
		(unsigned long long)st->lost, (unsigned long long)st->queue_drops,
		(unsigned long long)st->reordered, (unsigned long long)st->too_big,
		(unsigned long long)st->killed, (unsigned long long)st->delivered,
		(unsigned long long)st->bytes_delivered, (unsigned long long)st->max_len_delivered,
		(unsigned long long)st->max_queue_bytes, (unsigned long long)st->ect,
		(unsigned long long)st->ce_marked);
}

/* Side |side|'s counters of its path ID |i|. */
static size_t describe_path(const mpq_conn *c, int side, size_t i, char *buf, size_t len)
{
	mpq_path_stats ps;
	if (mpq_conn_get_path_stats(c, i, &ps) != 0)
		return 0;
	return (size_t)snprintf(
		buf, len,
		"%s path %u: %s%s sent %llu B rcvd %llu B, pkts %llu/%llu lost %llu, srtt %.3f ms "
		"cwnd %llu\n",
		side == SIMNET_CLIENT ? "client" : "server", ps.path_id,
		simnet_path_state_str(ps.state), ps.backup ? " backup" : "",
		(unsigned long long)ps.bytes_sent, (unsigned long long)ps.bytes_received,
		(unsigned long long)ps.packets_sent, (unsigned long long)ps.packets_received,
		(unsigned long long)ps.packets_lost, (double)ps.srtt / 1e6,
		(unsigned long long)ps.cwnd);
}

const char *simnet_describe(const struct simnet *n, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "t %.6f s, %llu turns, %zu in flight\n",
				      (double)n->now / 1e9, (unsigned long long)n->iters,
				      n->nheap);
	for (int s = 0; s < 2 && off < len; s++)
		off += describe_end(n, s, buf + off, len - off);
	for (unsigned k = 0; k < n->npaths; k++)
		for (int s = 0; s < 2 && off < len; s++)
			off += describe_link(n, k, s, buf + off, len - off);
	if (n->npaths > 1 && off < len)
		off += (size_t)
			snprintf(buf + off, len - off,
				 "paths: %u of %u opened (%llu tries said later, error %s), "
				 "%llu datagrams unrouted\n",
				 n->next_path, n->npaths, (unsigned long long)n->open_tries,
				 n->open_err ? mpq_strerror(n->open_err) : "none",
				 (unsigned long long)n->unrouted);
	for (int s = 0; n->npaths > 1 && s < 2; s++) {
		const mpq_conn *c = n->end[s].conn;
		for (size_t i = 0; c && i < mpq_conn_path_count(c) && off < len; i++)
			off += describe_path(c, s, i, buf + off, len - off);
	}
	if (n->stuck_side >= 0 && off < len)
		snprintf(buf + off, len - off, "stuck: %s expiry %.9f s <= now\n",
			 n->stuck_side == SIMNET_CLIENT ? "client" : "server",
			 (double)n->stuck_expiry / 1e9);
	return buf;
}

uint8_t simnet_pattern(uint8_t salt, uint64_t off)
{
	return (uint8_t)(((uint32_t)off * 0x9e3779b1u) >> 24) ^ (uint8_t)(off >> 20) ^ salt;
}

int simnet_write_pattern(mpq_conn *c, int64_t id, uint8_t salt, uint64_t size, uint64_t *written,
			 bool *fin_written)
{
	uint8_t buf[16384];
	while (!*fin_written) {
		size_t n = sizeof(buf);
		if (n > size - *written)
			n = (size_t)(size - *written);
		for (size_t i = 0; i < n; i++)
			buf[i] = simnet_pattern(salt, *written + i);
		bool fin = *written + n == size;
		int64_t took = mpq_conn_stream_write(c, id, buf, n, fin);
		if (took < 0)
			return (int)took;
		*written += (uint64_t)took;
		if ((size_t)took == n && fin)
			*fin_written = true;
		else if ((size_t)took < n)
			return 0;
	}
	return 0;
}

double simnet_draw(uint64_t *state, double lo, double hi)
{
	return lo + (hi - lo) * (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

void simnet_note_first(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	if (buf[0])
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

double simnet_wall_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool simnet_conns_closed(struct simnet *n)
{
	/* A server no datagram ever reached has no connection at all. */
	for (int s = 0; s < 2; s++)
		if (n->end[s].conn && mpq_conn_get_expiry(n->end[s].conn) != MPQ_TIME_NEVER)
			return false;
	return true;
}

int simnet_test_main(int argc, char **argv, const char *group, const struct CMUnitTest *picked,
		     size_t npicked, CMUnitTestFunction seeded, unsigned long long nseeds,
		     int digits, CMFixtureFunction setup, CMFixtureFunction teardown)
{
	unsigned long long first = 1, last = nseeds;
	const char *range = getenv("SIMNET_SEEDS");
	bool bad = range && sscanf(range, "%llu-%llu", &first, &last) != 2;
	if (bad || first < 1 || last < first) {
		fprintf(stderr, "SIMNET_SEEDS: want FIRST-LAST, e.g. 1-%llu\n", nseeds);
		return 2;
	}
	size_t n = (size_t)(last - first + 1);
	struct CMUnitTest *tests = calloc(npicked + n, sizeof(*tests));
	char(*names)[32] = calloc(n, sizeof(*names));
	if (!tests || !names) {
		free(tests);
		free(names);
		return 2;
	}
	memcpy(tests, picked, npicked * sizeof(*tests));
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "seed_%0*llu", digits, first + i);
		tests[npicked + i] = (struct CMUnitTest){
			.name = names[i],
			.test_func = seeded,
			.initial_state = (void *)(uintptr_t)(first + i),
		};
	}
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	int rv = _cmocka_run_group_tests(group, tests, npicked + n, setup, teardown);
	free(names);
	free(tests);
	return rv;
}
