/* A name only one running process may hold among all those sharing a database: fuotad's engine
 * instance id (engine_mqtt.c). A PostgreSQL session advisory lock on a connection of its own, so
 * that it is given up the instant the process dies (the server sees the connection close), not
 * after a timeout: a fuotad restarted with the same id gets it back at once, a second live one
 * does not. Needs a direct connection to the server (a session lock means nothing behind
 * PgBouncer in transaction mode). */
#ifndef FUOTA_STORE_LOCK_H
#define FUOTA_STORE_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "fuota/store_attr.h"

struct store_lock;

/* Takes the lock of name over a new connection to dsn. Returns FUOTA_OK (*out owns the
 * connection), FUOTA_ERR_CONFLICT (another live session holds it), FUOTA_ERR_IO (no
 * connection; message in err) or FUOTA_ERR_NO_MEMORY. */
STORE_MUST_CHECK int store_lock_take(const char *dsn, const char *name, struct store_lock **out,
                                     char *err, size_t errlen);

/* Whether the lock is still held, without waiting: reads what the server sent on the lock's
 * connection (a server that ended the session, an administrator's pg_terminate_backend, TCP
 * keepalives that found the path dead: the connection is closed) and, with round_trip, also runs
 * a query (a connection the server dropped silently shows only when used; this one may wait for
 * the TCP user timeout, 9 s). Returns FUOTA_OK (held) or FUOTA_ERR_IO: lost, the connection is
 * closed, the lock is the server's to give to whoever asks next (store_lock_retake). */
STORE_MUST_CHECK int store_lock_poll(struct store_lock *l, bool round_trip);

/* After a loss: a new connection and the lock again. When our previous session still holds it
 * (the server has not noticed the broken path yet) that session is ended and FUOTA_ERR_IO
 * returned (try again). Returns FUOTA_OK (held again, or never lost), FUOTA_ERR_CONFLICT
 * (another session holds it: another process took the name) or FUOTA_ERR_IO (no connection). */
STORE_MUST_CHECK int store_lock_retake(struct store_lock *l);

/* The server process id of the session holding the lock (pg_locks.pid), 0 while lost: what a
 * lease fence compares (struct seng_lease). */
int store_lock_pid(const struct store_lock *l);

/* Gives the lock up and closes its connection; NULL accepted. */
void store_lock_free(struct store_lock *l);

#endif
