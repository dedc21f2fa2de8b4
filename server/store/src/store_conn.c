/* Opening a database connection with the settings that notice a dead network path (see
 * store_int.h, store_connect). */
#include <libpq-fe.h>

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
