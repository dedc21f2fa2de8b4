/* The job engine's pure decisions (server/policy/include/fuota/engine_calc.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/bytes.h"
#include "fuota/engine_calc.h"
#include "fuota/err.h"
#include "fuota/lw_crypto.h"

static void test_step_names(void **state)
{
	(void)state;
	for (unsigned i = 0; i < ENGINE_STEP_COUNT; i++) {
		enum engine_step s;

		assert_int_equal(engine_step_parse(engine_step_name((enum engine_step)i), &s),
		                 FUOTA_OK);
		assert_int_equal(s, i);
	}
	{
		enum engine_step s;

		assert_int_equal(engine_step_parse("sending", &s), FUOTA_ERR_MALFORMED);
		assert_int_equal(engine_step_parse(NULL, &s), FUOTA_ERR_MALFORMED);
	}
	assert_string_equal(engine_step_name(ENGINE_STEP_COUNT), "?");
	/* The sentinels name no step: the store never writes them. */
	assert_string_equal(engine_step_name(ENGINE_STEP_NONE), "?");
	assert_string_equal(engine_step_name(ENGINE_STEP_UNKNOWN), "?");
	assert_false(engine_step_is_unicast(ENGINE_STEP_UNKNOWN));
	assert_false(engine_step_is_final(ENGINE_STEP_UNKNOWN));
	assert_true(engine_step_is_final(ENGINE_STEP_DONE));
	assert_true(engine_step_is_final(ENGINE_STEP_FAILED));
	assert_true(engine_step_is_final(ENGINE_STEP_UNCONFIRMED));
	assert_string_equal(engine_step_name(ENGINE_STEP_UNCONFIRMED), "unconfirmed");
	assert_false(engine_step_is_final(ENGINE_STEP_CLEANUP));
	assert_true(engine_step_is_unicast(ENGINE_STEP_MC_SETUP));
	assert_false(engine_step_is_unicast(ENGINE_STEP_SESSION));
	assert_false(engine_step_is_unicast(ENGINE_STEP_READY));
	assert_true(engine_step_is_setup(ENGINE_STEP_FRAG_SETUP));
	assert_false(engine_step_is_setup(ENGINE_STEP_READY));
}

/* The job phases: the names engine_job.phase holds (sql/020_engine.sql's CHECK), both ways. */
static void test_phase_names(void **state)
{
	static const char *const names[] = {"setup",  "session", "transmit",
	                                    "status", "cleanup", "done"};
	enum engine_phase p;

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), ENGINE_PHASE_COUNT);
	for (unsigned i = 0; i < ENGINE_PHASE_COUNT; i++) {
		assert_string_equal(engine_phase_name((enum engine_phase)i), names[i]);
		assert_int_equal(engine_phase_parse(names[i], &p), FUOTA_OK);
		assert_int_equal(p, i);
	}
	assert_int_equal(engine_phase_parse("sending", &p), FUOTA_ERR_MALFORMED);
	assert_int_equal(engine_phase_parse(NULL, &p), FUOTA_ERR_MALFORMED);
	assert_string_equal(engine_phase_name(ENGINE_PHASE_COUNT), "?");
}

static void test_step_next(void **state)
{
	struct engine_versions unknown = {0, 0, 0, 0, false}, known = {1, 2, 1, 0, false},
	                       half = {1, 1, 0, 0, false};
	static const enum engine_step chain[] = {ENGINE_STEP_MC_SETUP, ENGINE_STEP_FRAG_SETUP,
	                                         ENGINE_STEP_READY,    ENGINE_STEP_MC_SESSION,
	                                         ENGINE_STEP_SESSION,  ENGINE_STEP_FRAG_STATUS,
	                                         ENGINE_STEP_CLEANUP,  ENGINE_STEP_DONE};

	(void)state;
	/* The versions decide whether PackageVersionReq is needed first. */
	assert_int_equal(engine_step_next(ENGINE_STEP_PENDING, &unknown), ENGINE_STEP_PKG_VERSION);
	assert_int_equal(engine_step_next(ENGINE_STEP_PENDING, &half), ENGINE_STEP_PKG_VERSION);
	assert_int_equal(engine_step_next(ENGINE_STEP_PENDING, NULL), ENGINE_STEP_PKG_VERSION);
	assert_int_equal(engine_step_next(ENGINE_STEP_PENDING, &known), ENGINE_STEP_MC_SETUP);
	assert_int_equal(engine_step_next(ENGINE_STEP_PKG_VERSION, &known), ENGINE_STEP_MC_SETUP);
	for (size_t i = 0; i + 1 < sizeof(chain) / sizeof(chain[0]); i++)
		assert_int_equal(engine_step_next(chain[i], &known), chain[i + 1]);
	assert_int_equal(engine_step_next(ENGINE_STEP_DONE, &known), ENGINE_STEP_DONE);
	assert_int_equal(engine_step_next(ENGINE_STEP_FAILED, &known), ENGINE_STEP_FAILED);
}

