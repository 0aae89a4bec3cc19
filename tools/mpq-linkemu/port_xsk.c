/*
 * The AF_XDP backend of a router leg (--io xdp): lib/io's raw mode
 * (mpq/io/xsk.h) on every rx queue of the interface, one socket and UMEM
 * per queue, and the whole-frame program (mpq/io/xdp_redirect.h) handing
 * each frame to its queue's socket, ARP and neighbour discovery included:
 * the leg's kernel sees nothing, as with a wire. Sends go through queue 0's
 * socket. With several queues, an epoll descriptor over the sockets is
 * what the main loop polls.
 *
 * A frame that arrives is the UMEM's only until the next recv: the emulator
 * copies every frame it holds into its own memory (main.c admit_batch). A
 * held frame may wait for seconds (delay, a 100 ms queue at a low rate,
 * HELD_MAX = 65536 frames a direction), far more than the receive half of a
 * UMEM (2048 frames), and the FILL ring running dry would drop at the
 * interface what the link model should decide about; one copy of a frame
 * is cheap beside its trip through the heap.
 *
 * A local sender's kernel leaves the TCP or UDP checksum to offload over
 * veth and the frame comes here with the pseudo-header sum only (the
 * AF_PACKET backend passes the request on in its virtio-net header, AF_XDP
 * has no such thing): it is completed on receipt (mpq_frame_hdr_l4_csum_fix),
 * as the receiver's kernel, getting the frame from AF_XDP, checks it.
 * AF_XDP has no receive time: frames count from when they are read.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "mpq/io/frame_hdr.h"
#include "mpq/io/xdp_redirect.h"
#include "mpq/io/xsk.h"
#include "mpq/io/xsk_set.h"
#include "mpq_redirect_all.h"
#include "port.h"

struct xsk_port {
	mpq_xdp_redirect *prog;
	mpq_pathio *q[MPQ_REDIRECT_ALL_MAX_QUEUES];
	uint32_t n;
	uint32_t next; /* the queue read first next time, so none starves */
	int epfd;
};

static void xsk_port_close(emu_port *p)
{
	struct xsk_port *x = p->priv;

	if (!x)
		return;
	/* The program first: no frame is redirected to a socket going away. */
	mpq_xdp_redirect_del(x->prog);
	for (uint32_t i = 0; i < x->n; i++)
		mpq_pathio_close(x->q[i]);
	if (x->epfd >= 0)
		close(x->epfd);
	free(x);
	p->priv = NULL;
	p->fd = -1;
}

/* errno from an MPQ_ERR_* and what failed, in p->why. */
static int fail(emu_port *p, const char *what, const mpq_oserr *e)
{
	int errnum = e && e->errnum ? e->errnum : EOPNOTSUPP;

	snprintf(p->why, sizeof(p->why), "%s%s%s: %s", what, e && e->call ? ", " : "",
		 e && e->call ? e->call : "", strerror(errnum));
	xsk_port_close(p);
	errno = errnum;
	return -1;
}

static int xsk_port_open(emu_port *p, const char *ifname)
{
	struct xsk_port *x = calloc(1, sizeof(*x));
	mpq_xsk_config cfg;
	mpq_oserr err = {0};
	uint32_t queues = 1;

	if (!x)
		return -1;
	x->epfd = -1;
	p->priv = x;
	p->hdr_len = 0;
	p->ifindex = (int)if_nametoindex(ifname);
	if (!p->ifindex)
		return fail(p, ifname, &(mpq_oserr){.errnum = ENODEV});
	if (mpq_xsk_rx_queues(ifname, &queues) < 0 || queues > MPQ_REDIRECT_ALL_MAX_QUEUES)
		return fail(p, "rx queues", &(mpq_oserr){.errnum = ERANGE});
	mpq_xsk_config_default(&cfg);
	for (; x->n < queues; x->n++) {
		int rv = mpq_xsk_raw_open(&x->q[x->n], ifname, x->n, &cfg, &err);

		/* Refused before any system call: not an Ethernet interface. */
		if (rv == MPQ_ERR_INVALID_ARGUMENT && !err.errnum)
			return fail(p, "AF_XDP socket (not an Ethernet interface)", NULL);
		if (rv < 0)
			return fail(p, "AF_XDP socket", &err);
	}
	if (mpq_xdp_redirect_attach(&x->prog, p->ifindex, MPQ_XDP_MODE_AUTO, &err) < 0)
		return fail(p, "XDP program", &err);
	for (uint32_t i = 0; i < x->n; i++) {
		int rv = mpq_xdp_redirect_set_xsk(x->prog, i, mpq_pathio_fd(x->q[i]));

		if (rv < 0)
			return fail(p, "XSKMAP", &(mpq_oserr){.errnum = errno});
	}
	p->fd = mpq_pathio_fd(x->q[0]);
	if (x->n > 1) {
		x->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (x->epfd < 0)
			return fail(p, "epoll", &(mpq_oserr){.errnum = errno});
		for (uint32_t i = 0; i < x->n; i++) {
			struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};

			if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, mpq_pathio_fd(x->q[i]), &ev))
				return fail(p, "epoll", &(mpq_oserr){.errnum = errno});
		}
		p->fd = x->epfd;
	}
	return 0;
}

static int xsk_port_recv(emu_port *p, uint8_t **data, uint32_t *len, uint64_t *at_ns, int max)
{
	struct xsk_port *x = p->priv;
	mpq_xsk_frame f[EMU_BATCH];
	int out = 0;

	if (max > EMU_BATCH)
		max = EMU_BATCH;
	/* Every queue is read each time (a read also gives back the frames of
	 * the one before), starting one further each call. */
	for (uint32_t k = 0; k < x->n; k++) {
		uint32_t q = (x->next + k) % x->n;
		int n = mpq_xsk_raw_recv(x->q[q], f, (size_t)(max - out));

		for (int i = 0; i < n; i++) {
			mpq_frame_hdr_l4_csum_fix(f[i].data, f[i].len);
			data[out] = f[i].data;
			len[out] = f[i].len;
			at_ns[out++] = 0;
		}
	}
	x->next = (x->next + 1) % x->n;
	return out;
}

static int xsk_port_send(emu_port *p, const struct iovec *frames, int n)
{
	struct xsk_port *x = p->priv;
	mpq_xsk_frame f[EMU_BATCH];
	int sent = 0;

	while (sent < n) {
		int k = n - sent > EMU_BATCH ? EMU_BATCH : n - sent, r;

		for (int i = 0; i < k; i++)
			f[i] = (mpq_xsk_frame){frames[sent + i].iov_base,
					       (uint32_t)frames[sent + i].iov_len};
		r = mpq_xsk_raw_send(x->q[0], f, (size_t)k);
		if (r <= 0)
			break;
		sent += r;
		if (r < k)
			break;
	}
	return sent;
}

static void xsk_port_update_stats(emu_port *p)
{
	struct xsk_port *x = p->priv;
	uint64_t dropped = 0;

	/* The kernel's counters only grow: the sum of every queue's. */
	for (uint32_t i = 0; i < x->n; i++) {
		mpq_xsk_stats st;

		if (!mpq_xsk_get_stats(x->q[i], &st))
			dropped += st.k_rx_dropped + st.k_rx_ring_full;
	}
	p->rx_dropped = dropped;
}

const emu_port_ops emu_port_xsk = {
	.name = "xdp",
	.open = xsk_port_open,
	.recv = xsk_port_recv,
	.send = xsk_port_send,
	.update_stats = xsk_port_update_stats,
	.close = xsk_port_close,
};
