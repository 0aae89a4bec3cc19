/*
 * The Initial packets of RFC 9001 Appendix A (QUIC v1) and RFC 9369
 * Appendix A (v2) in hex, for the tests of packet protection and of the
 * dissector. Both use the client's first DCID 8394c8f03e515708 and, for
 * the server, SCID f067a5502a4262b5.
 */
#ifndef MPQ_TEST_RFC9001_VECTORS_H
#define MPQ_TEST_RFC9001_VECTORS_H

/* A.2: the CRYPTO frame of the ClientHello (padded with zeros to 1162 bytes
 * in the packet), and the client's 1200-byte Initial, PN 2. */
extern const char *const client_crypto;
extern const char *const rfc9001_client_initial;
extern const char *const rfc9369_client_initial;
/* A.3: the server's ACK + CRYPTO payload, and its 135-byte Initial, PN 1. */
extern const char *const server_payload;
extern const char *const rfc9001_server_initial;
extern const char *const rfc9369_server_initial;

#endif
