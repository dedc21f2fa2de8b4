/* The SARA-R5 firmware-update manager (issue 11): drives the state machine of sara_fw_sm.h over
 * the driver (sara.h) and the AT client, and writes the state file at every transition (temp file,
 * fsync, rename, fsync of the directory), so a restarted host knows whether the module is
 * downloading, validating, installing or rebooted into which version.
 *
 * While the state forbids resets (fwu_reset_allowed) the driver holds them (sara_hold_resets):
 * the module is waited for by polling AT, never power-cycled. Every driver command passes
 * fwu_cmd_check (Appendix B). The URCs +UFOTASTAT, +UFWPREVAL, +UUFWINSTALL/+UFWINSTALL,
 * +UFWUPD and +ULWM2MSTAT are handled whenever the AT client meets them.
 *
 * Ownership: the manager keeps the pointers of its config (the caller keeps the driver, client,
 * port and strings alive) and a pointer to the package given to fwu_foat / fwu_uart for the
 * duration of the call. fwu_close accepts NULL. */
#ifndef FUOTA_SARA_FW_H
#define FUOTA_SARA_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/sara.h"
#include "fuota/sara_fw_sm.h"

struct fwu;

struct fwu_config {
	struct sara *sara;                /* required */
	struct at_client *at;             /* required: the client the driver uses */
	struct cell_serial *serial;       /* required for FOAT (baud switch) */
	const struct cell_clock *clock;   /* NULL: cell_clock_monotonic() */
	const char *state_path;           /* required: the state file */
	uint32_t baud;                    /* the port's normal rate; 0: 115200 */
	uint32_t install_timeout_ms;      /* the longest wait for an install; 0: 40 min */
	uint32_t poll_ms;                 /* AT poll period while the module is away; 0: 10 s */
	uint32_t silence_ms;              /* after +UFWINSTALL OK: wait this long for the module to
	                                   * go silent; 0: 5 min (Particle's limit) */
	uint32_t boot_timeout_ms;         /* sara_boot after an update; 0: 60 s */
	uint32_t xm_ack_timeout_ms;       /* Xmodem; 0: xmodem.h default */
	unsigned xm_retries;              /* Xmodem; 0: xmodem.h default */
	uint32_t foat_probe_ms;           /* a FOAT found under way: wait this long for the
	                                   * module's handshake before asking AT; 0: 25 s */
	uint32_t verizon_period_ms;       /* Table 3: AT+ULWM2MREG=102 this often; 0: 30 s */
	void (*close_sockets)(void *ctx); /* §3.7.3; may be NULL */
	/* Brings the data connection up (registration, PDP context) before each HTTP or FTP
	 * download try: a module that restarted mid-download has lost it. Returns 0 or an error;
	 * NULL: the caller keeps the connection up. */
	int (*data_up)(void *ctx);
	/* Called at every transition (msg NULL: progress) and with a message when there is news for
	 * the user: done, failed, stuck, an error. May be NULL. */
	void (*on_report)(void *ctx, const struct fwu_status *st, const char *msg);
	void *ctx;
};

/* Creates the manager and reads the state file back: a missing file is a fresh start (idle);
 * a file that does not decode fails with FUOTA_ERR_MALFORMED (it is never half-read). A host
 * that restarted then calls fwu_resume. */
int fwu_open(const struct fwu_config *cfg, struct fwu **out);
void fwu_close(struct fwu *u);

/* The state file on its own (a tool that reads or edits it without a modem). fwu_file_write:
 * temp file, fsync, rename, fsync of the directory. fwu_file_read: FUOTA_ERR_NOT_FOUND when
 * missing, FUOTA_ERR_MALFORMED when not a complete state file, FUOTA_ERR_IO (errno kept). */
int fwu_file_write(const char *path, const struct fwu_status *st, const struct fwu_desired *d);
/* Any file replaced whole the same way (len bytes of data at path): FUOTA_OK, FUOTA_ERR_IO (errno
 * kept; the temp file removed) or FUOTA_ERR_INVALID_ARG (path too long). */
