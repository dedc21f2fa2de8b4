/* GPS time: the PROTOCOL-NOTES §3.5 vectors (ChirpStack gpstime.rs, brocaar gps/), every leap
 * second of the table, calendar conversion against known dates, and 32-bit unwrapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/lw_gps.h"

struct gps_vector {
	struct lw_utc utc;
	int64_t gps;
};

static const struct gps_vector vectors[] = {
        {{1980, 1, 6, 0, 0, 0}, 0},
        {{2010, 1, 28, 16, 36, 24}, 948731799},
        {{2012, 6, 30, 23, 59, 59}, 1025136014},
        {{2012, 6, 30, 23, 59, 60}, 1025136015}, /* the leap second itself */
        {{2012, 7, 1, 0, 0, 0}, 1025136016},
        {{2025, 7, 14, 0, 0, 0}, 1436486418},
};

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		struct lw_utc u;
		int64_t gps = -1;

		assert_int_equal(lw_gps_from_utc(&vectors[i].utc, &gps), FUOTA_OK);
		assert_int_equal(gps, vectors[i].gps);
		assert_int_equal(lw_gps_to_utc(vectors[i].gps, &u), FUOTA_OK);
		assert_memory_equal(&u, &vectors[i].utc, sizeof(u));
	}
}

static void test_unix(void **state)
{
	int64_t gps = 0, unix_s = 0;

	(void)state;
	/* 2025-07-14T00:00:00Z = Unix 1752451200. */
	assert_int_equal(lw_gps_from_unix(1752451200, &gps), FUOTA_OK);
	assert_int_equal(gps, 1436486418);
	assert_int_equal(lw_gps_to_unix(1436486418, &unix_s), FUOTA_OK);
	assert_int_equal(unix_s, 1752451200);
	assert_int_equal(lw_gps_leap_seconds(1752451200), 18);
	assert_int_equal(lw_gps_leap_seconds(LW_GPS_EPOCH_UNIX), 0);
	/* Both the leap second and the next second are Unix 1341100800 (2012-07-01). */
	assert_int_equal(lw_gps_to_unix(1025136015, &unix_s), FUOTA_OK);
	assert_int_equal(unix_s, 1341100800);
	assert_int_equal(lw_gps_to_unix(1025136016, &unix_s), FUOTA_OK);
	assert_int_equal(unix_s, 1341100800);
	assert_int_equal(lw_gps_to_unix(1025136014, &unix_s), FUOTA_OK);
	assert_int_equal(unix_s, 1341100799);
	assert_int_equal(lw_gps_from_unix(LW_GPS_EPOCH_UNIX - 1, &gps), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_gps_to_unix(-1, &unix_s), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_gps_to_unix(INT64_MAX, &unix_s), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_gps_from_unix(INT64_MAX, &gps), FUOTA_ERR_INVALID_ARG);
}

/* The 18 leap seconds, by the UTC day they end: each 23:59:60 exists, GPS - UTC steps by one
 * across it, and GPS time runs on without a gap. */
static void test_every_leap_second(void **state)
{
	static const struct {
		int year;
		unsigned month, day;
	} ends[] = {
	        {1981, 6, 30},  {1982, 6, 30},  {1983, 6, 30},  {1985, 6, 30},  {1987, 12, 31},
	        {1989, 12, 31}, {1990, 12, 31}, {1992, 6, 30},  {1993, 6, 30},  {1994, 6, 30},
	        {1995, 12, 31}, {1997, 6, 30},  {1998, 12, 31}, {2005, 12, 31}, {2008, 12, 31},
	        {2012, 6, 30},  {2015, 6, 30},  {2016, 12, 31},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		struct lw_utc u59 = {ends[i].year, ends[i].month, ends[i].day, 23, 59, 59};
		struct lw_utc u60 = u59, back;
		int64_t g59, g60, unix59;

		u60.sec = 60;
		assert_int_equal(lw_gps_from_utc(&u59, &g59), FUOTA_OK);
		assert_int_equal(lw_gps_from_utc(&u60, &g60), FUOTA_OK);
		assert_int_equal(g60, g59 + 1);
		assert_int_equal(lw_utc_to_unix(&u59, &unix59), FUOTA_OK);
		assert_int_equal(lw_gps_leap_seconds(unix59), i);
		assert_int_equal(lw_gps_leap_seconds(unix59 + 1), i + 1);
		assert_int_equal(g59, unix59 - LW_GPS_EPOCH_UNIX + (int64_t)i);
		assert_int_equal(lw_gps_to_utc(g60, &back), FUOTA_OK);
		assert_memory_equal(&back, &u60, sizeof(back));
		assert_int_equal(lw_gps_to_utc(g60 + 1, &back), FUOTA_OK);
		assert_int_equal(back.sec, 0);
		assert_int_equal(back.hour, 0);
		assert_int_equal(back.day, 1);
	}
}

