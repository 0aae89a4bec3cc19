/*
 * Key log lines (mpq/dissect.h) are "LABEL <client random, 64 hex> <secret,
 * hex>". Only the TLS 1.3 labels QUIC needs are kept; one entry per client
 * random. Text only: reading the file is the caller's.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/dissect.h"
#include "quic/crypto.h"

struct keylog_entry {
	uint8_t random[32];
	uint8_t len[MPQ_KEYLOG_NLABELS]; /* 0: not known */
	uint8_t secret[MPQ_KEYLOG_NLABELS][MPQ_MAX_SECRETLEN];
};

struct mpq_keylog {
	struct keylog_entry *entries;
	size_t n, cap;
	uint64_t lines, bad_lines;
};

static const char *const labels[MPQ_KEYLOG_NLABELS] = {
	[MPQ_KEYLOG_CLIENT_EARLY] = "CLIENT_EARLY_TRAFFIC_SECRET",
	[MPQ_KEYLOG_CLIENT_HANDSHAKE] = "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	[MPQ_KEYLOG_SERVER_HANDSHAKE] = "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	[MPQ_KEYLOG_CLIENT_TRAFFIC_0] = "CLIENT_TRAFFIC_SECRET_0",
	[MPQ_KEYLOG_SERVER_TRAFFIC_0] = "SERVER_TRAFFIC_SECRET_0",
};

int mpq_keylog_new(mpq_keylog **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : MPQ_ERR_NOMEM;
}

void mpq_keylog_counts(const mpq_keylog *kl, uint64_t *lines, uint64_t *bad_lines, size_t *randoms)
{
	if (lines)
		*lines = kl->lines;
	if (bad_lines)
		*bad_lines = kl->bad_lines;
	if (randoms)
		*randoms = kl->n;
}

static int hexval(char c)
{
	if (!isxdigit((unsigned char)c))
		return -1;
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Decodes the hex word at |*p| (up to |end|) into |out| (at most |max|
 * bytes). Returns the byte count, or -1. */
static int unhex(const char **p, const char *end, uint8_t *out, size_t max)
{
	const char *s = *p;
	size_t n = 0;

	while (s + 1 < end && hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
		if (n == max)
			return -1;
		out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
		s += 2;
	}
	if (s < end && *s != ' ' && *s != '\t' && *s != '\r')
		return -1;
	*p = s;
	return (int)n;
}

static struct keylog_entry *entry(mpq_keylog *kl, const uint8_t random[32])
{
	for (size_t i = 0; i < kl->n; i++)
		if (!memcmp(kl->entries[i].random, random, 32))
			return &kl->entries[i];
	if (kl->n == kl->cap) {
		size_t cap = kl->cap ? kl->cap * 2 : 16;
		struct keylog_entry *e = realloc(kl->entries, cap * sizeof(*e));

		if (!e)
			return NULL;
		kl->entries = e;
		kl->cap = cap;
	}
	memset(&kl->entries[kl->n], 0, sizeof(kl->entries[0]));
	memcpy(kl->entries[kl->n].random, random, 32);
	return &kl->entries[kl->n++];
}

static int add_line(mpq_keylog *kl, const char *s, const char *end)
{
	uint8_t random[32], secret[MPQ_MAX_SECRETLEN];
	struct keylog_entry *e;
	int which = -1, n;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || *s == '#' || *s == '\r')
		return 0;
	kl->lines++;
	for (int i = 0; i < MPQ_KEYLOG_NLABELS; i++) {
		size_t l = strlen(labels[i]);

		if ((size_t)(end - s) > l && !memcmp(s, labels[i], l) && s[l] == ' ') {
			which = i;
			s += l + 1;
			break;
		}
	}
	if (which < 0)
		return 0; /* TLS 1.2 or another label: not for QUIC */
	if (unhex(&s, end, random, sizeof(random)) != 32 || s == end) {
		kl->bad_lines++;
		return 0;
	}
	s++;
	n = unhex(&s, end, secret, sizeof(secret));
	if (n != 32 && n != 48) {
		kl->bad_lines++;
		return 0;
	}
	e = entry(kl, random);
	if (!e)
		return MPQ_ERR_NOMEM;
	memcpy(e->secret[which], secret, (size_t)n);
	e->len[which] = (uint8_t)n;
	return 0;
}

int mpq_keylog_add(mpq_keylog *kl, const char *text, size_t len)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		const char *eol = nl ? nl : end;
		int rv = add_line(kl, text, eol);

		if (rv)
			return rv;
		text = nl ? nl + 1 : end;
	}
	return 0;
}

const uint8_t *mpq_keylog_find(const mpq_keylog *kl, const uint8_t random[32],
			       enum mpq_keylog_label which, size_t *len)
{
	for (size_t i = 0; which < MPQ_KEYLOG_NLABELS && i < kl->n; i++) {
		const struct keylog_entry *e = &kl->entries[i];

		if (!memcmp(e->random, random, 32) && e->len[which]) {
			*len = e->len[which];
			return e->secret[which];
		}
	}
	*len = 0;
	return NULL;
}

void mpq_keylog_free(mpq_keylog *kl)
{
	if (!kl)
		return;
	free(kl->entries);
	free(kl);
}
