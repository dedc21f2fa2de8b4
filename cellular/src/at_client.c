/* The AT client (at_client.h): one reader over a serial port, commands with their final results,
 * URC dispatch, prompts, binary fields, the raw stream, timeouts and the recovery ladder. The AT
 * log and the masking of secrets are in at_log.c. */
#include "fuota/at_client.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "at_private.h"
#include "fuota/at_rx.h"

int at_create(const struct at_config *cfg, struct at_client **out)
{
	struct at_client *at;

	*out = NULL;
	if (!cfg || !cfg->serial || !cfg->serial->ops)
		return FUOTA_ERR_INVALID_ARG;
	at = calloc(1, sizeof(*at));
	if (!at)
		return FUOTA_ERR_NO_MEMORY;
	at->cfg = *cfg;
	at->ser = cfg->serial;
	at->clk = cfg->clock ? cfg->clock : cell_clock_monotonic();
	at->timeout_ms = cfg->default_timeout_ms ? cfg->default_timeout_ms : 8000u;
	at->guard_ms = cfg->guard_ms ? cfg->guard_ms : 25u;
	at->prompt_delay_ms = cfg->prompt_delay_ms ? cfg->prompt_delay_ms : 50u;
	at->per_rung = cfg->recover_per_rung ? cfg->recover_per_rung : 2u;
	at->line_max = cfg->line_max ? cfg->line_max : 4096u;
	at->line = malloc(at->line_max + 1);
	if (!at->line) {
		free(at);
		return FUOTA_ERR_NO_MEMORY;
	}
	at_rx_init(&at->rx, at->line, at->line_max + 1);
	at->t0_ms = at->clk->now_ms(at->clk->ctx);
	*out = at;
	return FUOTA_OK;
}

void at_destroy(struct at_client *at)
{
	size_t i;

	if (!at)
		return;
	for (i = 0; i < at->n_urcs; i++)
		free(at->urcs[i].prefix);
	free(at->urcs);
	for (i = 0; i < at->uq_n; i++)
		free(at->uq[(at->uq_head + i) % AT_URC_QUEUE]);
	free(at->line);
	free(at);
}

static int urc_add(struct at_client *at, const char *prefix, at_urc_fn fn, void *ctx, bool now)
{
	struct at_urc *u;
	size_t i;

	if (!prefix || !*prefix || !fn)
		return FUOTA_ERR_INVALID_ARG;
	for (i = 0; i < at->n_urcs; i++) {
		if (strcmp(at->urcs[i].prefix, prefix) == 0) {
			at->urcs[i].fn = fn;
			at->urcs[i].ctx = ctx;
			at->urcs[i].now = now;
			return FUOTA_OK;
		}
	}
	u = realloc(at->urcs, (at->n_urcs + 1) * sizeof(*u));
	if (!u)
		return FUOTA_ERR_NO_MEMORY;
	at->urcs = u;
	u = &at->urcs[at->n_urcs];
	u->prefix = strdup(prefix);
	if (!u->prefix)
		return FUOTA_ERR_NO_MEMORY;
	u->plen = strlen(prefix);
	u->fn = fn;
	u->ctx = ctx;
	u->now = now;
	at->n_urcs++;
	return FUOTA_OK;
}

int at_urc_add(struct at_client *at, const char *prefix, at_urc_fn fn, void *ctx)
{
	return urc_add(at, prefix, fn, ctx, false);
}

int at_urc_add_now(struct at_client *at, const char *prefix, at_urc_fn fn, void *ctx)
{
	return urc_add(at, prefix, fn, ctx, true);
}

int at_urc_remove(struct at_client *at, const char *prefix)
{
	size_t i;

	for (i = 0; i < at->n_urcs; i++) {
		if (strcmp(at->urcs[i].prefix, prefix) == 0) {
			free(at->urcs[i].prefix);
			at->urcs[i] = at->urcs[--at->n_urcs];
			return FUOTA_OK;
		}
	}
	return FUOTA_ERR_NOT_FOUND;
}

const struct at_urc *at_urc_find(const struct at_client *at, const char *line, size_t len)
{
	const struct at_urc *best = NULL;
	size_t i;

	for (i = 0; i < at->n_urcs; i++) {
		const struct at_urc *u = &at->urcs[i];

		if (u->plen <= len && memcmp(line, u->prefix, u->plen) == 0 &&
		    (!best || u->plen > best->plen))
			best = u;
	}
	return best;
}

