/* GPS time and leap seconds (see lw_gps.h). */
#include <stdbool.h>
#include <stddef.h>

#include "fuota/err.h"
#include "fuota/lw_gps.h"

#define SECONDS_PER_DAY INT64_C(86400)
#define MAX_ABS_YEAR    100000
/* |Unix or GPS seconds| accepted: about 34800 years, far inside int64 and MAX_ABS_YEAR. */
#define MAX_ABS_SECONDS (INT64_C(1) << 40)

/* Unix time of the first UTC second after each leap second (00:00:00 of the next day); the count
 * of entries <= t is GPS - UTC at t. */
static const int64_t leap_unix[] = {
        362793600,  /* 1981-07-01 */
        394329600,  /* 1982-07-01 */
        425865600,  /* 1983-07-01 */
        489024000,  /* 1985-07-01 */
        567993600,  /* 1988-01-01 */
        631152000,  /* 1990-01-01 */
        662688000,  /* 1991-01-01 */
        709948800,  /* 1992-07-01 */
        741484800,  /* 1993-07-01 */
        773020800,  /* 1994-07-01 */
        820454400,  /* 1996-01-01 */
        867715200,  /* 1997-07-01 */
        915148800,  /* 1999-01-01 */
        1136073600, /* 2006-01-01 */
        1230768000, /* 2009-01-01 */
        1341100800, /* 2012-07-01 */
        1435708800, /* 2015-07-01 */
        1483228800, /* 2017-01-01 */
};

#define N_LEAPS (sizeof(leap_unix) / sizeof(leap_unix[0]))

unsigned lw_gps_leap_seconds(int64_t unix_s)
{
	unsigned n = 0;

	while (n < N_LEAPS && leap_unix[n] <= unix_s)
		n++;
	return n;
}

/* GPS time of the first second after leap second i: its Unix time shifted by i + 1 leaps. */
static int64_t leap_gps(size_t i)
{
	return leap_unix[i] - LW_GPS_EPOCH_UNIX + (int64_t)(i + 1);
}

int lw_gps_from_unix(int64_t unix_s, int64_t *gps_s)
{
	if (!gps_s || unix_s < LW_GPS_EPOCH_UNIX || unix_s > MAX_ABS_SECONDS)
		return FUOTA_ERR_INVALID_ARG;
	*gps_s = unix_s - LW_GPS_EPOCH_UNIX + lw_gps_leap_seconds(unix_s);
	return FUOTA_OK;
}

/* Leap seconds elapsed at GPS time gps_s, and whether gps_s is itself a leap second
 * (23:59:60). */
static unsigned gps_leaps(int64_t gps_s, bool *in_leap)
{
	unsigned n = 0;

	while (n < N_LEAPS && leap_gps(n) <= gps_s)
		n++;
	*in_leap = n < N_LEAPS && leap_gps(n) - 1 == gps_s;
	return n;
}

int lw_gps_to_unix(int64_t gps_s, int64_t *unix_s)
{
	bool in_leap;
	unsigned n;

	if (!unix_s || gps_s < 0 || gps_s > MAX_ABS_SECONDS)
		return FUOTA_ERR_INVALID_ARG;
	n = gps_leaps(gps_s, &in_leap);
	/* During the leap second, n does not count it yet: gps - n lands on the next 00:00:00. */
	*unix_s = gps_s + LW_GPS_EPOCH_UNIX - n;
	return FUOTA_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the era-based civil-days algorithm:
 * 400-year eras of 146097 days, years starting in March so that Feb 29 ends a year). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, struct lw_utc *u)
{
	int64_t era, doe, yoe, y, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	u->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	u->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	u->year = (int)(y + (u->month <= 2));
}

static bool is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap_year(y) ? 29 : len[m - 1];
}

/* Validates every field except sec, which the callers bound themselves. */
static bool fields_ok(const struct lw_utc *u)
{
	return u->year >= -MAX_ABS_YEAR && u->year <= MAX_ABS_YEAR && u->month >= 1 &&
	       u->month <= 12 && u->day >= 1 && u->day <= days_in_month(u->year, u->month) &&
	       u->hour <= 23 && u->min <= 59;
}

int lw_utc_to_unix(const struct lw_utc *u, int64_t *unix_s)
{
	if (!u || !unix_s || !fields_ok(u) || u->sec > 59)
		return FUOTA_ERR_INVALID_ARG;
	*unix_s = days_from_civil(u->year, u->month, u->day) * SECONDS_PER_DAY +
	          (int64_t)u->hour * 3600 + (int64_t)u->min * 60 + u->sec;
	return FUOTA_OK;
}

int lw_unix_to_utc(int64_t unix_s, struct lw_utc *u)
{
	int64_t days = unix_s / SECONDS_PER_DAY, rem = unix_s % SECONDS_PER_DAY;

	if (!u || unix_s < -MAX_ABS_SECONDS || unix_s > MAX_ABS_SECONDS)
		return FUOTA_ERR_INVALID_ARG;
	if (rem < 0) {
		rem += SECONDS_PER_DAY;
		days--;
	}
	civil_from_days(days, u);
	u->hour = (unsigned)(rem / 3600);
	u->min = (unsigned)(rem / 60 % 60);
	u->sec = (unsigned)(rem % 60);
	return FUOTA_OK;
}

int lw_gps_from_utc(const struct lw_utc *u, int64_t *gps_s)
{
	struct lw_utc v;
	int64_t next;
	int rc;

	if (!u || !gps_s || u->sec > 60)
		return FUOTA_ERR_INVALID_ARG;
	if (u->sec < 60) {
		int64_t unix_s;

		rc = lw_utc_to_unix(u, &unix_s);
		return rc == FUOTA_OK ? lw_gps_from_unix(unix_s, gps_s) : rc;
	}
	/* 23:59:60 exists only when the next second starts a new leap-second count. */
	v = *u;
	v.sec = 59;
	if (u->hour != 23 || u->min != 59 || lw_utc_to_unix(&v, &next) != FUOTA_OK)
		return FUOTA_ERR_INVALID_ARG;
	next++;
	if (lw_gps_leap_seconds(next) == lw_gps_leap_seconds(next - 1))
		return FUOTA_ERR_INVALID_ARG;
	rc = lw_gps_from_unix(next, gps_s);
	if (rc == FUOTA_OK)
		(*gps_s)--;
	return rc;
}

int lw_gps_to_utc(int64_t gps_s, struct lw_utc *u)
{
	bool in_leap;
	unsigned n;
	int rc;

	if (!u || gps_s < 0 || gps_s > MAX_ABS_SECONDS)
		return FUOTA_ERR_INVALID_ARG;
	n = gps_leaps(gps_s, &in_leap);
	if (!in_leap)
		return lw_unix_to_utc(gps_s + LW_GPS_EPOCH_UNIX - n, u);
	/* The second before the next 00:00:00, shown as 23:59:60. */
	rc = lw_unix_to_utc(gps_s + LW_GPS_EPOCH_UNIX - n - 1, u);
	u->sec = 60;
	return rc;
}

uint32_t lw_gps_wrap32(int64_t gps_s)
{
	return (uint32_t)((uint64_t)gps_s & UINT32_MAX);
}

int64_t lw_gps_unwrap32(uint32_t gps32, int64_t ref_gps_s)
{
	uint32_t d = gps32 - lw_gps_wrap32(ref_gps_s); /* forward distance mod 2^32 */

	if (d >= UINT32_C(0x80000000))
		return ref_gps_s - (int64_t)(UINT64_C(0x100000000) - d);
	return ref_gps_s + d;
}
