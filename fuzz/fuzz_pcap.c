/*
 * The classic pcap reader (tools/mpq-trace/pcap.c) on any bytes, and the UDP
 * decoder on every record it yields.
 */
#include "fuzz_capread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read(cap_read_pcap, data, size);
	return 0;
}
