/*
 * Feeding a capture file to the decoder: the key log file first, then the
 * capture's records in order (its secrets blocks as they come), each UDP
 * datagram to trace_datagram.
 */
#ifndef MPQ_TRACE_INPUT_H
#define MPQ_TRACE_INPUT_H

#include <stdint.h>

#include "capfile.h"
#include "common/opts.h"
#include "trace.h"

struct trace_input {
	const char *capture;
	const char *keylog; /* NULL: only the capture's secrets */
	struct cap_stats st;
	uint64_t udp, other, malformed_frames;
	uint64_t cut; /* frames cut by the snap length (not decoded) */
};

/* The options of every subcommand that decodes a capture, for an options
 * struct with "const char *keylog" and "uint64_t port". */
#define TRACE_INPUT_OPTIONS(type) \
	{"keylog", \
	 NULL, \
	 0, \
	 "FILE", \
	 TOOL_O_STR(type, keylog), \
	 .help = "TLS key log (SSLKEYLOGFILE format); the capture's own\n" \
		 "Decryption Secrets Blocks are used too"}, \
	{ \
		"port", NULL, 0, "N", TOOL_O_UINT(type, port, 1, 65535), \
			.help = "only datagrams to or from this UDP port (default: all)" \
	}

/* Takes the one CAPTURE operand (argv[first], the last) and the options into
 * |in| and |t|. Returns 0, or TOOL_EXIT_USAGE after one line naming |cmd|. */
int trace_input_args(struct trace_input *in, struct trace *t, const char *cmd, int argc,
		     char **argv, int first, const char *keylog, uint64_t port);

/* Reads everything, printing one line per problem. Returns TOOL_EXIT_OK or
 * TOOL_EXIT_USAGE (the key log unreadable, or nothing could be read from the
 * capture: not one, or unreadable). */
int trace_input_run(struct trace_input *in, struct trace *t);

#endif
