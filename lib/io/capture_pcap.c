/* --pcap: the capture hook writing pcapng; see capture_pcap.h. */
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/io/capture_pcap.h"
#include "mpq/io/frame_hdr.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/netif.h"
#include "mpq/io/pcapng.h"

#define MAX_IFACES 64
#define MAX_LEARNED 64
#define PENDING_MAX (1u << 20) /* received bytes held before they go out anyway */
#define SCRATCH (MPQ_FRAME_HDR_UDP6 + 65536)

struct iface {
	uint32_t ifindex;
	uint16_t linktype;
	uint32_t id; /* in the file */
};

/* A peer address, the local address that talks to it and the interface
 * between them: learned from receives, or asked of the kernel's routing
 * table, for sends that leave the source or the interface to the kernel. */
struct learned {
	mpq_addr remote;
	mpq_addr local; /* family 0: not known */
	uint32_t ifindex;
};

/* A received packet waiting in |pending|: this header, then |len| bytes. */
struct held {
	uint64_t ts_ns;
	uint32_t id;
	uint32_t len;
};

struct mpq_capture_pcap {
	mpq_capture hook;
	pthread_mutex_t lock;
	mpq_pcapng *w;
	struct iface ifaces[MAX_IFACES];
	size_t n_ifaces;
	struct learned learned[MAX_LEARNED];
	size_t n_learned;
	mpq_netif netif; /* for route lookups, opened at the first */
	bool netif_open;
	uint8_t *pending;
	size_t pending_len;
	uint8_t *scratch;
	uint64_t written, skipped;
};

static int iface_id(struct mpq_capture_pcap *c, uint32_t ifindex, uint16_t linktype)
{
	char name[IF_NAMESIZE + 8];
	struct iface *f;
	int id;

	for (size_t i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].ifindex == ifindex && c->ifaces[i].linktype == linktype)
			return (int)c->ifaces[i].id;
	if (c->n_ifaces == MAX_IFACES)
		return MPQ_ERR_NOBUF;
	if (!ifindex || !if_indextoname(ifindex, name))
		strcpy(name, ifindex ? "unknown" : "any");
	id = mpq_pcapng_add_interface(c->w, linktype, name, 0);
	if (id < 0)
		return id;
	f = &c->ifaces[c->n_ifaces++];
	*f = (struct iface){ifindex, linktype, (uint32_t)id};
	return id;
}

static struct learned *find_learned(struct mpq_capture_pcap *c, const mpq_addr *remote)
{
	for (size_t i = 0; i < c->n_learned; i++)
		if (mpq_addr_equal_ip(&c->learned[i].remote, remote))
			return &c->learned[i];
	return NULL;
}

static struct learned *add_learned(struct mpq_capture_pcap *c, const mpq_addr *remote)
{
	struct learned *l = &c->learned[c->n_learned < MAX_LEARNED ? c->n_learned++ : 0];

	memset(l, 0, sizeof(*l));
	l->remote = *remote;
	return l;
}

static void learn(struct mpq_capture_pcap *c, const mpq_capture_dgram *d)
{
	struct learned *l = find_learned(c, d->src);

	if (!l)
		l = add_learned(c, d->src);
	if (!l->local.ss.ss_family || mpq_addr_is_any(&l->local))
		l->local = *d->dst;
	if (!l->ifindex)
		l->ifindex = d->ifindex;
}

