/*
 * Cost of the steering program (xdp/mpq_steer.bpf.c) per packet, from
 * BPF_PROG_TEST_RUN with repeat (the kernel times the runs), against an empty
 * XDP program (return XDP_PASS) run on the same frame in the same invocation.
 * Redirects find an AF_XDP socket in their slot, as in production.
 *
 *   build/bench/bench_xdp_prog [repeat]      (default 2000000; needs root:
 *                                             exits 77 without)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "mpq/io/netaddr.h"
#include "mpq/io/xdp_prog.h"

#define PORT 4433
#define ROUNDS 5
#define UMEM_SZ (16 * XSK_UMEM__DEFAULT_FRAME_SIZE)

/* Ethernet + IPv4 (192.0.2.1 → 192.0.2.2, the address served) + UDP 50123 → PORT,
 * lengths unset. */
static const uint8_t hdr[42] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0,	0,	   0,		0, 1, 0x08, 0x00,
	0x45, 0,    0,	  0,	0,    0,    0,	  0,	64,	   17,		0, 0, 192,  0,
	2,    1,    192,  0,	2,    2,    0xc3, 0xcb, PORT >> 8, PORT & 0xff, 0, 0, 0,    0,
};

struct bcase {
	const char *name;
	uint8_t frame[1300];
	uint32_t len;
	uint32_t want; /* XDP_REDIRECT or XDP_PASS */
};

/* Average ns per run of |fd| on |c|'s frame: the least of ROUNDS runs. */
static double cost(int fd, const struct bcase *c, uint32_t repeat, bool check)
{
	double best = 0;

	for (int r = 0; r < ROUNDS; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = c->frame, .data_size_in = c->len,
			    .repeat = repeat);

		if (bpf_prog_test_run_opts(fd, &o)) {
			fprintf(stderr, "bench_xdp_prog: test run: %s\n", strerror(errno));
			exit(1);
		}
		if (check && o.retval != c->want) {
			fprintf(stderr, "bench_xdp_prog: %s: verdict %u, expected %u\n", c->name,
				o.retval, c->want);
			exit(1);
		}
		if (r == 0 || o.duration < best)
			best = o.duration;
	}
	return best;
}

static void frame(struct bcase *c, const char *name, const uint8_t *q, size_t qlen, uint32_t want)
{
	c->name = name;
	memcpy(c->frame, hdr, sizeof(hdr));
	memcpy(c->frame + sizeof(hdr), q, qlen);
	c->len = (uint32_t)(sizeof(hdr) + qlen);
	c->want = want;
}

int main(int argc, char **argv)
{
	static const struct bpf_insn pass[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	uint32_t repeat = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 2000000;
	struct xsk_socket_config xcfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	mpq_xdp_prog_config cfg;
	mpq_xdp_prog *p;
	struct bcase cases[5];
	uint8_t q[1200];
	void *area;
	int empty;

	if (geteuid() != 0) {
		printf("bench_xdp_prog: skipped (BPF_PROG_TEST_RUN needs root)\n");
		return 77;
	}
	/* A namespace of our own for the AF_XDP socket on lo. */
	if (unshare(CLONE_NEWNET) || system("ip link set lo up")) {
		fprintf(stderr, "bench_xdp_prog: cannot make a network namespace\n");
		return 1;
	}
	mpq_xdp_prog_config_default(&cfg);
	cfg.ports[0] = PORT;
	cfg.n_workers = 4;
	cfg.n_addrs = 1;
	mpq_addr_parse(&cfg.addrs[0], "192.0.2.2:0");
	if (mpq_xdp_prog_new(&p, &cfg, NULL) || mpq_xdp_prog_load(p)) {
		fprintf(stderr, "bench_xdp_prog: cannot load the steering program\n");
		return 1;
	}
	empty = bpf_prog_load(BPF_PROG_TYPE_XDP, "empty", "GPL", pass, 2, NULL);
	area = mmap(NULL, UMEM_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (empty < 0 || area == MAP_FAILED ||
	    xsk_umem__create(&umem, area, UMEM_SZ, &fill, &comp, NULL) ||
	    xsk_socket__create(&xsk, "lo", 0, umem, &rx, &tx, &xcfg)) {
		fprintf(stderr, "bench_xdp_prog: empty program or AF_XDP socket failed\n");
		return 1;
	}
	for (uint32_t w = 0; w < cfg.n_workers; w++)
		mpq_xdp_prog_set_xsk(p, 0, w, xsk_socket__fd(xsk));

	q[0] = 0x43; /* short header, our layout, worker 2 */
	memcpy(q + 1, "\x07\x02\xa1\xa2\xa3\xa4\xa5\xa6", 8);
	memset(q + 9, 0xee, 1191);
	frame(&cases[0], "short header, worker ID   ", q, 100, XDP_REDIRECT);
	frame(&cases[1], "to an address not served  ", q, 100, XDP_PASS);
	cases[1].frame[33] = 9;	 /* 192.0.2.9 */
	memset(q, 0, sizeof(q)); /* v1 Initial, unknown 8-byte DCID */
	memcpy(q, "\xc3\x00\x00\x00\x01\x08\x11\x22\x33\x44\x55\x66\x77\x88\x08", 15);
	frame(&cases[2], "Initial, 4-tuple hash     ", q, 1200, XDP_REDIRECT);
	frame(&cases[3], "UDP to another port       ", q, 100, XDP_PASS);
	cases[3].frame[36] = 0;
	cases[3].frame[37] = 53;
	frame(&cases[4], "IPv6 (not UDP: ext header)", q, 100, XDP_PASS);
	cases[4].frame[12] = 0x86;
	cases[4].frame[13] = 0xdd;
	cases[4].frame[14] = 0x60;
	cases[4].frame[20] = 0; /* next header: hop-by-hop */

	printf("bench_xdp_prog: ns per packet, BPF_PROG_TEST_RUN x %u, best of %d\n", repeat,
	       ROUNDS);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double base = cost(empty, &cases[i], repeat, false);
		double ns = cost(mpq_xdp_prog_fd(p), &cases[i], repeat, true);

		printf("  %s %5.1f ns  empty program %5.1f ns  ratio %.2f\n", cases[i].name, ns,
		       base, base > 0 ? ns / base : 0);
	}
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	mpq_xdp_prog_del(p);
	close(empty);
	return 0;
}