/* Runs u's handler on line; whatever error the handler leaves sticky is not the caller's. */
static void run_handler(struct at_client *at, const struct at_urc *u, const char *line, size_t len)
{
	int saved = at->sticky;

	at->sticky = FUOTA_OK;
	u->fn(u->ctx, line, len);
	at->sticky = saved;
}

void at_urc_dispatch(struct at_client *at, const struct at_urc *u, const char *line, size_t len)
{
	size_t slot = (at->uq_head + at->uq_n) % AT_URC_QUEUE;
	char *copy;

	at->last_rx_ms = at->clk->now_ms(at->clk->ctx);
	if (u && u->now) {
		/* handled before it is logged: the log never shows a line not yet acted on */
		run_handler(at, u, line, len);
		at_log_line(at, "<", line, len);
		return;
	}
	at_log_line(at, "<", line, len);
	copy = at->uq_n < AT_URC_QUEUE ? malloc(len + 1) : NULL;
	if (!copy) {
		at_log_note(at, "(URC queue full or no memory: URC dropped)");
		return;
	}
	memcpy(copy, line, len);
	copy[len] = 0;
	at->uq[slot] = copy;
	at->uq_len[slot] = len;
	at->uq_n++;
}

void at_urc_flush(struct at_client *at)
{
	while (at->uq_n > 0 && !at->raw) {
		char *line = at->uq[at->uq_head];
		size_t len = at->uq_len[at->uq_head];
		const struct at_urc *u;

		at->uq[at->uq_head] = NULL;
		at->uq_head = (at->uq_head + 1) % AT_URC_QUEUE;
		at->uq_n--;
		/* looked up now: a handler may have been added or removed meanwhile */
		u = at_urc_find(at, line, len);
		if (u)
			run_handler(at, u, line, len);
		free(line);
	}
}

/* Next reader event before deadline_ms: feeds buffered bytes, refills from the port. */
int at_next_event(struct at_client *at, uint64_t deadline_ms, enum at_rx_event *ev)
{
	for (;;) {
		bool readable = false;
		size_t got = 0;
		int err;

		while (at->in_pos < at->in_len) {
			*ev = at_rx_feed(&at->rx, at->in[at->in_pos++]);
			if (*ev != AT_RX_NONE)
				return FUOTA_OK;
		}
		at->in_pos = at->in_len = 0;
		err = cell_serial_read(at->ser, at->in, sizeof(at->in), &got);
		if (err != FUOTA_OK)
			return err;
		if (got > 0) {
			at->in_len = got;
			continue;
		}
		if (cell_ms_left(at->clk, deadline_ms) == 0)
			return FUOTA_ERR_TIMEOUT;
		err = cell_serial_poll(at->ser, cell_ms_left(at->clk, deadline_ms), &readable);
		if (err != FUOTA_OK)
			return err;
		if (!readable && cell_ms_left(at->clk, deadline_ms) == 0)
			return FUOTA_ERR_TIMEOUT;
	}
}

/* A line outside a command: a URC, else logged and dropped. Returns the handler's URC or NULL. */
static const struct at_urc *idle_line(struct at_client *at, const char *line, size_t len)
{
	const struct at_urc *u = at_urc_find(at, line, len);

	if (u)
		at_urc_dispatch(at, u, line, len);
	else
		at_log_line(at, "< (dropped)", line, len);
	return u;
}

int at_poll(struct at_client *at, uint32_t timeout_ms)
{
	uint64_t deadline = at->clk->now_ms(at->clk->ctx) + timeout_ms;
	enum at_rx_event ev;
	size_t len;

	if (at->raw)
		return FUOTA_ERR_STATE;
	for (;;) {
		int err = at_next_event(at, deadline, &ev);

		if (err == FUOTA_ERR_TIMEOUT)
			return FUOTA_OK;
		if (err != FUOTA_OK)
			return err;
		if (ev == AT_RX_LINE) {
			const char *line = at_rx_line(&at->rx, &len);

			idle_line(at, line, len);
			at_urc_flush(at);
		}
	}
}

