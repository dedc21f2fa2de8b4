/* The firmware-update manager (sara_fw.h) end to end against fuota-modem-sim's firmware update,
 * time-scaled (install 1.5 s, Xmodem window / 20). One ctest per method and fault family,
 * cellular.fw-<case>. Set MSIM_AT_LOG=1 to see the AT log on stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fuota/at_client.h"
#include "fuota/cell_serial.h"
#include "fuota/sara.h"
#include "fuota/sara_fw.h"
#include "msim_fw.h"
#include "simh.h"

#define OLD "03.15,A00.01"
#define NEW "03.16,A00.02"

struct rig {
	struct simh h;
	struct cell_serial ser;
	struct at_client *at;
	struct sara *s;
	struct fwu *u;
	char state[300];
	int last_pct;       /* the install's progress last reported */
	unsigned restarts;  /* times the install's progress went back (a restart at boot) */
	unsigned validates; /* times validation began */
	unsigned reg102;    /* AT+ULWM2MREG=102 sent (Table 3) */
	uint64_t reg102_ms; /* when the last was sent */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_log(void *ctx, const char *line)
{
	struct rig *r = ctx;

	if (strstr(line, "] > AT+ULWM2MREG=102")) {
		r->reg102++;
		r->reg102_ms = now_ms();
	}
	if (getenv("MSIM_AT_LOG"))
		fprintf(stderr, "%s\n", line);
}

static void on_report(void *ctx, const struct fwu_status *st, const char *msg)
{
	struct rig *r = ctx;

	(void)msg;
	if (st->state == FWU_S_INSTALLING) {
		if (st->pct < r->last_pct)
			r->restarts++;
		r->last_pct = st->pct;
	}
	if (st->state == FWU_S_VALIDATING && st->pct == 0)
		r->validates++;
}

static const char *const sim_args[] = {
        "--boot-ms", "300",        "--reg-ms", "300", "--install-ms", "1500", "--xmodem-scale",
        "20",        "--net-rate", "40000",    NULL};

static int power_pulse(void *ctx, uint32_t ms)
{
	struct rig *r = ctx;
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "pwr-pulse %u", ms);
	simh_ctl(&r->h, cmd);
	return 0;
}

static int rig_open(struct rig *r)
{
	struct at_config ac = {.serial = &r->ser};
	struct sara_config sc = {0};
	struct fwu_config fc = {0};

	ac.log_fn = on_log;
	ac.log_ctx = r;
	if (cell_serial_open_tty(&r->ser, r->h.pty, 115200) != 0 || at_create(&ac, &r->at) != 0)
		return -1;
	sc.at = r->at;
	sc.hw.power_pulse = power_pulse;
	sc.hw.ctx = r;
	if (sara_create(&sc, &r->s) != 0)
		return -1;
	fc.sara = r->s;
	fc.at = r->at;
	fc.serial = &r->ser;
	fc.state_path = simh_path(&r->h, "fwu.state", r->state, sizeof(r->state));
	fc.install_timeout_ms = 30000;
	fc.poll_ms = 200;
	fc.silence_ms = 600000; /* the install's URCs must say it went away, not a clock */
	fc.boot_timeout_ms = 10000;
	fc.verizon_period_ms = 1000; /* 30 s at the simulator's scale of 30 */
	fc.on_report = on_report;
	fc.ctx = r;
	return fwu_open(&fc, &r->u);
}

static void rig_close(struct rig *r)
{
	fwu_close(r->u);
	sara_destroy(r->s);
	at_destroy(r->at);
	cell_serial_close(&r->ser);
	r->u = NULL;
	r->s = NULL;
	r->at = NULL;
}

static int setup(void **state)
{
	static struct rig r;

	memset(&r, 0, sizeof(r));
	if (simh_start(&r.h, sim_args) != 0)
		return -1;
	close(r.h.fd); /* the driver owns the line */
	r.h.fd = -1;
	if (rig_open(&r) != 0)
		return -1;
	*state = &r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	rig_close(r);
	return simh_stop(&r->h);
}

/* A package from -> to with a body of n pseudo-random bytes (malloc'd). */
static uint8_t *package(const char *from, const char *to, size_t n, size_t *len)
{
	uint8_t *body = malloc(n), *pkg = malloc(MSIM_FW_HDR + n);
	uint32_t seed = 7;

	assert_non_null(body);
	assert_non_null(pkg);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		body[i] = (uint8_t)(seed >> 16);
	}
	msim_fw_build(pkg, from, to, body, n);
	free(body);
	*len = MSIM_FW_HDR + n;
	return pkg;
}

