/* Connection IDs of one path ID: see cids.h. */
#include <string.h>

#include "quic/cid.h"
#include "quic/cids.h"

void mpq_cidset_init_local(mpq_cidset *s, const mpq_cid *cid, const uint8_t *token)
{
	memset(s, 0, sizeof(*s));
	s->v[0].cid = *cid;
	if (token) {
		memcpy(s->v[0].token, token, 16);
		s->v[0].has_token = true;
	}
	s->n = 1;
	s->next_seq = 1;
}

void mpq_cidset_init_peer(mpq_cidset *s, const mpq_cid *cid)
{
	memset(s, 0, sizeof(*s));
	s->v[0].cid = *cid;
	s->n = 1;
}

mpq_cid_entry *mpq_cidset_find(mpq_cidset *s, uint64_t seq)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].seq == seq)
			return &s->v[i];
	return NULL;
}

mpq_cid_entry *mpq_cidset_issue(mpq_cidset *s, const mpq_cid *cid, const uint8_t token[16])
{
	if (s->n == MPQ_CIDS_MAX)
		return NULL;
	mpq_cid_entry *e = &s->v[s->n++];
	memset(e, 0, sizeof(*e));
	e->seq = s->next_seq++;
	e->cid = *cid;
	memcpy(e->token, token, 16);
	e->has_token = true;
	e->pending = true;
	return e;
}

static void remove_at(mpq_cidset *s, size_t i)
{
	const mpq_cid_entry *in_use = &s->v[s->in_use];
	uint64_t in_use_seq = in_use->seq;
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(s->v[0]));
	s->n--;
	for (size_t k = 0; k < s->n; k++)
		if (s->v[k].seq == in_use_seq)
			s->in_use = k;
}

int mpq_cidset_retire_local(mpq_cidset *s, uint64_t seq, mpq_cid *out)
{
	if (seq >= s->next_seq)
		return MPQ_ERR_PROTO; /* RFC 9000 §19.16 */
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].seq == seq) {
			*out = s->v[i].cid;
			remove_at(s, i);
			return 0;
		}
	}
	return MPQ_ERR_NOT_FOUND;
}

static size_t active_count(const mpq_cidset *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += !s->v[i].retired;
	return n;
}

int mpq_cidset_on_new(mpq_cidset *s, uint64_t seq, uint64_t retire_prior_to, const mpq_cid *cid,
		      const uint8_t token[16], size_t limit)
{
	mpq_cid_entry *known = mpq_cidset_find(s, seq);
	if (known) {
		/* A repeat must be identical (RFC 9000 §19.15). */
		if (!mpq_cid_eq(&known->cid, cid) ||
		    (known->has_token && memcmp(known->token, token, 16) != 0))
			return MPQ_ERR_PROTO;
		return 0;
	}
	for (size_t i = 0; i < s->n; i++)
		if (mpq_cid_eq(&s->v[i].cid, cid))
			return MPQ_ERR_PROTO; /* one CID, two sequence numbers */
	if (retire_prior_to > s->retire_prior_to)
		s->retire_prior_to = retire_prior_to;
	if (s->n == MPQ_CIDS_MAX)
		return MPQ_ERR_CONNECTION_ID_LIMIT;
	mpq_cid_entry *e = &s->v[s->n++];
	memset(e, 0, sizeof(*e));
	e->seq = seq;
	e->cid = *cid;
	memcpy(e->token, token, 16);
	e->has_token = true;
	/* Everything below Retire Prior To is to be retired, the new one too. */
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].seq < s->retire_prior_to && !s->v[i].retired) {
			s->v[i].retired = true;
			s->v[i].pending = true;
		}
	}
	if (s->v[s->in_use].retired && mpq_cidset_rotate(s) != 0)
		return MPQ_ERR_PROTO; /* the peer retired every CID it gave us */
	if (active_count(s) > limit)
		return MPQ_ERR_CONNECTION_ID_LIMIT;
	return 0;
}

void mpq_cidset_forget_peer(mpq_cidset *s, uint64_t seq)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].seq == seq && s->v[i].retired && i != s->in_use) {
			remove_at(s, i);
			return;
		}
	}
}

int mpq_cidset_rotate(mpq_cidset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (i != s->in_use && !s->v[i].retired) {
			/* The old one is retired once we stop using it (RFC 9000 §5.1.2). */
			if (!s->v[s->in_use].retired) {
				s->v[s->in_use].retired = true;
				s->v[s->in_use].pending = true;
			}
			s->in_use = i;
			return 0;
		}
	}
	return MPQ_ERR_NOT_FOUND;
}

bool mpq_cidset_is_reset_token(const mpq_cidset *s, const uint8_t token[16])
{
	bool hit = false;
	for (size_t i = 0; i < s->n; i++) {
		uint8_t diff = 0;
		for (size_t k = 0; k < 16; k++)
			diff |= s->v[i].token[k] ^ token[k];
		hit |= s->v[i].has_token && diff == 0;
	}
	return hit;
}
