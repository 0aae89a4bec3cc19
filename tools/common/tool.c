/* Messages, randomness and small formatting helpers shared by the tools: see tool.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/rand.h>

#include "tool.h"

static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024], *big = NULL;
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	/* A long URL must not cut off the reason that follows it. */
	if (n >= (int)sizeof(line) && vasprintf(&big, fmt, again) < 0)
		big = NULL;
	va_end(again);
	/* One write, so lines from two processes sharing stderr do not interleave. */
	fprintf(stderr, "%s: %s%s\n", program_invocation_short_name, prefix, big ? big : line);
	free(big);
}

void tool_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

void tool_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}

void tool_rand(uint8_t *dest, size_t len, void *user_data)
{
	(void)user_data;
	if (len && RAND_bytes(dest, (int)len) != 1) {
		tool_err("OpenSSL's random number generator failed");
		abort();
	}
}

void tool_fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = {"kB", "MB", "GB", "TB"};
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1000) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return;
	}
	v /= 1000;
	while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

void tool_hex(char *out, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xf];
	}
	out[2 * len] = '\0';
}
