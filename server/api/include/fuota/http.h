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

/* A request head as libmicrohttpd 0.9.75 hands it over: parsed in place in one buffer, every
 * separator (the request line's spaces, each header's colon, CR and LF) overwritten with NUL, so
 * each string ends at the first NUL, also at one the client sent: "Authorization: Bearer
 * tok\0junk" reads as "Bearer tok", and MHD gives no length that would show it. The buffer still
 * holds the rest, and this check reads it. */
struct http_head {
	const char *base; /* the method, the start of the head */
	size_t size; /* to the end of the blank line (MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE) */
	const char *method, *target, *version;
	size_t target_len; /* the target as received, up to a NUL (the URI log callback's) */
	const char *const *keys, *const *values; /* the headers in the order received */
	size_t n;
};

/* Returns 0 when every string of h fills its place in the head (no NUL inside a line, no header
 * moved by line folding), or -1 with *bad = the name of the first bad header ("" for the request
 * line). Reads only inside [base, base + size). */
int http_head_check(const struct http_head *h, const char **bad);

/* Listens as o says. Returns FUOTA_OK, FUOTA_ERR_INVALID_ARG (bind) or FUOTA_ERR_IO (message in
 * err). */
int http_start(struct api_ctx *api, const struct http_opts *o, struct http_server **out, char *err,
               size_t errlen);
unsigned http_port(const struct http_server *h);
/* Stops accepting, finishes the requests in flight, frees everything. NULL is accepted. */
void http_stop(struct http_server *h);

#endif
