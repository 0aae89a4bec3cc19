/*
 * Peer input after the handshake: a client and a server connection complete a
 * handshake in memory (multipath and ADD_ADDRESS negotiated) and open path 1
 * from a second client address, then the fuzz
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
#include "forge.h"
#include "fuzz_util.h"
#include "quic/conn.h"
#include "quic/packet.h"

static mpq_tls_ctx *sctx, *cctx;

/* What the receiver of a datagram sent on |out| sees. */
static mpq_path reversed(const mpq_path *out)
{
	mpq_path in;
	memset(&in, 0, sizeof(in));
	in.local = out->remote;
	in.remote = out->local;
	return in;
}

/* Moves datagrams both ways, each on the path it was sent on, until both are
 * quiet or |rounds| pass. */
static void exchange(mpq_conn **c, mpq_conn **s, const mpq_settings *ss, const mpq_tparams *tp,
		     const mpq_callbacks *cb, uint64_t *now, int rounds)
{
	uint8_t buf[1500];
	mpq_path out, in;
	for (int r = 0; r < rounds; r++) {
		bool any = false;
		int n;
		while ((n = mpq_conn_write_pkt(*c, &out, NULL, buf, sizeof(buf), *now)) > 0) {
			any = true;
			in = reversed(&out);
			if (!*s && mpq_conn_server_new(s, &in, buf, (size_t)n, ss, tp, cb, sctx,
						       *now) != 0)
				return;
			mpq_conn_read_pkt(*s, &in, NULL, buf, (size_t)n, *now);
		}
		while (*s &&
		       (n = mpq_conn_write_pkt(*s, &out, NULL, buf, sizeof(buf), *now)) > 0) {
			any = true;
			in = reversed(&out);
			mpq_conn_read_pkt(*c, &in, NULL, buf, (size_t)n, *now);
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

static bool path_active(const mpq_conn *conn, uint32_t path_id)
{
	mpq_path_stats st;
	for (size_t i = 0; i < mpq_conn_path_count(conn); i++)
		if (mpq_conn_get_path_stats(conn, i, &st) == 0 && st.path_id == path_id)
			return st.state == MPQ_PATH_STATE_ACTIVE;
	return false;
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
	mpq_path path, second, at_server;
	memset(&path, 0, sizeof(path));
	fuzz_addr4(&path.local, 0x0a000001, 40000);
	fuzz_addr4(&path.remote, 0x0a000002, 443);
	second = path;
	fuzz_addr4(&second.local, 0x0a000101, 40001);
	at_server = reversed(&path);
	mpq_conn *c = NULL, *s = NULL;
	uint64_t now = 0;
	uint32_t id;
	if (mpq_conn_client_new(&c, &path, &cs, &tp, &cb, cctx, now) != 0)
		__builtin_trap();
	exchange(&c, &s, &ss, &tp, &cb, &now, 50);
	if (!s || !mpq_conn_is_handshake_complete(s) || !c->handshake_confirmed)
		__builtin_trap(); /* a clean in-memory handshake must complete */
	/* Path 1 from another client address, so frames naming it find it. */
	if (mpq_conn_open_path(c, &second, &id) != 0 || id != 1)
		__builtin_trap();
	exchange(&c, &s, &ss, &tp, &cb, &now, 20);
	if (!path_active(c, 1) || !path_active(s, 1))
		__builtin_trap();
	uint8_t pkt[1500];
	size_t n = forge_1rtt(c, data, len, pkt, sizeof(pkt));
	if (n)
		mpq_conn_read_pkt(s, &at_server, NULL, pkt, n, now);
	n = forge_1rtt(s, data, len, pkt, sizeof(pkt));
	if (n)
		mpq_conn_read_pkt(c, &path, NULL, pkt, n, now);
	exchange(&c, &s, &ss, &tp, &cb, &now, 20);
	mpq_conn_del(c);
	mpq_conn_del(s);
	return 0;
}