/* Booted, with a desired configuration to restore: MNO profile 100, an APN on cid 1. */
static void prepare(struct rig *r)
{
	struct fwu_desired d;

	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(sara_mno_set(r->s, 100, 10000), 0);
	fwu_desired_init(&d);
	d.mno = 100;
	d.apn[0].cid = 1;
	snprintf(d.apn[0].pdp_type, sizeof(d.apn[0].pdp_type), "IP");
	snprintf(d.apn[0].apn, sizeof(d.apn[0].apn), "fuota.apn");
	assert_int_equal(fwu_set_desired(r->u, &d), 0);
}

/* The module runs version, the state file is complete and says state. */
static void outcome(struct rig *r, const char *version, enum fwu_state state)
{
	struct sara_info info;
	struct fwu_status st;
	struct fwu_desired d;

	assert_int_equal(sara_info(r->s, &info), 0);
	assert_string_equal(info.app, strchr(version, ',') + 1);
	assert_int_equal(fwu_file_read(r->state, &st, &d), 0);
	assert_int_equal(st.state, state);
}

/* ... and the settings the update erased are back. */
static void restored(struct rig *r)
{
	int mno = -1;

	assert_int_equal(sara_mno_get(r->s, &mno), 0);
	assert_int_equal(mno, 100);
}

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

