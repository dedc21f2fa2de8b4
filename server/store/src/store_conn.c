/* Opening a database connection with the settings that notice a dead network path, and the
 * settings of every session on it (see store_int.h, store_connect, store_session_setup). */
#include <libpq-fe.h>

#include "fuota/log.h"
#include "store_int.h"

PGconn *store_connect(const char *dsn, const char *application_name)
{
	/* Ours first, the DSN after it: a key the DSN sets itself wins (libpq keeps the last
	 * value of a repeated key, and expands dbname in place). TCP keepalives from 5 s idle,
	 * 2 s apart, 2 unanswered probes; TCP_USER_TIMEOUT 9 s for data the server never
	 * acknowledges: a dead path breaks the connection after about 9 s instead of the kernel's
	 * 15 minutes of retransmissions or 2 hours of idle. None applies to a Unix socket. */
	const char *keys[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
	                      "keepalives_interval", "keepalives_count", "tcp_user_timeout",
	                      "application_name",    "dbname",           NULL};
	const char *vals[] = {
	        STORE_CONNECT_TIMEOUT_S, "1", "5", "2", "2", STORE_TCP_USER_TIMEOUT_MS,
	        application_name,        dsn, NULL};

	return PQconnectdbParams(keys, vals, 1);
}

static void notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	log_msg(LOG_LVL_DEBUG, "postgres: %s", msg);
}

/* Settings of every session (store_int.h), again after a reconnection: timestamps in UTC and in the
 * ISO style (the JSON the store returns, store_rows.c's conversion), text in UTF-8, and no JIT.
 * fuotad's statements are short, but PostgreSQL compiles one with LLVM when its estimated cost is
 * high, arms that never run included: GET /jobs/{id}'s regions arm counts job_device, and at
 * 100,000 rows there the compilation took 494 ms of a statement that runs in 0.1 ms
 * (docs/BENCHMARKS.md). Apart: a server without the setting (before PostgreSQL 11) refuses it, and
 * the implicit transaction of several statements would undo the others with it. */
void store_session_setup(PGconn *c)
{
	PQsetNoticeProcessor(c, notice_quiet, NULL);
	PQclear(PQexec(c, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
	                  "SET client_encoding = 'UTF8'"));
	PQclear(PQexec(c, "SET jit = off"));
}
