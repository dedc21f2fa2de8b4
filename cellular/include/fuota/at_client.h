/* The AT client: one reader of a serial transport, CR/LF framing with echo removal, final results
 * (OK, ERROR, +CME ERROR, +CMS ERROR, ABORTED), intermediate lines kept by prefix, URCs dispatched
 * to handlers registered by prefix whenever the reader meets them (inside a command's response as
 * well as in at_poll), prompts ('>' and '@') and binary payloads both ways, a hand-over of the raw
 * stream to a sub-protocol, a timeout per command, a sticky error for a sequence of commands, the
 * guard time after a final result or URC, consecutive timeouts fed to a recovery ladder, and a
 * timestamped AT log with secrets masked. Echo needs no setting: before ATE0 the module echoes
 * each command, and the reader drops a line equal to the command it just sent.
 *
 * Threading: none. The client is driven by its caller. URC lines are taken off the stream by
 * the reader wherever it meets them and queued; their handlers run outside the reader: in at_poll
 * right after their line, and when at_cmd / at_wait_urc return for URCs met inside them. So a
 * handler may send commands (to read the data a +UUSORD announces, say); the sticky error of the
 * caller's sequence is set aside while it runs. At most 32 URCs wait; more are logged and dropped.
 *
 * Ownership: the client keeps the serial and clock pointers of its config (the caller keeps them
 * alive); it copies prefixes. at_destroy accepts NULL. */
#ifndef FUOTA_AT_CLIENT_H
#define FUOTA_AT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuota/cell_serial.h"
#include "fuota/err.h"

struct at_client;

/* The final result of a command. */
enum at_final {
	AT_FINAL_NONE = 0, /* none yet (timeout, or a prompt the command never got) */
	AT_FINAL_OK,
	AT_FINAL_ERROR,
	AT_FINAL_CME, /* "+CME ERROR: <n>" or "+CME ERROR: <text>" (AT+CMEE=1 / =2) */
	AT_FINAL_CMS, /* "+CMS ERROR: <n|text>" */
	AT_FINAL_ABORTED
};

/* The error enum value at_cmd returns for a final result that is not OK. The device's detail is in
 * the response (final, code, text). */
#define AT_ERR_DEVICE FUOTA_ERR_IO

/* Rungs of the recovery ladder (CELLULAR-NOTES §3.7): what to try after consecutive timeouts. */
enum at_recovery {
	AT_RECOVER_NONE = 0,
	AT_RECOVER_AT,    /* probe with plain "AT" (wake-up, autobaud, lost first character) */
	AT_RECOVER_POWER, /* toggle the PWR_ON line / power-cycle */
	AT_RECOVER_RESET  /* hardware reset line */
};

/* The rung for `consecutive` timeouts when each rung is tried after `per_rung` more timeouts: 0
 * → NONE; per_rung → AT; 2·per_rung → POWER; 3·per_rung and every per_rung after → RESET;
 * counts between rungs → NONE. per_rung 0 means never. Pure. */
enum at_recovery at_recovery_step(unsigned consecutive, unsigned per_rung);

typedef void (*at_urc_fn)(void *ctx, const char *line, size_t len);
typedef void (*at_log_fn)(void *ctx, const char *line);
/* Called with the rung and the count of consecutive timeouts; runs after the command that timed
 * out has returned its state, so it may call at_cmd (the client is idle then). Timeouts of the
 * commands it runs do not count toward the ladder; an answer resets the count. */
typedef void (*at_recover_fn)(void *ctx, enum at_recovery rung, unsigned consecutive);

struct at_config {
	struct cell_serial *serial;     /* required */
	const struct cell_clock *clock; /* NULL: cell_clock_monotonic() */
	uint32_t default_timeout_ms;    /* 0: 8000 */
	uint32_t guard_ms;        /* gap after a final result or URC before the next command; 0:
	                           * 25 (u-blox asks for at least 20) */
	uint32_t prompt_delay_ms; /* wait after '>' / '@' before the payload; 0: 50 */
	size_t line_max;          /* longest line or binary payload kept; 0: 4096 */
	FILE *log_file;           /* AT log, may be NULL */
	at_log_fn log_fn;         /* AT log callback, may be NULL */
	void *log_ctx;
	at_recover_fn recover_fn; /* may be NULL */
	void *recover_ctx;
	unsigned recover_per_rung; /* timeouts per rung of the ladder; 0: 2 */
};

/* Creates a client. FUOTA_ERR_INVALID_ARG without a serial; FUOTA_ERR_NO_MEMORY. */
int at_create(const struct at_config *cfg, struct at_client **out);
void at_destroy(struct at_client *at);

/* Registers handler for lines that start with prefix (e.g. "+CEREG:"); a later registration of the
 * same prefix replaces the earlier one. The longest matching prefix wins. */
int at_urc_add(struct at_client *at, const char *prefix, at_urc_fn fn, void *ctx);
/* The same for a handler that sends no command and reads nothing from the port (it records,
 * steps a state machine, writes a file): it runs as soon as the reader meets its line, inside a
 * command's response too, and never waits in the queue. So a burst of URCs inside one command
 * cannot push its line out of the full queue, and what the AT log shows has been handled. */
