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
