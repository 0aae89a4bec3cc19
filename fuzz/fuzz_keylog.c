/*
 * Key log text (mpq_keylog, lib/quic/keylog.c): SSLKEYLOGFILE files and
 * pcapng decryption secrets blocks, read by mpq-trace from a file or a
 * capture. The input is added in two parts (a line may be cut between them),
 * then the client random of each line that has one is looked up for every
 * label and its secrets installed into connection keys, as mpq-trace does.
 * What is found must be a 32- or 48-byte secret; counts must add up.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "mpq/dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The 32 bytes of hex after the first space of the line at |s|, if any. */
static int line_random(const char *s, const char *end, uint8_t random[32])
{
	const char *sp = memchr(s, ' ', (size_t)(end - s));

	if (!sp || end - sp < 65)
		return -1;
	for (int i = 0; i < 32; i++) {
		int hi = hexval(sp[1 + 2 * i]), lo = hexval(sp[2 + 2 * i]);

		if (hi < 0 || lo < 0)
			return -1;
		random[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void lookup(const mpq_keylog *kl, const uint8_t random[32])
{
	static const mpq_cid dcid = {8, {1, 2, 3, 4, 5, 6, 7, 8}};
	mpq_dissect_keys *k;

	for (int l = 0; l <= MPQ_KEYLOG_NLABELS; l++) {
		size_t len = 1;
		const uint8_t *s = mpq_keylog_find(kl, random, (enum mpq_keylog_label)l, &len);

		CHECK(s ? len == 32 || len == 48 : len == 0);
		CHECK(l < MPQ_KEYLOG_NLABELS || !s);
	}
	if (mpq_dissect_keys_new(&k, MPQ_VERSION_1, &dcid) != 0)
		return;
	CHECK(mpq_dissect_keys_from_keylog(k, kl, random) <= MPQ_KEYLOG_NLABELS);
	mpq_dissect_keys_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;
	size_t cut = size ? data[0] % (size + 1) : 0, randoms, lookups = 0;
	uint64_t lines, bad;
	mpq_keylog *kl;

	if (mpq_keylog_new(&kl) != 0)
		return 0;
	if (mpq_keylog_add(kl, text, cut) == 0 &&
	    mpq_keylog_add(kl, text + cut, size - cut) == 0) {
		mpq_keylog_counts(kl, &lines, &bad, &randoms);
		CHECK(bad <= lines && randoms <= lines);
		for (const char *s = text; s < end && lookups < 64; lookups++) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			const char *eol = nl ? nl : end;
			uint8_t random[32];

			if (line_random(s, eol, random) == 0)
				lookup(kl, random);
			s = nl ? nl + 1 : end;
		}
	}
	mpq_keylog_free(kl);
	return 0;
}
