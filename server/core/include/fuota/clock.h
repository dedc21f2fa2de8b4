/* The server's clocks in whole units: the monotonic clock for timeouts and durations, the wall
 * clock for what is stored or shown. One place, so that every piece reads time the same way. */
#ifndef FUOTA_CLOCK_H
#define FUOTA_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t fuota_mono_ms(void);

/* CLOCK_MONOTONIC in microseconds. */
int64_t fuota_mono_us(void);

/* CLOCK_REALTIME in milliseconds since the Unix epoch. */
int64_t fuota_real_ms(void);

#endif
