/* The AT client's state, shared by its source files (at_client.c, at_cmd.c, at_log.c). */
#ifndef FUOTA_AT_PRIVATE_H
#define FUOTA_AT_PRIVATE_H

#include "fuota/at_client.h"
#include "fuota/at_rx.h"

#define AT_CMD_MAX   1024
#define AT_URC_QUEUE 32

struct at_urc {
	char *prefix;
	size_t plen;
	at_urc_fn fn;
	void *ctx;
	bool now; /* at_urc_add_now: run as the reader meets the line, never queued */
};

struct at_client {
	struct at_config cfg;
	struct cell_serial *ser;
	const struct cell_clock *clk;
	uint32_t timeout_ms;
	uint32_t guard_ms;
	uint32_t prompt_delay_ms;
	unsigned per_rung;
	size_t line_max;
	uint8_t *line; /* the reader's line buffer, line_max + 1 bytes */
	struct at_rx rx;
	uint8_t in[512]; /* bytes read from the port, not yet fed to the reader */
	size_t in_pos, in_len;
	struct at_urc *urcs;
	size_t n_urcs;
	int sticky;
	unsigned timeouts;
	char *uq[AT_URC_QUEUE]; /* URC lines waiting for their handlers (FIFO) */
	size_t uq_len[AT_URC_QUEUE];
	size_t uq_head, uq_n;
	bool raw;
	bool raw_skip_lf; /* the last line's CR came, its LF not yet: not the raw stream's */
	bool in_recovery;
	uint64_t t0_ms;
	uint64_t last_rx_ms; /* the last final result or URC: the guard time runs from it */
	char last_cmd[AT_CMD_MAX];
};

/* The AT log: "[   12.345] <dir> <line>", binary bytes escaped, secrets masked on ">". */
void at_log_line(struct at_client *at, const char *dir, const char *line, size_t len);

/* The handler with the longest prefix matching line, or NULL. */
const struct at_urc *at_urc_find(const struct at_client *at, const char *line, size_t len);
/* Logs the URC, restarts the guard time and queues the line for its handler. */
void at_urc_dispatch(struct at_client *at, const struct at_urc *u, const char *line, size_t len);
/* Runs the handlers of the queued URC lines, oldest first, each outside the reader and with the
 * sticky error of the caller's sequence set aside. */
void at_urc_flush(struct at_client *at);
/* The reader's next event (line, prompt, overflow) before deadline_ms: FUOTA_ERR_TIMEOUT,
 * FUOTA_ERR_IO. */
int at_next_event(struct at_client *at, uint64_t deadline_ms, enum at_rx_event *ev);

#endif
