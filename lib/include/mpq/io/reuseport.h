/*
 * Several workers on one UDP address and port (DESIGN.md "Path I/O"): a
 * group of udp path I/O objects bound with SO_REUSEPORT to the same address
 * and port, one per worker, and the sk_reuseport program of xdp/
 * (xdp/mpq_reuseport.h) attached to the group so that a datagram whose DCID
 * carries worker ID i (lib/quic/cid.h) reaches worker i's socket. Datagrams
 * with client-chosen DCIDs (Initial, 0-RTT) go where the kernel's 4-tuple
 * hash puts them, which is the same socket for every datagram of a
 * handshake.
 *
 * Loading the program needs CAP_BPF (or root). Nothing is printed by this
 * module; libbpf's own messages go to whatever print hook the process set
 * (io/xdp_prog.h installs one).
 *
 * Life: mpq_reuseport_open → mpq_reuseport_take the workers' objects (each
 * then belongs to its worker, which closes it; closing it also empties its
 * slot) → mpq_reuseport_counters at will → mpq_reuseport_close, which closes
 * the objects not taken. The program stays attached to the group while any
 * of its sockets is open.
 */
#ifndef MPQ_IO_REUSEPORT_H
#define MPQ_IO_REUSEPORT_H

#include <stdint.h>

#include "mpq/io/oserr.h"
#include "mpq/io/pathio.h"
#include "mpq_reuseport.h"

typedef struct mpq_reuseport mpq_reuseport;

/* Opens |n_workers| (1..MPQ_REUSEPORT_MAX_WORKERS) udp objects as |cfg| says
 * (reuseport forced on; port 0: the kernel's choice for the first, then the
 * same for all), loads the program, attaches it to the group and puts
 * object i in slot i. Returns 0; MPQ_ERR_INVALID_ARGUMENT (n_workers out of
 * range, or as mpq_pathio_udp.open); MPQ_ERR_NOMEM; or, with the errno and
 * the failing call in |err| (may be NULL), what mpq_oserr_set maps it to:
 * "bind" (EADDRINUSE: the address is held by a socket outside the group,
 * or by another group, in this process or another: a group owns its
 * address until mpq_reuseport_close),
 * "bpf load" (EPERM without CAP_BPF → MPQ_ERR_INTERNAL),
 * "SO_ATTACH_REUSEPORT_EBPF", "sockarray update". */
MPQ_EXPORT int mpq_reuseport_open(mpq_reuseport **out, const mpq_pathio_config *cfg,
				  uint32_t n_workers, mpq_oserr *err);

/* Closes the objects not taken and frees the group. NULL is a no-op. */
MPQ_EXPORT void mpq_reuseport_close(mpq_reuseport *g);

MPQ_EXPORT uint32_t mpq_reuseport_workers(const mpq_reuseport *g);

/* Worker |worker|'s object, still owned by the group; NULL when out of range
 * or taken. */
MPQ_EXPORT mpq_pathio *mpq_reuseport_io(const mpq_reuseport *g, uint32_t worker);

/* Hands worker |worker|'s object to the caller (who closes it with
 * mpq_pathio_close); NULL when out of range or already taken. */
MPQ_EXPORT mpq_pathio *mpq_reuseport_take(mpq_reuseport *g, uint32_t worker);

/* Every counter summed over CPUs into |out| (indexed by
 * MPQ_REUSEPORT_CNT_*). Returns 0 or the mapped errno ("counters lookup"). */
MPQ_EXPORT int mpq_reuseport_counters(mpq_reuseport *g, uint64_t out[MPQ_REUSEPORT_CNT__MAX]);

/* "short_hit", ... for MPQ_REUSEPORT_CNT_*; NULL past the last. */
MPQ_EXPORT const char *mpq_reuseport_counter_name(unsigned int idx);

#endif
