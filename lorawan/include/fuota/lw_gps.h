/* GPS time as LoRaWAN uses it: seconds since the GPS epoch 1980-01-06T00:00:00Z, counting leap
 * seconds (GPS - UTC = 18 s since 2017-01-01), and carried on air modulo 2^32.
 *
 *   GPS seconds = Unix seconds - 315964800 + leap seconds at that instant
 *
 * The leap-second table ends with 2016-12-31T23:59:60Z (ChirpStack gpstime.rs, brocaar gps/):
 * a later leap second needs a table change here. Unix time has no 23:59:60, so both the leap
 * second and the second after it convert to the same Unix second; struct lw_utc can name the leap
 * second itself (sec = 60). PROTOCOL-NOTES §3.5, P12. */
#ifndef FUOTA_LW_GPS_H
#define FUOTA_LW_GPS_H

#include <stdint.h>

#define LW_GPS_EPOCH_UNIX INT64_C(315964800) /* 1980-01-06T00:00:00Z in Unix seconds */

/* A UTC calendar time, proleptic Gregorian. sec is 0..59, or 60 during a leap second. */
struct lw_utc {
	int year;
	unsigned month; /* 1..12 */
	unsigned day;   /* 1..31 */
	unsigned hour;  /* 0..23 */
	unsigned min;   /* 0..59 */
	unsigned sec;   /* 0..60 */
};

/* GPS - UTC in seconds at Unix time unix_s: 0 before 1981-07-01, 18 from 2017-01-01. */
unsigned lw_gps_leap_seconds(int64_t unix_s);

/* Unix (UTC) seconds to GPS seconds. FUOTA_ERR_INVALID_ARG before the GPS epoch or beyond
 * 2^40 s (every conversion here accepts |seconds| <= 2^40, about 34800 years). */
int lw_gps_from_unix(int64_t unix_s, int64_t *gps_s);

/* GPS seconds to Unix seconds (a leap second maps to the Unix second after it).
 * FUOTA_ERR_INVALID_ARG for gps_s < 0 or > 2^40. */
int lw_gps_to_unix(int64_t gps_s, int64_t *unix_s);

/* Calendar UTC to GPS seconds; sec = 60 is accepted only at the end of a day that ends with a
 * leap second in the table. FUOTA_ERR_INVALID_ARG for out-of-range fields or a time before the
 * GPS epoch. */
int lw_gps_from_utc(const struct lw_utc *u, int64_t *gps_s);

/* GPS seconds to calendar UTC (sec = 60 for a leap second). FUOTA_ERR_INVALID_ARG for
 * gps_s < 0 or > 2^40. */
int lw_gps_to_utc(int64_t gps_s, struct lw_utc *u);

/* Calendar fields (sec 0..59) to Unix seconds and back, without leap seconds (like timegm and
 * gmtime_r, but pure). lw_utc_to_unix returns FUOTA_ERR_INVALID_ARG for out-of-range fields
 * (including day 31 of a 30-day month and Feb 29 of a common year) or years outside
 * -100000..100000; lw_unix_to_utc for |unix_s| > 2^40. */
int lw_utc_to_unix(const struct lw_utc *u, int64_t *unix_s);
int lw_unix_to_utc(int64_t unix_s, struct lw_utc *u);

/* The low 32 bits of a GPS time, as sent on air (DeviceTime, SessionTime...). */
uint32_t lw_gps_wrap32(int64_t gps_s);

/* The full GPS time t with t mod 2^32 == gps32 that lies nearest to ref_gps_s (within
 * [-2^31, 2^31) of it): unwraps a 32-bit time from the air against the server's clock. */
int64_t lw_gps_unwrap32(uint32_t gps32, int64_t ref_gps_s);

#endif
