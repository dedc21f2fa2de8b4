/* fuota-sim's uplink schedule (tools/fuota-sim/sim_sched.h): the devices come out in time order,
 * a device booked again comes out again, and a full schedule refuses more. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "sim_sched.h"

static void test_order(void **state)
{
	enum { N = 5000 };
	struct sim_sched h;
	uint64_t rng = 88172645463325252ull;
	int64_t prev = INT64_MIN, at;
	uint32_t idx, seen = 0;
	static int64_t when[N];

	(void)state;
	assert_int_equal(sim_sched_init(&h, N), FUOTA_OK);
	for (uint32_t i = 0; i < N; i++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		when[i] = (int64_t)(rng % 60000); /* ties too */
		assert_int_equal(sim_sched_push(&h, i, when[i]), FUOTA_OK);
	}
	assert_int_equal(sim_sched_push(&h, N, 0), FUOTA_ERR_NO_SPACE);
	while (sim_sched_peek(&h, &idx, &at)) {
		assert_true(at >= prev);
		assert_true(idx < N);
		assert_int_equal(at, when[idx]);
		prev = at;
		seen++;
		sim_sched_pop(&h);
	}
	assert_int_equal(seen, N);
	sim_sched_pop(&h); /* empty: nothing */
	sim_sched_free(&h);
	sim_sched_free(&h);
	sim_sched_free(NULL);
}

/* The simulator's use: the earliest device sends and is booked one period later; over three
 * periods every device comes out three times, one period apart. */
static void test_periodic(void **state)
{
	enum { N = 100, PERIOD = 1000 };
	struct sim_sched h;
	int64_t last[N], at;
	uint32_t idx, count[N] = {0};

	(void)state;
	assert_int_equal(sim_sched_init(&h, N), FUOTA_OK);
	for (uint32_t i = 0; i < N; i++) {
		last[i] = -1;
		assert_int_equal(sim_sched_push(&h, i, (int64_t)((i * 37) % PERIOD)), FUOTA_OK);
	}
	while (sim_sched_peek(&h, &idx, &at) && at < 3 * PERIOD) {
		sim_sched_pop(&h);
		if (last[idx] >= 0)
			assert_int_equal(at - last[idx], PERIOD);
		last[idx] = at;
		count[idx]++;
		assert_int_equal(sim_sched_push(&h, idx, at + PERIOD), FUOTA_OK);
	}
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(count[i], 3);
	assert_int_equal(h.n, N);
	sim_sched_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_order),
	        cmocka_unit_test(test_periodic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