static void test_bad_leap_second(void **state)
{
	struct lw_utc u = {2013, 6, 30, 23, 59, 60};
	int64_t gps = 0;

	(void)state;
	assert_int_equal(lw_gps_from_utc(&u, &gps), FUOTA_ERR_INVALID_ARG); /* no leap then */
	u = (struct lw_utc){2016, 12, 31, 23, 58, 60};
	assert_int_equal(lw_gps_from_utc(&u, &gps), FUOTA_ERR_INVALID_ARG);
	u = (struct lw_utc){2016, 12, 31, 23, 59, 61};
	assert_int_equal(lw_gps_from_utc(&u, &gps), FUOTA_ERR_INVALID_ARG);
	u = (struct lw_utc){1980, 1, 5, 23, 59, 59};
	assert_int_equal(lw_gps_from_utc(&u, &gps), FUOTA_ERR_INVALID_ARG); /* before epoch */
}

static void test_calendar(void **state)
{
	static const struct {
		struct lw_utc u;
		int64_t unix_s;
	} v[] = {
	        {{1970, 1, 1, 0, 0, 0}, 0},
	        {{1969, 12, 31, 23, 59, 59}, -1},
	        {{2000, 2, 29, 12, 0, 0}, 951825600},
	        {{2038, 1, 19, 3, 14, 8}, INT64_C(2147483648)},
	        {{2100, 3, 1, 0, 0, 0}, INT64_C(4107542400)},
	        {{1600, 1, 1, 0, 0, 0}, INT64_C(-11676096000)},
	};
	struct lw_utc u;
	int64_t t = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(lw_utc_to_unix(&v[i].u, &t), FUOTA_OK);
		assert_int_equal(t, v[i].unix_s);
		assert_int_equal(lw_unix_to_utc(v[i].unix_s, &u), FUOTA_OK);
		assert_memory_equal(&u, &v[i].u, sizeof(u));
	}
	/* Day-by-day round trip over four centuries (every leap-year rule). */
	for (int64_t d = -200000; d < 200000; d += 7) {
		assert_int_equal(lw_unix_to_utc(d * 86400 + 4321, &u), FUOTA_OK);
		assert_int_equal(lw_utc_to_unix(&u, &t), FUOTA_OK);
		assert_int_equal(t, d * 86400 + 4321);
	}
	u = (struct lw_utc){2023, 2, 29, 0, 0, 0};
	assert_int_equal(lw_utc_to_unix(&u, &t), FUOTA_ERR_INVALID_ARG);
	u = (struct lw_utc){2100, 2, 29, 0, 0, 0};
	assert_int_equal(lw_utc_to_unix(&u, &t), FUOTA_ERR_INVALID_ARG);
	u = (struct lw_utc){2024, 4, 31, 0, 0, 0};
	assert_int_equal(lw_utc_to_unix(&u, &t), FUOTA_ERR_INVALID_ARG);
	u = (struct lw_utc){2024, 13, 1, 0, 0, 0};
	assert_int_equal(lw_utc_to_unix(&u, &t), FUOTA_ERR_INVALID_ARG);
	u = (struct lw_utc){2024, 1, 0, 0, 0, 0};
	assert_int_equal(lw_utc_to_unix(&u, &t), FUOTA_ERR_INVALID_ARG);
	u = (struct lw_utc){2024, 1, 1, 24, 0, 0};
	assert_int_equal(lw_utc_to_unix(&u, &t), FUOTA_ERR_INVALID_ARG);
	u = (struct lw_utc){2024, 1, 1, 0, 60, 0};
	assert_int_equal(lw_utc_to_unix(&u, &t), FUOTA_ERR_INVALID_ARG);
	u = (struct lw_utc){2024, 1, 1, 0, 0, 60};
	assert_int_equal(lw_utc_to_unix(&u, &t), FUOTA_ERR_INVALID_ARG);
	u = (struct lw_utc){200000, 1, 1, 0, 0, 0};
	assert_int_equal(lw_utc_to_unix(&u, &t), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_unix_to_utc(INT64_MIN, &u), FUOTA_ERR_INVALID_ARG);
}

static void test_wrap32(void **state)
{
	const int64_t now = 1436486418;
	const int64_t two32 = INT64_C(1) << 32;

	(void)state;
	assert_int_equal(lw_gps_wrap32(now), 1436486418u);
	assert_int_equal(lw_gps_wrap32(two32 + 5), 5u);
	assert_int_equal(lw_gps_unwrap32(lw_gps_wrap32(now), now), now);
	assert_int_equal(lw_gps_unwrap32(lw_gps_wrap32(now - 100), now), now - 100);
	assert_int_equal(lw_gps_unwrap32(lw_gps_wrap32(now + 100), now), now + 100);
	/* Across the 2^32 s rollover (year 2116): a device's small counter is just after it. */
	assert_int_equal(lw_gps_unwrap32(10, two32 - 20), two32 + 10);
	assert_int_equal(lw_gps_unwrap32(0xfffffff0u, two32 + 20), two32 - 16);
	/* Half-way: the window is [-2^31, 2^31). */
	assert_int_equal(lw_gps_unwrap32(lw_gps_wrap32(now + 0x7fffffff), now), now + 0x7fffffff);
	assert_int_equal(lw_gps_unwrap32(lw_gps_wrap32(now + 0x80000000), now),
	                 now + 0x80000000 - two32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vectors),           cmocka_unit_test(test_unix),
	        cmocka_unit_test(test_every_leap_second), cmocka_unit_test(test_bad_leap_second),
	        cmocka_unit_test(test_calendar),          cmocka_unit_test(test_wrap32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
