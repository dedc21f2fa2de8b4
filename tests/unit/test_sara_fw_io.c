/* The firmware-update manager (sara_fw.h) against scripted SARA-R5 transcripts (cell_fake.h) in
 * the app note's words: HTTP then +UFWINSTALL with the host stopped and the module's power lost
 * mid-install, FOAT with the baud switch and a power loss mid-transfer, the 109 s window missed,
 * UART with a size check, an MD5 mismatch, and Appendix B refusing a command during a uFOTA
 * download. The module is never reset or power-cycled during an install. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cell_fake.h"
#include "fuota/sara_fw.h"
#include "fuota/xmodem.h"

#define OK  "\r\nOK\r\n"
#define MD5 "884a2d96fddaf1d957c604805b75b9f2"

struct rig {
	struct fake_step st[FAKE_STEPS];
	uint64_t not_before[FAKE_STEPS];
	size_t n;
	struct fake *f;
	struct at_client *at;
	struct sara *s;
	struct fwu *u;
	int pulses, resets, reports, closes;
	uint32_t install_timeout_ms; /* 0: the manager's default */
	uint32_t kill_at_seq;        /* SIGKILL this process when the status reaches it */
	char dir[64], path[96];
};

static int pulse(void *ctx, uint32_t ms)
{
	(void)ms;
	((struct rig *)ctx)->pulses++;
	return FUOTA_OK;
}

static int reset_line(void *ctx, uint32_t ms)
{
	(void)ms;
	((struct rig *)ctx)->resets++;
	return FUOTA_OK;
}

static void on_report(void *ctx, const struct fwu_status *st, const char *msg)
{
	struct rig *r = ctx;

	(void)msg;
	r->reports++;
	if (r->kill_at_seq && st->seq == r->kill_at_seq)
		raise(SIGKILL); /* the state file of this transition is written: die here */
}

static void close_sockets(void *ctx)
{
	((struct rig *)ctx)->closes++;
}

static void add(struct rig *r, const char *expect, size_t elen, const char *reply, size_t rlen,
                uint32_t delay, uint64_t not_before)
{
	assert_true(r->n < FAKE_STEPS);
	r->not_before[r->n] = not_before;
	r->st[r->n++] = (struct fake_step){expect, elen, reply, rlen, delay};
}

/* expect → reply after 5 ms */
static void cmd(struct rig *r, const char *expect, const char *reply)
{
	add(r, expect, 0, reply, 0, 5, 0);
}

static void urc(struct rig *r, const char *line, uint32_t at_ms)
{
	add(r, NULL, 0, line, 0, at_ms, 0);
}

static void version(struct rig *r, const char *ati9)
{
	static char buf[4][64];
	static int i;
	char *b = buf[i++ & 3];

	snprintf(b, 64, "\r\n%s\r\n" OK, ati9);
	cmd(r, "ATI9\r", b);
	cmd(r, "AT+CGMR\r", "\r\n02.0x\r\n" OK);
	cmd(r, "AT+CGSN\r", "\r\n004999010640000\r\n" OK);
}

static void boot(struct rig *r)
{
	cmd(r, "AT\r", OK);
	cmd(r, "ATE0\r", OK);
	cmd(r, "AT+CMEE=2\r", OK);
	cmd(r, "AT+UDCONF=1,0\r", OK);
	cmd(r, "AT+CEREG=2\r", OK);
}

/* Starts the fake on the steps added so far and opens the manager on the state file. */
static void go(struct rig *r, bool fresh_dir)
{
	struct at_config ac = {0};
	struct sara_config sc = {0};
	struct fwu_config fc = {0};

	if (fresh_dir) {
		strcpy(r->dir, "/tmp/fwu-test-XXXXXX");
		assert_non_null(mkdtemp(r->dir));
		snprintf(r->path, sizeof(r->path), "%s/modem.state", r->dir);
	}
	r->f = fake_new(r->st, r->n, -1);
	memcpy(r->f->not_before, r->not_before, sizeof(r->not_before));
	ac.serial = &r->f->serial;
	ac.clock = &r->f->clock;
	ac.log_file =
	        getenv("FWU_TEST_LOG") ? stderr : NULL; /* the AT log, to debug a transcript */
	assert_int_equal(at_create(&ac, &r->at), FUOTA_OK);
	sc.at = r->at;
	sc.clock = &r->f->clock;
	sc.hw = (struct sara_hw){pulse, reset_line, r};
	sc.recovery = true;
	assert_int_equal(sara_create(&sc, &r->s), FUOTA_OK);
	fc.sara = r->s;
	fc.at = r->at;
	fc.serial = &r->f->serial;
	fc.clock = &r->f->clock;
	fc.state_path = r->path;
	fc.install_timeout_ms = r->install_timeout_ms;
	fc.poll_ms = 2000;
	fc.silence_ms = 60000;
	fc.xm_retries = 2;
	fc.xm_ack_timeout_ms = 1000;
	fc.on_report = on_report;
	fc.close_sockets = close_sockets;
	fc.ctx = r;
	assert_int_equal(fwu_open(&fc, &r->u), FUOTA_OK);
}

