/* The firmware-update manager (sara_fw.h) end to end against fuota-modem-sim's firmware update:
 * FOAT, HTTP, UART, RoT and the install's URCs (fw_rig.h; uFOTA in test_cellular_ufota.c). One
 * ctest per method and fault family, cellular.fw-<case>. */
#include "fw_rig.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "msim_fw.h"

static void foat(struct rig *r, const char *from, int expect_err)
{
	struct fwu_foat_opts o = {.baud = 460800};
	size_t len;
	uint8_t *pkg = package(from, NEW, 20000, &len);

	assert_int_equal(fwu_foat(r->u, pkg, len, &o) != 0, expect_err);
	free(pkg);
}

static void test_foat(void **state)
{
	struct rig *r = *state;

	prepare(r);
	foat(r, "", 0);
	outcome(r, NEW, FWU_S_DONE);
	restored(r);
}

static void test_uart(void **state)
{
	struct rig *r = *state;
	size_t len;
	uint8_t *pkg = package(OLD, NEW, 6000, &len);

	prepare(r);
	assert_int_equal(fwu_uart(r->u, pkg, len, 30000), 0);
	free(pkg);
	outcome(r, NEW, FWU_S_DONE);
	restored(r);
}

static void md5_hex(const uint8_t *d, size_t n, char out[33])
{
	unsigned char md[16];
	unsigned int mdlen = 0;

	EVP_Digest(d, n, md, &mdlen, EVP_md5(), NULL);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_http(void **state)
{
	struct rig *r = *state;
	struct sara_http_cfg hc = {.server_ip = "127.0.0.1", .timeout_s = 30};
	char p[300], md5[33];
	size_t len;
	uint8_t *pkg = package(OLD, NEW, 8000, &len);
	FILE *f = fopen(simh_path(&r->h, "www/delta.upd", p, sizeof(p)), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(pkg, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	md5_hex(pkg, len, md5);
	free(pkg);
	prepare(r);
	assert_int_equal(sara_register(r->s, "fuota.apn", 10000, NULL), 0);
	{
		char ip[40];
		assert_int_equal(sara_pdp_up(r->s, 0, 1, 5000, ip, sizeof(ip)), 0);
	}
	assert_int_equal(fwu_http(r->u, 0, &hc, "/delta.upd", md5, 30000), 0);
	outcome(r, NEW, FWU_S_DONE);
	restored(r);
}

/* §4.1.1: power lost mid-transfer: Firmware Update Mode waits, the package goes again. */
static void test_foat_powerloss(void **state)
{
	struct rig *r = *state;

	prepare(r);
	simh_ctl(&r->h, "fw-power-dl 9000");
	foat(r, "", 0);
	outcome(r, NEW, FWU_S_DONE);
	assert_true(fwu_get_status(r->u)->sends >= 2);
	restored(r);
}

/* §6: power lost at 40 % of the install: it starts again at boot and ends in the new version. */
static void test_install_powerloss(void **state)
{
	struct rig *r = *state;
	size_t len;
	uint8_t *pkg = package(OLD, NEW, 6000, &len);

	prepare(r);
	simh_ctl(&r->h, "fw-power-install 40");
	assert_int_equal(fwu_uart(r->u, pkg, len, 30000), 0);
	free(pkg);
	/* it did start again: progress went back after 40 % (or validation ran twice) */
	assert_true(r->restarts + (r->validates > 1 ? 1u : 0u) >= 1);
	outcome(r, NEW, FWU_S_DONE);
	restored(r);
}

/* A package that fails validation: its code, the old firmware runs on. */
static void test_validation_fail(void **state)
{
	struct rig *r = *state;
	size_t len;
	uint8_t *pkg = package(OLD, NEW, 6000, &len);

	prepare(r);
	pkg[MSIM_FW_HDR + 100] ^= 1; /* the checksum no longer matches: 148 */
	assert_int_not_equal(fwu_uart(r->u, pkg, len, 30000), 0);
	free(pkg);
	assert_int_equal(fwu_get_status(r->u)->fail_code, 148);
	outcome(r, OLD, FWU_S_FAILED);
	/* and a FOAT package for another version: 168 */
	foat(r, "02.99,A00.00", 1);
	assert_int_equal(fwu_get_status(r->u)->fail_code, 168);
	outcome(r, OLD, FWU_S_FAILED);
}

/* The 128 URC lost: the version read after the reboot says the update succeeded. */
static void test_lost_128(void **state)
{
	struct rig *r = *state;

	prepare(r);
	simh_ctl(&r->h, "fw-lose-128");
	foat(r, "", 0);
	outcome(r, NEW, FWU_S_DONE);
}

/* A corrupted Xmodem block: NAKed, sent again, the update goes through. */
static void test_xmodem_block(void **state)
{
	struct rig *r = *state;

	prepare(r);
	simh_ctl(&r->h, "fw-xm-corrupt 700");
	foat(r, "", 0);
	outcome(r, NEW, FWU_S_DONE);
}

/* The 109 s window (5.45 s here) missed: "ERROR", then the old firmware. */
static void test_window(void **state)
{
	struct rig *r = *state;
	struct termios t;

	assert_int_equal(sara_boot(r->s, 10000), 0);
	rig_close(r);
	r->h.fd = open(r->h.pty, O_RDWR | O_NOCTTY);
	assert_true(r->h.fd >= 0);
	assert_int_equal(tcgetattr(r->h.fd, &t), 0);
	cfmakeraw(&t);
	tcsetattr(r->h.fd, TCSANOW, &t);
	simh_flush(&r->h);
	simh_send(&r->h, "AT+UFWUPD=1,460800");
	assert_int_equal(simh_expect(&r->h, "+UFWUPD: ONGOING", 3000), 0);
	assert_int_equal(simh_expect(&r->h, "ERROR", 9000), 0);
	assert_int_equal(simh_expect(&r->h, "+UMSIM: READY", 3000), 0); /* rebooted */
	simh_quiet(&r->h, 300);
	simh_flush(&r->h);
	assert_int_equal(simh_at(&r->h, "ATE0", "ATE0", "OK", NULL), 0);
	assert_int_equal(simh_at(&r->h, "ATI9", OLD, "OK", NULL), 0);
	close(r->h.fd);
	r->h.fd = -1;
	assert_int_equal(rig_open(r), 0);
}

/* The simulator's FOAT receiver fed by lrzsz's sx -X -k (the rate kept: +UFWUPD=1,115200). */
static void test_lrzsz(void **state)
{
	struct rig *r = *state;
	char p[300];
	size_t len;
	uint8_t *pkg = package("", NEW, 5000, &len);
	FILE *f = fopen(simh_path(&r->h, "pkg.upd", p, sizeof(p)), "wb");
	int st = -1;
	pid_t pid;

	assert_non_null(f);
	assert_int_equal(fwrite(pkg, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(pkg);
	assert_int_equal(sara_boot(r->s, 10000), 0);
	rig_close(r);
	r->h.fd = open(r->h.pty, O_RDWR | O_NOCTTY);
	assert_true(r->h.fd >= 0);
	simh_send(&r->h, "AT+UFWUPD=1,115200");
	assert_int_equal(simh_expect(&r->h, "+UFWUPD: ONGOING", 3000), 0);
	pid = fork();
	if (pid == 0) {
		dup2(r->h.fd, 0);
		dup2(r->h.fd, 1);
		execlp("sx", "sx", "-q", "-X", "-k", p, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(simh_expect(&r->h, "+UFWUPD: 128", 10000), 0);
	assert_int_equal(simh_expect(&r->h, "+UMSIM: READY", 5000), 0); /* rebooted */
	simh_quiet(&r->h, 300);
	simh_flush(&r->h);
	assert_int_equal(simh_at(&r->h, "ATE0", "ATE0", "OK", NULL), 0);
	assert_int_equal(simh_at(&r->h, "ATI9", NEW, "OK", NULL), 0);
	close(r->h.fd);
	r->h.fd = -1;
	assert_int_equal(rig_open(r), 0);
}

/* RoT (§8): an update needed, made, then up to date. */
static void test_rot(void **state)
{
	struct rig *r = *state;
	int st = -1;

	prepare(r);
	simh_ctl(&r->h, "rot 1");
	assert_int_equal(fwu_rot(r->u, false, &st), 0);
	assert_int_equal(st, 1);
	assert_int_equal(fwu_rot(r->u, true, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_DONE);
	assert_int_equal(fwu_rot(r->u, false, &st), 0);
	assert_int_equal(st, 0);
	simh_ctl(&r->h, "rot 3");
	assert_int_not_equal(fwu_rot(r->u, true, &st), 0);
	assert_int_equal(st, 3);
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_FAILED);
}

/* The install's URCs come in a burst while the host is inside a command (the bootloader's
 * progress is fast; the host's "AT" waits up to a second): the 128 behind 40 progress lines
 * must still reach the state, not fall out of the AT client's full URC queue while the AT log
 * shows it. */
static void test_urc_burst(void **state)
{
	struct rig *r = *state;
	struct sara_info info;
	struct fwu_status st;
	struct fwu_desired d;
	char cmd[48];
	int i;

	prepare(r);
	for (i = 1; i <= 40; i++) {
		snprintf(cmd, sizeof(cmd), "urc +UUFWINSTALL: %d", i);
		simh_ctl(&r->h, cmd);
	}
	simh_ctl(&r->h, "urc +UUFWINSTALL: 128");
	usleep(500 * 1000);                          /* all of it waits in the port, unread */
	assert_int_equal(sara_info(r->s, &info), 0); /* read inside ATI9's response */
	assert_int_equal(fwu_get_status(r->u)->result, 128);
	assert_int_equal(fwu_file_read(r->state, &st, &d), 0);
	assert_int_equal(st.result, 128);
	assert_int_equal(st.state, FWU_S_REBOOTING);
}

int main(int argc, char **argv)
{
	static const struct fw_case cases[] = {
	        {"foat", test_foat},
	        {"uart", test_uart},
	        {"http", test_http},
	        {"foat-powerloss", test_foat_powerloss},
	        {"install-powerloss", test_install_powerloss},
	        {"validation-fail", test_validation_fail},
	        {"lost-128", test_lost_128},
	        {"xmodem-block", test_xmodem_block},
	        {"window", test_window},
	        {"foat-lrzsz", test_lrzsz},
	        {"rot", test_rot},
	        {"urc-burst", test_urc_burst},
	};

	return fw_rig_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
