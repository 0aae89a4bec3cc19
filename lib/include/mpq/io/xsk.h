/*
 * The AF_XDP backend of path I/O, "xdp" (DESIGN.md "Path I/O"): one AF_XDP
 * socket and its UMEM per interface and queue, through libxdp's xsk API.
 *
 * - UMEM: cfg frames of cfg frame_size bytes, half stocked in the FILL ring
 *   for receiving, half kept here for sending; every ring is sized to hold
 *   all the frames of its half, so the FILL ring is never short of room and
 *   the COMPLETION ring never overflows. Nothing is allocated per datagram:
 *   received descriptors point into UMEM frames, which go back to the FILL
 *   ring at the next recv_batch; sent datagrams are copied into free frames,
 *   which come back through the COMPLETION ring (drained at every call).
 * - Mode: native (driver) XDP and zero-copy first, then native copy, then
 *   generic (skb) copy mode; on veth the result is native copy. What was
 *   obtained is in mpq_xsk_get_info()->mode, e.g. "native copy".
 * - Program: by default xsk_socket__create loads libxdp's own program,
 *   which redirects every frame of the queue to this socket. With
 *   inhibit_prog nothing is loaded: the caller attaches its own program
 *   (the steering program of xdp/) and puts the socket in its XSKMAP
 *   (mpq_xsk_xskmap_update).
 * - Receive: Ethernet/IPv4/IPv6/UDP parsed here; datagrams to our MAC, one
 *   of our addresses and our port are returned with local and remote address
 *   and interface; other frames go straight back to the FILL ring and are
 *   counted (rx_not_ours). While libxdp's program hands us every frame, ARP
 *   and neighbour discovery would never reach the kernel, so this backend
 *   stands in for it on its own interface: it answers ARP requests and
 *   neighbour solicitations for the interface's addresses (known at open),
 *   and hands the kernel's neighbour table the ARP reply or neighbour
 *   advertisement that answers a resolution it is waiting for. With a
 *   steering program that passes ARP and ND to the kernel, none of these
 *   frames arrive and the kernel does both itself.
 * - UDP checksums are computed on send; on receive they are only checked
 *   with verify_csum: a datagram from a local sender over veth arrives with
 *   only the pseudo-header sum in its checksum field (checksum offload,
 *   CHECKSUM_PARTIAL), and QUIC's AEAD protects every packet anyway.
 * - Send: headers built into a UMEM frame (frame_hdr.h), the next hop's MAC
 *   from the kernel's route and neighbour tables (netif.h), kept for
 *   neigh_ttl_ms. A next hop not yet known is resolved in send_batch,
 *   waiting at most resolve_ms while serving the receive ring (datagrams of
 *   ours that arrive meanwhile are kept for the next recv_batch); a failed one
 *   fails the datagrams to it for a second (MPQ_ERR_NOT_FOUND, errno
 *   EHOSTUNREACH or ETIMEDOUT). A datagram (or GSO segment) larger than the
 *   interface MTU allows, or a frame, is refused with MPQ_ERR_INVALID_ARGUMENT
 *   and errno EMSGSIZE. GSO descriptors are split into one frame per segment.
 * - Multi-buffer: when the interface's MTU makes frames longer than a UMEM
 *   frame holds, the socket binds with XDP_USE_SG (without it if the kernel
 *   refuses: mpq_xsk_info.sg_errnum). A frame received over several UMEM
 *   frames is copied into a buffer of the object (its datagram points
 *   there), one sent is written over several; the program that redirects to
 *   the socket must be frags-aware (xdp.frags: the steering program is;
 *   libxdp's own before 1.4 is not, so it attaches in generic mode).
 * - Wakeups: XDP_USE_NEED_WAKEUP; sendto() kicks transmission when the
 *   kernel asks (copy mode: until the TX ring is empty or the kernel makes
 *   no progress), recvfrom() when the FILL ring asks.
 * - The port: a kernel UDP socket bound to the local address and port keeps
 *   the port ours (port 0 chooses one) and checks the address exists.
 * - Families: an object bound to an address serves its family. The IPv6
 *   wildcard serves both families of the interface, as a dual-stack UDP
 *   socket does (its port is held in both; v6only: IPv6 alone); the IPv4
 *   wildcard serves IPv4. A dual-stack object's max_payload is IPv6's; its
 *   IPv4 datagrams may be 20 octets longer (shorter headers).
 * - Queues: an object serves one rx queue; xsk_set.h opens one per queue.
 *
 * - Raw mode (mpq_xsk_raw_open): whole Ethernet frames for a forwarder (a
 *   router leg). Every frame the queue's program hands over is the caller's,
 *   as it came (mpq_xsk_raw_recv), and the caller's frames go out as they are
 *   (mpq_xsk_raw_send), through the same UMEM, rings, wakeups and counters;
 *   no port is held, nothing is parsed, no ARP or ND is answered, and
 *   recv_batch/send_batch are not for it. The caller attaches the program
 *   (xdp_redirect.h) and puts the socket in its map. A frame from a local
 *   sender over veth whose checksum was left to offload arrives with only
 *   the pseudo-header sum in it: a forwarder completes it
 *   (mpq_frame_hdr_l4_csum_fix) or the receiver drops it.
 *
 * - Several sockets on one queue (mpq_xsk_open_shared) share the UMEM and its
 *   FILL and COMPLETION rings, under a mutex.
 *
 * Opening needs CAP_NET_ADMIN and CAP_BPF (or root) and an Ethernet
 * interface. The object belongs to the network namespace of the thread that
 * opened it; a thread elsewhere may use and close it (with CAP_SYS_ADMIN a
 * short-lived thread enters that namespace for libxdp's calls by interface
 * index; the caller's thread stays where it is). libxdp and libbpf print
 * through process-wide hooks: mpq_bpf_quiet's (xdp_prog.h), installed once,
 * drop what they say during this backend's calls.
 */
