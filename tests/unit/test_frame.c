/* Frame codec: round trips of every type, hand-written encodings from RFC 9000 §19,
 * multipath draft-21 and docs/add_address.md, truncation, every range rule, Table 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "quic/frame.h"
#include "quic/packet.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAXV MPQ_MAX_VARINT
#define PATH_MAX_ID 0xffffffffULL

static const uint8_t payload[] = "hello, multipath";
static const uint8_t cid8[] = {1, 2, 3, 4, 5, 6, 7, 8};

static const uint64_t mp_types[] = {
	MPQ_FT_PATH_ACK,
	MPQ_FT_PATH_ACK_ECN,
	MPQ_FT_PATH_ABANDON,
	MPQ_FT_PATH_STATUS_BACKUP,
	MPQ_FT_PATH_STATUS_AVAILABLE,
	MPQ_FT_PATH_NEW_CONNECTION_ID,
	MPQ_FT_PATH_RETIRE_CONNECTION_ID,
	MPQ_FT_MAX_PATH_ID,
	MPQ_FT_PATHS_BLOCKED,
	MPQ_FT_PATH_CIDS_BLOCKED,
};

/* The ADD_ADDRESS extension's frames (docs/add_address.md). */
static const uint64_t ext_types[] = {MPQ_FT_ADD_ADDRESS, MPQ_FT_REMOVE_ADDRESS};

static const uint8_t v4_addr[4] = {192, 0, 2, 1};
static const uint8_t v6_addr[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

static mpq_frame add_address_frame(uint64_t seq, uint8_t ip_version, uint16_t port)
{
	mpq_frame f = {.type = MPQ_FT_ADD_ADDRESS};
	f.add_address.seq = seq;
	f.add_address.ip_version = ip_version;
	if (ip_version == MPQ_ADD_ADDRESS_IPV6)
		memcpy(f.add_address.addr, v6_addr, sizeof(v6_addr));
	else
		memcpy(f.add_address.addr, v4_addr, sizeof(v4_addr));
	f.add_address.port = port;
	return f;
}

static mpq_frame ack_frame(uint64_t type, uint64_t path_id)
{
	mpq_frame f = {.type = type};
	f.ack.path_id = path_id;
	f.ack.ack_delay = 300;
	f.ack.nranges = 3;
	f.ack.ranges[0] = (mpq_ack_range){90, 100};
	f.ack.ranges[1] = (mpq_ack_range){70, 80};
	f.ack.ranges[2] = (mpq_ack_range){0, 10};
	if (type & 1) {
		f.ack.ecn = true;
		f.ack.ect0 = 5;
		f.ack.ect1 = 70000;
		f.ack.ce = 1;
	}
	return f;
}

static mpq_frame new_cid_frame(uint64_t type, uint64_t path_id)
{
	mpq_frame f = {.type = type};
	f.new_cid.path_id = path_id;
	f.new_cid.seq = 7;
	f.new_cid.retire_prior_to = 3;
	f.new_cid.cid.len = sizeof(cid8);
	memcpy(f.new_cid.cid.data, cid8, sizeof(cid8));
	memset(f.new_cid.reset_token, 0xab, sizeof(f.new_cid.reset_token));
	return f;
}

/* One frame of every type, and every STREAM flag combination. */
static size_t sample_frames(mpq_frame *fr)
{
	size_t n = 0;
	fr[n++] = (mpq_frame){.type = MPQ_FT_PADDING, .padding_len = 5};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PING};
	fr[n++] = ack_frame(MPQ_FT_ACK, 0);
	fr[n++] = ack_frame(MPQ_FT_ACK_ECN, 0);
	fr[n++] = (mpq_frame){.type = MPQ_FT_RESET_STREAM, .reset_stream = {4, 0x100, 123456}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_STOP_SENDING, .stop_sending = {8, 77}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_CRYPTO, .crypto = {1000, payload, 5}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_NEW_TOKEN, .new_token = {payload, 9}};
	for (uint64_t t = 0; t < 8; t++) {
		mpq_frame f = {.type = MPQ_FT_STREAM | t};
		f.stream.stream_id = 4 * t + 1;
		f.stream.offset = t & MPQ_STREAM_FLAG_OFF ? 1000 * t : 0;
		f.stream.data = payload;
		f.stream.len = t;
		f.stream.fin = t & MPQ_STREAM_FLAG_FIN;
		fr[n++] = f;
	}
	fr[n++] = (mpq_frame){.type = MPQ_FT_MAX_DATA, .max_data = {1ULL << 40}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_MAX_STREAM_DATA, .max_stream_data = {3, 65536}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_MAX_STREAMS_BIDI, .max_streams = {1ULL << 60}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_MAX_STREAMS_UNI, .max_streams = {100}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_DATA_BLOCKED, .max_data = {MAXV}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_STREAM_DATA_BLOCKED, .max_stream_data = {0, 1}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_STREAMS_BLOCKED_BIDI, .max_streams = {0}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_STREAMS_BLOCKED_UNI, .max_streams = {64}};
	fr[n++] = new_cid_frame(MPQ_FT_NEW_CONNECTION_ID, 0);
	fr[n++] = (mpq_frame){.type = MPQ_FT_RETIRE_CONNECTION_ID, .retire_cid = {0, 12}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_CHALLENGE,
			      .path_challenge = {{1, 2, 3, 4, 5, 6, 7, 8}}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_RESPONSE,
			      .path_challenge = {{8, 7, 6, 5, 4, 3, 2, 1}}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_CONNECTION_CLOSE, .close = {0x0a, 0x08, payload, 5}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_CONNECTION_CLOSE_APP, .close = {0x1234, 0, NULL, 0}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_HANDSHAKE_DONE};
	fr[n++] = ack_frame(MPQ_FT_PATH_ACK, 3);
	fr[n++] = ack_frame(MPQ_FT_PATH_ACK_ECN, PATH_MAX_ID);
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_ABANDON, .path_abandon = {2, 0x3e75}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_STATUS_BACKUP, .path_status = {1, 9}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_STATUS_AVAILABLE, .path_status = {1, 10}};
	fr[n++] = new_cid_frame(MPQ_FT_PATH_NEW_CONNECTION_ID, 5);
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_RETIRE_CONNECTION_ID, .retire_cid = {5, 0}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_MAX_PATH_ID, .max_path_id = {PATH_MAX_ID}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATHS_BLOCKED, .max_path_id = {4}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_CIDS_BLOCKED, .path_cids_blocked = {4, 2}};
	fr[n++] = add_address_frame(0, MPQ_ADD_ADDRESS_IPV4, 4433);
	fr[n++] = add_address_frame(MAXV, MPQ_ADD_ADDRESS_IPV6, 65535);
	fr[n++] = (mpq_frame){.type = MPQ_FT_REMOVE_ADDRESS, .remove_address = {70000}};
	return n;
}

