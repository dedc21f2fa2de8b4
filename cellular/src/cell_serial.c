/* The monotonic clock and the two serial transports: a termios tty and a plain file descriptor
 * pair (pty master, socketpair). */
#include "fuota/cell_serial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fuota/err.h"

static uint64_t mono_now_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void mono_sleep_ms(void *ctx, uint32_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};

	(void)ctx;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

const struct cell_clock *cell_clock_monotonic(void)
{
	static const struct cell_clock mono = {mono_now_ms, mono_sleep_ms, NULL};

	return &mono;
}

uint32_t cell_ms_left(const struct cell_clock *clk, uint64_t deadline_ms)
{
	uint64_t now = clk->now_ms(clk->ctx);

	if (now >= deadline_ms)
		return 0;
	if (deadline_ms - now > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)(deadline_ms - now);
}

struct fdport {
	int rfd;
	int wfd;
	bool tty;
	uint32_t baud;
};

static int fd_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
	struct fdport *p = ctx;
	ssize_t n;

	*got = 0;
	do
		n = read(p->rfd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return FUOTA_OK;
	if (n <= 0)
		return FUOTA_ERR_IO; /* error, or the peer hung up (EOF; EIO on a pty) */
	*got = (size_t)n;
	return FUOTA_OK;
}

static int fd_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct fdport *p = ctx;
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(p->wfd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = {.fd = p->wfd, .events = POLLOUT};

			if (poll(&pf, 1, 1000) < 0 && errno != EINTR)
				return FUOTA_ERR_IO;
			continue;
		}
		if (n <= 0)
			return FUOTA_ERR_IO;
		off += (size_t)n;
	}
	return FUOTA_OK;
}

static int fd_poll(void *ctx, uint32_t timeout_ms, bool *readable)
{
	struct fdport *p = ctx;
	struct pollfd pf = {.fd = p->rfd, .events = POLLIN};
	int tmo = timeout_ms > INT32_MAX ? INT32_MAX : (int)timeout_ms;
	int r;

	*readable = false;
	r = poll(&pf, 1, tmo);
	if (r < 0)
		return errno == EINTR ? FUOTA_OK : FUOTA_ERR_IO;
	/* A hang-up is "readable": the read then reports it. */
	*readable = r > 0;
	return FUOTA_OK;
}

static speed_t baud_speed(uint32_t baud)
{
	switch (baud) {
	case 9600: return B9600;
	case 19200: return B19200;
	case 38400: return B38400;
	case 57600: return B57600;
	case 115200: return B115200;
	case 230400: return B230400;
	case 460800: return B460800;
	case 921600: return B921600;
	case 3000000: return B3000000;
	default: return B0;
	}
}

static int tty_set_baud(struct fdport *p, uint32_t baud)
{
	struct termios t;
	speed_t sp = baud_speed(baud);

	if (sp == B0)
		return FUOTA_ERR_UNSUPPORTED;
	if (tcgetattr(p->rfd, &t) != 0)
		return FUOTA_ERR_IO;
	cfsetispeed(&t, sp);
	cfsetospeed(&t, sp);
	if (tcsetattr(p->rfd, TCSADRAIN, &t) != 0)
		return FUOTA_ERR_IO;
	return FUOTA_OK;
}

static int fd_set_baud(void *ctx, uint32_t baud)
{
	struct fdport *p = ctx;
	int err = FUOTA_OK;

	if (baud == 0)
		return FUOTA_ERR_INVALID_ARG;
	if (p->tty)
		err = tty_set_baud(p, baud);
	if (err == FUOTA_OK)
		p->baud = baud;
	return err;
}

/* What a failed modem-line ioctl means: a tty without such lines (a pty answers ENOTTY, some
 * USB adapters EINVAL) is unsupported, as the interface promises; anything else is a failure. */
static int lines_err(void)
{
	return errno == ENOTTY || errno == EINVAL ? FUOTA_ERR_UNSUPPORTED : FUOTA_ERR_IO;
}

static int fd_set_lines(void *ctx, unsigned mask, unsigned value)
{
	struct fdport *p = ctx;
	int bits = 0, set = 0;

	if (!p->tty)
		return FUOTA_ERR_UNSUPPORTED;
	if (mask & CELL_LINE_DTR)
		bits |= TIOCM_DTR;
	if (mask & CELL_LINE_RTS)
		bits |= TIOCM_RTS;
	set = bits & (((value & CELL_LINE_DTR) ? TIOCM_DTR : 0) |
	              ((value & CELL_LINE_RTS) ? TIOCM_RTS : 0));
	if (set && ioctl(p->rfd, TIOCMBIS, &set) != 0)
		return lines_err();
	bits &= ~set;
	if (bits && ioctl(p->rfd, TIOCMBIC, &bits) != 0)
		return lines_err();
	return FUOTA_OK;
}

