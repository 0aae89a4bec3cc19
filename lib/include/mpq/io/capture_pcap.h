/*
 * --pcap: the capture hook (io/capture.h) writing pcapng (io/pcapng.h).
 * One interface block per interface seen: Ethernet for the frames AF_XDP
 * sends and receives as they are, raw IP (IPv4/IPv6 and UDP headers built
 * from the record's addresses) for the UDP backend. TLS secrets given to
 * mpq_capture_pcap_keylog go out at once as Decryption Secrets Blocks, and
 * received datagrams wait until the next hook call or secret, so that the
 * secrets derived while processing a datagram precede it in the file (a
 * single pass of tshark then decrypts it). Thread-safe: the workers of a
 * server share one file.
 */
#ifndef MPQ_IO_CAPTURE_PCAP_H
#define MPQ_IO_CAPTURE_PCAP_H

#include "mpq/io/capture.h"

typedef struct mpq_capture_pcap mpq_capture_pcap;

/* Creates |path| (mode 0600, zstd when it ends in ".zst"). Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT, MPQ_ERR_NOT_FOUND, MPQ_ERR_INTERNAL (errno set)
 * or MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_capture_pcap_open(mpq_capture_pcap **out, const char *path);

/* The same into a byte sink (mpq_pcapng_open_sink: copied, closed at close
 * and on failure here). mpq_capture_pcap_open's file is written by a thread
 * (mpq_qlog_sink_thread); a sink given here is written by the callers. */
MPQ_EXPORT int mpq_capture_pcap_open_sink(mpq_capture_pcap **out, const mpq_qlog_sink *sink);

/* The hook to set as mpq_pathio.capture; valid until close. */
MPQ_EXPORT const mpq_capture *mpq_capture_pcap_hook(mpq_capture_pcap *c);

/* One NSS key log line (without its newline), as mpq_callbacks.keylog gives it. */
MPQ_EXPORT void mpq_capture_pcap_keylog(mpq_capture_pcap *c, const char *line);

/* Datagrams written, and those left out (not IP, or a failed write). */
MPQ_EXPORT void mpq_capture_pcap_counts(mpq_capture_pcap *c, uint64_t *written, uint64_t *skipped);

/* Writes the datagrams held back and flushes the file. Returns 0 or the
 * first write error. */
MPQ_EXPORT int mpq_capture_pcap_flush(mpq_capture_pcap *c);

/* Writes what waits, ends the file, frees |c|. Returns 0 or the first
 * write error (the file is then incomplete). NULL is a no-op. */
MPQ_EXPORT int mpq_capture_pcap_close(mpq_capture_pcap *c);

#endif
