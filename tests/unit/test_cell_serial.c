/* The serial transports on real file descriptors: a socketpair through cell_serial_open_fd and a
 * pty's slave through cell_serial_open_tty (termios), with the cell_io adapter and the clock. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuota/cell_serial.h"
#include "fuota/err.h"

static void test_clock(void **state)
{
	const struct cell_clock *c = cell_clock_monotonic();
	uint64_t t0 = c->now_ms(c->ctx);

	(void)state;
	c->sleep_ms(c->ctx, 20);
	assert_true(c->now_ms(c->ctx) - t0 >= 20);
	assert_int_equal(cell_ms_left(c, t0), 0);
	assert_true(cell_ms_left(c, c->now_ms(c->ctx) + 5000) > 4000);
}

static void test_socketpair(void **state)
{
	struct cell_serial s;
	struct cell_io io;
	uint8_t buf[16];
	unsigned lines;
	size_t got;
	bool readable;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(cell_serial_open_fd(&s, sv[0], sv[0]), FUOTA_OK);
	assert_int_equal(cell_serial_read(&s, buf, sizeof(buf), &got), FUOTA_OK);
	assert_int_equal(got, 0);
	assert_int_equal(cell_serial_poll(&s, 30, &readable), FUOTA_OK);
	assert_false(readable);
	assert_int_equal(write(sv[1], "OK\r\n", 4), 4);
	assert_int_equal(cell_serial_poll(&s, 1000, &readable), FUOTA_OK);
	assert_true(readable);
	assert_int_equal(cell_serial_read(&s, buf, sizeof(buf), &got), FUOTA_OK);
	assert_int_equal(got, 4);
	assert_int_equal(cell_serial_write(&s, (const uint8_t *)"AT\r", 3), FUOTA_OK);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 3);
	assert_int_equal(s.ops->set_baud(s.ctx, 921600), FUOTA_OK);
	assert_int_equal(cell_serial_fd_baud(&s), 921600);
	assert_int_equal(s.ops->get_lines(s.ctx, &lines), FUOTA_ERR_UNSUPPORTED);
	assert_int_equal(s.ops->set_lines(s.ctx, CELL_LINE_DTR, 0), FUOTA_ERR_UNSUPPORTED);
	cell_serial_io(&s, &io);
	assert_int_equal(io.read(io.ctx, buf, sizeof(buf), 20, &got), FUOTA_ERR_TIMEOUT);
	close(sv[1]);
	assert_int_equal(io.read(io.ctx, buf, sizeof(buf), 1000, &got), FUOTA_ERR_IO);
	cell_serial_close(&s);
	cell_serial_close(&s); /* twice is harmless */
}

static void test_pty(void **state)
{
	struct cell_serial s;
	uint8_t buf[16];
	size_t got = 0;
	bool readable;
	int m;

	(void)state;
	m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	assert_int_equal(cell_serial_open_tty(&s, ptsname(m), 12345), FUOTA_ERR_UNSUPPORTED);
	assert_int_equal(cell_serial_open_tty(&s, "/nonexistent/tty", 115200), FUOTA_ERR_IO);
	assert_int_equal(cell_serial_open_tty(&s, ptsname(m), 115200), FUOTA_OK);
	assert_int_equal(cell_serial_fd_baud(&s), 115200);
	assert_int_equal(s.ops->set_baud(s.ctx, 460800), FUOTA_OK);
	assert_int_equal(s.ops->set_baud(s.ctx, 1234), FUOTA_ERR_UNSUPPORTED);
	/* a pty is a tty without modem lines: unsupported, as on a socketpair, not a failed port */
	{
		unsigned lines = 0;

		assert_int_equal(
		        s.ops->set_lines(s.ctx, CELL_LINE_DTR | CELL_LINE_RTS, CELL_LINE_DTR),
		        FUOTA_ERR_UNSUPPORTED);
		assert_int_equal(s.ops->set_lines(s.ctx, CELL_LINE_RTS, 0), FUOTA_ERR_UNSUPPORTED);
		assert_int_equal(s.ops->get_lines(s.ctx, &lines), FUOTA_ERR_UNSUPPORTED);
		assert_int_equal(lines, 0);
	}
	/* nothing waiting is not a hang-up: the read gives 0 bytes, the io adapter a timeout */
	assert_int_equal(cell_serial_read(&s, buf, sizeof(buf), &got), FUOTA_OK);
	assert_int_equal(got, 0);
	{
		struct cell_io io;

		cell_serial_io(&s, &io);
		assert_int_equal(io.read(io.ctx, buf, sizeof(buf), 50, &got), FUOTA_ERR_TIMEOUT);
	}
	/* raw mode: CR and LF pass untouched, no echo */
	assert_int_equal(write(m, "\r\nOK\r\n", 6), 6);
	assert_int_equal(cell_serial_poll(&s, 1000, &readable), FUOTA_OK);
	assert_true(readable);
	usleep(20000);
	assert_int_equal(cell_serial_read(&s, buf, sizeof(buf), &got), FUOTA_OK);
	assert_int_equal(got, 6);
	assert_memory_equal(buf, "\r\nOK\r\n", 6);
	assert_int_equal(cell_serial_write(&s, (const uint8_t *)"AT\r", 3), FUOTA_OK);
	assert_int_equal(read(m, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "AT\r", 3);
	cell_serial_close(&s);
	close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_clock),
	        cmocka_unit_test(test_socketpair),
	        cmocka_unit_test(test_pty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