static int fd_get_lines(void *ctx, unsigned *value)
{
	struct fdport *p = ctx;
	int m = 0;

	*value = 0;
	if (!p->tty)
		return FUOTA_ERR_UNSUPPORTED;
	if (ioctl(p->rfd, TIOCMGET, &m) != 0)
		return FUOTA_ERR_UNSUPPORTED; /* a pty has no modem lines */
	*value = ((m & TIOCM_DTR) ? CELL_LINE_DTR : 0u) | ((m & TIOCM_RTS) ? CELL_LINE_RTS : 0u) |
	         ((m & TIOCM_CTS) ? CELL_LINE_CTS : 0u) | ((m & TIOCM_DSR) ? CELL_LINE_DSR : 0u) |
	         ((m & TIOCM_CD) ? CELL_LINE_DCD : 0u) | ((m & TIOCM_RI) ? CELL_LINE_RI : 0u);
	return FUOTA_OK;
}

static void fd_close(void *ctx)
{
	struct fdport *p = ctx;

	if (p->wfd != p->rfd)
		close(p->wfd);
	close(p->rfd);
	free(p);
}

static const struct cell_serial_ops fd_ops = {fd_read,      fd_write,     fd_poll, fd_set_baud,
                                              fd_set_lines, fd_get_lines, fd_close};

static int wrap(struct cell_serial *out, int fd, int write_fd, bool tty)
{
	struct fdport *p = calloc(1, sizeof(*p));

	if (!p)
		return FUOTA_ERR_NO_MEMORY;
	p->rfd = fd;
	p->wfd = write_fd;
	p->tty = tty;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	out->ops = &fd_ops;
	out->ctx = p;
	return FUOTA_OK;
}

int cell_serial_open_fd(struct cell_serial *out, int fd, int write_fd)
{
	int err;

	memset(out, 0, sizeof(*out));
	if (fd < 0 || write_fd < 0)
		return FUOTA_ERR_INVALID_ARG;
	err = wrap(out, fd, write_fd, false);
	if (err != FUOTA_OK) {
		if (write_fd != fd)
			close(write_fd);
		close(fd);
	}
	return err;
}

int cell_serial_open_tty(struct cell_serial *out, const char *path, uint32_t baud)
{
	struct termios t;
	int fd, err;

	memset(out, 0, sizeof(*out));
	if (!path || baud_speed(baud) == B0)
		return path ? FUOTA_ERR_UNSUPPORTED : FUOTA_ERR_INVALID_ARG;
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return FUOTA_ERR_IO;
	if (tcgetattr(fd, &t) != 0) {
		close(fd);
		return FUOTA_ERR_IO;
	}
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
	t.c_cflag |= CLOCAL | CREAD;
	/* VMIN 1: with O_NONBLOCK an empty line reads as EAGAIN. VMIN 0 / VTIME 0 would make
	 * read() return 0, which fd_read must take for a hang-up. */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, baud_speed(baud));
	cfsetospeed(&t, baud_speed(baud));
	if (tcsetattr(fd, TCSANOW, &t) != 0) {
		close(fd);
		return FUOTA_ERR_IO;
	}
	err = wrap(out, fd, fd, true);
	if (err != FUOTA_OK)
		close(fd);
	else
		((struct fdport *)out->ctx)->baud = baud;
	return err;
}

uint32_t cell_serial_fd_baud(const struct cell_serial *s)
{
	if (!s || s->ops != &fd_ops)
		return 0;
	return ((const struct fdport *)s->ctx)->baud;
}

void cell_serial_close(struct cell_serial *s)
{
	if (!s || !s->ops)
		return;
	s->ops->close(s->ctx);
	s->ops = NULL;
	s->ctx = NULL;
}

static int io_read(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms, size_t *got)
{
	struct cell_serial *s = ctx;
	bool readable = false;
	int err;

	*got = 0;
	err = cell_serial_read(s, buf, cap, got);
	if (err != FUOTA_OK || *got > 0)
		return err;
	err = cell_serial_poll(s, timeout_ms, &readable);
	if (err != FUOTA_OK)
		return err;
	if (!readable)
		return FUOTA_ERR_TIMEOUT;
	err = cell_serial_read(s, buf, cap, got);
	if (err == FUOTA_OK && *got == 0)
		return FUOTA_ERR_TIMEOUT;
	return err;
}

static int io_write(void *ctx, const uint8_t *buf, size_t len)
{
	return cell_serial_write(ctx, buf, len);
}

void cell_serial_io(struct cell_serial *s, struct cell_io *io)
{
	io->read = io_read;
	io->write = io_write;
	io->ctx = s;
}
