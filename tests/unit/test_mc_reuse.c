/* Reuse of a multicast group across jobs (fuota/mc_reuse.h): which group a starting job reuses,
 * which devices skip McGroupSetupReq, the FCnt window of those set up, the McGroupUndefined
 * fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fuota/mc_reuse.h"

static void test_pick(void **state)
{
	static const struct {
		struct mc_reuse_group g[3];
		size_t n;
		int64_t want;
	} cases[] = {
	        /* nothing held: a fresh group */
	        {{{0}}, 0, 0},
	        {{{.id = 7, .holders = 3, .key_ok = true, .fcnt = 40}}, 1, 7},
	        /* the group most devices hold */
	        {{{.id = 7, .holders = 3, .key_ok = true}, {.id = 9, .holders = 5, .key_ok = true}},
	         2,
	         9},
	        /* a tie goes to the most recent group */
	        {{{.id = 9, .holders = 2, .key_ok = true}, {.id = 4, .holders = 2, .key_ok = true}},
	         2,
	         9},
	        /* a group a live job uses is not taken, the next one is */
	        {{{.id = 9, .holders = 5, .busy = true, .key_ok = true},
	          {.id = 4, .holders = 1, .key_ok = true}},
	         2,
	         4},
	        /* a key that cannot be opened, a counter near its end, no holder */
	        {{{.id = 9, .holders = 5, .key_ok = false},
	          {.id = 8, .holders = 5, .key_ok = true, .fcnt = UINT32_MAX - 5},
	          {.id = 3, .holders = 0, .key_ok = true}},
	         3,
	         0},
	        {{{.id = 0, .holders = 5, .key_ok = true}}, 1, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(mc_reuse_pick(cases[i].g, cases[i].n), cases[i].want);
	}
}

static void test_device(void **state)
{
	(void)state;
	assert_int_equal(mc_reuse_device(7, 7, true), MC_REUSE_SKIP);
	/* another group, none, or a fresh group of the job: set up */
	assert_int_equal(mc_reuse_device(6, 7, true), MC_REUSE_SETUP);
	assert_int_equal(mc_reuse_device(0, 7, true), MC_REUSE_SETUP);
	assert_int_equal(mc_reuse_device(7, 7, false), MC_REUSE_SETUP);
	assert_int_equal(mc_reuse_device(0, 0, true), MC_REUSE_SETUP);
	assert_int_equal(mc_reuse_device(-1, -1, true), MC_REUSE_SETUP);
}

static void test_min_fcnt(void **state)
{
	(void)state;
	assert_int_equal(mc_reuse_min_fcnt(false, 1234), 0);
	assert_int_equal(mc_reuse_min_fcnt(true, 1234), 1234);
	assert_int_equal(mc_reuse_min_fcnt(true, 0), 0);
}

static void test_fall_back(void **state)
{
	(void)state;
	assert_true(mc_reuse_fall_back(true, false));
	/* a device set up in this job, or one that fell back already, fails as before */
	assert_false(mc_reuse_fall_back(false, false));
	assert_false(mc_reuse_fall_back(true, true));
	assert_false(mc_reuse_fall_back(false, true));
}

/* A kept group is trusted for max_age_s after it was kept (default 30 days): the cutoff a record
 * must be after; exactly max_age_s old has expired. */
static void test_kept_after(void **state)
{
	const int64_t now = INT64_C(1800000000000);
	int64_t after;

	(void)state;
	after = mc_reuse_kept_after_ms(now, 3600);
	assert_int_equal(after, now - 3600000);
	assert_true(now - 3599999 > after);  /* kept just under an hour ago: still held */
	assert_false(now - 3600000 > after); /* an hour ago: expired */
	assert_int_equal(mc_reuse_kept_after_ms(now, 0), now - INT64_C(30) * 86400 * 1000);
	assert_int_equal(mc_reuse_kept_after_ms(now, MC_REUSE_MAX_AGE_S),
	                 mc_reuse_kept_after_ms(now, 0));
	/* The largest age the configuration takes (365 days) does not overflow. */
	assert_int_equal(mc_reuse_kept_after_ms(now, 31536000), now - INT64_C(31536000000));
}

static void test_frames_saved(void **state)
{
	(void)state;
	assert_int_equal(mc_reuse_frames_saved(0, 0), 0);
	assert_int_equal(mc_reuse_frames_saved(10, 0), 10);
	assert_int_equal(mc_reuse_frames_saved(10, 12), 22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_pick),         cmocka_unit_test(test_device),
	        cmocka_unit_test(test_min_fcnt),     cmocka_unit_test(test_fall_back),
	        cmocka_unit_test(test_frames_saved), cmocka_unit_test(test_kept_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
