/* AF_XDP sockets behind the path I/O ops table: see xsk.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "mpq/io/frame_hdr.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/netif.h"
#include "mpq/io/xdp_prog.h"
#include "mpq/io/xsk.h"
#include "io/xsk_sg.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
/* Linux 6.17: descriptors one copy-mode sendto may take (32 before, and by
 * default); Debian 12's 6.1 headers lack it. */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif

#define MAX_BATCH 1024
#define MAX_OWN 16		   /* addresses of the interface we answer for */
#define NH_SLOTS 32		   /* next hops remembered */
#define NH_FAILED_NS 1000000000ull /* a failed next hop fails sends this long */
#define KICK_TRIES 64		   /* sendto rounds per call while the kernel makes progress */
#define PUMP_BATCH 64
#define BUSY_TRIES 100 /* waits for a queue a closed socket still holds */
#define BUSY_WAIT_NS 10000000L
#define MIN_SEND_FRAMES 64		/* of each member of a shared UMEM */
#define RX_HEADROOM XDP_PACKET_HEADROOM /* where the kernel puts a received frame */
#define VLAN_HLEN 4
/* Multi-buffer: a sent frame takes at most this many UMEM frames (copy mode
 * makes an skb of the first and one page fragment of each other, at most
 * MAX_SKB_FRAGS = 17 of them). */
#define SG_MAX_FRAMES 17

enum { NH_FREE, NH_VALID, NH_FAILED };

struct next_hop {
	int state;
	mpq_addr dst; /* the remote address (port 0) */
	mpq_addr src; /* the route's preferred source */
	uint8_t mac[MPQ_ETH_ALEN];
	uint64_t expires; /* monotonic ns */
	int errnum;	  /* why it failed */
	const char *call;
};

/* What the sockets of one queue share (XDP_SHARED_UMEM): the UMEM, its
 * FILL and COMPLETION rings, under |lock|. The receive frames are the first
 * half of the UMEM; the send frames the second, |per| for each member, which
 * keeps them on its own free stack (also under |lock|: a completion drained
 * by one member goes back to the stack of the frame's owner). */
struct xsk_shared {
	pthread_mutex_t lock;
	struct xsk_umem *umem;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	uint8_t *area;
	size_t area_len;
	uint32_t frame_size;
	uint32_t half; /* receive frames */
	uint32_t per;  /* send frames of each member */
	uint32_t n;    /* members */
	uint32_t live; /* members not closed yet */
	int port_fd;   /* the kernel UDP socket holding our port */
	int how;       /* the attempt the first member succeeded with */
	struct xsk_sock *member[MPQ_XSK_MAX_SHARED];
};

struct xsk_sock {
	mpq_pathio base;
	mpq_xsk_info info;
	mpq_xsk_stats stats;

	struct xsk_shared *sh;
	uint32_t index; /* in sh->member */
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	uint8_t *area;	     /* sh->area */
	uint64_t frame_mask; /* ~(frame_size - 1) */
	int fd;		     /* the AF_XDP socket */
	int netns_fd;	     /* the network namespace it was opened in */

	int family;
	bool wildcard;
	bool dual;	       /* the IPv6 wildcard: IPv4 too, as a dual-stack socket */
	uint32_t max_payload4; /* info.max_payload with IPv4 headers */
	bool verify_csum;
	bool raw; /* whole frames: mpq_xsk_raw_* */
	size_t batch;
	size_t max_dgram;
	uint64_t neigh_ttl_ns;
	unsigned int resolve_ms;

	uint64_t *tx_free; /* send frames not in the kernel: a stack (sh->lock) */
	uint32_t n_tx_free;
	uint64_t *held; /* receive frames handed out by the last recv_batch */
	uint32_t n_held;
	struct xdp_desc *backlog;	  /* ours, read while waiting for a neighbour: a FIFO */
	uint32_t bl_cap, bl_head, bl_len; /* bl_cap a power of two */

	/* Multi-buffer (info.multi_buffer): a frame received over several
	 * UMEM frames is gathered into the slot of its datagram, rx_slot bytes
	 * each, batch of them; max_chain bounds the descriptors of one. */
	bool want_sg;
	uint8_t *rxbuf;
	size_t rx_slot;
	uint32_t max_chain;
	uint8_t *txcap; /* a sent frame in one piece, for the capture hook */

	struct next_hop hops[NH_SLOTS];
	uint32_t hop_next;	   /* the slot to reuse next */
	const mpq_addr *resolving; /* the next hop a resolution waits for */

	mpq_addr own[MAX_OWN]; /* the interface's addresses */
	size_t n_own;
	mpq_netif nl;
};

static struct xsk_sock *xsk_of(mpq_pathio *io)
{
	return (struct xsk_sock *)io;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* libxdp and libbpf name the interface by index in the calling thread's
 * network namespace (detaching the program at close, querying the attach
 * mode). When that is not the object's, |fn| runs in a short-lived thread
 * that enters it, so the caller's thread never changes namespace and has
 * nothing to undo. Returns 0, or the errno of the failure that kept |fn|
 * from running there (the thread or setns). Their print hooks are
 * mpq_bpf_quiet's (installed at open): a thread not inside an mpq_xdp_prog
 * call has its messages dropped. */
struct ns_call {
	int netns_fd;
	void (*fn)(void *);
	void *arg;
	int err;
};

static void *ns_call_main(void *arg)
{
	struct ns_call *c = arg;

	if (setns(c->netns_fd, CLONE_NEWNET) < 0) {
		c->err = errno;
		return NULL;
	}
	c->fn(c->arg);
	return NULL;
}

static bool in_own_netns(const struct xsk_sock *s)
{
	struct stat here, there;

	if (s->netns_fd < 0 || fstat(s->netns_fd, &there) < 0 ||
	    stat("/proc/thread-self/ns/net", &here) < 0)
		return true; /* nothing better to go by */
	return here.st_ino == there.st_ino && here.st_dev == there.st_dev;
}

static int in_netns(const struct xsk_sock *s, void (*fn)(void *), void *arg)
{
	struct ns_call c = {.netns_fd = s->netns_fd, .fn = fn, .arg = arg};
	pthread_t t;
	int rv;

	if (in_own_netns(s)) {
		fn(arg);
		return 0;
	}
	rv = pthread_create(&t, NULL, ns_call_main, &c);
	if (rv != 0)
		return rv;
	pthread_join(t, NULL);
	return c.err;
}

void mpq_xsk_config_default(mpq_xsk_config *xcfg)
{
	memset(xcfg, 0, sizeof(*xcfg));
	xcfg->struct_version = MPQ_XSK_CONFIG_VERSION;
	xcfg->frames = 4096;
	xcfg->frame_size = 4096;
	xcfg->resolve_ms = 1000;
	xcfg->neigh_ttl_ms = 5000;
}

/* ---- addresses ---------------------------------------------------------- */

static const uint8_t *ip_of(const mpq_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
	return (const uint8_t *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
}

static size_t ip_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Is |ip| (|family|, raw bytes) one of the interface's addresses? */
static bool owns(const struct xsk_sock *s, int family, const uint8_t *ip)
{
	for (size_t i = 0; i < s->n_own; i++)
		if (s->own[i].ss.ss_family == family &&
		    memcmp(ip_of(&s->own[i]), ip, ip_len(family)) == 0)
			return true;
	return false;
}

/* Whether datagrams of |family| are ours to receive and send. */
static bool serves(const struct xsk_sock *s, int family)
{
	return family == s->family || (s->dual && family == AF_INET);
}

/* Whether |ip| is the address a resolution waits for. */
static bool awaited(const struct xsk_sock *s, int family, const uint8_t *ip)
{
	return s->resolving && s->resolving->ss.ss_family == family &&
	       memcmp(ip_of(s->resolving), ip, ip_len(family)) == 0;
}

/* A link-local IPv6 address of a received datagram names our interface. */
static void scope_received(mpq_addr *a, uint32_t ifindex)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

	if (a->ss.ss_family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
		sin6->sin6_scope_id = ifindex;
}

/* An address from the bytes of an ARP or ND packet (port 0). */
static void set_ip(mpq_addr *a, int family, const uint8_t *ip, uint32_t ifindex)
{
	mpq_frame_hdr_addr(a, family, ip, NULL);
	scope_received(a, ifindex);
}

/* ---- rings -------------------------------------------------------------- */

/* The FILL and COMPLETION rings and the send-frame stacks are shared by the
 * sockets of one UMEM, each in its own thread; a lone socket has them to
 * itself and skips the lock on its per-packet path. sh->n is fixed at open. */
static void shared_lock(struct xsk_shared *sh)
{
	if (sh->n > 1)
		pthread_mutex_lock(&sh->lock);
}

static void shared_unlock(struct xsk_shared *sh)
{
	if (sh->n > 1)
		pthread_mutex_unlock(&sh->lock);
}

static uint8_t *frame_at(const struct xsk_sock *s, uint64_t addr)
{
	return s->area + addr;
}

/* Gives receive frames back to the kernel. The FILL ring holds every
 * receive frame, so there is always room. */
static void fill_return(struct xsk_sock *s, const uint64_t *addrs, uint32_t n)
{
	struct xsk_shared *sh = s->sh;
	uint32_t idx;

	if (n == 0)
		return;
	shared_lock(sh);
	if (xsk_ring_prod__reserve(&sh->fill, n, &idx) == n) {
		for (uint32_t i = 0; i < n; i++)
			*xsk_ring_prod__fill_addr(&sh->fill, idx + i) = addrs[i] & s->frame_mask;
		xsk_ring_prod__submit(&sh->fill, n);
	}
	shared_unlock(sh);
}

static void fill_return_one(struct xsk_sock *s, uint64_t addr)
{
	fill_return(s, &addr, 1);
}

/* The |n| frames of the descriptors from |idx| of |r| back to the kernel. */
static void fill_return_chain(struct xsk_sock *s, const struct xsk_ring_cons *r, uint32_t idx,
			      uint32_t n)
{
	uint64_t addrs[SG_MAX_FRAMES + 1];
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		addrs[k++] = xsk_ring_cons__rx_desc(r, idx + i)->addr;
		if (k == sizeof(addrs) / sizeof(addrs[0]) || i + 1 == n) {
			fill_return(s, addrs, k);
			k = 0;
		}
	}
}

/* Send frames the kernel is done with come back to their owner's free
 * stack (a closed owner's are not used again). */
static void complete_tx(struct xsk_sock *s)
{
	struct xsk_shared *sh = s->sh;
	uint32_t idx, n;

	shared_lock(sh);
	n = xsk_ring_cons__peek(&sh->comp, sh->comp.size, &idx);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&sh->comp, idx + i) & s->frame_mask;
		uint64_t frame = addr / sh->frame_size;
		struct xsk_sock *o;

