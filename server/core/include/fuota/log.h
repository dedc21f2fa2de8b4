/* fuotad's logger: one macro, levels, text or JSON lines, printf format checking. Lines name the
 * job, DevEUI or token id they are about; keys and tokens are never passed to it.
 * The logger is process-wide state (set once at start by log_setup, read by every thread). */
#ifndef FUOTA_LOG_H
#define FUOTA_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level { LOG_LVL_DEBUG = 0, LOG_LVL_INFO = 1, LOG_LVL_WARN = 2, LOG_LVL_ERROR = 3 };

/* Sets the minimum level, the format (json = one JSON object per line) and the stream (stderr
 * when NULL). Call before starting threads. */
void log_setup(enum log_level min, bool json, FILE *out);

bool log_enabled(enum log_level lvl);

void log_write(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A value someone outside chose (a request's path or method, a library's message about a
 * request), made safe to log: control bytes (CR, LF, NUL ...), DEL and bytes 0x80..0xff become
 * \xHH and a backslash \\, so the value cannot end its line or forge another one, and reads back
 * unambiguously. s is len bytes (NUL bytes included); out gets at most cap - 1 characters and is
 * always terminated; a value that does not fit is cut between escapes and ends with "...".
 * Returns out. */
const char *log_escape(const char *s, size_t len, char *out, size_t cap);

/* The logging macro: log_msg(LOG_LVL_INFO, "job %lld: cancelled", id). */
#define log_msg(lvl, ...)                              \
	do {                                           \
		if (log_enabled(lvl))                  \
			log_write((lvl), __VA_ARGS__); \
	} while (0)

#endif
