/* modem-sim.faults: each fault switch, from the control FIFO and from --fault; modem-sim.pacing:
 * bytes take the time the line rate gives them, both ways, and +IPR changes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "test_modem_sim.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_drop_final(void **state)
{
	struct simh *h = *state;

	simh_ctl(h, "drop-final 1");
	simh_quiet(h, 100);
	simh_send(h, "AT");
	assert_true(simh_quiet(h, 500));
	assert_int_equal(simh_at(h, "AT", "OK", NULL), 0);
}

static void test_urc_mid(void **state)
{
	struct simh *h = *state;

	simh_ctl(h, "urc-mid 2 +UUSORD: 3,9");
	simh_quiet(h, 100);
	assert_int_equal(simh_at(h, "ATI9", "03.15,A00.01", "+UUSORD: 3,9", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT", "+UUSORD: 3,9", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT", "OK", NULL), 0);
}

static void test_garble(void **state)
{
	struct simh *h = *state;
	char line[64];

	simh_ctl(h, "garble 1");
	simh_quiet(h, 100);
	simh_send(h, "AT");
	assert_int_equal(simh_line(h, line, sizeof(line), 2000), 0);
	assert_int_equal((unsigned char)line[0], 0xfe);
	assert_string_not_equal(line, "OK");
	assert_int_equal(simh_at(h, "AT", "OK", NULL), 0);
}

static void test_silent(void **state)
{
	struct simh *h = *state;
	double t0 = now_s();

	simh_ctl(h, "silent 1");
	simh_quiet(h, 100);
	simh_send(h, "AT");
	assert_true(simh_quiet(h, 500));
	while (now_s() - t0 < 1.2)
		simh_quiet(h, 50);
	assert_int_equal(simh_at(h, "AT", "OK", NULL), 0);
}

static void test_power(void **state)
{
	struct simh *h = *state;

	assert_int_equal(simh_at(h, "AT+CMEE=2", "OK", NULL), 0);
	simh_ctl(h, "power-off");
	simh_quiet(h, 100);
	simh_send(h, "AT");
	assert_true(simh_quiet(h, 500));
	simh_ctl(h, "power-on");
	assert_int_equal(simh_expect(h, "+UMSIM: READY", 3000), 0);
	assert_int_equal(simh_at(h, "ATE0", "ATE0", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CMEE?", "+CMEE: 0", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CFUN=16", "OK", NULL), 0);
	assert_int_equal(simh_expect(h, "+UMSIM: READY", 3000), 0);
}

/* --fault applies at start: the greeting is the first line, garbled */
static void test_fault_option(void **state)
{
	struct simh h;
	const char *const args[] = {"--boot-ms", "100", "--no-pace", "--fault", "garble 1", NULL};
	char line[64];

	(void)state;
	assert_int_equal(simh_start(&h, args), 0);
	assert_int_equal(simh_line(&h, line, sizeof(line), 3000), 0);
	assert_int_equal((unsigned char)line[0], 0xfe);
	assert_string_not_equal(line, "+UMSIM: READY");
	assert_int_equal(simh_stop(&h), 0);
}

int modem_sim_faults(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test_setup_teardown(test_drop_final, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_urc_mid, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_garble, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_silent, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_power, msim_setup, msim_teardown),
	        cmocka_unit_test(test_fault_option),
	};
	return cmocka_run_group_tests_name("modem-sim.faults", t, NULL, NULL);
}

/* Seconds from sending a +UDWNFILE payload of n bytes to its OK. */
static double upload_s(struct simh *h, size_t n)
{
	static char d[4096];
	char cmd[64];
	double t0;

	memset(d, 'u', sizeof(d));
	snprintf(cmd, sizeof(cmd), "AT+UDWNFILE=\"p\",%zu", n);
	simh_send(h, cmd);
	assert_int_equal(simh_wait_byte(h, '>', 3000), 0);
	t0 = now_s();
	simh_write(h, d, n);
	assert_int_equal(simh_expect(h, "OK", 10000), 0);
	return now_s() - t0;
}

/* 19200 bit/s carry 1920 bytes a second each way (8N1) */
static void test_pacing(void **state)
{
	struct simh h;
	const char *const args[] = {"--boot-ms", "100", "--baud", "19200", NULL};
	char line[4200];
	double t0, up, down, fast;

	(void)state;
	assert_int_equal(simh_start(&h, args), 0);
	assert_int_equal(simh_expect(&h, "+UMSIM: READY", 3000), 0);
	assert_int_equal(simh_at(&h, "ATE0", "ATE0", "OK", NULL), 0);
	up = upload_s(&h, 1920);
	t0 = now_s();
	simh_send(&h, "AT+URDFILE=\"p\"");
	assert_int_equal(simh_line(&h, line, sizeof(line), 5000), 0);
	down = now_s() - t0;
	assert_int_equal(simh_expect(&h, "OK", 2000), 0);
	assert_int_equal(simh_at(&h, "AT+IPR=115200", "OK", NULL), 0);
	fast = upload_s(&h, 1920);
	printf("pacing: 1920 bytes up %.3f s, down %.3f s at 19200; up %.3f s at 115200\n", up,
	       down, fast);
	assert_true(up > 0.99 && up < 2.0); /* 1920 bytes at 19200 bit/s: 1.000 s on the wire */
	assert_true(down > 0.99 && down < 2.0);
	assert_true(fast > 0.166 && fast < 0.5); /* 0.1667 s */
	assert_int_equal(simh_stop(&h), 0);
}

int modem_sim_pacing(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(test_pacing),
	};
	return cmocka_run_group_tests_name("modem-sim.pacing", t, NULL, NULL);
}
