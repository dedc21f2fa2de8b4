/* The HTTP server (libmicrohttpd): a pool of worker threads with epoll, whole bodies collected up
 * to a limit (413 past it), every request handed to api_handle. */
#ifndef FUOTA_HTTP_H
#define FUOTA_HTTP_H

#include <stddef.h>

#include "fuota/api.h"

struct http_server;

struct http_opts {
	const char *bind; /* an IPv4 address */
	unsigned port;    /* 0: any free port (http_port tells which) */
	unsigned threads;
	size_t max_body; /* a longer body is answered 413 */
	/* A connection that sends and receives nothing for timeout_s is closed, also in the
	 * middle of a request (a client that stops halfway through its body holds a connection
	 * that long at most). */
	unsigned timeout_s;
	/* A connection whose request headers have not all come header_timeout_s after it opened
	 * (or after its previous answer) is closed, however slowly it trickles them (slowloris). */
	unsigned header_timeout_s;
	unsigned max_connections;        /* at once, in all */
	unsigned max_connections_per_ip; /* at once, from one client address (0: no limit) */
	unsigned sse_poll_ms;            /* how often the event streams look for news (0: 250) */
};

/* Listens as o says. Returns FUOTA_OK, FUOTA_ERR_INVALID_ARG (bind) or FUOTA_ERR_IO (message in
 * err). */
int http_start(struct api_ctx *api, const struct http_opts *o, struct http_server **out, char *err,
               size_t errlen);
unsigned http_port(const struct http_server *h);
/* Stops accepting, finishes the requests in flight, frees everything. NULL is accepted. */
void http_stop(struct http_server *h);

#endif
