/* The HTTP server (libmicrohttpd): a pool of worker threads with epoll, whole bodies collected up
 * to a limit (413 past it), every request handed to api_handle. */
#ifndef FUOTA_HTTP_H
#define FUOTA_HTTP_H

#include <stddef.h>

#include "fuota/api.h"

struct http_server;

/* Listens on bind:port (port 0: any free port; http_port tells which). A connection that sends
 * and receives nothing for timeout_s seconds is closed, also in the middle of a request (a client
 * that stops halfway through its body holds a connection that long at most). Returns FUOTA_OK or
 * FUOTA_ERR_IO (message in err). */
int http_start(struct api_ctx *api, const char *bind, unsigned port, unsigned threads,
               size_t max_body, unsigned timeout_s, struct http_server **out, char *err,
               size_t errlen);
unsigned http_port(const struct http_server *h);
/* Stops accepting, finishes the requests in flight, frees everything. NULL is accepted. */
void http_stop(struct http_server *h);

#endif