/* Encodes |f| into |buf| checking that encoded_len matches; returns the length. */
static size_t encode(const mpq_frame *f, uint8_t *buf, size_t cap)
{
	mpq_writer w;
	mpq_writer_init(&w, buf, cap);
	assert_int_equal(mpq_frame_encode(&w, f), 0);
	size_t n = cap - mpq_writer_left(&w);
	assert_int_equal(mpq_frame_encoded_len(f), n);
	return n;
}

/* Decodes exactly |len| bytes into one frame. */
static mpq_frame decode_all(const uint8_t *buf, size_t len)
{
	mpq_reader r;
	mpq_frame f;
	mpq_reader_init(&r, buf, len);
	assert_int_equal(mpq_frame_decode(&f, &r), 0);
	assert_int_equal(mpq_reader_left(&r), 0);
	return f;
}

static void expect_reject(const uint8_t *buf, size_t len)
{
	mpq_reader r;
	mpq_frame f;
	mpq_reader_init(&r, buf, len);
	assert_int_equal(mpq_frame_decode(&f, &r), MPQ_ERR_FRAME_ENCODING);
	assert_ptr_equal(r.pos, buf);
	assert_ptr_equal(r.end, buf + len);
}

static bool is_self_delimiting(const mpq_frame *f)
{
	bool nolen_stream = (f->type & ~7ULL) == MPQ_FT_STREAM && !(f->type & MPQ_STREAM_FLAG_LEN);
	return f->type != MPQ_FT_PADDING && !nolen_stream;
}

static void every_type_round_trips(void **state)
{
	(void)state;
	mpq_frame fr[64];
	size_t n = sample_frames(fr);
	bool seen[0x1f] = {0};
	bool mp_seen[N(mp_types)] = {0};
	bool ext_seen[N(ext_types)] = {0};
	for (size_t i = 0; i < n; i++) {
		uint8_t buf[128];
		size_t len = encode(&fr[i], buf, sizeof(buf));
		mpq_frame d = decode_all(buf, len);
		assert_true(mpq_frame_equal(&fr[i], &d));
		/* Sample STREAM frames set OFF exactly when offset > 0: the type survives. */
		assert_int_equal(d.type, fr[i].type);
		assert_string_not_equal(mpq_frame_name(d.type), "unknown");
		if (d.type < N(seen))
			seen[d.type] = true;
		for (size_t t = 0; t < N(mp_types); t++)
			mp_seen[t] |= d.type == mp_types[t];
		for (size_t t = 0; t < N(ext_types); t++)
			ext_seen[t] |= d.type == ext_types[t];
	}
	for (size_t t = 0; t < N(seen); t++)
		assert_true(seen[t]);
	for (size_t t = 0; t < N(mp_types); t++)
		assert_true(mp_seen[t]);
	for (size_t t = 0; t < N(ext_types); t++)
		assert_true(ext_seen[t]);
}

static void every_truncation_is_rejected(void **state)
{
	(void)state;
	mpq_frame fr[64];
	size_t n = sample_frames(fr);
	for (size_t i = 0; i < n; i++) {
		uint8_t buf[128];
		size_t len = encode(&fr[i], buf, sizeof(buf));
		size_t upto = is_self_delimiting(&fr[i]) ? len : 1;
		for (size_t k = 0; k < upto; k++)
			expect_reject(buf, k);
	}
}

static void check_known(const mpq_frame *f, const char *hex_bytes, size_t len)
{
	uint8_t buf[128];
	assert_int_equal(encode(f, buf, sizeof(buf)), len);
	assert_memory_equal(buf, hex_bytes, len);
	mpq_frame d = decode_all((const uint8_t *)hex_bytes, len);
	assert_true(mpq_frame_equal(f, &d));
}

#define KNOWN(f, lit) check_known(f, lit, sizeof(lit) - 1)

