/* The project's one error enum: 0 is success, every error is negative. Data never travels in the
 * return value; functions hand it back through out-parameters. */
#ifndef FUOTA_ERR_H
#define FUOTA_ERR_H

#include <stddef.h>

enum fuota_err {
	FUOTA_OK = 0,
	FUOTA_ERR_MALFORMED = -1,      /* bytes from outside are short, long or out of range */
	FUOTA_ERR_INVALID_ARG = -2,    /* a caller passed a value outside the documented range */
	FUOTA_ERR_NO_SPACE = -3,       /* the caller's buffer or memory is too small */
	FUOTA_ERR_UNSUPPORTED = -4,    /* well-formed but not something we implement */
	FUOTA_ERR_CRYPTO = -5,         /* libcrypto failed */
	FUOTA_ERR_NO_MEMORY = -6,      /* allocation failed (I/O layers only) */
	FUOTA_ERR_IO = -7,             /* a file, socket or device failed */
	FUOTA_ERR_NOT_FOUND = -8,      /* the object asked for does not exist */
	FUOTA_ERR_STATE = -9,          /* the call is not valid in the object's current state */
	FUOTA_ERR_TIMEOUT = -10,       /* a deadline passed */
	FUOTA_ERR_CONFLICT = -11,      /* the object exists already or is in use */
	FUOTA_ERR_UNRECOVERABLE = -12, /* the received data cannot determine the result */
	FUOTA_ERR_UNAVAILABLE = -13    /* a service we depend on (the database) cannot be reached
	                                * now: the same call may succeed later */
};

/* A short English description of an enum fuota_err value; never NULL. */
const char *fuota_strerror(int err);

/* The one way a reader of outside bytes says what is wrong: the printf-style message into err
 * (errlen bytes, truncated; nothing when err is NULL or errlen 0). Returns FUOTA_ERR_MALFORMED,
 * so that a reader can `return fuota_malformed(err, errlen, ...)`. */
int fuota_malformed(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
