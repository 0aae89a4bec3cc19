/* pcapng writer: see pcapng.h. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpq/io/pcapng.h"
#include "mpq/io/qlog_file.h"

/* Option codes (pcapng §3.5, §4.2). */
#define OPT_ENDOFOPT 0
#define IF_NAME 2
#define IF_TSRESOL 9

#define WRITE_RING (4u << 20) /* bytes of records between the writer and the file */

struct mpq_pcapng {
	mpq_qlog_sink sink;
	uint32_t n_if;
	uint32_t *snaplen; /* per interface, 0: none */
	int err;	   /* first write error, then nothing more is written */
};

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static int put(mpq_pcapng *w, const void *data, size_t len)
{
	if (!w->err && len)
		w->err = w->sink.write(w->sink.user_data, data, len);
	return w->err;
}

static int put32(mpq_pcapng *w, uint32_t v)
{
	return put(w, &v, 4);
}

/* |len| bytes of |data| and the zeros that pad them to 4 bytes. */
static int put_padded(mpq_pcapng *w, const void *data, size_t len)
{
	static const uint8_t zero[4];

	put(w, data, len);
	return put(w, zero, pad4(len) - len);
}

static int put_option(mpq_pcapng *w, uint16_t code, const void *data, uint16_t len)
{
	uint16_t h[2] = {code, len};

	put(w, h, 4);
	return put_padded(w, data, len);
}

static int section_header(mpq_pcapng *w)
{
	/* type, length, magic, version 1.0, section length unknown (-1), length */
	uint32_t b[7] = {MPQ_PCAPNG_SHB, 28, MPQ_PCAPNG_BYTE_ORDER_MAGIC, 1, 0xffffffffu,
			 0xffffffffu,	 28};

	return put(w, b, sizeof(b));
}

