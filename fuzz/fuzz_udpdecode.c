/*
 * The link/IP/UDP decoder (tools/mpq-trace/udpdecode.c) on any frame: the
 * first byte picks the link type.
 */
#include "fuzz_capread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t links[] = {
		CAP_LINK_NULL,	     MPQ_LINKTYPE_ETHERNET, MPQ_LINKTYPE_RAW, CAP_LINK_LINUX_SLL,
		CAP_LINK_LINUX_SLL2, CAP_LINK_IPV4,	    CAP_LINK_IPV6,
	};
	struct cap_record rec = {0};
	struct fuzz_span in = {data, size};

	if (size < 1)
		return 0;
	rec.linktype = links[data[0] % (sizeof(links) / sizeof(links[0]))];
	rec.data = data + 1;
	rec.caplen = size - 1;
	fuzz_packet(&in, &rec);
	return 0;
}
