/* An SO_REUSEPORT group of udp objects steered by CID. See reuseport.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mpq/io/netaddr.h"
#include "mpq/io/reuseport.h"
#include "mpq/io/xdp_prog.h"
#include "mpq/io/udp.h"
#include "mpq_reuseport.skel.h"

struct mpq_reuseport {
	struct mpq_reuseport_bpf *skel;
	uint32_t n;
	mpq_pathio **io; /* n of them; NULL once taken */
	int lock;	 /* the address is this group's (see take_address) */
	int ncpus;
	uint64_t *percpu; /* one counter's values, one per possible CPU */
	mpq_oserr err;
};

static const char *const counter_names[] = {
#define NAME_(id, name) [MPQ_REUSEPORT_CNT_##id] = #name,
	MPQ_REUSEPORT_COUNTERS(NAME_)
#undef NAME_
};

_Static_assert(sizeof(counter_names) / sizeof(counter_names[0]) == MPQ_REUSEPORT_CNT__MAX,
	       "a name for every counter");

/* Records |errnum| for |call| on |g| and in |err|. */
static int fail(mpq_reuseport *g, mpq_oserr *err, const char *call, int errnum)
{
	if (errnum <= 0)
		errnum = EINVAL;
	if (err)
		mpq_oserr_set(err, call, errnum);
	return mpq_oserr_set(&g->err, call, errnum);
}

void mpq_reuseport_close(mpq_reuseport *g)
{
	if (!g)
		return;
	for (uint32_t i = 0; g->io && i < g->n; i++)
		mpq_pathio_close(g->io[i]);
	free(g->io);
	mpq_reuseport_bpf__destroy(g->skel);
	if (g->lock >= 0)
		close(g->lock);
	free(g->percpu);
	free(g);
}

/*
 * SO_REUSEPORT lets any socket of the same user join a group, and the kernel
 * then spreads new clients over all of them: a second server on the address
 * would take most of the first one's clients. So a group owns its address:
 * an abstract unix socket named after address, port and device is bound
 * while the group lives (a second group's bind of the name fails, also in
 * another process, and the kernel frees it with the process); and before
 * the group binds a given port, a plain bind of it must succeed (nothing
 * else holds the port, e.g. a group on the wildcard address).
 */
static int lock_address(mpq_reuseport *g, const mpq_pathio_config *cfg, const mpq_addr *local,
			mpq_oserr *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char addr[MPQ_ADDR_STRLEN] = "";
	int n;

	mpq_addr_format(local, addr, sizeof(addr));
	/* sun_path[0] stays 0: the abstract namespace (per network namespace). */
	n = snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "mpquic/reuseport/%s%%%s", addr,
		     cfg->ifname ? cfg->ifname : "");
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path) - 1)
		return fail(g, err, "reuseport lock", ENAMETOOLONG);
	g->lock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (g->lock < 0)
		return fail(g, err, "socket", errno);
	if (bind(g->lock, (struct sockaddr *)&sun,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0)
		return fail(g, err, "bind", errno); /* EADDRINUSE: another group has it */
	return 0;
}

/* A plain bind of |cfg|'s port: fails (EADDRINUSE) while anything holds it. */
static int probe_address(mpq_reuseport *g, const mpq_pathio_config *cfg, mpq_oserr *err)
{
	mpq_pathio_config c = *cfg;
	mpq_pathio *io;
	int rv;

	c.reuseport = false;
	c.reuseaddr = false;
	rv = mpq_pathio_udp.open(&io, &c, err);
	if (rv < 0) {
		if (err)
			g->err = *err;
		return rv;
	}
	mpq_pathio_close(io);
	return 0;
}

static void close_sockets(mpq_reuseport *g)
{
	for (uint32_t i = 0; i < g->n; i++) {
		mpq_pathio_close(g->io[i]);
		g->io[i] = NULL;
	}
}

static int open_sockets(mpq_reuseport *g, const mpq_pathio_config *cfg, mpq_oserr *err)
{
	mpq_pathio_config c = *cfg;
	int rv;

	c.reuseport = true;
	for (uint32_t i = 0; i < g->n; i++) {
		rv = mpq_pathio_udp.open(&g->io[i], &c, err);
		if (rv < 0) {
			if (err)
				g->err = *err;
			return rv;
		}
		c.local = g->io[0]->local; /* port 0: the one chosen for the first */
	}
	return 0;
}

