/* Streamed answers through libmicrohttpd (fuota/api_stream.h): a content reader that pulls the
 * stream's bytes, suspends the connection when it has nothing to say, and a ticker thread that
 * resumes the connections api_stream_tick names. Private to http.c. */
#ifndef FUOTA_HTTP_STREAM_H
#define FUOTA_HTTP_STREAM_H

#include <microhttpd.h>

#include "fuota/api_stream.h"

struct http_streams;

/* Starts the ticker (every poll_ms). FUOTA_OK, NO_MEMORY or IO. */
int http_streams_start(struct api_ctx *api, unsigned poll_ms, struct http_streams **out);
/* Ends every stream (parked ones are resumed to end) and stops the ticker; call before
 * MHD_stop_daemon. NULL is accepted. */
void http_streams_stop(struct http_streams *hs);
/* Queues st as the answer on conn (text/event-stream, chunked, not cached); st is closed when
 * the connection ends, or here on failure. */
enum MHD_Result http_stream_queue(struct MHD_Connection *conn, struct api_stream *st);

#endif
