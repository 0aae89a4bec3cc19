/*
 * UDP probes for the link emulator's accuracy tests (test-linkemu.sh):
 *   udp_probe echo PORT                       echo every datagram back
 *   udp_probe rtt ADDR PORT COUNT GAP_US      COUNT probes GAP_US apart; prints
 *       "sent N received M min_us X median_us Y bursts B" (replies wait 1 s after
 *       the last; B: runs of consecutive probes without a reply)
 *   udp_probe send ADDR PORT SIZE COUNT MBIT  COUNT datagrams of SIZE (>= 8) bytes
 *       paced at MBIT Mbit/s of UDP payload (0: as fast as sendmmsg goes), each
 *       starting with its number
 *   udp_probe sink PORT IDLE_MS               counts datagrams until IDLE_MS pass
 *       without one (after the first); prints "received N bytes B span_us T
 *       rate_bps R reordered O last_us L early E dups D" (R: bytes after the first
 *       over the span between first and last; O: datagrams numbered below one
 *       already received; L: CLOCK_MONOTONIC of the last; E: datagrams that
 *       arrived while one numbered below them had not, i.e. that overtook; D:
 *       numbers received twice; E and D count numbers below SEEN_MAX)
 * ADDR is IPv4 or IPv6; the listening modes take both.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {(time_t)(t / 1000000), (long)(t % 1000000) * 1000};

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int listen_on(const char *port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_port = htons((uint16_t)atoi(port))};
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), off = 0, big = 8 << 20;

	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("udp_probe: bind");
		exit(1);
	}
	return fd;
}

static int connect_to(const char *addr, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *ai;
	int fd;

	if (getaddrinfo(addr, port, &hints, &ai)) {
		fprintf(stderr, "udp_probe: bad address %s\n", addr);
		exit(2);
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("udp_probe: connect");
		exit(1);
	}
	freeaddrinfo(ai);
	return fd;
}

static _Noreturn void echo(int fd)
{
	char buf[65536];
	struct sockaddr_storage from;

	for (;;) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n >= 0)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int rtt(int fd, long count, long gap)
{
	uint64_t *rtts = calloc((size_t)count, sizeof(*rtts)), next = now_us(), deadline = 0;
	char *seen = calloc((size_t)count, 1);
	long sent = 0, got = 0, bursts = 0;

	while (!deadline || now_us() < deadline) {
		struct pollfd p = {fd, POLLIN, 0};
		uint64_t t = now_us(), msg[2];
		int wait = sent < count ? (int)((next > t ? next - t : 0) / 1000)
					: (int)((deadline - t) / 1000 + 1);

		if (poll(&p, 1, wait) > 0 && recv(fd, msg, sizeof(msg), 0) == sizeof(msg) &&
		    msg[0] < (uint64_t)count && !seen[msg[0]]) {
			seen[msg[0]] = 1;
			rtts[got++] = now_us() - msg[1];
		}
		t = now_us();
		if (sent < count && t >= next) {
			msg[0] = (uint64_t)sent++;
			msg[1] = t;
			send(fd, msg, sizeof(msg), 0);
			next += (uint64_t)gap;
			if (sent == count)
				deadline = t + 1000000;
		}
	}
	for (long i = 0; i < count; i++)
		bursts += !seen[i] && (i == 0 || seen[i - 1]);
	qsort(rtts, (size_t)got, sizeof(*rtts), cmp_u64);
	printf("sent %ld received %ld min_us %llu median_us %llu bursts %ld\n", sent, got,
	       got ? (unsigned long long)rtts[0] : 0ULL,
	       got ? (unsigned long long)rtts[got / 2] : 0ULL, bursts);
	return 0;
}

static int send_unpaced(int fd, char *buf, long size, long count)
{
	enum { BATCH = 64 };
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	size_t len = size < (long)sizeof(bufs[0]) ? (size_t)size : sizeof(bufs[0]);

	for (long i = 0; i < count;) {
		int n = count - i < BATCH ? (int)(count - i) : BATCH, sent;

		for (int k = 0; k < n; k++) {
			uint64_t seq = (uint64_t)(i + k);

			memcpy(bufs[k], buf, len);
			memcpy(bufs[k], &seq, sizeof(seq));
			iov[k] = (struct iovec){bufs[k], len};
			msgs[k] =
				(struct mmsghdr){.msg_hdr = {.msg_iov = &iov[k], .msg_iovlen = 1}};
		}
		sent = sendmmsg(fd, msgs, (unsigned int)n, 0);
		if (sent <= 0)
			continue; /* ENOBUFS: the device queue is full, try again */
		i += sent;
	}
	return 0;
}

static int send_paced(int fd, long size, long count, double mbit)
{
	char *buf = calloc(1, size < 8 ? 8 : (size_t)size);
	uint64_t start = now_us();
	double gap = (double)size * 8 / mbit; /* us */

	if (mbit <= 0)
		return send_unpaced(fd, buf, size, count);
	for (long i = 0; i < count; i++) {
		uint64_t seq = (uint64_t)i;

		sleep_until(start + (uint64_t)((double)i * gap));
		memcpy(buf, &seq, sizeof(seq));
		send(fd, buf, (size_t)size, 0);
	}
	return 0;
}

#define SEEN_MAX (1u << 20)

static int sink(int fd, long idle_ms)
{
	static uint8_t seen[SEEN_MAX / 8];
	char buf[65536];
	uint64_t first = 0, last = 0, bytes = 0, first_len = 0, top = 0, seq, low = 0;
	long n = 0, reordered = 0, early = 0, dups = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t len;

		if (poll(&p, 1, n ? (int)idle_ms : -1) <= 0)
			break;
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			continue;
		last = now_us();
		if (!n++) {
			first = last;
			first_len = (uint64_t)len;
		}
		bytes += (uint64_t)len;
		if (len >= (ssize_t)sizeof(seq)) {
			memcpy(&seq, buf, sizeof(seq));
			if (n > 1 && seq < top)
				reordered++;
			else
				top = seq;
			if (seq < SEEN_MAX && (seen[seq / 8] >> (seq % 8) & 1)) {
				dups++;
			} else if (seq < SEEN_MAX) {
				early += seq > low;
				seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
				while (low < SEEN_MAX && (seen[low / 8] >> (low % 8) & 1))
					low++;
			}
		}
	}
	printf("received %ld bytes %llu span_us %llu rate_bps %.0f reordered %ld last_us %llu"
	       " early %ld dups %ld\n",
	       n, (unsigned long long)bytes, (unsigned long long)(last - first),
	       last > first ? (double)(bytes - first_len) * 8e6 / (double)(last - first) : 0.0,
	       reordered, (unsigned long long)last, early, dups);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "echo"))
		echo(listen_on(argv[2]));
	if (argc == 6 && !strcmp(argv[1], "rtt"))
		return rtt(connect_to(argv[2], argv[3]), atol(argv[4]), atol(argv[5]));
	if (argc == 7 && !strcmp(argv[1], "send"))
		return send_paced(connect_to(argv[2], argv[3]), atol(argv[4]), atol(argv[5]),
				  atof(argv[6]));
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return sink(listen_on(argv[2]), atol(argv[3]));
	fprintf(stderr, "usage: udp_probe echo PORT | rtt ADDR PORT COUNT GAP_US |"
			" send ADDR PORT SIZE COUNT MBIT | sink PORT IDLE_MS\n");
	return 2;
}
