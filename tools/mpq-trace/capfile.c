/*
 * Opening a capture: the whole file into memory, through zstd when it starts
 * with zstd's magic, and the format chosen by the first bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zstd.h>

#include "capfile.h"

static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

int cap_read(const uint8_t *buf, size_t len, const struct cap_sink *sink, struct cap_stats *st)
{
	int rv = cap_read_pcapng(buf, len, sink, st);

	if (rv == CAP_ERR_NOT_CAPTURE && !st->format)
		rv = cap_read_pcap(buf, len, sink, st);
	return rv;
}

static int read_file(FILE *f, uint8_t **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = malloc(cap);

	while (b) {
		size_t got = fread(b + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		uint8_t *nb = realloc(b, cap * 2);
		if (!nb) {
			free(b);
			b = NULL;
			break;
		}
		b = nb;
		cap *= 2;
	}
	if (!b) {
		errno = ENOMEM;
		return CAP_ERR_IO;
	}
	if (ferror(f)) {
		free(b);
		return CAP_ERR_IO;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Decompresses every frame of |in|; the output grows as needed. */
static int unzstd(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer zi = {in, inlen, 0};
	size_t cap = inlen * 4 + 4096, n = 0;
	uint8_t *b = malloc(cap);
	int rv = 0;

	if (!ds || !b) {
		rv = CAP_ERR_IO;
		errno = ENOMEM;
		goto out;
	}
	for (;;) {
		ZSTD_outBuffer zo = {b + n, cap - n, 0};
		size_t r = ZSTD_decompressStream(ds, &zo, &zi);

		if (ZSTD_isError(r)) {
			rv = CAP_ERR_ZSTD;
			goto out;
		}
		n += zo.pos;
		if (n == cap) {
			uint8_t *nb = realloc(b, cap * 2);
			if (!nb) {
				rv = CAP_ERR_IO;
				errno = ENOMEM;
				goto out;
			}
			b = nb;
			cap *= 2;
			continue; /* more output may be pending */
		}
		if (zi.pos == zi.size)
			break;
	}
	/* Whatever a cut stream gave is kept: the readers report the truncation. */
	*out = b;
	*outlen = n;
	b = NULL;
out:
	free(b);
	ZSTD_freeDStream(ds);
	return rv;
}

int cap_load(const char *path, struct cap_data *d)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *raw;
	size_t rawlen;
	bool mapped = false;
	int rv = 0;

	if (!f)
		return CAP_ERR_IO;
	memset(d, 0, sizeof(*d));
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		raw = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
			   fileno(f), 0);
		mapped = raw != MAP_FAILED;
		rawlen = (size_t)st.st_size;
	}
	if (!mapped)
		rv = read_file(f, &raw, &rawlen);
	fclose(f);
	if (rv)
		return rv;
	if (rawlen < sizeof(zstd_magic) || memcmp(raw, zstd_magic, sizeof(zstd_magic))) {
		*d = (struct cap_data){raw, rawlen, mapped};
		return 0;
	}
	rv = unzstd(raw, rawlen, &d->buf, &d->len);
	cap_unload(&(struct cap_data){raw, rawlen, mapped});
	return rv;
}

void cap_unload(struct cap_data *d)
{
	if (d->mapped)
		munmap(d->buf, d->len);
	else
		free(d->buf);
	d->buf = NULL;
}

const char *cap_strerror(int err)
{
	switch (err) {
	case CAP_ERR_NOT_CAPTURE:
		return "not a pcap or pcapng capture (nor a zstd-compressed one)";
	case CAP_ERR_MALFORMED:
		return "malformed capture file";
	case CAP_ERR_IO:
		return strerror(errno);
	case CAP_ERR_ZSTD:
		return "corrupt zstd stream";
	}
	return "capture reader error";
}
