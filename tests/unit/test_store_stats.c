/* When the store refreshes a table's planner statistics after a bulk insert
 * (server/store/src/store_stats.h; no database). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_stats.h"

static void test_stale(void **state)
{
	static const struct {
		uint64_t n_new;
		double reltuples;
		bool stale;
	} cases[] = {
	        {100000, -1, true},    /* never analyzed (a fresh database) */
	        {100000, 0, true},     /* analyzed while empty */
	        {100000, 20000, true}, /* a table that grows fivefold */
	        {3000, 20000, true},   /* by 15 % */
	        {1000, 20000, false},  /* by 5 %: autovacuum's business */
	        {999, -1, false},      /* small jobs never pay for ANALYZE */
	        {0, -1, false},           {1000, -1, true},
	        {100000, 1000000, false}, {100001, 1000000, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(store_stats_stale(cases[i].n_new, cases[i].reltuples),
		                 cases[i].stale);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
