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
};

/* Fills e and returns FUOTA_ERR_INVALID_ARG (for 4xx) so callers can `return api_error_set(...)`.
 * field may be NULL. */
int api_error_set(struct api_error *e, int status, const char *code, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Shorthand for 400 invalid_field. */
int api_error_field(struct api_error *e, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
