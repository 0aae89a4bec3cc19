/*
 * Loads of the integers capture files hold, in the byte order their header
 * announced (pcap and pcapng are written in the writer's host order).
 */
#ifndef MPQ_TRACE_CAPBYTES_H
#define MPQ_TRACE_CAPBYTES_H

#include <stdbool.h>
#include <stdint.h>

static inline uint16_t cap_u16(const uint8_t *p, bool be)
{
	return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t cap_u32(const uint8_t *p, bool be)
{
	if (be)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

#endif
