/* AF_XDP sockets on every rx queue behind one path I/O object: see xsk_set.h. */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpq/io/netaddr.h"
#include "mpq/io/xsk_set.h"

#define FULL_QUEUES 4 /* queues that get the configured frames each */
#define MIN_QUEUE_FRAMES 512
#define MIN_WORKER_FRAMES 128 /* xsk.h: 64 send frames per shared socket */

struct xsk_set {
	mpq_pathio base;
	uint32_t n;    /* queues */
	uint32_t next; /* the queue the next recv_batch starts with */
	int epfd;
	uint32_t txq;	/* the queue whose socket sends: worker k's is k % n */
	bool out_armed; /* EPOLLOUT asked of that socket */
	mpq_pathio *q[MPQ_XSK_SET_MAX_QUEUES];
};

static struct xsk_set *set_of(mpq_pathio *io)
{
	return (struct xsk_set *)io;
}

/* One SIOCETHTOOL request on |ifname|: 0 or an errno. */
static int ethtool(const char *ifname, void *req)
{
	struct ifreq ifr;
	int fd, rv = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IF_NAMESIZE - 1);
	ifr.ifr_data = req;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		rv = errno;
	close(fd);
	return rv;
}

int mpq_xsk_rx_queues(const char *ifname, uint32_t *n)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	uint32_t index;

	if (mpq_if_index(ifname, &index) < 0)
		return MPQ_ERR_NOT_FOUND;
	*n = 1;
	if (ethtool(ifname, &ch) == 0 && ch.rx_count + ch.combined_count > 0)
		*n = ch.rx_count + ch.combined_count;
	return 0;
}

/* An indirection table of |size| entries, from |ring| (NULL: queues
 * 0..n-1 in turn), set or read (|cmd|). 0 or an errno. */
static int indir_table(const char *ifname, uint32_t cmd, uint32_t size, uint32_t *ring, uint32_t n)
{
	struct ethtool_rxfh_indir *t = calloc(1, sizeof(*t) + size * sizeof(uint32_t));
	int rv;

	if (!t)
		return ENOMEM;
	t->cmd = cmd;
	t->size = size;
	for (uint32_t i = 0; cmd == ETHTOOL_SRXFHINDIR && i < size; i++)
		t->ring_index[i] = ring ? ring[i] : i % n;
	rv = ethtool(ifname, t);
	if (rv == 0 && cmd == ETHTOOL_GRXFHINDIR)
		memcpy(ring, t->ring_index, size * sizeof(uint32_t));
	free(t);
	return rv;
}

static int steer_indir(const char *ifname, uint32_t n, mpq_xsk_steer *st)
{
	struct ethtool_rxfh_indir q = {.cmd = ETHTOOL_GRXFHINDIR};
	int rv = ethtool(ifname, &q);

	if (rv == 0 && q.size == 0)
		rv = EOPNOTSUPP;
	if (rv)
		return rv;
	st->indir = calloc(q.size, sizeof(uint32_t));
	if (!st->indir)
		return ENOMEM;
	st->indir_size = q.size;
	rv = indir_table(ifname, ETHTOOL_GRXFHINDIR, q.size, st->indir, n);
	if (rv == 0)
		rv = indir_table(ifname, ETHTOOL_SRXFHINDIR, q.size, NULL, n);
	if (rv) {
		free(st->indir);
		st->indir = NULL;
	}
	return rv;
}

/* Sets the rx-only and combined channels, the others as they are. 0 or an
 * errno. */
static int set_channels(const char *ifname, uint32_t rx, uint32_t combined)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	int rv = ethtool(ifname, &ch);

	if (rv)
		return rv;
	ch.cmd = ETHTOOL_SCHANNELS;
	ch.rx_count = rx;
	ch.combined_count = combined;
	return ethtool(ifname, &ch);
}

static int steer_channels(const char *ifname, uint32_t n, mpq_xsk_steer *st)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	int rv = ethtool(ifname, &ch);

	if (rv)
		return rv;
	st->rx = ch.rx_count;
	st->combined = ch.combined_count;
	/* Rx-only channels come on top of the combined ones. */
	if (ch.combined_count >= n)
		return set_channels(ifname, 0, n);
	return set_channels(ifname, n - ch.combined_count, ch.combined_count);
}

