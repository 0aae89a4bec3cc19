/* Reassembly buffer: a ring of bytes plus the set of offsets present. See rob.h. */
#include <stdlib.h>
#include <string.h>

#include "rob.h"

int mpq_rob_init(mpq_rob *rob, size_t max_buffered)
{
	memset(rob, 0, sizeof(*rob));
	if (max_buffered == 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	int rv = mpq_ranges_init(&rob->have, MPQ_ROB_MAX_RUNS(max_buffered));
	if (rv)
		return rv;
	size_t size = max_buffered < MPQ_ROB_FIRST_SIZE ? max_buffered : MPQ_ROB_FIRST_SIZE;
	rob->ring = malloc(size);
	if (!rob->ring) {
		mpq_ranges_free(&rob->have);
		return MPQ_ERR_NOMEM;
	}
	rob->size = size;
	rob->max = max_buffered;
	return 0;
}

void mpq_rob_free(mpq_rob *rob)
{
	free(rob->ring);
	mpq_ranges_free(&rob->have);
	memset(rob, 0, sizeof(*rob));
}

/* Copies bytes for [offset, offset + len) into a ring of |size|, in two
 * pieces when they cross its end. len <= size. */
static void copy_in(uint8_t *ring, size_t size, uint64_t offset, const uint8_t *data, size_t len)
{
	size_t at = (size_t)(offset % size);
	size_t first = size - at < len ? size - at : len;

	memcpy(ring + at, data, first);
	memcpy(ring, data + first, len - first);
}

/* A ring of at least |need| bytes (at most max), the data present moved in. */
static int grow(mpq_rob *rob, uint64_t need)
{
	size_t size = rob->size;
	while (size < need)
		size = size > rob->max / 2 ? rob->max : size * 2;
	uint8_t *ring = malloc(size);
	if (!ring)
		return MPQ_ERR_NOMEM;
	for (size_t i = 0; i < mpq_ranges_count(&rob->have); i++) {
		const mpq_range *r = mpq_ranges_top(&rob->have, i);
		/* Each run in at most two pieces of the old ring. */
		for (uint64_t off = r->lo; off <= r->hi;) {
			size_t at = (size_t)(off % rob->size);
			uint64_t left = r->hi - off + 1;
			size_t n = left < rob->size - at ? (size_t)left : rob->size - at;
			copy_in(ring, size, off, rob->ring + at, n);
			off += n;
		}
	}
	free(rob->ring);
	rob->ring = ring;
	rob->size = size;
	return 0;
}

int mpq_rob_push(mpq_rob *rob, uint64_t offset, const uint8_t *data, size_t len)
{
	uint64_t end = offset + len;

	if (len == 0)
		return 0;
	if (end < offset)
		return MPQ_ERR_NOBUF; /* wraps 2^64: past any window */
	if (end <= rob->read_offset)
		return 0;
	if (end - rob->read_offset > rob->max)
		return MPQ_ERR_NOBUF;
	if (offset < rob->read_offset) {
		size_t skip = (size_t)(rob->read_offset - offset);
		data += skip;
		len -= skip;
		offset = rob->read_offset;
	}
	/* Record first: if the run set is full, nothing has changed. */
	int rv = 0;
	if (end - rob->read_offset > rob->size)
		rv = grow(rob, end - rob->read_offset);
	if (rv == 0)
		rv = mpq_ranges_add(&rob->have, offset, end - 1);
	if (rv < 0)
		return rv;
	copy_in(rob->ring, rob->size, offset, data, len);
	return 0;
}

/* Bytes present from the read offset on without a hole. */
static size_t readable(const mpq_rob *rob)
{
	size_t n = mpq_ranges_count(&rob->have);
	if (n == 0)
		return 0;
	const mpq_range *low = mpq_ranges_top(&rob->have, n - 1);
	if (low->lo != rob->read_offset)
		return 0;
	return (size_t)(low->hi - low->lo + 1);
}

size_t mpq_rob_peek(const mpq_rob *rob, const uint8_t **data)
{
	size_t at = (size_t)(rob->read_offset % rob->size);
	size_t n = readable(rob);

	*data = rob->ring + at;
	return rob->size - at < n ? rob->size - at : n;
}

int mpq_rob_consume(mpq_rob *rob, size_t n)
{
	if (n > readable(rob))
		return MPQ_ERR_INVALID_ARGUMENT;
	rob->read_offset += n;
	mpq_ranges_remove_below(&rob->have, rob->read_offset);
	return 0;
}

int mpq_rob_skip_to(mpq_rob *rob, uint64_t offset)
{
	if (offset < rob->read_offset)
		return MPQ_ERR_INVALID_ARGUMENT;
	rob->read_offset = offset;
	mpq_ranges_remove_below(&rob->have, offset);
	return 0;
}