static void known_encodings(void **state)
{
	(void)state;
	/* PATH_ABANDON: 2-byte type 0x3e75, Path ID 3, PATH_UNSTABLE_OR_POOR (0x3e76). */
	mpq_frame f = {.type = MPQ_FT_PATH_ABANDON, .path_abandon = {3, 0x3e76}};
	KNOWN(&f, "\x7e\x75\x03\x7e\x76");

	/* PATH_ACK path 1 acking [8,10] and [2,5]: largest 10, delay 0x20, one more
	 * range, first range 2, gap 8-5-2 = 1, range length 3. */
	f = (mpq_frame){.type = MPQ_FT_PATH_ACK};
	f.ack.path_id = 1;
	f.ack.ack_delay = 0x20;
	f.ack.nranges = 2;
	f.ack.ranges[0] = (mpq_ack_range){8, 10};
	f.ack.ranges[1] = (mpq_ack_range){2, 5};
	KNOWN(&f, "\x3e\x01\x0a\x20\x01\x02\x01\x03");

	f = (mpq_frame){.type = MPQ_FT_PATH_ACK_ECN};
	f.ack.path_id = 2;
	f.ack.nranges = 1;
	f.ack.ecn = true;
	f.ack.ect0 = 1;
	f.ack.ect1 = 2;
	f.ack.ce = 3;
	KNOWN(&f, "\x3f\x02\x00\x00\x00\x00\x01\x02\x03");

	/* ACK with a 2-byte largest (100). */
	f = (mpq_frame){.type = MPQ_FT_ACK};
	f.ack.nranges = 1;
	f.ack.ranges[0] = (mpq_ack_range){96, 100};
	KNOWN(&f, "\x02\x40\x64\x00\x00\x04");

	f = (mpq_frame){.type = MPQ_FT_MAX_PATH_ID, .max_path_id = {7}};
	KNOWN(&f, "\x7e\x7a\x07");
	f = (mpq_frame){.type = MPQ_FT_PATH_STATUS_AVAILABLE, .path_status = {0, 5}};
	KNOWN(&f, "\x7e\x77\x00\x05");
	f = (mpq_frame){.type = MPQ_FT_PATH_CIDS_BLOCKED, .path_cids_blocked = {1, 3}};
	KNOWN(&f, "\x7e\x7c\x01\x03");

	f = new_cid_frame(MPQ_FT_PATH_NEW_CONNECTION_ID, 1);
	f.new_cid.seq = 2;
	f.new_cid.retire_prior_to = 1;
	f.new_cid.cid.len = 4;
	memset(f.new_cid.reset_token, 0x11, 16);
	KNOWN(&f, "\x7e\x78\x01\x02\x01\x04\x01\x02\x03\x04"
		  "\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11");

	/* STREAM with OFF|LEN|FIN, offset 64 (2-byte varint). */
	f = (mpq_frame){.type = MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN};
	f.stream = (__typeof__(f.stream)){4, 64, (const uint8_t *)"abc", 3, true};
	KNOWN(&f, "\x0f\x04\x40\x40\x03"
		  "abc");

	f = (mpq_frame){.type = MPQ_FT_CONNECTION_CLOSE,
			.close = {0x0a, 0x08, (const uint8_t *)"bad", 3}};
	KNOWN(&f, "\x1c\x0a\x08\x03"
		  "bad");
	f = (mpq_frame){.type = MPQ_FT_PADDING, .padding_len = 3};
	KNOWN(&f, "\x00\x00\x00");

	/* ADD_ADDRESS: 4-byte type 0x0addad01, seq 1, IPv4 192.0.2.1, port 4433 (0x1151). */
	f = add_address_frame(1, MPQ_ADD_ADDRESS_IPV4, 4433);
	KNOWN(&f, "\x8a\xdd\xad\x01\x01\x04\xc0\x00\x02\x01\x11\x51");
	/* seq 64 (2-byte varint), IPv6 2001:db8::1, port 443 (0x01bb). */
	f = add_address_frame(64, MPQ_ADD_ADDRESS_IPV6, 443);
	KNOWN(&f, "\x8a\xdd\xad\x01\x40\x40\x06"
		  "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
		  "\x01\xbb");
	f = (mpq_frame){.type = MPQ_FT_REMOVE_ADDRESS, .remove_address = {1}};
	KNOWN(&f, "\x8a\xdd\xad\x02\x01");
}

/* A string literal as bytes and length, without its NUL. */
#define BYTES(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static void add_address_rules(void **state)
{
	(void)state;
	/* IP version 4 or 6 only, whatever follows (0x11 bytes: a valid address
	 * and port for either length). */
	static const uint8_t versions[] = {0, 1, 5, 7, 41, 0xff};
	for (size_t i = 0; i < N(versions); i++) {
		uint8_t buf[4 + 1 + 1 + 16 + 2];
		memcpy(buf, "\x8a\xdd\xad\x01\x00", 5);
		buf[5] = versions[i];
		memset(buf + 6, 0x11, sizeof(buf) - 6);
		expect_reject(buf, sizeof(buf));
		expect_reject(buf, 4 + 1 + 1 + 4 + 2);
		buf[5] = i % 2 ? MPQ_ADD_ADDRESS_IPV4 : MPQ_ADD_ADDRESS_IPV6;
		(void)decode_all(buf, buf[5] == MPQ_ADD_ADDRESS_IPV4 ? 12 : sizeof(buf));
	}
	/* Port 0, for both versions; port 1 is fine. */
	expect_reject(BYTES("\x8a\xdd\xad\x01\x00\x04\xc0\x00\x02\x01\x00\x00"));
	(void)decode_all(BYTES("\x8a\xdd\xad\x01\x00\x04\xc0\x00\x02\x01\x00\x01"));
	expect_reject(BYTES("\x8a\xdd\xad\x01\x00\x06\x00\x00\x00\x00\x00\x00\x00\x00"
			    "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00"));
	/* An IPv4 frame read as if it were IPv6 runs out of bytes. */
	expect_reject(BYTES("\x8a\xdd\xad\x01\x00\x06\xc0\x00\x02\x01\x11\x51"));
	/* The highest sequence number. */
	mpq_frame f = decode_all(BYTES("\x8a\xdd\xad\x02\xff\xff\xff\xff\xff\xff\xff\xff"));
	assert_int_equal(f.remove_address.seq, MAXV);

	/* IPv4 leaves the rest of addr zero, whatever it held before. */
	static const uint8_t v4[] = "\x8a\xdd\xad\x01\x07\x04\xc0\x00\x02\x01\x11\x51";
	mpq_reader r;
	mpq_reader_init(&r, v4, sizeof(v4) - 1);
	memset(&f, 0xaa, sizeof(f));
	assert_int_equal(mpq_frame_decode(&f, &r), 0);
	assert_int_equal(f.type, MPQ_FT_ADD_ADDRESS);
	assert_int_equal(f.add_address.seq, 7);
	assert_int_equal(f.add_address.ip_version, MPQ_ADD_ADDRESS_IPV4);
	assert_memory_equal(f.add_address.addr, v4_addr, 4);
	static const uint8_t zeros[12] = {0};
	assert_memory_equal(f.add_address.addr + 4, zeros, sizeof(zeros));
	assert_int_equal(f.add_address.port, 4433);

	/* Several in one packet: each decodes on its own, in order (what the
	 * receiver does with repeated sequence numbers is the connection's). */
	uint8_t pkt[128];
	mpq_writer w;
	mpq_writer_init(&w, pkt, sizeof(pkt));
	const mpq_frame sent[] = {
		add_address_frame(0, MPQ_ADD_ADDRESS_IPV4, 4433),
		add_address_frame(1, MPQ_ADD_ADDRESS_IPV6, 4433),
		add_address_frame(1, MPQ_ADD_ADDRESS_IPV6, 4433),
		{.type = MPQ_FT_REMOVE_ADDRESS, .remove_address = {0}},
	};
	for (size_t i = 0; i < N(sent); i++)
		assert_int_equal(mpq_frame_encode(&w, &sent[i]), 0);
	mpq_reader_init(&r, pkt, (size_t)(w.pos - pkt));
	for (size_t i = 0; i < N(sent); i++) {
		assert_int_equal(mpq_frame_decode(&f, &r), 0);
		assert_true(mpq_frame_equal(&sent[i], &f));
	}
	assert_int_equal(mpq_reader_left(&r), 0);
}

