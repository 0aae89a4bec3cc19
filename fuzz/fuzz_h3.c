/*
 * HTTP/3 (lib/app/hq_server.c, hq_client.c, h3_conn.c, h3_msg.c, h3_frame.c) on peer input, both
 * ends: fuzz_hq's harness on connections whose ALPN is "h3", so the same ops
 * reach HTTP/3's request streams (server: frames, QPACK field sections),
 * responses (client), and control and QPACK streams (ops 11-13). See
 * fuzz_hq_harness.h for the ops.
 */
#define FUZZ_TLS_ALPN "h3"
#include "fuzz_hq_harness.h"