/* Issue 14: with a target_version, a TS006 device is asked DevVersionReq first; one already on
 * the target ends done without the image, the others go on to their set-up. */
static void test_fw_version_first(void **state)
{
	struct engine_versions check = {1, 2, 1, 1, true}, check_unknown = {0, 0, 0, 1, true},
	                       no_ts006 = {1, 2, 1, 0, true}, no_target = {1, 2, 1, 1, false};

	(void)state;
	assert_int_equal(engine_step_next(ENGINE_STEP_PENDING, &check), ENGINE_STEP_FW_VERSION);
	assert_int_equal(engine_step_next(ENGINE_STEP_PENDING, &no_ts006), ENGINE_STEP_MC_SETUP);
	assert_int_equal(engine_step_next(ENGINE_STEP_PENDING, &no_target), ENGINE_STEP_MC_SETUP);
	assert_int_equal(engine_step_next(ENGINE_STEP_FW_VERSION, &check), ENGINE_STEP_MC_SETUP);
	assert_int_equal(engine_step_next(ENGINE_STEP_FW_VERSION, &check_unknown),
	                 ENGINE_STEP_PKG_VERSION);
	assert_int_equal(engine_fw_version_next(0x01020300u, 0x01020300u, &check),
	                 ENGINE_STEP_DONE);
	assert_int_equal(engine_fw_version_next(0x01020300u, 0x01020200u, &check),
	                 ENGINE_STEP_MC_SETUP);
	assert_int_equal(engine_fw_version_next(0x01020300u, 0x01020400u, &check_unknown),
	                 ENGINE_STEP_PKG_VERSION);
	assert_true(engine_step_is_unicast(ENGINE_STEP_FW_VERSION));
	assert_true(engine_step_is_setup(ENGINE_STEP_FW_VERSION));
	assert_false(engine_step_is_final(ENGINE_STEP_FW_VERSION));
	assert_string_equal(engine_step_name(ENGINE_STEP_FW_VERSION), "fw_version");
	assert_int_equal(engine_on_timeout(ENGINE_STEP_FW_VERSION, 2, 2), ENGINE_FAIL);
}

/* Issue 14: after the clean-up, a TS006 device of a job with reboot_in_s is rebooted, then asked
 * its version: the target is done, anything else failed. */
static void test_reboot_steps(void **state)
{
	(void)state;
	assert_int_equal(engine_after_cleanup(false, true, 1), ENGINE_STEP_REBOOT);
	assert_int_equal(engine_after_cleanup(false, false, 1), ENGINE_STEP_DONE);
	assert_int_equal(engine_after_cleanup(false, true, 0), ENGINE_STEP_DONE);
	assert_int_equal(engine_after_cleanup(true, true, 1), ENGINE_STEP_UNCONFIRMED);
	/* A part before the last: ready for the next part; the last part, one image, or an
	 * image its answers cannot prove: the clean-up. */
	assert_int_equal(engine_after_part(0, 3, false), ENGINE_STEP_READY);
	assert_int_equal(engine_after_part(1, 3, false), ENGINE_STEP_READY);
	assert_int_equal(engine_after_part(2, 3, false), ENGINE_STEP_CLEANUP);
	assert_int_equal(engine_after_part(0, 1, false), ENGINE_STEP_CLEANUP);
	assert_int_equal(engine_after_part(0, 3, true), ENGINE_STEP_CLEANUP);
	assert_int_equal(engine_fw_check_next(0x00010002u, 0x00010002u), ENGINE_STEP_DONE);
	assert_int_equal(engine_fw_check_next(0x00010002u, 0x00010001u), ENGINE_STEP_FAILED);
	assert_true(engine_step_is_unicast(ENGINE_STEP_REBOOT));
	assert_true(engine_step_is_unicast(ENGINE_STEP_FW_CHECK));
	assert_false(engine_step_is_setup(ENGINE_STEP_REBOOT));
	assert_string_equal(engine_step_name(ENGINE_STEP_REBOOT), "reboot");
	assert_string_equal(engine_step_name(ENGINE_STEP_FW_CHECK), "fw_check");
	assert_int_equal(engine_on_timeout(ENGINE_STEP_FW_CHECK, 3, 3), ENGINE_FAIL);
	/* reboot_at ahead: by time; passed: a 1 s countdown; else the job's countdown. */
	bool by_time = false;
	assert_int_equal(engine_reboot_countdown_s(10000, 0, 5000, &by_time), 0);
	assert_true(by_time);
	assert_int_equal(engine_reboot_countdown_s(10000, 0, 10000, &by_time), 1);
	assert_false(by_time);
	assert_int_equal(engine_reboot_countdown_s(0, 30, 10000, &by_time), 30);
	assert_false(by_time);
	/* reboot_at passed (at or before now) while the job ran: late, the reboot as soon as
	 * possible and said so; ahead, or no reboot_at (a countdown job), not late. */
	assert_true(engine_reboot_late(10000, 10000));
	assert_true(engine_reboot_late(10000, 70000));
	assert_false(engine_reboot_late(10000, 9999));
	assert_false(engine_reboot_late(0, 10000));
	assert_false(engine_reboot_late(-1, 10000));
	for (int64_t now = 9998; now <= 10002; now++) {
		engine_reboot_countdown_s(10000, 0, now, &by_time);
		assert_true(by_time != engine_reboot_late(10000, now)); /* one or the other */
	}
}

