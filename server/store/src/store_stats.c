/* The planner's statistics of a table that just grew a lot: a job of 100,000 devices lands in
 * job_device in one statement, and until autovacuum analyzes the table (a minute or more later)
 * every plan PostgreSQL made, or cached, while it was small stays: a statement prepared while
 * job_device was empty walks all of its rows at every call (the clock-sync hook: 0.8 ms per
 * AppTimeReq at 20,000 devices, a whole index at 100,000). ANALYZE after the insert gives the
 * planner the new size and invalidates those cached plans on every connection. */
#include <stdio.h>
#include <stdlib.h>

#include "fuota/err.h"
#include "fuota/log.h"
#include "store_int.h"
#include "store_stats.h"

bool store_stats_stale(uint64_t n_new, double reltuples)
{
	if (n_new < STORE_STATS_MIN_ROWS)
		return false;
	return reltuples < 0 || (double)n_new * 10.0 > reltuples;
}

void store_stats_refresh(PGconn *c, const char *table, uint64_t n_new)
{
	const char *vals[1] = {table};
	PGresult *r = NULL;
	char sql[96];
	double reltuples;

	if (n_new < STORE_STATS_MIN_ROWS)
		return;
	if (store_run(c, "SELECT reltuples FROM pg_class WHERE oid = $1::regclass", 1, vals, &r) !=
	            FUOTA_OK ||
	    PQntuples(r) != 1) {
		PQclear(r);
		return;
	}
	reltuples = strtod(PQgetvalue(r, 0, 0), NULL);
	PQclear(r);
	if (!store_stats_stale(n_new, reltuples))
		return;
	snprintf(sql, sizeof(sql), "ANALYZE %s", table);
	if (store_run(c, sql, 0, NULL, NULL) != FUOTA_OK)
		log_msg(LOG_LVL_WARN, "database: %s not analyzed after %llu new rows", table,
		        (unsigned long long)n_new);
}
