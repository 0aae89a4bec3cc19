/*
 * The steering program of xdp/ (DESIGN.md "steering (xdp/)"; layout in
 * xdp/mpq_steer.h): loaded from the object embedded in libmpq, attached
 * through libxdp, and its maps kept here: the XSKMAP (one AF_XDP socket per
 * rx queue and worker), the local addresses served and the per-CPU counters.
 * One object per interface. Workers are found by the worker ID our CIDs
 * carry (mpq_steer.h), so there is no CID table to keep.
 *
 * Addresses: only datagrams to cfg.ports at one of the addresses served are
 * steered; the same ports at other addresses (transit traffic, addresses of
 * the interface served by someone else) go to the kernel. At attach the
 * program serves cfg.addrs, a wildcard there standing for every address of
 * its family the interface has then; no cfg.addrs at all means every address
 * of the interface. mpq_xdp_prog_addr_add/_del change the set later.
 *
 * Life: mpq_xdp_prog_new (configure) → mpq_xdp_prog_attach (load and attach)
 * → mpq_xdp_prog_set_xsk as sockets come and go → mpq_xdp_prog_del
 * (detaches). mpq_xdp_prog_load instead of attach loads the program without
 * attaching it, for BPF_PROG_TEST_RUN on mpq_xdp_prog_fd (tests,
 * benchmarks); it serves the addresses of cfg.addrs that are not wildcards.
 *
 * Attaching. libxdp puts the program behind its multi-program dispatcher when
 * it can, so it coexists with other XDP programs; the dispatcher keeps its
 * state pinned in a bpffs (LIBXDP_BPFFS, default /sys/fs/bpf). Network
 * namespaces and containers often have none mounted: then libxdp attaches the
 * program alone, as the interface's only XDP program (bpf_xdp_attach), which
 * is what we keep (no bpffs is mounted for the caller; mounting one in the
 * process's mount namespace would need unshare(CLONE_NEWNS), which a
 * threaded process cannot do, and pins nobody else sees). Which way was used
 * is said through the log callback and mpq_xdp_prog_info. A program named
 * MPQ_STEER_PROG already on the interface (left by a run that crashed) is
 * detached first, with a log line: there is one steering program per
 * interface.
 *
 * Logging. Nothing is printed: this module's lines and libbpf's and libxdp's
 * (verifier logs included) go to cfg.log while one of these calls runs on the
 * thread (level 1 ours and libbpf/libxdp warnings, 2 their info, 3 their
 * debug). Their messages at other times are dropped (mpq_bpf_quiet).
 */
#ifndef MPQ_IO_XDP_PROG_H
#define MPQ_IO_XDP_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include "mpq/conn.h"
#include "mpq/io/oserr.h"
#include "mpq_steer.h"

typedef struct mpq_xdp_prog mpq_xdp_prog;

#define MPQ_XDP_PROG_CFG_ADDRS 8

typedef enum mpq_xdp_mode {
	MPQ_XDP_MODE_AUTO = 0, /* native, else generic (skb) */
	MPQ_XDP_MODE_NATIVE,   /* in the driver, or fail */
	MPQ_XDP_MODE_SKB,      /* generic: works on every interface, slower */
} mpq_xdp_mode;

/* Versioned as the core's structs (mpq.h): fill with
 * mpq_xdp_prog_config_default. Copied by mpq_xdp_prog_new, addresses
 * included; only log_ud is used after the call. */
#define MPQ_XDP_PROG_CONFIG_V1 1
#define MPQ_XDP_PROG_CONFIG_VERSION MPQ_XDP_PROG_CONFIG_V1
typedef struct mpq_xdp_prog_config {
	uint32_t struct_version;	     /* MPQ_XDP_PROG_CONFIG_VERSION, set by the default */
	uint16_t ports[MPQ_STEER_MAX_PORTS]; /* UDP ports steered, host order; 0 = unused */
	uint32_t n_workers; /* 1..MPQ_STEER_MAX_WORKERS; worker IDs are 0..n_workers-1 */
	uint32_t hash_seed; /* seed of the 4-tuple hash that places Initials */
	/* The local addresses served (ports ignored); a wildcard: every address
	 * of its family on the interface at attach. None: every address of the
	 * interface. */
	mpq_addr addrs[MPQ_XDP_PROG_CFG_ADDRS];
	uint32_t n_addrs;
	mpq_log_fn log; /* NULL: silent */
	void *log_ud;	/* kept: must outlive the object */
} mpq_xdp_prog_config;

typedef struct mpq_xdp_prog_info {
	int ifindex;	     /* attached to, 0 if not attached */
	mpq_xdp_mode mode;   /* MPQ_XDP_MODE_NATIVE or _SKB once attached */
	bool dispatcher;     /* behind libxdp's dispatcher (false: attached alone) */
	bool replaced_stale; /* a left-over MPQ_STEER_PROG was detached first */
	uint32_t prog_id;    /* kernel ID of the program, 0 if not loaded */
} mpq_xdp_prog_info;

/* The struct version, one port (443), one worker, seed 0, every address of
 * the interface, silent. */
MPQ_EXPORT void mpq_xdp_prog_config_default(mpq_xdp_prog_config *cfg);

/* Opens the embedded object and writes |cfg| into its configuration; the
 * kernel sees nothing yet. Returns 0; MPQ_ERR_INVALID_ARGUMENT (a
 * struct_version the library does not know, no port,
 * n_workers out of range, n_addrs past MPQ_XDP_PROG_CFG_ADDRS or an address
 * neither IPv4 nor IPv6); MPQ_ERR_NOMEM; or, with the errno and the failing
 * call in |err| (may be NULL), what mpq_oserr_set maps it to. */
