/* fuota-modem-sim spoken to over its pty by a scripted client (simh.c), one group of cases per
 * ctest (modem-sim.<group>): the AT basics, registration and the PDP context, sockets against
 * local echo servers, the file system, HTTP and FTP, the fault switches, the pacing, and the
 * Xmodem receiver fed by lrzsz's sx. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simh.h"
#include "test_modem_sim.h"

static const char *const fast[] = {"--boot-ms", "100", "--reg-ms", "100", "--no-pace", NULL};

int msim_setup(void **state)
{
	static struct simh h;

	if (simh_start(&h, fast) != 0)
		return -1;
	*state = &h;
	/* boot: the greeting, then a quiet ATE0 so that each case reads answers only */
	if (simh_expect(&h, "+UMSIM: READY", 3000) != 0 || simh_at(&h, "ATE0", "ATE0", "OK", NULL))
		return -1;
	return 0;
}

int msim_pdp_up(struct simh *h)
{
	char line[256];
	int n, stat = 0;

	/* registration follows the boot by --reg-ms */
	for (int i = 0; i < 50; i++) {
		simh_send(h, "AT+CEREG?");
		if (simh_line(h, line, sizeof(line), 2000) != 0 || simh_expect(h, "OK", 2000) != 0)
			return -1;
		if (sscanf(line, "+CEREG: %d,%d", &n, &stat) == 2 && stat == 1)
			break;
		simh_quiet(h, 100);
	}
	if (stat != 1)
		return -1;
	if (simh_at(h, "AT+CGDCONT=1,\"IP\",\"fuota\"", "OK", NULL) ||
	    simh_at(h, "AT+UPSD=0,100,1", "OK", NULL) || simh_at(h, "AT+UPSD=0,0,0", "OK", NULL) ||
	    simh_at(h, "AT+UPSDA=0,3", "OK", NULL))
		return -1;
	/* the address changes with every boot: "10.<boots>.0.3" */
	while (simh_line(h, line, sizeof(line), 2000) == 0)
		if (!strncmp(line, "+UUPSDA: 0,\"10.", 14))
			return 0;
	return -1;
}

int msim_teardown(void **state)
{
	return simh_stop(*state);
}

