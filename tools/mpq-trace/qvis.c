/*
 * JSON-SEQ records (RS, one JSON object, LF) to one qlog 0.3 document: the
 * header record becomes the document's head with the trace's group_id kept,
 * each event record becomes an element of "events" with its name moved to
 * the 0.3 category (packet and datagram events are "transport:", key events
 * "security:", recovery events "recovery:", the rest "connectivity:"; HTTP/3
 * events "http:", warnings "generic:").
 * Records are rewritten as text: the writer's records are flat enough that
 * only the name and the separators change.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qvis.h"

struct qvis {
	mpq_qlog_sink inner;
	char *buf;
	size_t len, cap;
	bool head_done;
	size_t events;
};

static const struct {
	const char *from, *to;
} names[] = {
	{"\"name\":\"quic:key_", "\"name\":\"security:key_"},
	{"\"name\":\"quic:recovery_metrics_updated\"", "\"name\":\"recovery:metrics_updated\""},
	{"\"name\":\"quic:recovery_parameters_set\"", "\"name\":\"recovery:parameters_set\""},
	{"\"name\":\"quic:congestion_state_updated\"",
	 "\"name\":\"recovery:congestion_state_updated\""},
	{"\"name\":\"quic:packet_lost\"", "\"name\":\"recovery:packet_lost\""},
	{"\"name\":\"quic:connection_", "\"name\":\"connectivity:connection_"},
	{"\"name\":\"quic:tuple_assigned\"", "\"name\":\"connectivity:tuple_assigned\""},
	{"\"name\":\"quic:", "\"name\":\"transport:"},
	{"\"name\":\"http3:", "\"name\":\"http:"},
	{"\"name\":\"loglevel:", "\"name\":\"generic:"},
};

static int out(struct qvis *q, const char *s, size_t n)
{
	return q->inner.write(q->inner.user_data, s, n);
}

static int outs(struct qvis *q, const char *s)
{
	return out(q, s, strlen(s));
}

/* The document's head, with the group_id of the header record |rec|. */
static int head(struct qvis *q, const char *rec, size_t n)
{
	static const char key[] = "\"group_id\":\"";
	const char *g = memmem(rec, n, key, sizeof(key) - 1), *end = NULL;
	int rv;

	if (g) {
		g += sizeof(key) - 1;
		end = memchr(g, '"', n - (size_t)(g - rec));
	}
	rv = outs(q, "{\"qlog_version\":\"0.3\",\"qlog_format\":\"JSON\",\"title\":\"mpq-trace\","
		     "\"traces\":[{\"vantage_point\":{\"name\":\"mpq-trace\",\"type\":\"network\","
		     "\"flow\":\"client\"},"
		     "\"common_fields\":{\"time_format\":\"relative\",\"reference_time\":0");
	if (!rv && g && end) {
		rv = outs(q, ",\"group_id\":\"");
		if (!rv)
			rv = out(q, g, (size_t)(end - g));
		if (!rv)
			rv = outs(q, "\"");
	}
	if (!rv)
		rv = outs(q, "},\"events\":[");
	q->head_done = true;
	return rv;
}

static int event(struct qvis *q, const char *rec, size_t n)
{
	static const char key[] = "\"name\":\"";
	const char *at = memmem(rec, n, key, sizeof(key) - 1);
	int rv = q->events++ ? outs(q, ",\n") : 0;

	if (rv || !at)
		return rv ? rv : out(q, rec, n);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t fl = strlen(names[i].from);

		if ((size_t)(rec + n - at) >= fl && !memcmp(at, names[i].from, fl)) {
			rv = out(q, rec, (size_t)(at - rec));
			if (!rv)
				rv = outs(q, names[i].to);
			return rv ? rv : out(q, at + fl, n - (size_t)(at - rec) - fl);
		}
	}
	return out(q, rec, n);
}

/* One record without its RS and LF. */
static int record(struct qvis *q, const char *rec, size_t n)
{
	return q->head_done ? event(q, rec, n) : head(q, rec, n);
}

static int qvis_write(void *user, const void *data, size_t len)
{
	struct qvis *q = user;
	size_t start = 0;
	int rv = 0;

	if (q->len + len > q->cap) {
		size_t cap = (q->len + len) * 2;
		char *b = realloc(q->buf, cap);

		if (!b)
			return MPQ_ERR_NOMEM;
		q->buf = b;
		q->cap = cap;
	}
	memcpy(q->buf + q->len, data, len);
	q->len += len;
	for (size_t i = 0; i < q->len && !rv; i++) {
		if (q->buf[i] != '\n')
			continue;
		size_t s = start < i && q->buf[start] == 0x1e ? start + 1 : start;
		if (i > s)
			rv = record(q, q->buf + s, i - s);
		start = i + 1;
	}
	memmove(q->buf, q->buf + start, q->len - start);
	q->len -= start;
	return rv;
}

static int qvis_flush(void *user)
{
	struct qvis *q = user;

	return q->inner.flush ? q->inner.flush(q->inner.user_data) : 0;
}

static int qvis_close(void *user)
{
	struct qvis *q = user;
	int rv = q->head_done ? outs(q, "]}]}\n") : 0;
	int crv = q->inner.close ? q->inner.close(q->inner.user_data) : 0;

	free(q->buf);
	free(q);
	return rv ? rv : crv;
}

int trace_qvis_sink(mpq_qlog_sink *sink, const mpq_qlog_sink *inner)
{
	struct qvis *q = calloc(1, sizeof(*q));

	if (!q) {
		if (inner->close)
			inner->close(inner->user_data);
		return MPQ_ERR_NOMEM;
	}
	q->inner = *inner;
	sink->struct_version = MPQ_QLOG_SINK_VERSION;
	sink->write = qvis_write;
	sink->flush = qvis_flush;
	sink->close = qvis_close;
	sink->user_data = q;
	return 0;
}
