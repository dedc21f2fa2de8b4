/* The SARA-R5 driver's state, shared by sara.c (start-up, registration, PDP, URCs) and
 * sara_svc.c (sockets, files, HTTP, FTP). */
#ifndef FUOTA_SARA_PRIVATE_H
#define FUOTA_SARA_PRIVATE_H

#include "fuota/sara.h"

#define SARA_SOCKS 7

struct sara {
	struct sara_config cfg;
	struct at_client *at;
	const struct cell_clock *clk;
	char err[300];
	struct at_resp resp;
	struct sara_cereg reg;
	bool reg_seen;
	bool pdp_seen;
	int pdp_result;
	char ip[48];
	size_t pending[SARA_SOCKS];
	bool http_seen;
	struct sara_xfer http;
	bool ftp_seen;
	struct sara_xfer ftp;
	bool needs_boot;
	bool booting; /* sara_boot's own AT polling: the ladder stays out of it */
	bool hold_resets;
	unsigned boots; /* boot greetings met */
	sara_cmd_check_fn check;
	void *check_ctx;
};

/* Formats and runs a command into s->resp; on failure records "<command>: <why>" in s->err.
 * The sticky error is cleared first: each driver call is its own sequence. */
int sara_cmd(struct sara *s, const char *prefix, uint32_t timeout_ms, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Runs cmd (prompt, payload, binary field) into s->resp, recording failures like sara_cmd. */
int sara_cmd_ex(struct sara *s, const struct at_cmd *cmd);
/* Records "<command>: cannot parse '<line>'" and returns FUOTA_ERR_MALFORMED. */
int sara_bad_reply(struct sara *s, const char *cmd, const char *line, size_t len);
/* Records a message and returns err. */
int sara_fail(struct sara *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Polls until *flag is set (a result URC's handler sets it): FUOTA_OK; FUOTA_ERR_TIMEOUT with a
 * message naming what when deadline_ms passes or the module greets meanwhile (it restarted:
 * the result will never come); at_poll's error otherwise. */
int sara_wait_flag(struct sara *s, const bool *flag, uint64_t deadline_ms, const char *what);
/* Whether a string can go inside quotes of an AT command (no quote, no control bytes). */
bool sara_safe(const char *str);

#endif
