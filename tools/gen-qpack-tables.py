#!/usr/bin/env python3
"""Writes the tables of lib/app/qpack*.c from the RFCs' data:

  lib/app/qpack_static.c         RFC 9204 Appendix A (99 entries) and an index
                                 of it by name length
  lib/app/qpack_huffman_table.c  RFC 7541 Appendix B: each symbol's code and
                                 length, and a decoder that takes 4 bits a step

Run from the top of the tree: python3 tools/gen-qpack-tables.py
(then the files are clang-formatted in place when clang-format is there).

The Huffman code of RFC 7541 is canonical: codes are handed out in order of
(length, symbol), so the lengths alone define it. The checks below hold it to
a few codes printed in Appendix B.
"""
import os
import subprocess
import sys

# Code length in bits of symbols 0..255 and EOS (256), RFC 7541 Appendix B.
HUFF_BITS = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,  # 0x00
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,  # 0x10
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,  # 0x20
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,  # 0x30
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,  # 0x40
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,  # 0x50
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,  # 0x60
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,  # 0x70
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,  # 0x80
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,  # 0x90
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,  # 0xa0
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,  # 0xb0
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,  # 0xc0
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,  # 0xd0
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,  # 0xe0
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,  # 0xf0
    30,  # EOS
]
EOS = 256

# RFC 9204 Appendix A, index 0..98.
STATIC = [
    (":authority", ""),
    (":path", "/"),
    ("age", "0"),
    ("content-disposition", ""),
    ("content-length", "0"),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("referer", ""),
    ("set-cookie", ""),
    (":method", "CONNECT"),
    (":method", "DELETE"),
    (":method", "GET"),
    (":method", "HEAD"),
    (":method", "OPTIONS"),
    (":method", "POST"),
    (":method", "PUT"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "103"),
    (":status", "200"),
    (":status", "304"),
    (":status", "404"),
    (":status", "503"),
    ("accept", "*/*"),
    ("accept", "application/dns-message"),
    ("accept-encoding", "gzip, deflate, br"),
    ("accept-ranges", "bytes"),
    ("access-control-allow-headers", "cache-control"),
    ("access-control-allow-headers", "content-type"),
    ("access-control-allow-origin", "*"),
    ("cache-control", "max-age=0"),
    ("cache-control", "max-age=2592000"),
    ("cache-control", "max-age=604800"),
    ("cache-control", "no-cache"),
    ("cache-control", "no-store"),
    ("cache-control", "public, max-age=31536000"),
    ("content-encoding", "br"),
    ("content-encoding", "gzip"),
    ("content-type", "application/dns-message"),
    ("content-type", "application/javascript"),
    ("content-type", "application/json"),
    ("content-type", "application/x-www-form-urlencoded"),
    ("content-type", "image/gif"),
    ("content-type", "image/jpeg"),
    ("content-type", "image/png"),
    ("content-type", "text/css"),
    ("content-type", "text/html; charset=utf-8"),
    ("content-type", "text/plain"),
    ("content-type", "text/plain;charset=utf-8"),
    ("range", "bytes=0-"),
    ("strict-transport-security", "max-age=31536000"),
    ("strict-transport-security", "max-age=31536000; includesubdomains"),
    ("strict-transport-security", "max-age=31536000; includesubdomains; preload"),
    ("vary", "accept-encoding"),
    ("vary", "origin"),
    ("x-content-type-options", "nosniff"),
    ("x-xss-protection", "1; mode=block"),
    (":status", "100"),
    (":status", "204"),
    (":status", "206"),
    (":status", "302"),
    (":status", "400"),
    (":status", "403"),
    (":status", "421"),
    (":status", "425"),
    (":status", "500"),
    ("accept-language", ""),
    ("access-control-allow-credentials", "FALSE"),
    ("access-control-allow-credentials", "TRUE"),
    ("access-control-allow-headers", "*"),
    ("access-control-allow-methods", "get"),
    ("access-control-allow-methods", "get, post, options"),
    ("access-control-allow-methods", "options"),
    ("access-control-expose-headers", "content-length"),
    ("access-control-request-headers", "content-type"),
    ("access-control-request-method", "get"),
    ("access-control-request-method", "post"),
    ("alt-svc", "clear"),
    ("authorization", ""),
    ("content-security-policy", "script-src 'none'; object-src 'none'; base-uri 'none'"),
    ("early-data", "1"),
    ("expect-ct", ""),
    ("forwarded", ""),
    ("if-range", ""),
    ("origin", ""),
    ("purpose", "prefetch"),
    ("server", ""),
    ("timing-allow-origin", "*"),
    ("upgrade-insecure-requests", "1"),
    ("user-agent", ""),
    ("x-forwarded-for", ""),
    ("x-frame-options", "deny"),
    ("x-frame-options", "sameorigin"),
]