		if (frame < sh->half || (frame - sh->half) / sh->per >= sh->n)
			continue;
		o = sh->member[(frame - sh->half) / sh->per];
		if (o && o->n_tx_free < sh->per)
			o->tx_free[o->n_tx_free++] = addr;
	}
	xsk_ring_cons__release(&sh->comp, n);
	shared_unlock(sh);
}

/* A send frame back on our own stack. */
static void tx_frame_put(struct xsk_sock *s, uint64_t addr)
{
	shared_lock(s->sh);
	s->tx_free[s->n_tx_free++] = addr;
	shared_unlock(s->sh);
}

/* A free send frame of ours, if there is one. */
static bool tx_frame_get(struct xsk_sock *s, uint64_t *addr)
{
	bool ok;

	shared_lock(s->sh);
	ok = s->n_tx_free > 0;
	if (ok)
		*addr = s->tx_free[--s->n_tx_free];
	shared_unlock(s->sh);
	return ok;
}

static uint32_t tx_frames_free(struct xsk_sock *s)
{
	uint32_t n;

	shared_lock(s->sh);
	n = s->n_tx_free;
	shared_unlock(s->sh);
	return n;
}

/* Descriptors on the TX ring the kernel has not taken yet. */
static uint32_t tx_pending(struct xsk_sock *s)
{
	return s->tx.size - xsk_prod_nb_free(&s->tx, s->tx.size);
}

/* Tells the kernel to transmit. In copy mode each sendto sends a bounded
 * batch and says EAGAIN while more is waiting: go on while it makes
 * progress. */
static void kick_tx(struct xsk_sock *s)
{
	for (int i = 0; i < KICK_TRIES; i++) {
		uint32_t before = tx_pending(s);
		ssize_t rv;

		if (before == 0)
			return;
		if (s->info.need_wakeup && !xsk_ring_prod__needs_wakeup(&s->tx))
			return;
		rv = sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
		s->stats.tx_kicks++;
		if (rv < 0 && errno != EAGAIN && errno != EBUSY && errno != ENOBUFS &&
		    errno != EINTR) {
			mpq_oserr_set(&s->base.err, "sendto (AF_XDP wakeup)", errno);
			return;
		}
		if (s->info.zerocopy || tx_pending(s) >= before)
			return;
	}
}

/* Nothing received: a driver that ran out of FILL frames waits for a
 * wakeup before it takes them again. */
static void kick_rx(struct xsk_sock *s)
{
	/* Busy polling: the system call is what runs the NAPI. */
	if (s->info.busy_poll || xsk_ring_prod__needs_wakeup(&s->sh->fill)) {
		recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		s->stats.rx_kicks++;
	}
}

/* A free send frame reserved on the TX ring with |len| bytes from |addr|:
 * false when either is exhausted. */
static bool tx_put(struct xsk_sock *s, uint64_t addr, uint32_t len)
{
	struct xdp_desc *d;
	uint32_t idx;

	if (xsk_ring_prod__reserve(&s->tx, 1, &idx) != 1)
		return false;
	d = xsk_ring_prod__tx_desc(&s->tx, idx);
	d->addr = addr;
	d->len = len;
	d->options = 0;
	return true;
}

/* ---- neighbours on behalf of the kernel --------------------------------- */

/* Sends one frame built by the caller into the frame at |addr| (taken from
 * the free stack), right away. */
static void send_now(struct xsk_sock *s, uint64_t addr, int len)
{
	if (len <= 0 || !tx_put(s, addr, (uint32_t)len)) {
		tx_frame_put(s, addr);
		return;
	}
	xsk_ring_prod__submit(&s->tx, 1);
	kick_tx(s);
}

static bool take_tx_frame(struct xsk_sock *s, uint64_t *addr)
{
	complete_tx(s);
	return tx_frame_get(s, addr);
}

static void on_arp(struct xsk_sock *s, const uint8_t *f, uint32_t len)
{
	mpq_frame_arp a, r;
	mpq_addr ip;
	uint64_t addr;

	if (mpq_frame_hdr_parse_arp(f, len, &a) < 0)
		return;
	if (a.op == MPQ_ARP_REQUEST && owns(s, AF_INET, a.tpa) && memcmp(a.spa, a.tpa, 4) != 0 &&
	    take_tx_frame(s, &addr)) {
		r.op = MPQ_ARP_REPLY;
		memcpy(r.sha, s->info.mac, MPQ_ETH_ALEN);
		memcpy(r.spa, a.tpa, 4);
		memcpy(r.tha, a.sha, MPQ_ETH_ALEN);
		memcpy(r.tpa, a.spa, 4);
		send_now(s, addr,
			 mpq_frame_hdr_build_arp(frame_at(s, addr), s->info.frame_size, a.sha,
						 s->info.mac, &r));
		s->stats.arp_replies++;
	} else if (a.op == MPQ_ARP_REPLY && awaited(s, AF_INET, a.spa)) {
		set_ip(&ip, AF_INET, a.spa, s->base.ifindex);
		if (mpq_netif_neigh_set(&s->nl, s->base.ifindex, &ip, a.sha) == 0)
			s->stats.neigh_learned++;
	}
}

static const uint8_t all_nodes_mac[MPQ_ETH_ALEN] = {0x33, 0x33, 0, 0, 0, 1};
static const uint8_t all_nodes_ip[16] = {0xff, 0x02, [15] = 1};

