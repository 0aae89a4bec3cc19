/* Kernel UDP sockets behind the path I/O ops table: see udp.h. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpq/io/netaddr.h"
#include "mpq/io/udp.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define MAX_BATCH 1024
#define GRO_SLOT 65536 /* a coalesced receive is up to 64 KiB */
#define RX_CMSG_SPACE (CMSG_SPACE(sizeof(struct in6_pktinfo)) + 2 * CMSG_SPACE(sizeof(int)) + 64)
#define TX_CMSG_SPACE \
	(CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) + \
	 CMSG_SPACE(sizeof(uint16_t)))

/* Where one message of a sendmmsg comes from. */
struct udp_tx {
	size_t desc; /* descriptor index */
	size_t end;  /* offset in it just past this message */
	bool last;   /* the descriptor's last message */
	bool gso;    /* carries UDP_SEGMENT */
	bool split;  /* first message of a descriptor split here */
};

struct udp_sock {
	mpq_pathio base;
	int fd;
	bool wildcard; /* bound to 0.0.0.0 or :: */
	size_t batch;
	size_t max_dgram;
	size_t slot; /* receive buffer per message */
	mpq_udp_stats stats;

	uint8_t *rx_buf;  /* batch × slot */
	uint8_t *rx_cmsg; /* batch × RX_CMSG_SPACE */
	struct mmsghdr *rx_msgs;
	struct iovec *rx_iov;
	struct sockaddr_storage *rx_names;
	size_t rx_count;   /* messages from the last recvmmsg */
	size_t rx_next;	   /* the next of them to hand out */
	size_t rx_off;	   /* bytes of it handed out already (coalesced receive) */
	size_t rx_seg;	   /* its segment size, 0 if not coalesced */
	mpq_dgram rx_meta; /* its addresses, interface and ECN */

	size_t tx_cap;	  /* max(batch, MPQ_PATHIO_MAX_SEGMENTS) */
	uint8_t *tx_cmsg; /* tx_cap × TX_CMSG_SPACE */
	struct mmsghdr *tx_msgs;
	struct iovec *tx_iov;
	struct udp_tx *tx_map;
};

static struct udp_sock *udp_of(mpq_pathio *io)
{
	return (struct udp_sock *)io;
}

static int set_int(struct udp_sock *s, int level, int name, int val, const char *call,
		   mpq_oserr *err)
{
	if (setsockopt(s->fd, level, name, &val, sizeof(val)) < 0)
		return mpq_oserr_set(err, call, errno);
	return 0;
}

struct sockopt {
	int level;
	int name;
	int val;
	const char *call;
};

/* Where each datagram arrived and its ECN bits; DF set and the PMTU cache
 * ignored (QUIC does its own PMTU discovery, RFC 9000 §14). IPv6 sockets take
 * IPv6 only. */