/* Writes each value as a minimal varint (values below 64 are one byte, so CID
 * lengths and bytes can be given this way too). */
static size_t wire(uint8_t *buf, const uint64_t *v, size_t n)
{
	mpq_writer w;
	mpq_writer_init(&w, buf, 512);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mpq_write_varint(&w, v[i]), 0);
	return 512 - mpq_writer_left(&w);
}

#define VALS(...) (const uint64_t[]){__VA_ARGS__}, N(((const uint64_t[]){__VA_ARGS__}))
#define REJECT(...) expect_reject(buf, wire(buf, VALS(__VA_ARGS__)))
#define ACCEPT(...) (void)decode_all(buf, wire(buf, VALS(__VA_ARGS__)))

#define TOKEN0 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define CID20 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20

static void range_rules(void **state)
{
	(void)state;
	uint8_t buf[512];
	/* ACK: first range above largest; a gap or range reaching below 0. */
	REJECT(MPQ_FT_ACK, 5, 0, 0, 6);
	ACCEPT(MPQ_FT_ACK, 5, 0, 0, 5);
	REJECT(MPQ_FT_ACK, 5, 0, 1, 3, 1, 0);
	ACCEPT(MPQ_FT_ACK, 5, 0, 1, 3, 0, 0);
	REJECT(MPQ_FT_ACK, 10, 0, 1, 0, 5, 4);
	ACCEPT(MPQ_FT_ACK, 10, 0, 1, 0, 5, 3);
	REJECT(MPQ_FT_ACK, 10, 0, MAXV, 0); /* promises more ranges than there are */
	/* STREAM and CRYPTO data may not end past 2^62-1. */
	REJECT(MPQ_FT_STREAM | MPQ_STREAM_FLAG_OFF | MPQ_STREAM_FLAG_LEN, 0, MAXV, 1, 1);
	ACCEPT(MPQ_FT_STREAM | MPQ_STREAM_FLAG_OFF | MPQ_STREAM_FLAG_LEN, 0, MAXV, 0);
	REJECT(MPQ_FT_STREAM | MPQ_STREAM_FLAG_OFF, 0, MAXV, 1);
	ACCEPT(MPQ_FT_STREAM | MPQ_STREAM_FLAG_OFF, 0, MAXV);
	REJECT(MPQ_FT_CRYPTO, MAXV, 1, 1);
	ACCEPT(MPQ_FT_CRYPTO, MAXV - 1, 1, 1);
	REJECT(MPQ_FT_NEW_TOKEN, 0);
	ACCEPT(MPQ_FT_NEW_TOKEN, 1, 5);
	/* NEW_CONNECTION_ID: length 1..20, retire_prior_to <= seq. */
	REJECT(MPQ_FT_NEW_CONNECTION_ID, 1, 0, 0, TOKEN0);
	REJECT(MPQ_FT_NEW_CONNECTION_ID, 1, 0, 21, CID20, 21, TOKEN0);
	ACCEPT(MPQ_FT_NEW_CONNECTION_ID, 1, 0, 20, CID20, TOKEN0);
	REJECT(MPQ_FT_NEW_CONNECTION_ID, 1, 2, 1, 9, TOKEN0);
	ACCEPT(MPQ_FT_NEW_CONNECTION_ID, 2, 2, 1, 9, TOKEN0);
	REJECT(MPQ_FT_PATH_NEW_CONNECTION_ID, 1, 1, 0, 0, TOKEN0);
	REJECT(MPQ_FT_PATH_NEW_CONNECTION_ID, 1, 1, 0, 21, CID20, 21, TOKEN0);
	REJECT(MPQ_FT_PATH_NEW_CONNECTION_ID, 1, 1, 2, 1, 9, TOKEN0);
	REJECT(MPQ_FT_PATH_NEW_CONNECTION_ID, PATH_MAX_ID + 1, 1, 0, 1, 9, TOKEN0);
	ACCEPT(MPQ_FT_PATH_NEW_CONNECTION_ID, PATH_MAX_ID, 1, 0, 1, 9, TOKEN0);
	/* Stream counts up to 2^60, path IDs up to 2^32-1. */
	static const uint64_t streams[] = {MPQ_FT_MAX_STREAMS_BIDI, MPQ_FT_MAX_STREAMS_UNI,
					   MPQ_FT_STREAMS_BLOCKED_BIDI,
					   MPQ_FT_STREAMS_BLOCKED_UNI};
	for (size_t i = 0; i < N(streams); i++) {
		REJECT(streams[i], (1ULL << 60) + 1);
		ACCEPT(streams[i], 1ULL << 60);
	}
	REJECT(MPQ_FT_MAX_PATH_ID, PATH_MAX_ID + 1);
	ACCEPT(MPQ_FT_MAX_PATH_ID, PATH_MAX_ID);
	REJECT(MPQ_FT_PATHS_BLOCKED, PATH_MAX_ID + 1);
	ACCEPT(MPQ_FT_PATHS_BLOCKED, PATH_MAX_ID);
	static const uint64_t path_first[] = {MPQ_FT_PATH_ABANDON, MPQ_FT_PATH_STATUS_BACKUP,
					      MPQ_FT_PATH_STATUS_AVAILABLE,
					      MPQ_FT_PATH_RETIRE_CONNECTION_ID,
					      MPQ_FT_PATH_CIDS_BLOCKED};
	for (size_t i = 0; i < N(path_first); i++) {
		REJECT(path_first[i], PATH_MAX_ID + 1, 0);
		ACCEPT(path_first[i], PATH_MAX_ID, 0);
	}
	REJECT(MPQ_FT_PATH_ACK, PATH_MAX_ID + 1, 0, 0, 0, 0);
	ACCEPT(MPQ_FT_PATH_ACK, PATH_MAX_ID, 0, 0, 0, 0);
	REJECT(MPQ_FT_PATH_ACK_ECN, PATH_MAX_ID + 1, 0, 0, 0, 0, 0, 0, 0);
}

