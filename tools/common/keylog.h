/*
 * The TLS key log (NSS format, what Wireshark reads as SSLKEYLOGFILE): one
 * line per secret, appended to a file created with mode 0600 and written
 * with one write(2) per line, so nothing sits in a buffer when the process
 * dies and concurrent writers do not interleave within a line.
 */
#ifndef MPQ_TOOL_KEYLOG_H
#define MPQ_TOOL_KEYLOG_H

struct mpq_capture_pcap;

struct tool_keylog {
	int fd; /* -1: no key log file */
	/* --pcap: every line also goes into the capture as a Decryption
	 * Secrets Block (io/capture_pcap.h); NULL: none. */
	struct mpq_capture_pcap *pcap;
	const char *path;
	int failed; /* a write failed (reported once) */
};

/* Opens |path|, or $SSLKEYLOGFILE when |path| is NULL; with neither, |kl| is
 * off. Returns 0, or TOOL_EXIT_USAGE after one line naming the file (an
 * unusable $SSLKEYLOGFILE is only a warning: the key log is then off). */
int tool_keylog_open(struct tool_keylog *kl, const char *path);

/* Appends |line| and a newline (the mpq_callbacks.keylog signature, with the
 * struct tool_keylog as |user_data|), to the file and to the capture. A
 * no-op when both are off. */
void tool_keylog_line(void *user_data, const char *line);

void tool_keylog_close(struct tool_keylog *kl);

#endif
