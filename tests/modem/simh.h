/* A small scripted client of fuota-modem-sim for the tests: it starts the simulator in a fresh
 * temporary folder (fs/, www/, the state file, the control FIFO), opens its pty raw, sends AT
 * lines and reads the answers line by line with timeouts. */
#ifndef SIMH_H
#define SIMH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct simh {
	pid_t pid;
	int fd; /* the pty, raw */
	char dir[256], pty[256];
	char buf[65536]; /* bytes read and not yet taken */
	size_t n;
};

/* Starts the simulator with its default folders plus the extra NULL-terminated arguments. */
int simh_start(struct simh *h, const char *const *extra);
/* Stops it (SIGTERM), waits for it and removes the folder. -1 when it had crashed or did not
 * exit with 0 (e.g. a sanitizer's report). */
int simh_stop(struct simh *h);
/* Stops it without removing the folder (a restart on the same NVM follows); as simh_stop. */
int simh_kill(struct simh *h);
/* Starts it again on the same folder. */
int simh_restart(struct simh *h, const char *const *extra);
/* "<dir>/<rel>" into out. */
const char *simh_path(const struct simh *h, const char *rel, char *out, size_t len);

/* Sends "<line>\r". */
void simh_send(struct simh *h, const char *line);
void simh_write(struct simh *h, const void *d, size_t n);
/* The next non-empty line (CR LF framing) within timeout_ms: 0, or -1 on timeout. */
int simh_line(struct simh *h, char *out, size_t len, int timeout_ms);
/* Skips lines until one equals want: 0, or -1 on timeout. */
int simh_expect(struct simh *h, const char *want, int timeout_ms);
/* Waits for the byte c (a prompt): 0 or -1. Bytes before it are dropped. */
int simh_wait_byte(struct simh *h, int c, int timeout_ms);
/* Sends cmd, then checks that the next lines are exactly the NULL-terminated list (the final
 * result included): 0, or -1 with the difference printed. */
int simh_at(struct simh *h, const char *cmd, ...);
/* A control command through the FIFO. */
void simh_ctl(struct simh *h, const char *cmd);
/* True when no byte arrives for ms. */
bool simh_quiet(struct simh *h, int ms);
/* Drops what was read and not taken. */
void simh_flush(struct simh *h);

#endif
