/* Frames held until their departure time: a binary min-heap. */
#include <stdbool.h>
#include <stdlib.h>

#include "heldq.h"

static bool before(const heldq_ent *a, const heldq_ent *b)
{
	return a->depart_ns < b->depart_ns || (a->depart_ns == b->depart_ns && a->seq < b->seq);
}

void heldq_init(heldq *q, size_t max)
{
	q->ents = NULL;
	q->n = q->cap = 0;
	q->max = max;
	q->seq = 0;
}

int heldq_push(heldq *q, uint64_t depart_ns, emu_frame *f)
{
	size_t i;

	if (q->n == q->max)
		return -1;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 256;
		heldq_ent *e = realloc(q->ents, cap * sizeof(*e));

		if (!e)
			return -1;
		q->ents = e;
		q->cap = cap;
	}
	i = q->n++;
	q->ents[i] = (heldq_ent){depart_ns, q->seq++, f};
	while (i && before(&q->ents[i], &q->ents[(i - 1) / 2])) {
		heldq_ent t = q->ents[i];

		q->ents[i] = q->ents[(i - 1) / 2];
		q->ents[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

emu_frame *heldq_pop_due(heldq *q, uint64_t now_ns)
{
	emu_frame *f;
	size_t i = 0;

	if (!q->n || q->ents[0].depart_ns > now_ns)
		return NULL;
	f = q->ents[0].frame;
	q->ents[0] = q->ents[--q->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		heldq_ent t;

		if (l < q->n && before(&q->ents[l], &q->ents[m]))
			m = l;
		if (r < q->n && before(&q->ents[r], &q->ents[m]))
			m = r;
		if (m == i)
			break;
		t = q->ents[i];
		q->ents[i] = q->ents[m];
		q->ents[m] = t;
		i = m;
	}
	return f;
}

uint64_t heldq_next(const heldq *q)
{
	return q->n ? q->ents[0].depart_ns : UINT64_MAX;
}

size_t heldq_flush(heldq *q)
{
	size_t n = q->n;

	for (size_t i = 0; i < q->n; i++)
		free(q->ents[i].frame);
	q->n = 0;
	return n;
}

void heldq_free(heldq *q)
{
	heldq_flush(q);
	free(q->ents);
	q->ents = NULL;
	q->cap = 0;
}