static void frame_types_must_be_minimal_and_known(void **state)
{
	(void)state;
	expect_reject((const uint8_t *)"\x40\x06\x00\x00", 4); /* CRYPTO in 2 bytes */
	expect_reject((const uint8_t *)"\x40\x01", 2);	       /* PING in 2 bytes */
	expect_reject((const uint8_t *)"\x40\x00", 2);	       /* PADDING in 2 bytes */
	expect_reject((const uint8_t *)"\x40\x3e\x00\x00\x00\x00\x00", 7);
	expect_reject((const uint8_t *)"\x80\x00\x3e\x75\x03\x00", 6); /* PATH_ABANDON in 4 */
	(void)decode_all((const uint8_t *)"\x7e\x75\x03\x00", 4);
	/* REMOVE_ADDRESS in 8 bytes instead of 4. */
	expect_reject((const uint8_t *)"\xc0\x00\x00\x00\x0a\xdd\xad\x02\x00", 9);
	(void)decode_all((const uint8_t *)"\x8a\xdd\xad\x02\x00", 5);
	/* Inside a frame a non-minimal varint is legal. */
	mpq_frame f = decode_all((const uint8_t *)"\x10\x40\x05", 3);
	assert_int_equal(f.max_data.max, 5);

	static const uint64_t unknown[] = {0x1f,
					   0x20,
					   0x21,
					   0x3d,
					   0x40,
					   0x3e74,
					   0x3e7d,
					   0x15228c00,
					   0x0addad00,
					   0x0addad03,
					   0x0addad01 | 1ULL << 32};
	for (size_t i = 0; i < N(unknown); i++) {
		uint8_t buf[512];
		size_t len = wire(buf, VALS(unknown[i], 0, 0, 0, 0, 0));
		expect_reject(buf, len);
		assert_string_equal(mpq_frame_name(unknown[i]), "unknown");
		assert_false(mpq_frame_allowed_in(unknown[i], MPQ_PKT_1RTT));
	}
}

/* An ACK of 41 one-packet ranges 2 apart: 1000, 998, ..., 920. */
static size_t many_ranges(uint8_t *buf, uint64_t last_len)
{
	mpq_writer w;
	mpq_writer_init(&w, buf, 256);
	assert_int_equal(mpq_write_varint(&w, MPQ_FT_ACK), 0);
	assert_int_equal(mpq_write_varint(&w, 1000), 0);
	assert_int_equal(mpq_write_varint(&w, 0), 0);
	assert_int_equal(mpq_write_varint(&w, 40), 0);
	assert_int_equal(mpq_write_varint(&w, 0), 0);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(mpq_write_varint(&w, 0), 0);
		assert_int_equal(mpq_write_varint(&w, i == 39 ? last_len : 0), 0);
	}
	return 256 - mpq_writer_left(&w);
}

static void ack_ranges_past_the_limit_are_checked_and_dropped(void **state)
{
	(void)state;
	uint8_t buf[256];
	mpq_frame f = decode_all(buf, many_ranges(buf, 920));
	assert_int_equal(f.ack.nranges, MPQ_MAX_ACK_RANGES);
	for (size_t i = 0; i < MPQ_MAX_ACK_RANGES; i++) {
		assert_int_equal(f.ack.ranges[i].largest, 1000 - 2 * i);
		assert_int_equal(f.ack.ranges[i].smallest, 1000 - 2 * i);
	}
	/* The dropped 41st range still may not reach below 0. */
	expect_reject(buf, many_ranges(buf, 921));
	/* What was kept encodes and decodes the same. */
	uint8_t out[256];
	mpq_frame d = decode_all(out, encode(&f, out, sizeof(out)));
	assert_true(mpq_frame_equal(&f, &d));
}