/* Closes the manager as a killed host would leave it (the state file stays). */
static void stop(struct rig *r)
{
	fwu_close(r->u);
	sara_destroy(r->s);
	at_destroy(r->at);
	free(r->f);
	r->f = NULL;
	r->n = 0;
	memset(r->not_before, 0, sizeof(r->not_before));
}

static void done(struct rig *r)
{
	char tmp[128];

	assert_int_equal(r->f->next, r->f->n_steps); /* the whole transcript ran */
	stop(r);
	unlink(r->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->path);
	unlink(tmp);
	rmdir(r->dir);
}

static void read_state(struct rig *r, struct fwu_status *st)
{
	struct fwu_desired d;
	char buf[4096];
	FILE *f = fopen(r->path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(fwu_file_decode(buf, n, st, &d), FUOTA_OK);
}

static void test_http_install_power_loss(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	const struct fwu_status *st;
	struct fwu_desired want;
	struct fwu_status saved;
	struct sara_http_cfg hc = {.server_name = "fw.example"};

	(void)state;
	version(r, "02.06,A00.01");
	cmd(r, "AT+UDELFILE=\"updatePackage.bin\",\"FOAT\"\r", OK);
	cmd(r, "AT+UHTTP=0\r", OK);
	cmd(r, "AT+UHTTP=0,1,\"fw.example\"\r", OK);
	cmd(r, "AT+UHTTPC=0,100,\"/fw/delta\"\r", OK);
	urc(r, "\r\n+UUHTTPCR: 0,100,1,200,\"" MD5 "\"\r\n", 4000);
	cmd(r, "AT+UFWINSTALL=1,115200\r", OK);
	/* Table 13, cut: the host stops (its wait ends) at 40 % */
	urc(r, "\r\n+UFWPREVAL: 0\r\n", 60000);
	urc(r, "\r\n+UFWPREVAL: 7\r\n", 90000);
	urc(r, "\r\n+UFWPREVAL: 100\r\n", 120000);
	urc(r, "\r\n+UUFWINSTALL: 1\r\n", 150000);
	urc(r, "\r\n+UUFWINSTALL: 40\r\n", 300000);
	r->install_timeout_ms = 400000; /* this host gives up waiting at 400 s */
	go(r, true);
	fwu_desired_init(&want);
	want.mno = 100;
	want.apn[0].cid = 1;
	strcpy(want.apn[0].pdp_type, "IP");
	strcpy(want.apn[0].apn, "iot.example");
	want.urcs = true;
	assert_int_equal(fwu_set_desired(r->u, &want), FUOTA_OK);
	assert_int_equal(fwu_http(r->u, 0, &hc, "/fw/delta", MD5, 300000), FUOTA_ERR_TIMEOUT);
	st = fwu_get_status(r->u);
	assert_int_equal(st->state, FWU_S_INSTALLING);
	assert_int_equal(st->pct, 40);
	assert_true(sara_resets_held(r->s));
	assert_int_equal(r->pulses + r->resets, 0); /* 200 s of silence, and no reset */
	read_state(r, &saved);
	assert_int_equal(saved.state, FWU_S_INSTALLING);
	assert_string_equal(saved.ver_before, "02.06,A00.01");
	assert_int_equal(r->f->next, r->f->n_steps);
	stop(r);

	/* the module lost power too: §6.1.1 the install starts again at boot, then 128 */
	urc(r, "\r\n+UFWPREVAL: 0\r\n", 30000);
	urc(r, "\r\n+UUFWINSTALL: 10\r\n", 100000);
	urc(r, "\r\n+UUFWINSTALL: 128\r\n", 200000);
	add(r, "AT\r", 0, OK, 0, 5, 260000);
	boot(r);
	version(r, "02.07,A00.01");
	cmd(r, "AT+UMNOPROF?\r", "\r\n+UMNOPROF: 90\r\n" OK); /* global after the update */
	cmd(r, "AT+CFUN=0\r", OK);
	cmd(r, "AT+UMNOPROF=100\r", OK);
	cmd(r, "AT+CFUN=16\r", OK); /* the extra reboot */
	boot(r);
	cmd(r, "AT+CGDCONT=1,\"IP\",\"iot.example\"\r", OK);
	cmd(r, "AT+ULWM2MSTAT=1\r", OK);
	cmd(r, "AT+UFOTASTAT=1\r", OK);
	cmd(r, "AT+USECFW=0\r", "\r\n+USECFW: 1\r\n" OK);
	go(r, false);
	st = fwu_get_status(r->u);
	assert_int_equal(st->state, FWU_S_INSTALLING); /* read back */
	assert_int_equal(fwu_get_desired(r->u)->mno, 100);
	assert_int_equal(fwu_resume(r->u), FUOTA_OK);
	assert_int_equal(st->state, FWU_S_DONE);
	assert_int_equal(st->result, 128);
	assert_string_equal(st->ver_after, "02.07,A00.01");
	assert_false(fake_sent(r->f, "AT+UFWINSTALL=1")); /* no second install */
	assert_false(sara_resets_held(r->s));
	assert_int_equal(r->pulses + r->resets, 0);
	read_state(r, &saved);
	assert_int_equal(saved.state, FWU_S_DONE);
	done(r);
	free(r);
}

/* Builds the 128-byte CRC blocks of pkg into frames. */
static uint8_t frames[3][133];

static void test_foat_power_loss_mid_transfer(void **state)
{
	static uint8_t pkg[300];
	static const char eot[] = {XM_EOT};
	static const char ack[] = {XM_ACK};
	struct rig *r = calloc(1, sizeof(*r));
	const struct fwu_status *st;
	struct fwu_foat_opts o = {.baud = 460800};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pkg); i++)
		pkg[i] = (uint8_t)(i * 7);
	for (i = 0; i < 3; i++)
		xm_block(frames[i], (unsigned)i + 1, pkg + i * 128, i < 2 ? 128 : 44, 128, true,
		         0x1a);
	version(r, "02.06,A00.01");
	/* Table 7 */
	cmd(r, "AT+UFWUPD=1,460800\r", "\r\n+UFWUPD: ONGOING\r\nC");
	add(r, (const char *)frames[0], 133, ack, 1, 5, 0);
	add(r, (const char *)frames[1], 133, "", 0, 5, 0); /* power lost: silence */
	urc(r, "C", 5000); /* §4.1.1: at wake-up, Firmware Update Mode asks again */
	add(r, (const char *)frames[0], 133, ack, 1, 5, 0);
	add(r, (const char *)frames[1], 133, ack, 1, 5, 0);
	add(r, (const char *)frames[2], 133, ack, 1, 5, 0);
	add(r, eot, 1, ack, 1, 5, 0);
	urc(r, "\r\n+UFWPREVAL: 0\r\n", 2000);
	urc(r, "\r\n+UFWPREVAL: 90\r\n", 4000);
	urc(r, "\r\n+UFWUPD: 1\r\n", 6000);
	urc(r, "\r\n+UFWUPD: 100\r\n", 8000);
	urc(r, "\r\n+UFWUPD: 128\r\n", 9000);
	add(r, "AT\r", 0, OK, 0, 5, 60000);
	boot(r);
	version(r, "02.07,A00.01");
	cmd(r, "AT+UMNOPROF?\r", "\r\n+UMNOPROF: 90\r\n" OK);
	cmd(r, "AT+USECFW=0\r", "\r\n+USECFW: 0\r\n" OK);
	go(r, true);
	assert_int_equal(fwu_foat(r->u, pkg, sizeof(pkg), &o), FUOTA_OK);
	st = fwu_get_status(r->u);
	assert_int_equal(st->state, FWU_S_DONE);
	assert_int_equal(st->method, FWU_M_FOAT);
	assert_int_equal(st->sends, 2);
	assert_int_equal(st->foat_baud, 460800); /* kept for a host that restarts */
	assert_int_equal(st->result, 128);
	assert_string_equal(st->ver_after, "02.07,A00.01");
	/* the port followed the module's switch for both transfers */
	assert_true(r->f->n_baud >= 2);
	assert_int_equal(r->f->baud_log[0], 460800);
	assert_int_equal(r->f->baud_log[1], 460800);
	assert_int_equal(r->pulses + r->resets, 0);
	done(r);
	free(r);
}