static const struct sockopt ip4_options[] = {
	{IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO"},
	{IPPROTO_IP, IP_RECVTOS, 1, "IP_RECVTOS"},
	{IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE, "IP_MTU_DISCOVER"},
	{0, 0, 0, NULL},
};

static const struct sockopt ip6_options[] = {
	{IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY"},
	{IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"},
	{IPPROTO_IPV6, IPV6_RECVTCLASS, 1, "IPV6_RECVTCLASS"},
	{IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE, "IPV6_MTU_DISCOVER"},
	{IPPROTO_IPV6, IPV6_DONTFRAG, 1, "IPV6_DONTFRAG"},
	{0, 0, 0, NULL},
};

static int set_options(struct udp_sock *s, const struct sockopt *o, mpq_oserr *err)
{
	for (; o->call; o++) {
		int rv = set_int(s, o->level, o->name, o->val, o->call, err);

		if (rv < 0)
			return rv;
	}
	return 0;
}

/* As root the FORCE variant passes net.core.[rw]mem_max; otherwise the
 * kernel caps the size at that limit. Neither failure is fatal. */
static void set_bufsize(int fd, int force, int plain, int size)
{
	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
}

static void udp_close(mpq_pathio *io)
{
	struct udp_sock *s = udp_of(io);

	if (s->fd >= 0)
		close(s->fd);
	free(s->rx_buf);
	free(s->rx_cmsg);
	free(s->rx_msgs);
	free(s->rx_iov);
	free(s->rx_names);
	free(s->tx_cmsg);
	free(s->tx_msgs);
	free(s->tx_iov);
	free(s->tx_map);
	free(s);
}

static int alloc_buffers(struct udp_sock *s)
{
	s->rx_buf = malloc(s->batch * s->slot);
	s->rx_cmsg = calloc(s->batch, RX_CMSG_SPACE);
	s->rx_msgs = calloc(s->batch, sizeof(*s->rx_msgs));
	s->rx_iov = calloc(s->batch, sizeof(*s->rx_iov));
	s->rx_names = calloc(s->batch, sizeof(*s->rx_names));
	s->tx_cap = s->batch > MPQ_PATHIO_MAX_SEGMENTS ? s->batch : MPQ_PATHIO_MAX_SEGMENTS;
	s->tx_cmsg = calloc(s->tx_cap, TX_CMSG_SPACE);
	s->tx_msgs = calloc(s->tx_cap, sizeof(*s->tx_msgs));
	s->tx_iov = calloc(s->tx_cap, sizeof(*s->tx_iov));
	s->tx_map = calloc(s->tx_cap, sizeof(*s->tx_map));
	if (!s->rx_buf || !s->rx_cmsg || !s->rx_msgs || !s->rx_iov || !s->rx_names ||
	    !s->tx_cmsg || !s->tx_msgs || !s->tx_iov || !s->tx_map)
		return MPQ_ERR_NOMEM;
	for (size_t i = 0; i < s->batch; i++) {
		struct msghdr *h = &s->rx_msgs[i].msg_hdr;

		s->rx_iov[i].iov_base = s->rx_buf + i * s->slot;
		s->rx_iov[i].iov_len = s->slot;
		h->msg_name = &s->rx_names[i];
		h->msg_iov = &s->rx_iov[i];
		h->msg_iovlen = 1;
		h->msg_control = s->rx_cmsg + i * RX_CMSG_SPACE;
	}
	return 0;
}

/* Socket options, bind, probes. */
static int setup(struct udp_sock *s, const mpq_pathio_config *cfg, mpq_oserr *err)
{
	int fam = cfg->local.ss.ss_family;
	socklen_t len = sizeof(s->base.local.ss);
	int v, rv;

	s->fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (s->fd < 0)
		return mpq_oserr_set(err, "socket", errno);
	if (cfg->reuseaddr) {
		rv = set_int(s, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR", err);
		if (rv < 0)
			return rv;
	}
	if (cfg->reuseport) {
		rv = set_int(s, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT", err);
		if (rv < 0)
			return rv;
	}
	if (cfg->ifname && setsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, cfg->ifname,
				      (socklen_t)strlen(cfg->ifname) + 1) < 0)
		return mpq_oserr_set(err, "SO_BINDTODEVICE", errno);
	rv = set_options(s, fam == AF_INET ? ip4_options : ip6_options, err);
	if (rv < 0)
		return rv;
	if (cfg->sockbuf > 0) {
		set_bufsize(s->fd, SO_RCVBUFFORCE, SO_RCVBUF, cfg->sockbuf);
		set_bufsize(s->fd, SO_SNDBUFFORCE, SO_SNDBUF, cfg->sockbuf);
	}
	/* Kernels without UDP_GRO (< 5.0) or UDP_SEGMENT (< 4.18) refuse these:
	 * then receives come one by one and sends are split here. */
	v = 1;
	if (cfg->gro && setsockopt(s->fd, SOL_UDP, UDP_GRO, &v, sizeof(v)) == 0)
		s->base.caps |= MPQ_PATHIO_GRO;
	len = sizeof(v);
	if (!cfg->no_gso && getsockopt(s->fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0)
		s->base.caps |= MPQ_PATHIO_GSO;

	if (bind(s->fd, (const struct sockaddr *)&cfg->local.ss, cfg->local.len) < 0)
		return mpq_oserr_set(err, "bind", errno);
	len = sizeof(s->base.local.ss);
	if (getsockname(s->fd, (struct sockaddr *)&s->base.local.ss, &len) < 0)
		return mpq_oserr_set(err, "getsockname", errno);
	s->base.local.len = len;
	s->wildcard = mpq_addr_is_any(&s->base.local);
	s->base.max_udp_payload = mpq_if_max_udp_payload(&s->base.local, s->base.ifindex);

	s->slot = (s->base.caps & MPQ_PATHIO_GRO) ? GRO_SLOT : s->max_dgram;
	return alloc_buffers(s);
}

static int udp_open(mpq_pathio **out, const mpq_pathio_config *cfg, mpq_oserr *err)
{
	struct udp_sock *s;
	uint32_t ifindex = 0;
	socklen_t want;
	int rv;

	if (err)
		mpq_oserr_clear(err);
	if (!out || !cfg || cfg->struct_version != MPQ_PATHIO_CONFIG_V1)
		return MPQ_ERR_INVALID_ARGUMENT;
	*out = NULL;
	if (cfg->local.ss.ss_family == AF_INET)
		want = sizeof(struct sockaddr_in);
	else if (cfg->local.ss.ss_family == AF_INET6)
		want = sizeof(struct sockaddr_in6);
	else
		return MPQ_ERR_INVALID_ARGUMENT;
	if (cfg->local.len < want || cfg->batch == 0 || cfg->batch > MAX_BATCH ||
	    cfg->max_dgram == 0 || cfg->max_dgram > UINT16_MAX)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (cfg->ifname) {
		rv = mpq_if_index(cfg->ifname, &ifindex);
		if (rv == MPQ_ERR_NOT_FOUND)
			mpq_oserr_set(err, "if_nametoindex", ENODEV);
		if (rv < 0)
			return rv;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return MPQ_ERR_NOMEM;
	s->base.ops = &mpq_pathio_udp;
	s->base.ifindex = ifindex;
	s->batch = cfg->batch;
	s->max_dgram = cfg->max_dgram;
	rv = setup(s, cfg, err);
	if (rv < 0) {
		udp_close(&s->base);
		return rv;
	}
	*out = &s->base;
	return 0;
}

static int udp_fd(const mpq_pathio *io)
{
	return ((const struct udp_sock *)io)->fd;
}

/* Addresses, interface, ECN and GRO segment size of received message |h|. */
static void parse_meta(struct udp_sock *s, const struct msghdr *h)
{
	mpq_dgram *m = &s->rx_meta;
	struct cmsghdr *c;

	memset(m, 0, sizeof(*m));
	mpq_addr_set(&m->remote, h->msg_name, h->msg_namelen);
	m->local = s->base.local; /* the address itself comes from the pktinfo */
	s->rx_seg = 0;
	for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)&m->local.ss)->sin_addr = pi.ipi_addr;
			m->ifindex = (uint32_t)pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			m->ecn = *CMSG_DATA(c) & 3;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&m->local.ss;
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			sin6->sin6_addr = pi.ipi6_addr;
			sin6->sin6_scope_id =
				IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) ? pi.ipi6_ifindex : 0;
			m->ifindex = pi.ipi6_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
			int tc;

			memcpy(&tc, CMSG_DATA(c), sizeof(tc));
			m->ecn = (uint8_t)(tc & 3);
		} else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int seg;

			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			s->rx_seg = seg > 0 ? (size_t)seg : 0;
		}
	}
}

