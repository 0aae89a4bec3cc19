/*
 * pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks, each
 * type ‖ total length ‖ body ‖ total length. A Section Header Block sets the
 * byte order and starts a new list of interfaces; Interface Description
 * Blocks give each interface's link type and timestamp resolution; packets
 * come in Enhanced (and the obsolete) Packet Blocks and Simple Packet Blocks;
 * Decryption Secrets Blocks carry key logs.
 */
#include <stdbool.h>
#include <string.h>

#include "capbytes.h"
#include "capfile.h"

/* Block types the writer (io/pcapng.h) does not write. */
#define BT_PB 0x00000002u /* obsolete Packet Block */
#define BT_SPB 0x00000003u
#define OPT_END 0
#define OPT_IF_TSRESOL 9
/* Interfaces remembered per section; packets of others are skipped. */
#define MAX_IFACES 256

struct iface {
	uint32_t linktype;
	uint64_t units; /* timestamp units per second */
};

struct section {
	bool be;
	uint32_t nifaces;
	struct iface ifaces[MAX_IFACES];
};

/* Units per second of an if_tsresol value: 10^v, or 2^v with the top bit set.
 * 0 for resolutions finer than we can hold. */
static uint64_t tsresol_units(uint8_t v)
{
	uint64_t u = 1;

	if (v & 0x80)
		return (v & 0x7f) < 64 ? (uint64_t)1 << (v & 0x7f) : 0;
	if (v > 19)
		return 0;
	while (v--)
		u *= 10;
	return u;
}