static void test_foat_window_missed(void **state)
{
	static const uint8_t pkg[10] = {1, 2, 3};
	struct rig *r = calloc(1, sizeof(*r));
	const struct fwu_status *st;

	(void)state;
	version(r, "02.06,A00.01");
	cmd(r, "AT+UFWUPD=1,460800\r", "\r\n+UFWUPD: ONGOING\r\n"); /* then no 'C', no NAK */
	add(r, "AT\r", 0, OK, 0, 5, 0);                             /* rebooted: old firmware */
	boot(r);
	version(r, "02.06,A00.01");
	go(r, true);
	assert_int_equal(fwu_foat(r->u, pkg, sizeof(pkg), NULL), FUOTA_ERR_IO);
	st = fwu_get_status(r->u);
	assert_int_equal(st->state, FWU_S_FAILED);
	assert_int_equal(st->fail, FWU_F_WINDOW);
	assert_string_equal(st->ver_after, "02.06,A00.01");
	assert_true(r->f->now >= 1000 + 109000);
	done(r);
	free(r);
}

static void test_uart_and_md5(void **state)
{
	static const uint8_t pkg[] = "delta-bytes";
	struct rig *r = calloc(1, sizeof(*r));
	struct sara_ftp_cfg fc = {.server_name = "ftp.example", .passive = true};
	const struct fwu_status *st;

	(void)state;
	/* UART: written, but the FOAT area holds fewer bytes */
	version(r, "02.06,A00.01");
	cmd(r, "AT+UDELFILE=\"updatePackage.bin\",\"FOAT\"\r", "\r\nERROR\r\n"); /* none */
	cmd(r, "AT+UDWNFILE=\"delta\",11,\"FOAT\"\r", "\r\n>");
	cmd(r, "delta-bytes", OK);
	cmd(r, "AT+ULSTFILE=2,\"updatePackage.bin\",\"FOAT\"\r", "\r\n+ULSTFILE: 10\r\n" OK);
	/* FTP: the MD5 differs from the package's */
	version(r, "02.06,A00.01");
	cmd(r, "AT+UDELFILE=\"updatePackage.bin\",\"FOAT\"\r", OK);
	cmd(r, "AT+UFTP=1,\"ftp.example\"\r", OK);
	cmd(r, "AT+UFTP=6,1\r", OK);
	cmd(r, "AT+UFTPC=1\r", OK "\r\n+UUFTPCR: 1,1\r\n");
	cmd(r, "AT+UFTPC=100,\"/fw/delta\"\r",
	    OK "\r\n+UUFTPCR: 100,1,\"9ac81b5381d94eb0999dfa0b8c2da363\"\r\n");
	go(r, true);
	assert_int_equal(fwu_uart(r->u, pkg, 11, 60000), FUOTA_ERR_IO);
	st = fwu_get_status(r->u);
	assert_int_equal(st->state, FWU_S_FAILED);
	assert_int_equal(st->fail, FWU_F_DOWNLOAD);
	assert_non_null(strstr(fwu_last_error(r->u), "10 bytes"));
	assert_int_equal(fwu_ftp(r->u, &fc, "/fw/delta", MD5, 60000), FUOTA_ERR_CONFLICT);
	assert_int_equal(st->fail, FWU_F_MD5);
	assert_false(fake_sent(r->f, "AT+UFWINSTALL"));
	assert_true(r->reports >= 2);
	done(r);
	free(r);
}