static void test_timeout(void **state)
{
	(void)state;
	assert_int_equal(engine_on_timeout(ENGINE_STEP_MC_SETUP, 1, 3), ENGINE_RETRY);
	assert_int_equal(engine_on_timeout(ENGINE_STEP_MC_SETUP, 2, 3), ENGINE_RETRY);
	assert_int_equal(engine_on_timeout(ENGINE_STEP_MC_SETUP, 3, 3), ENGINE_FAIL);
	assert_int_equal(engine_on_timeout(ENGINE_STEP_FRAG_STATUS, 1, 1), ENGINE_FAIL);
	/* 0 attempts configured still allows the one request. */
	assert_int_equal(engine_on_timeout(ENGINE_STEP_FRAG_SETUP, 1, 0), ENGINE_FAIL);
	/* Clean-up is best effort: the device keeps its result. */
	assert_int_equal(engine_on_timeout(ENGINE_STEP_CLEANUP, 2, 2), ENGINE_SKIP);
	assert_int_equal(engine_on_timeout(ENGINE_STEP_CLEANUP, 1, 2), ENGINE_RETRY);
	/* An unanswered DevUpgradeImageReq leaves the device unconfirmed, not failed. */
	assert_int_equal(engine_on_timeout(ENGINE_STEP_CONFIRM, 3, 3), ENGINE_SKIP);
	assert_int_equal(engine_on_timeout(ENGINE_STEP_CONFIRM, 2, 3), ENGINE_RETRY);
	assert_int_equal(engine_step_next(ENGINE_STEP_CONFIRM, NULL), ENGINE_STEP_CLEANUP);
	assert_true(engine_step_is_unicast(ENGINE_STEP_CONFIRM));
	assert_false(engine_step_is_final(ENGINE_STEP_CONFIRM));
}

static void test_gw_cover(void **state)
{
	/* A hears 0 1 2, B hears 2 3, C hears 3 4, D hears 4; device 5 is heard by nobody. The
	 * greedy cover is {A, C}. */
	const struct engine_edge edges[] = {
	        {0, 0, -80}, {1, 0, -80}, {2, 0, -80}, {2, 1, -60},
	        {3, 1, -60}, {3, 2, -90}, {4, 2, -90}, {4, 3, -50},
	};
	uint8_t chosen[4], work[6];
	size_t n_chosen = 99, n_uncovered = 99;

	(void)state;
	assert_int_equal(engine_gw_cover(edges, 8, 6, 4, chosen, &n_chosen, &n_uncovered, work),
	                 FUOTA_OK);
	assert_int_equal(n_chosen, 2);
	assert_int_equal(n_uncovered, 1);
	assert_int_equal(chosen[0], 1);
	assert_int_equal(chosen[1], 0);
	assert_int_equal(chosen[2], 1);
	assert_int_equal(chosen[3], 0);
	assert_int_equal(work[5], 0);
	for (int d = 0; d < 5; d++)
		assert_int_equal(work[d], 2);
}

