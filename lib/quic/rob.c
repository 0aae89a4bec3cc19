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
	rob->ring = malloc(max_buffered);
	if (!rob->ring) {
		mpq_ranges_free(&rob->have);
		return MPQ_ERR_NOMEM;
	}
	rob->size = max_buffered;
	return 0;
}

void mpq_rob_free(mpq_rob *rob)
{
	free(rob->ring);
	mpq_ranges_free(&rob->have);
	memset(rob, 0, sizeof(*rob));
}

/* Copies bytes for [offset, offset + len) into the ring, in two pieces when
 * they cross its end. len <= size. */
static void copy_in(mpq_rob *rob, uint64_t offset, const uint8_t *data, size_t len)
{
	size_t at = (size_t)(offset % rob->size);
	size_t first = rob->size - at < len ? rob->size - at : len;

	memcpy(rob->ring + at, data, first);
	memcpy(rob->ring, data + first, len - first);
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
	if (end - rob->read_offset > rob->size)
		return MPQ_ERR_NOBUF;
	if (offset < rob->read_offset) {
		size_t skip = (size_t)(rob->read_offset - offset);
		data += skip;
		len -= skip;
		offset = rob->read_offset;
	}
	/* Record first: if the run set is full, nothing has changed. */
	int rv = mpq_ranges_add(&rob->have, offset, end - 1);
	if (rv < 0)
		return rv;
	copy_in(rob, offset, data, len);
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
