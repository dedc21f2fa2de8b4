/* The REST API under /api/v1, independent of the HTTP library: http.c hands it a request
 * (method, path, accessors for headers and query, the whole body) and sends back the response it
 * fills. Routing, bearer-token authentication, tenant scoping, metrics. Thread-safe: every HTTP
 * worker thread calls api_handle concurrently. */
#ifndef FUOTA_API_H
#define FUOTA_API_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/cfg.h"
#include "fuota/store.h"

struct api_error;

struct api_ctx;

enum api_kv_kind { API_KV_HEADER, API_KV_QUERY };

struct api_request {
	const char *method;
	const char *path; /* without the query string */
	/* Value of a header or query parameter, NULL when absent; conn is passed back. */
	const char *(*get)(void *conn, enum api_kv_kind kind, const char *key);
	void *conn;
	const char *body; /* NULL when empty */
	size_t body_len;
};

struct api_response {
	int status;
	char *body; /* malloc'd, owned by the caller after api_handle */
	size_t len;
	const char *content_type; /* static string */
	unsigned retry_after_s;   /* > 0: a Retry-After header (seconds) goes with the answer */
	/* Not NULL: the answer is a stream (fuota/api_stream.h), body is NULL; the caller sends
	 * it through api_stream_read and closes it with api_stream_close. */
	struct api_stream *stream;
};

/* store and cfg are borrowed and must outlive the context. Returns FUOTA_OK or
 * FUOTA_ERR_NO_MEMORY. */
int api_create(struct store *store, const struct cfg *cfg, struct api_ctx **out);
void api_destroy(struct api_ctx *a);
/* Listens for token revocations on a connection of its own to dsn (every fuotad on the database
 * revokes through a NOTIFY in the revoking transaction): a revoked token's cached entry is dropped
 * as soon as the revocation commits, on every instance. From then on the token cache is used only
 * while the listen connection is up, and emptied whenever it is lost or comes back (a
 * notification may have been missed). Returns FUOTA_OK or FUOTA_ERR_NO_MEMORY; api_destroy
 * stops it. */
int api_listen_start(struct api_ctx *a, const char *dsn);

/* Handles one request; always fills resp (a JSON error at worst). */
void api_handle(struct api_ctx *a, const struct api_request *req, struct api_response *resp);

/* Fills resp with the JSON error for status (used by http.c for what it refuses before any body:
 * 413, framing, the query); field (NULL: none) names the offending parameter. */
void api_error_response(struct api_response *resp, int status, const char *code, const char *field,
                        const char *message);
/* The same from e, its Retry-After included (a 503 of api_error_unavailable). */
void api_error_response_of(struct api_response *resp, const struct api_error *e);

/* The route table, for the OpenAPI completeness test: i in 0 .. api_route_count() - 1. */
size_t api_route_count(void);
void api_route_info(size_t i, const char **method, const char **pattern);

/* The embedded OpenAPI 3 document (JSON text). */
const char *api_openapi_json(void);

#endif