int at_urc_add_now(struct at_client *at, const char *prefix, at_urc_fn fn, void *ctx);
/* FUOTA_ERR_NOT_FOUND when the prefix had no handler. */
int at_urc_remove(struct at_client *at, const char *prefix);

/* A binary field in a response line: after a line that starts with prefix has seen len_field
 * commas (outside quotes), the field is a decimal length n, and the next field is '"', exactly n
 * raw bytes (which may hold CR, LF, quotes, NUL), '"'. Example: +USORF (len_field 3) in
 * `+USORF: 0,"1.2.3.4",7,2,"ab"`, +USORD and +URDFILE (len_field 1). */
struct at_binary {
	const char *prefix;
	unsigned len_field;
};

/* One command. Only text is required. */
struct at_cmd {
	const char *text;    /* "AT+CGSN" or "AT+USOST=0,\"1.2.3.4\",7,2", without CR */
	const char *prefix;  /* intermediate lines kept: those starting with prefix; NULL keeps
	                      * every line that is no URC, no echo and no final result */
	uint32_t timeout_ms; /* 0: the client's default */
	char prompt;         /* 0, or '>' / '@': wait for it, then write data */
	const uint8_t *data; /* payload written after the prompt (len data_len) */
	size_t data_len;
	struct at_binary binary; /* prefix NULL: no binary field */
};

/* Lines of a response. Each line is NUL-terminated as well (a binary payload may hold NULs; use
 * len). Storage is the response's own. */
#define AT_RESP_LINES 16
struct at_resp {
	enum at_final final;
	int code;      /* the numeric +CME/+CMS code, -1 when the text was verbose or absent */
	char text[96]; /* the text after "+CME ERROR: " / "+CMS ERROR: ", else "" */
	size_t n;      /* lines kept */
	const char *line[AT_RESP_LINES];
	size_t len[AT_RESP_LINES];
	char buf[8192];
	size_t used;
	bool overflow; /* lines were dropped: more than AT_RESP_LINES or than buf holds */
};

/* Sends cmd and reads until its final result, dispatching URCs met on the way.
 * Returns 0 on OK; AT_ERR_DEVICE on ERROR/+CME/+CMS/ABORTED (details in resp); FUOTA_ERR_TIMEOUT
 * when no final result came in time (also when the prompt never came); FUOTA_ERR_IO when the port
 * failed; FUOTA_ERR_NO_SPACE when resp overflowed (the command still ran to its final result).
 * When the sticky error is set, returns it without sending anything. A non-zero return sets the
 * sticky error. resp may be NULL (lines are then dropped). */
int at_cmd(struct at_client *at, const struct at_cmd *cmd, struct at_resp *resp);

/* at_cmd with text formatted printf-style, prefix and timeout; no prompt. */
int at_cmdf(struct at_client *at, struct at_resp *resp, const char *prefix, uint32_t timeout_ms,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The sticky error: the first error of the sequence since the last at_clear (0 when none). */
int at_error(const struct at_client *at);
/* Clears the sticky error and returns what it was: the end of a sequence. */
int at_clear(struct at_client *at);

/* Reads the port for up to timeout_ms and dispatches the URCs it finds (the idle loop). Returns
 * 0 or FUOTA_ERR_IO; unknown lines are logged and dropped. */
int at_poll(struct at_client *at, uint32_t timeout_ms);

/* Reads until a line starting with prefix arrives (dispatching other URCs on the way, and the
 * awaited line to its handler too if one is registered) and copies it NUL-terminated into line.
 * FUOTA_ERR_TIMEOUT, FUOTA_ERR_NO_SPACE when cap is too small, FUOTA_ERR_IO. Does not touch the
 * sticky error. */
int at_wait_urc(struct at_client *at, const char *prefix, uint32_t timeout_ms, char *line,
                size_t cap);

/* Replaces the recovery callback of the config (fn NULL: none); how a driver created after the
 * client (sara_create) installs its ladder. */
void at_set_recover(struct at_client *at, at_recover_fn fn, void *ctx);

/* Consecutive timeouts so far (reset by any final result). */
unsigned at_timeouts(const struct at_client *at);

/* The raw stream: bytes the reader has buffered come first, then the port. While a caller uses
 * the stream (between at_raw_begin and at_raw_end) the client reads nothing itself. at_raw_end
 * drops nothing: bytes left unread go back to the line reader. */
int at_raw_begin(struct at_client *at, struct cell_io *io);
void at_raw_end(struct at_client *at);

/* Logs a free-form note into the AT log (timestamped, like the traffic). */
void at_log_note(struct at_client *at, const char *note);

/* Copies cmd (a command or a response line) into out with the secrets masked: the secret
 * arguments of commands that carry credentials or the APN (+UHTTP ops 2/3, +UFTP ops 2/3, +UPSD
 * params 1/2/3, the APN of +CGDCONT, +CGAUTH, +UAUTHREQ, +USECMNG) become "***". Always
 * NUL-terminates (truncating). Pure. */
void at_mask_secrets(const char *cmd, char *out, size_t cap);

#endif
