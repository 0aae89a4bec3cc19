/*
 * Key log lines (mpq/dissect.h) are "LABEL <client random, 64 hex> <secret,
 * hex>". Only the TLS 1.3 labels QUIC needs are kept; one entry per client
 * random, found through a hash index (a server's key log holds a connection
 * per line or five: a search through every entry per line made reading one
 * quadratic). Text only: reading the file is the caller's.
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
	size_t *index;	  /* open addressing: entry number + 1, 0 empty */
	size_t index_cap; /* a power of two, at least twice n */
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

/* FNV-1a over the whole random: a crafted file may vary any of its bytes. */
static size_t hash_random(const uint8_t random[32])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < 32; i++)
		h = (h ^ random[i]) * 0x100000001b3ULL;
	return (size_t)(h ^ h >> 32);
}

/* The index slot of |random|: its entry's, or the empty one it would take. */
static size_t *slot_of(const mpq_keylog *kl, const uint8_t random[32])
{
	size_t mask = kl->index_cap - 1, i = hash_random(random) & mask;

	while (kl->index[i] && memcmp(kl->entries[kl->index[i] - 1].random, random, 32))
		i = (i + 1) & mask;
	return &kl->index[i];
}

static int index_grow(mpq_keylog *kl)
{
	size_t cap = kl->index_cap ? kl->index_cap * 2 : 32, *old = kl->index;

	kl->index = calloc(cap, sizeof(*kl->index));
	if (!kl->index) {
		kl->index = old;
		return MPQ_ERR_NOMEM;
	}
	kl->index_cap = cap;
	for (size_t i = 0; i < kl->n; i++)
		*slot_of(kl, kl->entries[i].random) = i + 1;
	free(old);
	return 0;
}

static struct keylog_entry *entry(mpq_keylog *kl, const uint8_t random[32])
{
	size_t *slot;

	if ((kl->n + 1) * 2 > kl->index_cap && index_grow(kl))
		return NULL;
	slot = slot_of(kl, random);
	if (*slot)
		return &kl->entries[*slot - 1];
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
	*slot = ++kl->n;
	return &kl->entries[kl->n - 1];
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
	size_t slot = which < MPQ_KEYLOG_NLABELS && kl->n ? *slot_of(kl, random) : 0;
	const struct keylog_entry *e = slot ? &kl->entries[slot - 1] : NULL;

	if (e && e->len[which]) {
		*len = e->len[which];
		return e->secret[which];
	}
	*len = 0;
	return NULL;
}

void mpq_keylog_free(mpq_keylog *kl)
{
	if (!kl)
		return;
	free(kl->index);
	free(kl->entries);
	free(kl);
}