/* Reads up to |n| messages (at most one batch) into the buffers. Returns
 * how many, 0 when none is waiting, or an error. */
static int read_messages(struct udp_sock *s, size_t n)
{
	size_t want = n < s->batch ? n : s->batch;
	int m;

	for (size_t i = 0; i < want; i++) {
		s->rx_msgs[i].msg_hdr.msg_namelen = sizeof(s->rx_names[i]);
		s->rx_msgs[i].msg_hdr.msg_controllen = RX_CMSG_SPACE;
		s->rx_msgs[i].msg_hdr.msg_flags = 0;
	}
	do
		m = recvmmsg(s->fd, s->rx_msgs, (unsigned int)want, MSG_DONTWAIT, NULL);
	while (m < 0 && errno == EINTR);
	if (m < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return mpq_oserr_set(&s->base.err, "recvmmsg", errno);
	}
	s->rx_count = (size_t)m;
	s->rx_next = 0;
	s->rx_off = 0;
	return m;
}

/* Starts on message rx_next: false when it is to be dropped. */
static bool take_message(struct udp_sock *s)
{
	const struct mmsghdr *mh = &s->rx_msgs[s->rx_next];

	parse_meta(s, &mh->msg_hdr);
	if ((mh->msg_hdr.msg_flags & MSG_TRUNC) ||
	    (s->rx_seg ? s->rx_seg : mh->msg_len) > s->max_dgram) {
		s->stats.rx_dropped++;
		s->rx_next++;
		return false;
	}
	if (s->rx_seg && mh->msg_len > s->rx_seg)
		s->stats.rx_coalesced++;
	return true;
}

/* Leftover segments of a coalesced receive are handed out before the next
 * recvmmsg, which reuses every buffer. */