int mpq_xsk_steer_queues(const char *ifname, uint32_t n, mpq_xsk_steer *st)
{
	memset(st, 0, sizeof(*st));
	if (!ifname || n == 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	snprintf(st->ifname, sizeof(st->ifname), "%s", ifname);
	st->indir_errnum = steer_indir(ifname, n, st);
	if (st->indir_errnum == 0)
		return st->how = MPQ_XSK_STEER_INDIR;
	st->channels_errnum = steer_channels(ifname, n, st);
	if (st->channels_errnum == 0)
		return st->how = MPQ_XSK_STEER_CHANNELS;
	if (st->indir_errnum == ENOMEM || st->channels_errnum == ENOMEM)
		return MPQ_ERR_NOMEM;
	return MPQ_ERR_INTERNAL;
}

void mpq_xsk_steer_restore(mpq_xsk_steer *st)
{
	if (st->how == MPQ_XSK_STEER_INDIR)
		indir_table(st->ifname, ETHTOOL_SRXFHINDIR, st->indir_size, st->indir, 1);
	else if (st->how == MPQ_XSK_STEER_CHANNELS)
		set_channels(st->ifname, st->rx, st->combined);
	free(st->indir);
	st->indir = NULL;
	st->how = MPQ_XSK_STEER_NONE;
}

/* After a send that found the buffers full, the epoll descriptor also
 * wakes the caller when the sending socket can take more. */
static void arm_out(struct xsk_set *s, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u32 = s->txq};

	if (s->n > 1 && on != s->out_armed &&
	    epoll_ctl(s->epfd, EPOLL_CTL_MOD, mpq_pathio_fd(s->q[s->txq]), &ev) == 0)
		s->out_armed = on;
}

static int set_recv(mpq_pathio *io, mpq_dgram *d, size_t n)
{
	struct xsk_set *s = set_of(io);
	uint32_t first = s->next;
	size_t out = 0;
	int rv = 0;

	s->next = (s->next + 1) % s->n;
	for (uint32_t i = 0; i < s->n && out < n; i++) {
		mpq_pathio *m = s->q[(first + i) % s->n];

		m->capture = io->capture;
		rv = mpq_pathio_recv(m, d + out, n - out);
		if (rv < 0) {
			io->err = m->err;
			break;
		}
		out += (size_t)rv;
	}
	return out > 0 || rv >= 0 ? (int)out : rv;
}

static int set_send(mpq_pathio *io, const mpq_dgram *d, size_t n)
{
	struct xsk_set *s = set_of(io);
	mpq_pathio *m = s->q[s->txq];
	int rv;

	m->capture = io->capture;
	rv = mpq_pathio_send(m, d, n);
	if (rv < 0)
		io->err = m->err;
	arm_out(s, rv >= 0 && (size_t)rv < n);
	return rv;
}

/* One queue: its socket's own descriptor, which says writable itself and
 * spares the caller's loop a nested epoll. */
static int set_fd(const mpq_pathio *io)
{
	const struct xsk_set *s = (const struct xsk_set *)io;

	return s->n == 1 ? mpq_pathio_fd(s->q[0]) : s->epfd;
}

static void set_close(mpq_pathio *io)
{
	struct xsk_set *s = set_of(io);

	for (uint32_t i = 0; i < s->n; i++)
		mpq_pathio_close(s->q[i]);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
}

static int set_open_default(mpq_pathio **out, const mpq_pathio_config *cfg, mpq_oserr *err)
{
	uint32_t n;
	int rv;

	*out = NULL;
	if (!cfg || cfg->struct_version != MPQ_PATHIO_CONFIG_V1 || !cfg->ifname)
		return MPQ_ERR_INVALID_ARGUMENT;
	rv = mpq_xsk_rx_queues(cfg->ifname, &n);
	if (rv < 0)
		return rv;
	if (n > MPQ_XSK_SET_MAX_QUEUES)
		n = MPQ_XSK_SET_MAX_QUEUES;
	return mpq_xsk_set_open(out, 1, n, cfg, NULL, NULL, err);
}

const struct mpq_pathio_ops mpq_pathio_xdp_set = {
	.name = "xdp-queues",
	.open = set_open_default,
	.recv_batch = set_recv,
	.send_batch = set_send,
	.fd = set_fd,
	.close = set_close,
};

uint32_t mpq_xsk_set_queues(mpq_pathio *set)
{
	return set && set->ops == &mpq_pathio_xdp_set ? set_of(set)->n : 0;
}

