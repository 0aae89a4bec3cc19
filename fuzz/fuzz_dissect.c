/*
 * The public dissect API (mpq/dissect.h) on any bytes, as a capture decoder
 * would use it: the input (after a first byte: bit 0 the direction, bits 1-5
 * the DCID length of short headers) as a datagram, each packet's header
 * parsed, Retry checked, Initials opened with the keys of their own DCID (the
 * RFC 9001 seeds decrypt); the frames of what opens, and the input itself as
 * a decrypted payload, walked and written as qlog events; the input as both
 * roles' transport parameters. Headers, frames and their data must point
 * inside what they came from.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "mpq/dissect.h"

#define MAX_FRAMES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink_write(void *ud, const void *data, size_t len)
{
	size_t *total = ud;
	*total += len;
	return 0;
}

static int sink_close(void *ud)
{
	(void)ud;
	return 0;
}

static int inside(const uint8_t *p, size_t len, const uint8_t *base, size_t baselen)
{
	return p >= base && len <= baselen && (size_t)(p - base) <= baselen - len;
}

/* Walks |payload| as frames and writes them as one packet of |hd|. */
static void frames(mpq_qlog *q, const mpq_dissect_hdr *hd, int dir, const uint8_t *payload,
		   size_t len)
{
	static mpq_dissect_frame fr[MAX_FRAMES];
	mpq_dissect_frames it;
	size_t n = 0;
	int rv;

	mpq_dissect_frames_init(&it, payload, len);
	while (n < MAX_FRAMES && (rv = mpq_dissect_frame_next(&it, &fr[n])) == 1) {
		mpq_dissect_frame *f = &fr[n++];

		CHECK(inside(f->raw, f->rawlen, payload, len) && f->rawlen > 0);
		CHECK(mpq_dissect_frame_name(f->type) != NULL);
		if (f->type == MPQ_FT_CRYPTO)
			CHECK(inside(f->crypto.data, f->crypto.len, f->raw, f->rawlen));
		else if (f->type >= MPQ_FT_STREAM && f->type <= (MPQ_FT_STREAM | 7))
			CHECK(inside(f->stream.data, f->stream.len, f->raw, f->rawlen));
		else if (f->type == MPQ_FT_NEW_TOKEN)
			CHECK(inside(f->new_token.token, f->new_token.len, f->raw, f->rawlen));
		else if (f->type == MPQ_FT_CONNECTION_CLOSE ||
			 f->type == MPQ_FT_CONNECTION_CLOSE_APP)
			CHECK(inside(f->close.reason, f->close.reasonlen, f->raw, f->rawlen));
		else if (f->type == MPQ_FT_ACK || f->type == MPQ_FT_ACK_ECN ||
			 f->type == MPQ_FT_PATH_ACK || f->type == MPQ_FT_PATH_ACK_ECN)
			CHECK(f->ack.nranges >= 1 && f->ack.nranges <= MPQ_DISSECT_MAX_ACK_RANGES);
	}
	mpq_dissect_qlog_packet(q, 1, dir, hd, dir ? -1 : 0, fr, n);
}

/* Opens |pkt| with its own Initial keys (as the client's first Initial). */
static void open_initial(mpq_qlog *q, const uint8_t *pkt, mpq_dissect_hdr *hd, int dir)
{
	static uint8_t buf[65536];
	mpq_dissect_keys *k;
	const uint8_t *payload;
	size_t plen;
	int gen = 0;

	if (mpq_dissect_keys_new(&k, hd->version, &hd->dcid) != 0)
		return;
	if (mpq_dissect_open(k, pkt, hd, buf, sizeof(buf), dir, 0, -1, &gen, &payload, &plen) ==
	    0) {
		CHECK(inside(payload, plen, buf, hd->pktlen));
		frames(q, hd, dir, payload, plen);
	}
	mpq_dissect_keys_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t total = 0, off;
	mpq_qlog_sink sink = {.struct_version = MPQ_QLOG_SINK_VERSION,
			      .write = sink_write,
			      .close = sink_close,
			      .user_data = &total};
	mpq_cid odcid = {.len = 8};
	mpq_dissect_hdr hd;
	mpq_tparams tp;
	mpq_qlog *q;
	int dir;

	if (size < 1 || mpq_dissect_qlog_open(&q, &sink, &odcid, "fuzz", 0) != 0)
		return 0;
	dir = data[0] & 1;
	for (off = 1; off < size;) {
		const uint8_t *pkt = data + off;
		size_t left = size - off;
		int rv = mpq_dissect_hdr_parse(&hd, pkt, left, (data[0] >> 1) % 21);

		if (rv == MPQ_ERR_UNKNOWN_VERSION || rv != 0) {
			mpq_dissect_qlog_dropped(q, 1, rv ? NULL : &hd, -1, "invalid");
			break;
		}
		CHECK(hd.pktlen > 0 && hd.pktlen <= left);
		CHECK(hd.pn_offset <= hd.pktlen || hd.type == MPQ_PKT_RETRY ||
		      hd.type == MPQ_PKT_VERSION_NEGOTIATION);
		CHECK(!hd.tokenlen || inside(hd.token, hd.tokenlen, pkt, hd.pktlen));
		if (hd.type == MPQ_PKT_RETRY)
			mpq_dissect_retry_valid(hd.version, &odcid, pkt, hd.pktlen);
		else if (hd.type == MPQ_PKT_INITIAL)
			open_initial(q, pkt, &hd, dir);
		mpq_dissect_qlog_dropped(q, 1, &hd, 0, "key_unavailable");
		off += hd.pktlen;
	}
	memset(&hd, 0, sizeof(hd));
	hd.type = MPQ_PKT_1RTT;
	frames(q, &hd, dir, data + 1, size - 1);
	mpq_dissect_tparams(&tp, data + 1, size - 1, true);
	mpq_dissect_tparams(&tp, data + 1, size - 1, false);
	mpq_dissect_qlog_close(q);
	CHECK(total > 0);
	return 0;
}
