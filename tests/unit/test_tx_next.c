/* What a job's multicast transmission does next (server/policy, fuota/tx_next.h): the engine's
 * decision between a refused frame, a round's status request, the next fragment, waiting and
 * idling, without a database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fuota/tx_next.h"

/* A job of 10 fragments with 5 parity rows, fixed redundancy, one gateway. */
static struct tx_state job(const struct tx_session *ss, size_t n)
{
	struct tx_state st = {.n_gateways = 1, .red = {10, 5, false, 0}, .ss = ss, .n_ss = n};

	return st;
}

static void test_gate(void **state)
{
	int64_t until = 0;

	(void)state;
	assert_int_equal(policy_tx_gate(1000, 1500, 100000, 100, &until), TX_WAIT);
	assert_int_equal(until, 1500);
	assert_int_equal(policy_tx_gate(1500, 1500, 100000, 100, &until), TX_SEND);
	/* On the air until 100000: the session is over by then. */
	assert_int_equal(policy_tx_gate(99900, 1500, 100000, 100, &until), TX_END);
	assert_int_equal(policy_tx_gate(99899, 1500, 100000, 100, &until), TX_SEND);
}

static void test_fragment_then_idle(void **state)
{
	struct tx_session ss[1] = {{.frag_index = 0, .devices = 3, .pending = 3, .next_n = 1}};
	struct tx_state st = job(ss, 1);
	struct tx_decision d;

	(void)state;
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_FRAGMENT);
	assert_int_equal(d.session, 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.stop, 0);
	ss[0].next_n = 15; /* 14 sent: the last parity row goes */
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_FRAGMENT);
	assert_int_equal(d.n, 15);
	ss[0].next_n = 16; /* every frame sent: stop the session, idle */
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_IDLE);
	assert_int_equal(d.stop, 1);
	ss[0].done = true; /* stored: not asked again */
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_IDLE);
	assert_int_equal(d.stop, 0);
}

static void test_resend_first(void **state)
{
	struct tx_session ss[1] = {{.frag_index = 0, .devices = 3, .pending = 3, .next_n = 4}};
	struct tx_state st = job(ss, 1);
	struct tx_decision d;

	(void)state;
	st.resend = true;
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_RESEND);
	assert_int_equal(d.stop, 0);
}

static void test_no_gateway_idles(void **state)
{
	struct tx_session ss[1] = {{.frag_index = 0, .devices = 3, .pending = 3, .next_n = 16}};
	struct tx_state st = job(ss, 1);
	struct tx_decision d;

	(void)state;
	st.n_gateways = 0;
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_IDLE);
	assert_int_equal(d.stop, 0); /* nothing is judged without a gateway */
}

/* Two sessions (TS004 v1 and v2) interleave: the fewest sent first, ties to the lower index. */
static void test_interleave(void **state)
{
	struct tx_session ss[2] = {{.frag_index = 0, .devices = 2, .pending = 2, .next_n = 5},
	                           {.frag_index = 1, .devices = 1, .pending = 1, .next_n = 3}};
	struct tx_state st = job(ss, 2);
	struct tx_decision d;

	(void)state;
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_FRAGMENT);
	assert_int_equal(d.session, 1);
	assert_int_equal(d.n, 3);
	ss[1].next_n = 5;
	policy_tx_next(&st, &d);
	assert_int_equal(d.session, 0);
}

/* Rounds: at the end of a batch a session is not stopped; once every live session stands there,
 * each asks once, the last one marked. */
static void test_rounds_status(void **state)
{
	struct tx_session ss[2] = {
	        {.frag_index = 0, .devices = 2, .pending = 2, .next_n = 13, .round_end = 12},
	        {.frag_index = 1, .devices = 1, .pending = 1, .next_n = 12, .round_end = 12}};
	struct tx_state st = job(ss, 2);
	struct tx_decision d;

	(void)state;
	st.rounds = true;
	st.red = (struct engine_redundancy){10, 2, true, 10};
	/* Session 1 has one frame of its batch left: it goes, nobody asks yet. */
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_FRAGMENT);
	assert_int_equal(d.session, 1);
	assert_int_equal(d.stop, 0);
	ss[1].next_n = 13;
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_STATUS);
	assert_int_equal(d.session, 0);
	assert_false(d.last_status);
	ss[0].asked_at = 12;
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_STATUS);
	assert_int_equal(d.session, 1);
	assert_true(d.last_status);
	ss[1].asked_at = 12;
	/* Both asked, the next batch not sized yet: nothing to send, nothing stopped. */
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_IDLE);
	assert_int_equal(d.stop, 0);
	/* A session whose devices all reported stops; the other goes on with its next batch. */
	ss[0].pending = 0;
	ss[1].round_end = 14;
	policy_tx_next(&st, &d);
	assert_int_equal(d.action, TX_FRAGMENT);
	assert_int_equal(d.session, 1);
	assert_int_equal(d.n, 13);
	assert_int_equal(d.stop, 1);
}

/* A GPS-timed frame goes right after its gateways' previous one, but never less than the lead
 * after the clock read when it is handed over. */
static void test_gps_on_air(void **state)
{
	(void)state;
	/* Gateways busy until 5000, handed over at 4000: back to back. */
	assert_int_equal(policy_gps_on_air(5000, 4000, 20, 500), 5020);
	/* The tick began at 4000 but 250 ms of database work went by: 500 ms after 4700. */
	assert_int_equal(policy_gps_on_air(5000, 4700, 20, 500), 5200);
	/* Gateways idle for long: the lead alone. */
	assert_int_equal(policy_gps_on_air(0, 4000, 20, 500), 4500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gate),         cmocka_unit_test(test_fragment_then_idle),
	        cmocka_unit_test(test_resend_first), cmocka_unit_test(test_no_gateway_idles),
	        cmocka_unit_test(test_interleave),   cmocka_unit_test(test_rounds_status),
	        cmocka_unit_test(test_gps_on_air),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