mpq_pathio *mpq_xsk_set_member(mpq_pathio *set, uint32_t queue)
{
	return queue < mpq_xsk_set_queues(set) ? set_of(set)->q[queue] : NULL;
}

static uint32_t pow2_floor(uint32_t v)
{
	uint32_t p = 1;

	while (p <= v / 2)
		p <<= 1;
	return p;
}

/* The frames of each queue's UMEM (xsk_set.h). */
static uint32_t queue_frames(uint32_t frames, uint32_t n_queues, uint32_t n_workers)
{
	uint32_t least = MIN_QUEUE_FRAMES, f;

	while (least < MIN_WORKER_FRAMES * n_workers)
		least <<= 1;
	if (n_queues <= FULL_QUEUES)
		return frames;
	f = pow2_floor((uint32_t)((uint64_t)frames * FULL_QUEUES / n_queues));
	return f < least ? least : f;
}

static struct xsk_set *set_new(void)
{
	struct xsk_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.ops = &mpq_pathio_xdp_set;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* Queue |q|'s sockets, one per worker, into the sets. */
static int open_queue(struct xsk_set **sets, uint32_t n_workers, uint32_t q, uint32_t n_queues,
		      const mpq_pathio_config *cfg, const mpq_xsk_config *xcfg, mpq_oserr *err)
{
	mpq_pathio *row[MPQ_XSK_MAX_SHARED];
	mpq_pathio_config qcfg = *cfg;
	mpq_xsk_config x = *xcfg;
	int rv;

	x.queue = q;
	x.frames = queue_frames(xcfg->frames, n_queues, n_workers);
	if (q > 0) {
		qcfg.local = sets[0]->q[0]->local; /* with the port queue 0 holds */
		x.port_held = true;
	}
	rv = mpq_xsk_open_shared(row, n_workers, &qcfg, &x, err);
	if (rv < 0)
		return rv;
	for (uint32_t k = 0; k < n_workers; k++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = q};
		struct xsk_set *s = sets[k];

		s->q[s->n++] = row[k];
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, mpq_pathio_fd(row[k]), &ev) < 0)
			rv = mpq_oserr_set(err, "epoll_ctl", errno);
	}
	return rv;
}

int mpq_xsk_set_open(mpq_pathio **out, uint32_t n_workers, uint32_t n_queues,
		     const mpq_pathio_config *cfg, const mpq_xsk_config *xcfg,
		     uint32_t *failed_queue, mpq_oserr *err)
{
	struct xsk_set *sets[MPQ_XSK_MAX_SHARED] = {0};
	mpq_xsk_config x;
	int rv = 0;
	uint32_t q;

	if (err)
		mpq_oserr_clear(err);
	if (!out || !cfg || cfg->struct_version != MPQ_PATHIO_CONFIG_V1 || n_workers == 0 ||
	    n_workers > MPQ_XSK_MAX_SHARED || n_queues == 0 || n_queues > MPQ_XSK_SET_MAX_QUEUES ||
	    (xcfg && xcfg->struct_version != MPQ_XSK_CONFIG_V1))
		return MPQ_ERR_INVALID_ARGUMENT;
	if (xcfg)
		x = *xcfg;
	else
		mpq_xsk_config_default(&x);
	if (n_queues > 1 && !x.inhibit_prog)
		return MPQ_ERR_INVALID_ARGUMENT;
	for (uint32_t k = 0; k < n_workers; k++) {
		out[k] = NULL;
		sets[k] = set_new();
		if (!sets[k])
			rv = MPQ_ERR_NOMEM;
	}
	for (q = 0; q < n_queues && rv == 0; q++)
		rv = open_queue(sets, n_workers, q, n_queues, cfg, &x, err);
	if (rv < 0 && failed_queue)
		*failed_queue = q > 0 ? q - 1 : 0; /* 0 too when nothing was tried */
	for (uint32_t k = 0; k < n_workers; k++) {
		struct xsk_set *s = sets[k];

		if (!s)
			continue;
		if (rv < 0) {
			set_close(&s->base);
			continue;
		}
		s->txq = k % n_queues; /* the workers' sends spread over the queues' UMEMs */
		s->base.local = s->q[0]->local;
		s->base.ifindex = s->q[0]->ifindex;
		s->base.caps = s->q[0]->caps;
		s->base.max_udp_payload = s->q[0]->max_udp_payload;
		out[k] = &s->base;
	}
	return rv;
}
