/* The simulator's reader of AT command lines (pure: no I/O, no allocation).
 *
 * A line is "AT" followed by commands separated by ';': extended ones ("+CMEE=2", "+CEREG?",
 * "+USOCR=?", "+CGSN") and basic ones ("E0", "I9", "&W", "Z"). msim_at_next() takes one command at
 * a time from the line and splits its parameters, keeping quoted strings whole. */
#ifndef MSIM_AT_H
#define MSIM_AT_H

#include <stdbool.h>
#include <stddef.h>

#define MSIM_AT_PARAMS   16
#define MSIM_AT_NAME_MAX 24

enum msim_at_kind {
	MSIM_AT_EXEC, /* AT+X or a basic command */
	MSIM_AT_SET,  /* AT+X=... */
	MSIM_AT_READ, /* AT+X? */
	MSIM_AT_TEST, /* AT+X=? */
};

struct msim_at_param {
	const char *p; /* into the line; not NUL-terminated */
	size_t len;
	bool quoted;
};

struct msim_cmd {
	char name[MSIM_AT_NAME_MAX]; /* upper case: "+CMEE", "E", "I", "&W"; "" for a bare AT */
	enum msim_at_kind kind;
	int nparam;
	struct msim_at_param param[MSIM_AT_PARAMS];
};

/* Checks that line (len bytes, no CR) starts with "AT" (any case) and sets *cursor after it.
 * Returns 0, or -1 when it does not. */
int msim_at_begin(const char *line, size_t len, size_t *cursor);

/* Reads the next command of line from *cursor into *c and moves *cursor past it and its ';'.
 * Returns 1 when a command was read, 0 at the end of the line, -1 when the text is malformed
 * (an unterminated string, a name too long, too many parameters). */
int msim_at_next(const char *line, size_t len, size_t *cursor, struct msim_cmd *c);

/* Parameter i as an integer in [lo, hi]: 0, or -1 when it is missing, empty, quoted, not a
 * number or out of range. */
int msim_at_int(const struct msim_cmd *c, int i, long lo, long hi, long *v);

/* Parameter i as a string copied into buf (NUL-terminated): 0, or -1 when it is missing or does
 * not fit. Quoted or not; the quotes are not copied. */
int msim_at_str(const struct msim_cmd *c, int i, char *buf, size_t len);

/* True when parameter i is present and not empty. */
bool msim_at_has(const struct msim_cmd *c, int i);

#endif