/* What a send to |remote| goes out of: learned, else the kernel's route. */
static const struct learned *route_of(struct mpq_capture_pcap *c, const mpq_addr *remote)
{
	struct learned *l = find_learned(c, remote);
	mpq_route r;

	if (l)
		return l;
	if (!c->netif_open && mpq_netif_open(&c->netif, NULL) == 0)
		c->netif_open = true;
	l = add_learned(c, remote);
	if (c->netif_open && mpq_netif_route(&c->netif, remote, 0, &r) == 0) {
		l->local = r.prefsrc;
		l->ifindex = r.ifindex;
	} else {
		/* No route out of a device: a local destination (127.0.0.1, an
		 * address of ours), which the kernel reaches over lo from that
		 * address itself; were it unreachable, nothing went out to record.
		 * Left as 0.0.0.0, the client's first Initial came from another
		 * address than the rest, and tshark decrypted nothing after it. */
		l->local = *remote;
		mpq_addr_set_port(&l->local, 0);
		l->ifindex = if_nametoindex("lo");
	}
	return l;
}

/* The IP packet of |d| (headers built from its addresses) in c->scratch,
 * from c->scratch + MPQ_ETH_HLEN. Returns its length or a negative MPQ_ERR_*. */
static int build_ip(struct mpq_capture_pcap *c, const mpq_capture_dgram *d, const mpq_addr *src)
{
	int family = d->dst->ss.ss_family;
	mpq_frame_udp h;
	int flen;

	if (family != AF_INET && family != AF_INET6)
		return MPQ_ERR_INVALID_ARGUMENT;
	memset(&h, 0, sizeof(h));
	h.dst = *d->dst;
	if (src && src->ss.ss_family == family) {
		h.src = *src;
	} else {
		/* Not known: the unspecified address with no port. */
		h.src.ss.ss_family = (sa_family_t)family;
		h.src.len = family == AF_INET ? sizeof(struct sockaddr_in)
					      : sizeof(struct sockaddr_in6);
	}
	memcpy(c->scratch + mpq_frame_hdr_udp_len(family), d->data, d->len);
	flen = mpq_frame_hdr_build_udp(c->scratch, SCRATCH, &h, d->len);
	return flen < 0 ? flen : flen - MPQ_ETH_HLEN;
}

static void flush_pending(struct mpq_capture_pcap *c)
{
	for (size_t at = 0; at < c->pending_len;) {
		struct held h;

		memcpy(&h, c->pending + at, sizeof(h));
		at += sizeof(h);
		if (mpq_pcapng_packet(c->w, h.id, h.ts_ns, c->pending + at, h.len, h.len) < 0)
			c->skipped++;
		else
			c->written++;
		at += h.len;
	}
	c->pending_len = 0;
}

/* Holds a received packet; one that does not fit goes out now. */
static void hold(struct mpq_capture_pcap *c, uint32_t id, uint64_t ts, const uint8_t *p,
		 size_t len)
{
	struct held h = {ts, id, (uint32_t)len};

	if (c->pending_len + sizeof(h) + len > PENDING_MAX)
		flush_pending(c);
	if (sizeof(h) + len > PENDING_MAX) {
		if (mpq_pcapng_packet(c->w, id, ts, p, len, len) < 0)
			c->skipped++;
		else
			c->written++;
		return;
	}
	memcpy(c->pending + c->pending_len, &h, sizeof(h));
	memcpy(c->pending + c->pending_len + sizeof(h), p, len);
	c->pending_len += sizeof(h) + len;
}

static void on_dgram(void *user_data, const mpq_capture_dgram *d)
{
	struct mpq_capture_pcap *c = user_data;
	const uint8_t *p = d->frame;
	size_t len = d->frame_len;
	uint32_t ifindex = d->ifindex;
	const mpq_addr *src = d->src;
	mpq_addr routed;
	int id;

	pthread_mutex_lock(&c->lock);
	if (!d->sent) {
		learn(c, d);
	} else if (!ifindex || (!p && (!src->ss.ss_family || mpq_addr_is_any(src)))) {
		const struct learned *l = route_of(c, d->dst);

		if (!ifindex)
			ifindex = l->ifindex;
		if (l->local.ss.ss_family && (!src->ss.ss_family || mpq_addr_is_any(src))) {
			routed = l->local;
			mpq_addr_set_port(&routed, mpq_addr_port(src));
			src = &routed;
		}
	}
	if (!p) {
		int n = build_ip(c, d, src);

		p = c->scratch + MPQ_ETH_HLEN;
		len = n < 0 ? 0 : (size_t)n;
		id = n < 0 ? n : iface_id(c, ifindex, MPQ_LINKTYPE_RAW);
	} else {
		id = iface_id(c, ifindex, MPQ_LINKTYPE_ETHERNET);
	}
	if (id < 0) {
		c->skipped++;
	} else if (d->sent) {
		/* What was received before was processed by now. */
		flush_pending(c);
		if (mpq_pcapng_packet(c->w, (uint32_t)id, d->ts_ns, p, len, len) < 0)
			c->skipped++;
		else
			c->written++;
	} else {
		hold(c, (uint32_t)id, d->ts_ns, p, len);
	}
	pthread_mutex_unlock(&c->lock);
}

