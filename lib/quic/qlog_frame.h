/*
 * Frames and the fields events share, as qlog JSON
 * (draft-ietf-quic-qlog-quic-events-13): the part of the qlog writer below
 * qlog.c's events. Each function appends to |j| inside an open object or
 * array.
 */
#ifndef MPQ_QLOG_FRAME_H
#define MPQ_QLOG_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/frame.h"
#include "quic/json.h"

/* A connection ID as a hex string (at most MPQ_MAX_CIDLEN bytes of it). */
void mpq_qlog_json_cid(mpq_json *j, const mpq_cid *cid);
void mpq_qlog_json_kv_cid(mpq_json *j, const char *key, const mpq_cid *cid);

/* "raw": {|length_key|: len} (RawInfo). */
void mpq_qlog_json_kv_raw_length(mpq_json *j, const char *length_key, uint64_t len);

/* An error code as qlog names it: |key| gets the transport error name,
 * "crypto_error_0x1XX", or "unknown" followed by error_code. Application
 * errors have no names at this layer: always "unknown" + error_code. */
void mpq_qlog_json_kv_error(mpq_json *j, const char *key, bool transport, uint64_t code);

/* "reason" as text; bytes that are not UTF-8 are also given as reason_bytes.
 * Nothing when |reason| is NULL or |len| 0. */
void mpq_qlog_json_kv_reason(mpq_json *j, const uint8_t *reason, size_t len);

/* One frame object ($QuicFrame): frame_type (mpq_frame_name) and its fields,
 * or frame_type "unknown" with frame_type_bytes. ACK delays are converted
 * with |ack_delay_exp|. */
void mpq_qlog_json_frame(mpq_json *j, const mpq_frame *fr, unsigned ack_delay_exp);

#endif
