/* relay_decide, the backhaul relay's choice of its next action, from state snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fuota/relay.h"

/* A bridged session with nothing to move, at t = 1000 ms. */
static struct relay_view idle(void)
{
	struct relay_view v = {.link_up = true,
	                       .client = true,
	                       .sock_open = true,
	                       .down_cap = 4096,
	                       .now_ms = 1000};
	return v;
}

static void test_link(void **state)
{
	struct relay_view v = {.now_ms = 1000, .pdp_retry_ms = 2000};

	(void)state;
	assert_int_equal(relay_decide(&v), RELAY_WAIT); /* backing off */
	v.now_ms = 2000;
	assert_int_equal(relay_decide(&v), RELAY_PDP_UP);
	v.client = true; /* the link went with a client on it: end the session first */
	assert_int_equal(relay_decide(&v), RELAY_END_SESSION);
	v.client = false;
	v.sock_open = true;
	assert_int_equal(relay_decide(&v), RELAY_END_SESSION);
}

static void test_session(void **state)
{
	struct relay_view v = idle();

	(void)state;
	assert_int_equal(relay_decide(&v), RELAY_WAIT);
	v.sock_open = false;
	assert_int_equal(relay_decide(&v), RELAY_OPEN);
	v.client_eof = true; /* the client left before the socket was opened */
	assert_int_equal(relay_decide(&v), RELAY_END_SESSION);
	v = idle();
	v.client = false; /* the client left: the modem socket goes too */
	assert_int_equal(relay_decide(&v), RELAY_END_SESSION);
	v.sock_open = false;
	assert_int_equal(relay_decide(&v), RELAY_WAIT);
}

static void test_flow(void **state)
{
	struct relay_view v = idle();

	(void)state;
	v.up_n = 10;
	v.modem_pending = 5;
	assert_int_equal(relay_decide(&v), RELAY_READ); /* reading first */
	v.down_n = v.down_cap;                          /* the client is slow: no room */
	assert_int_equal(relay_decide(&v), RELAY_WRITE);
	v.write_retry_ms = 1020; /* the window was full a moment ago */
	assert_int_equal(relay_decide(&v), RELAY_WAIT);
	v.now_ms = 1020;
	assert_int_equal(relay_decide(&v), RELAY_WRITE);
	v.client_eof = true; /* the client's last bytes still go before the session ends */
	assert_int_equal(relay_decide(&v), RELAY_WRITE);
	v.up_n = 0;
	assert_int_equal(relay_decide(&v), RELAY_END_SESSION);
}

static void test_closed(void **state)
{
	struct relay_view v = idle();

	(void)state;
	v.sock_closed = true;
	v.modem_pending = 100;
	assert_int_equal(relay_decide(&v), RELAY_READ); /* drain what the modem kept */
	v.modem_pending = 0;
	v.down_n = 100;
	v.up_n = 50; /* nothing is written to a closed socket */
	assert_int_equal(relay_decide(&v), RELAY_WAIT);
	v.down_n = 0; /* the client has it all */
	assert_int_equal(relay_decide(&v), RELAY_END_SESSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_link),
	        cmocka_unit_test(test_session),
	        cmocka_unit_test(test_flow),
	        cmocka_unit_test(test_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