# Flags of a decoder step, bits 16-18 (as MPQ_QPACK_HUFF_* in lib/app/qpack_tables.h).
STEP_EMIT, STEP_FAIL, STEP_ACCEPT = 1, 2, 4


def canonical_codes(bits):
    codes = [0] * len(bits)
    code, prev = 0, 0
    for sym in sorted(range(len(bits)), key=lambda s: (bits[s], s)):
        code <<= bits[sym] - prev
        prev = bits[sym]
        codes[sym] = code
        code += 1
    return codes


def check_huffman(codes):
    assert len(HUFF_BITS) == 257
    assert sum(2.0 ** -b for b in HUFF_BITS) == 1.0  # a complete code
    # A few codes as Appendix B prints them.
    for sym, code in ((0, 0x1ff8), (1, 0x7fffd8), (10, 0x3ffffffc), (ord(' '), 0x14),
                      (ord('0'), 0x0), (ord('a'), 0x3), (ord('~'), 0x1ffd),
                      (127, 0xffffffc), (200, 0x3ffffe2), (255, 0x3ffffee),
                      (EOS, 0x3fffffff)):
        assert codes[sym] == code, (sym, hex(codes[sym]), hex(code))


def huffman_tree(codes):
    """Internal nodes numbered breadth-first from the root (0); a child is
    ('node', n) or ('leaf', sym)."""
    children = [[None, None]]
    depth, ones = [0], [True]
    for sym in range(257):
        node = 0
        for i in range(HUFF_BITS[sym] - 1, -1, -1):
            bit = codes[sym] >> i & 1
            if i == 0:
                assert children[node][bit] is None
                children[node][bit] = ('leaf', sym)
                break
            if children[node][bit] is None:
                children.append([None, None])
                depth.append(depth[node] + 1)
                ones.append(ones[node] and bit == 1)
                children[node][bit] = ('node', len(children) - 1)
            node = children[node][bit][1]
    # Renumber breadth first so the numbering does not depend on symbol order.
    order, seen = [0], {0}
    for n in order:
        for c in children[n]:
            if c[0] == 'node' and c[1] not in seen:
                seen.add(c[1])
                order.append(c[1])
    new = {old: i for i, old in enumerate(order)}
    kids = [[(k, new[v] if k == 'node' else v) for k, v in children[old]] for old in order]
    return kids, [depth[o] for o in order], [ones[o] for o in order]


def decoder_steps(kids, depth, ones):
    """steps[state][nibble] = (next state, symbol, flags): the nibble's 4
    bits, most significant first, walked from state. A code is at least 5 bits
    long, so a step completes at most one symbol."""
    steps = []
    for state in range(len(kids)):
        row = []
        for nib in range(16):
            node, sym, flags = state, 0, 0
            for i in (3, 2, 1, 0):
                kind, v = kids[node][nib >> i & 1]
                if kind == 'node':
                    node = v
                    continue
                if v == EOS:
                    flags |= STEP_FAIL
                    node = 0
                    break
                assert not flags & STEP_EMIT
                sym, flags, node = v, flags | STEP_EMIT, 0
            # Ending here is fine at a symbol boundary or inside up to 7 bits
            # that begin EOS (all ones): the only padding RFC 7541 §5.2 allows.
            if not flags & STEP_FAIL and (node == 0 or (ones[node] and depth[node] <= 7)):
                flags |= STEP_ACCEPT
            row.append((node if not flags & STEP_FAIL else 0, sym, flags))
        steps.append(row)
    return steps


