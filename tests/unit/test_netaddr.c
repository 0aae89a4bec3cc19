/* Addresses as text both ways, comparison, interface lookups on "lo". */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mpq/io/netaddr.h"

static void round_trip(const char *text, const char *want)
{
	char buf[MPQ_ADDR_STRLEN];
	mpq_addr a, b;

	assert_int_equal(mpq_addr_parse(&a, text), 0);
	assert_int_equal(mpq_addr_format(&a, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(mpq_addr_parse(&b, buf), 0);
	assert_true(mpq_addr_equal(&a, &b));
	assert_int_equal(a.len, b.len);
}

static void parse_format_round_trips(void **state)
{
	char num[MPQ_ADDR_STRLEN];
	mpq_addr a;

	round_trip("1.2.3.4:443", "1.2.3.4:443");
	round_trip("0.0.0.0:0", "0.0.0.0:0");
	round_trip("255.255.255.255:65535", "255.255.255.255:65535");
	round_trip("127.0.0.1:080", "127.0.0.1:80");
	round_trip("[::1]:6121", "[::1]:6121");
	round_trip("[::]:0", "[::]:0");
	round_trip("[2001:DB8:0:0::1]:80", "[2001:db8::1]:80");
	round_trip("[::ffff:1.2.3.4]:9", "[::ffff:1.2.3.4]:9");
	/* Scopes: an interface name, or its number, print as the name. */
	round_trip("[fe80::1%lo]:443", "[fe80::1%lo]:443");
	snprintf(num, sizeof(num), "[fe80::1%%%u]:443", if_nametoindex("lo"));
	round_trip(num, "[fe80::1%lo]:443");

	assert_int_equal(mpq_addr_parse(&a, "10.1.2.3:6121"), 0);
	assert_int_equal(a.ss.ss_family, AF_INET);
	assert_int_equal(a.len, sizeof(struct sockaddr_in));
	assert_int_equal(mpq_addr_port(&a), 6121);
	assert_int_equal(((struct sockaddr_in *)&a.ss)->sin_addr.s_addr, htonl(0x0a010203));
	assert_int_equal(mpq_addr_parse(&a, "[fe80::2%1]:1"), 0);
	assert_int_equal(a.ss.ss_family, AF_INET6);
	assert_int_equal(a.len, sizeof(struct sockaddr_in6));
	assert_int_equal(((struct sockaddr_in6 *)&a.ss)->sin6_scope_id, 1);
}

static void bad_strings_rejected(void **state)
{
	static const char *const bad[] = {
		"",
		":",
		"1.2.3.4",
		"1.2.3.4:",
		"1.2.3.4:65536",
		"1.2.3.4:-1",
		"1.2.3.4:+1",
		"1.2.3.4:80x",
		"1.2.3.4: 80",
		" 1.2.3.4:80",
		"1.2.3:80",
		"1.2.3.4.5:80",
		"256.1.1.1:80",
		"::1:80",
		"::1",
		"[::1]",
		"[::1]80",
		"[::1]:",
		"[::1]:x",
		"[1.2.3.4]:80",
		"[::1:80",
		"::1]:80",
		"[::1%]:80",
		"[::g]:80",
		"localhost:80",
		"1.2.3.4%lo:80",
		"[::1]:99999999999999999999",
		"[]:80",
	};
	mpq_addr a, keep;

	memset(&keep, 0xa5, sizeof(keep));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = keep;
		if (mpq_addr_parse(&a, bad[i]) != MPQ_ERR_INVALID_ARGUMENT)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_memory_equal(&a, &keep, sizeof(a)); /* untouched */
	}
	/* Well-formed, but the scope names no interface. */
	assert_int_equal(mpq_addr_parse(&a, "[fe80::1%nosuchif0]:80"), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_addr_parse(NULL, "1.2.3.4:80"), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_addr_parse(&a, NULL), MPQ_ERR_INVALID_ARGUMENT);
}

static void parse_ip_without_port(void **state)
{
	char buf[MPQ_ADDR_STRLEN];
	mpq_addr a;

	assert_int_equal(mpq_addr_parse_ip(&a, "10.0.0.1", 6121), 0);
	assert_int_equal(mpq_addr_format(&a, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "10.0.0.1:6121");
	assert_int_equal(mpq_addr_parse_ip(&a, "::1", 443), 0);
	assert_int_equal(mpq_addr_format(&a, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "[::1]:443");
	assert_int_equal(mpq_addr_parse_ip(&a, "[fe80::1%lo]", 7), 0);
	assert_int_equal(mpq_addr_format_ip(&a, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "fe80::1%lo");
	assert_int_equal(mpq_addr_port(&a), 7);
	assert_int_equal(mpq_addr_format_ip(&a, buf, 10), MPQ_ERR_NOBUF);
	assert_int_equal(mpq_addr_format_ip(&a, buf, 11), 10);

	static const char *const bad[] = {"",	       "[]",	   "[::1", "::1]",    "1.2.3.4:80",
					  "[1.2.3.4]", "[::1]:80", "host", "1.2.3.4 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mpq_addr_parse_ip(&a, bad[i], 1) != MPQ_ERR_INVALID_ARGUMENT)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void format_errors(void **state)
{
	char buf[MPQ_ADDR_STRLEN];
	mpq_addr a;

	assert_int_equal(mpq_addr_parse(&a, "[2001:db8::1]:80"), 0);
	assert_int_equal(mpq_addr_format(&a, buf, 16), MPQ_ERR_NOBUF); /* needs 17 */
	assert_int_equal(mpq_addr_format(&a, buf, 17), 16);
	memset(&a, 0, sizeof(a));
	assert_int_equal(mpq_addr_format(&a, buf, sizeof(buf)), MPQ_ERR_INVALID_ARGUMENT);
	a.ss.ss_family = AF_UNIX;
	a.len = sizeof(a.ss);
	assert_int_equal(mpq_addr_format(&a, buf, sizeof(buf)), MPQ_ERR_INVALID_ARGUMENT);
}

static void compare_and_build(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(5)};
	mpq_addr a, b;

	assert_int_equal(mpq_addr_parse(&a, "127.0.0.1:5"), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(mpq_addr_set(&b, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_true(mpq_addr_equal(&a, &b));
	mpq_addr_set_port(&b, 6);
	assert_false(mpq_addr_equal(&a, &b));
	assert_true(mpq_addr_equal_ip(&a, &b));
	assert_int_equal(mpq_addr_set(&b, (struct sockaddr *)&sin, sizeof(sin) - 1),
			 MPQ_ERR_INVALID_ARGUMENT);

	assert_int_equal(mpq_addr_parse(&b, "[::ffff:127.0.0.1]:5"), 0);
	assert_false(mpq_addr_equal_ip(&a, &b)); /* families differ */
	assert_int_equal(mpq_addr_parse(&a, "[fe80::1%1]:5"), 0);
	assert_int_equal(mpq_addr_parse(&b, "[fe80::1]:5"), 0);
	assert_false(mpq_addr_equal(&a, &b)); /* scopes differ */

	assert_int_equal(mpq_addr_any(&a, AF_INET6, 9), 0);
	assert_true(mpq_addr_is_any(&a));
	assert_int_equal(mpq_addr_port(&a), 9);
	assert_int_equal(mpq_addr_parse(&b, "[::]:9"), 0);
	assert_true(mpq_addr_equal(&a, &b));
	assert_int_equal(mpq_addr_any(&a, AF_INET, 0), 0);
	assert_true(mpq_addr_is_any(&a));
	assert_int_equal(mpq_addr_parse(&b, "127.0.0.1:0"), 0);
	assert_false(mpq_addr_is_any(&b));
	assert_int_equal(mpq_addr_any(&a, AF_UNIX, 0), MPQ_ERR_INVALID_ARGUMENT);
}

static void interfaces(void **state)
{
	char buf[MPQ_ADDR_STRLEN];
	bool saw_v4 = false;
	mpq_addr addrs[16];
	uint32_t index = 0;
	int n;

	assert_int_equal(mpq_if_index("lo", &index), 0);
	assert_int_equal(index, if_nametoindex("lo"));
	assert_int_equal(mpq_if_index("nosuchif0", &index), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_if_index("", &index), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_if_index("a-name-longer-than-ifnamsiz", &index),
			 MPQ_ERR_INVALID_ARGUMENT);

	n = mpq_if_addrs("lo", addrs, 16);
	assert_true(n >= 1 && n <= 16);
	for (int i = 0; i < n; i++) {
		assert_int_equal(mpq_addr_port(&addrs[i]), 0);
		assert_true(mpq_addr_format_ip(&addrs[i], buf, sizeof(buf)) > 0);
		if (strcmp(buf, "127.0.0.1") == 0)
			saw_v4 = true;
	}
	assert_true(saw_v4);
	/* Counting only, and a short array: the count is the same. */
	assert_int_equal(mpq_if_addrs("lo", NULL, 0), n);
	assert_int_equal(mpq_if_addrs("lo", addrs, 1), n);
	assert_int_equal(mpq_if_addrs("nosuchif0", addrs, 16), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_if_addrs("lo", NULL, 1), MPQ_ERR_INVALID_ARGUMENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_format_round_trips), cmocka_unit_test(bad_strings_rejected),
		cmocka_unit_test(parse_ip_without_port),    cmocka_unit_test(format_errors),
		cmocka_unit_test(compare_and_build),	    cmocka_unit_test(interfaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
