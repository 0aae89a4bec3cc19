/*
 * What the capture reader harnesses check on every record and secrets block:
 * the reader's pointers stay inside the input, and the UDP decoder's inside
 * the record.
 */
#ifndef MPQ_FUZZ_CAPREAD_H
#define MPQ_FUZZ_CAPREAD_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "../tools/mpq-trace/capfile.h"
#include "../tools/mpq-trace/udpdecode.h"

struct fuzz_span {
	const uint8_t *data;
	size_t len;
};

static int fuzz_packet(void *user, const struct cap_record *rec)
{
	const struct fuzz_span *in = user;
	struct cap_udp u;

	CHECK(rec->data >= in->data && rec->caplen <= in->len);
	CHECK(rec->data + rec->caplen <= in->data + in->len);
	if (cap_udp_decode(rec->linktype, rec->data, rec->caplen, &u) == CAP_UDP_OK) {
		CHECK(u.payload >= rec->data && u.payload + u.len <= rec->data + rec->caplen);
	}
	return 0;
}

static int fuzz_secrets(void *user, uint32_t type, const uint8_t *data, size_t len)
{
	const struct fuzz_span *in = user;

	CHECK(data >= in->data && data + len <= in->data + in->len);
	return 0;
}

static void fuzz_read(int (*reader)(const uint8_t *, size_t, const struct cap_sink *,
				    struct cap_stats *),
		      const uint8_t *data, size_t size)
{
	struct fuzz_span in = {data, size};
	struct cap_sink sink = {fuzz_packet, fuzz_secrets, &in};
	struct cap_stats st = {0};
	int rv = reader(data, size, &sink, &st);

	CHECK(rv == 0 || rv == CAP_ERR_NOT_CAPTURE || rv == CAP_ERR_MALFORMED);
}

#endif
