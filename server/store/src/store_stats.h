/* The planner's statistics of a table that just grew a lot (store_stats.c). */
#ifndef FUOTA_STORE_STATS_H
#define FUOTA_STORE_STATS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* Rows added at once below which the statistics are left to autovacuum. */
#define STORE_STATS_MIN_ROWS 1000

/* Whether adding n_new rows to a table whose statistics count reltuples rows (pg_class; < 0:
 * never analyzed) makes them stale enough to refresh now: at least STORE_STATS_MIN_ROWS rows,
 * and more than a tenth of what the statistics know. */
bool store_stats_stale(uint64_t n_new, double reltuples);

/* After n_new rows were committed into table (a name from our own code) on c, outside any
 * transaction: ANALYZE it when store_stats_stale says so. Plans PostgreSQL cached from the old
 * statistics (an empty table: a walk over every row looks free) are dropped with them. A failure
 * is logged and changes nothing else. */
void store_stats_refresh(PGconn *c, const char *table, uint64_t n_new);

#endif
