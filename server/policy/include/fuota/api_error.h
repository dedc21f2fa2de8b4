/* A client-facing error: HTTP status, a stable code, a message and the request field at fault.
 * Rendered as {"error": {"code": ..., "message": ..., "field": ...}}. */
#ifndef FUOTA_API_ERROR_H
#define FUOTA_API_ERROR_H

#include <stdarg.h>

struct api_error {
	int status;     /* HTTP status (400, 401, 404, 409, 413, ...) */
	char code[32];  /* "invalid_field", "not_found", ... */
	char field[64]; /* "" when no single field is at fault */
	char message[320];
	unsigned retry_after_s; /* > 0: sent as Retry-After (a 503 the client should retry) */
};

/* How long a client is told to wait before retrying a request the database could not serve. */
#define API_RETRY_AFTER_S 5

/* Fills e and returns FUOTA_ERR_INVALID_ARG (for 4xx) so callers can `return api_error_set(...)`.
 * field may be NULL. */
int api_error_set(struct api_error *e, int status, const char *code, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Shorthand for 400 invalid_field. */
int api_error_field(struct api_error *e, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Every 503 fuotad answers: status 503, code, the message, and a Retry-After of
 * API_RETRY_AFTER_S, so that a client sees one shape whatever is unavailable (the database, the
 * readiness, a configuration, the live streams while fuotad stops). Returns 503. */
int api_error_unavailable(struct api_error *e, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* The one mapping of a store or engine return code (not FUOTA_OK) to what the client is told,
 * about `what` ("job", "device", ...): NOT_FOUND 404 not_found, CONFLICT 409 conflict, STATE
 * 409 invalid_state, UNAVAILABLE 503 database_unavailable with a Retry-After of
 * API_RETRY_AFTER_S (the database cannot be reached: retry later), anything else 500 internal.
 * Fills e (retry_after_s 0 unless 503) and returns e->status. */
int api_error_from_rc(struct api_error *e, int rc, const char *what);

#endif
