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

/* A stored pair is written again after 10 minutes: not at every uplink of a device sending
 * every minute (100,000 of them: 3,300 rows a second). A new pair goes at once; the last flush
 * takes every change. */
static void test_gw_refresh(void **state)
{
	(void)state;
	assert_true(engine_seen_gw_due(T0, 0, false));
	assert_false(engine_seen_gw_due(T0, T0, false));
	assert_false(engine_seen_gw_due(T0 + MIN_MS, T0, false));
	assert_false(engine_seen_gw_due(T0 + 9 * MIN_MS, T0, false));
	assert_true(engine_seen_gw_due(T0 + 10 * MIN_MS, T0, false));
	assert_true(engine_seen_gw_due(T0 + MIN_MS, T0, true));
	assert_false(engine_seen_gw_due(T0, T0 + MIN_MS, true));
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
	engine_seen_sent(&e, 7, "70b3d50000000004", ENGINE_STEP_MC_SETUP, 1, 1, 15000,
	                 now - HOUR_MS, now - HOUR_MS + 15000);
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

static struct engine_seen *rec(struct engine *e, unsigned dev)
{
	char id[SENG_EUI_LEN];

	eui(id, dev);
	return engine_seen_get(e, id, false);
}

/* An inbound message whose database work is undone leaves no request it sent and no step it
 * left in memory; what the radio did (its uplink, a delivery) stays; the job rows and
 * FragIndexes read meanwhile are read again. */
static void test_batch_undo(void **state)
{
	struct engine e;
	struct engine_cache cache;
	struct engine_seen *r;
	const char *d1 = "70b3d50000000001", *d2 = "70b3d50000000002";
	const int64_t far = T0 + HOUR_MS; /* a stored deadline no delivery here moves */

	(void)state;
	memset(&e, 0, sizeof(e));
	memset(&cache, 0, sizeof(cache));
	cache.job_id = 7;
	cache.frag_index_known[1] = true;
	e.cache = &cache;
	e.jobs[0].j.id = 7;
	e.jobs[0].loaded_ms = T0;
	/* Before the batch: device 1 was sent its McClassCSessionReq, two copies queued. */
	uplink(&e, 1, T0);
	engine_seen_sent(&e, 7, d1, ENGINE_STEP_MC_SESSION, 1, 2, 15000, T0, far);

	engine_batch_begin(&e);
	/* Message A (kept): device 1's uplink delivers one copy. */
	assert_int_equal(engine_batch_mark(&e), 0);
	uplink(&e, 1, T0 + 10000);
	assert_int_equal(engine_seen_delivered(&e, rec(&e, 1), T0 + 10000), FUOTA_OK);
	/* Message B (undone): an answer moved device 1 on and sent the next request. */
	{
		size_t mark = engine_batch_mark(&e);

		uplink(&e, 1, T0 + 20000);
		engine_seen_moved(&e, d1);
		engine_seen_sent(&e, 7, d1, ENGINE_STEP_FRAG_SETUP, 1, 1, 15000, T0 + 20000,
		                 T0 + 35000);
		engine_batch_undo(&e, mark);
	}
	r = rec(&e, 1);
	assert_int_equal(r->step, ENGINE_STEP_MC_SESSION);
	assert_int_equal(r->job_id, 7);
	assert_int_equal(r->attempts, 1);
	assert_int_equal(r->queued, 1);               /* A's delivery stays */
	assert_int_equal(r->first_rx_ms, T0 + 10000); /* so does when it came */
	assert_int_equal(r->sent_ms, T0);
	assert_int_equal(r->deadline_ms, far);
	assert_int_equal(r->last_up_ms, T0 + 20000); /* B's uplink was heard */
	/* Read again after an undo. */
	assert_false(cache.frag_index_known[1]);
	assert_int_equal(e.jobs[0].j.id, 0);

	/* Message C (kept) sends device 2 a request, D (kept) a second one; the commit fails. */
	cache.frag_index_known[2] = true;
	e.jobs[1].j.id = 7;
	uplink(&e, 2, T0 + 30000);
	engine_seen_sent(&e, 7, d2, ENGINE_STEP_MC_SETUP, 1, 1, 15000, T0 + 30000, T0 + 45000);
	uplink(&e, 2, T0 + 40000);
	engine_seen_sent(&e, 7, d2, ENGINE_STEP_MC_SETUP, 2, 1, 15000, T0 + 40000, T0 + 55000);
	engine_batch_undo(&e, 0);
	r = rec(&e, 2);
	assert_non_null(r); /* heard: known */
	assert_int_equal(r->last_up_ms, T0 + 40000);
	assert_int_equal(r->job_id, 0); /* asked nothing */
	assert_int_equal(r->queued, 0);
	assert_int_equal(r->step, ENGINE_STEP_NONE);
	assert_int_equal(r->deadline_ms, 0);
	assert_false(engine_seen_first_rx(&e, 7, d2, ENGINE_STEP_MC_SETUP, &(int64_t){0}));
	r = rec(&e, 1);
	assert_int_equal(r->step, ENGINE_STEP_MC_SESSION);
	assert_int_equal(r->queued, 1);
	assert_false(cache.frag_index_known[2]);
	assert_int_equal(e.jobs[1].j.id, 0);
	engine_batch_end(&e);

	/* After the batch, changes are no longer noted: an undo takes nothing back. */
	engine_seen_sent(&e, 7, d2, ENGINE_STEP_MC_SETUP, 1, 1, 15000, T0 + 50000, T0 + 65000);
	engine_batch_undo(&e, 0);
	assert_int_equal(rec(&e, 2)->step, ENGINE_STEP_MC_SETUP);
	e.cache = NULL;
	engine_seen_free(&e);
}

/* A request sent afresh (attempt 1: a new step, or the step asked again from the start, as
 * after the session start moved) forgets when the former ones were delivered: they did not
 * carry it, and a StartMissed is judged by whether it was delivered (ans_match.h). */
static void test_new_request_forgets_deliveries(void **state)
{
	struct engine e;
	char d1[SENG_EUI_LEN];
	int64_t rx = 0, far = T0 + HOUR_MS;

	(void)state;
	memset(&e, 0, sizeof(e));
	eui(d1, 1);
	uplink(&e, 1, T0);
	engine_seen_sent(&e, 7, d1, ENGINE_STEP_MC_SESSION, 1, 1, 15000, T0, far);
	uplink(&e, 1, T0 + 10000);
	assert_int_equal(engine_seen_delivered(&e, rec(&e, 1), T0 + 10000), FUOTA_OK);
	assert_true(engine_seen_first_rx(&e, 7, d1, ENGINE_STEP_MC_SESSION, &rx));
	assert_int_equal(rx, T0 + 10000);
	/* The same request again (attempt 2): its first delivery stays. */
	engine_seen_sent(&e, 7, d1, ENGINE_STEP_MC_SESSION, 2, 1, 15000, T0 + 20000, far);
	assert_true(engine_seen_first_rx(&e, 7, d1, ENGINE_STEP_MC_SESSION, &rx));
	assert_int_equal(rx, T0 + 10000);
	/* Asked afresh with a moved start: none of it is delivered yet. */
	engine_seen_sent(&e, 7, d1, ENGINE_STEP_MC_SESSION, 1, 1, 15000, T0 + 30000, far);
	assert_false(engine_seen_first_rx(&e, 7, d1, ENGINE_STEP_MC_SESSION, &rx));
	engine_seen_free(&e);
}

/* A class A device takes its queue in order: what was queued before a request (the AppTimeAns
 * of its resync, the copy of a request replaced when the session start moved) is delivered
 * first, and an uplink that delivered it did not deliver the request (issue 16). */
static void test_queued_ahead_delivered_first(void **state)
{
	struct engine e;
	char d1[SENG_EUI_LEN];
	int64_t rx = 0, far = T0 + HOUR_MS;

	(void)state;
	memset(&e, 0, sizeof(e));
	eui(d1, 1);
	/* Its AppTimeReq, answered at once; the session request goes out behind the answer. */
	uplink(&e, 1, T0);
	engine_seen_other(&e, d1, T0);
	assert_int_equal(engine_seen_delivered(&e, rec(&e, 1), T0), FUOTA_OK);
	engine_seen_sent(&e, 7, d1, ENGINE_STEP_MC_SESSION, 1, 1, 15000, T0 + 100, far);
	/* The start moves: asked afresh, the old copy still queued. */
	engine_seen_sent(&e, 7, d1, ENGINE_STEP_MC_SESSION, 1, 1, 15000, T0 + 500, far);
	/* The AppTimeAns, then the old copy: neither is the new request. */
	for (int64_t at = T0 + 1000; at <= T0 + 2000; at += 1000) {
		uplink(&e, 1, at);
		assert_int_equal(engine_seen_delivered(&e, rec(&e, 1), at), FUOTA_OK);
		assert_false(engine_seen_first_rx(&e, 7, d1, ENGINE_STEP_MC_SESSION, &rx));
	}
	uplink(&e, 1, T0 + 3000);
	assert_int_equal(engine_seen_delivered(&e, rec(&e, 1), T0 + 3000), FUOTA_OK);
	assert_true(engine_seen_first_rx(&e, 7, d1, ENGINE_STEP_MC_SESSION, &rx));
	assert_int_equal(rx, T0 + 3000);
	/* A clock sync answer queued behind a request still on its way delays none of it. */
	engine_seen_sent(&e, 7, d1, ENGINE_STEP_MC_SESSION, 1, 1, 15000, T0 + 4000, far);
	engine_seen_other(&e, d1, T0 + 4000);
	uplink(&e, 1, T0 + 5000);
	assert_int_equal(engine_seen_delivered(&e, rec(&e, 1), T0 + 5000), FUOTA_OK);
	assert_true(engine_seen_first_rx(&e, 7, d1, ENGINE_STEP_MC_SESSION, &rx));
	assert_int_equal(rx, T0 + 5000);
	engine_seen_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gw_refresh),
	        cmocka_unit_test(test_old_goes_recent_stays),
	        cmocka_unit_test(test_sweep_keeps_lookups),
	        cmocka_unit_test(test_batch_undo),
	        cmocka_unit_test(test_new_request_forgets_deliveries),
	        cmocka_unit_test(test_queued_ahead_delivered_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