HEADER = """/*
 * Generated by tools/gen-qpack-tables.py from %s: edit that
 * script, not this file.
 */
"""


def write_static(path):
    assert len(STATIC) == 99 and len(set(STATIC)) == 99
    maxlen = max(len(n) for n, _ in STATIC)
    by_len = sorted(range(len(STATIC)), key=lambda i: (len(STATIC[i][0]), i))
    start = [0] * (maxlen + 2)
    for n in range(maxlen + 2):
        start[n] = sum(1 for i in by_len if len(STATIC[i][0]) < n)
    out = [HEADER % "RFC 9204 Appendix A", '#include "app/qpack_tables.h"', ""]
    out.append("/* RFC 9204 Appendix A: the QPACK static table. */")
    out.append("const struct mpq_qpack_static_entry mpq_qpack_static[MPQ_QPACK_STATIC_COUNT] = {")
    for i, (n, v) in enumerate(STATIC):
        out.append('\t{"%s", "%s", %d, %d}, /* %d */' % (n, v, len(n), len(v), i))
    out.append("};")
    out.append("")
    out.append("/* The indexes above ordered by name length, then index: those of the names")
    out.append(" * of length n are mpq_qpack_static_by_len[mpq_qpack_static_len_start[n] ..")
    out.append(" * mpq_qpack_static_len_start[n + 1] - 1]. */")
    out.append("const uint8_t mpq_qpack_static_by_len[MPQ_QPACK_STATIC_COUNT] = {")
    out.append("\t" + ", ".join(str(i) for i in by_len) + ",")
    out.append("};")
    out.append("")
    out.append("const uint8_t mpq_qpack_static_len_start[MPQ_QPACK_STATIC_MAX_NAME + 2] = {")
    out.append("\t" + ", ".join(str(s) for s in start) + ",")
    out.append("};")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return maxlen


def write_huffman(path, codes, steps):
    out = [HEADER % "RFC 7541 Appendix B", '#include "app/qpack_tables.h"', ""]
    out.append("/* Code of each symbol (EOS last), right-aligned, and its length in bits. */")
    out.append("const struct mpq_qpack_huff_code mpq_qpack_huff_codes[257] = {")
    for sym in range(257):
        out.append("\t{0x%x, %d}," % (codes[sym], HUFF_BITS[sym]))
    out.append("};")
    out.append("")
    out.append("/* The decoder: [state][next 4 bits] = next state | symbol << 8 | flags << 16.")
    out.append(" * A state is a node of the code's tree (0: its root, between symbols). */")
    out.append("const uint32_t mpq_qpack_huff_steps[256][16] = {")
    for state, row in enumerate(steps):
        # No trailing comma inside: clang-format then packs the row.
        out.append("\t{" + ", ".join("0x%05x" % (n | s << 8 | f << 16) for n, s, f in row)
                   + "}, /* %d */" % state)
    out.append("};")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    codes = canonical_codes(HUFF_BITS)
    check_huffman(codes)
    kids, depth, ones = huffman_tree(codes)
    assert len(kids) == 256
    steps = decoder_steps(kids, depth, ones)
    files = [os.path.join(top, "lib/app/qpack_static.c"),
             os.path.join(top, "lib/app/qpack_huffman_table.c")]
    maxlen = write_static(files[0])
    assert maxlen == 32, maxlen  # MPQ_QPACK_STATIC_MAX_NAME
    write_huffman(files[1], codes, steps)
    try:
        subprocess.run(["clang-format", "-i"] + files, check=True)
    except FileNotFoundError:
        print("clang-format missing: the files are not formatted", file=sys.stderr)


if __name__ == "__main__":
    main()