static void test_gw_cover_ties_and_errors(void **state)
{
	/* Both gateways hear both devices: the better quality wins, one gateway is enough. */
	const struct engine_edge tie[] = {{0, 0, -100}, {1, 0, -100}, {0, 1, -70}, {1, 1, -70}};
	const struct engine_edge bad[] = {{0, 5, 0}};
	uint8_t chosen[2], work[2];
	size_t n_chosen, n_uncovered;

	(void)state;
	assert_int_equal(engine_gw_cover(tie, 4, 2, 2, chosen, &n_chosen, &n_uncovered, work),
	                 FUOTA_OK);
	assert_int_equal(n_chosen, 1);
	assert_int_equal(chosen[1], 1);
	assert_int_equal(chosen[0], 0);
	assert_int_equal(engine_gw_cover(bad, 1, 2, 2, chosen, &n_chosen, &n_uncovered, work),
	                 FUOTA_ERR_INVALID_ARG);
	/* No edges at all: nothing chosen, everyone uncovered. */
	assert_int_equal(engine_gw_cover(NULL, 0, 2, 2, chosen, &n_chosen, &n_uncovered, work),
	                 FUOTA_OK);
	assert_int_equal(n_chosen, 0);
	assert_int_equal(n_uncovered, 2);
}

static void test_pace(void **state)
{
	int64_t free_ms[2] = {1000, 5000};
	int64_t at;

	(void)state;
	/* 100 ms on air under 1 % duty cycle: a gateway is busy 10 s per frame. */
	at = engine_pace(2000, free_ms, 2, 100000, 100);
	assert_int_equal(at, 5000);
	assert_int_equal(free_ms[0], 15000);
	assert_int_equal(free_ms[1], 15000);
	/* No duty cycle (a simulated network): only the airtime itself, rounded up to ms. */
	free_ms[0] = free_ms[1] = 0;
	at = engine_pace(3000, free_ms, 2, 61696, 1);
	assert_int_equal(at, 3000);
	assert_int_equal(free_ms[0], 3062);
	/* 0.1 % sub-band. */
	free_ms[0] = 0;
	at = engine_pace(0, free_ms, 1, 1000000, 1000);
	assert_int_equal(at, 0);
	assert_int_equal(free_ms[0], 1000000);
}

static void test_redundancy(void **state)
{
	struct engine_redundancy fixed = {10, 3, false, 3};
	struct engine_redundancy adapt = {10, 2, true, 5};
	struct engine_redundancy full = {16380, 10, true, 100};

	(void)state;
	/* Uncoded fragments always, then exactly the fixed parity count. */
	assert_true(engine_redundancy_more(&fixed, 0, 0));
	assert_true(engine_redundancy_more(&fixed, 9, 0));
	assert_true(engine_redundancy_more(&fixed, 12, 5));
	assert_false(engine_redundancy_more(&fixed, 13, 5));
	/* Adaptive: the minimum parity even if everyone is done, then while devices wait, up to
	 * the cap. */
	assert_true(engine_redundancy_more(&adapt, 11, 0));
	assert_false(engine_redundancy_more(&adapt, 12, 0));
	assert_true(engine_redundancy_more(&adapt, 12, 1));
	assert_true(engine_redundancy_more(&adapt, 14, 3));
	assert_false(engine_redundancy_more(&adapt, 15, 3));
	/* Never past N = 16383 in one session. */
	assert_true(engine_redundancy_more(&full, 16382, 1));
	assert_false(engine_redundancy_more(&full, 16383, 1));
}

/* Straightforward references for the round sizing: the exact binomial tail, and the share of
 * devices a batch leaves short, computed by summing probabilities rather than by formula. */
static double binom_at_least(uint32_t n, uint32_t k, double q)
{
	/* P(X >= k), X ~ Bin(n, q), by summing the terms below k in log space. */
	double below = 0.0;

	if (k == 0)
		return 1.0;
	if (k > n)
		return 0.0;
	for (uint32_t i = 0; i < k; i++) {
		double lt = lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) + i * log(q) +
		            (n - i) * log1p(-q);

		below += exp(lt);
	}
	return 1.0 - below;
}

/* P(D = x): the rows beyond its need a device takes, with a dense random code (a row is
 * dependent on r independent ones still missing with probability 2^-r). */
static double ref_dep(unsigned x)
{
	double at_most = 1.0, below = 1.0;

	for (unsigned i = x + 1; i < 200; i++)
		at_most *= 1.0 - pow(2.0, -(double)i);
	if (x == 0)
		return at_most;
	for (unsigned i = x; i < 200; i++)
		below *= 1.0 - pow(2.0, -(double)i);
	return at_most - below;
}

/* The expected number of devices still short after b frames, the straightforward way. */
static double ref_short(const uint32_t *need, size_t n, double loss, uint32_t b)
{
	double sum = 0.0;

	for (size_t i = 0; i < n; i++)
		for (unsigned x = 0; x <= 60; x++)
			sum += ref_dep(x) * (1.0 - binom_at_least(b, need[i] + x, 1.0 - loss));
	return sum;
}

