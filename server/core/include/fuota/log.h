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

/* The logging macro: log_msg(LOG_LVL_INFO, "job %lld: cancelled", id). */
#define log_msg(lvl, ...)                              \
	do {                                           \
		if (log_enabled(lvl))                  \
			log_write((lvl), __VA_ARGS__); \
	} while (0)

#endif