MPQ_EXPORT int mpq_xdp_prog_new(mpq_xdp_prog **out, const mpq_xdp_prog_config *cfg,
				mpq_oserr *err);

/* Detaches (if attached) and frees. NULL is fine. */
MPQ_EXPORT void mpq_xdp_prog_del(mpq_xdp_prog *p);

/* Loads the program into the kernel without attaching it. Returns 0;
 * MPQ_ERR_INVALID_ARGUMENT (already loaded); or the mapped errno ("load"),
 * e.g. EPERM without CAP_BPF → MPQ_ERR_INTERNAL, EINVAL (verifier) →
 * MPQ_ERR_INVALID_ARGUMENT with the verifier log sent to cfg.log. */
MPQ_EXPORT int mpq_xdp_prog_load(mpq_xdp_prog *p);

/* Loads the program and attaches it to |ifindex| in |mode| through libxdp;
 * MPQ_XDP_MODE_AUTO tries native first, then generic, and logs why native
 * failed. One attach per object: after a failed attach or a detach, make a
 * new object. Returns 0; MPQ_ERR_INVALID_ARGUMENT (loaded, attached or tried
 * before); MPQ_ERR_NOT_FOUND (no such interface); or the mapped errno of the
 * last attempt ("xdp attach"): EOPNOTSUPP (mode not supported), EEXIST/EBUSY
 * (another program holds the interface alone) → MPQ_ERR_INTERNAL; or the
 * errors of mpq_if_addrs and mpq_xdp_prog_addr_add while filling the
 * addresses served (then detached again). */
MPQ_EXPORT int mpq_xdp_prog_attach(mpq_xdp_prog *p, int ifindex, mpq_xdp_mode mode);

/* Detaches from the interface; the maps stay readable. Returns 0 (also when
 * not attached) or the mapped errno ("xdp detach"). */
MPQ_EXPORT int mpq_xdp_prog_detach(mpq_xdp_prog *p);

MPQ_EXPORT void mpq_xdp_prog_info_get(const mpq_xdp_prog *p, mpq_xdp_prog_info *info);

/* The program's file descriptor (for BPF_PROG_TEST_RUN after
 * mpq_xdp_prog_load), or -1 if not loaded. */
MPQ_EXPORT int mpq_xdp_prog_fd(const mpq_xdp_prog *p);

/* Puts AF_XDP socket |xsk_fd| in the slot of (|queue|, |worker|), or empties
 * that slot when |xsk_fd| < 0. The socket must be bound to this interface
 * and queue (libxdp: xsk_socket__create with
 * XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD). Returns 0;
 * MPQ_ERR_INVALID_ARGUMENT (not loaded, worker ≥ n_workers, slot past
 * MPQ_STEER_XSKMAP_SIZE, not an AF_XDP socket, or one not bound yet); or the
 * mapped errno ("xskmap update"/"xskmap delete"). Emptying an empty slot is 0. */
MPQ_EXPORT int mpq_xdp_prog_set_xsk(mpq_xdp_prog *p, uint32_t queue, uint32_t worker, int xsk_fd);

/* Serves |addr| (IPv4 or IPv6, not a wildcard; the port is ignored) too.
 * Returns 0 (also when already served); MPQ_ERR_INVALID_ARGUMENT (not
 * loaded, not such an address); MPQ_ERR_NOMEM (MPQ_STEER_MAX_ADDRS served,
 * errno E2BIG); or the mapped errno ("addr map update"). */
MPQ_EXPORT int mpq_xdp_prog_addr_add(mpq_xdp_prog *p, const mpq_addr *addr);

/* Serves |addr| no more. Returns 0; MPQ_ERR_INVALID_ARGUMENT (as above);
 * MPQ_ERR_NOT_FOUND (not served); or the mapped errno ("addr map delete"). */
MPQ_EXPORT int mpq_xdp_prog_addr_del(mpq_xdp_prog *p, const mpq_addr *addr);

/* Every counter, summed over CPUs, into |out| (indexed by MPQ_STEER_CNT_*).
 * Returns 0; MPQ_ERR_INVALID_ARGUMENT (not loaded); or the mapped errno
 * ("counters lookup"). */
MPQ_EXPORT int mpq_xdp_prog_counters(mpq_xdp_prog *p, uint64_t out[MPQ_STEER_CNT__MAX]);

/* One counter by its name (mpq_xdp_prog_counter_name), summed over CPUs.
 * Returns 0; MPQ_ERR_NOT_FOUND (no such counter); or as
 * mpq_xdp_prog_counters. */
MPQ_EXPORT int mpq_xdp_prog_counter(mpq_xdp_prog *p, const char *name, uint64_t *value);

/* "not_ip", "short_worker_id", ... for MPQ_STEER_CNT_*; NULL past the last. */
MPQ_EXPORT const char *mpq_xdp_prog_counter_name(unsigned int idx);

/* The system call that failed last. */
MPQ_EXPORT const mpq_oserr *mpq_xdp_prog_oserr(const mpq_xdp_prog *p);

/* Installs, once per process, the print hooks of libbpf and libxdp that
 * route their messages to the log callback of the mpq_xdp_prog call running
 * on the thread and drop them otherwise, so nothing in libmpq writes to
 * stderr. The only place libmpq sets those hooks: every module that calls
 * into libbpf or libxdp calls this first (idempotent, thread-safe). */
MPQ_EXPORT void mpq_bpf_quiet(void);

#endif
