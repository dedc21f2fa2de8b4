/* Streamed answers through libmicrohttpd (http_stream.h). MHD calls the content reader when the
 * socket can take bytes; a reader that returns 0 must suspend its connection, or MHD would call
 * it again at once (a busy loop). The daemon runs with MHD_ALLOW_SUSPEND_RESUME for this. */
#include "http_stream.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "fuota/err.h"
#include "fuota/log.h"

struct http_streams {
	struct api_ctx *api;
	unsigned poll_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
};

struct stream_conn {
	struct api_stream *st;
	struct MHD_Connection *conn;
};

static void resume(void *conn)
{
	MHD_resume_connection(conn);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_conn *sc = cls;
	size_t n;

	(void)pos;
	switch (api_stream_read(sc->st, buf, max, &n)) {
	case API_STREAM_DATA: return (ssize_t)n;
	case API_STREAM_END: return MHD_CONTENT_READER_END_OF_STREAM;
	case API_STREAM_WAIT: break;
	}
	/* Suspended first, parked after: the ticker resumes only what is parked, so it never
	 * resumes a connection that is not suspended yet. */
	MHD_suspend_connection(sc->conn);
	if (!api_stream_park(sc->st, sc->conn))
		MHD_resume_connection(sc->conn); /* shutting down: read END next */
	return 0;
}

static void reader_free(void *cls)
{
	struct stream_conn *sc = cls;

	api_stream_close(sc->st);
	free(sc);
}

enum MHD_Result http_stream_queue(struct MHD_Connection *conn, struct api_stream *st)
{
	struct stream_conn *sc = calloc(1, sizeof(*sc));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!sc) {
		api_stream_close(st);
		return MHD_NO;
	}
	sc->st = st;
	sc->conn = conn;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, sc, reader_free);
	if (!r) {
		reader_free(sc);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	/* nginx buffers answers by default; an event must not wait for a buffer to fill. */
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void *ticker_main(void *arg)
{
	struct http_streams *hs = arg;

	pthread_mutex_lock(&hs->lock);
	while (!hs->stop) {
		struct timespec ts;

		pthread_mutex_unlock(&hs->lock);
		api_stream_tick(hs->api, resume);
		pthread_mutex_lock(&hs->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += hs->poll_ms / 1000;
		ts.tv_nsec += (long)(hs->poll_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!hs->stop)
			pthread_cond_timedwait(&hs->wake, &hs->lock, &ts);
	}
	pthread_mutex_unlock(&hs->lock);
	return NULL;
}

int http_streams_start(struct api_ctx *api, unsigned poll_ms, struct http_streams **out)
{
	struct http_streams *hs = calloc(1, sizeof(*hs));

	*out = NULL;
	if (!hs)
		return FUOTA_ERR_NO_MEMORY;
	hs->api = api;
	hs->poll_ms = poll_ms ? poll_ms : 250;
	pthread_mutex_init(&hs->lock, NULL);
	pthread_cond_init(&hs->wake, NULL);
	if (pthread_create(&hs->thread, NULL, ticker_main, hs) != 0) {
		pthread_cond_destroy(&hs->wake);
		pthread_mutex_destroy(&hs->lock);
		free(hs);
		return FUOTA_ERR_IO;
	}
	*out = hs;
	return FUOTA_OK;
}

void http_streams_stop(struct http_streams *hs)
{
	if (!hs)
		return;
	pthread_mutex_lock(&hs->lock);
	hs->stop = true;
	pthread_cond_signal(&hs->wake);
	pthread_mutex_unlock(&hs->lock);
	pthread_join(hs->thread, NULL);
	/* After the ticker: the two never wake the same stream. */
	api_stream_shutdown(hs->api, resume);
	pthread_cond_destroy(&hs->wake);
	pthread_mutex_destroy(&hs->lock);
	free(hs);
}
