/*
 * A pcapng writer (draft-ietf-opsawg-pcapng): the section header, interface
 * description blocks (timestamps in nanoseconds, if_tsresol 9), enhanced
 * packet blocks and Decryption Secrets Blocks holding TLS key log lines, so
 * that Wireshark and tshark decrypt QUIC from the capture alone. A file
 * whose name ends in ".zst" is written zstd-compressed (one streaming
 * frame). Used by --pcap (io/capture.h), mpq-trace and the testbed.
 *
 * Blocks are written in host byte order (the section header's byte-order
 * magic says which). Not thread-safe: callers serialise.
 */
#ifndef MPQ_IO_PCAPNG_H
#define MPQ_IO_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#include "mpq/conn.h"

/* Link types (www.tcpdump.org/linktypes.html) the tools use. */
#define MPQ_LINKTYPE_ETHERNET 1
#define MPQ_LINKTYPE_RAW 101 /* an IPv4 or IPv6 header first */

/* Block types and the Decryption Secrets Block's type for a TLS key log. */
#define MPQ_PCAPNG_SHB 0x0a0d0d0au
#define MPQ_PCAPNG_IDB 0x00000001u
#define MPQ_PCAPNG_EPB 0x00000006u
#define MPQ_PCAPNG_DSB 0x0000000au
#define MPQ_PCAPNG_BYTE_ORDER_MAGIC 0x1a2b3c4du
#define MPQ_PCAPNG_SECRETS_TLS 0x544c534bu /* "TLSK" */

typedef struct mpq_pcapng mpq_pcapng;

/* Creates (or truncates) |path| with mode 0600 (the file may hold secrets),
 * compressed when it ends in ".zst", and writes the section header. The
 * file is written by a thread of the writer's (mpq_qlog_sink_thread): calls
 * copy their records into its ring and seldom wait; write errors show in a
 * later call, and in flush and close.
 * Returns 0, MPQ_ERR_INVALID_ARGUMENT, MPQ_ERR_NOT_FOUND (no such
 * directory), MPQ_ERR_INTERNAL (other open or write failures, errno set)
 * or MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_pcapng_open(mpq_pcapng **out, const char *path);

/* The same on a byte sink (copied; closed by mpq_pcapng_close, and on
 * failure here, but for MPQ_ERR_INVALID_ARGUMENT: no write or close, or a
 * struct_version the library does not know, when no field is read). */
MPQ_EXPORT int mpq_pcapng_open_sink(mpq_pcapng **out, const mpq_qlog_sink *sink);

/* Adds an interface of |linktype| named |name| (may be NULL) capturing at
 * most |snaplen| bytes per packet (0: no limit). Returns its ID (0, 1, ...
 * in the order added) or a negative MPQ_ERR_*. */
MPQ_EXPORT int mpq_pcapng_add_interface(mpq_pcapng *w, uint16_t linktype, const char *name,
					uint32_t snaplen);

/* One packet on interface |iface| at |ts_ns| (nanoseconds since the epoch):
 * |caplen| bytes of |data| were captured of |origlen| on the wire (cut to
 * the interface's snaplen here). Returns 0 or a negative MPQ_ERR_*. */
MPQ_EXPORT int mpq_pcapng_packet(mpq_pcapng *w, uint32_t iface, uint64_t ts_ns, const void *data,
				 size_t caplen, size_t origlen);

/* A Decryption Secrets Block with |len| bytes of NSS key log text (whole
 * lines, each ending in a newline). Packets written after it decrypt with
 * these secrets. Returns 0 or a negative MPQ_ERR_*. */
MPQ_EXPORT int mpq_pcapng_secrets(mpq_pcapng *w, const void *keylog, size_t len);

/* Pushes what is buffered (and a zstd block) to the file. */
MPQ_EXPORT int mpq_pcapng_flush(mpq_pcapng *w);

/* Ends and closes the file and frees |w|. Returns 0, or the first error of
 * a write since open (then the file is incomplete). NULL is a no-op. */
MPQ_EXPORT int mpq_pcapng_close(mpq_pcapng *w);

#endif
