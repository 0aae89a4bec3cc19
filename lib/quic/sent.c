/* Sent packets of one packet number space: see sent.h. */
#include <stdlib.h>
#include <string.h>

#include "mpq/mpq.h"
#include "quic/sent.h"

int mpq_sent_init(mpq_sent *s, size_t cap)
{
	size_t c = 16;
	while (c < cap)
		c <<= 1;
	memset(s, 0, sizeof(*s));
	s->v = calloc(c, sizeof(*s->v));
	if (!s->v)
		return MPQ_ERR_NOMEM;
	s->cap = c;
	return 0;
}

void mpq_sent_free(mpq_sent *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int grow(mpq_sent *s)
{
	mpq_sent_pkt *v = calloc(s->cap * 2, sizeof(*v));
	if (!v)
		return MPQ_ERR_NOMEM;
	for (size_t i = 0; i < s->n; i++)
		v[i] = *mpq_sent_at(s, i);
	free(s->v);
	s->v = v;
	s->cap *= 2;
	s->head = 0;
	return 0;
}

mpq_sent_pkt *mpq_sent_add(mpq_sent *s, uint64_t pn)
{
	if (s->n == 0)
		s->first_pn = pn;
	/* Packet numbers of one space are contiguous; a gap would break the index. */
	if (pn != s->first_pn + s->n)
		return NULL;
	if (s->n == s->cap && grow(s) != 0)
		return NULL;
	mpq_sent_pkt *p = mpq_sent_at(s, s->n++);
	memset(p, 0, sizeof(*p));
	p->pn = pn;
	return p;
}

mpq_sent_pkt *mpq_sent_find(mpq_sent *s, uint64_t pn)
{
	if (s->n == 0 || pn < s->first_pn || pn - s->first_pn >= s->n)
		return NULL;
	mpq_sent_pkt *p = mpq_sent_at(s, (size_t)(pn - s->first_pn));
	return (p->flags & MPQ_SENT_DONE) ? NULL : p;
}

void mpq_sent_done(mpq_sent *s, mpq_sent_pkt *p)
{
	p->flags |= MPQ_SENT_DONE;
	while (s->n > 0 && (mpq_sent_at(s, 0)->flags & MPQ_SENT_DONE)) {
		s->head = (s->head + 1) & (s->cap - 1);
		s->n--;
		s->first_pn++;
	}
}

void mpq_sent_clear(mpq_sent *s)
{
	s->first_pn += s->n;
	s->head = 0;
	s->n = 0;
}
