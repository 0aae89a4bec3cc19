/*
 * Capture files as mpq-trace reads them: pcap and pcapng (with their
 * Decryption Secrets Blocks), either compressed with zstd. The readers work
 * on a buffer in memory (the whole file, decompressed) and hand each packet
 * record and each secrets block to a sink in file order, so that secrets
 * reach the decrypter before the packets that need them.
 *
 * A record cut short by the end of the file (a capture still being written,
 * or a copy interrupted) is counted in |truncated|, not an error: everything
 * before it has been delivered.
 */
#ifndef MPQ_TRACE_CAPFILE_H
#define MPQ_TRACE_CAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/io/pcapng.h"

/* Link types (tcpdump.org/linktypes.html) the UDP decoder understands,
 * beside io/pcapng.h's MPQ_LINKTYPE_ETHERNET and MPQ_LINKTYPE_RAW. */
#define CAP_LINK_NULL 0 /* BSD loopback: 4-byte address family, host order */
#define CAP_LINK_LINUX_SLL 113
#define CAP_LINK_IPV4 228
#define CAP_LINK_IPV6 229
#define CAP_LINK_LINUX_SLL2 276

/* Errors of the readers (negative, beside the MPQ_ERR_* the sink may return). */
enum cap_err {
	CAP_ERR_NOT_CAPTURE = -1, /* neither pcap nor pcapng (nor zstd of one) */
	CAP_ERR_MALFORMED = -2,	  /* a block or header that cannot be right */
	CAP_ERR_IO = -3,	  /* the file could not be read */
	CAP_ERR_ZSTD = -4,	  /* the zstd stream is corrupt */
};

struct cap_record {
	uint64_t ts_ns; /* since the Unix epoch */
	uint32_t linktype;
	uint32_t ifindex; /* pcapng interface number; 0 for pcap */
	const uint8_t *data;
	size_t caplen;	/* bytes in |data| */
	size_t origlen; /* bytes on the wire */
};

struct cap_sink {
	/* One packet. A non-zero return stops reading and is returned. */
	int (*packet)(void *user, const struct cap_record *rec);
	/* One Decryption Secrets Block (pcapng only). May be NULL. */
	int (*secrets)(void *user, uint32_t type, const uint8_t *data, size_t len);
	void *user;
};

struct cap_stats {
	uint64_t records;   /* packets handed to the sink */
	uint64_t secrets;   /* secrets blocks handed to the sink */
	uint64_t truncated; /* records cut short by the end of the file */
	uint64_t skipped;   /* blocks of other types, or packets of unknown interfaces */
	const char *format; /* "pcap" or "pcapng" once detected */
};

/* Reads a classic pcap (either byte order, µs or ns timestamps). Returns 0,
 * CAP_ERR_NOT_CAPTURE, CAP_ERR_MALFORMED or what the sink returned. */
int cap_read_pcap(const uint8_t *buf, size_t len, const struct cap_sink *sink,
		  struct cap_stats *st);

/* Reads pcapng (several sections, either byte order, if_tsresol). Returns as
 * cap_read_pcap. */
int cap_read_pcapng(const uint8_t *buf, size_t len, const struct cap_sink *sink,
		    struct cap_stats *st);

/* Detects pcap or pcapng by magic and reads it. */
int cap_read(const uint8_t *buf, size_t len, const struct cap_sink *sink, struct cap_stats *st);

/* A capture in memory: a regular file mapped (no copy: reading 100 MB into
 * malloc'd memory took half of mpq-trace's time), else read or decompressed
 * into malloc'd memory. */
struct cap_data {
	uint8_t *buf;
	size_t len;
	bool mapped;
};

/* Loads |path| into |d|, decompressing it when it starts with the zstd
 * magic (whatever its name). Returns 0, CAP_ERR_IO (errno set) or
 * CAP_ERR_ZSTD. cap_unload frees what it loaded. */
int cap_load(const char *path, struct cap_data *d);
void cap_unload(struct cap_data *d);

/* One line for an error of this module. */
const char *cap_strerror(int err);

#endif