static void padding_runs_and_zero_copy_data(void **state)
{
	(void)state;
	static const uint8_t pkt[] = {0, 0, 0, MPQ_FT_PING, 0x08, 0x04, 'a', 'b', 'c'};
	mpq_reader r;
	mpq_frame f;
	mpq_reader_init(&r, pkt, sizeof(pkt));
	assert_int_equal(mpq_frame_decode(&f, &r), 0);
	assert_int_equal(f.type, MPQ_FT_PADDING);
	assert_int_equal(f.padding_len, 3);
	assert_int_equal(mpq_frame_decode(&f, &r), 0);
	assert_int_equal(f.type, MPQ_FT_PING);
	/* STREAM without LEN: the data is the rest of the packet, not copied. */
	assert_int_equal(mpq_frame_decode(&f, &r), 0);
	assert_int_equal(f.stream.stream_id, 4);
	assert_int_equal(f.stream.offset, 0);
	assert_false(f.stream.fin);
	assert_ptr_equal(f.stream.data, pkt + 6);
	assert_int_equal(f.stream.len, 3);
	assert_int_equal(mpq_reader_left(&r), 0);
	expect_reject(pkt + 4, 1); /* no stream ID */

	/* Runs of every length around the decoder's 8-byte steps, each ended by
	 * a PING or by the end of the packet. */
	uint8_t pad[64];
	for (size_t len = 1; len < sizeof(pad); len++) {
		for (int ping = 0; ping < 2; ping++) {
			memset(pad, 0, sizeof(pad));
			size_t n = len;
			if (ping)
				pad[n++] = MPQ_FT_PING;
			mpq_reader_init(&r, pad, n);
			assert_int_equal(mpq_frame_decode(&f, &r), 0);
			assert_int_equal(f.type, MPQ_FT_PADDING);
			assert_int_equal(f.padding_len, len);
			assert_int_equal(mpq_reader_left(&r), (size_t)ping);
		}
	}

	static const uint8_t crypto[] = {0x06, 0x00, 0x02, 'h', 'i'};
	f = decode_all(crypto, sizeof(crypto));
	assert_ptr_equal(f.crypto.data, crypto + 3);
	static const uint8_t token[] = {0x07, 0x01, 't'};
	f = decode_all(token, sizeof(token));
	assert_ptr_equal(f.new_token.token, token + 2);
	static const uint8_t close[] = {0x1d, 0x05, 0x02, 'n', 'o'};
	f = decode_all(close, sizeof(close));
	assert_ptr_equal(f.close.reason, close + 3);
	assert_int_equal(f.close.error_code, 5);
	assert_int_equal(f.close.frame_type, 0);
}

static void stream_encoding_flags_and_overhead(void **state)
{
	(void)state;
	uint8_t buf[64];
	mpq_frame f = {.type = MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN};
	f.stream = (__typeof__(f.stream)){400, 0, payload, 10, false};
	size_t len = encode(&f, buf, sizeof(buf));
	assert_int_equal(buf[0], MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN); /* no OFF at offset 0 */
	assert_int_equal(len - 10, mpq_frame_stream_overhead(400, 0, 10));
	f.stream.offset = 70000;
	f.stream.fin = true;
	len = encode(&f, buf, sizeof(buf));
	assert_int_equal(buf[0], 0x0f);
	assert_int_equal(len - 10, mpq_frame_stream_overhead(400, 70000, 10));
	/* A decoded OFF bit with offset 0 re-encodes without it, same meaning. */
	mpq_frame d = decode_all((const uint8_t *)"\x0c\x01\x00"
						  "ab",
				 5);
	len = encode(&d, buf, sizeof(buf));
	assert_memory_equal(buf,
			    "\x08\x01"
			    "ab",
			    4);
	mpq_frame d2 = decode_all(buf, len);
	assert_true(mpq_frame_equal(&d, &d2));
}

static void expect_encode_reject(const mpq_frame *f)
{
	uint8_t buf[128];
	mpq_writer w;
	mpq_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(mpq_frame_encode(&w, f), MPQ_ERR_INVALID_ARGUMENT);
	assert_ptr_equal(w.pos, buf);
	assert_int_equal(mpq_frame_encoded_len(f), 0);
}

