/*
 * qlog file sinks and per-connection qlog files: see qlog_file.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "mpq/io/qlog_file.h"

struct file_sink {
	FILE *f;
	bool own;	   /* opened by mpq_qlog_sink_path: fclose at close */
	ZSTD_CStream *zcs; /* NULL: plain */
	uint8_t *out;
	size_t outcap;
};

static int fwrite_all(FILE *f, const void *data, size_t len)
{
	if (len && fwrite(data, 1, len, f) != len)
		return MPQ_ERR_INTERNAL;
	return 0;
}

/* Compresses |in| with |mode| and writes the output: until |in| is consumed
 * (continue) or until the frame is flushed or ended (flush, end). */
static int zstd_run(struct file_sink *s, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
	for (;;) {
		ZSTD_outBuffer out = {s->out, s->outcap, 0};
		size_t left = ZSTD_compressStream2(s->zcs, &out, in, mode);
		int rv;

		if (ZSTD_isError(left))
			return MPQ_ERR_INTERNAL;
		rv = fwrite_all(s->f, s->out, out.pos);
		if (rv)
			return rv;
		if (mode == ZSTD_e_continue ? in->pos == in->size : left == 0)
			return 0;
	}
}

static int file_write(void *user_data, const void *data, size_t len)
{
	struct file_sink *s = user_data;
	ZSTD_inBuffer in = {data, len, 0};

	if (!s->zcs)
		return fwrite_all(s->f, data, len);
	return zstd_run(s, &in, ZSTD_e_continue);
}

static int file_flush(void *user_data)
{
	struct file_sink *s = user_data;
	ZSTD_inBuffer in = {NULL, 0, 0};
	int rv = s->zcs ? zstd_run(s, &in, ZSTD_e_flush) : 0;

	if (fflush(s->f) && !rv)
		rv = MPQ_ERR_INTERNAL;
	return rv;
}

static int file_close(void *user_data)
{
	struct file_sink *s = user_data;
	ZSTD_inBuffer in = {NULL, 0, 0};
	int rv = s->zcs ? zstd_run(s, &in, ZSTD_e_end) : 0;

	if (fflush(s->f) && !rv)
		rv = MPQ_ERR_INTERNAL;
	if (s->own && fclose(s->f) && !rv)
		rv = MPQ_ERR_INTERNAL;
	ZSTD_freeCStream(s->zcs);
	free(s->out);
	free(s);
	return rv;
}

static int sink_file(mpq_qlog_sink *sink, FILE *f, bool zstd, bool own)
{
	struct file_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return MPQ_ERR_NOMEM;
	s->f = f;
	s->own = own;
	if (zstd) {
		s->zcs = ZSTD_createCStream();
		s->outcap = ZSTD_CStreamOutSize();
		s->out = malloc(s->outcap);
		if (!s->zcs || !s->out) {
			ZSTD_freeCStream(s->zcs);
			free(s->out);
			free(s);
			return MPQ_ERR_NOMEM;
		}
		if (ZSTD_isError(ZSTD_CCtx_setParameter(s->zcs, ZSTD_c_compressionLevel,
							ZSTD_CLEVEL_DEFAULT))) {
			ZSTD_freeCStream(s->zcs);
			free(s->out);
			free(s);
			return MPQ_ERR_INTERNAL;
		}
	}
	sink->struct_version = MPQ_QLOG_SINK_VERSION;
	sink->write = file_write;
	sink->flush = file_flush;
	sink->close = file_close;
	sink->user_data = s;
	return 0;
}

int mpq_qlog_sink_file(mpq_qlog_sink *sink, FILE *f, bool zstd)
{
	if (!sink || !f)
		return MPQ_ERR_INVALID_ARGUMENT;
	return sink_file(sink, f, zstd, false);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int mpq_qlog_sink_path(mpq_qlog_sink *sink, const char *path, bool zstd)
{
	FILE *f;
	int rv;

	if (!sink || !path || !*path)
		return MPQ_ERR_INVALID_ARGUMENT;
	f = fopen(path, "wb");
	if (!f)
		return errno == ENOENT || errno == ENOTDIR ? MPQ_ERR_NOT_FOUND : MPQ_ERR_INTERNAL;
	rv = sink_file(sink, f, zstd || ends_with(path, ".zst"), true);
	if (rv)
		fclose(f);
	return rv;
}

MPQ_EXPORT int mpq_conn_set_qlog_dir(mpq_conn *conn, const char *dir, bool zstd)
{
	const mpq_cid *odcid = mpq_conn_odcid(conn);
	char path[4096], hex[2 * MPQ_MAX_CIDLEN + 1];
	mpq_qlog_sink sink;
	int n, rv;

	for (size_t i = 0; i < odcid->len; i++)
		snprintf(hex + 2 * i, 3, "%02x", odcid->data[i]);
	hex[2 * odcid->len] = 0;
	n = snprintf(path, sizeof(path), "%s/%s_%s.sqlog%s", dir, hex,
		     mpq_conn_is_server(conn) ? "server" : "client", zstd ? ".zst" : "");
	if (n < 0 || (size_t)n >= sizeof(path))
		return MPQ_ERR_INVALID_ARGUMENT;
	rv = mpq_qlog_sink_path(&sink, path, zstd);
	if (rv != 0)
		return rv;
	return mpq_conn_set_qlog(conn, &sink);
}