#ifndef MPQ_IO_XSK_H
#define MPQ_IO_XSK_H

#include <stdbool.h>
#include <stdint.h>

#include "mpq/io/pathio.h"

MPQ_EXPORT extern const struct mpq_pathio_ops mpq_pathio_xdp;

/* Where libxdp's program is attached (ignored with inhibit_prog). */
enum {
	MPQ_XSK_ATTACH_AUTO, /* native, else generic */
	MPQ_XSK_ATTACH_NATIVE,
	MPQ_XSK_ATTACH_GENERIC,
};

/* How the socket binds. */
enum {
	MPQ_XSK_BIND_AUTO, /* zero-copy, else copy */
	MPQ_XSK_BIND_ZEROCOPY,
	MPQ_XSK_BIND_COPY,
};

/* Versioned as the core's structs (mpq.h): fill with mpq_xsk_config_default.
 * Copied at open: it need not outlive the call. */
#define MPQ_XSK_CONFIG_V1 1
#define MPQ_XSK_CONFIG_VERSION MPQ_XSK_CONFIG_V1
typedef struct mpq_xsk_config {
	uint32_t struct_version; /* MPQ_XSK_CONFIG_VERSION, set by the default */
	uint32_t queue;		 /* the interface queue, default 0 */
	uint32_t frames;	 /* UMEM frames, a power of two from 256 to 65536, default 4096 */
	uint32_t frame_size;	 /* 2048 or 4096 (default) */
	int attach;		 /* MPQ_XSK_ATTACH_* */
	int bind;		 /* MPQ_XSK_BIND_* */
	bool inhibit_prog;	 /* load no program: the caller's redirects to us */
	bool no_need_wakeup;	 /* do not ask for XDP_USE_NEED_WAKEUP (kernels < 5.4) */
	bool verify_csum;	 /* drop received datagrams whose UDP checksum fails */
	unsigned int resolve_ms; /* longest wait for a neighbour, default 1000 */
	unsigned int neigh_ttl_ms; /* a next hop is asked again after, default 5000 */
	bool v6only;		   /* the IPv6 wildcard serves IPv6 only (default: IPv4 too) */
	/* The port of cfg.local (not 0) is held by the caller, e.g. by the
	 * object of another queue (xsk_set.h): bind no kernel socket. */
	bool port_held;
	/* Busy polling (Linux 5.11+): each receive and send system call on the
	 * socket runs the queue's NAPI itself for up to busy_poll_us
	 * microseconds, at most busy_poll_budget packets a round (0: the
	 * receive batch), and the kernel defers its own processing to it
	 * (SO_PREFER_BUSY_POLL); every empty receive then asks (recvfrom), with
	 * or without need_wakeup. 0: off (default). A kernel that refuses it
	 * leaves it off: see mpq_xsk_info.busy_poll. */
	uint32_t busy_poll_us;
	uint32_t busy_poll_budget;
	bool raw; /* whole frames (set by mpq_xsk_raw_open) */
} mpq_xsk_config;