/* uFOTA (§3): a package from -> to for the simulator's campaigns in www/<name>. */
static void put_pkg(struct rig *r, const char *name, const char *from, const char *to, size_t body)
{
	char p[300], rel[64];
	size_t len;
	uint8_t *pkg = package(from, to, body, &len);
	FILE *f;

	snprintf(rel, sizeof(rel), "www/%s", name);
	f = fopen(simh_path(&r->h, rel, p, sizeof(p)), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(pkg, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(pkg);
}

static void put_www(struct rig *r, const char *name, size_t body)
{
	put_pkg(r, name, OLD, NEW, body);
}

/* URCs handled until the manager's state is want (10 s at most). */
static void wait_state(struct rig *r, enum fwu_state want)
{
	for (int i = 0; i < 100 && fwu_get_status(r->u)->state != want; i++)
		(void)sara_poll(r->s, 100);
	assert_int_equal(fwu_get_status(r->u)->state, want);
}

/* A campaign in mode (0 default, 1 download only, 2 wait for ack, 3 disabled), URCs enabled. */
static void campaign(struct rig *r, int mode)
{
	prepare(r);
	put_www(r, "delta.upd", 40000);
	if (mode)
		assert_int_equal(fwu_ufota_config(r->u, mode), 0);
	assert_int_equal(fwu_ufota_enable(r->u), 0);
	simh_ctl(&r->h, "ufota-campaign delta.upd");
}

/* Default mode: download, the server's install, the new version, the settings restored, and the
 * URC enables sent again after the reboot (Table 16 / §3.7.1). */
static void test_ufota_default(void **state)
{
	static struct at_resp resp;
	struct rig *r = *state;

	campaign(r, 0);
	assert_int_equal(fwu_watch(r->u, 30000), 0);
	outcome(r, NEW, FWU_S_DONE);
	restored(r);
	assert_int_equal(fwu_get_status(r->u)->method, FWU_M_UFOTA);
	assert_int_equal(at_cmdf(r->at, &resp, "+UFOTASTAT:", 1000, "AT+UFOTASTAT?"), 0);
	assert_int_equal(resp.n, 1);
	assert_string_equal(resp.line[0], "+UFOTASTAT: 1");
}

/* Download only: the package waits in the FOAT area; the host installs it. */
static void test_ufota_download_only(void **state)
{
	struct rig *r = *state;

	campaign(r, 1);
	wait_state(r, FWU_S_DOWNLOADED);
	outcome(r, OLD, FWU_S_DOWNLOADED);
	assert_int_equal(fwu_install(r->u), 0);
	outcome(r, NEW, FWU_S_DONE);
	restored(r);
}

/* Wait for ack: accepted with a delay, then rejected in a second campaign; disabled: the device
 * rejects. */
static void test_ufota_ack(void **state)
{
	struct rig *r = *state;

	campaign(r, 2);
	wait_state(r, FWU_S_ACK_PENDING);
	assert_int_equal(fwu_ufota_ack(r->u, 20), 0); /* 20 s, 1 s at the simulator's scale */
	assert_int_equal(fwu_watch(r->u, 30000), 0);
	outcome(r, NEW, FWU_S_DONE);
	put_www(r, "delta.upd", 4000);
	assert_int_equal(fwu_ufota_config(r->u, 2), 0);
	assert_int_equal(fwu_ufota_enable(r->u), 0);
	simh_ctl(&r->h, "ufota-campaign delta.upd");
	wait_state(r, FWU_S_ACK_PENDING);
	assert_int_equal(fwu_ufota_ack(r->u, 0), 0);
	wait_state(r, FWU_S_FAILED);
	assert_int_equal(fwu_get_status(r->u)->fail, FWU_F_CANCELLED);
	assert_int_equal(fwu_ufota_config(r->u, 3), 0);
	simh_ctl(&r->h, "ufota-campaign delta.upd");
	for (int i = 0; i < 10; i++)
		(void)sara_poll(r->s, 100);
	assert_int_equal(fwu_get_status(r->u)->fail, FWU_F_REJECTED);
	outcome(r, NEW, FWU_S_FAILED);
}

/* Pause and resume by the host and by the server side, +UFOTA? in between, then a cancel. */
static void test_ufota_pause(void **state)
{
	struct rig *r = *state;
	uint32_t total = 0, done = 0;
	int st = -1;

	campaign(r, 1);
	wait_state(r, FWU_S_DOWNLOADING);
	assert_int_equal(fwu_ufota_ctl(r->u, FWU_UFOTA_PAUSE), 0);
	wait_state(r, FWU_S_PAUSED);
	assert_int_equal(fwu_ufota_progress(r->u, &st, &total, &done), 0);
	assert_int_equal(st, 2);
	assert_true(done < total);
	(void)sara_poll(r->s, 500); /* paused: nothing moves */
	assert_int_equal(fwu_ufota_progress(r->u, &st, &total, &done), 0);
	assert_int_equal(st, 2);
	assert_int_equal(fwu_ufota_ctl(r->u, FWU_UFOTA_RESUME), 0);
	wait_state(r, FWU_S_DOWNLOADING);
	simh_ctl(&r->h, "ufota-pause");
	wait_state(r, FWU_S_PAUSED);
	simh_ctl(&r->h, "ufota-resume");
	wait_state(r, FWU_S_DOWNLOADING);
	assert_int_equal(fwu_ufota_ctl(r->u, FWU_UFOTA_CANCEL), 0);
	wait_state(r, FWU_S_FAILED);
	assert_int_equal(fwu_get_status(r->u)->fail, FWU_F_CANCELLED);
	outcome(r, OLD, FWU_S_FAILED);
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

/* Server 721's registration status once it is known (the client registers after each boot). */
static int registered(struct rig *r, int *sec)
{
	int st = -1;

	for (int i = 0; i < 50; i++) {
		int err = fwu_ufota_register(r->u, false, &st, sec);

		if (err != FUOTA_OK || st != 0)
			return err != FUOTA_OK ? err : st;
		(void)sara_poll(r->s, 100);
	}
	return st;
}

/* §3.1.1, §3.6: registered to server 721; a campaign the server holds starts only at the
 * check-in (AT+ULWM2MREG=721), a second one at the check-in an SRLT write makes; the SRLT read
 * and written; an unparsable +ULWM2MREG line is an error naming the command and the line. */
static void test_ufota_register(void **state)
{
	struct rig *r = *state;
	int st = -1, sec = -1;
	long srlt = 0;

	prepare(r);
	put_www(r, "delta.upd", 40000);
	assert_int_equal(fwu_ufota_config(r->u, 1), 0);
	assert_int_equal(fwu_ufota_enable(r->u), 0);
	assert_int_equal(registered(r, &sec), 3);
	assert_int_equal(sec, 1);
	simh_ctl(&r->h, "ufota-offer delta.upd");
	(void)sara_poll(r->s, 1000); /* held by the server until the module checks in */
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_IDLE);
	assert_int_equal(fwu_ufota_register(r->u, true, &st, &sec), 0);
	assert_int_equal(st, 3);
	wait_state(r, FWU_S_DOWNLOADING);
	assert_int_equal(fwu_ufota_ctl(r->u, FWU_UFOTA_CANCEL), 0);
	wait_state(r, FWU_S_FAILED);
	assert_int_equal(fwu_ufota_srlt(r->u, 0, &srlt), 0);
	assert_int_equal(srlt, 86400);
	assert_int_equal(fwu_ufota_srlt(r->u, 60, &srlt), FUOTA_ERR_INVALID_ARG);
	simh_ctl(&r->h, "ufota-offer delta.upd");
	assert_int_equal(fwu_ufota_srlt(r->u, 7200, &srlt), 0);
	assert_int_equal(srlt, 7200);
	wait_state(r, FWU_S_DOWNLOADED);
	assert_int_equal(fwu_install(r->u), 0);
	outcome(r, NEW, FWU_S_DONE);
	simh_ctl(&r->h, "urc-mid 2 +ULWM2MREG: 721,x");
	assert_int_equal(fwu_ufota_register(r->u, false, &st, &sec), FUOTA_ERR_MALFORMED);
	assert_non_null(
	        strstr(fwu_last_error(r->u), "AT+ULWM2MREG?: cannot parse '+ULWM2MREG: 721,x'"));
}

/* §3.1.1: the secure data suite off before the client's first registration: it fails (721,4)
 * and the manager says why; on once, the PSK stays and a later +USECMODE: 0 does not matter. */
static void test_ufota_secmode(void **state)
{
	struct rig *r = *state;
	int st = -1, sec = -1;

	prepare(r);
	simh_ctl(&r->h, "ufota-secmode 0");
	simh_ctl(&r->h, "ufota-fresh");
	simh_ctl(&r->h, "reboot");
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(registered(r, &sec), FUOTA_ERR_STATE);
	assert_int_equal(sec, 0);
	assert_non_null(strstr(fwu_last_error(r->u), "+ULWM2MREG: 721,4) with +USECMODE: 0"));
	simh_ctl(&r->h, "ufota-secmode 1");
	assert_int_equal(fwu_ufota_register(r->u, true, &st, &sec), 0);
	assert_int_equal(st, 3);
	simh_ctl(&r->h, "ufota-secmode 0");
	simh_ctl(&r->h, "reboot");
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(registered(r, &sec), 3);
	assert_int_equal(sec, 0);
}

/* §3.4.2: in wait-for-ack mode an unanswered request is accepted by the module after one hour
 * (one second at the simulator's scale of 3600); the download and install follow. */
static void test_ufota_autoaccept(void **state)
{
	struct rig *r = *state;
	uint64_t t0;

	simh_ctl(&r->h, "ufota-scale 3600");
	campaign(r, 2);
	wait_state(r, FWU_S_ACK_PENDING);
	t0 = now_ms();
	wait_state(r, FWU_S_DOWNLOADING);
	printf("auto-accept after %llu ms (1 h at 1/3600)\n", (unsigned long long)(now_ms() - t0));
	assert_true(now_ms() - t0 >= 900);
	assert_int_equal(fwu_ufota_ack(r->u, 0), FUOTA_ERR_STATE); /* nothing pending now */
	assert_int_equal(fwu_watch(r->u, 30000), 0);
	outcome(r, NEW, FWU_S_DONE);
}

/* §3.2.2: signal lost mid-download: retried 60, 120, 180, 240 s apart (1 s = 60 s here); back
 * after 150 s, the download resumes at the second retry (180 s) where it stopped; lost for
 * good, the module declares failure after 600 s. */
static void test_ufota_resume(void **state)
{
	struct rig *r = *state;
	uint64_t t0;
	int pct;

	simh_ctl(&r->h, "ufota-scale 60");
	campaign(r, 1);
	wait_state(r, FWU_S_DOWNLOADING);
	while (fwu_get_status(r->u)->pct < 10)
		(void)sara_poll(r->s, 20);
	simh_ctl(&r->h, "ufota-signal 150");
	t0 = now_ms();
	(void)sara_poll(r->s, 500);
	pct = fwu_get_status(r->u)->pct;
	while (now_ms() - t0 < 8000 && fwu_get_status(r->u)->pct == pct)
		(void)sara_poll(r->s, 50);
	printf("resumed after %llu ms at %d %% (retry 2: 180 s = 3000 ms)\n",
	       (unsigned long long)(now_ms() - t0), fwu_get_status(r->u)->pct);
	assert_true(now_ms() - t0 >= 2700 && now_ms() - t0 < 4500);
	assert_true(fwu_get_status(r->u)->pct > pct); /* on from where it stopped */
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_DOWNLOADING);
	wait_state(r, FWU_S_DOWNLOADED);
	assert_int_equal(fwu_install(r->u), 0);
	outcome(r, NEW, FWU_S_DONE);
	put_www(r, "delta.upd", 40000);
	assert_int_equal(fwu_ufota_enable(r->u), 0);
	simh_ctl(&r->h, "ufota-campaign delta.upd");
	wait_state(r, FWU_S_DOWNLOADING);
	simh_ctl(&r->h, "ufota-signal 100000");
	t0 = now_ms();
	for (int i = 0; i < 150 && fwu_get_status(r->u)->state != FWU_S_FAILED; i++)
		(void)sara_poll(r->s, 100);
	printf("failure declared after %llu ms (600 s = 10000 ms)\n",
	       (unsigned long long)(now_ms() - t0));
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_FAILED);
	assert_true(now_ms() - t0 >= 9500);
	assert_int_equal(fwu_get_status(r->u)->fail, FWU_F_DOWNLOAD);
	assert_int_equal(fwu_get_status(r->u)->fail_code, 105);
}

