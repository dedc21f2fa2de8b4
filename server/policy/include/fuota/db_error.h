/* Which database failures mean "the database cannot be reached now" (a restart, a failover, a
 * network cut: the same call may succeed in a few seconds) and which are errors of the
 * statement or the data (ours to fix). The store returns FUOTA_ERR_UNAVAILABLE for the first,
 * FUOTA_ERR_IO for the second; the API answers 503 and 500 (fuota/api_error.h). */
#ifndef FUOTA_DB_ERROR_H
#define FUOTA_DB_ERROR_H

#include <stdbool.h>

/* The return code of a failed statement: sqlstate is the server's SQLSTATE (NULL or "" when
 * none came, as when the connection broke), connection_ok whether the connection is still up
 * after it. FUOTA_ERR_UNAVAILABLE when the connection is down, for SQLSTATE class 08
 * (connection exception) and for 57P01 admin_shutdown, 57P02 crash_shutdown and 57P03
 * cannot_connect_now; FUOTA_ERR_IO for anything else. */
int db_error_rc(const char *sqlstate, bool connection_ok);

#endif