static double work[20000];

static void test_round_batch(void **state)
{
	static const uint32_t n1[] = {1}, n2[] = {2, 2, 1}, n3[] = {10, 3, 3, 1, 7}, n4[] = {28},
	                      n5[] = {275}, n6[] = {40, 1, 1, 1, 1, 1, 1, 1};
	static const struct {
		const uint32_t *need;
		size_t n;
		double loss, alpha;
	} cases[] = {
	        {n1, 1, 0.1, 0.2}, {n2, 3, 0.1, 0.2},  {n3, 5, 0.1, 0.2}, {n4, 1, 0.3, 0.05},
	        {n5, 1, 0.1, 0.1}, {n6, 8, 0.15, 0.2}, {n3, 5, 0.0, 0.2}, {n1, 1, 0.5, 0.001},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t b = engine_round_batch(cases[i].need, cases[i].n, cases[i].loss,
		                                cases[i].alpha, work, 20000);

		/* Enough, and one frame fewer would not be (0.1 % slack for rounding). */
		assert_true(ref_short(cases[i].need, cases[i].n, cases[i].loss, b) <=
		            cases[i].alpha * 1.001);
		assert_true(ref_short(cases[i].need, cases[i].n, cases[i].loss, b - 1) >
		            cases[i].alpha * 0.999);
	}
	/* No loss, one device needing 10: 10 rows and the spare ones for dependent rows
	 * (P(D > 2) = 1 - (1 - 1/8)(1 - 1/16)... = 0.23 > 0.2 >= P(D > 3) = 0.12). */
	{
		uint32_t ten = 10;

		assert_int_equal(engine_round_batch(&ten, 1, 0.0, 0.2, work, 20000), 13);
		/* Loss above 90 % counts as 90 %. */
		assert_int_equal(engine_round_batch(&ten, 1, 1.0, 0.2, work, 20000),
		                 engine_round_batch(&ten, 1, 0.9, 0.2, work, 20000));
		/* Too little work memory, no device, no need: 0. */
		assert_int_equal(engine_round_batch(&ten, 1, 0.1, 0.2, work, 10), 0);
		assert_int_equal(engine_round_batch(&ten, 0, 0.1, 0.2, work, 20000), 0);
		ten = 0;
		assert_int_equal(engine_round_batch(&ten, 1, 0.1, 0.2, work, 20000), 0);
		/* Capped at the 14-bit N. */
		ten = 16000;
		assert_int_equal(engine_round_batch(&ten, 1, 0.9, 1e-6, work, 20000), 16383);
	}
	assert_int_equal(engine_round_work_len(275), 275 + ENGINE_DEP_ROWS + 2);
}

static void test_round_first(void **state)
{
	(void)state;
	/* M = 275, 10 % loss: a device is still short after the first batch with probability
	 * about ENGINE_ROUND_FIRST_LEFT, and the batch is below the old 10 % + 5 % (45). */
	{
		uint32_t m = 275, first = engine_round_first(275, 0, 10, work, 20000);

		assert_true(ref_short(&m, 1, 0.1, 275 + first) <= ENGINE_ROUND_FIRST_LEFT);
		assert_true(ref_short(&m, 1, 0.1, 275 + first - 1) > ENGINE_ROUND_FIRST_LEFT);
		assert_true(first > 31); /* more than the mean loss: M * 10 / 90 */
		assert_true(first < 45);
	}
	/* The job's own parity wins when larger, and when the work memory is too small. */
	assert_int_equal(engine_round_first(275, 80, 10, work, 20000), 80);
	assert_int_equal(engine_round_first(275, 7, 10, work, 100), 7);
	/* M = 1: a few rows all the same; loss 0: only the spare rows for dependent ones
	 * (P(D > 3) = 0.12 > 0.1 >= P(D > 4) = 0.06). */
	assert_true(engine_round_first(1, 0, 10, work, 20000) >= 1);
	assert_int_equal(engine_round_first(100, 0, 0, work, 20000), 4);
	/* An expected loss above 90 % counts as 90 %. */
	assert_int_equal(engine_round_first(10, 0, 100, work, 20000),
	                 engine_round_first(10, 0, 90, work, 20000));
}

