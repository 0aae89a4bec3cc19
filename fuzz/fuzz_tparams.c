/*
 * Transport parameters: decode the input as a server's and as a client's list.
 * Whatever decodes must encode (in the same role) and decode back to the same
 * struct, byte for byte (mpq_tparams_default zeroes padding).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "quic/tparams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const uint8_t *data, size_t size, bool from_server)
{
	mpq_tparams a, b;
	uint8_t buf[1024];

	if (mpq_tparams_decode(&a, data, size, from_server) != 0)
		return;
	int n = mpq_tparams_encode(buf, sizeof(buf), &a, from_server);
	if (n < 0 || mpq_tparams_decode(&b, buf, (size_t)n, from_server) != 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip(data, size, true);
	round_trip(data, size, false);
	return 0;
}
