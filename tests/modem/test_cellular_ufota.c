/* The firmware-update manager's uFOTA (FW app note §3) end to end against fuota-modem-sim's LwM2M
 * client and campaigns (fw_rig.h): each +UFOTACONFIG mode, pause / resume / cancel, the
 * registration and SRLT, the one-hour auto-accept, the §3.2.2 retries, a 00B-00 module, the
 * Verizon case, power losses and lost URCs. One ctest each, cellular.fw-ufota-<case>. */
#include "fw_rig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Pause and resume by the host (across a reboot) and by the server side, +UFOTA? in between,
 * then a cancel. */
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
	assert_int_equal(st, 1); /* paused, as the app note shows it (§3.3) */
	assert_true(done < total);
	(void)sara_poll(r->s, 500); /* paused: nothing moves */
	assert_int_equal(fwu_ufota_progress(r->u, &st, &total, &done), 0);
	assert_int_equal(st, 1);   /* paused, as the app note shows it (§3.3) */
	simh_ctl(&r->h, "reboot"); /* §3.3: the pause survives it, AT+UFOTA=2 resumes after it */
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(fwu_resume(r->u), 0);
	for (int i = 0; i < 10; i++)
		(void)sara_poll(r->s,
		                100); /* +UFOTASTAT: 3,1,0, the client's start, changes nothing */
	assert_int_equal(fwu_get_status(r->u)->state, FWU_S_PAUSED);
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
	prepare(r);
	put_www(r, "delta.upd", 40000);
	assert_int_equal(fwu_ufota_config(r->u, 2), 0);
	assert_int_equal(fwu_ufota_enable(r->u), 0);
	t0 = now_ms(); /* the server's request, its hour from now */
	simh_ctl(&r->h, "ufota-campaign delta.upd");
	wait_state(r, FWU_S_ACK_PENDING);
	wait_state(r, FWU_S_DOWNLOADING);
	printf("auto-accept after %llu ms (1 h at 1/3600)\n", (unsigned long long)(now_ms() - t0));
	assert_true(now_ms() - t0 >= 990 && now_ms() - t0 < 5000);
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

/* §3.2.2: a download reset by the host's AT+CFUN=16 resumes only when AT+COPS=2 came before it.
 * The driver's reset during the download (an MNO profile set) sends it first (the bytes are kept);
 * the same reset written straight to the AT client, without it, restarts the download from its
 * first byte; the download then completes and installs. */
static void test_ufota_reset(void **state)
{
	struct rig *r = *state;
	uint32_t total = 0, before = 0, after = 0;
	int st = -1;

	prepare(r);
	put_www(r, "delta.upd", 200000); /* 5 s at the rig's 40 kB/s */
	assert_int_equal(fwu_ufota_config(r->u, 1), 0);
	assert_int_equal(fwu_ufota_enable(r->u), 0);
	simh_ctl(&r->h, "ufota-campaign delta.upd");
	wait_state(r, FWU_S_DOWNLOADING);
	while (fwu_get_status(r->u)->pct < 30)
		(void)sara_poll(r->s, 20);
	assert_int_equal(fwu_ufota_progress(r->u, &st, &total, &before), 0);
	/* the driver's own reset: AT+CFUN=0, AT+UMNOPROF=100, AT+COPS=2 (the rule), AT+CFUN=16 */
	assert_int_equal(sara_mno_set(r->s, 100, 10000), 0);
	assert_int_equal(fwu_resume(r->u), 0);
	assert_int_equal(fwu_ufota_progress(r->u, &st, &total, &after), 0);
	printf("driver's reset: %u of %u bytes before, %u after\n", before, total, after);
	assert_true(before >= total / 4 && after >= before);
	while (fwu_get_status(r->u)->pct < 50)
		(void)sara_poll(r->s, 20);
	assert_int_equal(fwu_ufota_progress(r->u, &st, &total, &before), 0);
	assert_int_equal(at_cmdf(r->at, NULL, NULL, 1000, "AT+CFUN=16"), 0); /* no AT+COPS=2 */
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(fwu_resume(r->u), 0);
	assert_int_equal(fwu_ufota_progress(r->u, &st, &total, &after), 0);
	printf("bare reset: %u of %u bytes before, %u after\n", before, total, after);
	assert_true(before >= total / 2 &&
	            after < before); /* from 0: 5 steps of 0.5 s to get back */
	wait_state(r, FWU_S_DOWNLOADED);
	assert_int_equal(fwu_install(r->u), 0);
	outcome(r, NEW, FWU_S_DONE);
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
	static const struct fw_case cases[] = {
	        {"ufota-default", test_ufota_default},
	        {"ufota-download-only", test_ufota_download_only},
	        {"ufota-ack", test_ufota_ack},
	        {"ufota-pause", test_ufota_pause},
	        {"ufota-register", test_ufota_register},
	        {"ufota-secmode", test_ufota_secmode},
	        {"ufota-autoaccept", test_ufota_autoaccept},
	        {"ufota-resume", test_ufota_resume},
	        {"ufota-reset", test_ufota_reset},
	        {"ufota-00b", test_ufota_00b},
	        {"ufota-verizon", test_ufota_verizon},
	        {"ufota-powerloss", test_ufota_powerloss},
	        {"ufota-lost-urcs", test_ufota_lost_urcs},
	};

	return fw_rig_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