int fwu_file_replace(const char *path, const void *data, size_t len);
int fwu_file_read(const char *path, struct fwu_status *st, struct fwu_desired *d);

const struct fwu_status *fwu_get_status(const struct fwu *u);
const struct fwu_desired *fwu_get_desired(const struct fwu *u);
/* Replaces the desired configuration and writes the state file. */
int fwu_set_desired(struct fwu *u, const struct fwu_desired *d);
/* The message of the last failure or report; "" when none. */
const char *fwu_last_error(const struct fwu *u);

/* Applies one event: step, state file, resets held or released. Actions are queued for fwu_run.
 * FUOTA_ERR_STATE when the state machine refuses it (fwu_last_error says why). */
int fwu_apply(struct fwu *u, const struct fwu_event *ev);

/* Runs the queued actions until none is left (waiting for the module, reading its version,
 * restoring the desired configuration, ...). The package, when one is needed to send again, is
 * the one of the running fwu_foat call; without one the run stops and reports. */
int fwu_run(struct fwu *u);

/* After a restart of the host: the RESTART event, then fwu_run. */
int fwu_resume(struct fwu *u);

struct fwu_foat_opts {
	int filetype;  /* the first +UFWUPD parameter; 0: 1 (Table 7's form) [UNVERIFIED] */
	uint32_t baud; /* the rate of the transfer; 0: 460800 */
	bool use_1k;   /* Xmodem-1k */
};
/* FOAT (§4): AT+UFWUPD=<filetype>,<baud> on the raw stream, the port switched to baud, +UFWUPD:
 * ONGOING, the package by Xmodem within the 109 s window, then validation and install URCs to
 * +UFWUPD: 128, the module back, its version and the restore. In UPDATE_MODE (a transfer cut by a
 * power loss) the package goes again without +UFWUPD. A FOAT found under way in the state file (a
 * host killed mid-update runs it again) goes on: an install is waited for, never sent again; a
 * module that may be in Firmware Update Mode gets the package at its rate if it shakes hands
 * within foat_probe_ms, else, when it answers AT (the old firmware), a fresh FOAT. Returns 0 when
 * the update is DONE, else the error of the step that stopped it (the status tells where it
 * stands). */
/* The MD5 (32 hex digits) of the package the next fwu_foat / fwu_uart is given (fwu_http and
 * fwu_ftp take theirs from their md5): kept in the state file, so that the same update asked
 * again after it finished is known as done (fwu_update_done). NULL or not MD5: unknown. */
void fwu_set_package_md5(struct fwu *u, const char *md5);

int fwu_foat(struct fwu *u, const uint8_t *pkg, size_t len, const struct fwu_foat_opts *o);

/* Downloads into the FOAT area (HTTP, FTP, UART) tried this often when one gets no result in time
 * (the module restarted mid-download): each try starts from scratch, the stale partial package
 * deleted first. */
#define FWU_DL_TRIES 3

/* HTTP (§5.2): the stale package deleted, the profile configured, AT+UHTTPC=<p>,100,"<path>",
 * +UUHTTPCR's MD5 compared with md5 (32 hex digits), then fwu_install's path to DONE. */
int fwu_http(struct fwu *u, int profile, const struct sara_http_cfg *cfg, const char *path,
             const char *md5, uint32_t timeout_ms);
/* FTP (§5.1): profile, login, AT+UFTPC=100,"<path>", +UUFTPCR's MD5 compared, then install. */
int fwu_ftp(struct fwu *u, const struct sara_ftp_cfg *cfg, const char *path, const char *md5,
            uint32_t timeout_ms);
/* UART (§5.3): AT+UDELFILE of a stale package, AT+UDWNFILE="delta",<len>,"FOAT" with the prompt,
 * AT+ULSTFILE to check its size, then install. */
int fwu_uart(struct fwu *u, const uint8_t *pkg, size_t len, uint32_t timeout_ms);

