/*
 * QPACK (RFC 9204) without a dynamic table: what HTTP/3 in lib/app needs.
 *
 * Our HTTP/3 endpoints send SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0 and
 * SETTINGS_QPACK_BLOCKED_STREAMS = 0, so a peer may only use the static table
 * (RFC 9204 Appendix A) and literals; the encoder and decoder streams carry
 * nothing (a Set Dynamic Table Capacity of 0 at most). The encoder here never
 * inserts. That keeps a field section self-contained: decoding needs no state
 * across sections and never blocks.
 *
 * Internal to lib/app (not installed): lib/app/h3*.c and the tests use it.
 */
#ifndef MPQ_APP_QPACK_H
#define MPQ_APP_QPACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One field line: name and value, not NUL-terminated. */
typedef struct mpq_qpack_field {
	const uint8_t *name;
	size_t namelen;
	const uint8_t *value;
	size_t valuelen;
} mpq_qpack_field;

/* What decoding can fail with (negative, beside a callback's own value). */
enum {
	/* Malformed: truncated integer or string, bad Huffman code (EOS inside,
	 * padding over 7 bits or not all ones), a static index out of range, a
	 * dynamic-table reference or a non-zero Required Insert Count. HTTP/3
	 * closes the connection with QPACK_DECOMPRESSION_FAILED (0x200). */
	MPQ_QPACK_ERR_DECOMPRESSION = -1,
	/* The decoded fields do not fit the caller's scratch buffer (HTTP/3:
	 * the section is over the advertised or local size limit). */
	MPQ_QPACK_ERR_TOO_LARGE = -2,
	/* The encoder's output buffer is too small. */
	MPQ_QPACK_ERR_NOBUF = -3,
};

/* Encodes |n| fields as one field section (RFC 9204 §4.5): the prefix
 * (Required Insert Count 0, Base 0), then per field an indexed field line when
 * the static table has the exact name and value, a literal with a static name
 * reference when it has the name, else a literal name; each string
 * Huffman-coded when that is shorter. Names are sent as given (HTTP/3 wants
 * them lowercase: the caller's job). Returns the length written to |out|
 * (at most |cap|), or MPQ_QPACK_ERR_NOBUF. */
ssize_t mpq_qpack_encode(uint8_t *out, size_t cap, const mpq_qpack_field *fields, size_t n);

/* Called once per field line in order. |f|'s strings point into |in| (raw
 * literals), the decoder's scratch buffer (Huffman-coded ones) or the static
 * table, are not NUL-terminated and stay valid until the decode call returns.
 * A non-zero return stops decoding and is returned. */
typedef int (*mpq_qpack_field_cb)(void *user_data, const mpq_qpack_field *f);

/* Decodes the field section |in| of |len| bytes (a HEADERS frame's payload),
 * calling |cb| per field. Huffman-coded strings are decoded into |scratch|
 * (|scratchsize| bytes for all the section's decoded strings together).
 * Raw literals take no scratch. Nothing is checked of HTTP's rules (name
 * case, pseudo-headers): that is the caller's. Returns 0,
 * MPQ_QPACK_ERR_DECOMPRESSION, MPQ_QPACK_ERR_TOO_LARGE, or what |cb|
 * returned. Never reads outside |in| whatever it holds. */
int mpq_qpack_decode(const uint8_t *in, size_t len, uint8_t *scratch, size_t scratchsize,
		     mpq_qpack_field_cb cb, void *user_data);

/* Huffman code of RFC 7541 Appendix B (QPACK uses HPACK's). */
/* Bytes |len| bytes of |in| take once coded (padding included). */
size_t mpq_qpack_huffman_len(const uint8_t *in, size_t len);
/* Codes |in| into |out| (room for mpq_qpack_huffman_len bytes); returns the
 * length. */
size_t mpq_qpack_huffman_encode(uint8_t *out, const uint8_t *in, size_t len);
/* Decodes |len| coded bytes into |out| (at most |cap| bytes): the decoded
 * length, MPQ_QPACK_ERR_DECOMPRESSION or MPQ_QPACK_ERR_TOO_LARGE. */
ssize_t mpq_qpack_huffman_decode(uint8_t *out, size_t cap, const uint8_t *in, size_t len);

#endif
