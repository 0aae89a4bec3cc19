/*
 * Reassembly buffer driven by a script: pushes of a known byte pattern at
 * chosen offsets, and consumes. A bitmap model says which bytes are present;
 * after every step the readable span must match the model exactly and every
 * byte read must equal the pattern.
 *
 * Input: byte 0 picks the buffer size; then 5-byte records
 * [op][a:16][b:16]. op bit 0 clear: push b % 4400 bytes at read_offset + a - 256
 * (floored at 0). op bit 0 set: consume; bit 1 picks b % (readable + 1) bytes
 * (may cross the ring end), else the peeked span; bit 2 also tries one byte too many.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "quic/rob.h"

#define MODEL 8192 /* > any buffer size: present bytes fit in the model's window */
#define MAX_PUSH 4400

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pattern(uint64_t o)
{
	return (uint8_t)((o * 0x9e3779b97f4a7c15ULL) >> 56);
}

struct model {
	uint8_t present[MODEL]; /* indexed by offset % MODEL */
	size_t size;
};

static size_t model_run(const struct model *m, uint64_t from)
{
	size_t n = 0;
	while (n < m->size && m->present[(from + n) % MODEL])
		n++;
	return n;
}

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void do_push(mpq_rob *rob, struct model *m, uint64_t offset, size_t len)
{
	static uint8_t buf[MAX_PUSH];
	uint64_t rd = mpq_rob_read_offset(rob);

	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(offset + i);
	int rv = mpq_rob_push(rob, offset, buf, len);
	if (len && offset + len > rd + m->size) {
		check(rv == MPQ_ERR_NOBUF);
		return;
	}
	/* Data inside the window is taken however finely it is cut. */
	check(rv == 0);
	for (uint64_t o = offset > rd ? offset : rd; o < offset + len; o++)
		m->present[o % MODEL] = 1;
}

static void do_consume(mpq_rob *rob, struct model *m, uint8_t op, uint16_t b)
{
	uint64_t rd = mpq_rob_read_offset(rob);
	size_t run = model_run(m, rd);
	const uint8_t *p;
	size_t n = mpq_rob_peek(rob, &p);

	if (op & 4)
		check(mpq_rob_consume(rob, run + 1) == MPQ_ERR_INVALID_ARGUMENT);
	if (op & 2)
		n = b % (run + 1);
	check(mpq_rob_consume(rob, n) == 0);
	for (size_t i = 0; i < n; i++)
		m->present[(rd + i) % MODEL] = 0;
	check(mpq_rob_read_offset(rob) == rd + n);
}

/* The peeked span is exactly what the model predicts, and holds the pattern.
 * It stops at the end of the ring as it is now: the ring grows towards
 * m->size as data lands further ahead, so its end is rob->size. */
static void check_peek(const mpq_rob *rob, const struct model *m)
{
	uint64_t rd = mpq_rob_read_offset(rob);
	check(rob->size <= m->size);
	size_t to_end = rob->size - (size_t)(rd % rob->size);
	size_t run = model_run(m, rd);
	const uint8_t *p;
	size_t n = mpq_rob_peek(rob, &p);

	check(n == (run < to_end ? run : to_end));
	for (size_t i = 0; i < n; i++)
		check(p[i] == pattern(rd + i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	mpq_rob rob;

	if (size < 1)
		return 0;
	memset(&m, 0, sizeof(m));
	m.size = 1 + (size_t)data[0] * 16;
	if (mpq_rob_init(&rob, m.size) != 0)
		return 0;
	for (size_t i = 1; i + 5 <= size; i += 5) {
		uint8_t op = data[i];
		uint16_t a = (uint16_t)(data[i + 1] << 8 | data[i + 2]);
		uint16_t b = (uint16_t)(data[i + 3] << 8 | data[i + 4]);
		uint64_t rd = mpq_rob_read_offset(&rob);

		if (op & 1)
			do_consume(&rob, &m, op, b);
		else
			do_push(&rob, &m, rd + a >= 256 ? rd + a - 256 : 0, b % MAX_PUSH);
		check_peek(&rob, &m);
	}
	mpq_rob_free(&rob);
	return 0;
}
