/*
 * The AF_PACKET backend of a router leg: a raw socket bound to the
 * interface, every frame the interface receives (promiscuous, the ones it
 * sends itself ignored), with a virtio-net header so that a frame whose
 * checksum was left to offload by a sender in the same host (veth keeps it
 * partial) leaves with the same request and arrives with a valid checksum;
 * sends bypass the interface's qdisc (the emulator is the shaper). Each
 * frame comes with the kernel's time of arrival, so that a late read does
 * not add to its delay nor bunch frames up in the rate's queue.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "port.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static int setint(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

static int packet_open(emu_port *p, const char *ifname)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	struct packet_mreq mr = {.mr_type = PACKET_MR_PROMISC};
	int fd, e;

	p->ifindex = (int)if_nametoindex(ifname);
	if (!p->ifindex)
		return -1;
	p->bufs = malloc(EMU_BATCH * sizeof(*p->bufs));
	if (!p->bufs)
		return -1;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		goto fail;
	sll.sll_ifindex = mr.mr_ifindex = p->ifindex;
	if (setint(fd, SOL_PACKET, PACKET_VNET_HDR, 1) ||
	    setint(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1) ||
	    setint(fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1) ||
	    setint(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto fail;
	/* Room for a burst while the loop is busy with the other leg. */
	if (setint(fd, SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20))
		setint(fd, SOL_SOCKET, SO_RCVBUF, 8 << 20);
	if (setint(fd, SOL_SOCKET, SO_SNDBUFFORCE, 8 << 20))
		setint(fd, SOL_SOCKET, SO_SNDBUF, 8 << 20);
	p->fd = fd;
	p->hdr_len = sizeof(struct virtio_net_hdr);
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(p->bufs);
	p->bufs = NULL;
	errno = e;
	return -1;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* The kernel's receive time (CLOCK_REALTIME) on the monotonic clock. */
static uint64_t arrival_ns(struct msghdr *mh, int64_t mono_minus_real)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		struct timespec ts;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		return (uint64_t)(ts_ns(&ts) + mono_minus_real);
	}
	return 0;
}

static int packet_recv(emu_port *p, uint8_t **data, uint32_t *len, uint64_t *at_ns, int max)
{
	struct mmsghdr msgs[EMU_BATCH];
	struct iovec iov[EMU_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cmsg[EMU_BATCH];
	struct timespec real, mono;
	int n, out = 0;

	if (max > EMU_BATCH)
		max = EMU_BATCH;
	for (int i = 0; i < max; i++) {
		iov[i] = (struct iovec){p->bufs[i], EMU_FRAME_MAX};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i],
						       .msg_iovlen = 1,
						       .msg_control = cmsg[i].buf,
						       .msg_controllen = sizeof(cmsg[i].buf)}};
	}
	n = recvmmsg(p->fd, msgs, (unsigned int)max, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	for (int i = 0; i < n; i++) {
		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			p->rx_truncated++;
			continue;
		}
		if (out != i)
			memcpy(p->bufs[out], p->bufs[i], msgs[i].msg_len);
		data[out] = p->bufs[out];
		at_ns[out] = arrival_ns(&msgs[i].msg_hdr, ts_ns(&mono) - ts_ns(&real));
		len[out++] = msgs[i].msg_len;
	}
	return out;
}

static int packet_send(emu_port *p, const struct iovec *frames, int n)
{
	struct mmsghdr msgs[EMU_BATCH];
	int sent = 0;

	while (sent < n) {
		int k = n - sent > EMU_BATCH ? EMU_BATCH : n - sent, r;

		for (int i = 0; i < k; i++)
			msgs[i] = (struct mmsghdr){
				.msg_hdr = {.msg_iov = (struct iovec *)&frames[sent + i],
					    .msg_iovlen = 1}};
		r = sendmmsg(p->fd, msgs, (unsigned int)k, MSG_DONTWAIT);
		if (r <= 0)
			return sent ? sent : -1;
		sent += r;
	}
	return sent;
}

static void packet_update_stats(emu_port *p)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	/* The kernel's counters restart at each read. */
	if (!getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		p->rx_dropped += st.tp_drops;
}

static void packet_close(emu_port *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->bufs);
	p->bufs = NULL;
}

const emu_port_ops emu_port_packet = {
	.name = "packet",
	.open = packet_open,
	.recv = packet_recv,
	.send = packet_send,
	.update_stats = packet_update_stats,
	.close = packet_close,
};