/* Echo on at boot (factory), off after ATE0, the stored profile after &W and a reboot. */
static void test_echo(void **state)
{
	struct simh *h = *state;

	assert_int_equal(simh_at(h, "AT", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "ATE1", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT", "AT", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "ATE0", "ATE0", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT&W", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CFUN=16", "OK", NULL), 0);
	assert_int_equal(simh_expect(h, "+UMSIM: READY", 3000), 0);
	assert_int_equal(simh_at(h, "AT", "OK", NULL), 0); /* echo stays off: &W kept it */
}

static void test_cmee(void **state)
{
	struct simh *h = *state;

	assert_int_equal(simh_at(h, "AT+CMEE?", "+CMEE: 0", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CMEE=7", "ERROR", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CMEE=1", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CMEE=7", "+CME ERROR: 50", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CMEE=2", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CMEE=7", "+CME ERROR: incorrect parameters", NULL), 0);
	/* an unknown command is a plain ERROR in every mode */
	assert_int_equal(simh_at(h, "AT+NOSUCH", "ERROR", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CMEE?;+CMEE=1;+CMEE?", "+CMEE: 2", "+CMEE: 1", "OK", NULL),
	                 0);
	assert_int_equal(simh_at(h, "AT+CMEE=\"unterminated", "ERROR", NULL), 0);
}

static void test_identity(void **state)
{
	struct simh *h = *state;

	assert_int_equal(simh_at(h, "ATI9", "03.15,A00.01", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CGMR", "03.15", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CGSN", "004999010640000", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CGMI", "u-blox", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UMNOPROF?", "+UMNOPROF: 90", "OK", NULL), 0);
}

/* +UMNOPROF needs the radio off, is kept in NVM; +CMEE is volatile and a reboot forgets it; the
 * socket hex mode is kept, as SARA-R5xxx-01B (firmware 03.15) keeps it (ubxlib sends
 * AT+UDCONF=1,0 at every power-on for that reason, CELLULAR-NOTES §3.2). */
static void test_nvm_reboot(void **state)
{
	struct simh *h = *state;

	assert_int_equal(simh_at(h, "AT+CMEE=2", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UMNOPROF=100", "+CME ERROR: operation not allowed", NULL),
	                 0);
	simh_send(h, "AT+CFUN=0");
	assert_int_equal(simh_expect(h, "OK", 2000), 0);
	assert_int_equal(simh_at(h, "AT+UMNOPROF=100", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CGDCONT=1,\"IP\",\"fuota.apn\"", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UDCONF=1,1", "OK", NULL), 0);
	simh_ctl(h, "reboot"); /* unprompted */
	assert_int_equal(simh_expect(h, "+UMSIM: READY", 3000), 0);
	assert_int_equal(simh_at(h, "ATE0", "ATE0", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UMNOPROF?", "+UMNOPROF: 100", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CMEE?", "+CMEE: 0", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UDCONF=1", "+UDCONF: 1,1", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+CGDCONT?",
	                         "+CGDCONT: 1,\"IP\",\"fuota.apn\",\"0.0.0.0\",0,0", "OK", NULL),
	                 0);
	/* the simulator itself restarted on the same state file: the same NVM */
	assert_int_equal(simh_restart(h, fast), 0);
	assert_int_equal(simh_expect(h, "+UMSIM: READY", 3000), 0);
	assert_int_equal(simh_at(h, "ATE0", "ATE0", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UMNOPROF?", "+UMNOPROF: 100", "OK", NULL), 0);
}

/* --link makes a symbolic link to the pty, and the simulator removes it when it ends. */
static void test_link(void **state)
{
	struct simh h;
	char link[64], target[256];
	const char *const args[] = {"--boot-ms", "100", "--no-pace", "--link", link, NULL};
	ssize_t n;

	(void)state;
	snprintf(link, sizeof(link), "/tmp/msim-link-%d", (int)getpid());
	assert_int_equal(simh_start(&h, args), 0);
	n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, h.pty);
	assert_int_equal(simh_stop(&h), 0);
	assert_int_equal(access(link, F_OK), -1);
}

/* --autobaud at +IPR=0: no greeting, URCs wait for the host's first AT; once +IPR fixes the
 * rate (and &W keeps it), the greeting comes at boot. */
static void test_autobaud(void **state)
{
	struct simh h;
	const char *const args[] = {"--boot-ms", "100", "--no-pace", "--autobaud", NULL};

	(void)state;
	assert_int_equal(simh_start(&h, args), 0);
	assert_true(simh_quiet(&h, 400));
	simh_ctl(&h, "urc +UTEST: 1");
	assert_true(simh_quiet(&h, 300));
	assert_int_equal(simh_at(&h, "AT", "AT", "OK", "+UTEST: 1", NULL), 0);
	assert_int_equal(simh_at(&h, "AT+IPR=115200", "AT+IPR=115200", "OK", NULL), 0);
	assert_int_equal(simh_at(&h, "AT&W", "AT&W", "OK", NULL), 0);
	assert_int_equal(simh_at(&h, "AT+CFUN=16", "AT+CFUN=16", "OK", NULL), 0);
	assert_int_equal(simh_expect(&h, "+UMSIM: READY", 3000), 0);
	assert_int_equal(simh_stop(&h), 0);
}

int modem_sim_at(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test_setup_teardown(test_echo, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_cmee, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_identity, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_nvm_reboot, msim_setup, msim_teardown),
	        cmocka_unit_test(test_link),
	        cmocka_unit_test(test_autobaud),
	};
	return cmocka_run_group_tests_name("modem-sim.at", t, NULL, NULL);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} groups[] = {
	        {"at", modem_sim_at},         {"sockets", modem_sim_sockets},
	        {"files", modem_sim_files},   {"faults", modem_sim_faults},
	        {"pacing", modem_sim_pacing}, {"xmodem-lrzsz", modem_sim_xmodem},
	};

	for (size_t i = 0; argc == 2 && i < sizeof(groups) / sizeof(groups[0]); i++)
		if (!strcmp(argv[1], groups[i].name))
			return groups[i].fn();
	fprintf(stderr, "usage: test_modem_sim GROUP\n");
	return 2;
}