static void on_nd(struct xsk_sock *s, const uint8_t *f, uint32_t len)
{
	static const uint8_t unspecified[16];
	mpq_frame_nd nd, na;
	mpq_addr ip;
	uint64_t addr;

	if (mpq_frame_hdr_parse_nd(f, len, &nd) < 0)
		return;
	if (nd.type == MPQ_ND_NS && owns(s, AF_INET6, nd.target) && take_tx_frame(s, &addr)) {
		/* RFC 4861 §7.2.4: to the soliciting node, or to all nodes
		 * when it has no address yet (DAD). */
		bool dad = memcmp(nd.src, unspecified, 16) == 0;
		const uint8_t *eth_dst = nd.has_lladdr ? nd.lladdr : nd.eth_src;

		memset(&na, 0, sizeof(na));
		na.type = MPQ_ND_NA;
		na.flags = MPQ_ND_NA_OVERRIDE | (dad ? 0 : MPQ_ND_NA_SOLICITED);
		memcpy(na.src, nd.target, 16);
		memcpy(na.dst, dad ? all_nodes_ip : nd.src, 16);
		memcpy(na.target, nd.target, 16);
		na.has_lladdr = true;
		memcpy(na.lladdr, s->info.mac, MPQ_ETH_ALEN);
		send_now(s, addr,
			 mpq_frame_hdr_build_nd(frame_at(s, addr), s->info.frame_size,
						dad ? all_nodes_mac : eth_dst, s->info.mac, &na));
		s->stats.nd_adverts++;
	} else if (nd.type == MPQ_ND_NA && awaited(s, AF_INET6, nd.target)) {
		set_ip(&ip, AF_INET6, nd.target, s->base.ifindex);
		if (mpq_netif_neigh_set(&s->nl, s->base.ifindex, &ip,
					nd.has_lladdr ? nd.lladdr : nd.eth_src) == 0)
			s->stats.neigh_learned++;
	}
}

/* ---- receive ------------------------------------------------------------ */

enum { NOT_OURS, OURS, DROPPED };

/* Whether the frame |f| holds a datagram for us (our MAC, address
 * and port, untagged); when |d| is given, fills it and checks what a
 * receive checks (size, checksum): DROPPED if one fails. */
static int ours(struct xsk_sock *s, const uint8_t *f, uint32_t len, mpq_dgram *d)
{
	mpq_frame_udp h;

	if (mpq_frame_hdr_parse_udp(f, len, &h) < 0 || h.vlan_tagged ||
	    !serves(s, h.dst.ss.ss_family) ||
	    mpq_addr_port(&h.dst) != mpq_addr_port(&s->base.local) ||
	    memcmp(h.dst_mac, s->info.mac, MPQ_ETH_ALEN) != 0)
		return NOT_OURS;
	if (s->wildcard ? !owns(s, h.dst.ss.ss_family, ip_of(&h.dst))
			: memcmp(ip_of(&h.dst), ip_of(&s->base.local), ip_len(s->family)) != 0)
		return NOT_OURS;
	if (!d)
		return OURS;
	if (h.payload_len > s->max_dgram) {
		s->stats.rx_dropped++;
		return DROPPED;
	}
	if (s->verify_csum && !mpq_frame_hdr_udp_csum_ok(f, &h)) {
		s->stats.rx_bad_csum++;
		return DROPPED;
	}
	d->data = (uint8_t *)f + h.payload_off;
	d->len = h.payload_len;
	d->local = h.dst;
	d->remote = h.src;
	scope_received(&d->local, s->base.ifindex);
	scope_received(&d->remote, s->base.ifindex);
	d->ifindex = s->base.ifindex;
	d->ecn = h.ecn;
	d->gso_size = 0;
	return OURS;
}

/* A frame that is not a datagram of ours: ARP and ND are looked at, then
 * everything goes back to the FILL ring. */
static void not_ours(struct xsk_sock *s, uint64_t addr, uint32_t len)
{
	const uint8_t *f = frame_at(s, addr);
	uint16_t type = mpq_frame_hdr_ethertype(f, len);

	if (type == MPQ_ETH_P_ARP)
		on_arp(s, f, len);
	else if (type == MPQ_ETH_P_IPV6)
		on_nd(s, f, len);
	s->stats.rx_not_ours++;
	fill_return_one(s, addr);
}

/* While a resolution waits: answer and learn neighbours, keep our
 * datagrams for the next recv_batch, let queued sends go. */
static void pump(void *ctx)
{
	struct xsk_sock *s = ctx;
	uint32_t idx, n = xsk_ring_cons__peek(&s->rx, PUMP_BATCH, &idx), used, nd;

	for (used = 0; used < n; used += nd) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->rx, idx + used);

		nd = mpq_xsk_sg_chain(&s->rx, idx + used, n - used);
		if (nd == 0)
			break; /* the rest of a multi-buffer frame: next time */
		if (nd == 1 && ours(s, frame_at(s, d->addr), d->len, NULL) == NOT_OURS) {
			not_ours(s, d->addr, d->len);
		} else if (s->bl_len + nd <= s->bl_cap) {
			/* Kept whole, chains too: recv_batch looks at them. */
			for (uint32_t i = 0; i < nd; i++)
				s->backlog[(s->bl_head + s->bl_len++) & (s->bl_cap - 1)] =
					*xsk_ring_cons__rx_desc(&s->rx, idx + used + i);
		} else {
			s->stats.rx_dropped++;
			fill_return_chain(s, &s->rx, idx + used, nd);
		}
	}
	xsk_ring_cons__cancel(&s->rx, n - used);
	xsk_ring_cons__release(&s->rx, used);
	if (n == 0)
		kick_rx(s);
	complete_tx(s);
	kick_tx(s);
}

/* A frame as sent or received, for the capture hook. */
static void capture_frame(struct xsk_sock *s, bool sent, const mpq_addr *src, const mpq_addr *dst,
			  const uint8_t *frame, uint32_t len, const uint8_t *data, size_t dlen)
{
	mpq_capture_dgram r = {
		.ts_ns = mpq_capture_now(),
		.ifindex = s->base.ifindex,
		.sent = sent,
		.src = src,
		.dst = dst,
		.data = data,
		.len = dlen,
		.frame = frame,
		.frame_len = len,
	};

	s->base.capture->dgram(s->base.capture->user_data, &r);
}

/* Hands out |addr| as d[*out] if it is ours; else it goes back. */
static void deliver(struct xsk_sock *s, uint64_t addr, uint32_t len, mpq_dgram *d, size_t *out)
{
	switch (ours(s, frame_at(s, addr), len, &d[*out])) {
	case OURS:
		if (s->base.capture)
			capture_frame(s, false, &d[*out].remote, &d[*out].local, frame_at(s, addr),
				      len, d[*out].data, d[*out].len);
		s->held[s->n_held++] = addr;
		(*out)++;
		break;
	case DROPPED:
		fill_return_one(s, addr);
		break;
	default:
		not_ours(s, addr, len);
		break;
	}
}

/* The frame of the |nd| descriptors from |idx| of |r| handed out as d[*out]
 * if it is ours: one UMEM frame as it is, several gathered into the
 * datagram's slot of rxbuf (their UMEM frames go back at once). */
static void deliver_chain(struct xsk_sock *s, const struct xsk_ring_cons *r, uint32_t idx,
			  uint32_t nd, mpq_dgram *d, size_t *out)
{
	const struct xdp_desc *x = xsk_ring_cons__rx_desc(r, idx);
	uint8_t *buf;
	long len;

	if (nd == 1) {
		deliver(s, x->addr, x->len, d, out);
		return;
	}
	buf = s->rxbuf ? s->rxbuf + *out * s->rx_slot : NULL;
	len = buf ? mpq_xsk_sg_gather(r, idx, nd, s->area, buf, s->rx_slot) : -1;
	fill_return_chain(s, r, idx, nd);
	if (len < 0) {
		s->stats.rx_dropped++;
		return;
	}
	switch (ours(s, buf, (uint32_t)len, &d[*out])) {
	case OURS:
		if (s->base.capture)
			capture_frame(s, false, &d[*out].remote, &d[*out].local, buf,
				      (uint32_t)len, d[*out].data, d[*out].len);
		(*out)++;
		s->stats.rx_multi_buffer++;
		break;
	case DROPPED:
		break;
	default:
		s->stats.rx_not_ours++; /* no ARP or ND is that long */
		break;
	}
}