/* at_wait_urc's loop; the caller runs the queued handlers afterwards. */
static int wait_line(struct at_client *at, const char *prefix, uint64_t deadline, char *line,
                     size_t cap)
{
	size_t plen = strlen(prefix), len;
	enum at_rx_event ev;

	for (;;) {
		const char *l;
		int err = at_next_event(at, deadline, &ev);

		if (err != FUOTA_OK)
			return err;
		if (ev != AT_RX_LINE)
			continue;
		l = at_rx_line(&at->rx, &len);
		if (!idle_line(at, l, len) && len >= plen && memcmp(l, prefix, plen) == 0)
			at_log_note(at, "(awaited line had no handler)");
		if (len < plen || memcmp(l, prefix, plen) != 0)
			continue;
		if (len + 1 > cap)
			return FUOTA_ERR_NO_SPACE;
		memcpy(line, l, len + 1);
		return FUOTA_OK;
	}
}

int at_wait_urc(struct at_client *at, const char *prefix, uint32_t timeout_ms, char *line,
                size_t cap)
{
	int err;

	if (at->raw)
		return FUOTA_ERR_STATE;
	err = wait_line(at, prefix, at->clk->now_ms(at->clk->ctx) + timeout_ms, line, cap);
	at_urc_flush(at);
	return err;
}

int at_error(const struct at_client *at)
{
	return at->sticky;
}

int at_clear(struct at_client *at)
{
	int e = at->sticky;

	at->sticky = FUOTA_OK;
	return e;
}

void at_set_recover(struct at_client *at, at_recover_fn fn, void *ctx)
{
	at->cfg.recover_fn = fn;
	at->cfg.recover_ctx = ctx;
}

unsigned at_timeouts(const struct at_client *at)
{
	return at->timeouts;
}

enum at_recovery at_recovery_step(unsigned consecutive, unsigned per_rung)
{
	if (per_rung == 0 || consecutive == 0 || consecutive % per_rung != 0)
		return AT_RECOVER_NONE;
	switch (consecutive / per_rung) {
	case 1: return AT_RECOVER_AT;
	case 2: return AT_RECOVER_POWER;
	default: return AT_RECOVER_RESET;
	}
}

int at_cmdf(struct at_client *at, struct at_resp *resp, const char *prefix, uint32_t timeout_ms,
            const char *fmt, ...)
{
	struct at_cmd cmd = {.prefix = prefix, .timeout_ms = timeout_ms};
	char text[AT_CMD_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text))
		return FUOTA_ERR_INVALID_ARG;
	cmd.text = text;
	return at_cmd(at, &cmd, resp);
}

static int raw_read(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms, size_t *got)
{
	struct at_client *at = ctx;
	struct cell_io io;
	int err;

	*got = 0;
	if (at->in_pos < at->in_len) {
		size_t n = at->in_len - at->in_pos;

		if (n > cap)
			n = cap;
		memcpy(buf, at->in + at->in_pos, n);
		at->in_pos += n;
		*got = n;
		return FUOTA_OK;
	}
	cell_serial_io(at->ser, &io);
	err = io.read(io.ctx, buf, cap, timeout_ms, got);
	if (err == FUOTA_OK && at->raw_skip_lf) {
		at->raw_skip_lf = false;
		if (buf[0] == '\n' && --*got > 0)
			memmove(buf, buf + 1, *got);
		else if (buf[0] == '\n')
			return raw_read(at, buf, cap, timeout_ms, got);
	}
	return err;
}

static int raw_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct at_client *at = ctx;

	return cell_serial_write(at->ser, buf, len);
}

int at_raw_begin(struct at_client *at, struct cell_io *io)
{
	if (at->raw)
		return FUOTA_ERR_STATE;
	at->raw = true;
	/* the LF of the CR LF that ended the last line is no part of the raw stream, whether the
	 * reader has it already or it is still on its way */
	at->raw_skip_lf = at->rx.done && at->rx.term == '\r';
	if (at->raw_skip_lf && at->in_pos < at->in_len) {
		at->raw_skip_lf = false;
		if (at->in[at->in_pos] == '\n')
			at->in_pos++;
	}
	at_log_note(at, "raw stream handed over");
	io->read = raw_read;
	io->write = raw_write;
	io->ctx = at;
	return FUOTA_OK;
}

void at_raw_end(struct at_client *at)
{
	if (!at->raw)
		return;
	at->raw = false;
	at_rx_init(&at->rx, at->line, at->line_max + 1);
	at->last_rx_ms = at->clk->now_ms(at->clk->ctx);
	at_log_note(at, "raw stream back to the AT reader");
}
