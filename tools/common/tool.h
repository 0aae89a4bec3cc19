/*
 * What every mpquic tool shares: the exit statuses of CLI.md, one-line
 * messages on stderr prefixed with the program's name, and the clock and
 * randomness the connection needs from its caller.
 */
#ifndef MPQ_TOOL_H
#define MPQ_TOOL_H

#include <stddef.h>
#include <stdint.h>

/* Exit statuses (CLI.md). */
enum tool_exit {
	TOOL_EXIT_OK = 0,    /* everything worked */
	TOOL_EXIT_FAIL = 1,  /* client: some URL failed; server: could not start or run */
	TOOL_EXIT_USAGE = 2, /* bad command line or bad input named on it */
	TOOL_EXIT_CONN = 3,  /* client: the connection failed */
};

/* "prog: message\n" on stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: warning: message\n" on stderr. */
void tool_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* mpq_rand_fn on OpenSSL's RAND_bytes; aborts the process if it fails,
 * since nothing can continue without randomness. */
void tool_rand(uint8_t *dest, size_t len, void *user_data);

/* A byte count for people: "512 B", "1.5 kB", "20.0 MB" (powers of 1000). */
void tool_fmt_bytes(char *buf, size_t len, uint64_t bytes);

/* Lowercase hex of |len| bytes into |out| (2 * len + 1 bytes). */
void tool_hex(char *out, const uint8_t *data, size_t len);

#endif
