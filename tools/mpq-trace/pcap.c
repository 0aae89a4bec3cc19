/*
 * Classic pcap (the tcpdump format): a 24-byte file header whose magic gives
 * the byte order and the timestamp unit (µs or ns), then records of a 16-byte
 * header and the captured bytes.
 */
#include <stdbool.h>
#include <string.h>

#include "capbytes.h"
#include "capfile.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_HDRLEN 24
#define PCAP_RECLEN 16
/* The link type is the low 16 bits of the header's network field; the bits
 * above carry the FCS length. */
#define PCAP_LINKTYPE_MASK 0xffffu

int cap_read_pcap(const uint8_t *buf, size_t len, const struct cap_sink *sink,
		  struct cap_stats *st)
{
	uint32_t magic, linktype;
	bool be, ns;
	size_t off;

	if (len < 4)
		return CAP_ERR_NOT_CAPTURE;
	magic = cap_u32(buf, true);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS)
		be = true;
	else if (cap_u32(buf, false) == PCAP_MAGIC_US || cap_u32(buf, false) == PCAP_MAGIC_NS)
		be = false;
	else
		return CAP_ERR_NOT_CAPTURE;
	st->format = "pcap";
	if (len < PCAP_HDRLEN) {
		st->truncated++;
		return 0;
	}
	ns = cap_u32(buf, be) == PCAP_MAGIC_NS;
	linktype = cap_u32(buf + 20, be) & PCAP_LINKTYPE_MASK;
	for (off = PCAP_HDRLEN; off < len;) {
		struct cap_record rec;
		uint64_t sec, frac;
		size_t incl;
		int rv;

		if (len - off < PCAP_RECLEN) {
			st->truncated++;
			break;
		}
		sec = cap_u32(buf + off, be);
		frac = cap_u32(buf + off + 4, be);
		incl = cap_u32(buf + off + 8, be);
		if (incl > len - off - PCAP_RECLEN) {
			st->truncated++;
			break;
		}
		memset(&rec, 0, sizeof(rec));
		rec.ts_ns = sec * 1000000000u + (ns ? frac : frac * 1000u);
		rec.linktype = linktype;
		rec.data = buf + off + PCAP_RECLEN;
		rec.caplen = incl;
		rec.origlen = cap_u32(buf + off + 12, be);
		off += PCAP_RECLEN + incl;
		st->records++;
		rv = sink->packet(sink->user, &rec);
		if (rv)
			return rv;
	}
	return 0;
}
