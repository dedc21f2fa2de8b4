/* A name only one running process may hold among all those sharing a database: fuotad's engine
 * instance id (engine_mqtt.c). A PostgreSQL session advisory lock on a connection of its own, so
 * that it is given up the instant the process dies (the server sees the connection close), not
 * after a timeout: a fuotad restarted with the same id gets it back at once, a second live one
 * does not. Needs a direct connection to the server (a session lock means nothing behind
 * PgBouncer in transaction mode). */
#ifndef FUOTA_STORE_LOCK_H
#define FUOTA_STORE_LOCK_H

#include <stddef.h>

struct store_lock;

/* Takes the lock of name over a new connection to dsn. Returns FUOTA_OK (*out owns the
 * connection), FUOTA_ERR_CONFLICT (another live session holds it), FUOTA_ERR_IO (no
 * connection; message in err) or FUOTA_ERR_NO_MEMORY. */
int store_lock_take(const char *dsn, const char *name, struct store_lock **out, char *err,
                    size_t errlen);

/* Whether the lock is still held: a connection that broke (the database restarted) is opened
 * again and the lock taken again. Returns FUOTA_OK, FUOTA_ERR_CONFLICT (another session took it
 * meanwhile) or FUOTA_ERR_IO (no connection yet: try again later). */
int store_lock_check(struct store_lock *l);

/* The server process id of the session holding the lock (pg_locks.pid), 0 while it has no
 * connection: what a lease fence compares (struct seng_lease). */
int store_lock_pid(const struct store_lock *l);

/* Gives the lock up and closes its connection; NULL accepted. */
void store_lock_free(struct store_lock *l);

#endif