/* The descriptors to peek for |n| more datagrams. */
static uint32_t rx_want(const struct xsk_sock *s, size_t n)
{
	size_t want = n * s->max_chain;

	return want < s->rx.size ? (uint32_t)want : s->rx.size;
}

static int xsk_recv_batch(mpq_pathio *io, mpq_dgram *d, size_t n)
{
	struct xsk_sock *s = xsk_of(io);
	struct xsk_ring_cons bl = {.ring = s->backlog, .mask = s->bl_cap - 1};
	size_t out = 0;
	uint32_t idx, m, used, nd;

	if (!d && n)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (n > s->batch)
		n = s->batch;
	/* The frames of the last batch are the caller's no more. */
	fill_return(s, s->held, s->n_held);
	s->n_held = 0;
	while (out < n && s->bl_len > 0) {
		/* pump keeps whole chains */
		nd = mpq_xsk_sg_chain(&bl, s->bl_head, s->bl_len);
		if (nd == 0)
			nd = s->bl_len;
		deliver_chain(s, &bl, s->bl_head, nd, d, &out);
		s->bl_head = (s->bl_head + nd) & (s->bl_cap - 1);
		s->bl_len -= nd;
	}
	m = out < n ? xsk_ring_cons__peek(&s->rx, rx_want(s, n - out), &idx) : 0;
	for (used = 0; used < m && out < n; used += nd) {
		nd = mpq_xsk_sg_chain(&s->rx, idx + used, m - used);
		if (nd == 0)
			break; /* the rest of a multi-buffer frame: next time */
		deliver_chain(s, &s->rx, idx + used, nd, d, &out);
	}
	xsk_ring_cons__cancel(&s->rx, m - used);
	xsk_ring_cons__release(&s->rx, used);
	if (m == 0)
		kick_rx(s);
	/* Sends left on the TX ring in copy mode go when someone kicks. */
	complete_tx(s);
	kick_tx(s);
	s->stats.rx_dgrams += out;
	return (int)out;
}

/* ---- send --------------------------------------------------------------- */

static struct next_hop *find_hop(struct xsk_sock *s, const mpq_addr *ip)
{
	for (size_t i = 0; i < NH_SLOTS; i++)
		if (s->hops[i].state != NH_FREE && mpq_addr_equal_ip(&s->hops[i].dst, ip))
			return &s->hops[i];
	return NULL;
}

static int hop_error(struct xsk_sock *s, const struct next_hop *h)
{
	mpq_oserr_set(&s->base.err, h->call, h->errnum);
	return MPQ_ERR_NOT_FOUND;
}

/* Looks |remote|'s next hop up in the kernel's tables (waiting for its
 * resolution if need be) into a cache slot. */
static int resolve_hop(struct xsk_sock *s, const mpq_addr *remote, struct next_hop **out)
{
	struct next_hop *h = find_hop(s, remote);
	uint64_t now;
	mpq_route r;
	int rv;

	if (!h) {
		h = &s->hops[s->hop_next];
		s->hop_next = (s->hop_next + 1) % NH_SLOTS;
	}
	memset(h, 0, sizeof(*h));
	h->dst = *remote;
	mpq_addr_set_port(&h->dst, 0);
	rv = mpq_netif_route(&s->nl, &h->dst, s->base.ifindex, &r);
	if (rv == 0) {
		s->resolving = &r.nexthop;
		rv = mpq_netif_resolve(&s->nl, s->base.ifindex, &r.nexthop, s->resolve_ms, pump, s,
				       h->mac);
		s->resolving = NULL;
	}
	now = now_ns();
	if (rv < 0) {
		s->stats.neigh_failed++;
		h->state = NH_FAILED;
		h->expires = now + NH_FAILED_NS;
		h->errnum = s->nl.err.errnum ? s->nl.err.errnum : EHOSTUNREACH;
		h->call = s->nl.err.call ? s->nl.err.call : "neighbour resolution";
		return hop_error(s, h);
	}
	s->stats.neigh_resolved++;
	h->state = NH_VALID;
	h->src = r.prefsrc;
	h->expires = now + s->neigh_ttl_ns;
	*out = h;
	return 0;
}

/* |remote|'s next hop: remembered, or looked up when unknown or old.
 * |queued| descriptors reserved on the TX ring are submitted first, as a
 * resolution may send (ARP, ND) through the same ring. */
static int next_hop(struct xsk_sock *s, const mpq_addr *remote, uint32_t *queued,
		    struct next_hop **out)
{
	struct next_hop *h = find_hop(s, remote);

	if (h && now_ns() < h->expires) {
		if (h->state == NH_FAILED)
			return hop_error(s, h);
		*out = h;
		return 0;
	}
	if (*queued) {
		xsk_ring_prod__submit(&s->tx, *queued);
		*queued = 0;
	}
	return resolve_hop(s, remote, out);
}

