/* The cellular layer's I/O: a monotonic clock a test can replace, a serial transport as a table of
 * function pointers (a POSIX termios port, or any file descriptor such as a pty or one end of a
 * socketpair), and a byte stream with read timeouts that the AT client lends to sub-protocols
 * (Xmodem).
 *
 * Ownership: the caller owns every struct passed in; cell_serial_close() releases what an open
 * function created. Nothing here keeps global state. */
#ifndef FUOTA_CELL_SERIAL_H
#define FUOTA_CELL_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A monotonic clock in milliseconds. sleep_ms may be NULL: callers then fall back to waiting in
 * the transport's poll. A test clock advances its time in sleep_ms (and its transport's poll)
 * instead of waiting. */
struct cell_clock {
	uint64_t (*now_ms)(void *ctx);
	void (*sleep_ms)(void *ctx, uint32_t ms);
	void *ctx;
};

/* The process's CLOCK_MONOTONIC clock; a static object, never NULL. */
const struct cell_clock *cell_clock_monotonic(void);

/* Milliseconds left until deadline_ms, 0 when it has passed (wrap-safe for 64-bit time). */
uint32_t cell_ms_left(const struct cell_clock *clk, uint64_t deadline_ms);

/* Control lines, as bits of a mask. DTR and RTS are outputs; CTS, DSR, DCD and RI inputs. */
enum cell_line {
	CELL_LINE_DTR = 1u << 0,
	CELL_LINE_RTS = 1u << 1,
	CELL_LINE_CTS = 1u << 2,
	CELL_LINE_DSR = 1u << 3,
	CELL_LINE_DCD = 1u << 4,
	CELL_LINE_RI = 1u << 5
};

/* A serial transport. Every function returns 0 or a negative enum fuota_err.
 * - read: copies up to cap bytes that are available now into buf, *got = 0 when none; never
 *   blocks. FUOTA_ERR_IO when the peer hung up or the device failed.
 * - write: writes all len bytes (blocking until they are accepted) or fails.
 * - poll: waits up to timeout_ms for bytes to read; *readable tells whether there are any.
 * - set_baud: FUOTA_ERR_UNSUPPORTED for a rate the port cannot do (a pty accepts any).
 * - set_lines: drives the output lines in mask to the values in value; get_lines reads every line
 *   the port has. Both FUOTA_ERR_UNSUPPORTED where the port has no such lines (pty, socketpair).
 * - close: releases ctx; the struct itself stays the caller's. */
struct cell_serial_ops {
	int (*read)(void *ctx, uint8_t *buf, size_t cap, size_t *got);
	int (*write)(void *ctx, const uint8_t *buf, size_t len);
	int (*poll)(void *ctx, uint32_t timeout_ms, bool *readable);
	int (*set_baud)(void *ctx, uint32_t baud);
	int (*set_lines)(void *ctx, unsigned mask, unsigned value);
	int (*get_lines)(void *ctx, unsigned *value);
	void (*close)(void *ctx);
};

struct cell_serial {
	const struct cell_serial_ops *ops;
	void *ctx;
};

/* Opens a tty device (a UART, or a pty's slave path) raw, 8N1, no flow control, at baud, and
 * fills *out. FUOTA_ERR_IO (with errno kept) when open or termios fails; FUOTA_ERR_UNSUPPORTED for
 * a baud rate termios does not know. */
int cell_serial_open_tty(struct cell_serial *out, const char *path, uint32_t baud);

/* Wraps an open file descriptor (a pty master, one end of a socketpair, a pipe's read end paired
 * with write_fd): reads from fd, writes to write_fd (pass the same fd twice for a socket or pty).
 * Takes ownership of both fds (closed by cell_serial_close). set_baud succeeds and records the rate
 * (cell_serial_fd_baud) so tests can check it; lines are unsupported. */
int cell_serial_open_fd(struct cell_serial *out, int fd, int write_fd);

/* The baud rate last set on a cell_serial_open_fd port; 0 for other ports. */
uint32_t cell_serial_fd_baud(const struct cell_serial *s);

/* Closes the port; accepts a zeroed struct. */
void cell_serial_close(struct cell_serial *s);

static inline int cell_serial_read(struct cell_serial *s, uint8_t *buf, size_t cap, size_t *got)
{
	return s->ops->read(s->ctx, buf, cap, got);
}
static inline int cell_serial_write(struct cell_serial *s, const uint8_t *buf, size_t len)
{
	return s->ops->write(s->ctx, buf, len);
}
static inline int cell_serial_poll(struct cell_serial *s, uint32_t timeout_ms, bool *readable)
{
	return s->ops->poll(s->ctx, timeout_ms, readable);
}

/* A byte stream with timed reads: what the AT client hands over to Xmodem (at_raw_io) or what
 * cell_serial_io makes of a port directly.
 * - read: waits up to timeout_ms for at least one byte; copies up to cap bytes; *got = 0 and
 *   FUOTA_ERR_TIMEOUT when none came.
 * - write: all len bytes or an error. */
struct cell_io {
	int (*read)(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms, size_t *got);
	int (*write)(void *ctx, const uint8_t *buf, size_t len);
	void *ctx;
};

/* Adapts a serial port to a cell_io; keeps pointers to s (which must outlive io). */
void cell_serial_io(struct cell_serial *s, struct cell_io *io);

#endif
