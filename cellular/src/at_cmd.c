/* Running one AT command: the guard time, the write, the prompt and payload, the response lines
 * and the final result; timeouts counted and handed to the recovery ladder. */
#include <stdlib.h>
#include <string.h>

#include "at_private.h"

static void resp_reset(struct at_resp *r)
{
	if (!r)
		return;
	r->final = AT_FINAL_NONE;
	r->code = -1;
	r->text[0] = 0;
	r->n = 0;
	r->used = 0;
	r->overflow = false;
}

static void resp_add(struct at_resp *r, const char *line, size_t len)
{
	if (!r)
		return;
	if (r->n == AT_RESP_LINES || sizeof(r->buf) - r->used < len + 1) {
		r->overflow = true;
		return;
	}
	memcpy(r->buf + r->used, line, len);
	r->buf[r->used + len] = 0;
	r->line[r->n] = r->buf + r->used;
	r->len[r->n++] = len;
	r->used += len + 1;
}

/* Waits out the guard time after the last final result or URC, handling URCs meanwhile. */
static int guard(struct at_client *at)
{
	for (;;) {
		uint64_t until = at->last_rx_ms + at->guard_ms;
		uint32_t left = at->last_rx_ms ? cell_ms_left(at->clk, until) : 0;
		int err;

		if (left == 0)
			return FUOTA_OK;
		err = at_poll(at, left);
		if (err != FUOTA_OK)
			return err;
	}
}

static int send_text(struct at_client *at, const char *text)
{
	size_t n = strlen(text);
	uint8_t cr = '\r';
	int err;

	at_log_line(at, ">", text, n);
	memcpy(at->last_cmd, text, n + 1);
	err = cell_serial_write(at->ser, (const uint8_t *)text, n);
	if (err == FUOTA_OK)
		err = cell_serial_write(at->ser, &cr, 1);
	return err;
}

static int send_payload(struct at_client *at, const struct at_cmd *cmd)
{
	char note[64];

	/* u-blox's AT commands manual, +USOWR/+USOST binary syntax: "After the @ prompt
	 * reception, wait for a minimum of 50 ms before sending data" (UBX-17003787 §18.10.4;
	 * ubxlib and SparkFun wait 50 ms after '>' too). A minimum: nothing from u-blox allows
	 * less, so the default stays 50 and a shorter prompt_delay_ms is at the user's risk. */
	if (at->clk->sleep_ms)
		at->clk->sleep_ms(at->clk->ctx, at->prompt_delay_ms);
	snprintf(note, sizeof(note), "> [%zu bytes of data]", cmd->data_len);
	at_log_note(at, note);
	if (cmd->data_len == 0)
		return FUOTA_OK;
	return cell_serial_write(at->ser, cmd->data, cmd->data_len);
}

/* A complete line during a command: true when it was the final result (*final set). */
static bool take_line(struct at_client *at, const struct at_cmd *cmd, struct at_resp *resp,
                      const char *line, size_t len, int *final)
{
	const struct at_urc *u;
	size_t plen = cmd->prefix ? strlen(cmd->prefix) : 0;
	int code;
	char text[sizeof(resp->text)];

	if (len == strlen(at->last_cmd) && strcmp(line, at->last_cmd) == 0) {
		at_log_line(at, "< (echo)", line, len);
		return false;
	}
	if (at_final_parse(line, final, &code, text, sizeof(text))) {
		at_log_line(at, "<", line, len);
		at->last_rx_ms = at->clk->now_ms(at->clk->ctx);
		if (resp) {
			resp->final = (enum at_final) * final;
			resp->code = code;
			memcpy(resp->text, text, sizeof(resp->text));
		}
		return true;
	}
	/* A line with the command's own prefix is its response even when a URC shares the prefix
	 * ("+CEREG: 0,1" answers AT+CEREG?, "+CEREG: 1" is the URC): the parsers take both. */
	if (plen && len >= plen && memcmp(line, cmd->prefix, plen) == 0) {
		at_log_line(at, "<", line, len);
		resp_add(resp, line, len);
		return false;
	}
	u = at_urc_find(at, line, len);
	if (u) {
		at_urc_dispatch(at, u, line, len);
		return false;
	}
	if (plen) {
		at_log_line(at, "< (dropped)", line, len);
		return false;
	}
	at_log_line(at, "<", line, len);
	resp_add(resp, line, len);
	return false;
}

