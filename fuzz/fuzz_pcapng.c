/*
 * The pcapng reader (tools/mpq-trace/pcapng.c) on any bytes: sections,
 * interfaces, packet and Decryption Secrets Blocks; the UDP decoder on every
 * record it yields.
 */
#include "fuzz_capread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read(cap_read_pcapng, data, size);
	return 0;
}