static void encode_rejects_what_decode_rejects(void **state)
{
	(void)state;
	mpq_frame f = ack_frame(MPQ_FT_ACK, 0);
	f.ack.nranges = 0;
	expect_encode_reject(&f);
	f.ack.nranges = MPQ_MAX_ACK_RANGES + 1;
	expect_encode_reject(&f);
	f = ack_frame(MPQ_FT_ACK, 0);
	f.ack.ranges[1] = (mpq_ack_range){85, 89}; /* adjacent: no gap */
	expect_encode_reject(&f);
	f.ack.ranges[1] = (mpq_ack_range){85, 95}; /* overlapping */
	expect_encode_reject(&f);
	f.ack.ranges[1] = (mpq_ack_range){110, 120}; /* ascending */
	expect_encode_reject(&f);
	f.ack.ranges[1] = (mpq_ack_range){80, 70}; /* smallest above largest */
	expect_encode_reject(&f);
	f = ack_frame(MPQ_FT_ACK, 1); /* plain ACK is path 0 */
	expect_encode_reject(&f);
	f = ack_frame(MPQ_FT_ACK, 0);
	f.ack.ce = 1; /* no room for ECN counts */
	expect_encode_reject(&f);
	f = ack_frame(MPQ_FT_PATH_ACK, PATH_MAX_ID + 1);
	expect_encode_reject(&f);

	f = new_cid_frame(MPQ_FT_NEW_CONNECTION_ID, 0);
	f.new_cid.cid.len = 0;
	expect_encode_reject(&f);
	f.new_cid.cid.len = MPQ_MAX_CIDLEN + 1;
	expect_encode_reject(&f);
	f = new_cid_frame(MPQ_FT_PATH_NEW_CONNECTION_ID, 1);
	f.new_cid.retire_prior_to = f.new_cid.seq + 1;
	expect_encode_reject(&f);
	f = new_cid_frame(MPQ_FT_NEW_CONNECTION_ID, 1);
	expect_encode_reject(&f);

	static const uint8_t versions[] = {0, 5, 44, 0xff};
	for (size_t i = 0; i < N(versions); i++) {
		f = add_address_frame(1, versions[i], 443);
		expect_encode_reject(&f);
	}
	f = add_address_frame(1, MPQ_ADD_ADDRESS_IPV4, 0);
	expect_encode_reject(&f);
	f = add_address_frame(1, MPQ_ADD_ADDRESS_IPV6, 0);
	expect_encode_reject(&f);
	f = add_address_frame(MAXV + 1, MPQ_ADD_ADDRESS_IPV4, 443);
	expect_encode_reject(&f);

	static const mpq_frame bad[] = {
		{.type = MPQ_FT_NEW_TOKEN, .new_token = {payload, 0}},
		{.type = MPQ_FT_MAX_STREAMS_UNI, .max_streams = {(1ULL << 60) + 1}},
		{.type = MPQ_FT_STREAMS_BLOCKED_BIDI, .max_streams = {(1ULL << 60) + 1}},
		{.type = MPQ_FT_MAX_PATH_ID, .max_path_id = {PATH_MAX_ID + 1}},
		{.type = MPQ_FT_PATH_ABANDON, .path_abandon = {PATH_MAX_ID + 1, 0}},
		{.type = MPQ_FT_MAX_DATA, .max_data = {MAXV + 1}},
		{.type = MPQ_FT_RETIRE_CONNECTION_ID, .retire_cid = {1, 0}},
		{.type = MPQ_FT_CONNECTION_CLOSE_APP, .close = {0, 5, NULL, 0}},
		{.type = MPQ_FT_CRYPTO, .crypto = {MAXV, payload, 1}},
		{.type = MPQ_FT_CRYPTO, .crypto = {0, NULL, 3}},
		{.type = MPQ_FT_STREAM, .stream = {0, MAXV, payload, 1, false}},
		{.type = MPQ_FT_PADDING, .padding_len = 0},
		{.type = MPQ_FT_REMOVE_ADDRESS, .remove_address = {MAXV + 1}},
		{.type = 0x1f},
	};
	for (size_t i = 0; i < N(bad); i++)
		expect_encode_reject(&bad[i]);
}

static void encode_without_room_writes_nothing(void **state)
{
	(void)state;
	mpq_frame fr[64];
	size_t n = sample_frames(fr);
	for (size_t i = 0; i < n; i++) {
		uint8_t buf[128];
		size_t len = mpq_frame_encoded_len(&fr[i]);
		mpq_writer w;
		mpq_writer_init(&w, buf, len - 1);
		assert_int_equal(mpq_frame_encode(&w, &fr[i]), MPQ_ERR_NOBUF);
		assert_ptr_equal(w.pos, buf);
	}
}

static void allowed_in_follows_table_3(void **state)
{
	(void)state;
	static const struct {
		uint64_t type;
		const char *ih01; /* as RFC 9000 Table 3 writes it */
	} cases[] = {
		{MPQ_FT_PADDING, "IH01"},
		{MPQ_FT_PING, "IH01"},
		{MPQ_FT_ACK, "IH_1"},
		{MPQ_FT_ACK_ECN, "IH_1"},
		{MPQ_FT_CRYPTO, "IH_1"},
		{MPQ_FT_NEW_TOKEN, "___1"},
		{MPQ_FT_STREAM | 7, "__01"},
		{MPQ_FT_RESET_STREAM, "__01"},
		{MPQ_FT_PATH_CHALLENGE, "__01"},
		{MPQ_FT_PATH_RESPONSE, "___1"},
		{MPQ_FT_CONNECTION_CLOSE, "IH01"},
		{MPQ_FT_CONNECTION_CLOSE_APP, "__01"},
		{MPQ_FT_HANDSHAKE_DONE, "___1"},
		{MPQ_FT_PATH_ACK, "___1"},
		{MPQ_FT_PATH_ABANDON, "___1"},
		{MPQ_FT_PATH_CIDS_BLOCKED, "___1"},
	};
	static const int pkts[] = {MPQ_PKT_INITIAL, MPQ_PKT_HANDSHAKE, MPQ_PKT_0RTT, MPQ_PKT_1RTT};
	for (size_t i = 0; i < N(cases); i++) {
		for (size_t p = 0; p < N(pkts); p++)
			assert_int_equal(mpq_frame_allowed_in(cases[i].type, pkts[p]),
					 cases[i].ih01[p] != '_');
		assert_false(mpq_frame_allowed_in(cases[i].type, MPQ_PKT_RETRY));
	}
	for (size_t i = 0; i < N(mp_types); i++) {
		assert_true(mpq_frame_allowed_in(mp_types[i], MPQ_PKT_1RTT));
		assert_false(mpq_frame_allowed_in(mp_types[i], MPQ_PKT_0RTT));
	}
	/* ADD_ADDRESS and REMOVE_ADDRESS: 1-RTT only. */
	for (size_t i = 0; i < N(ext_types); i++) {
		for (size_t p = 0; p < N(pkts); p++)
			assert_int_equal(mpq_frame_allowed_in(ext_types[i], pkts[p]),
					 pkts[p] == MPQ_PKT_1RTT);
		assert_false(mpq_frame_allowed_in(ext_types[i], MPQ_PKT_RETRY));
		assert_false(mpq_frame_allowed_in(ext_types[i], MPQ_PKT_VERSION_NEGOTIATION));
	}
}