static int final_err(int final, const struct at_resp *resp)
{
	if (final != AT_FINAL_OK)
		return AT_ERR_DEVICE;
	return resp && resp->overflow ? FUOTA_ERR_NO_SPACE : FUOTA_OK;
}

/* Reads the response of cmd (already written) until its final result or deadline_ms. */
static int read_response(struct at_client *at, const struct at_cmd *cmd, struct at_resp *resp,
                         uint64_t deadline_ms)
{
	bool prompted = cmd->prompt == 0;
	enum at_rx_event ev;
	size_t len;
	int err = FUOTA_OK, final = AT_FINAL_NONE;

	at_rx_expect_prompt(&at->rx, cmd->prompt);
	at_rx_expect_binary(&at->rx, cmd->binary.prefix, cmd->binary.len_field);
	for (;;) {
		err = at_next_event(at, deadline_ms, &ev);
		if (err != FUOTA_OK)
			break;
		if (ev == AT_RX_PROMPT && !prompted) {
			prompted = true;
			at_rx_expect_prompt(&at->rx, 0);
			err = send_payload(at, cmd);
			if (err != FUOTA_OK)
				break;
		} else if (ev == AT_RX_OVERFLOW) {
			at_log_note(at, "(line longer than line_max dropped)");
			if (resp)
				resp->overflow = true;
		} else if (ev == AT_RX_LINE) {
			const char *line = at_rx_line(&at->rx, &len);

			if (take_line(at, cmd, resp, line, len, &final)) {
				err = final_err(final, resp);
				break;
			}
		}
	}
	at_rx_expect_prompt(&at->rx, 0);
	at_rx_expect_binary(&at->rx, NULL, 0);
	return err;
}

static void recover(struct at_client *at)
{
	enum at_recovery rung = at_recovery_step(at->timeouts, at->per_rung);
	int saved;

	if (rung == AT_RECOVER_NONE || !at->cfg.recover_fn || at->in_recovery)
		return;
	at_log_note(at, rung == AT_RECOVER_AT      ? "recovery: AT"
	                : rung == AT_RECOVER_POWER ? "recovery: power line"
	                                           : "recovery: reset");
	saved = at_clear(at);
	at->in_recovery = true;
	at->cfg.recover_fn(at->cfg.recover_ctx, rung, at->timeouts);
	at->in_recovery = false;
	at->sticky = saved;
}

int at_cmd(struct at_client *at, const struct at_cmd *cmd, struct at_resp *resp)
{
	uint32_t tmo;
	int err;

	resp_reset(resp);
	if (!cmd || !cmd->text || strlen(cmd->text) >= AT_CMD_MAX)
		return FUOTA_ERR_INVALID_ARG;
	if (at->raw)
		return FUOTA_ERR_STATE;
	if (at->sticky != FUOTA_OK)
		return at->sticky;
	tmo = cmd->timeout_ms ? cmd->timeout_ms : at->timeout_ms;
	err = guard(at);
	if (err == FUOTA_OK)
		err = send_text(at, cmd->text);
	if (err == FUOTA_OK)
		err = read_response(at, cmd, resp, at->clk->now_ms(at->clk->ctx) + tmo);
	if (err == FUOTA_ERR_TIMEOUT) {
		/* the ladder's own probes do not climb it */
		if (!at->in_recovery)
			at->timeouts++;
		at_log_note(at, "(timeout)");
	} else if (err != FUOTA_ERR_IO) {
		at->timeouts = 0;
	}
	if (err != FUOTA_OK)
		at->sticky = err;
	if (err == FUOTA_ERR_TIMEOUT)
		recover(at);
	at_urc_flush(at);
	return err;
}
