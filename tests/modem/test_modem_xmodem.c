/* modem-sim.xmodem-lrzsz: the simulator's Xmodem receiver fed by an independent sender, lrzsz's
 * sx: 128-byte blocks with CRC-16 (sx -X, answering the 'C's), 1k blocks (sx -k), and the 8-bit
 * checksum (sx -X started once the receiver has moved on to NAKs). Files byte-identical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "test_modem_sim.h"

static const char *const xargs[] = {"--boot-ms",      "100", "--baud", "921600",
                                    "--xmodem-scale", "30",  NULL};

static int xsetup(void **state)
{
	static struct simh h;

	if (simh_start(&h, xargs) != 0 || simh_expect(&h, "+UMSIM: READY", 3000) != 0 ||
	    simh_at(&h, "ATE0", "ATE0", "OK", NULL) != 0)
		return -1;
	*state = &h;
	return 0;
}

/* sx with its stdin and stdout on the pty: its exit status */
static int run_sx(struct simh *h, const char *flag, const char *file)
{
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		dup2(h->fd, 0);
		dup2(h->fd, 1);
		execlp("sx", "sx", "-q", flag, file, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void make_file(const char *path, size_t n, uint32_t seed)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		fputc((int)(seed >> 16) & 0xff, f);
	}
	assert_int_equal(fclose(f), 0);
}

static void same_files(const char *a, const char *b)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
	assert_int_equal(system(cmd), 0);
}

/* One transfer: the simulator receives NAME of SIZE bytes while sx sends it with FLAG. */
static void transfer(struct simh *h, const char *flag, size_t size, bool checksum)
{
	char src[300], dst[300], cmd[128], line[128], want[64];

	simh_path(h, "src.bin", src, sizeof(src));
	make_file(src, size, (uint32_t)size);
	snprintf(cmd, sizeof(cmd), "AT+USIMXRECV=\"got.bin\",%zu", size);
	simh_send(h, cmd);
	if (checksum) {
		/* the 'C's stop after three: sx must see a NAK first, and none of the 'C's */
		assert_int_equal(simh_wait_byte(h, 0x15, 3000), 0);
		tcflush(h->fd, TCIFLUSH);
	} else {
		assert_int_equal(simh_wait_byte(h, 'C', 3000), 0);
	}
	assert_int_equal(run_sx(h, flag, src), 0);
	assert_int_equal(simh_line(h, line, sizeof(line), 5000), 0);
	snprintf(want, sizeof(want), "+USIMXRECV: 0,%zu,", size);
	assert_memory_equal(line, want, strlen(want));
	assert_int_equal(simh_expect(h, "OK", 2000), 0);
	same_files(src, simh_path(h, "fs/USER/got.bin", dst, sizeof(dst)));
}

static void test_sx_crc_128(void **state)
{
	transfer(*state, "-X", 10000, false);
}

static void test_sx_1k(void **state)
{
	transfer(*state, "-k", 70001, false);
}

static void test_sx_checksum(void **state)
{
	transfer(*state, "-X", 3000, true);
}

/* The window closes: after 3 'C's and 10 NAKs (109 s / 30 here) the receiver gives up. */
static void test_window(void **state)
{
	struct simh *h = *state;

	simh_send(h, "AT+USIMXRECV=\"never.bin\"");
	assert_int_equal(simh_expect(h, "+USIMXRECV: -1,0,0,0", 8000), 0);
	assert_int_equal(simh_expect(h, "ERROR", 1000), 0);
}

int modem_sim_xmodem(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test_setup_teardown(test_sx_crc_128, xsetup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_sx_1k, xsetup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_sx_checksum, xsetup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_window, xsetup, msim_teardown),
	};
	return cmocka_run_group_tests_name("modem-sim.xmodem-lrzsz", t, NULL, NULL);
}
