/* Splitting an image into parts (fuota/plan_parts.h) and the plan of a job in parts
 * (fuota/plan.h): the fewest parts, even parts, parity per part, the device limit, the edges
 * (exactly 16383 frames, one fragment, 255 parts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/plan.h"
#include "fuota/plan_parts.h"

static int split(uint64_t m, int frames, int pct, uint32_t limit, struct plan_split *s,
                 struct api_error *e)
{
	struct plan_split_in in = {m, frames, pct, limit, "file"};

	return plan_split(&in, s, e);
}

/* Every part fits one session and the device limit; the parts add up to the image. */
static void check_parts(const struct plan_split *s, uint64_t m, uint32_t limit)
{
	uint64_t sum = 0;

	for (unsigned k = 0; k < s->parts; k++) {
		unsigned mk = plan_part_frags(s, k);
		unsigned rk = k + 1 < s->parts ? s->part_parity : s->last_parity;

		assert_true(mk >= 1);
		assert_true(mk + rk <= PLAN_MAX_FRAMES);
		if (limit)
			assert_true(mk <= limit);
		sum += mk;
	}
	assert_int_equal(sum, m);
	assert_true(s->last_frags <= s->part_frags);
}

static void test_one_part(void **state)
{
	struct plan_split s;
	struct api_error e;

	(void)state;
	/* M = 1. */
	assert_int_equal(split(1, -1, 10, 0, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 1);
	assert_int_equal(s.part_frags, 1);
	assert_int_equal(s.last_frags, 1);
	assert_int_equal(s.parity, 1); /* ceil(0.1) */
	/* Exactly 16383 frames: one session. */
	assert_int_equal(split(16383 - 100, 100, -1, 0, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 1);
	assert_int_equal(s.part_frags + s.part_parity, 16383);
	/* One frame more: two even parts. */
	assert_int_equal(split(16383 - 99, 100, -1, 0, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 2);
	assert_int_equal(s.part_frags, 8142);
	assert_int_equal(s.last_frags, 8142);
	assert_int_equal(s.parity, 200); /* redundancy_frames is per part */
	check_parts(&s, 16383 - 99, 0);
	/* 16383 fragments, no parity: one session. */
	assert_int_equal(split(16383, 0, -1, 0, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 1);
	assert_int_equal(split(16384, 0, -1, 0, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 2);
	assert_int_equal(s.part_frags, 8192);
}

static void test_percent(void **state)
{
	struct plan_split s;
	struct api_error e;

	(void)state;
	/* 10 %: a part of F holds F + ceil(F / 10) <= 16383, F <= 14893. */
	assert_int_equal(split(14893, -1, 10, 0, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 1);
	assert_int_equal(s.part_frags + s.part_parity, 14893 + 1490);
	assert_int_equal(split(14894, -1, 10, 0, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 2);
	assert_int_equal(s.part_frags, 7447);
	assert_int_equal(s.last_frags, 7447);
	/* An uneven image: the last part carries the rest, parity of its own size. */
	assert_int_equal(split(40001, -1, 10, 0, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 3);
	assert_int_equal(s.part_frags, 13334);
	assert_int_equal(s.last_frags, 40001 - 2 * 13334);
	assert_int_equal(s.part_parity, 1334);
	assert_int_equal(s.last_parity, (13333 + 9) / 10);
	assert_int_equal(s.parity, 2 * 1334 + 1334);
	check_parts(&s, 40001, 0);
	/* 1000 %: 11 frames per fragment. */
	assert_int_equal(split(5000, -1, 1000, 0, &s, &e), FUOTA_OK);
	check_parts(&s, 5000, 0);
	assert_int_equal(s.parts, 4);
}

static void test_device_limit(void **state)
{
	struct plan_split s;
	struct api_error e;

	(void)state;
	/* 100 fragments, devices of at most 40: 3 parts of 34, 34, 32. */
	assert_int_equal(split(100, -1, 20, 40, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 3);
	assert_int_equal(s.part_frags, 34);
	assert_int_equal(s.last_frags, 32);
	assert_int_equal(s.part_parity, 7);
	assert_int_equal(s.last_parity, 7);
	check_parts(&s, 100, 40);
	/* The limit bounds M_k, not M_k + R_k. */
	assert_int_equal(split(40, 30, -1, 40, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 1);
	/* A limit above what a session holds changes nothing. */
	assert_int_equal(split(20000, 0, -1, 16383, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 2);
	/* Who counts: devices that take parts, with a max_frags. */
	assert_int_equal(plan_part_limit(0, "ts004", 40), 40);
	assert_int_equal(plan_part_limit(40, NULL, 60), 40);
	assert_int_equal(plan_part_limit(40, "ts004", 30), 30);
	assert_int_equal(plan_part_limit(40, "ts004", 0), 40);
	assert_int_equal(plan_part_limit(40, "lbm", 10), 40);
	assert_int_equal(plan_part_limit(0, "loramac-node", 10), 0);
	assert_true(plan_stack_takes_parts("ts004"));
	assert_true(plan_stack_takes_parts(NULL));
	assert_false(plan_stack_takes_parts("lbm"));
	assert_false(plan_stack_takes_parts("loramac-node"));
}

static void test_refused(void **state)
{
	struct plan_split s;
	struct api_error e;

	(void)state;
	/* 255 parts of 64: the most; one fragment more is refused, naming the devices. */
	assert_int_equal(split(255 * 64, 0, -1, 64, &s, &e), FUOTA_OK);
	assert_int_equal(s.parts, 255);
	check_parts(&s, 255 * 64, 64);
	assert_int_equal(split(255 * 64 + 1, 0, -1, 64, &s, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "devices");
	/* Without a device limit the image is too large for 255 sessions. */
	assert_int_equal(split(255ull * 16383 + 1, 0, -1, 0, &s, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "file");
	/* Parity alone fills a session. */
	assert_int_equal(split(10, 16383, -1, 0, &s, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "redundancy_frames");
	assert_int_equal(split(0, 0, -1, 0, &s, &e), FUOTA_ERR_INVALID_ARG);
}

/* A part's fragments and padding as the engine reads them from the plan. */
static void test_part_at(void **state)
{
	uint32_t nb = 0, pad = 0;

	(void)state;
	/* One part: the whole image. */
	assert_int_equal(plan_part_at(20, 5, 1, 0, 0, &nb, &pad), FUOTA_OK);
	assert_int_equal(nb, 20);
	assert_int_equal(pad, 5);
	assert_int_equal(plan_part_at(20, 5, 1, 0, 1, &nb, &pad), FUOTA_ERR_INVALID_ARG);
	/* 20 in parts of 7: 7, 7, 6; only the last one padded. */
	assert_int_equal(plan_part_at(20, 5, 3, 7, 0, &nb, &pad), FUOTA_OK);
	assert_int_equal(nb, 7);
	assert_int_equal(pad, 0);
	assert_int_equal(plan_part_at(20, 5, 3, 7, 1, &nb, &pad), FUOTA_OK);
	assert_int_equal(nb, 7);
	assert_int_equal(plan_part_at(20, 5, 3, 7, 2, &nb, &pad), FUOTA_OK);
	assert_int_equal(nb, 6);
	assert_int_equal(pad, 5);
	/* Splits that do not fit the image: refused. */
	assert_int_equal(plan_part_at(20, 5, 3, 7, 3, &nb, &pad), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(plan_part_at(20, 5, 3, 6, 0, &nb, &pad), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(plan_part_at(20, 5, 3, 10, 0, &nb, &pad), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(plan_part_at(20, 5, 3, 0, 0, &nb, &pad), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(plan_part_at(20, 5, 256, 1, 0, &nb, &pad), FUOTA_ERR_INVALID_ARG);
}

/* The plan of a job in parts: frames and airtime summed, one TimeOut per part, the duration
 * counting each part's session and its unicast steps. */
static void test_plan_parts(void **state)
{
	struct job_params p;
	struct job_plan one, pl;
	struct plan_adaptive ad = {true, true, 0};
	struct api_error e;

	(void)state;
	job_params_init(&p);
	snprintf(p.region, sizeof(p.region), "EU868");
	p.data_rate = 5;
	p.frequency_hz = 869525000;
	p.multicast_class = 'C';
	p.redundancy_percent = 20;
	p.unicast_timeout_s = 10;
	p.unicast_attempts = 2;
	p.fragment_size = 100;
	assert_int_equal(plan_compute(&p, 9950, &one, &e), FUOTA_OK);
	assert_int_equal(one.parts, 1);
	assert_int_equal(one.part_frags, 100);
	assert_int_equal(one.redundancy, 20);
	p.part_frag_limit = 40;
	assert_int_equal(plan_compute(&p, 9950, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.parts, 3);
	assert_int_equal(pl.nb_frag, 100);
	assert_int_equal(pl.padding, 50);
	assert_int_equal(pl.part_frags, 34);
	assert_int_equal(pl.last_part_frags, 32);
	assert_int_equal(pl.redundancy, 7 + 7 + 7);
	assert_int_equal(pl.total_frames, 121);
	assert_int_equal(pl.total_airtime_ms, (pl.frame_airtime_us * 121 + 999) / 1000);
	assert_int_equal(pl.unicast_s, (3 + 2 * 2) * 2 * 10);
	assert_int_equal(pl.duration_s, pl.unicast_s + 3 * pl.mc_timeout_s);
	assert_true(pl.mc_timeout_s <= one.mc_timeout_s);
	assert_true(pl.multicast_s >= one.multicast_s);
	/* Adaptive: the cap is per part. */
	assert_int_equal(plan_compute_adaptive(&p, 9950, &ad, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.max_parity, 34);
	assert_int_equal(pl.max_frames, 68);
	assert_true(pl.multicast_s > 2 * pl.worst_case_s);
	assert_true(pl.multicast_s <= 3 * pl.worst_case_s);
	assert_int_equal(pl.duration_s, pl.unicast_s + 3 * pl.mc_timeout_s);
	/* A part whose session exceeds TS005's longest TimeOut is still refused. */
	p.part_frag_limit = 0;
	p.data_rate = 0;
	p.fragment_size = 0;
	p.redundancy_percent = 10;
	assert_int_equal(plan_compute(&p, 1u << 20, &pl, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "data_rate");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_one_part),     cmocka_unit_test(test_percent),
	        cmocka_unit_test(test_device_limit), cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_plan_parts),   cmocka_unit_test(test_part_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