static int check_dgram(const struct xsk_sock *s, const mpq_dgram *d)
{
	int fam = d->remote.ss.ss_family;
	socklen_t want = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

	if ((!d->data && d->len) || d->ecn > 3)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (!serves(s, fam) || d->remote.len < want || mpq_addr_port(&d->remote) == 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (d->local.ss.ss_family) {
		if (d->local.ss.ss_family != fam)
			return MPQ_ERR_INVALID_ARGUMENT;
		if (s->wildcard ? !owns(s, fam, ip_of(&d->local))
				: !mpq_addr_equal_ip(&d->local, &s->base.local))
			return MPQ_ERR_INVALID_ARGUMENT;
	}
	if (d->ifindex && d->ifindex != s->base.ifindex)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (d->gso_size && d->len > d->gso_size &&
	    (d->len > MPQ_PATHIO_MAX_GSO_BYTES ||
	     (d->len + d->gso_size - 1) / d->gso_size > MPQ_PATHIO_MAX_SEGMENTS))
		return MPQ_ERR_INVALID_ARGUMENT;
	return 0;
}

/* UMEM frames a frame of |len| bytes takes on the TX ring. */
static uint32_t tx_frames_for(const struct xsk_sock *s, size_t len)
{
	return s->info.multi_buffer ? mpq_xsk_sg_frames(len, s->info.frame_size) : 1;
}

/* Writes one frame longer than a UMEM frame, its headers |hdr| (|hl| bytes)
 * then |len| bytes from |data|, over free frames and their TX descriptors
 * (the caller checked there are enough of both). */
static uint32_t put_frame_sg(struct xsk_sock *s, const uint8_t *hdr, size_t hl,
			     const uint8_t *data, size_t len)
{
	uint64_t addrs[SG_MAX_FRAMES];
	uint32_t k = tx_frames_for(s, hl + len), idx, got = 0;

	while (got < k && tx_frame_get(s, &addrs[got]))
		got++;
	if (got < k || xsk_ring_prod__reserve(&s->tx, k, &idx) != k) {
		while (got > 0)
			tx_frame_put(s, addrs[--got]);
		return 0;
	}
	s->stats.tx_multi_buffer++;
	return mpq_xsk_sg_scatter(&s->tx, idx, s->area, addrs, s->info.frame_size, hdr, hl, data,
				  len);
}

/* Writes one datagram of |len| bytes from |data| into a free frame (or
 * several) and reserves its TX descriptors (the caller checked both are
 * there): how many. */
static uint32_t put_dgram(struct xsk_sock *s, const mpq_frame_udp *h, const uint8_t *data,
			  size_t len)
{
	size_t hl = mpq_frame_hdr_udp_len(h->dst.ss.ss_family);
	uint8_t *f;
	uint64_t addr;
	int flen;

	if (hl + len > s->info.frame_size) {
		uint8_t hdr[MPQ_FRAME_HDR_UDP6];
		uint32_t k;

		flen = mpq_frame_hdr_build_udp_hdr(hdr, h, data, len);
		k = flen < 0 ? 0 : put_frame_sg(s, hdr, hl, data, len);
		if (k == 0)
			return 0;
		if (s->base.capture && s->txcap) {
			memcpy(s->txcap, hdr, hl);
			memcpy(s->txcap + hl, data, len);
			capture_frame(s, true, &h->src, &h->dst, s->txcap, (uint32_t)flen,
				      s->txcap + hl, len);
		}
		s->stats.tx_dgrams++;
		return k;
	}
	if (!tx_frame_get(s, &addr))
		return 0; /* the caller checked: only we take from our stack */
	f = frame_at(s, addr);
	memcpy(f + hl, data, len);
	flen = mpq_frame_hdr_build_udp(f, s->info.frame_size, h, len);
	if (flen < 0 || !tx_put(s, addr, (uint32_t)flen)) {
		tx_frame_put(s, addr);
		return 0;
	}
	if (s->base.capture)
		capture_frame(s, true, &h->src, &h->dst, f, (uint32_t)flen, f + hl, len);
	s->stats.tx_dgrams++;
	return 1;
}

/* Sends descriptor |d|, split into |segs| segments of |seg| bytes, through
 * next hop |nh|: the TX descriptors reserved. */
static uint32_t put_desc(struct xsk_sock *s, const mpq_dgram *d, const struct next_hop *nh,
			 size_t seg, size_t segs)
{
	mpq_frame_udp h;
	uint32_t k = 0;

	memset(&h, 0, sizeof(h));
	memcpy(h.dst_mac, nh->mac, MPQ_ETH_ALEN);
	memcpy(h.src_mac, s->info.mac, MPQ_ETH_ALEN);
	if (d->local.ss.ss_family)
		h.src = d->local;
	else if (s->wildcard)
		h.src = nh->src;
	else
		h.src = s->base.local;
	mpq_addr_set_port(&h.src, mpq_addr_port(&s->base.local));
	h.dst = d->remote;
	h.ecn = d->ecn;
	for (size_t i = 0, off = 0; i < segs; i++, off += seg)
		k += put_dgram(s, &h, d->data + off, d->len - off < seg ? d->len - off : seg);
	if (segs > 1)
		s->stats.tx_split++;
	return k;
}

static int xsk_send_batch(mpq_pathio *io, const mpq_dgram *d, size_t n)
{
	struct xsk_sock *s = xsk_of(io);
	uint32_t queued = 0;
	int rv = 0;
	size_t i;

	if ((!d && n) || n > INT32_MAX)
		return MPQ_ERR_INVALID_ARGUMENT;
	for (i = 0; i < n; i++)
		if (check_dgram(s, &d[i]) < 0)
			return MPQ_ERR_INVALID_ARGUMENT;
	complete_tx(s);
	for (i = 0; i < n; i++) {
		const mpq_dgram *g = &d[i];
		size_t seg = g->gso_size && g->len > g->gso_size ? g->gso_size : g->len;
		size_t segs = seg ? (g->len + seg - 1) / seg : 1, frames;
		struct next_hop *nh;

		if (seg >
		    (g->remote.ss.ss_family == AF_INET ? s->max_payload4 : s->info.max_payload)) {
			rv = mpq_oserr_set(&io->err, "send (larger than the MTU allows)",
					   EMSGSIZE);
			break;
		}
		rv = next_hop(s, &g->remote, &queued, &nh);
		if (rv < 0)
			break;
		if (!g->local.ss.ss_family && s->wildcard && !nh->src.ss.ss_family) {
			rv = mpq_oserr_set(&io->err, "source address", EADDRNOTAVAIL);
			break;
		}
		frames = segs *
			 tx_frames_for(s, mpq_frame_hdr_udp_len(g->remote.ss.ss_family) + seg);
		if (tx_frames_free(s) < frames ||
		    xsk_prod_nb_free(&s->tx, (uint32_t)frames) < frames)
			break; /* full: the caller waits for writability */
		queued += put_desc(s, g, nh, seg ? seg : 1, segs);
	}
	if (queued)
		xsk_ring_prod__submit(&s->tx, queued);
	kick_tx(s);
	if (i == 0 && rv < 0)
		return rv;
	return (int)i;
}

/* ---- open and close ----------------------------------------------------- */

static void shared_free(struct xsk_shared *sh)
{
	if (sh->umem)
		xsk_umem__delete(sh->umem);
	if (sh->area)
		munmap(sh->area, sh->area_len);
	if (sh->port_fd >= 0)
		close(sh->port_fd);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

/* The socket out of the shared UMEM; the last member to go takes the UMEM,
 * the memory and the port along. */
static void leave_shared(void *arg)
{
	struct xsk_sock *s = arg;
	struct xsk_shared *sh = s->sh;
	bool last;

	shared_lock(sh);
	if (s->xsk)
		xsk_socket__delete(s->xsk);
	sh->member[s->index] = NULL;
	last = --sh->live == 0;
	shared_unlock(sh);
	if (last)
		shared_free(sh);
}

static void xsk_close(mpq_pathio *io)
{
	struct xsk_sock *s = xsk_of(io);

	/* Without the object's namespace (no thread, setns refused), here:
	 * the socket and the memory go all the same. */
	if (in_netns(s, leave_shared, s) != 0)
		leave_shared(s);
	if (s->netns_fd >= 0)
		close(s->netns_fd);
	mpq_netif_close(&s->nl);
	free(s->tx_free);
	free(s->held);
	free(s->backlog);
	free(s->rxbuf);
	free(s->txcap);
	free(s);
}

static int xsk_fd(const mpq_pathio *io)
{
	return ((const struct xsk_sock *)io)->fd;
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

struct attempt {
	uint32_t xdp_flags;
	uint16_t bind_flags;
};

/* Native zero-copy, native copy, generic copy. */
static const struct attempt attempts[] = {
	{XDP_FLAGS_DRV_MODE, XDP_ZEROCOPY},
	{XDP_FLAGS_DRV_MODE, XDP_COPY},
	{XDP_FLAGS_SKB_MODE, XDP_COPY},
};

static bool attempt_allowed(const struct attempt *a, const mpq_xsk_config *x)
{
	if (x->bind == MPQ_XSK_BIND_ZEROCOPY && a->bind_flags != XDP_ZEROCOPY)
		return false;
	if (x->bind == MPQ_XSK_BIND_COPY && a->bind_flags != XDP_COPY)
		return false;
	/* Without a program of ours the attach mode is someone else's. */
	if (x->inhibit_prog)
		return a->xdp_flags == XDP_FLAGS_DRV_MODE;
	if (x->attach == MPQ_XSK_ATTACH_NATIVE && a->xdp_flags != XDP_FLAGS_DRV_MODE)
		return false;
	if (x->attach == MPQ_XSK_ATTACH_GENERIC && a->xdp_flags != XDP_FLAGS_SKB_MODE)
		return false;
	return true;
}

/* One try: a fresh UMEM on the same memory, then the socket (the first
 * member); or another socket on the UMEM, the queue's FILL and COMPLETION
 * rings shared (the others). */
static int try_socket(struct xsk_sock *s, const char *ifname, const mpq_xsk_config *x,
		      const struct attempt *a, bool sg)
{
	struct xsk_shared *sh = s->sh;
	struct xsk_umem_config ucfg = {
		.fill_size = pow2_at_least(x->frames / 2),
		.comp_size = pow2_at_least(x->frames / 2),
		.frame_size = x->frame_size,
	};
	struct xsk_socket_config scfg = {
		.rx_size = ucfg.fill_size,
		.tx_size = ucfg.comp_size,
		.libxdp_flags = x->inhibit_prog ? XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD : 0,
		.xdp_flags = a->xdp_flags,
		.bind_flags =
			(uint16_t)(a->bind_flags | (x->no_need_wakeup ? 0 : XDP_USE_NEED_WAKEUP) |
				   (sg ? XDP_USE_SG : 0)),
	};
	int rv;

	if (s->index > 0) {
		rv = xsk_socket__create_shared(&s->xsk, ifname, x->queue, sh->umem, &s->rx, &s->tx,
					       &sh->fill, &sh->comp, &scfg);
		if (rv)
			s->xsk = NULL;
		return rv;
	}
	rv = xsk_umem__create(&sh->umem, sh->area, sh->area_len, &sh->fill, &sh->comp, &ucfg);
	if (rv) {
		sh->umem = NULL;
		return rv;
	}
	rv = xsk_socket__create(&s->xsk, ifname, x->queue, sh->umem, &s->rx, &s->tx, &scfg);
	if (rv) {
		s->xsk = NULL;
		xsk_umem__delete(sh->umem);
		sh->umem = NULL;
	}
	return rv;
}

struct xdp_query {
	int ifindex;
	int rv;
	uint8_t attach_mode;
};

static void xdp_query(void *arg)
{
	struct xdp_query *q = arg;
	LIBBPF_OPTS(bpf_xdp_query_opts, opts);

	q->rv = bpf_xdp_query(q->ifindex, 0, &opts);
	q->attach_mode = opts.attach_mode;
}

/* The attach mode and binding the socket ended up with, as text. */
static void describe_mode(struct xsk_sock *s)
{
	struct xdp_query q = {.ifindex = (int)s->base.ifindex, .rv = -1};
	struct xdp_options opts;
	socklen_t len = sizeof(opts);
	const char *attach = "unknown";
	int rv;

	if (getsockopt(s->fd, SOL_XDP, XDP_OPTIONS, &opts, &len) == 0)
		s->info.zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	rv = in_netns(s, xdp_query, &q);
	if (rv != 0)
		mpq_oserr_set(&s->base.err, "setns (the socket's network namespace)", rv);
	if (q.rv == 0) {
		switch (q.attach_mode) {
		case XDP_ATTACHED_DRV:
			attach = "native";
			break;
		case XDP_ATTACHED_SKB:
			attach = "generic";
			break;
		case XDP_ATTACHED_HW:
			attach = "offloaded";
			break;
		case XDP_ATTACHED_MULTI:
			attach = "multi";
			break;
		default:
			attach = "no program";
			break;
		}
	}
	strcpy(s->info.mode, attach);
	strcat(s->info.mode, s->info.zerocopy ? " zero-copy" : " copy");
	if (s->info.busy_poll)
		strcat(s->info.mode, ", busy poll");
}

/* Busy polling as x->busy_poll_us asks, all three options or none. */
static void set_busy_poll(struct xsk_sock *s, const mpq_xsk_config *x)
{
	int on = 1, off = 0, us = (int)x->busy_poll_us;
	int budget = (int)(x->busy_poll_budget ? x->busy_poll_budget : s->batch);

	if (!x->busy_poll_us)
		return;
	if (setsockopt(s->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &on, sizeof(on)) == 0 &&
	    setsockopt(s->fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) == 0 &&
	    setsockopt(s->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)) == 0) {
		s->info.busy_poll = true;
		return;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &off, sizeof(off));
	setsockopt(s->fd, SOL_SOCKET, SO_BUSY_POLL, &off, sizeof(off));
}

/* One attempt, with multi-buffer if it is wanted, else (or when the kernel
 * refuses it: before 6.6, or a zero-copy driver without it) without:
 * s->info says which and why. */
static int try_socket_sg(struct xsk_sock *s, const char *ifname, const mpq_xsk_config *x,
			 const struct attempt *a)
{
	int rv, refused;

	s->info.multi_buffer = false;
	if (s->index > 0 ? !s->sh->member[0]->info.multi_buffer : !s->want_sg)
		return try_socket(s, ifname, x, a, false);
	refused = try_socket(s, ifname, x, a, true);
	if (refused == 0)
		s->info.multi_buffer = true;
	if (refused != -EINVAL && refused != -EOPNOTSUPP)
		return refused;
	rv = try_socket(s, ifname, x, a, false);
	s->info.sg_errnum = rv == 0 ? -refused : 0;
	return rv;
}

/* In copy mode each sendto sends at most 32 descriptors unless the kernel
 * lets us say more (6.17): the whole TX ring, so that one kick sends what a
 * batch queued (a 9000-byte datagram is 3 descriptors with multi-buffer).
 * Older kernels keep 32 (ENOPROTOOPT): kick_tx goes on while they progress. */
static void set_tx_budget(struct xsk_sock *s)
{
	unsigned int budget = s->tx.size;

	if (setsockopt(s->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(budget)) == 0)
		s->info.tx_budget = budget;
}

static int create_socket(struct xsk_sock *s, const char *ifname, const mpq_xsk_config *x,
			 mpq_oserr *err)
{
	int rv = -EOPNOTSUPP, first = 0;

	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		/* The other members bind as the first did. */
		if (s->index > 0 ? (int)i != s->sh->how : !attempt_allowed(&attempts[i], x))
			continue;
		s->sh->how = (int)i;
		rv = try_socket_sg(s, ifname, x, &attempts[i]);
		/* A socket just closed on the queue lets go of it a little
		 * later (the kernel releases its pool from a work queue). */
		for (int k = 0; rv == -EBUSY && k < BUSY_TRIES; k++) {
			nanosleep(&(struct timespec){.tv_nsec = BUSY_WAIT_NS}, NULL);
			rv = try_socket_sg(s, ifname, x, &attempts[i]);
		}
		if (rv == 0 || rv == -EBUSY)
			break;
		/* The first refusal says most (EPERM, ENOMEM, EBUSY) unless it is
		 * only the mode that is unsupported. */
		if (!first || first == -EOPNOTSUPP || first == -EINVAL)
			first = rv;
	}
	if (rv == -EBUSY)
		first = rv; /* the queue is someone else's */
	if (rv)
		return mpq_oserr_set(err, "xsk_socket__create", -(first ? first : rv));
	s->fd = xsk_socket__fd(s->xsk);
	set_tx_budget(s);
	s->info.need_wakeup = !x->no_need_wakeup;
	s->info.own_prog = !x->inhibit_prog;
	set_busy_poll(s, x);
	describe_mode(s);
	return 0;
}

/* The receive frames into the FILL ring (the first member), our share of
 * the send frames onto our stack. */
static void stock_frames(struct xsk_sock *s)
{
	struct xsk_shared *sh = s->sh;
	uint32_t half = sh->half, first = half + s->index * sh->per, idx;

	if (s->index == 0 && xsk_ring_prod__reserve(&sh->fill, half, &idx) == half) {
		for (uint32_t i = 0; i < half; i++)
			*xsk_ring_prod__fill_addr(&sh->fill, idx + i) =
				(uint64_t)i * s->info.frame_size;
		xsk_ring_prod__submit(&sh->fill, half);
	}
	for (uint32_t i = 0; i < sh->per; i++)
		s->tx_free[s->n_tx_free++] = (uint64_t)(first + i) * s->info.frame_size;
}

/* Binds a kernel UDP socket to the local address: the port is ours (in
 * both families for a dual-stack object). */
static int hold_port(struct xsk_sock *s, const mpq_addr *local, const mpq_xsk_config *x,
		     mpq_oserr *err)
{
	struct xsk_shared *sh = s->sh;
	int size = 1024, fd;
	socklen_t len = sizeof(s->base.local.ss);

	if (s->index > 0 || x->raw) {
		/* The port the first one holds; raw mode holds none. */
		s->base.local = s->index > 0 ? sh->member[0]->base.local : *local;
		return 0;
	}
	if (x->port_held) {
		if (mpq_addr_port(local) == 0)
			return MPQ_ERR_INVALID_ARGUMENT;
		s->base.local = *local;
		return 0;
	}
	fd = sh->port_fd = socket(s->family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return mpq_oserr_set(err, "socket", errno);
	if (s->family == AF_INET6) {
		int v6only = !s->dual;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (const struct sockaddr *)&local->ss, local->len) < 0)
		return mpq_oserr_set(err, "bind", errno);
	if (getsockname(fd, (struct sockaddr *)&s->base.local.ss, &len) < 0)
		return mpq_oserr_set(err, "getsockname", errno);
	s->base.local.len = len;
	return 0;
}

static int check_config(const mpq_pathio_config *cfg, const mpq_xsk_config *x)
{
	int fam = cfg->local.ss.ss_family;
	socklen_t want = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

	if ((fam != AF_INET && fam != AF_INET6) || cfg->local.len < want || !cfg->ifname)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (cfg->batch == 0 || cfg->batch > MAX_BATCH || cfg->max_dgram == 0 ||
	    cfg->max_dgram > UINT16_MAX)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (x->frames < 256 || x->frames > 65536 || (x->frames & (x->frames - 1)) ||
	    (x->frame_size != 2048 && x->frame_size != 4096))
		return MPQ_ERR_INVALID_ARGUMENT;
	if (x->attach < MPQ_XSK_ATTACH_AUTO || x->attach > MPQ_XSK_ATTACH_GENERIC ||
	    x->bind < MPQ_XSK_BIND_AUTO || x->bind > MPQ_XSK_BIND_COPY)
		return MPQ_ERR_INVALID_ARGUMENT;
	return 0;
}

/* The interface: an Ethernet one; its MTU, MAC and addresses. */
static int setup_link(struct xsk_sock *s, const mpq_pathio_config *cfg, const mpq_xsk_config *x,
		      mpq_oserr *err)
{
	mpq_link l;
	int rv;

	rv = mpq_netif_open(&s->nl, err);
	if (rv < 0)
		return rv;
	rv = mpq_netif_link(&s->nl, 0, cfg->ifname, &l);
	if (rv == MPQ_ERR_NOT_FOUND)
		mpq_oserr_set(err, "if_nametoindex", ENODEV);
	if (rv < 0)
		return rv;
	if (!l.ether)
		return MPQ_ERR_INVALID_ARGUMENT;
	s->base.ifindex = l.ifindex;
	s->info.mtu = l.mtu;
	memcpy(s->info.mac, l.mac, MPQ_ETH_ALEN);
	/* A frame of the MTU (tagged) longer than a UMEM frame holds after
	 * the kernel's headroom: multi-buffer. */
	s->want_sg = l.mtu + MPQ_ETH_HLEN + VLAN_HLEN > s->info.frame_size - RX_HEADROOM;

	rv = mpq_if_addrs(cfg->ifname, s->own, MAX_OWN);
	if (rv < 0)
		return rv;
	s->n_own = (size_t)rv < MAX_OWN ? (size_t)rv : MAX_OWN;
	s->wildcard = mpq_addr_is_any(&cfg->local);
	s->dual = s->wildcard && s->family == AF_INET6 && !x->v6only;
	if (!s->wildcard && !owns(s, s->family, ip_of(&cfg->local)))
		return mpq_oserr_set(err, "local address", EADDRNOTAVAIL);
	return 0;
}

/* The largest datagrams, and with multi-buffer the buffers a frame over
 * several UMEM frames is gathered into, once the binding is known. */
static int setup_payload(struct xsk_sock *s)
{
	size_t hl = mpq_frame_hdr_udp_len(s->family) - MPQ_ETH_HLEN;
	size_t l3 = s->info.frame_size - RX_HEADROOM - MPQ_ETH_HLEN;

	s->max_chain = 1;
	if (s->info.multi_buffer) {
		/* An IP packet fits the MTU, its frame SG_MAX_FRAMES frames. */
		l3 = (size_t)SG_MAX_FRAMES * s->info.frame_size - MPQ_ETH_HLEN;
		s->rx_slot = MPQ_ETH_HLEN + VLAN_HLEN + s->info.mtu;
		s->max_chain = mpq_xsk_sg_frames(s->rx_slot, s->info.frame_size - RX_HEADROOM);
		s->rxbuf = malloc(s->batch * s->rx_slot);
		s->txcap = malloc(s->rx_slot);
		if (!s->rxbuf || !s->txcap)
			return MPQ_ERR_NOMEM;
	}
	/* An IP packet fits the MTU and, after the kernel's headroom, a frame
	 * (or, with multi-buffer, SG_MAX_FRAMES frames). */
	if (s->info.mtu < l3)
		l3 = s->info.mtu;
	s->info.max_payload = l3 > hl ? (uint32_t)(l3 - hl) : 0;
	hl = mpq_frame_hdr_udp_len(AF_INET) - MPQ_ETH_HLEN;
	s->max_payload4 = l3 > hl ? (uint32_t)(l3 - hl) : 0;
	/* The socket's family's (a dual socket's IPv6 one, the smaller). */
	s->base.max_udp_payload = s->info.max_payload;
	return 0;
}

static int setup(struct xsk_sock *s, const mpq_pathio_config *cfg, const mpq_xsk_config *x,
		 mpq_oserr *err)
{
	uint32_t half = x->frames / 2;
	int rv;

	rv = setup_link(s, cfg, x, err);
	if (rv < 0)
		return rv;
	rv = hold_port(s, &cfg->local, x, err);
	if (rv < 0)
		return rv;
	s->tx_free = calloc(s->sh->per, sizeof(*s->tx_free));
	s->held = calloc(s->batch, sizeof(*s->held));
	s->backlog = calloc(half, sizeof(*s->backlog));
	if (!s->tx_free || !s->held || !s->backlog)
		return MPQ_ERR_NOMEM;
	s->bl_cap = half;
	rv = create_socket(s, cfg->ifname, x, err);
	if (rv < 0)
		return rv;
	return setup_payload(s);
}

/* Member |index| of |sh| (the caller closes every member on failure). */
static int open_member(struct xsk_shared *sh, uint32_t index, const mpq_pathio_config *cfg,
		       const mpq_xsk_config *x, mpq_oserr *err)
{
	struct xsk_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return MPQ_ERR_NOMEM;
	s->base.ops = &mpq_pathio_xdp;
	s->sh = sh;
	s->index = index;
	s->area = sh->area;
	s->fd = -1;
	s->nl.fd = -1;
	s->netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	s->family = cfg->local.ss.ss_family;
	s->batch = cfg->batch;
	s->max_dgram = cfg->max_dgram;
	s->verify_csum = x->verify_csum;
	s->raw = x->raw;
	s->resolve_ms = x->resolve_ms;
	s->neigh_ttl_ns = (uint64_t)x->neigh_ttl_ms * 1000000ull;
	s->frame_mask = ~(uint64_t)(x->frame_size - 1);
	s->info.queue = x->queue;
	s->info.frames = x->frames;
	s->info.frame_size = x->frame_size;
	sh->member[index] = s;
	sh->live++;
	return setup(s, cfg, x, err);
}

int mpq_xsk_open_shared(mpq_pathio **out, uint32_t n, const mpq_pathio_config *cfg,
			const mpq_xsk_config *xcfg, mpq_oserr *err)
{
	struct xsk_shared *sh;
	mpq_xsk_config x;
	int rv = 0;

	mpq_bpf_quiet(); /* libxdp's xsk calls print through its hook otherwise */

	if (err)
		mpq_oserr_clear(err);
	if (!out || !cfg || cfg->struct_version != MPQ_PATHIO_CONFIG_V1 || n == 0 ||
	    n > MPQ_XSK_MAX_SHARED || (xcfg && xcfg->struct_version != MPQ_XSK_CONFIG_V1))
		return MPQ_ERR_INVALID_ARGUMENT;
	for (uint32_t k = 0; k < n; k++)
		out[k] = NULL;
	if (xcfg)
		x = *xcfg;
	else
		mpq_xsk_config_default(&x);
	rv = check_config(cfg, &x);
	if (rv < 0)
		return rv;
	if (n > 1 && (!x.inhibit_prog || x.frames / 2 / n < MIN_SEND_FRAMES))
		return MPQ_ERR_INVALID_ARGUMENT;
	sh = calloc(1, sizeof(*sh));
	if (!sh)
		return MPQ_ERR_NOMEM;
	pthread_mutex_init(&sh->lock, NULL);
	sh->port_fd = -1;
	sh->frame_size = x.frame_size;
	sh->half = x.frames / 2;
	sh->per = sh->half / n;
	sh->n = n;
	sh->area_len = (size_t)x.frames * x.frame_size;
	sh->area = mmap(NULL, sh->area_len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (sh->area == MAP_FAILED) {
		sh->area = NULL;
		rv = mpq_oserr_set(err, "mmap (UMEM)", errno);
	}
	for (uint32_t k = 0; k < n && rv == 0; k++) {
		rv = open_member(sh, k, cfg, &x, err);
		if (rv == 0)
			stock_frames(sh->member[k]);
	}
	if (rv == 0) {
		for (uint32_t k = 0; k < n; k++)
			out[k] = &sh->member[k]->base;
		return 0;
	}
	if (sh->live == 0) {
		shared_free(sh);
		return rv;
	}
	for (uint32_t k = n; k-- > 0;) {
		struct xsk_sock *m = sh->member[k];

		if (m)
			xsk_close(&m->base); /* the last one frees |sh| */
	}
	return rv;
}

int mpq_xsk_open(mpq_pathio **out, const mpq_pathio_config *cfg, const mpq_xsk_config *xcfg,
		 mpq_oserr *err)
{
	return mpq_xsk_open_shared(out, 1, cfg, xcfg, err);
}

static int xsk_open_default(mpq_pathio **out, const mpq_pathio_config *cfg, mpq_oserr *err)
{
	return mpq_xsk_open(out, cfg, NULL, err);
}

/* ---- raw mode: whole frames -------------------------------------------- */

#define RAW_BATCH 64

int mpq_xsk_raw_open(mpq_pathio **out, const char *ifname, uint32_t queue,
		     const mpq_xsk_config *xcfg, mpq_oserr *err)
{
	mpq_pathio_config cfg = {.struct_version = MPQ_PATHIO_CONFIG_VERSION,
				 .ifname = ifname,
				 .batch = RAW_BATCH,
				 .max_dgram = UINT16_MAX};
	struct sockaddr_in6 any = {.sin6_family = AF_INET6};
	mpq_xsk_config x;

	if (xcfg && xcfg->struct_version != MPQ_XSK_CONFIG_V1)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (xcfg)
		x = *xcfg;
	else
		mpq_xsk_config_default(&x);
	x.queue = queue;
	x.inhibit_prog = true;
	x.raw = true;
	memcpy(&cfg.local.ss, &any, sizeof(any));
	cfg.local.len = sizeof(any);
	return mpq_xsk_open(out, &cfg, &x, err);
}

int mpq_xsk_raw_recv(mpq_pathio *io, mpq_xsk_frame *f, size_t n)
{
	struct xsk_sock *s = xsk_of(io);
	uint32_t idx, m, used, nd;
	size_t out = 0;

	if (!s || io->ops != &mpq_pathio_xdp || !s->raw || (!f && n))
		return MPQ_ERR_INVALID_ARGUMENT;
	/* The frames of the last call are the caller's no more. */
	fill_return(s, s->held, s->n_held);
	s->n_held = 0;
	if (n > s->batch)
		n = s->batch;
	m = xsk_ring_cons__peek(&s->rx, rx_want(s, n), &idx);
	for (used = 0; used < m && out < n; used += nd) {
		const struct xdp_desc *x = xsk_ring_cons__rx_desc(&s->rx, idx + used);
		uint8_t *buf = s->rxbuf ? s->rxbuf + out * s->rx_slot : NULL;
		long len;

		nd = mpq_xsk_sg_chain(&s->rx, idx + used, m - used);
		if (nd == 0)
			break; /* the rest of a multi-buffer frame: next time */
		if (nd == 1) {
			f[out++] = (mpq_xsk_frame){frame_at(s, x->addr), x->len};
			s->held[s->n_held++] = x->addr;
			continue;
		}
		/* Over several UMEM frames: gathered into its slot. */
		len = buf ? mpq_xsk_sg_gather(&s->rx, idx + used, nd, s->area, buf, s->rx_slot)
			  : -1;
		fill_return_chain(s, &s->rx, idx + used, nd);
		if (len < 0) {
			s->stats.rx_dropped++;
			continue;
		}
		f[out++] = (mpq_xsk_frame){buf, (uint32_t)len};
		s->stats.rx_multi_buffer++;
	}
	xsk_ring_cons__cancel(&s->rx, m - used);
	xsk_ring_cons__release(&s->rx, used);
	if (m == 0)
		kick_rx(s);
	complete_tx(s);
	kick_tx(s);
	s->stats.rx_dgrams += out;
	return (int)out;
}

int mpq_xsk_raw_send(mpq_pathio *io, const mpq_xsk_frame *f, size_t n)
{
	struct xsk_sock *s = xsk_of(io);
	uint64_t addr;
	size_t sent = 0;
	uint32_t queued = 0; /* TX descriptors */

	if (!s || io->ops != &mpq_pathio_xdp || !s->raw || (!f && n))
		return MPQ_ERR_INVALID_ARGUMENT;
	complete_tx(s);
	for (; sent < n; sent++) {
		uint32_t k = tx_frames_for(s, f[sent].len);

		if (f[sent].len > s->info.frame_size &&
		    (!s->info.multi_buffer || k > SG_MAX_FRAMES)) {
			mpq_oserr_set(&s->base.err, "raw send", EMSGSIZE);
			break;
		}
		if (k > 1) {
			/* Over several UMEM frames, as it is. */
			if (tx_frames_free(s) < k || xsk_prod_nb_free(&s->tx, k) < k ||
			    put_frame_sg(s, NULL, 0, f[sent].data, f[sent].len) != k)
				break;
			queued += k;
			continue;
		}
		if (!tx_frame_get(s, &addr))
			break;
		if (!tx_put(s, addr, f[sent].len)) {
			tx_frame_put(s, addr);
			break;
		}
		memcpy(frame_at(s, addr), f[sent].data, f[sent].len);
		queued++;
	}
	if (queued)
		xsk_ring_prod__submit(&s->tx, queued);
	s->stats.tx_dgrams += sent;
	kick_tx(s);
	return (int)sent;
}

const struct mpq_pathio_ops mpq_pathio_xdp = {
	.name = "xdp",
	.open = xsk_open_default,
	.recv_batch = xsk_recv_batch,
	.send_batch = xsk_send_batch,
	.fd = xsk_fd,
	.close = xsk_close,
};

const mpq_xsk_info *mpq_xsk_get_info(mpq_pathio *io)
{
	if (!io || io->ops != &mpq_pathio_xdp)
		return NULL;
	describe_mode(xsk_of(io));
	return &xsk_of(io)->info;
}

int mpq_xsk_get_stats(mpq_pathio *io, mpq_xsk_stats *out)
{
	struct xdp_statistics k;
	socklen_t len = sizeof(k);
	struct xsk_sock *s;

	if (!io || io->ops != &mpq_pathio_xdp || !out)
		return MPQ_ERR_INVALID_ARGUMENT;
	s = xsk_of(io);
	memset(&k, 0, sizeof(k));
	if (getsockopt(s->fd, SOL_XDP, XDP_STATISTICS, &k, &len) < 0)
		return mpq_oserr_set(&io->err, "XDP_STATISTICS", errno);
	s->stats.k_rx_dropped = k.rx_dropped;
	s->stats.k_rx_invalid = k.rx_invalid_descs;
	s->stats.k_tx_invalid = k.tx_invalid_descs;
	s->stats.k_rx_ring_full = k.rx_ring_full;
	s->stats.k_fill_empty = k.rx_fill_ring_empty_descs;
	s->stats.k_tx_ring_empty = k.tx_ring_empty_descs;
	s->stats.tx_frames_free = tx_frames_free(s);
	*out = s->stats;
	return 0;
}

int mpq_xsk_xskmap_update(mpq_pathio *io, int map_fd, uint32_t key)
{
	int fd;

	if (!io || io->ops != &mpq_pathio_xdp || map_fd < 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	fd = xsk_of(io)->fd;
	if (bpf_map_update_elem(map_fd, &key, &fd, 0) < 0)
		return mpq_oserr_set(&io->err, "bpf_map_update_elem (XSKMAP)", errno);
	return 0;
}
