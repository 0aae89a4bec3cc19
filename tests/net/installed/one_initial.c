/*
 * Built by tests/net/test-installed-lib.sh outside the tree, with the flags
 * of pkg-config alone: decrypts one client Initial (given in hex, e.g. RFC
 * 9001 Appendix A.2's) with the public dissector, from nothing but the
 * packet: Initial keys from its DCID, header protection, AEAD, frames.
 *   one_initial HEX
 * Prints "vVERSION pn N dcid HEX: crypto offset O len L (ClientHello),
 * padding P" and exits 0, or says what failed and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include <mpq/dissect.h>

static int unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int b;

	while (s[0] && s[1]) {
		if (n == cap || sscanf(s, "%2x", &b) != 1)
			return -1;
		out[n++] = (uint8_t)b;
		s += 2;
	}
	return s[0] ? -1 : (int)n;
}

int main(int argc, char **argv)
{
	static uint8_t pkt[1500], buf[1500];
	const uint8_t *payload;
	size_t payloadlen, padding = 0;
	mpq_dissect_keys *k;
	mpq_dissect_hdr hd;
	mpq_dissect_frames it;
	mpq_dissect_frame fr;
	int n, rv, gen = 0, ncrypto = 0;
	uint64_t offset = 0;
	size_t cryptolen = 0;
	uint8_t msg = 0;

	if (argc != 2 || (n = unhex(argv[1], pkt, sizeof(pkt))) < 0) {
		fprintf(stderr, "usage: one_initial HEX\n");
		return 1;
	}
	rv = mpq_dissect_hdr_parse(&hd, pkt, (size_t)n, 0);
	if (rv || hd.type != MPQ_PKT_INITIAL) {
		fprintf(stderr, "not an Initial: %s\n", rv ? mpq_strerror(rv) : "other type");
		return 1;
	}
	rv = mpq_dissect_keys_new(&k, hd.version, &hd.dcid);
	if (!rv)
		rv = mpq_dissect_open(k, pkt, &hd, buf, sizeof(buf), MPQ_DISSECT_TO_SERVER, 0, -1,
				      &gen, &payload, &payloadlen);
	if (rv) {
		fprintf(stderr, "open: %s\n", mpq_strerror(rv));
		mpq_dissect_keys_free(k);
		return 1;
	}
	mpq_dissect_frames_init(&it, payload, payloadlen);
	while ((rv = mpq_dissect_frame_next(&it, &fr)) == 1) {
		if (fr.type == MPQ_FT_CRYPTO) {
			ncrypto++;
			offset = fr.crypto.offset;
			cryptolen = fr.crypto.len;
			msg = fr.crypto.len ? fr.crypto.data[0] : 0;
		} else if (fr.type == MPQ_FT_PADDING) {
			padding += fr.padding_len;
		}
	}
	mpq_dissect_keys_free(k);
	if (rv < 0 || ncrypto != 1) {
		fprintf(stderr, "frames: %s, %d CRYPTO frames\n", rv ? mpq_strerror(rv) : "ok",
			ncrypto);
		return 1;
	}
	printf("v%x pn %llu dcid ", (unsigned int)hd.version, (unsigned long long)hd.pn);
	for (int i = 0; i < hd.dcid.len; i++)
		printf("%02x", hd.dcid.data[i]);
	printf(": crypto offset %llu len %zu (%s), padding %zu\n", (unsigned long long)offset,
	       cryptolen, msg == 1 ? "ClientHello" : "not a ClientHello", padding);
	return 0;
}
