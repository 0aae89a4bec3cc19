/*
 * The qlog 0.3 form qvis loads (research/anchors.md §1.6: qvis refuses the
 * file_schema era), made from the core writer's JSON-SEQ records on their
 * way to the file: a sink in front of another sink.
 */
#ifndef MPQ_TRACE_QVIS_H
#define MPQ_TRACE_QVIS_H

#include "mpq/conn.h"

/* A sink that turns the records written to it into one qlog 0.3 JSON
 * document ("qlog_version":"0.3", one trace, events as objects, "quic:"
 * event names in their 0.3 categories) written to |inner|, which it closes.
 * On failure |inner| is closed. Returns 0 or MPQ_ERR_NOMEM. */
int trace_qvis_sink(mpq_qlog_sink *out, const mpq_qlog_sink *inner);

#endif