/* A SARA-R5xx-00B-00 under the Verizon MNO profile (desired: MNO 3, no install URCs). */
static void prepare_00b(struct rig *r)
{
	struct fwu_desired d;

	simh_ctl(&r->h, "ufota-00b");
	simh_ctl(&r->h, "ufota-scale 30");
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(sara_mno_set(r->s, 3, 10000), 0);
	fwu_desired_init(&d);
	d.mno = 3;
	d.urcs = true;
	assert_int_equal(fwu_set_desired(r->u, &d), 0);
	put_www(r, "delta.upd", 40000);
	assert_int_equal(fwu_ufota_enable(r->u), 0);
}

/* Table 4 on a 00B-00: no +UFWPREVAL / +UUFWINSTALL for uFOTA; the manager polls AT until the
 * module answers, then compares versions. A u-blox package URI: no AT+ULWM2MREG=102. */
static void test_ufota_00b(void **state)
{
	struct rig *r = *state;
	int mno = -1;

	prepare_00b(r);
	simh_ctl(&r->h, "ufota-campaign delta.upd");
	assert_int_equal(fwu_watch(r->u, 30000), 0);
	outcome(r, NEW, FWU_S_DONE);
	assert_int_equal(fwu_get_status(r->u)->result, 0); /* no 128 URC came */
	assert_int_equal(r->validates, 0);
	assert_int_equal(r->reg102, 0);
	assert_int_equal(sara_mno_get(r->s, &mno), 0);
	assert_int_equal(mno, 3);
}