static void test_appendix_b_during_ufota(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct sara_xfer x;
	int sock;

	(void)state;
	urc(r, "\r\n+UFOTASTAT: 1,0,0\r\n\r\n+UFOTASTAT: 0,1,5\r\n", 100);
	cmd(r, "AT+USOCR=17\r", "\r\n+USOCR: 0\r\n" OK);
	urc(r, "\r\n+UFOTASTAT: 2,2,100\r\n", 100);
	r->install_timeout_ms = 100000;
	go(r, true);
	assert_int_equal(sara_poll(r->s, 1000), FUOTA_OK);
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_DOWNLOADING);
	assert_int_equal(sara_ftp_get_foat(r->s, "/fw/delta", 1000, &x), FUOTA_ERR_STATE);
	assert_non_null(strstr(sara_last_error(r->s), "Appendix B"));
	assert_false(fake_sent(r->f, "AT+UFTPC"));
	assert_int_equal(sara_sock_open(r->s, SARA_UDP, 0, &sock), FUOTA_OK); /* allowed */
	assert_int_equal(sara_poll(r->s, 1000), FUOTA_OK);
	/* 2,2,100: the install may start any time: sockets closed, no reset from here on */
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_INSTALL_START);
	assert_int_equal(fwu_run(r->u), FUOTA_ERR_TIMEOUT); /* the module never came back here */
	assert_int_equal(r->closes, 1);
	assert_true(sara_resets_held(r->s));
	assert_int_equal(sara_file_write(r->s, "delta", "FOAT", (const uint8_t *)"x", 1, 1000),
	                 FUOTA_ERR_STATE);
	assert_non_null(strstr(sara_last_error(r->s), "during an install"));
	assert_false(fake_sent(r->f, "AT+UDWNFILE"));
	assert_int_equal(r->pulses + r->resets, 0);
	done(r);
	free(r);
}