static int recv_batch(mpq_pathio *io, mpq_dgram *d, size_t n)
{
	struct udp_sock *s = udp_of(io);
	size_t out = 0;

	if (!d && n)
		return MPQ_ERR_INVALID_ARGUMENT;
	while (out == 0 && n > 0) {
		if (s->rx_next >= s->rx_count) {
			int m = read_messages(s, n);

			if (m <= 0)
				return m;
		}
		while (out < n && s->rx_next < s->rx_count) {
			const struct mmsghdr *mh = &s->rx_msgs[s->rx_next];
			size_t total = mh->msg_len;
			size_t len;

			if (s->rx_off == 0 && !take_message(s))
				continue;
			len = total - s->rx_off;
			if (s->rx_seg && len > s->rx_seg)
				len = s->rx_seg;
			d[out] = s->rx_meta;
			d[out].data = s->rx_buf + s->rx_next * s->slot + s->rx_off;
			d[out].len = len;
			out++;
			s->rx_off += len;
			if (s->rx_off >= total) {
				s->rx_next++;
				s->rx_off = 0;
			}
		}
	}
	s->stats.rx_dgrams += out;
	return (int)out;
}

static size_t put_cmsg(uint8_t *buf, size_t at, int level, int type, const void *data, size_t len)
{
	struct cmsghdr *c = (struct cmsghdr *)(buf + at);

	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	return at + CMSG_SPACE(len);
}