/* Table 3: the Verizon DM server's package (a URI without "services.u-blox"): the download moves
 * only while the host sends AT+ULWM2MREG=102 every 30 s (1 s here), the install comes at one of
 * them; a failed campaign (+UFOTASTAT: 2,3,x) stops them. */
static void test_ufota_verizon(void **state)
{
	struct rig *r = *state;
	unsigned n;

	prepare_00b(r);
	simh_ctl(&r->h, "ufota-verizon delta.upd");
	assert_int_equal(fwu_watch(r->u, 30000), 0);
	outcome(r, NEW, FWU_S_DONE);
	printf("AT+ULWM2MREG=102 sent %u times\n", r->reg102);
	assert_true(r->reg102 >= 2);
	put_www(r, "delta.upd", 400000);
	simh_ctl(&r->h, "ufota-verizon delta.upd");
	wait_state(r, FWU_S_DOWNLOADING);
	assert_int_equal(fwu_watch(r->u, 2500), FUOTA_ERR_TIMEOUT); /* =102 sent meanwhile */
	simh_ctl(&r->h, "ufota-cancel");
	assert_int_equal(fwu_watch(r->u, 5000), 0);
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_FAILED);
	n = r->reg102;
	assert_int_equal(fwu_watch(r->u, 2500), FUOTA_ERR_TIMEOUT);
	assert_int_equal(r->reg102, n);
}

/* Power lost mid-download and mid-install of a campaign, the manager restarted each time (a new
 * process on the state file): the download starts again by itself (§3.2.2), the install resumes
 * at boot (§3.5), the manager follows both to the new version and never resets the module. */