/* A capture writing to |w| (freed here on failure). */
static int capture_new(mpq_capture_pcap **out, mpq_pcapng *w)
{
	struct mpq_capture_pcap *c = calloc(1, sizeof(*c));

	if (c) {
		c->pending = malloc(PENDING_MAX);
		c->scratch = malloc(SCRATCH);
	}
	if (!c || !c->pending || !c->scratch) {
		if (c) {
			free(c->pending);
			free(c->scratch);
		}
		free(c);
		mpq_pcapng_close(w);
		return MPQ_ERR_NOMEM;
	}
	c->w = w;
	pthread_mutex_init(&c->lock, NULL);
	c->hook = (mpq_capture){on_dgram, c};
	*out = c;
	return 0;
}

int mpq_capture_pcap_open(mpq_capture_pcap **out, const char *path)
{
	mpq_pcapng *w;
	int rv;

	if (!out || !path)
		return MPQ_ERR_INVALID_ARGUMENT;
	rv = mpq_pcapng_open(&w, path);
	return rv < 0 ? rv : capture_new(out, w);
}

int mpq_capture_pcap_open_sink(mpq_capture_pcap **out, const mpq_qlog_sink *sink)
{
	mpq_pcapng *w;
	int rv;

	if (!out)
		return MPQ_ERR_INVALID_ARGUMENT;
	rv = mpq_pcapng_open_sink(&w, sink);
	return rv < 0 ? rv : capture_new(out, w);
}

int mpq_capture_pcap_flush(mpq_capture_pcap *c)
{
	int rv;

	pthread_mutex_lock(&c->lock);
	flush_pending(c);
	rv = mpq_pcapng_flush(c->w);
	pthread_mutex_unlock(&c->lock);
	return rv;
}

const mpq_capture *mpq_capture_pcap_hook(mpq_capture_pcap *c)
{
	return &c->hook;
}

void mpq_capture_pcap_keylog(mpq_capture_pcap *c, const char *line)
{
	size_t n = strlen(line);
	char *buf = malloc(n + 1);

	if (!buf)
		return;
	memcpy(buf, line, n);
	buf[n] = '\n';
	pthread_mutex_lock(&c->lock);
	mpq_pcapng_secrets(c->w, buf, n + 1);
	pthread_mutex_unlock(&c->lock);
	free(buf);
}

void mpq_capture_pcap_counts(mpq_capture_pcap *c, uint64_t *written, uint64_t *skipped)
{
	pthread_mutex_lock(&c->lock);
	*written = c->written;
	*skipped = c->skipped;
	pthread_mutex_unlock(&c->lock);
}

int mpq_capture_pcap_close(mpq_capture_pcap *c)
{
	int rv;

	if (!c)
		return 0;
	flush_pending(c);
	rv = mpq_pcapng_close(c->w);
	if (c->netif_open)
		mpq_netif_close(&c->netif);
	pthread_mutex_destroy(&c->lock);
	free(c->pending);
	free(c->scratch);
	free(c);
	return rv;
}
