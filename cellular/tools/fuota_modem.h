/* fuota-modem's parts: fuota_modem.c (options, dispatch), fuota_modem_out.c (the state file read
 * alone, status as text or JSON, the progress bar, exit codes, the desired configuration) and
 * fuota_modem_run.c (the commands that talk to the modem). */
#ifndef FUOTA_MODEM_TOOL_H
#define FUOTA_MODEM_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "fuota/sara_fw.h"

enum {
	FM_EXIT_OK = 0,
	FM_EXIT_FAILED = 1,
	FM_EXIT_USAGE = 2,
	FM_EXIT_PENDING = 3,
	FM_EXIT_REFUSED = 4,
	FM_EXIT_IO = 5,
	FM_EXIT_STATE_FILE = 6
};

/* The boot greeting set with AT+CSGT (a restart mid-download is seen at once). */
#define FM_GREETING "FUOTA: READY"

struct fm_opts {
	const char *tty;
	const char *greeting; /* NULL: --no-greeting */
	uint32_t baud;
	const char *state;
	const char *log;
	char log_buf[1024];
	bool json;
	int argc; /* the command and its arguments */
	char **argv;
};

/* Reads the state file alone: 0 (a missing file is idle), FM_EXIT_STATE_FILE when it does not
 * decode, FM_EXIT_IO when it cannot be read. */
int fm_read_state(const struct fm_opts *o, struct fwu_status *st, struct fwu_desired *d);
/* Prints the status (text or JSON) with an optional message on stdout. */
void fm_print(const struct fm_opts *o, const struct fwu_status *st, const char *msg);
/* The exit code for a command that returned err, the status before (seq0) and after it. */
int fm_exit_code(int err, uint32_t seq0, const struct fwu_status *st);
/* fwu_config.on_report: the progress bar on a terminal, messages on stderr. */
void fm_report(void *ctx, const struct fwu_status *st, const char *msg);

int fm_status(const struct fm_opts *o);
int fm_config(const struct fm_opts *o);
int fm_modem(const struct fm_opts *o);

#endif
