/* Token revocations seen by every fuotad at once (issue 15). A revocation commits with a NOTIFY
 * on STORE_CHANNEL_TOKEN_REVOKED carrying the token's id (store_token_revoke); each instance
 * listens on a connection of its own (store_listen_start) and drops that token from its cache.
 *
 * A notification committed while the listen connection was down is never delivered, so the cache
 * is trusted only while it listens: it is emptied and set aside when the connection is lost, and
 * emptied again and used from when a new one listens. Meanwhile every request asks the database. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "fuota/err.h"
#include "fuota/log.h"

void api_token_cache_drop(struct api_ctx *a, int64_t token_id)
{
	pthread_mutex_lock(&a->cache_lock);
	for (size_t i = 0; i < API_TOKEN_CACHE; i++)
		if (a->cache[i].expires_ms && a->cache[i].auth.token_id == token_id)
			memset(&a->cache[i], 0, sizeof(a->cache[i]));
	a->cache_gen++; /* a lookup under way may have read the row before the revocation */
	pthread_mutex_unlock(&a->cache_lock);
}

static void on_revoked(void *ctx, const char *payload)
{
	struct api_ctx *a = ctx;
	char *end = NULL;
	long long id;

	errno = 0;
	id = strtoll(payload, &end, 10);
	if (errno || end == payload || *end || id <= 0) {
		/* Not ours to understand: forget every token rather than keep a revoked one. */
		log_msg(LOG_LVL_WARN, "api: revocation notice without a token id; cache emptied");
		api_token_cache_clear(a);
		return;
	}
	api_token_cache_drop(a, (int64_t)id);
	log_msg(LOG_LVL_DEBUG, "api: token %lld revoked (notified)", id);
}

static void on_state(void *ctx, bool listening)
{
	struct api_ctx *a = ctx;

	pthread_mutex_lock(&a->cache_lock);
	memset(a->cache, 0, sizeof(a->cache));
	a->cache_gen++;
	a->listen_armed = listening;
	pthread_mutex_unlock(&a->cache_lock);
}

int api_listen_start(struct api_ctx *a, const char *dsn)
{
	pthread_mutex_lock(&a->cache_lock);
	a->listen_mode = true; /* no cache until the connection listens */
	a->listen_armed = false;
	pthread_mutex_unlock(&a->cache_lock);
	return store_listen_start(dsn, STORE_CHANNEL_TOKEN_REVOKED, on_revoked, on_state, a,
	                          &a->listener);
}
