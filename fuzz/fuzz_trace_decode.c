/*
 * mpq-trace's decoder (tools/mpq-trace: decrypt.c, conns.c, frames.c, series.c,
 * tlsmsg.c) and the library's dissector (mpq/dissect.h) under it on any
 * datagrams: the input is a key log text, then datagrams each prefixed by a
 * 2-byte length and a direction byte. The seeds
 * hold RFC 9001's client and server Initials, which decrypt, so the
 * ClientHello, ServerHello and CRYPTO reassembly are reached.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "../tools/mpq-trace/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	trace_free(&t);
	return 0;
}
