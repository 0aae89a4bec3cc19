/* Hex test vectors to bytes: see hex.h. */
#include "hex.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	fail_msg("bad hex digit '%c'", c);
	return -1;
}

size_t test_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		if (isspace((unsigned char)*hex))
			continue;
		int v = nibble(*hex);
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}