static uint64_t to_ns(uint64_t ts, uint64_t units)
{
	unsigned __int128 ns = (unsigned __int128)ts * 1000000000u / units;

	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

static int read_idb(struct section *s, const uint8_t *body, size_t len, struct cap_stats *st)
{
	struct iface ifc = {.units = 1000000};
	size_t off = 8;

	if (len < 8)
		return CAP_ERR_MALFORMED;
	ifc.linktype = cap_u16(body, s->be);
	while (len - off >= 4) {
		uint16_t code = cap_u16(body + off, s->be), olen = cap_u16(body + off + 2, s->be);

		if (code == OPT_END || olen > len - off - 4)
			break;
		if (code == OPT_IF_TSRESOL && olen >= 1)
			ifc.units = tsresol_units(body[off + 4]);
		off += 4 + (((size_t)olen + 3) & ~(size_t)3);
	}
	if (!ifc.units)
		return CAP_ERR_MALFORMED;
	if (s->nifaces < MAX_IFACES)
		s->ifaces[s->nifaces] = ifc;
	else
		st->skipped++;
	s->nifaces++;
	return 0;
}

static int deliver(const struct section *s, uint32_t ifid, uint64_t ts, const uint8_t *data,
		   size_t caplen, size_t origlen, const struct cap_sink *sink,
		   struct cap_stats *st)
{
	struct cap_record rec;

	if (ifid >= s->nifaces || ifid >= MAX_IFACES) {
		st->skipped++;
		return 0;
	}
	memset(&rec, 0, sizeof(rec));
	rec.ts_ns = to_ns(ts, s->ifaces[ifid].units);
	rec.linktype = s->ifaces[ifid].linktype;
	rec.ifindex = ifid;
	rec.data = data;
	rec.caplen = caplen;
	rec.origlen = origlen;
	st->records++;
	return sink->packet(sink->user, &rec);
}

/* Enhanced Packet Block, or the obsolete Packet Block (16-bit interface ID
 * and a drops count in place of the 32-bit ID). */
static int read_epb(const struct section *s, const uint8_t *body, size_t len, bool obsolete,
		    const struct cap_sink *sink, struct cap_stats *st)
{
	uint32_t ifid;
	uint64_t ts;
	size_t caplen;

	if (len < 20)
		return CAP_ERR_MALFORMED;
	ifid = obsolete ? cap_u16(body, s->be) : cap_u32(body, s->be);
	ts = (uint64_t)cap_u32(body + 4, s->be) << 32 | cap_u32(body + 8, s->be);
	caplen = cap_u32(body + 12, s->be);
	if (caplen > len - 20)
		return CAP_ERR_MALFORMED;
	return deliver(s, ifid, ts, body + 20, caplen, cap_u32(body + 16, s->be), sink, st);
}

static int read_spb(const struct section *s, const uint8_t *body, size_t len,
		    const struct cap_sink *sink, struct cap_stats *st)
{
	size_t origlen;

	if (len < 4)
		return CAP_ERR_MALFORMED;
	origlen = cap_u32(body, s->be);
	return deliver(s, 0, 0, body + 4, origlen < len - 4 ? origlen : len - 4, origlen, sink,
		       st);
}

static int read_dsb(const struct section *s, const uint8_t *body, size_t len,
		    const struct cap_sink *sink, struct cap_stats *st)
{
	uint32_t type, slen;

	if (len < 8)
		return CAP_ERR_MALFORMED;
	type = cap_u32(body, s->be);
	slen = cap_u32(body + 4, s->be);
	if (slen > len - 8)
		return CAP_ERR_MALFORMED;
	st->secrets++;
	return sink->secrets ? sink->secrets(sink->user, type, body + 8, slen) : 0;
}

/* Section Header Block at |p| (|left| bytes): sets the byte order. */
static int read_shb(struct section *s, const uint8_t *p, size_t left)
{
	if (left < 12)
		return CAP_ERR_NOT_CAPTURE;
	if (cap_u32(p + 8, true) == MPQ_PCAPNG_BYTE_ORDER_MAGIC)
		s->be = true;
	else if (cap_u32(p + 8, false) == MPQ_PCAPNG_BYTE_ORDER_MAGIC)
		s->be = false;
	else
		return CAP_ERR_MALFORMED;
	s->nifaces = 0;
	return 0;
}

int cap_read_pcapng(const uint8_t *buf, size_t len, const struct cap_sink *sink,
		    struct cap_stats *st)
{
	static const uint8_t shb_magic[4] = {0x0a, 0x0d, 0x0d, 0x0a};
	struct section s;
	size_t off = 0;

	if (len < 4 || memcmp(buf, shb_magic, 4))
		return CAP_ERR_NOT_CAPTURE;
	memset(&s, 0, sizeof(s));
	while (off < len) {
		size_t left = len - off, blen;
		const uint8_t *p = buf + off;
		uint32_t type;
		int rv = 0;

		if (left < 12) {
			st->truncated++;
			break;
		}
		type = cap_u32(p, s.be);
		if (type == MPQ_PCAPNG_SHB) {
			rv = read_shb(&s, p, left);
			if (rv == CAP_ERR_NOT_CAPTURE) {
				st->truncated++;
				break;
			}
			if (rv)
				return rv;
			st->format = "pcapng";
		}
		if (!st->format)
			return CAP_ERR_NOT_CAPTURE;
		blen = cap_u32(p + 4, s.be);
		if (blen < 12 || blen % 4)
			return CAP_ERR_MALFORMED;
		if (blen > left) {
			st->truncated++;
			break;
		}
		if (cap_u32(p + blen - 4, s.be) != blen)
			return CAP_ERR_MALFORMED;
		switch (type) {
		case MPQ_PCAPNG_IDB:
			rv = read_idb(&s, p + 8, blen - 12, st);
			break;
		case MPQ_PCAPNG_EPB:
		case BT_PB:
			rv = read_epb(&s, p + 8, blen - 12, type == BT_PB, sink, st);
			break;
		case BT_SPB:
			rv = read_spb(&s, p + 8, blen - 12, sink, st);
			break;
		case MPQ_PCAPNG_DSB:
			rv = read_dsb(&s, p + 8, blen - 12, sink, st);
			break;
		case MPQ_PCAPNG_SHB:
			break;
		default:
			st->skipped++;
		}
		if (rv)
			return rv;
		off += blen;
	}
	return 0;
}