/* +UFWINSTALL for a package already in the FOAT area (DOWNLOADED: a uFOTA "download only"
 * campaign, or a run that stopped after its download), then the wait, version and restore. */
int fwu_install(struct fwu *u);

/* Applies the desired configuration now, outside an update (refused while resets are not
 * allowed): the restore plan, the MNO profile's reboot included. */
int fwu_restore_now(struct fwu *u);

/* RoT (§8): AT+USECFW=0 (update false) or =1 → *status (+USECFW value). */
int fwu_rot(struct fwu *u, bool update, int *status);

/* uFOTA (§3). fwu_ufota_enable: the URCs (+ULWM2MSTAT=1, +UFOTASTAT=1, and +UFWINSTALL=,,,1
 * when the desired configuration says the variant has it) and the method recorded. */
int fwu_ufota_enable(struct fwu *u);
/* AT+UFOTACONFIG=721,<mode>,255: 1 download only, 2 wait for ack, 3 disabled (§3.4); the mode is
 * kept in the state file. */
int fwu_ufota_config(struct fwu *u, int mode);
/* AT+UFOTAACK=<delay_s> (accept, download in delay_s; ≥ 1) or AT+UFOTAACK=0 (reject), only while
 * the server's request is pending (§3.4.2). */
int fwu_ufota_ack(struct fwu *u, int delay_s);
enum { FWU_UFOTA_CANCEL = 0, FWU_UFOTA_PAUSE = 1, FWU_UFOTA_RESUME = 2 };
/* AT+UFOTA=<op> (§3.3); a cancel is refused once an install is under way. */
int fwu_ufota_ctl(struct fwu *u, int op);
/* AT+UFOTA? → "+UFOTA: <state>,<total>,<done>". */
int fwu_ufota_progress(struct fwu *u, int *state, uint32_t *total, uint32_t *done);
/* A host back after a restart: a uFOTA campaign went on in the module alone, its URCs lost. Reads
 * ATI9 and AT+UFOTA? (*state, *total, *done; -1, 0, 0 when not asked) and moves the status on
 * (fwu_ufota_sync_event): to the restore when another version runs, to DOWNLOADED when the whole
 * package is there in download-only mode, to the download's percentage. FUOTA_OK also when the
 * status is not a uFOTA download (nothing asked). */
int fwu_ufota_sync(struct fwu *u, int *state, uint32_t *total, uint32_t *done);
/* AT+USECMODE? (*secmode; 0 before the first registration means uFOTA cannot work, §3.1.1), then
 * AT+ULWM2MREG? → *status of server 721 (0 deregistered, 3 registered, 4 failed); with checkin,
 * AT+ULWM2MREG=721 first (an immediate check-in, §3.6). Returns FUOTA_OK for 0 and 3,
 * FUOTA_ERR_STATE for 4 (the message says whether +USECMODE: 0 is why), FUOTA_ERR_MALFORMED
 * naming the command and the line it could not parse; both values are -1 until read. */
int fwu_ufota_register(struct fwu *u, bool checkin, int *status, int *secmode);

/* The server registration lifetime (§3.6): AT+ULWM2MREAD="/1/10" → *seconds; with set_s > 0
 * first AT+ULWM2MWRITE of resource 1 (which triggers a check-in). set_s below 3600 is refused
 * (the app note's floor for tests; production should keep the factory 86400). The write's JSON
 * form is [UNVERIFIED]: the app note's example is garbled. */
int fwu_ufota_srlt(struct fwu *u, long set_s, long *seconds);

/* The idle loop of a host that watches an update: URCs dispatched, actions run, until the status
 * reaches DONE or FAILED, or a state that waits for the host (ACK_PENDING: +UFOTAACK; DOWNLOADED:
 * fwu_install), by a transition while watching, or timeout_ms passes (FUOTA_ERR_TIMEOUT). */
int fwu_watch(struct fwu *u, uint32_t timeout_ms);

#endif
