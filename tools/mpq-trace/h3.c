/*
 * HTTP/3 in a capture: a connection whose server chose the ALPN "h3" (read
 * from EncryptedExtensions, tlsmsg.c) has its STREAM frames handed to the
 * library's HTTP/3 dissector (mpq/dissect.h), which reassembles each stream
 * and writes http3 events to the connection's qlog.
 */
#include <string.h>

#include "trace.h"

int trace_h3_packet(struct trace_conn *c, const struct trace_pkt *p, mpq_qlog *q)
{
	int rv = 0;

	if (strcmp(c->tls.alpn, "h3"))
		return 0;
	if (!c->h3 && mpq_dissect_h3_new(&c->h3))
		return MPQ_ERR_NOMEM;
	for (size_t i = 0; i < p->nframes && !rv; i++) {
		const mpq_dissect_frame *f = &p->frames[i];

		if ((f->type & ~7ULL) == MPQ_FT_STREAM)
			rv = mpq_dissect_h3_stream(c->h3, q, p->ts, p->dir, f->stream.stream_id,
						   f->stream.offset, f->stream.data, f->stream.len,
						   f->stream.fin);
	}
	return rv;
}