static void test_ufota_powerloss(void **state)
{
	struct rig *r = *state;

	simh_ctl(&r->h, "fw-power-dl 20000");
	simh_ctl(&r->h, "fw-power-install 40");
	campaign(r, 0);
	wait_state(r, FWU_S_DOWNLOADING);
	rig_close(r);
	usleep(1500 * 1000); /* the power goes while no manager runs */
	assert_int_equal(rig_open(r), 0);
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_DOWNLOADING);
	assert_int_equal(fwu_resume(r->u), 0);
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(fwu_resume(r->u), 0); /* the URC enables again after that boot */
	wait_state(r, FWU_S_INSTALLING);
	rig_close(r);
	assert_int_equal(rig_open(r), 0);
	assert_int_equal(fwu_resume(r->u), 0); /* waits for the install, reads the version */
	outcome(r, NEW, FWU_S_DONE);
	restored(r);
	assert_int_equal(r->validates, 2); /* the install cut at 40 % began again at boot */
}

/* No manager listens for ms: what the module sends meanwhile is lost, as on a UART (a pty keeps
 * it for the next reader). */
static void unheard(struct rig *r, int ms)
{
	uint64_t t0 = now_ms();
	char buf[512];
	int fd = open(r->h.pty, O_RDWR | O_NOCTTY | O_NONBLOCK);

	assert_true(fd >= 0);
	while (now_ms() - t0 < (uint64_t)ms)
		if (read(fd, buf, sizeof(buf)) <= 0)
			usleep(20 * 1000);
	close(fd);
}

/* The URCs of a campaign lost while no manager runs: its download completed (download only),
 * then, in a second campaign, its install too. The manager back catches up with the module
 * (fwu_ufota_sync: ATI9, +UFOTA?): DOWNLOADED; then the new version found and restored. */
static void test_ufota_lost_urcs(void **state)
{
	struct rig *r = *state;
	uint32_t total, done;
	int st;

	campaign(r, 1);
	wait_state(r, FWU_S_DOWNLOADING);
	rig_close(r);
	unheard(r, 2500);
	assert_int_equal(rig_open(r), 0);
	assert_int_equal(fwu_resume(r->u), 0);
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_DOWNLOADING); /* the file is behind */
	assert_int_equal(fwu_ufota_sync(r->u, &st, &total, &done), 0);
	assert_int_equal(done, total);
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_DOWNLOADED);
	assert_int_equal(fwu_install(r->u), 0);
	outcome(r, NEW, FWU_S_DONE);
	put_pkg(r, "delta2.upd", NEW, "03.17,A00.03", 40000);
	assert_int_equal(fwu_ufota_config(r->u, 2), 0);
	assert_int_equal(fwu_ufota_enable(r->u), 0);
	simh_ctl(&r->h, "ufota-campaign delta2.upd");
	wait_state(r, FWU_S_ACK_PENDING);
	assert_int_equal(fwu_ufota_ack(r->u, 1), 0);
	rig_close(r); /* the download, the server's install and the reboot while no one listens */
	unheard(r, 6000);
	assert_int_equal(rig_open(r), 0);
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_ACK_PENDING);
	assert_int_equal(fwu_resume(r->u), 0);
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(fwu_ufota_sync(r->u, &st, &total, &done), 0);
	outcome(r, "03.17,A00.03", FWU_S_DONE);
	assert_string_equal(fwu_get_status(r->u)->ver_after, "03.17,A00.03");
	restored(r);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
	} cases[] = {
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
	        {"ufota-default", test_ufota_default},
	        {"ufota-download-only", test_ufota_download_only},
	        {"ufota-ack", test_ufota_ack},
	        {"ufota-pause", test_ufota_pause},
	        {"rot", test_rot},
	        {"urc-burst", test_urc_burst},
	        {"ufota-register", test_ufota_register},
	        {"ufota-secmode", test_ufota_secmode},
	        {"ufota-autoaccept", test_ufota_autoaccept},
	        {"ufota-resume", test_ufota_resume},
	        {"ufota-00b", test_ufota_00b},
	        {"ufota-verizon", test_ufota_verizon},
	        {"ufota-powerloss", test_ufota_powerloss},
	        {"ufota-lost-urcs", test_ufota_lost_urcs},
	};

	for (size_t i = 0; argc == 2 && i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!strcmp(argv[1], cases[i].name)) {
			const struct CMUnitTest t[] = {
			        {cases[i].name, cases[i].fn, setup, teardown, NULL},
			};
			return cmocka_run_group_tests_name(cases[i].name, t, NULL, NULL);
		}
	}
	fprintf(stderr, "usage: test_cellular_fw CASE\n");
	return 2;
}
