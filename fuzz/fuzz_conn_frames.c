/*
 * Peer input after the handshake: a client and a server connection complete a
 * handshake in memory (multipath and ADD_ADDRESS negotiated), then the fuzz
 * input becomes the frames of a correctly protected 1-RTT packet from the
 * client, so stream, flow control, CID, path and close frames all reach the
 * server's handlers, and then of one from the server, so the client's
 * handlers (NEW_TOKEN, HANDSHAKE_DONE, the server's PATH_* and ADD_ADDRESS)
 * get them too. Afterwards the two sides exchange packets for a while;
 * nothing may crash or trip a sanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_tls.h"
#include "quic/conn.h"
#include "quic/packet.h"

static mpq_tls_ctx *sctx, *cctx;

/* Moves datagrams both ways until both are quiet or |rounds| pass. */
static void exchange(mpq_conn **c, mpq_conn **s, const mpq_settings *ss, const mpq_tparams *tp,
		     const mpq_callbacks *cb, uint64_t *now, int rounds)
{
	uint8_t buf[1500];
	mpq_path path;
	memset(&path, 0, sizeof(path));
	for (int r = 0; r < rounds; r++) {
		bool any = false;
		int n;
		while ((n = mpq_conn_write_pkt(*c, &path, NULL, buf, sizeof(buf), *now)) > 0) {
			any = true;
			if (!*s && mpq_conn_server_new(s, &path, buf, (size_t)n, ss, tp, cb, sctx,
						       *now) != 0)
				return;
			mpq_conn_read_pkt(*s, &path, NULL, buf, (size_t)n, *now);
		}
		while (*s &&
		       (n = mpq_conn_write_pkt(*s, &path, NULL, buf, sizeof(buf), *now)) > 0) {
			any = true;
			mpq_conn_read_pkt(*c, &path, NULL, buf, (size_t)n, *now);
		}
		*now += 1000000;
		if (mpq_conn_get_expiry(*c) <= *now)
			mpq_conn_handle_expiry(*c, *now);
		if (*s && mpq_conn_get_expiry(*s) <= *now)
			mpq_conn_handle_expiry(*s, *now);
		if (!any && r > 4)
			break;
	}
}

/* A 1-RTT packet from |c| on path 0 with |data| as its frames. */
static size_t packet_from(mpq_conn *c, const uint8_t *data, size_t len, uint8_t *out, size_t cap)
{
	mpq_pktns *ns = &c->paths[0].ns;
	mpq_pkt_hd hd = {.type = MPQ_PKT_1RTT,
			 .dcid = c->dcid,
			 .pn = ns->next_pn++,
			 .pn_len = 4,
			 .key_phase = c->kp.tx_phase};
	mpq_writer w;
	mpq_writer_init(&w, out, cap);
	if (mpq_pkt_encode_hd(&w, &hd) != 0 || mpq_writer_left(&w) < len + 4 + MPQ_AEAD_TAGLEN)
		return 0;
	memcpy(w.pos, data, len);
	size_t plen = len < 4 ? 4 : len;
	memset(w.pos + len, 0, plen - len);
	int n = mpq_pkt_protect(out, cap, &hd, plen, &ns->tx, 0);
	return n > 0 ? (size_t)n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	if (!ready)
		ready = fuzz_tls_contexts(&sctx, &cctx) == 0 ? 1 : -1;
	if (ready < 0 || len > 1400)
		return 0;
	fuzz_seed = 11;
	mpq_settings cs, ss;
	mpq_tparams tp;
	mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION, .rand = fuzz_rand};
	mpq_settings_default(&cs);
	mpq_settings_default(&ss);
	cs.server_name = "localhost";
	/* Multipath and ADD_ADDRESS on, so their frames reach their handlers too. */
	cs.multipath = ss.multipath = true;
	cs.add_address = ss.add_address = true;
	mpq_tparams_default(&tp);
	tp.initial_max_data = 1 << 20;
	tp.initial_max_stream_data_bidi_local = 1 << 16;
	tp.initial_max_stream_data_bidi_remote = 1 << 16;
	tp.initial_max_stream_data_uni = 1 << 16;
	tp.initial_max_streams_bidi = 8;
	tp.initial_max_streams_uni = 8;
	tp.active_connection_id_limit = 4;
	mpq_path path;
	memset(&path, 0, sizeof(path));
	mpq_conn *c = NULL, *s = NULL;
	uint64_t now = 0;
	if (mpq_conn_client_new(&c, &path, &cs, &tp, &cb, cctx, now) != 0)
		__builtin_trap();
	exchange(&c, &s, &ss, &tp, &cb, &now, 50);
	if (!s || !mpq_conn_is_handshake_complete(s) || !c->handshake_confirmed)
		__builtin_trap(); /* a clean in-memory handshake must complete */
	uint8_t pkt[1500];
	size_t n = packet_from(c, data, len, pkt, sizeof(pkt));
	if (n)
		mpq_conn_read_pkt(s, &path, NULL, pkt, n, now);
	n = packet_from(s, data, len, pkt, sizeof(pkt));
	if (n)
		mpq_conn_read_pkt(c, &path, NULL, pkt, n, now);
	exchange(&c, &s, &ss, &tp, &cb, &now, 20);
	mpq_conn_del(c);
	mpq_conn_del(s);
	return 0;
}
