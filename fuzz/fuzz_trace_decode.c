/*
 * mpq-trace's decoder (tools/mpq-trace: decrypt.c, conns.c, frames.c, series.c,
 * tlsmsg.c) and the library's dissector (mpq/dissect.h) under it on any
 * datagrams: the input is a key log text, then datagrams each prefixed by a
 * 2-byte length and a direction byte. The seeds
 * hold RFC 9001's client and server Initials, which decrypt, so the
 * ClientHello, ServerHello and CRYPTO reassembly are reached, and an HTTP/3
 * connection (mpq-client --alpn h3 fetching two files, keys and all), so
 * its streams reach the HTTP/3 dissector (h3.c, mpq_dissect_h3) and its
 * qlog events, written to a sink that drops them.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "../tools/mpq-trace/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int drop(void *user_data, const void *data, size_t len)
{
	return 0;
}

static void on_conn_new(void *user, struct trace_conn *c)
{
	mpq_qlog_sink sink = {MPQ_QLOG_SINK_VERSION, drop, NULL, NULL, NULL};
	mpq_qlog *q;

	if (!mpq_dissect_qlog_open(&q, &sink, &c->odcid, NULL, c->first_ts))
		c->out = q;
}

static void on_packet(void *user, const struct trace_pkt *p)
{
	if (p->conn && p->conn->out && p->payload)
		trace_h3_packet(p->conn, p, p->conn->out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace t;
	mpq_addr client, server;
	size_t off, klen;
	uint64_t ts = 1;

	if (size < 2)
		return 0;
	memset(&t, 0, sizeof(t));
	t.series = true; /* summary's per-path series (series.c) too */
	t.on_conn_new = on_conn_new;
	t.on_packet = on_packet;
	fuzz_addr4(&client, 0x0a000001, 40000);
	fuzz_addr4(&server, 0x0a000002, 443);
	klen = (size_t)data[0] << 8 | data[1];
	if (klen > size - 2)
		klen = size - 2;
	if (trace_keys_add(&t, (const char *)data + 2, klen) == 0) {
		for (off = 2 + klen; size - off >= 3;) {
			size_t len = (size_t)data[off] << 8 | data[off + 1];
			int to_client = data[off + 2] & 1;

			off += 3;
			if (len > size - off)
				len = size - off;
			trace_datagram(&t, ts++, to_client ? &server : &client,
				       to_client ? &client : &server, data + off, len);
			off += len;
		}
	}
	for (size_t i = 0; i < t.nconns; i++)
		if (t.conns[i]->out)
			mpq_dissect_qlog_close(t.conns[i]->out);
	trace_free(&t);
	return 0;
}
