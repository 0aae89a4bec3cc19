/* Hex test vectors (as printed in RFCs) to bytes. */
#ifndef MPQ_TEST_HEX_H
#define MPQ_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decodes |hex| into |out|, skipping whitespace. Fails the running cmocka test
 * on a bad digit, an odd count or more than |cap| bytes. Returns the byte count. */
size_t test_unhex(const char *hex, uint8_t *out, size_t cap);

#endif
