/* The session windows told to fuota-gw and the gateways kept from new sessions (modem_gw.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/modem_gw.h"

/* A whole hour (Unix ms). */
#define NOW INT64_C(1796637600000)
#define MIN INT64_C(60000)
#define H   INT64_C(3600000)

static void test_windows_known(void **state)
{
	struct modem_session ss[3] = {
	        {.job_id = 7, .start_ms = NOW + 30 * MIN, .end_ms = NOW + 90 * MIN},
	        {.job_id = 3, .start_ms = NOW + 5 * MIN + 500, .end_ms = NOW + 10 * MIN + 1},
	        /* Over 3 minutes ago: past its guard, left out. */
	        {.job_id = 9, .start_ms = NOW - 60 * MIN, .end_ms = NOW - 3 * MIN},
	};
	struct modem_gw_window w[3];

	(void)state;
	assert_int_equal(policy_modem_windows(ss, 3, NOW, w), 2);
	assert_int_equal(w[0].job_id, 3);
	assert_int_equal(w[0].start_s, (NOW + 5 * MIN) / 1000);
	assert_int_equal(w[0].end_s, (NOW + 10 * MIN) / 1000 + 1); /* rounded out */
	assert_int_equal(w[1].job_id, 7);
	assert_int_equal(w[1].end_s, (NOW + 90 * MIN) / 1000);
	/* One that ended a minute ago is still within the guard: kept. */
	ss[2].end_ms = NOW - MIN;
	assert_int_equal(policy_modem_windows(ss, 3, NOW, w), 3);
	assert_int_equal(w[0].job_id, 9);
	assert_int_equal(policy_modem_windows(NULL, 0, NOW, w), 0);
}

/* More sessions than fuota-gw takes (it refuses the whole message past MODEM_GW_WINDOWS_MAX and
 * keeps the windows it had): the latest ones told as one window that covers them all. */
static void test_windows_capped(void **state)
{
	enum { N = MODEM_GW_WINDOWS_MAX + 6 };
	struct modem_session ss[N];
	struct modem_gw_window w[N];
	size_t k;

	(void)state;
	for (int i = 0; i < N; i++)
		ss[i] = (struct modem_session){.job_id = 100 + i,
		                               .start_ms = NOW + i * H,
		                               .end_ms = NOW + i * H + 10 * MIN};
	ss[N - 3].end_ms = NOW + 200 * H; /* not the last to start, the last to end */
	k = policy_modem_windows(ss, N, NOW, w);
	assert_int_equal(k, MODEM_GW_WINDOWS_MAX);
	for (size_t i = 0; i + 1 < k; i++)
		assert_int_equal(w[i].job_id, 100 + (int64_t)i);
	assert_int_equal(w[k - 1].start_s, (NOW + (int64_t)(k - 1) * H) / 1000);
	assert_int_equal(w[k - 1].end_s, (NOW + 200 * H) / 1000);
}

static void test_windows_open(void **state)
{
	struct modem_session s = {.job_id = 4, .start_ms = NOW + 20 * MIN, .end_ms = 0};
	struct modem_gw_window w, w2;

	(void)state;
	/* A job in its setup, asked from now on: from the hour, to two hours after it. */
	s.start_ms = NOW + 20 * MIN;
	assert_int_equal(policy_modem_windows(&s, 1, NOW + 20 * MIN, &w), 1);
	assert_int_equal(w.start_s, NOW / 1000);
	assert_int_equal(w.end_s, (NOW + 2 * H) / 1000);
	/* The same message 30 minutes later (the session start still now): not republished. */
	s.start_ms = NOW + 50 * MIN;
	assert_int_equal(policy_modem_windows(&s, 1, NOW + 50 * MIN, &w2), 1);
	assert_int_equal(w2.start_s, w.start_s);
	assert_int_equal(w2.end_s, w.end_s);
	/* The next hour: moved on, always at least an hour ahead. */
	s.start_ms = NOW + 61 * MIN;
	assert_int_equal(policy_modem_windows(&s, 1, NOW + 61 * MIN, &w2), 1);
	assert_int_equal(w2.end_s, (NOW + 3 * H) / 1000);
	assert_true(w2.end_s * 1000 - (NOW + 61 * MIN) >= H);
	/* A requested start tomorrow. */
	s.start_ms = NOW + 24 * H + 10 * MIN;
	assert_int_equal(policy_modem_windows(&s, 1, NOW, &w2), 1);
	assert_int_equal(w2.start_s, (NOW + 24 * H) / 1000);
	assert_int_equal(w2.end_s, (NOW + 26 * H) / 1000);
}

static void test_windows_class_b(void **state)
{
	struct modem_session s = {.job_id = 1,
	                          .start_ms = 1000 * 128 * 10 + 5000,
	                          .end_ms = 1000 * 128 * 12 + 1,
	                          .class_b = true};
	struct modem_gw_window w;

	(void)state;
	assert_int_equal(policy_modem_windows(&s, 1, 0, &w), 1);
	assert_int_equal(w.start_s, 128 * 10);
	assert_int_equal(w.end_s, 128 * 13);
}

static void test_gw_use(void **state)
{
	struct modem_gw_update u[2] = {
	        {.running = false, .start_ms = NOW + 3 * H, .duration_ms = 40 * MIN},
	        {.running = false, .start_ms = NOW - 2 * H, .duration_ms = 40 * MIN},
	};

	(void)state;
	assert_int_equal(policy_modem_gw_use(NULL, 0, NOW, NOW + H), MODEM_GW_FREE);
	/* Scheduled after the session and its guard; another long over. */
	assert_int_equal(policy_modem_gw_use(u, 2, NOW, NOW + H), MODEM_GW_FREE);
	/* The session ends within the guard of the update's start. */
	assert_int_equal(policy_modem_gw_use(u, 2, NOW, NOW + 3 * H - MIN), MODEM_GW_UPDATE_DUE);
	/* A session with no known end: any update after its start is in the way. */
	assert_int_equal(policy_modem_gw_use(u, 2, NOW, 0), MODEM_GW_UPDATE_DUE);
	/* The update would end a minute before the session: within the guard. */
	assert_int_equal(policy_modem_gw_use(u, 1, NOW + 3 * H + 41 * MIN, NOW + 5 * H),
	                 MODEM_GW_UPDATE_DUE);
	assert_int_equal(policy_modem_gw_use(u, 1, NOW + 3 * H + 43 * MIN, NOW + 5 * H),
	                 MODEM_GW_FREE);
	/* Running, whatever the times. */
	u[1].running = true;
	assert_int_equal(policy_modem_gw_use(u, 2, NOW + 10 * H, NOW + 11 * H), MODEM_GW_UPDATING);
	assert_string_equal(policy_modem_gw_use_str(MODEM_GW_UPDATING), "its modem is updating");
	assert_string_equal(policy_modem_gw_use_str(MODEM_GW_FREE), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_windows_known), cmocka_unit_test(test_windows_capped),
	        cmocka_unit_test(test_windows_open),  cmocka_unit_test(test_windows_class_b),
	        cmocka_unit_test(test_gw_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
