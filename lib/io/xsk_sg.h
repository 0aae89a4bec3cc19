/*
 * AF_XDP multi-buffer (XDP_USE_SG, Linux 6.6): one Ethernet frame over
 * several UMEM frames. Every descriptor of a frame but the last carries
 * XDP_PKT_CONTD, on the RX ring as on the TX ring; the kernel puts a
 * received frame's descriptors on the RX ring all at once. Internal to the
 * xdp backend (xsk.c); the ring arguments are libxdp's rings or anything
 * laid out as one (a ring and a mask: xsk.c's backlog).
 */
#ifndef MPQ_IO_XSK_SG_H
#define MPQ_IO_XSK_SG_H
#include <stddef.h>
#include <stdint.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

/* Debian 12's linux-libc-dev (6.1) predates multi-buffer; the values are
 * the kernel's ABI (include/uapi/linux/if_xdp.h since 6.6). */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

/* How many descriptors from |idx| of |rx| make up the frame that starts
 * there: 1 or more when its last one is among the |avail| descriptors
 * there, 0 when it is not. */
uint32_t mpq_xsk_sg_chain(const struct xsk_ring_cons *rx, uint32_t idx, uint32_t avail);

/* Copies the |n| descriptors from |idx| of |rx| (UMEM |area|), in order,
 * into |buf|: the frame's length, or -1 when it is longer than |cap|. */
long mpq_xsk_sg_gather(const struct xsk_ring_cons *rx, uint32_t idx, uint32_t n,
		       const uint8_t *area, uint8_t *buf, size_t cap);

/* UMEM frames of |fsize| bytes a frame of |len| bytes is sent in. */
uint32_t mpq_xsk_sg_frames(size_t len, uint32_t fsize);

/* Writes the frame |hdr| (|hlen| bytes, at most |fsize|) then |payload|
 * (|plen|) into the UMEM frames at addrs[] of |area|, filled in order, and
 * their descriptors at |idx| of |tx| (reserved by the caller), XDP_PKT_CONTD
 * on all but the last. Returns how many frames it took
 * (mpq_xsk_sg_frames(hlen + plen, fsize)). */
uint32_t mpq_xsk_sg_scatter(struct xsk_ring_prod *tx, uint32_t idx, uint8_t *area,
			    const uint64_t *addrs, uint32_t fsize, const uint8_t *hdr, size_t hlen,
			    const uint8_t *payload, size_t plen);
#endif
