/* A LISTEN connection of its own (store_listen_start, store.h): PostgreSQL notifications of one
 * channel handed to a callback on a thread that owns the connection.
 *
 * The pool's connections cannot listen: they are shared between requests, and behind PgBouncer in
 * transaction mode a LISTEN would stay on a server connection other clients then get. This one is
 * opened from the same DSN, never shared, and watched:
 *   - a notification is delivered only to a session that was listening when it was committed, so
 *     a lost connection may have missed some. The owner is told (on_state false) at once, and
 *     again (on_state true) once a new connection listens, so that it can forget what a missed
 *     notification would have changed;
 *   - a connection that died without a word (a server killed, a network cut) is found by a ping
 *     every PING_EVERY_MS that must be answered within PING_WAIT_MS, and by TCP keepalives;
 *   - reconnection is retried every RETRY_MS until it works or the listener stops. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "fuota/clock.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/store.h"

#define PING_EVERY_MS 5000
#define PING_WAIT_MS  5000
#define RETRY_MS      1000

struct store_listener {
	char *dsn;
	char *channel;
	store_notify_fn on_notify;
	store_listen_state_fn on_state;
	void *ctx;
	int stop_pipe[2]; /* a byte written to [1] ends the thread */
	pthread_t thread;
	bool listening; /* as last told to on_state (the thread's own) */
};

/* Waits up to timeout_ms for fd (-1: none) to be readable. 1 readable, 0 not, -1 stop asked. */
static int wait_for(struct store_listener *l, int fd, int timeout_ms)
{
	struct pollfd p[2] = {{l->stop_pipe[0], POLLIN, 0}, {fd, POLLIN, 0}};
	int n = poll(p, fd >= 0 ? 2 : 1, timeout_ms);

	if (n > 0 && p[0].revents)
		return -1;
	if (n < 0 && errno != EINTR)
		return -1;
	return n > 0 && fd >= 0 && p[1].revents ? 1 : 0;
}

static void set_state(struct store_listener *l, bool listening)
{
	if (l->listening == listening)
		return;
	l->listening = listening;
	if (listening)
		log_msg(LOG_LVL_INFO, "database: listening on %s", l->channel);
	else
		log_msg(LOG_LVL_WARN, "database: %s listen connection lost; reconnecting",
		        l->channel);
	l->on_state(l->ctx, listening);
}

/* A connection that listens on the channel, or NULL. TCP keepalives and a connect timeout added
 * to the DSN (expand_dbname: the DSN's own settings first, these after). */
static PGconn *open_listening(struct store_listener *l)
{
	const char *keys[] = {"dbname",
	                      "connect_timeout",
	                      "keepalives",
	                      "keepalives_idle",
	                      "keepalives_interval",
	                      "keepalives_count",
	                      "application_name",
	                      NULL};
	const char *vals[] = {l->dsn, "5", "1", "10", "3", "3", "fuotad-listen", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	char *id = NULL, sql[128];
	PGresult *r = NULL;
	bool ok = false;

	if (PQstatus(c) != CONNECTION_OK)
		goto out;
	id = PQescapeIdentifier(c, l->channel, strlen(l->channel));
	if (!id)
		goto out;
	snprintf(sql, sizeof(sql), "LISTEN %s", id);
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK && PQsetnonblocking(c, 1) == 0;
out:
	PQclear(r);
	PQfreemem(id);
	if (!ok) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Reads what arrived: results of the ping (answered) and notifications. false: connection lost. */
static bool drain(struct store_listener *l, PGconn *c, bool *ping_out)
{
	PGnotify *n;

	if (!PQconsumeInput(c))
		return false;
	while (*ping_out && !PQisBusy(c)) {
		PGresult *r = PQgetResult(c);

		if (!r) {
			*ping_out = false; /* the ping's results are all in */
			break;
		}
		PQclear(r);
	}
	while ((n = PQnotifies(c)) != NULL) {
		l->on_notify(l->ctx, n->extra);
		PQfreemem(n);
	}
	return PQstatus(c) == CONNECTION_OK;
}

/* Serves one connection until it is lost (returns 0) or the listener stops (-1). */
static int serve(struct store_listener *l, PGconn *c)
{
	int64_t due = fuota_mono_ms() + PING_EVERY_MS; /* the next ping, or the answer's deadline */
	bool ping_out = false;

	for (;;) {
		int64_t left = due - fuota_mono_ms();
		int w = wait_for(l, PQsocket(c), left > 0 ? (int)left : 0);

		if (w < 0)
			return -1;
		if (w > 0) {
			bool was_out = ping_out;

			if (!drain(l, c, &ping_out))
				return 0;
			if (was_out && !ping_out)
				due = fuota_mono_ms() + PING_EVERY_MS;
		}
		if (fuota_mono_ms() < due)
			continue;
		if (ping_out)
			return 0; /* no answer within PING_WAIT_MS */
		if (!PQsendQuery(c, "SELECT 1") || PQflush(c) < 0)
			return 0;
		ping_out = true;
		due = fuota_mono_ms() + PING_WAIT_MS;
	}
}

static void *listen_main(void *arg)
{
	struct store_listener *l = arg;

	for (;;) {
		PGconn *c = open_listening(l);
		int rc = 0;

		if (c) {
			set_state(l, true);
			rc = serve(l, c);
			PQfinish(c);
		}
		if (rc < 0)
			break;
		set_state(l, false);
		if (wait_for(l, -1, RETRY_MS) < 0)
			break;
	}
	return NULL;
}

int store_listen_start(const char *dsn, const char *channel, store_notify_fn on_notify,
                       store_listen_state_fn on_state, void *ctx, struct store_listener **out)
{
	struct store_listener *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return FUOTA_ERR_NO_MEMORY;
	l->stop_pipe[0] = l->stop_pipe[1] = -1;
	l->dsn = strdup(dsn);
	l->channel = strdup(channel);
	l->on_notify = on_notify;
	l->on_state = on_state;
	l->ctx = ctx;
	if (!l->dsn || !l->channel || pipe(l->stop_pipe) != 0 ||
	    pthread_create(&l->thread, NULL, listen_main, l) != 0) {
		if (l->stop_pipe[0] >= 0) {
			close(l->stop_pipe[0]);
			close(l->stop_pipe[1]);
		}
		free(l->dsn);
		free(l->channel);
		free(l);
		return FUOTA_ERR_NO_MEMORY;
	}
	*out = l;
	return FUOTA_OK;
}

void store_listen_stop(struct store_listener *l)
{
	if (!l)
		return;
	if (write(l->stop_pipe[1], "x", 1) != 1)
		log_msg(LOG_LVL_WARN, "database: cannot stop the %s listener", l->channel);
	pthread_join(l->thread, NULL);
	close(l->stop_pipe[0]);
	close(l->stop_pipe[1]);
	free(l->dsn);
	free(l->channel);
	free(l);
}