/* What the object got. */
typedef struct mpq_xsk_info {
	char mode[32]; /* "native copy", "generic copy", "native zero-copy", ... */
	bool zerocopy;
	bool need_wakeup;
	bool own_prog;	/* libxdp's program was loaded for us (not inhibited) */
	bool busy_poll; /* busy polling is on (asked for and accepted) */
	uint32_t queue;
	uint32_t frames;
	uint32_t frame_size;
	uint32_t mtu;	      /* the interface's, at open */
	uint32_t max_payload; /* largest UDP payload sent or received whole */
	uint8_t mac[6];
	/* AF_XDP multi-buffer (XDP_USE_SG, Linux 6.6): asked for when a frame
	 * of the MTU does not fit a UMEM frame; then a frame spans several on
	 * receive and send, and max_payload follows the MTU. When the kernel
	 * refused it, multi_buffer is false, sg_errnum says why, and
	 * max_payload is what one UMEM frame holds. */
	bool multi_buffer;
	int sg_errnum;
	/* Descriptors one sendto may send in copy mode, when the kernel took
	 * ours (XDP_MAX_TX_SKB_BUDGET, Linux 6.17: the TX ring's size); 0: its
	 * default, 32. */
	uint32_t tx_budget;
} mpq_xsk_info;

typedef struct mpq_xsk_stats {
	uint64_t rx_dgrams;	 /* datagrams returned */
	uint64_t rx_not_ours;	 /* frames of the queue for another address, port or protocol */
	uint64_t rx_dropped;	 /* ours but larger than cfg.max_dgram, or kept too long */
	uint64_t rx_bad_csum;	 /* ours with a wrong UDP checksum (verify_csum) */
	uint64_t rx_kicks;	 /* recvfrom wakeups */
	uint64_t tx_dgrams;	 /* frames put on the TX ring (each GSO segment) */
	uint64_t tx_split;	 /* GSO descriptors split into frames */
	uint64_t tx_kicks;	 /* sendto wakeups */
	uint64_t tx_frames_free; /* send frames of this socket not in the kernel now */
	uint64_t neigh_resolved; /* next hops looked up in the kernel's tables */
	uint64_t neigh_failed;
	uint64_t neigh_learned; /* ARP replies / advertisements handed to the kernel */
	uint64_t arp_replies;	/* ARP requests for our addresses answered */
	uint64_t nd_adverts;	/* neighbour solicitations for our addresses answered */
	/* The kernel's counters for the socket (XDP_STATISTICS). */
	uint64_t k_rx_dropped;
	uint64_t k_rx_invalid;
	uint64_t k_tx_invalid;
	uint64_t k_rx_ring_full;
	uint64_t k_fill_empty;
	uint64_t k_tx_ring_empty;
	uint64_t rx_multi_buffer; /* datagrams received over several UMEM frames */
	uint64_t tx_multi_buffer; /* frames sent over several UMEM frames */
} mpq_xsk_stats;

/* Defaults: the struct version, queue 0, 4096 frames of 4096 bytes, auto attach and bind,
 * libxdp's program, need_wakeup, no checksum check, 1000 ms, 5000 ms. */
MPQ_EXPORT void mpq_xsk_config_default(mpq_xsk_config *xcfg);

/* Opens an AF_XDP socket on cfg->ifname (required) for cfg->local (an
 * address of that interface, or a wildcard: then every address of the
 * interface in the family or families it serves is ours, and a datagram sent
 * without a source gets the route's preferred one), with |xcfg| (NULL: defaults). The generic
 * mpq_pathio_xdp.open uses the defaults. Returns 0; MPQ_ERR_INVALID_ARGUMENT
 * (bad configuration, a struct_version of |cfg| or |xcfg| the library does
 * not know, no interface given, not an Ethernet interface);
 * MPQ_ERR_NOT_FOUND (no such interface or local address); MPQ_ERR_NOMEM; or
 * the error of the failing call with |err| set (EPERM without privileges:
 * MPQ_ERR_INTERNAL; EADDRINUSE; EOPNOTSUPP when no mode works). */
MPQ_EXPORT int mpq_xsk_open(mpq_pathio **out, const mpq_pathio_config *cfg,
			    const mpq_xsk_config *xcfg, mpq_oserr *err);

