/* Half-open connections counted by client address: IPv4 addresses, IPv6 /64s,
 * any port; removal; the capacity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mpq/io/netaddr.h"
#include "quic/halfopen.h"

static mpq_addr at(const char *text)
{
	mpq_addr a;
	assert_int_equal(mpq_addr_parse(&a, text), 0);
	return a;
}

static void counts_by_address(void **state)
{
	(void)state;
	mpq_halfopen h;
	int conns[6];
	assert_int_equal(mpq_halfopen_init(&h, 5), 0);
	mpq_addr a = at("10.0.0.1:1000"), a2 = at("10.0.0.1:2000"), b = at("10.0.0.2:1000");
	mpq_addr v6 = at("[2001:db8:1:2::1]:443"), v6b = at("[2001:db8:1:2::99]:444"),
		 v6c = at("[2001:db8:1:3::1]:443");
	assert_int_equal(mpq_halfopen_add(&h, &conns[0], &a), 0);
	assert_int_equal(mpq_halfopen_add(&h, &conns[1], &a2), 0);
	assert_int_equal(mpq_halfopen_add(&h, &conns[2], &b), 0);
	assert_int_equal(mpq_halfopen_add(&h, &conns[3], &v6), 0);
	assert_int_equal(mpq_halfopen_add(&h, &conns[4], &v6b), 0);
	assert_int_equal(mpq_halfopen_add(&h, &conns[5], &v6c), MPQ_ERR_NOBUF);
	/* Ports do not matter; the IPv4 address does; an IPv6 /64 is one address. */
	assert_int_equal(mpq_halfopen_from(&h, &a), 2);
	assert_int_equal(mpq_halfopen_from(&h, &b), 1);
	assert_int_equal(mpq_halfopen_from(&h, &v6c), 0);
	assert_int_equal(mpq_halfopen_from(&h, &v6), 2);
	/* Removing one leaves the others; removing what is not there is harmless. */
	mpq_halfopen_remove(&h, &conns[0]);
	mpq_halfopen_remove(&h, &conns[0]);
	mpq_halfopen_remove(&h, &conns[5]);
	assert_int_equal(h.n, 4);
	assert_int_equal(mpq_halfopen_from(&h, &a), 1);
	assert_int_equal(mpq_halfopen_from(&h, &v6b), 2);
	assert_int_equal(mpq_halfopen_add(&h, &conns[5], &v6c), 0);
	assert_int_equal(mpq_halfopen_from(&h, &v6c), 1);
	mpq_halfopen_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_by_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
