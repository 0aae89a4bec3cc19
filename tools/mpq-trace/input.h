/*
 * Feeding a capture file to the decoder: the key log file first, then the
 * capture's records in order (its secrets blocks as they come), each UDP
 * datagram to trace_datagram.
 */
#ifndef MPQ_TRACE_INPUT_H
#define MPQ_TRACE_INPUT_H

#include <stdint.h>

#include "capfile.h"
#include "trace.h"

struct trace_input {
	const char *capture;
	const char *keylog;	/* NULL: only the capture's secrets */
	struct cap_stats st;
	uint64_t udp, other, malformed_frames;
};

/* Reads everything, printing one line per problem. Returns TOOL_EXIT_OK or
 * TOOL_EXIT_USAGE (the key log unreadable, or nothing could be read from the
 * capture: not one, or unreadable). */
int trace_input_run(struct trace_input *in, struct trace *t);

#endif