static int load_and_attach(mpq_reuseport *g, mpq_oserr *err)
{
	int prog, map, fd, rv;

	mpq_bpf_quiet();
	g->skel = mpq_reuseport_bpf__open();
	if (!g->skel)
		return fail(g, err, "bpf open", errno);
	rv = mpq_reuseport_bpf__load(g->skel);
	if (rv)
		return fail(g, err, "bpf load", -rv);
	prog = bpf_program__fd(g->skel->progs.MPQ_REUSEPORT_PROG);
	map = bpf_map__fd(g->skel->maps.MPQ_REUSEPORT_MAP_SOCKS);
	/* Slots first, so that no datagram finds the program without them. */
	for (uint32_t i = 0; i < g->n; i++) {
		uint64_t v;

		fd = mpq_pathio_fd(g->io[i]);
		v = (uint64_t)fd;
		if (bpf_map_update_elem(map, &i, &v, BPF_ANY) < 0)
			return fail(g, err, "sockarray update", errno);
	}
	fd = mpq_pathio_fd(g->io[0]);
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &prog, sizeof(prog)) < 0)
		return fail(g, err, "SO_ATTACH_REUSEPORT_EBPF", errno);
	return 0;
}

/* Opens the sockets on an address no other group or socket has (see
 * lock_address). Port 0: the kernel may choose a port another group holds
 * (it lets reuseport sockets of one user share), so then another try. */
static int own_address(mpq_reuseport *g, const mpq_pathio_config *cfg, mpq_oserr *err)
{
	bool any_port = mpq_addr_port(&cfg->local) == 0;
	int rv;

	if (!any_port) {
		rv = lock_address(g, cfg, &cfg->local, err);
		if (rv == 0)
			rv = probe_address(g, cfg, err);
		return rv == 0 ? open_sockets(g, cfg, err) : rv;
	}
	for (int tries = 0;; tries++) {
		rv = open_sockets(g, cfg, err);
		if (rv < 0)
			return rv;
		rv = lock_address(g, cfg, &g->io[0]->local, err);
		if (rv == 0 || g->err.errnum != EADDRINUSE || tries == 8)
			return rv;
		close_sockets(g);
		close(g->lock);
		g->lock = -1;
		if (err)
			mpq_oserr_clear(err);
	}
}

int mpq_reuseport_open(mpq_reuseport **out, const mpq_pathio_config *cfg, uint32_t n_workers,
		       mpq_oserr *err)
{
	mpq_reuseport *g;
	int rv;

	if (err)
		mpq_oserr_clear(err);
	if (!out || !cfg || cfg->struct_version != MPQ_PATHIO_CONFIG_V1)
		return MPQ_ERR_INVALID_ARGUMENT;
	*out = NULL;
	if (n_workers < 1 || n_workers > MPQ_REUSEPORT_MAX_WORKERS)
		return MPQ_ERR_INVALID_ARGUMENT;
	g = calloc(1, sizeof(*g));
	if (!g)
		return MPQ_ERR_NOMEM;
	g->n = n_workers;
	g->lock = -1;
	g->io = calloc(n_workers, sizeof(*g->io));
	g->ncpus = libbpf_num_possible_cpus();
	if (g->ncpus > 0)
		g->percpu = calloc((size_t)g->ncpus, sizeof(uint64_t));
	if (!g->io || (g->ncpus > 0 && !g->percpu)) {
		mpq_reuseport_close(g);
		return MPQ_ERR_NOMEM;
	}
	if (g->ncpus <= 0)
		rv = fail(g, err, "possible cpus", -g->ncpus);
	else
		rv = own_address(g, cfg, err);
	if (rv == 0)
		rv = load_and_attach(g, err);
	if (rv < 0) {
		mpq_reuseport_close(g);
		return rv;
	}
	*out = g;
	return 0;
}

uint32_t mpq_reuseport_workers(const mpq_reuseport *g)
{
	return g->n;
}

mpq_pathio *mpq_reuseport_io(const mpq_reuseport *g, uint32_t worker)
{
	return worker < g->n ? g->io[worker] : NULL;
}

mpq_pathio *mpq_reuseport_take(mpq_reuseport *g, uint32_t worker)
{
	mpq_pathio *io;

	if (worker >= g->n)
		return NULL;
	io = g->io[worker];
	g->io[worker] = NULL;
	return io;
}

int mpq_reuseport_counters(mpq_reuseport *g, uint64_t out[MPQ_REUSEPORT_CNT__MAX])
{
	int map = bpf_map__fd(g->skel->maps.MPQ_REUSEPORT_MAP_COUNTERS);

	for (uint32_t i = 0; i < MPQ_REUSEPORT_CNT__MAX; i++) {
		if (bpf_map_lookup_elem(map, &i, g->percpu) < 0)
			return fail(g, NULL, "counters lookup", errno);
		out[i] = 0;
		for (int c = 0; c < g->ncpus; c++)
			out[i] += g->percpu[c];
	}
	return 0;
}

const char *mpq_reuseport_counter_name(unsigned int idx)
{
	return idx < MPQ_REUSEPORT_CNT__MAX ? counter_names[idx] : NULL;
}
