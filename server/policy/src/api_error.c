#include "fuota/api_error.h"

#include <stdio.h>
#include <string.h>

#include "fuota/err.h"

static void fill(struct api_error *e, int status, const char *code, const char *field,
                 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void fill(struct api_error *e, int status, const char *code, const char *field,
                 const char *fmt, va_list ap)
{
	e->status = status;
	snprintf(e->code, sizeof(e->code), "%s", code);
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	e->retry_after_s = 0;
}

int api_error_set(struct api_error *e, int status, const char *code, const char *field,
                  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fill(e, status, code, field, fmt, ap);
	va_end(ap);
	return FUOTA_ERR_INVALID_ARG;
}

int api_error_field(struct api_error *e, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fill(e, 400, "invalid_field", field, fmt, ap);
	va_end(ap);
	return FUOTA_ERR_INVALID_ARG;
}

int api_error_unavailable(struct api_error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fill(e, 503, code, NULL, fmt, ap);
	va_end(ap);
	e->retry_after_s = API_RETRY_AFTER_S;
	return e->status;
}

int api_error_from_rc(struct api_error *e, int rc, const char *what)
{
	if (rc == FUOTA_ERR_NOT_FOUND)
		api_error_set(e, 404, "not_found", NULL, "%s not found", what);
	else if (rc == FUOTA_ERR_CONFLICT)
		api_error_set(e, 409, "conflict", NULL, "%s is in use or exists already", what);
	else if (rc == FUOTA_ERR_STATE)
		api_error_set(e, 409, "invalid_state", NULL,
		              "not allowed in the %s's current state", what);
	else if (rc == FUOTA_ERR_UNAVAILABLE)
		api_error_unavailable(e, "database_unavailable",
		                      "the database cannot be reached; retry in a few seconds");
	else
		api_error_set(e, 500, "internal", NULL, "internal error (%s)", fuota_strerror(rc));
	return e->status;
}
