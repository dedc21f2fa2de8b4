/* engine_seen.c: what the engine remembers of each device, and that it forgets the devices it has
 * not heard for hours (bounded memory). Uplinks here carry no gateway, so the flush has nothing to
 * write and no database is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine_int.h"
#include "fuota/err.h"

#define MIN_MS  (60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)
#define T0      1800000000000LL /* a Unix time in ms, on a minute boundary */

static void eui(char out[SENG_EUI_LEN], unsigned i)
{
	snprintf(out, SENG_EUI_LEN, "70b3d5%010x", i);
}

static void uplink(struct engine *e, unsigned dev, int64_t at_ms)
{
	struct cs_uplink u;

	memset(&u, 0, sizeof(u));
	eui(u.dev_eui, dev);
	assert_non_null(engine_seen_uplink(e, &u, at_ms));
}

static bool known(struct engine *e, unsigned dev)
{
	char id[SENG_EUI_LEN];

	eui(id, dev);
	return engine_seen_get(e, id, false) != NULL;
}

/* The flush of minute `now_ms` (the one before it was a minute earlier: the sweep runs). */
static void flush_at(struct engine *e, int64_t now_ms)
{
	e->seen_flushed_ms = now_ms - MIN_MS;
	assert_int_equal(engine_seen_flush(e, now_ms, false), FUOTA_OK);
}

static void test_old_goes_recent_stays(void **state)
{
	struct engine e;
	int64_t now = T0 + 3 * HOUR_MS + 2 * MIN_MS;

	(void)state;
	memset(&e, 0, sizeof(e));
	uplink(&e, 1, T0);               /* not heard for 3 h 2 min */
	uplink(&e, 2, T0 + 10 * MIN_MS); /* 2 h 52 min */
	uplink(&e, 3, now - MIN_MS);     /* a minute ago */
	uplink(&e, 4, T0);               /* heard long ago, but a request went */
	engine_seen_sent(&e, 7, "70b3d50000000004", "mc_setup", 1, 1, 15000, now - HOUR_MS,
	                 now - HOUR_MS + 15000);
	assert_int_equal(e.seen_n, 4);

	/* Within the same minute as the previous flush: no sweep. */
	e.seen_flushed_ms = now + 1000;
	assert_int_equal(engine_seen_flush(&e, now + 5000, false), FUOTA_OK);
	assert_int_equal(e.seen_n, 4);

	flush_at(&e, now);
	assert_false(known(&e, 1));
	assert_true(known(&e, 2));
	assert_true(known(&e, 3));
	assert_true(known(&e, 4));
	assert_int_equal(e.seen_n, 3);

	/* Heard again: a new record, period unknown again. */
	uplink(&e, 1, now);
	assert_true(known(&e, 1));
	assert_int_equal(e.seen_n, 4);
	engine_seen_free(&e);
}

/* Many records forgotten out of the middle of probe runs: every one kept is still found, every
 * one forgotten is not, and the table gives its memory back. */
static void test_sweep_keeps_lookups(void **state)
{
	struct engine e;
	const unsigned n = 20000;
	int64_t now = T0 + 4 * HOUR_MS;
	size_t cap_full;

	(void)state;
	memset(&e, 0, sizeof(e));
	for (unsigned i = 0; i < n; i++)
		uplink(&e, i, i % 16 == 0 ? now - MIN_MS : T0);
	assert_int_equal(e.seen_n, n);
	cap_full = e.seen_cap;
	flush_at(&e, now);
	assert_int_equal(e.seen_n, n / 16);
	for (unsigned i = 0; i < n; i++)
		assert_true(known(&e, i) == (i % 16 == 0));
	assert_true(e.seen_cap < cap_full);
	assert_true(e.seen_n * 2 <= e.seen_cap);
	print_message("engine_seen: %zu bytes a record, %zu slots for %zu devices (%.0f bytes a "
	              "device kept; %zu slots before the sweep)\n",
	              sizeof(struct engine_seen), e.seen_cap, e.seen_n,
	              (double)(e.seen_cap * sizeof(struct engine_seen)) / (double)e.seen_n,
	              cap_full);

	/* Later, all of them go. */
	flush_at(&e, now + 4 * HOUR_MS);
	assert_int_equal(e.seen_n, 0);
	for (unsigned i = 0; i < n; i += 16)
		assert_false(known(&e, i));
	engine_seen_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_old_goes_recent_stays),
	        cmocka_unit_test(test_sweep_keeps_lookups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