/* Up to this many sockets share one UMEM (mpq_xsk_open_shared). */
#define MPQ_XSK_MAX_SHARED 64

/* Opens |n| AF_XDP sockets on the same interface and queue that share one
 * UMEM (XDP_SHARED_UMEM, libxdp's xsk_socket__create_shared), into
 * out[0..n-1], for worker threads: each socket has its own RX and TX rings
 * and belongs to one thread; the queue's one FILL and one COMPLETION ring are
 * shared under a mutex. Half the frames are for receiving (in the FILL ring,
 * whichever socket they arrive on), the other half are split evenly among the
 * sockets for sending; a send frame drained from the COMPLETION ring by any
 * socket goes back to its owner. The first socket holds the port and chooses
 * the attach mode and binding, the others get the same. With n > 1, xcfg
 * must set inhibit_prog (the caller's program picks the socket: put each in
 * its XSKMAP slot) and give each socket at least 64 send frames. Every
 * object is closed on its own with mpq_pathio_close, from any thread; the
 * UMEM goes with the last. n = 1 is mpq_xsk_open. Returns as mpq_xsk_open
 * (MPQ_ERR_INVALID_ARGUMENT also for n = 0, n > MPQ_XSK_MAX_SHARED or the
 * conditions above); on failure no object is left open. */
MPQ_EXPORT int mpq_xsk_open_shared(mpq_pathio **out, uint32_t n, const mpq_pathio_config *cfg,
				   const mpq_xsk_config *xcfg, mpq_oserr *err);

/* What an xdp object got, its attach mode looked up again; NULL for
 * another backend's object. */
MPQ_EXPORT const mpq_xsk_info *mpq_xsk_get_info(mpq_pathio *io);

/* Copies the counters, the kernel's included. Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT (not an xdp object) or, with io->err,
 * MPQ_ERR_INTERNAL. */
MPQ_EXPORT int mpq_xsk_get_stats(mpq_pathio *io, mpq_xsk_stats *out);

/* Puts the socket at |key| of the XSKMAP |map_fd| (the caller's program,
 * with inhibit_prog). Returns 0, MPQ_ERR_INVALID_ARGUMENT or, with io->err,
 * the mapped errno. */
MPQ_EXPORT int mpq_xsk_xskmap_update(mpq_pathio *io, int map_fd, uint32_t key);

/* A whole Ethernet frame of raw mode. */
typedef struct mpq_xsk_frame {
	uint8_t *data; /* from the Ethernet header */
	uint32_t len;
} mpq_xsk_frame;

/* Opens an AF_XDP socket in raw mode on |queue| of |ifname| with |xcfg|
 * (NULL: defaults; its queue is ignored, inhibit_prog and raw are set, so
 * attach and v6only are ignored too). The socket gets no frame until the
 * caller's program redirects to it (xdp_redirect.h, with mpq_pathio_fd).
 * Returns as mpq_xsk_open. Close with mpq_pathio_close. */
MPQ_EXPORT int mpq_xsk_raw_open(mpq_pathio **out, const char *ifname, uint32_t queue,
				const mpq_xsk_config *xcfg, mpq_oserr *err);

/* Up to |n| received frames into f[] (at most 64 a call): they point into
 * the UMEM (or, a frame received over several UMEM frames with
 * multi-buffer, into the object's buffer for it) and are the caller's until
 * the next mpq_xsk_raw_recv on |io|,
 * which gives them back to the kernel. Also sends what waits on the TX ring
 * and takes back the frames the kernel has sent. Returns how many (0: none
 * waits); MPQ_ERR_INVALID_ARGUMENT (not a raw object). */
MPQ_EXPORT int mpq_xsk_raw_recv(mpq_pathio *io, mpq_xsk_frame *f, size_t n);

/* Copies up to |n| frames into free send frames of the UMEM, in order, and
 * has the kernel transmit them. Returns how many went: fewer when the send
 * frames or the TX ring ran out (the rest are still the caller's: retry after
 * a recv or later) or at a frame longer than a UMEM frame holds (with
 * multi-buffer: 17 of them) (errno EMSGSIZE in
 * io->err, not sent); MPQ_ERR_INVALID_ARGUMENT (not a raw object). */
MPQ_EXPORT int mpq_xsk_raw_send(mpq_pathio *io, const mpq_xsk_frame *f, size_t n);

#endif