static void names_and_ack_eliciting(void **state)
{
	(void)state;
	assert_string_equal(mpq_frame_name(MPQ_FT_ACK_ECN), "ack");
	assert_string_equal(mpq_frame_name(MPQ_FT_STREAM | 5), "stream");
	assert_string_equal(mpq_frame_name(MPQ_FT_STREAMS_BLOCKED_UNI), "streams_blocked");
	assert_string_equal(mpq_frame_name(MPQ_FT_CONNECTION_CLOSE_APP), "connection_close");
	assert_string_equal(mpq_frame_name(MPQ_FT_PATH_ACK_ECN), "path_ack");
	assert_string_equal(mpq_frame_name(MPQ_FT_PATH_STATUS_BACKUP), "path_status_backup");
	assert_string_equal(mpq_frame_name(MPQ_FT_PATH_CIDS_BLOCKED), "path_cids_blocked");
	assert_string_equal(mpq_frame_name(MPQ_FT_ADD_ADDRESS), "add_address");
	assert_string_equal(mpq_frame_name(MPQ_FT_REMOVE_ADDRESS), "remove_address");
	static const uint64_t quiet[] = {MPQ_FT_PADDING,
					 MPQ_FT_ACK,
					 MPQ_FT_ACK_ECN,
					 MPQ_FT_CONNECTION_CLOSE,
					 MPQ_FT_CONNECTION_CLOSE_APP,
					 MPQ_FT_PATH_ACK,
					 MPQ_FT_PATH_ACK_ECN};
	for (size_t i = 0; i < N(quiet); i++)
		assert_false(mpq_frame_is_ack_eliciting(quiet[i]));
	assert_true(mpq_frame_is_ack_eliciting(MPQ_FT_PING));
	assert_true(mpq_frame_is_ack_eliciting(MPQ_FT_STREAM | 3));
	assert_true(mpq_frame_is_ack_eliciting(MPQ_FT_PATH_ABANDON));
	assert_true(mpq_frame_is_ack_eliciting(MPQ_FT_MAX_PATH_ID));
	assert_true(mpq_frame_is_ack_eliciting(MPQ_FT_ADD_ADDRESS));
	assert_true(mpq_frame_is_ack_eliciting(MPQ_FT_REMOVE_ADDRESS));
}

static void equal_sees_every_difference(void **state)
{
	(void)state;
	mpq_frame a = ack_frame(MPQ_FT_PATH_ACK, 3), b = a;
	b.ack.ranges[2].smallest = 1;
	assert_false(mpq_frame_equal(&a, &b));
	b = a;
	b.type = MPQ_FT_ACK;
	assert_false(mpq_frame_equal(&a, &b));

	a = new_cid_frame(MPQ_FT_NEW_CONNECTION_ID, 0);
	b = a;
	b.new_cid.reset_token[15] ^= 1;
	assert_false(mpq_frame_equal(&a, &b));

	uint8_t copy[sizeof(payload)];
	memcpy(copy, payload, sizeof(payload));
	a = (mpq_frame){.type = MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN};
	a.stream = (__typeof__(a.stream)){0, 0, payload, 8, false};
	b = a;
	b.stream.data = copy; /* same bytes elsewhere */
	assert_true(mpq_frame_equal(&a, &b));
	copy[7] ^= 1;
	assert_false(mpq_frame_equal(&a, &b));
	b = a;
	b.type = MPQ_FT_STREAM;
	assert_false(mpq_frame_equal(&a, &b));

	a = (mpq_frame){.type = MPQ_FT_PATH_STATUS_BACKUP, .path_status = {1, 2}};
	b = a;
	b.path_status.seq = 3;
	assert_false(mpq_frame_equal(&a, &b));

	a = add_address_frame(5, MPQ_ADD_ADDRESS_IPV4, 4433);
	b = a;
	b.add_address.addr[15] = 9; /* not on the wire for IPv4 */
	assert_true(mpq_frame_equal(&a, &b));
	b.add_address.addr[3] ^= 1;
	assert_false(mpq_frame_equal(&a, &b));
	b = a;
	b.add_address.seq = 6;
	assert_false(mpq_frame_equal(&a, &b));
	b = a;
	b.add_address.port = 4434;
	assert_false(mpq_frame_equal(&a, &b));
	b = a;
	b.add_address.ip_version = MPQ_ADD_ADDRESS_IPV6;
	assert_false(mpq_frame_equal(&a, &b));
	a = add_address_frame(5, MPQ_ADD_ADDRESS_IPV6, 4433);
	b = a;
	b.add_address.addr[15] ^= 1;
	assert_false(mpq_frame_equal(&a, &b));
	b = a;
	b.type = MPQ_FT_REMOVE_ADDRESS;
	assert_false(mpq_frame_equal(&a, &b));
	a = (mpq_frame){.type = MPQ_FT_REMOVE_ADDRESS, .remove_address = {1}};
	b = a;
	b.remove_address.seq = 2;
	assert_false(mpq_frame_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_type_round_trips),
		cmocka_unit_test(every_truncation_is_rejected),
		cmocka_unit_test(known_encodings),
		cmocka_unit_test(range_rules),
		cmocka_unit_test(add_address_rules),
		cmocka_unit_test(frame_types_must_be_minimal_and_known),
		cmocka_unit_test(ack_ranges_past_the_limit_are_checked_and_dropped),
		cmocka_unit_test(padding_runs_and_zero_copy_data),
		cmocka_unit_test(stream_encoding_flags_and_overhead),
		cmocka_unit_test(encode_rejects_what_decode_rejects),
		cmocka_unit_test(encode_without_room_writes_nothing),
		cmocka_unit_test(allowed_in_follows_table_3),
		cmocka_unit_test(names_and_ack_eliciting),
		cmocka_unit_test(equal_sees_every_difference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