int mpq_pcapng_open_sink(mpq_pcapng **out, const mpq_qlog_sink *sink)
{
	mpq_pcapng *w;
	int rv;

	if (!out || !sink || sink->struct_version != MPQ_QLOG_SINK_V1 || !sink->write ||
	    !sink->close)
		return MPQ_ERR_INVALID_ARGUMENT;
	w = calloc(1, sizeof(*w));
	if (!w) {
		sink->close(sink->user_data);
		return MPQ_ERR_NOMEM;
	}
	w->sink = *sink;
	rv = section_header(w);
	if (rv) {
		mpq_pcapng_close(w);
		return rv;
	}
	*out = w;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* A FILE sink that closes the file too. */
struct owned_file {
	mpq_qlog_sink inner;
	FILE *f;
};

static int owned_write(void *ud, const void *data, size_t len)
{
	struct owned_file *o = ud;

	return o->inner.write(o->inner.user_data, data, len);
}

static int owned_flush(void *ud)
{
	struct owned_file *o = ud;

	return o->inner.flush(o->inner.user_data);
}

static int owned_close(void *ud)
{
	struct owned_file *o = ud;
	int rv = o->inner.close(o->inner.user_data);

	if (fclose(o->f) && !rv)
		rv = MPQ_ERR_INTERNAL;
	free(o);
	return rv;
}

int mpq_pcapng_open(mpq_pcapng **out, const char *path)
{
	mpq_qlog_sink sink, file;
	struct owned_file *o;
	FILE *f;
	int fd, rv;

	if (!out || !path || !*path)
		return MPQ_ERR_INVALID_ARGUMENT;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? MPQ_ERR_NOT_FOUND : MPQ_ERR_INTERNAL;
	f = fdopen(fd, "wb");
	o = calloc(1, sizeof(*o));
	if (!f || !o) {
		free(o);
		if (f)
			fclose(f);
		else
			close(fd);
		return MPQ_ERR_NOMEM;
	}
	/* Packets are small: a write(2) per 1 MiB, not per 4 KiB. */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	rv = mpq_qlog_sink_file(&o->inner, f, ends_with(path, ".zst"));
	if (rv) {
		free(o);
		fclose(f);
		return rv;
	}
	o->f = f;
	file = (mpq_qlog_sink){MPQ_QLOG_SINK_VERSION, owned_write, owned_flush, owned_close, o};
	/* Writing to the file (page cache, zstd) on a thread of its own: the
	 * hook of a busy path I/O loop then only copies each record. */
	rv = mpq_qlog_sink_thread(&sink, &file, WRITE_RING);
	if (rv) {
		owned_close(o);
		return rv;
	}
	return mpq_pcapng_open_sink(out, &sink);
}

int mpq_pcapng_add_interface(mpq_pcapng *w, uint16_t linktype, const char *name, uint32_t snaplen)
{
	size_t nlen = name ? strlen(name) : 0;
	uint8_t tsresol = 9; /* 10^-9 s */
	uint32_t *sl, len;
	uint16_t lt[2] = {linktype, 0};

	if (!w || nlen > 255)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (w->n_if >= INT32_MAX)
		return MPQ_ERR_NOBUF;
	sl = realloc(w->snaplen, (w->n_if + 1) * sizeof(*sl));
	if (!sl)
		return MPQ_ERR_NOMEM;
	w->snaplen = sl;
	len = 20 + 4 + 4 + (nlen ? 4 + (uint32_t)pad4(nlen) : 0) + 4;
	put32(w, MPQ_PCAPNG_IDB);
	put32(w, len);
	put(w, lt, 4);
	put32(w, snaplen);
	if (nlen)
		put_option(w, IF_NAME, name, (uint16_t)nlen);
	put_option(w, IF_TSRESOL, &tsresol, 1);
	put_option(w, OPT_ENDOFOPT, NULL, 0);
	if (put32(w, len))
		return w->err;
	sl[w->n_if] = snaplen;
	return (int)w->n_if++;
}

int mpq_pcapng_packet(mpq_pcapng *w, uint32_t iface, uint64_t ts_ns, const void *data,
		      size_t caplen, size_t origlen)
{
	uint32_t b[7], len;

	if (!w || iface >= w->n_if || (caplen && !data) || caplen > origlen ||
	    origlen > UINT32_MAX - 64)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (w->snaplen[iface] && caplen > w->snaplen[iface])
		caplen = w->snaplen[iface];
	len = 32 + (uint32_t)pad4(caplen);
	b[0] = MPQ_PCAPNG_EPB;
	b[1] = len;
	b[2] = iface;
	b[3] = (uint32_t)(ts_ns >> 32);
	b[4] = (uint32_t)ts_ns;
	b[5] = (uint32_t)caplen;
	b[6] = (uint32_t)origlen;
	put(w, b, sizeof(b));
	put_padded(w, data, caplen);
	return put32(w, len);
}

int mpq_pcapng_secrets(mpq_pcapng *w, const void *keylog, size_t len)
{
	uint32_t b[4], total;

	if (!w || (len && !keylog) || len > UINT32_MAX - 64)
		return MPQ_ERR_INVALID_ARGUMENT;
	total = 20 + (uint32_t)pad4(len);
	b[0] = MPQ_PCAPNG_DSB;
	b[1] = total;
	b[2] = MPQ_PCAPNG_SECRETS_TLS;
	b[3] = (uint32_t)len;
	put(w, b, sizeof(b));
	put_padded(w, keylog, len);
	return put32(w, total);
}

int mpq_pcapng_flush(mpq_pcapng *w)
{
	if (!w)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (!w->err && w->sink.flush)
		w->err = w->sink.flush(w->sink.user_data);
	return w->err;
}

int mpq_pcapng_close(mpq_pcapng *w)
{
	int rv;

	if (!w)
		return 0;
	rv = w->sink.close(w->sink.user_data);
	if (w->err)
		rv = w->err;
	free(w->snaplen);
	free(w);
	return rv;
}
