/* Streamed answers of the REST API: a job's events as Server-Sent Events
 * (GET /api/v1/jobs/{id}/events/stream). The API decides what to send; the HTTP layer (http.c)
 * pulls bytes, parks a stream that has nothing to say, and wakes it when api_stream_tick says.
 *
 * A stream is parked only by the thread that serves it, and woken (unparked) by exactly one
 * caller of api_stream_tick or api_stream_shutdown, under the API's stream lock; the wake
 * callback runs outside that lock. A parked connection stays open (its client cannot close it
 * while it is parked), so the conn handed to wake is always valid. */
#ifndef FUOTA_API_STREAM_H
#define FUOTA_API_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/api.h"

struct api_stream;

enum api_stream_rc {
	API_STREAM_DATA, /* *n bytes were written to buf */
	API_STREAM_WAIT, /* nothing now: park it until woken */
	API_STREAM_END   /* the stream is over (fuotad stops) */
};

/* The stream's next bytes, at most cap of them, into buf. May query the database. */
enum api_stream_rc api_stream_read(struct api_stream *st, char *buf, size_t cap, size_t *n);
/* Parks st (its connection conn, suspended by the caller): false when the API is shutting
 * down, and then the caller resumes conn itself. */
bool api_stream_park(struct api_stream *st, void *conn);
/* Frees the stream's slot; st is invalid after. NULL is accepted. */
void api_stream_close(struct api_stream *st);

/* One look for new events of every parked stream's job (one query), then wake(conn) for each
 * parked stream that has new events or a heartbeat due. Called every [http] sse_poll_ms. */
void api_stream_tick(struct api_ctx *a, void (*wake)(void *conn));
/* Ends every stream: wake(conn) for each parked one; from now on each read answers END and
 * api_stream_park false. */
void api_stream_shutdown(struct api_ctx *a, void (*wake)(void *conn));

/* ---- pure helpers (tests/unit/test_api_sse.c) ---- */

/* A Last-Event-ID (or ?after=) value: decimal digits, no sign, no leading zero, at most
 * INT64_MAX; "0" is accepted (from the start). */
bool api_sse_parse_id(const char *s, int64_t *out);
/* The events of a JSON array of objects with an integer "id" as SSE text ("id: N\ndata:
 * {...}\n\n" each, the object compact on one line). *last_id = the last event's id (unchanged
 * when the array is empty). Returns a malloc'd string (*len its length), or NULL when the
 * array is malformed or memory is short. */
char *api_sse_format(const char *json_array, size_t *len, int64_t *last_id);

#endif
