#include "fuota/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *fuota_strerror(int err)
{
	switch (err) {
	case FUOTA_OK: return "ok";
	case FUOTA_ERR_MALFORMED: return "malformed input";
	case FUOTA_ERR_INVALID_ARG: return "invalid argument";
	case FUOTA_ERR_NO_SPACE: return "buffer too small";
	case FUOTA_ERR_UNSUPPORTED: return "unsupported";
	case FUOTA_ERR_CRYPTO: return "cryptographic operation failed";
	case FUOTA_ERR_NO_MEMORY: return "out of memory";
	case FUOTA_ERR_IO: return "input/output error";
	case FUOTA_ERR_NOT_FOUND: return "not found";
	case FUOTA_ERR_STATE: return "invalid state";
	case FUOTA_ERR_TIMEOUT: return "timed out";
	case FUOTA_ERR_CONFLICT: return "conflict";
	case FUOTA_ERR_UNRECOVERABLE: return "unrecoverable";
	case FUOTA_ERR_UNAVAILABLE: return "service unavailable";
	}
	return "unknown error";
}

int fuota_malformed(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return FUOTA_ERR_MALFORMED;
}
