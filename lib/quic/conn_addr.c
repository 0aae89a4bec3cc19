/*
 * The ADD_ADDRESS extension (docs/add_address.md): a server announces its
 * other addresses once the handshake is confirmed, when both ends sent the
 * add_address transport parameter; the client is told through a callback and
 * may open paths to them (it validates each with PATH_CHALLENGE first).
 */
#include <netinet/in.h>
#include <string.h>

#include "quic/conn.h"

static bool negotiated(const mpq_conn *conn)
{
	return conn->have_peer_tp && conn->local_tp.has_add_address &&
	       conn->peer_tp.has_add_address;
}

MPQ_EXPORT int mpq_conn_advertise_address(mpq_conn *conn, const mpq_addr *addr)
{
	int fam = addr->ss.ss_family;
	if (!conn->is_server || (fam != AF_INET && fam != AF_INET6))
		return MPQ_ERR_INVALID_ARGUMENT;
	if (conn->naddrs == sizeof(conn->addrs) / sizeof(conn->addrs[0]))
		return MPQ_ERR_NOBUF;
	struct mpq_conn_addr *a = &conn->addrs[conn->naddrs];
	a->addr = *addr;
	a->seq = conn->naddrs++;
	a->pending = true;
	return 0;
}

static void addr_from_frame(mpq_addr *out, const mpq_frame *fr)
{
	memset(out, 0, sizeof(*out));
	if (fr->add_address.ip_version == MPQ_ADD_ADDRESS_IPV4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&out->ss;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, fr->add_address.addr, 4);
		in->sin_port = htons(fr->add_address.port);
		out->len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, fr->add_address.addr, 16);
		in6->sin6_port = htons(fr->add_address.port);
		out->len = sizeof(*in6);
	}
}

int mpq_conn_on_addr_frame(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	/* Only a server announces, and only when both ends asked for it. */
	if (conn->is_server || !negotiated(conn))
		return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr->type, "unexpected ADD_ADDRESS", ts);
	if (fr->type == MPQ_FT_REMOVE_ADDRESS) {
		for (size_t i = 0; i < conn->naddrs; i++)
			if (conn->addrs[i].seq == fr->remove_address.seq)
				conn->addrs[i] = conn->addrs[--conn->naddrs];
		return 0;
	}
	for (size_t i = 0; i < conn->naddrs; i++)
		if (conn->addrs[i].seq == fr->add_address.seq)
			return 0; /* a repeat */
	/* Keep a bounded number: a peer cannot make us remember more. */
	if (conn->naddrs == sizeof(conn->addrs) / sizeof(conn->addrs[0]))
		return 0;
	struct mpq_conn_addr *a = &conn->addrs[conn->naddrs++];
	addr_from_frame(&a->addr, fr);
	a->seq = fr->add_address.seq;
	a->pending = false;
	if (conn->cb.address_added &&
	    conn->cb.address_added(conn, &a->addr, conn->cb.user_data) != 0)
		mpq_conn_close_transport(conn, MPQ_TE_INTERNAL_ERROR, 0, "callback failed", ts);
	return 0;
}

bool mpq_conn_addr_want_send(const mpq_conn *conn)
{
	if (!conn->is_server || !negotiated(conn) || !conn->handshake_confirmed)
		return false;
	for (size_t i = 0; i < conn->naddrs; i++)
		if (conn->addrs[i].pending)
			return true;
	return false;
}

size_t mpq_conn_write_addr_frames(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs,
				  size_t maxrecs, bool *ack_eliciting)
{
	size_t n = 0;
	if (!mpq_conn_addr_want_send(conn))
		return 0;
	for (size_t i = 0; i < conn->naddrs && n < maxrecs; i++) {
		struct mpq_conn_addr *a = &conn->addrs[i];
		if (!a->pending)
			continue;
		mpq_frame fr = {.type = MPQ_FT_ADD_ADDRESS};
		fr.add_address.seq = a->seq;
		if (a->addr.ss.ss_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)&a->addr.ss;
			fr.add_address.ip_version = MPQ_ADD_ADDRESS_IPV4;
			memcpy(fr.add_address.addr, &in->sin_addr, 4);
			fr.add_address.port = ntohs(in->sin_port);
		} else {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->addr.ss;
			fr.add_address.ip_version = MPQ_ADD_ADDRESS_IPV6;
			memcpy(fr.add_address.addr, &in6->sin6_addr, 16);
			fr.add_address.port = ntohs(in6->sin6_port);
		}
		if (mpq_frame_encode(w, &fr) != 0)
			break;
		a->pending = false;
		recs[n++] = (mpq_frame_rec){.kind = MPQ_REC_ADD_ADDRESS, .id = a->seq};
	}
	if (n)
		*ack_eliciting = true;
	return n;
}

void mpq_conn_addr_on_lost(mpq_conn *conn, const mpq_frame_rec *r)
{
	for (size_t i = 0; i < conn->naddrs; i++)
		if (conn->addrs[i].seq == r->id)
			conn->addrs[i].pending = true;
}