/* Tables 2, 4, 5 on a variant without install URCs (00B-00): after +UFOTASTAT: 2,2,100 the module
 * still answers until the server reboots it; the host waits for silence, then for AT, then reads
 * the version. The wait-for-ack mode and its accept come first (§3.4.2). */
static void test_ufota_without_install_urcs(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	const struct fwu_status *st;
	int reg, sec;
	long srlt;

	(void)state;
	cmd(r,
	    "AT+ULWM2MWRITE=\"{\\\"bn\\\":\\\"/1/10/"
	    "\\\",\\\"e\\\":[{\\\"n\\\":\\\"1\\\",\\\"v\\\":604800}]}\"\r",
	    OK);
	cmd(r, "AT+ULWM2MREAD=\"/1/10\"\r",
	    "\r\n+ULWM2MREAD: {\"bn\":\"/1/10/\",\"e\": {\"n\":\"0\",\"v\":721}, "
	    "{\"n\":\"1\",\"v\":604800}}\r\n" OK);
	cmd(r, "AT+USECMODE?\r", "\r\n+USECMODE: 1\r\n" OK);
	cmd(r, "AT+ULWM2MREG=721\r", OK);
	cmd(r, "AT+ULWM2MREG?\r", "\r\n+ULWM2MREG: 721,3,86281\r\n" OK);
	version(r, "02.06,A00.01");
	cmd(r, "AT+ULWM2MSTAT=1\r", OK);
	cmd(r, "AT+UFOTASTAT=1\r", OK "\r\n+UFOTASTAT: 3,1,0\r\n\r\n+ULWM2MSTAT: 1,102,3\r\n");
	cmd(r, "AT+UFOTACONFIG=721,2,255\r", OK);
	urc(r, "\r\n+UFOTASTAT: 0,3,0\r\n", 1000);
	cmd(r, "AT+UFOTAACK=30\r", OK);
	urc(r, "\r\n+UFOTASTAT: 1,0,0\r\n", 30000);
	urc(r, "\r\n+UFOTASTAT: 0,1,30\r\n", 60000);
	urc(r, "\r\n+UFOTASTAT: 0,1,65\r\n", 90000);
	urc(r, "\r\n+UFOTASTAT: 2,2,100\r\n", 120000);
	urc(r, "\r\n+ULWM2MSTAT: 3,102,\"/5/0/3/\"\r\n", 120010);
	cmd(r, "AT\r", OK);                   /* the server has not rebooted it yet */
	add(r, "AT\r", 0, OK, 0, 5, 2000000); /* 25 min later: back */
	boot(r);
	version(r, "02.07,A00.01");
	cmd(r, "AT+UMNOPROF?\r", "\r\n+UMNOPROF: 90\r\n" OK);
	cmd(r, "AT+ULWM2MSTAT=1\r", OK); /* §3.7.1: again after the reboot */
	cmd(r, "AT+UFOTASTAT=1\r", OK);
	cmd(r, "AT+USECFW=0\r", "\r\n+USECFW: 3\r\n" OK);
	go(r, true);
	assert_int_equal(fwu_ufota_srlt(r->u, 604800, &srlt), FUOTA_OK);
	assert_int_equal(srlt, 604800);
	assert_int_equal(fwu_ufota_srlt(r->u, 60, &srlt), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(fwu_ufota_register(r->u, true, &reg, &sec), FUOTA_OK);
	assert_int_equal(reg, 3);
	assert_int_equal(sec, 1);
	assert_int_equal(fwu_ufota_enable(r->u), FUOTA_OK);
	assert_int_equal(fwu_ufota_config(r->u, 2), FUOTA_OK);
	st = fwu_get_status(r->u);
	assert_int_equal(fwu_ufota_ack(r->u, 30), FUOTA_ERR_STATE); /* nothing pending yet */
	assert_int_equal(sara_poll(r->s, 2000), FUOTA_OK);
	assert_int_equal(st->state, FWU_S_ACK_PENDING);
	assert_int_equal(fwu_ufota_ack(r->u, 30), FUOTA_OK);
	assert_int_equal(fwu_watch(r->u, 3600000), FUOTA_OK);
	assert_int_equal(st->state, FWU_S_DONE);
	assert_int_equal(st->method, FWU_M_UFOTA);
	assert_int_equal(st->ufota_mode, 2);
	assert_string_equal(st->ver_after, "02.07,A00.01");
	assert_int_equal(r->closes, 1); /* §3.7.3 */
	assert_int_equal(r->pulses + r->resets, 0);
	assert_true(r->f->now > 2000000);
	done(r);
	free(r);
}

/* §4.1.1: power lost during the FOAT install: the module wakes up in Firmware Update Mode, silent
 * but for its handshake; the host, after its install deadline, offers the package again and it
 * goes when the module asks with 'C'. */
static void test_foat_power_loss_mid_install(void **state)
{
	static uint8_t pkg[200];
	static uint8_t fr[2][133];
	static const char eot[] = {XM_EOT};
	static const char ack[] = {XM_ACK};
	struct rig *r = calloc(1, sizeof(*r));
	const struct fwu_status *st;
	size_t i, round;

	(void)state;
	for (i = 0; i < sizeof(pkg); i++)
		pkg[i] = (uint8_t)(i ^ 0x5a);
	xm_block(fr[0], 1, pkg, 128, 128, true, 0x1a);
	xm_block(fr[1], 2, pkg + 128, 72, 128, true, 0x1a);
	version(r, "02.06,A00.01");
	cmd(r, "AT+UFWUPD=1,460800\r", "\r\n+UFWUPD: ONGOING\r\nC");
	for (round = 0; round < 2; round++) {
		add(r, (const char *)fr[0], 133, ack, 1, 5, 0);
		add(r, (const char *)fr[1], 133, ack, 1, 5, 0);
		add(r, eot, 1, ack, 1, 5, 0);
		urc(r, "\r\n+UFWPREVAL: 0\r\n", 2000);
		urc(r, round ? "\r\n+UFWUPD: 50\r\n" : "\r\n+UFWPREVAL: 100\r\n", 4000);
		urc(r, round ? "\r\n+UFWUPD: 128\r\n" : "\r\n+UFWUPD: 30\r\n", 6000);
		/* power lost; at wake-up the module asks for the package again (the fake delivers
		 * bytes in the order queued, so one 'C' stands for its 3 'C' and 10 NAKs) */
		if (round == 0)
			urc(r, "C", 62000);
	}
	add(r, "AT\r", 0, OK, 0, 5, 100000);
	boot(r);
	version(r, "02.07,A00.01");
	cmd(r, "AT+UMNOPROF?\r", "\r\n+UMNOPROF: 90\r\n" OK);
	cmd(r, "AT+USECFW=0\r", "\r\n+USECFW: 0\r\n" OK);
	r->install_timeout_ms = 60000;
	go(r, true);
	assert_int_equal(fwu_foat(r->u, pkg, sizeof(pkg), NULL), FUOTA_OK);
	st = fwu_get_status(r->u);
	assert_int_equal(st->state, FWU_S_DONE);
	assert_int_equal(st->sends, 2);
	assert_string_equal(st->ver_after, "02.07,A00.01");
	assert_int_equal(r->pulses + r->resets, 0);
	done(r);
	free(r);
}

/* Table 10 then Table 13, whole: the transcript of an HTTP update that goes through. */
static void http_transcript(struct rig *r)
{
	version(r, "02.06,A00.01");
	cmd(r, "AT+UDELFILE=\"updatePackage.bin\",\"FOAT\"\r", OK);
	cmd(r, "AT+UHTTP=0\r", OK);
	cmd(r, "AT+UHTTP=0,1,\"fw.example\"\r", OK);
	cmd(r, "AT+UHTTPC=0,100,\"/fw/delta\"\r", OK);
	urc(r, "\r\n+UUHTTPCR: 0,100,1,200,\"" MD5 "\"\r\n", 4000);
	cmd(r, "AT+UFWINSTALL=1,115200\r", OK);
	urc(r, "\r\n+UFWPREVAL: 0\r\n", 60000);
	urc(r, "\r\n+UFWPREVAL: 100\r\n", 90000);
	urc(r, "\r\n+UUFWINSTALL: 1\r\n", 120000);
	urc(r, "\r\n+UUFWINSTALL: 100\r\n", 150000);
	urc(r, "\r\n+UUFWINSTALL: 128\r\n", 160000);
	add(r, "AT\r", 0, OK, 0, 5, 200000);
	boot(r);
	version(r, "02.07,A00.01");
	cmd(r, "AT+UMNOPROF?\r", "\r\n+UMNOPROF: 90\r\n" OK);
	cmd(r, "AT+USECFW=0\r", "\r\n+USECFW: 0\r\n" OK);
}

/* The host runs the HTTP update in a child killed with SIGKILL right after each transition's
 * state file is written. Each time the file is whole, holds that transition, and what a restarted
 * host would do from it never sends the package or +UFWINSTALL over an install, nor resets. */
static void test_killed_at_every_transition(void **state)
{
	struct sara_http_cfg hc = {.server_name = "fw.example"};
	uint32_t k, last = 0;

	(void)state;
	for (k = 1; k < 40 && !last; k++) {
		struct rig *r = calloc(1, sizeof(*r));
		struct fwu_status st, next;
		struct fwu_event restart = {.kind = FWU_EV_RESTART};
		unsigned a;
		int status;
		pid_t pid;

		strcpy(r->dir, "/tmp/fwu-kill-XXXXXX");
		assert_non_null(mkdtemp(r->dir));
		snprintf(r->path, sizeof(r->path), "%s/modem.state", r->dir);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			http_transcript(r);
			r->kill_at_seq = k;
			go(r, false);
			_exit(fwu_http(r->u, 0, &hc, "/fw/delta", MD5, 300000) == FUOTA_OK ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		read_state(r, &st);
		if (WIFEXITED(status)) { /* no transition k: the update ran through */
			assert_int_equal(WEXITSTATUS(status), 0);
			assert_int_equal(st.state, FWU_S_DONE);
			last = k;
		} else {
			assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
			assert_int_equal(st.seq, k);
			assert_int_equal(fwu_step(&st, &restart, &next, &a, NULL, 0), FUOTA_OK);
			if (!fwu_reset_allowed(st.state)) {
				assert_int_equal(a & (FWU_A_INSTALL | FWU_A_SEND_PACKAGE), 0);
				assert_true(a & FWU_A_WAIT_MODULE);
			}
			if (st.state == FWU_S_DOWNLOADED)
				assert_true(a & FWU_A_INSTALL); /* written ahead: not sent yet */
		}
		unlink(r->path);
		rmdir(r->dir);
		free(r);
	}
	if (getenv("FWU_TEST_LOG"))
		fprintf(stderr, "transitions killed: %u\n", last - 1);
	assert_true(last > 8); /* the update has that many transitions, each one killed */
}

/* fuota-modem restore: the desired configuration applied outside an update, refused once the
 * module says it installs. */
static void test_restore_now(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct fwu_desired want;

	(void)state;
	cmd(r, "AT+UMNOPROF?\r", "\r\n+UMNOPROF: 100\r\n" OK); /* already: no reboot */
	cmd(r, "AT+CGDCONT=1,\"IP\",\"iot.example\"\r", OK);
	cmd(r, "AT+CEDRXS=0\r", OK);
	urc(r, "\r\n+UUFWINSTALL: 5\r\n", 100);
	go(r, true);
	fwu_desired_init(&want);
	want.mno = 100;
	want.apn[0].cid = 1;
	strcpy(want.apn[0].pdp_type, "IP");
	strcpy(want.apn[0].apn, "iot.example");
	want.edrx = 0;
	assert_int_equal(fwu_set_desired(r->u, &want), FUOTA_OK);
	assert_int_equal(fwu_restore_now(r->u), FUOTA_OK);
	assert_false(fake_sent(r->f, "AT+CFUN"));
	assert_int_equal(sara_poll(r->s, 1000), FUOTA_OK);
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_INSTALLING);
	assert_int_equal(fwu_restore_now(r->u), FUOTA_ERR_STATE);
	done(r);
	free(r);
}

/* Table 3: a 00B-00 module on the Verizon profile whose package URI is not u-blox's: the host
 * forces AT+ULWM2MREG=102 every 30 s until the module reboots into the install. */
static void test_ufota_verizon(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct fwu_desired want;
	const struct fwu_status *st;
	size_t i, regs = 0;

	(void)state;
	version(r, "02.06,A00.01");
	cmd(r, "AT+ULWM2MSTAT=1\r", OK);
	cmd(r, "AT+UFOTASTAT=1\r", OK "\r\n+UFOTASTAT: 1,0,0\r\n");
	cmd(r, "AT+ULWM2MREAD=\"/5/0/1\"\r",
	    "\r\n+ULWM2MREAD: {\"bn\":\"/5/0/1/\",\"e\":[{\"n\":\"1\",\"sv\":"
	    "\"https://dm.verizon.example/fw/delta\"}]}\r\n" OK);
	cmd(r, "AT+ULWM2MREG=102\r", OK "\r\n+UFOTASTAT: 0,1,50\r\n");
	cmd(r, "AT+ULWM2MREG=102\r", OK "\r\n+UFOTASTAT: 2,2,100\r\n");
	add(r, "AT\r", 0, OK, 0, 5, 1500000); /* rebooted, installed, back */
	boot(r);
	version(r, "02.07,A00.01");
	cmd(r, "AT+UMNOPROF?\r", "\r\n+UMNOPROF: 3\r\n" OK);
	cmd(r, "AT+ULWM2MSTAT=1\r", OK);
	cmd(r, "AT+UFOTASTAT=1\r", OK);
	cmd(r, "AT+USECFW=0\r", "\r\n+USECFW: 0\r\n" OK);
	go(r, true);
	fwu_desired_init(&want);
	want.mno = 3;
	assert_int_equal(fwu_set_desired(r->u, &want), FUOTA_OK);
	assert_int_equal(fwu_ufota_enable(r->u), FUOTA_OK);
	assert_int_equal(fwu_watch(r->u, 3600000), FUOTA_OK);
	st = fwu_get_status(r->u);
	assert_int_equal(st->state, FWU_S_DONE);
	for (i = 0; i + 16 <= r->f->tx_len; i++)
		regs += memcmp(r->f->tx + i, "AT+ULWM2MREG=102", 16) == 0;
	assert_int_equal(regs, 2);
	done(r);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_http_install_power_loss),
	        cmocka_unit_test(test_foat_power_loss_mid_transfer),
	        cmocka_unit_test(test_foat_window_missed),
	        cmocka_unit_test(test_foat_power_loss_mid_install),
	        cmocka_unit_test(test_uart_and_md5),
	        cmocka_unit_test(test_appendix_b_during_ufota),
	        cmocka_unit_test(test_ufota_without_install_urcs),
	        cmocka_unit_test(test_killed_at_every_transition),
	        cmocka_unit_test(test_restore_now),
	        cmocka_unit_test(test_ufota_verizon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