/* Message |m|: bytes [off, off + len) of |d|, with |seg| for UDP_SEGMENT. */
static void put_message(struct udp_sock *s, size_t m, const mpq_dgram *d, size_t off, size_t len,
			uint16_t seg)
{
	struct msghdr *h = &s->tx_msgs[m].msg_hdr;
	uint8_t *cbuf = s->tx_cmsg + m * TX_CMSG_SPACE;
	bool v4 = s->base.local.ss.ss_family == AF_INET;
	size_t clen = 0;

	s->tx_iov[m].iov_base = d->data + off;
	s->tx_iov[m].iov_len = len;
	memset(h, 0, sizeof(*h));
	h->msg_name = (void *)&d->remote.ss;
	h->msg_namelen = d->remote.len;
	h->msg_iov = &s->tx_iov[m];
	h->msg_iovlen = 1;

	/* The source address, for sockets bound to the wildcard. */
	if (s->wildcard && (d->local.ss.ss_family || d->ifindex)) {
		if (v4) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)&d->local.ss;
			struct in_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi_ifindex = (int)d->ifindex;
			if (d->local.ss.ss_family)
				pi.ipi_spec_dst = sin->sin_addr;
			clen = put_cmsg(cbuf, clen, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		} else {
			const struct sockaddr_in6 *sin6 =
				(const struct sockaddr_in6 *)&d->local.ss;
			struct in6_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi6_ifindex = d->ifindex;
			if (d->local.ss.ss_family) {
				pi.ipi6_addr = sin6->sin6_addr;
				if (!pi.ipi6_ifindex)
					pi.ipi6_ifindex = sin6->sin6_scope_id;
			}
			clen = put_cmsg(cbuf, clen, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
		}
	}
	if (d->ecn) {
		int tos = d->ecn;

		if (v4)
			clen = put_cmsg(cbuf, clen, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
		else
			clen = put_cmsg(cbuf, clen, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	}
	if (seg)
		clen = put_cmsg(cbuf, clen, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg));
	h->msg_control = clen ? cbuf : NULL;
	h->msg_controllen = clen;
}

static void map_message(struct udp_sock *s, size_t m, size_t desc, size_t end, bool last, bool gso,
			bool split)
{
	s->tx_map[m] = (struct udp_tx){.desc = desc,
				       .end = end,
				       .last = last,
				       .gso = gso,
				       .split = split};
}

/* Builds messages from byte |off| of descriptor |i| on, whole descriptors
 * while they fit (a split one starts a round of its own when it does not:
 * tx_cap holds MPQ_PATHIO_MAX_SEGMENTS). Returns how many. */
static size_t build_messages(struct udp_sock *s, const mpq_dgram *d, size_t n, size_t i,
			     size_t off)
{
	bool gso = s->base.caps & MPQ_PATHIO_GSO;
	size_t m = 0;

	for (; i < n && m < s->tx_cap; i++, off = 0) {
		const mpq_dgram *g = &d[i];
		size_t seg = g->gso_size && g->len > g->gso_size ? g->gso_size : 0;

		if (!seg || gso) {
			put_message(s, m, g, 0, g->len, (uint16_t)seg);
			map_message(s, m++, i, g->len, true, seg != 0, false);
			continue;
		}
		if (off == 0 && m + (g->len + seg - 1) / seg > s->tx_cap && m > 0)
			break; /* whole in the next round */
		while (off < g->len && m < s->tx_cap) {
			size_t len = g->len - off < seg ? g->len - off : seg;
			bool first = off == 0;

			put_message(s, m, g, off, len, 0);
			off += len;
			map_message(s, m++, i, off, off >= g->len, false, first);
		}
	}
	return m;
}

static int check_dgram(const struct udp_sock *s, const mpq_dgram *d)
{
	int fam = s->base.local.ss.ss_family;
	socklen_t want = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

	if ((!d->data && d->len) || d->ecn > 3)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (d->remote.ss.ss_family != fam || d->remote.len < want)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (d->local.ss.ss_family) {
		if (d->local.ss.ss_family != fam)
			return MPQ_ERR_INVALID_ARGUMENT;
		if (!s->wildcard && !mpq_addr_equal_ip(&d->local, &s->base.local))
			return MPQ_ERR_INVALID_ARGUMENT;
	}
	if (d->gso_size && d->len > d->gso_size &&
	    (d->len > MPQ_PATHIO_MAX_GSO_BYTES ||
	     (d->len + d->gso_size - 1) / d->gso_size > MPQ_PATHIO_MAX_SEGMENTS))
		return MPQ_ERR_INVALID_ARGUMENT;
	return 0;
}

static size_t segments(const struct udp_tx *t, const mpq_dgram *d)
{
	if (!t->gso)
		return 1;
	return (d[t->desc].len + d[t->desc].gso_size - 1) / d[t->desc].gso_size;
}

static int send_batch(mpq_pathio *io, const mpq_dgram *d, size_t n)
{
	struct udp_sock *s = udp_of(io);
	size_t i = 0, off = 0;

	if ((!d && n) || n > INT32_MAX)
		return MPQ_ERR_INVALID_ARGUMENT;
	for (size_t j = 0; j < n; j++)
		if (check_dgram(s, &d[j]) < 0)
			return MPQ_ERR_INVALID_ARGUMENT;
	while (i < n) {
		size_t m = build_messages(s, d, n, i, off);
		const struct udp_tx *last;
		int k;

		do
			k = sendmmsg(s->fd, s->tx_msgs, (unsigned int)m, MSG_DONTWAIT);
		while (k < 0 && errno == EINTR);
		if (k < 0) {
			int e = errno;

			if (e == EIO && s->tx_map[0].gso) {
				/* The device cannot segment: from now on split here. */
				s->base.caps &= ~MPQ_PATHIO_GSO;
				mpq_oserr_set(&io->err, "sendmmsg UDP_SEGMENT", e);
				continue;
			}
			/* A descriptor already partly sent counts as sent. */
			if (off > 0)
				i++;
			if (i > 0 || e == EAGAIN || e == EWOULDBLOCK)
				return (int)i;
			return mpq_oserr_set(&io->err, "sendmmsg", e);
		}
		for (int j = 0; j < k; j++) {
			s->stats.tx_dgrams += segments(&s->tx_map[j], d);
			s->stats.tx_split += s->tx_map[j].split;
		}
		last = &s->tx_map[k - 1];
		i = last->last ? last->desc + 1 : last->desc;
		off = last->last ? 0 : last->end;
	}
	return (int)n;
}

static int udp_recv_batch(mpq_pathio *io, mpq_dgram *d, size_t n)
{
	int rv = recv_batch(io, d, n);

	if (io->capture && rv > 0)
		mpq_capture_descs(io, false, d, (size_t)rv);
	return rv;
}

/* Captured as the descriptors were given: before GSO joins them. */
static int udp_send_batch(mpq_pathio *io, const mpq_dgram *d, size_t n)
{
	int rv = send_batch(io, d, n);

	if (io->capture && rv > 0)
		mpq_capture_descs(io, true, d, (size_t)rv);
	return rv;
}

const struct mpq_pathio_ops mpq_pathio_udp = {
	.name = "udp",
	.open = udp_open,
	.recv_batch = udp_recv_batch,
	.send_batch = udp_send_batch,
	.fd = udp_fd,
	.close = udp_close,
};

const mpq_udp_stats *mpq_udp_get_stats(const mpq_pathio *io)
{
	if (!io || io->ops != &mpq_pathio_udp)
		return NULL;
	return &((const struct udp_sock *)io)->stats;
}