static void test_status_need(void **state)
{
	static const struct {
		uint32_t m, received, missing, need;
	} cases[] = {
	        /* 30 uncoded lost, 28 useful parity rows received: about 2 more. */
	        {275, 273, 30, 2},
	        /* MissingFrag smaller than M - received (a stack that subtracts its lost
	           uncoded fragments from NbFragReceived). */
	        {275, 243, 2, 2},
	        /* MissingFrag saturated at 255: only NbFragReceived tells. */
	        {1100, 800, 255, 300},
	        {1100, 1090, 255, 10},
	        /* Received M or more, still missing: dependent rows; one more (the margin does
	           the rest). */
	        {275, 275, 3, 1},
	        {275, 400, 255, 1},
	        /* M = 1: one frame, whatever it says. */
	        {1, 0, 1, 1},
	        /* It answered, so it misses something: at least 1. */
	        {275, 270, 0, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct engine_status s = {cases[i].received, cases[i].missing};

		assert_int_equal(engine_status_need(cases[i].m, &s), cases[i].need);
	}
}

static void test_round_next(void **state)
{
	struct engine_status a[3] = {{290, 20}, {296, 10}, {300, 255}};
	uint32_t need[3];
	struct engine_round_next r;

	(void)state;
	/* No answers: nothing to size from (batch 0), the expected loss kept. */
	engine_round_next(275, 320, NULL, need, 0, 10, work, 20000, &r);
	assert_int_equal(r.batch, 0);
	assert_int_equal(r.answers, 0);
	assert_true(fabs(r.loss - 0.10) < 1e-9);
	/* Three answers after 320 frames, each with M or more received (dependent rows): each
	 * needs 1 row; loss = (30 + 24 + 20) / (3 * 320). */
	engine_round_next(275, 320, a, need, 3, 10, work, 20000, &r);
	assert_int_equal(r.answers, 3);
	assert_int_equal(r.need, 1);
	assert_true(fabs(r.loss - 74.0 / 960.0) < 1e-9);
	assert_int_equal(need[0], 1);
	assert_int_equal(need[2], 1);
	assert_true(ref_short(need, 3, r.loss, r.batch) <= ENGINE_ROUND_MISS * 1.001);
	assert_true(ref_short(need, 3, r.loss, r.batch - 1) > ENGINE_ROUND_MISS * 0.999);
	/* Needs that follow the answers: the batch grows with the worst need. */
	{
		struct engine_status b[2] = {{250, 40}, {262, 255}};
		struct engine_round_next r2;
		uint32_t batch1 = r.batch;

		engine_round_next(275, 300, b, need, 2, 10, work, 20000, &r2);
		assert_int_equal(r2.need, 25);
		assert_int_equal(need[1], 13);
		assert_true(fabs(r2.loss - 88.0 / 600.0) < 1e-9);
		assert_true(ref_short(need, 2, r2.loss, r2.batch) <= ENGINE_ROUND_MISS * 1.001);
		assert_true(r2.batch > batch1);
		assert_true(r2.batch >= 25);
		/* A device that answers with everything received (loss 0). */
		b[0].received = 300;
		b[0].missing = 2;
		engine_round_next(275, 300, b, need, 1, 10, work, 20000, &r2);
		assert_true(fabs(r2.loss) < 1e-9);
		assert_int_equal(r2.need, 1);
		assert_int_equal(r2.batch, 1 + 3);
	}
	/* The wait: 2^(BlockAckDelay + 4) s plus the unicast timeout, BlockAckDelay on 3 bits. */
	assert_int_equal(engine_round_pause_ms(0, 12), 28000);
	assert_int_equal(engine_round_pause_ms(2, 0), 64000);
	assert_int_equal(engine_round_pause_ms(0x0A, 1), 65000);
}

/* Two fragmentation sessions (TS004 v1 and v2) share the multicast group: their new frames are
 * interleaved, and each stops on its own. */
static void test_session_pick(void **state)
{
	struct engine_session_tx s[3] = {{0, 5, true}, {1, 3, true}, {2, 3, true}};
	struct engine_redundancy adapt = {10, 2, true, 10};
	uint32_t sent[2] = {0, 0}, order[40];
	size_t k = 0;

	(void)state;
	assert_int_equal(engine_session_pick(s, 3), 1); /* fewest sent, then lower FragIndex */
	s[1].more = false;
	assert_int_equal(engine_session_pick(s, 3), 2);
	s[2].sent = 6;
	assert_int_equal(engine_session_pick(s, 3), 0);
	s[0].more = s[2].more = false;
	assert_int_equal(engine_session_pick(s, 3), -1);
	assert_int_equal(engine_session_pick(s, 0), -1);
	/* A whole run: session 0's devices report completion after 13 frames, session 1's need
	 * 17. Frames alternate while both want more, then only the slower session goes on. */
	for (;;) {
		struct engine_session_tx t[2];
		int pick;

		for (int i = 0; i < 2; i++) {
			t[i].frag_index = (uint8_t)i;
			t[i].sent = sent[i];
			t[i].more = engine_redundancy_more(&adapt, sent[i],
			                                   sent[i] < (i == 0 ? 13u : 17u) ? 1 : 0);
		}
		pick = engine_session_pick(t, 2);
		if (pick < 0)
			break;
		assert_true(k < 40);
		order[k++] = (uint32_t)pick;
		sent[pick]++;
	}
	assert_int_equal(sent[0], 13);
	assert_int_equal(sent[1], 17);
	assert_int_equal(k, 30);
	for (size_t i = 0; i < 26; i++)
		assert_int_equal(order[i], i % 2); /* interleaved */
	for (size_t i = 26; i < 30; i++)
		assert_int_equal(order[i], 1);
}

static void test_multicast_need(void **state)
{
	uint8_t t = 0;

	(void)state;
	/* Class C: 46 frames 1.18 s apart (10 % duty cycle) + 60 s. */
	assert_int_equal(engine_multicast_need_s(false, 0, 46, 1180000), 114);
	assert_int_equal(engine_multicast_need_s(false, 0, 0, 1180000), 60);
	/* Class B, periodicity 2: 32 ping slots per 128 s beacon period, one more to start. */
	assert_int_equal(engine_multicast_need_s(true, 2, 46, 1180000), 3 * 128);
	assert_int_equal(engine_multicast_need_s(true, 2, 64, 1180000), 3 * 128);
	assert_int_equal(engine_multicast_need_s(true, 2, 65, 1180000), 4 * 128);
	/* Periodicity 0 has 128 slots, but a 10 s interval allows only 12 frames in 128 s. */
	assert_int_equal(engine_multicast_need_s(true, 0, 24, 10000000), 3 * 128);
	assert_int_equal(engine_multicast_need_s(true, -1, 128, 1000), 2 * 128);
	assert_int_equal(engine_multicast_need_s(true, 9, 128, 1000), 2 * 128);
	assert_int_equal(engine_multicast_need_s(true, 7, 1, 0), 2 * 128);
	/* Twice the frames of one session may need a longer TimeOut. */
	assert_int_equal(
	        engine_session_timeout(false, engine_multicast_need_s(false, 0, 23, 1180000), &t),
	        FUOTA_OK);
	assert_int_equal(t, 7);
	assert_int_equal(
	        engine_session_timeout(false, engine_multicast_need_s(false, 0, 70, 1180000), &t),
	        FUOTA_OK);
	assert_int_equal(t, 8);
}

static void test_session_timing(void **state)
{
	uint8_t t = 0;

	(void)state;
	assert_int_equal(engine_session_timeout(false, 100, &t), FUOTA_OK);
	assert_int_equal(t, 7); /* 128 s */
	assert_int_equal(engine_session_timeout(false, 128, &t), FUOTA_OK);
	assert_int_equal(t, 7);
	assert_int_equal(engine_session_timeout(false, 0, &t), FUOTA_OK);
	assert_int_equal(t, 0);
	assert_int_equal(engine_session_timeout(true, 200, &t), FUOTA_OK);
	assert_int_equal(t, 1); /* 2 beacon periods = 256 s */
	assert_int_equal(engine_session_timeout(false, 32769, &t), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(engine_session_timeout(true, 128u * 32768u, &t), FUOTA_OK);
	assert_int_equal(t, 15);
	/* attempts * timeout + margin, rounded up to a second. */
	assert_int_equal(engine_session_start_ms(1000500, 3, 10000, 5000), 1036000);
	assert_int_equal(engine_session_start_ms(1000000, 1, 1000, 0), 1001000);
	assert_int_equal(engine_classb_align_gps_s(128), 128);
	assert_int_equal(engine_classb_align_gps_s(129), 256);
	assert_int_equal(engine_classb_align_gps_s(1436486418), 1436486528);
	/* answer arrived with 100 s to go, request sent with 100 s to go: +-3 s */
	assert_true(engine_time_to_start_ok(100, 100, 98, 3));
	assert_true(engine_time_to_start_ok(100, 100, 103, 3));
	assert_false(engine_time_to_start_ok(100, 100, 104, 3));
	assert_false(engine_time_to_start_ok(100, 100, 96, 3));
	assert_false(engine_time_to_start_ok(100, 100, 0xFFFFFF, 3));
	/* class A: sent with 160 s to go, answered one uplink period later with 100 s to go; the
	 * device received it somewhere in between (its TimeToStart counts from then) */
	assert_true(engine_time_to_start_ok(100, 160, 130, 3));
	assert_true(engine_time_to_start_ok(100, 160, 163, 3));
	assert_false(engine_time_to_start_ok(100, 160, 164, 3));
	assert_false(engine_time_to_start_ok(100, 160, 96, 3));
	/* an inverted range is read as the answer time alone */
	assert_true(engine_time_to_start_ok(100, 50, 102, 3));
	assert_false(engine_time_to_start_ok(100, 50, 60, 3));
}

static void test_session_move(void **state)
{
	(void)state;
	/* A device with attempts left moves the start, up to ENGINE_SESSION_MOVES_MAX times. */
	assert_true(engine_session_move(1, 0));
	assert_true(engine_session_move(20, ENGINE_SESSION_MOVES_MAX - 1));
	assert_false(engine_session_move(20, ENGINE_SESSION_MOVES_MAX));
	/* Nobody who could still answer: the start stays and the late ones fail. */
	assert_false(engine_session_move(0, 0));
	/* More than the tolerance ahead can be met; at or under it cannot. */
	assert_true(engine_session_reachable(10000, 6999, 3));
	assert_false(engine_session_reachable(10000, 7000, 3));
	assert_false(engine_session_reachable(10000, 20000, 3));
	/* The resync wait outlasts LoRa Basics Modem's 6 s before its AppTimeReq. */
	assert_int_equal(engine_resync_wait_ms(5000), 20000);
	assert_true(engine_resync_wait_ms(0) > 6000);
}

static void test_data_block_mic(void **state)
{
	const uint8_t gen_app_key[16] = {0x03, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	                                 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
	const uint8_t desc[4] = {0x01, 0x02, 0x03, 0x04};
	uint8_t key[16], want_key[16], block[16] = {0x30};
	uint8_t data[100], msg[116], tag[16], mic[4], mic2[4];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	assert_int_equal(engine_data_block_int_key(gen_app_key, key), FUOTA_OK);
	assert_int_equal(lw_aes128_encrypt(gen_app_key, block, want_key), FUOTA_OK);
	assert_memory_equal(key, want_key, 16);
	/* B0 laid out by hand from PROTOCOL-NOTES §4.6: 49 | SessionCnt LE | FragIndex |
	 * Descriptor | 00 00 00 00 | len LE, then the data. */
	memset(msg, 0, sizeof(msg));
	msg[0] = 0x49;
	msg[1] = 0x34;
	msg[2] = 0x12;
	msg[3] = 0x02;
	memcpy(msg + 4, desc, 4);
	msg[12] = 100;
	memcpy(msg + 16, data, sizeof(data));
	assert_int_equal(lw_aes_cmac(key, msg, sizeof(msg), tag), FUOTA_OK);
	assert_int_equal(engine_data_block_mic(key, 0x1234, 2, desc, data, sizeof(data), mic),
	                 FUOTA_OK);
	assert_memory_equal(mic, tag, 4);
	/* Any change of counter, index, descriptor or data changes it. */
	assert_int_equal(engine_data_block_mic(key, 0x1235, 2, desc, data, sizeof(data), mic2),
	                 FUOTA_OK);
	assert_memory_not_equal(mic, mic2, 4);
	data[50] ^= 1;
	assert_int_equal(engine_data_block_mic(key, 0x1234, 2, desc, data, sizeof(data), mic2),
	                 FUOTA_OK);
	assert_memory_not_equal(mic, mic2, 4);
	assert_int_equal(engine_data_block_mic(key, 1, 0, desc, NULL, 5, mic2),
	                 FUOTA_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_step_names),
	        cmocka_unit_test(test_phase_names),
	        cmocka_unit_test(test_step_next),
	        cmocka_unit_test(test_fw_version_first),
	        cmocka_unit_test(test_reboot_steps),
	        cmocka_unit_test(test_timeout),
	        cmocka_unit_test(test_gw_cover),
	        cmocka_unit_test(test_gw_cover_ties_and_errors),
	        cmocka_unit_test(test_pace),
	        cmocka_unit_test(test_redundancy),
	        cmocka_unit_test(test_round_batch),
	        cmocka_unit_test(test_round_first),
	        cmocka_unit_test(test_status_need),
	        cmocka_unit_test(test_round_next),
	        cmocka_unit_test(test_session_pick),
	        cmocka_unit_test(test_multicast_need),
	        cmocka_unit_test(test_session_timing),
	        cmocka_unit_test(test_session_move),
	        cmocka_unit_test(test_data_block_mic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
