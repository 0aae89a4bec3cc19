/* Capture records from path I/O descriptors: see capture.h. */
#include "mpq/io/capture.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/pathio.h"

void mpq_capture_descs(mpq_pathio *io, bool sent, const mpq_dgram *d, size_t n)
{
	const mpq_capture *cap = io->capture;
	mpq_capture_dgram r = {.ts_ns = mpq_capture_now(), .sent = sent};

	for (size_t i = 0; i < n; i++) {
		const mpq_dgram *g = &d[i];
		size_t seg = g->gso_size && g->len > g->gso_size ? g->gso_size : g->len;
		mpq_addr src;

		if (sent) {
			src = g->local.ss.ss_family ? g->local : io->local;
			mpq_addr_set_port(&src, mpq_addr_port(&io->local));
			r.src = &src;
			r.dst = &g->remote;
		} else {
			r.src = &g->remote;
			r.dst = &g->local;
		}
		r.ifindex = g->ifindex ? g->ifindex : io->ifindex;
		for (size_t off = 0; off < g->len || off == 0; off += seg) {
			r.data = g->data + off;
			r.len = g->len - off < seg ? g->len - off : seg;
			cap->dgram(cap->user_data, &r);
			if (!seg)
				break;
		}
	}
}
