/* The firmware-update state machine (sara_fw_sm.h) on the FW app note's transcripts (UBX-20033314
 * Tables 2-13) for every method, its invariants checked over every state and event, the command
 * check of Appendix B, the restore plan of Table 16 and the state file's codec (a file cut at any
 * length is refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/sara_fw_sm.h"

#define L(s) s, strlen(s)

struct run {
	struct fwu_status st;
	unsigned acts; /* actions of the last step */
	unsigned all;  /* actions since the last check */
	char why[160];
};

static int step(struct run *r, struct fwu_event ev)
{
	struct fwu_status next;
	int err = fwu_step(&r->st, &ev, &next, &r->acts, r->why, sizeof(r->why));

	if (err == FUOTA_OK) {
		if (next.seq != r->st.seq)
			assert_true(r->acts & FWU_A_PERSIST); /* every transition is written */
		r->st = next;
		r->all |= r->acts;
	}
	return err;
}

static void ev(struct run *r, enum fwu_ev_kind k)
{
	assert_int_equal(step(r, (struct fwu_event){.kind = k}), FUOTA_OK);
}

/* Feeds a URC line through fwu_urc_event and the step function. */
static void urc(struct run *r, const char *line)
{
	struct fwu_event e;

	assert_int_equal(fwu_urc_event(&r->st, L(line), &e), FUOTA_OK);
	assert_int_equal(step(r, e), FUOTA_OK);
}

static void start(struct run *r, enum fwu_method m, const char *ver)
{
	assert_int_equal(
	        step(r, (struct fwu_event){.kind = FWU_EV_START, .method = m, .version = ver}),
	        FUOTA_OK);
}

static void back(struct run *r, const char *ver)
{
	assert_int_equal(step(r, (struct fwu_event){.kind = FWU_EV_MODULE_BACK, .version = ver}),
	                 FUOTA_OK);
}

/* Table 13 (and Tables 4, 7): validation, install, 128. */
static void install_urcs(struct run *r, const char *prefix)
{
	static const char *const pre[] = {"+UFWPREVAL: 0", "+UFWPREVAL: 3", "+UFWPREVAL: 7",
	                                  "+UFWPREVAL: 90", "+UFWPREVAL: 100"};
	static const int inst[] = {1, 3, 92, 100};
	char line[40];
	size_t i;

	for (i = 0; i < 5; i++) {
		urc(r, pre[i]);
		assert_int_equal(r->st.state, FWU_S_VALIDATING);
		assert_false(fwu_reset_allowed(r->st.state));
	}
	for (i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "%s %d", prefix, inst[i]);
		urc(r, line);
		assert_int_equal(r->st.state, FWU_S_INSTALLING);
		assert_int_equal(r->st.pct, inst[i]);
		assert_false(fwu_reset_allowed(r->st.state));
	}
	snprintf(line, sizeof(line), "%s 128", prefix);
	urc(r, line);
	assert_int_equal(r->st.state, FWU_S_REBOOTING);
	assert_int_equal(r->st.result, 128);
	assert_true(r->acts & FWU_A_WAIT_MODULE);
	assert_false(fwu_reset_allowed(r->st.state));
}

static void finish(struct run *r, const char *ver)
{
	back(r, ver);
	assert_int_equal(r->st.state, FWU_S_RESTORING);
	assert_true(r->acts & FWU_A_RESTORE);
	assert_true(r->acts & FWU_A_ROT_CHECK); /* §8: offered after every module update */
	assert_true(r->acts & FWU_A_ENABLE_URCS);
	assert_string_equal(r->st.ver_after, ver);
	ev(r, FWU_EV_RESTORED);
	assert_int_equal(r->st.state, FWU_S_DONE);
}

/* The same update asked again after a kill goes on; another method, uFOTA, or nothing under
 * way does not. */
static void test_update_under_way(void **state)
{
	struct fwu_status st = {0};
	enum fwu_state s;

	(void)state;
	st.method = FWU_M_FOAT;
	for (s = FWU_S_IDLE; s < FWU_S_COUNT; s++) {
		bool going = s != FWU_S_IDLE && s != FWU_S_DONE && s != FWU_S_FAILED;

		st.state = s;
		assert_int_equal(fwu_update_under_way(&st, FWU_M_FOAT), going);
		assert_false(fwu_update_under_way(&st, FWU_M_UART));
	}
	st.method = FWU_M_UFOTA;
	st.state = FWU_S_DOWNLOADING;
	assert_false(fwu_update_under_way(&st, FWU_M_UFOTA));
	st.method = FWU_M_HTTP;
	assert_true(fwu_update_under_way(&st, FWU_M_HTTP));
}

/* The same update asked again once done: only with the same method and package and the module
 * on the version the update ended on. */
static void test_update_done(void **state)
{
	static const char md5[] = "98987256f2ef0b30cfc3915326860863";
	struct fwu_status st = {.state = FWU_S_DONE, .method = FWU_M_UART};

	(void)state;
	strcpy(st.pkg_md5, md5);
	strcpy(st.ver_after, "03.16,A00.02");
	assert_true(fwu_update_done(&st, FWU_M_UART, md5, "03.16,A00.02"));
	assert_true(fwu_update_done(&st, FWU_M_UART, "98987256F2EF0B30CFC3915326860863",
	                            "03.16,A00.02"));
	assert_false(fwu_update_done(&st, FWU_M_UART, md5, "03.15,A00.01")); /* not running it */
	assert_false(fwu_update_done(&st, FWU_M_UART, md5, NULL));
	assert_false(fwu_update_done(&st, FWU_M_HTTP, md5, "03.16,A00.02"));
	assert_false(fwu_update_done(&st, FWU_M_UART, "08987256f2ef0b30cfc3915326860863",
	                             "03.16,A00.02")); /* another package: a new update */
	assert_false(fwu_update_done(&st, FWU_M_UART, NULL, "03.16,A00.02"));
	st.state = FWU_S_FAILED;
	assert_false(fwu_update_done(&st, FWU_M_UART, md5, "03.16,A00.02"));
	st.state = FWU_S_DONE;
	st.pkg_md5[0] = 0; /* a state file from before the MD5 was kept */
	assert_false(fwu_update_done(&st, FWU_M_UART, md5, "03.16,A00.02"));
	st.ver_after[0] = 0;
	strcpy(st.pkg_md5, md5);
	assert_false(fwu_update_done(&st, FWU_M_UART, md5, ""));
}

/* A FOAT that broke off on the way and then went through ends DONE without a failure left. */
static void test_foat_done_clears_failure(void **state)
{
	struct run r = {0};
	struct fwu_event e = {.kind = FWU_EV_DL_FAILED, .fail = FWU_F_DOWNLOAD, .code = -11};

	(void)state;
	start(&r, FWU_M_FOAT, "03.15,A00.01");
	ev(&r, FWU_EV_UPDATE_MODE);
	assert_int_equal(step(&r, e), FUOTA_OK);
	assert_int_equal(r.st.fail, FWU_F_DOWNLOAD);
	ev(&r, FWU_EV_DL_DONE);
	install_urcs(&r, "+UFWUPD:");
	finish(&r, "03.16,A00.02");
	assert_int_equal(r.st.fail, FWU_F_NONE);
	assert_int_equal(r.st.fail_code, 0);
	assert_int_equal(r.st.pct, 100);
}

static void test_http_ftp_uart(void **state)
{
	static const enum fwu_method ms[] = {FWU_M_HTTP, FWU_M_FTP, FWU_M_UART};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct run r = {0};

		start(&r, ms[i], "02.06,A00.01");
		assert_int_equal(r.st.state, FWU_S_DOWNLOADING);
		assert_true(fwu_reset_allowed(r.st.state));
		ev(&r, FWU_EV_DL_DONE); /* +UUHTTPCR: 0,100,1,200,"<md5>" with the MD5 matching */
		assert_int_equal(r.st.state, FWU_S_DOWNLOADED);
		assert_true(r.acts & FWU_A_INSTALL);
		ev(&r, FWU_EV_INSTALL_SENT); /* AT+UFWINSTALL=1,115200 → OK */
		assert_int_equal(r.st.state, FWU_S_INSTALL_START);
		assert_false(fwu_reset_allowed(r.st.state));
		install_urcs(&r, i == 0 ? "+UUFWINSTALL:" : "+UFWINSTALL:");
		finish(&r, "02.07,A00.01");
		assert_int_equal(r.st.method, ms[i]);
	}
}

static void test_http_md5_mismatch_and_restart(void **state)
{
	struct run r = {0};

	(void)state;
	start(&r, FWU_M_HTTP, NULL);
	assert_int_equal(step(&r, (struct fwu_event){.kind = FWU_EV_DL_FAILED, .fail = FWU_F_MD5}),
	                 FUOTA_OK);
	assert_int_equal(r.st.state, FWU_S_FAILED);
	assert_int_equal(r.st.fail, FWU_F_MD5);
	/* a restart mid-download: the partial file is stale, say so */
	start(&r, FWU_M_UART, NULL);
	ev(&r, FWU_EV_RESTART);
	assert_int_equal(r.st.state, FWU_S_FAILED);
	assert_int_equal(r.st.fail, FWU_F_INTERRUPTED);
	/* a restart after the download: install it */
	start(&r, FWU_M_FTP, NULL);
	ev(&r, FWU_EV_DL_DONE);
	ev(&r, FWU_EV_RESTART);
	assert_int_equal(r.st.state, FWU_S_DOWNLOADED);
	assert_true(r.acts & FWU_A_INSTALL);
	/* power lost mid-install (§6.1.1: it resumes at boot): wait, never resend, never reset */
	ev(&r, FWU_EV_INSTALL_SENT);
	urc(&r, "+UUFWINSTALL: 40");
	ev(&r, FWU_EV_RESTART);
	assert_int_equal(r.st.state, FWU_S_INSTALLING);
	assert_int_equal(r.acts & (FWU_A_INSTALL | FWU_A_SEND_PACKAGE), 0);
	assert_true(r.acts & FWU_A_WAIT_MODULE);
	urc(&r, "+UUFWINSTALL: 41");
	urc(&r, "+UUFWINSTALL: 128");
	finish(&r, "02.07,A00.01");
}

static void test_foat(void **state)
{
	struct run r = {0};

	(void)state;
	start(&r, FWU_M_FOAT, "02.06,A00.01");
	urc(&r, "+UFWUPD: ONGOING");
	assert_int_equal(r.st.state, FWU_S_UPDATE_MODE);
	assert_true(r.acts & FWU_A_SEND_PACKAGE);
	assert_int_equal(r.st.sends, 1);
	assert_false(fwu_reset_allowed(r.st.state));
	assert_int_equal(step(&r, (struct fwu_event){.kind = FWU_EV_DL_PROGRESS, .pct = 40}),
	                 FUOTA_OK);
	/* power lost mid-transfer: §4.1.1 the module waits for a new handshake: send again */
	assert_int_equal(
	        step(&r, (struct fwu_event){.kind = FWU_EV_DL_FAILED, .fail = FWU_F_DOWNLOAD}),
	        FUOTA_OK);
	assert_int_equal(r.st.state, FWU_S_UPDATE_MODE);
	assert_true(r.acts & FWU_A_SEND_PACKAGE);
	assert_int_equal(r.st.sends, 2);
	ev(&r, FWU_EV_DL_DONE);
	assert_int_equal(r.st.state, FWU_S_INSTALL_START);
	install_urcs(&r, "+UFWUPD:");
	finish(&r, "02.07,A00.01");
}

static void test_foat_window_and_errors(void **state)
{
	struct run r = {0};
	int i;

	(void)state;
	start(&r, FWU_M_FOAT, "02.06,A00.01");
	urc(&r, "+UFWUPD: ONGOING");
	assert_int_equal(
	        step(&r, (struct fwu_event){.kind = FWU_EV_DL_FAILED, .fail = FWU_F_WINDOW}),
	        FUOTA_OK);
	assert_int_equal(r.st.state, FWU_S_FAILED);
	assert_true(r.acts & FWU_A_WAIT_MODULE);
	back(&r, "02.06,A00.01"); /* the old firmware runs */
	assert_int_equal(r.st.state, FWU_S_FAILED);
	assert_string_equal(r.st.ver_after, "02.06,A00.01");

	/* transfers keep failing: three sends, then stop and report (still update mode) */
	start(&r, FWU_M_FOAT, "02.06,A00.01");
	urc(&r, "+UFWUPD: ONGOING");
	for (i = 0; i < 3; i++)
		assert_int_equal(step(&r, (struct fwu_event){.kind = FWU_EV_DL_FAILED,
		                                             .fail = FWU_F_DOWNLOAD}),
		                 FUOTA_OK);
	assert_int_equal(r.st.state, FWU_S_UPDATE_MODE);
	assert_int_equal(r.st.sends, FWU_FOAT_SENDS_MAX);
	assert_false(r.acts & FWU_A_SEND_PACKAGE);
	assert_true(r.acts & FWU_A_REPORT);
	/* the user runs update again: the package goes again without +UFWUPD */
	start(&r, FWU_M_FOAT, NULL);
	assert_true(r.acts & FWU_A_SEND_PACKAGE);
	ev(&r, FWU_EV_DL_DONE);
	urc(&r, "+UFWPREVAL: 50");
	urc(&r, "+UFWPREVAL: 100");
	urc(&r, "+UFWUPD: 10");
	/* an install error: the module stays in Firmware Update Mode: send the package again */
	urc(&r, "+UFWUPD: 160");
	assert_int_equal(r.st.state, FWU_S_UPDATE_MODE);
	assert_int_equal(r.st.fail, FWU_F_INSTALL);
	assert_int_equal(r.st.fail_code, 160);
	assert_true(r.acts & FWU_A_SEND_PACKAGE);
	/* silent past the install deadline: §4.1.1, a power loss left it in update mode */
	start(&r, FWU_M_FOAT, NULL);
	ev(&r, FWU_EV_DL_DONE);
	urc(&r, "+UFWUPD: 30");
	ev(&r, FWU_EV_TIMEOUT);
	assert_int_equal(r.st.state, FWU_S_UPDATE_MODE);
	assert_true(r.acts & FWU_A_SEND_PACKAGE);
	urc(&r, "+UFWUPD: 128");
	ev(&r, FWU_EV_TIMEOUT); /* after 128: wait on, never resend */
	assert_int_equal(r.st.state, FWU_S_REBOOTING);
	assert_false(r.acts & FWU_A_SEND_PACKAGE);
	assert_int_equal(step(&r, (struct fwu_event){.kind = FWU_EV_START, .method = FWU_M_FOAT}),
	                 FUOTA_ERR_STATE); /* no second transfer over an install */
	assert_non_null(strstr(r.why, "no second transfer"));
	assert_int_equal(r.st.state, FWU_S_REBOOTING);
	ev(&r, FWU_EV_DL_DONE);
	urc(&r, "+UFWUPD: 10");
	urc(&r, "+UFWUPD: 160");
	/* a host restart in update mode: send again */
	ev(&r, FWU_EV_RESTART);
	assert_true(r.acts & FWU_A_SEND_PACKAGE);
	/* the module answers AT in update mode: it rebooted to the old firmware */
	back(&r, "02.06,A00.01");
	assert_int_equal(r.st.state, FWU_S_FAILED);
}

static void test_validation_failure(void **state)
{
	struct run r = {0};

	(void)state;
	start(&r, FWU_M_HTTP, "02.06,A00.01");
	ev(&r, FWU_EV_DL_DONE);
	ev(&r, FWU_EV_INSTALL_SENT);
	urc(&r, "+UFWPREVAL: 30");
	urc(&r, "+UUFWINSTALL: 247");
	assert_int_equal(r.st.state, FWU_S_FAILED);
	assert_int_equal(r.st.fail, FWU_F_VALIDATION);
	assert_int_equal(r.st.fail_code, 247);
	assert_true(r.acts & FWU_A_READ_VERSION);
	/* an install that came back without a new version (the 128 URC lost, say) */
	start(&r, FWU_M_HTTP, "02.06,A00.01");
	ev(&r, FWU_EV_DL_DONE);
	ev(&r, FWU_EV_INSTALL_SENT);
	back(&r, "02.06,A00.01");
	assert_int_equal(r.st.state, FWU_S_FAILED);
	assert_int_equal(r.st.fail, FWU_F_VERSION);
	/* and one whose 128 was lost but the version changed: done */
	start(&r, FWU_M_HTTP, "02.06,A00.01");
	ev(&r, FWU_EV_DL_DONE);
	ev(&r, FWU_EV_INSTALL_SENT);
	urc(&r, "+UUFWINSTALL: 50");
	back(&r, "");
	assert_true(r.acts & FWU_A_READ_VERSION);
	finish(&r, "02.07,A00.01");
}

static void test_ufota_default(void **state)
{
	struct run r = {0};

	(void)state;
	start(&r, FWU_M_UFOTA, "02.06,A00.01");
	assert_true(r.acts & FWU_A_ENABLE_URCS);
	/* Tables 2 and 4 */
	urc(&r, "+UFOTASTAT: 3,1,0");
	assert_int_equal(r.st.state, FWU_S_IDLE); /* a client start, not an install */
	assert_int_equal(r.acts, 0);
	urc(&r, "+UFOTASTAT: 1,0,0");
	assert_int_equal(r.st.state, FWU_S_DOWNLOADING);
	urc(&r, "+UFOTASTAT: 0,1,30");
	urc(&r, "+UFOTASTAT: 0,1,65");
	assert_int_equal(r.st.pct, 65);
	assert_true(fwu_reset_allowed(r.st.state));
	urc(&r, "+UFOTASTAT: 2,2,100");
	assert_int_equal(r.st.state, FWU_S_INSTALL_START);
	assert_true(r.acts & FWU_A_CLOSE_SOCKETS);
	assert_false(fwu_reset_allowed(r.st.state));
	install_urcs(&r, "+UUFWINSTALL:");
	finish(&r, "02.07,A00.01");
	/* a campaign the host never started: the module downloads, then installs */
	urc(&r, "+UFOTASTAT: 0,1,8");
	assert_int_equal(r.st.state, FWU_S_DOWNLOADING);
	assert_int_equal(r.st.method, FWU_M_UFOTA);
}

static void test_ufota_modes(void **state)
{
	struct run r = {0};

	(void)state;
	/* §3.3: pause, +UFOTA?, resume, cancel */
	urc(&r, "+UFOTASTAT: 0,1,9");
	urc(&r, "+UFOTASTAT: 0,2,10");
	assert_int_equal(r.st.state, FWU_S_PAUSED);
	ev(&r, FWU_EV_RESTART); /* the pause survives reboots (§3.3) */
	assert_int_equal(r.st.state, FWU_S_PAUSED);
	urc(&r, "+UFOTASTAT: 1,0,0");
	urc(&r, "+UFOTASTAT: 0,1,11");
	assert_int_equal(r.st.state, FWU_S_DOWNLOADING);
	assert_int_equal(r.st.pct, 11);
	ev(&r, FWU_EV_CANCEL);
	urc(&r, "+UFOTASTAT: 2,3,100");
	assert_int_equal(r.st.state, FWU_S_FAILED);
	assert_int_equal(r.st.fail, FWU_F_CANCELLED);
	/* §3.4.1 download only: the host installs */
	r.st.ufota_mode = 1;
	urc(&r, "+UFOTASTAT: 1,0,0");
	urc(&r, "+UFOTASTAT: 0,1,30");
	urc(&r, "+UFOTASTAT: 2,2,100");
	assert_int_equal(r.st.state, FWU_S_DOWNLOADED);
	assert_true(r.acts & FWU_A_CLOSE_SOCKETS);
	ev(&r, FWU_EV_INSTALL_SENT);
	assert_int_equal(r.st.state, FWU_S_INSTALL_START);
	install_urcs(&r, "+UUFWINSTALL:");
	finish(&r, "02.07,A00.01");
	/* §3.4.2 wait for ack: reject */
	r.st.ufota_mode = 2;
	urc(&r, "+UFOTASTAT: 0,3,0");
	assert_int_equal(r.st.state, FWU_S_ACK_PENDING);
	assert_true(r.acts & FWU_A_REPORT);
	urc(&r, "+UFOTASTAT: 2,3,100");
	assert_int_equal(r.st.fail, FWU_F_CANCELLED);
	/* accept: AT+UFOTAACK=30, then the download starts */
	urc(&r, "+UFOTASTAT: 0,3,0");
	urc(&r, "+UFOTASTAT: 1,0,0");
	assert_int_equal(r.st.state, FWU_S_DOWNLOADING);
	/* §3.4.3 disabled: triggered, then rejected by the device */
	r.st.ufota_mode = 3;
	urc(&r, "+UFOTASTAT: 2,3,100");
	assert_int_equal(r.st.fail, FWU_F_REJECTED);
	/* a campaign that failed, then the next one rejected by the device: recorded as such */
	r.st.ufota_mode = 2;
	urc(&r, "+UFOTASTAT: 0,3,0");
	urc(&r, "+UFOTASTAT: 2,3,100");
	assert_int_equal(r.st.fail, FWU_F_CANCELLED);
	r.st.ufota_mode = 3;
	r.st.seq = 0;
	urc(&r, "+UFOTASTAT: 2,3,100");
	assert_int_equal(r.st.state, FWU_S_FAILED);
	assert_int_equal(r.st.fail, FWU_F_REJECTED);
	assert_true(r.acts & FWU_A_REPORT);
}

/* A host back after its URCs were lost: what the module says (ATI9, +UFOTA?) moves the status
 * on: the download's percentage, DOWNLOADED in download-only mode, the restore when another
 * version runs; nothing for other methods or states. */
static void test_ufota_sync(void **state)
{
	struct run r = {0};
	struct fwu_event e;

	(void)state;
	start(&r, FWU_M_UFOTA, "02.06,A00.01");
	assert_int_equal(fwu_ufota_sync_event(&r.st, "02.06,A00.01", 1000, 500, &e), 1);
	urc(&r, "+UFOTASTAT: 1,0,0");
	urc(&r, "+UFOTASTAT: 0,1,30");
	assert_int_equal(fwu_ufota_sync_event(&r.st, "02.06,A00.01", 1000, 500, &e), FUOTA_OK);
	assert_int_equal(step(&r, e), FUOTA_OK);
	assert_int_equal(r.st.pct, 50);
	assert_int_equal(fwu_ufota_sync_event(&r.st, "02.06,A00.01", 1000, 500, &e), 1);
	assert_int_equal(fwu_ufota_sync_event(&r.st, "", 1000, 1001, &e), 1);
	assert_int_equal(fwu_ufota_sync_event(&r.st, "", 0, 0, &e), 1);
	/* default mode: a whole package is not an outcome (the server installs it) */
	assert_int_equal(fwu_ufota_sync_event(&r.st, "02.06,A00.01", 1000, 1000, &e), FUOTA_OK);
	assert_int_equal(e.kind, FWU_EV_DL_PROGRESS);
	r.st.ufota_mode = 1;
	assert_int_equal(fwu_ufota_sync_event(&r.st, "02.06,A00.01", 1000, 1000, &e), FUOTA_OK);
	assert_int_equal(step(&r, e), FUOTA_OK);
	assert_int_equal(r.st.state, FWU_S_DOWNLOADED);
	/* installed meanwhile: the restore, with the new version */
	assert_int_equal(fwu_ufota_sync_event(&r.st, "02.07,A00.01", 0, 0, &e), FUOTA_OK);
	assert_int_equal(step(&r, e), FUOTA_OK);
	assert_int_equal(r.st.state, FWU_S_RESTORING);
	assert_string_equal(r.st.ver_after, "02.07,A00.01");
	assert_true(r.acts & FWU_A_RESTORE);
	assert_int_equal(fwu_ufota_sync_event(&r.st, "02.08,A00.01", 0, 0, &e), 1);
	r.st.method = FWU_M_HTTP;
	r.st.state = FWU_S_DOWNLOADING;
	assert_int_equal(fwu_ufota_sync_event(&r.st, "02.08,A00.01", 10, 5, &e), 1);
}

static void test_rot(void **state)
{
	struct run r = {0};

	(void)state;
	start(&r, FWU_M_ROT, NULL);
	assert_int_equal(r.st.state, FWU_S_INSTALLING);
	assert_int_equal(step(&r, (struct fwu_event){.kind = FWU_EV_INSTALL, .code = 128}),
	                 FUOTA_OK);
	assert_int_equal(r.st.state, FWU_S_DONE);
	start(&r, FWU_M_ROT, NULL);
	ev(&r, FWU_EV_RESTART);
	assert_int_equal(r.st.state, FWU_S_FAILED);
	assert_true(r.acts & FWU_A_ROT_CHECK);
}

/* One state, method, event and code: a refusal changes nothing; no install command and no
 * transfer start over an install; the package goes again from an install state only for FOAT,
 * after an install error or silence past the deadline (§4.1.1), and only if the module asks for
 * it with 'C' / NAK. */
static void check_step(int s, int m, int k, int code)
{
	struct fwu_status cur = {
	        .state = (enum fwu_state)s, .method = (enum fwu_method)m, .sends = 1};
	struct fwu_event e = {.kind = (enum fwu_ev_kind)k,
	                      .method = (enum fwu_method)m,
	                      .code = code,
	                      .pct = code > 100 ? 100 : code,
	                      .fail = FWU_F_DOWNLOAD,
	                      .version = "02.07"};
	bool inst = !fwu_reset_allowed(cur.state) && cur.state != FWU_S_UPDATE_MODE;
	struct fwu_status next;
	unsigned a;
	int err = fwu_step(&cur, &e, &next, &a, NULL, 0);

	if (err != FUOTA_OK) {
		assert_int_equal(err, FUOTA_ERR_STATE);
		assert_int_equal(a, 0);
		return;
	}
	if (inst && k == FWU_EV_START)
		fail_msg("START accepted in %s", fwu_state_name(cur.state));
	if (inst)
		assert_false(a & FWU_A_INSTALL);
	if (inst && (a & FWU_A_SEND_PACKAGE))
		assert_true(m == FWU_M_FOAT &&
		            ((s == FWU_S_INSTALLING && k == FWU_EV_INSTALL && code > 128) ||
		             (k == FWU_EV_TIMEOUT && s != FWU_S_REBOOTING)));
	assert_true(next.pct >= 0 && next.pct <= 100);
}

/* Every state × every event × every method: the invariants hold. */
static void test_invariants(void **state)
{
	static const int codes[] = {0, 50, 100, 128, 129, 247};
	int s, k, m, c;

	(void)state;
	for (s = 0; s < FWU_S_COUNT; s++)
		for (m = 0; m <= FWU_M_ROT; m++)
			for (k = 0; k <= FWU_EV_CANCEL; k++)
				for (c = 0; c < 6; c++)
					check_step(s, m, k, codes[c]);
}

static void test_cmd_check(void **state)
{
	struct fwu_status st = {.state = FWU_S_DOWNLOADING, .method = FWU_M_UFOTA};
	char why[160];

	(void)state;
	/* Table 17 row 1: LwM2M client FOTA download */
	assert_int_equal(fwu_cmd_check(&st, "AT+UFTPC=100,\"/fw/delta\"", why, sizeof(why)),
	                 FUOTA_ERR_STATE);
	assert_non_null(strstr(why, "Appendix B"));
	assert_int_equal(fwu_cmd_check(&st, "AT+UDWNFILE=\"delta\",123456,\"FOAT\"", why, 160),
	                 FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+USODL=0", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFTPC=6,\"a\"", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFTPC=7,\"a\"", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFTPC=1", why, 160), FUOTA_OK);
	assert_int_equal(fwu_cmd_check(&st, "AT+UDWNFILE=\"user.txt\",3", why, 160), FUOTA_OK);
	assert_int_equal(fwu_cmd_check(&st, "AT+USOCL=0", why, 160), FUOTA_OK);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFOTA=1", why, 160), FUOTA_OK);
	/* §3.2.2: a reset during a uFOTA download is allowed, after AT+COPS=2 */
	assert_int_equal(fwu_cmd_check(&st, "AT+CFUN=16", why, 160), FUOTA_OK);
	assert_true(fwu_cmd_needs_dereg(&st, "AT+CFUN=16"));
	assert_true(fwu_cmd_needs_dereg(&st, "AT+CFUN=15"));
	assert_false(fwu_cmd_needs_dereg(&st, "AT+CFUN=1"));
	assert_false(fwu_cmd_needs_dereg(&st, "AT+COPS=2"));
	st.state = FWU_S_PAUSED;
	assert_true(fwu_cmd_needs_dereg(&st, "AT+CFUN=16"));
	st.state = FWU_S_DOWNLOADED;
	assert_false(fwu_cmd_needs_dereg(&st, "AT+CFUN=16"));
	st.state = FWU_S_DOWNLOADING;
	/* row 2: AT+UFTPC=100 */
	st.method = FWU_M_FTP;
	assert_int_equal(fwu_cmd_check(&st, "AT+USODL=1", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFOTAACK=30", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFOTAACK=0", why, 160), FUOTA_OK);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFTPC=100,\"/b\"", why, 160), FUOTA_OK);
	/* rows 3 and 4: +UFWUPD / +UDWNFILE "FOAT" */
	st.method = FWU_M_UART;
	assert_int_equal(fwu_cmd_check(&st, "AT+UFTPC=100,\"/b\"", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFOTA=2", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UHTTPC=0,100,\"/fw\"", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UHTTPC=0,1,\"/x\",\"f\"", why, 160), FUOTA_OK);
	st.state = FWU_S_UPDATE_MODE;
	st.method = FWU_M_FOAT;
	assert_int_equal(fwu_cmd_check(&st, "AT+USODL=0", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+CFUN=16", why, 160), FUOTA_ERR_STATE);
	/* an install: no reset and no second transfer */
	st.state = FWU_S_INSTALLING;
	st.method = FWU_M_HTTP;
	assert_int_equal(fwu_cmd_check(&st, "AT+CFUN=16", why, 160), FUOTA_ERR_STATE);
	assert_non_null(strstr(why, "during an install"));
	assert_false(fwu_cmd_needs_dereg(&st, "AT+CFUN=16"));
	assert_int_equal(fwu_cmd_check(&st, "AT+CFUN=15", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+CPWROFF", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFWINSTALL=1,115200", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFWUPD=1,460800", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+UHTTPC=1,100,\"/fw\"", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT+USECFW=1", why, 160), FUOTA_ERR_STATE);
	assert_int_equal(fwu_cmd_check(&st, "AT", why, 160), FUOTA_OK);
	assert_int_equal(fwu_cmd_check(&st, "ATI9", why, 160), FUOTA_OK);
	assert_int_equal(fwu_cmd_check(&st, "AT+CFUN=1", why, 160), FUOTA_OK);
	/* idle: anything goes */
	st.state = FWU_S_IDLE;
	assert_int_equal(fwu_cmd_check(&st, "AT+CFUN=16", why, 160), FUOTA_OK);
	assert_int_equal(fwu_cmd_check(&st, "AT+UFWINSTALL=1,115200", why, 160), FUOTA_OK);
	/* the URC enable is no install */
	st.state = FWU_S_INSTALLING;
	assert_int_equal(fwu_cmd_check(&st, "AT+UFWINSTALL=,,,1", why, 160), FUOTA_OK);
}

static void test_restore_plan(void **state)
{
	struct fwu_desired d;
	char cmds[12][160];
	bool mno;
	size_t n;

	(void)state;
	fwu_desired_init(&d);
	assert_int_equal(fwu_restore_plan(&d, 90, &mno, cmds, 12, &n), FUOTA_OK);
	assert_int_equal(n, 0);
	assert_false(mno);
	d.mno = 100;
	d.apn[0].cid = 1;
	strcpy(d.apn[0].pdp_type, "IP");
	strcpy(d.apn[0].apn, "iot.example");
	d.apn[2].cid = 3;
	strcpy(d.apn[2].pdp_type, "NONIP");
	strcpy(d.apn[2].apn, "nidd.example");
	d.psm = 1;
	strcpy(d.psm_tau, "00000110");
	strcpy(d.psm_active, "00000011");
	d.edrx = 1;
	d.edrx_act = 4;
	strcpy(d.edrx_value, "0101");
	d.urcs = true;
	d.urcs_install = true;
	assert_int_equal(fwu_restore_plan(&d, 90, &mno, cmds, 12, &n), FUOTA_OK);
	assert_true(mno); /* global after FOAT / +UFWINSTALL: the extra reboot */
	assert_int_equal(n, 7);
	assert_string_equal(cmds[0], "AT+CGDCONT=1,\"IP\",\"iot.example\"");
	assert_string_equal(cmds[1], "AT+CGDCONT=3,\"NONIP\",\"nidd.example\"");
	assert_string_equal(cmds[2], "AT+CPSMS=1,,,\"00000110\",\"00000011\"");
	assert_string_equal(cmds[3], "AT+CEDRXS=1,4,\"0101\"");
	assert_string_equal(cmds[4], "AT+ULWM2MSTAT=1");
	assert_string_equal(cmds[5], "AT+UFOTASTAT=1");
	assert_string_equal(cmds[6], "AT+UFWINSTALL=,,,1");
	assert_int_equal(fwu_restore_plan(&d, 100, &mno, cmds, 12, &n), FUOTA_OK);
	assert_false(mno); /* uFOTA keeps the profile */
	assert_int_equal(fwu_restore_plan(&d, 90, &mno, cmds, 3, &n), FUOTA_ERR_NO_SPACE);
	strcpy(d.apn[0].apn, "bad\"apn");
	assert_int_equal(fwu_restore_plan(&d, 90, &mno, cmds, 12, &n), FUOTA_ERR_INVALID_ARG);
	strcpy(d.apn[0].apn, "ok");
	strcpy(d.psm_tau, "0000011");
	assert_int_equal(fwu_restore_plan(&d, 90, &mno, cmds, 12, &n), FUOTA_ERR_INVALID_ARG);
}

static void sample(struct fwu_status *st, struct fwu_desired *d)
{
	memset(st, 0, sizeof(*st));
	st->state = FWU_S_INSTALLING;
	st->method = FWU_M_FOAT;
	st->pct = 92;
	st->result = 0;
	st->fail = FWU_F_DOWNLOAD;
	st->fail_code = -3;
	st->ufota_mode = 2;
	st->sends = 2;
	st->foat_baud = 921600;
	st->seq = 4000000000u;
	strcpy(st->ver_before, "02.06,A00.01");
	fwu_desired_init(d);
	d->mno = 100;
	d->apn[1].cid = 2;
	strcpy(d->apn[1].pdp_type, "IPV4V6");
	strcpy(d->apn[1].apn, "a,b.example");
	d->psm = 0;
	d->edrx = 1;
	strcpy(d->edrx_value, "0010");
	d->urcs = true;
}

static void test_file_codec(void **state)
{
	struct fwu_status st, back_st;
	struct fwu_desired d, back_d;
	char buf[2048], bad[2048];
	size_t len, cut, i;

	(void)state;
	sample(&st, &d);
	assert_int_equal(fwu_file_encode(&st, &d, buf, sizeof(buf), &len), FUOTA_OK);
	assert_int_equal(fwu_file_decode(buf, len, &back_st, &back_d), FUOTA_OK);
	assert_int_equal(back_st.state, st.state);
	assert_int_equal(back_st.method, st.method);
	assert_int_equal(back_st.pct, 92);
	assert_int_equal(back_st.fail_code, -3);
	assert_int_equal(back_st.seq, 4000000000u);
	assert_int_equal(back_st.foat_baud, 921600);
	assert_string_equal(back_st.ver_before, "02.06,A00.01");
	assert_int_equal(back_d.mno, 100);
	assert_int_equal(back_d.apn[1].cid, 2);
	assert_string_equal(back_d.apn[1].pdp_type, "IPV4V6");
	assert_string_equal(back_d.apn[1].apn, "a,b.example");
	assert_string_equal(back_d.edrx_value, "0010");
	assert_true(back_d.urcs);
	assert_false(back_d.urcs_install);
	/* a file cut at every length is refused, never half-read */
	for (cut = 0; cut < len; cut++) {
		memset(&back_st, 0x5a, sizeof(back_st));
		assert_int_equal(fwu_file_decode(buf, cut, &back_st, &back_d), FUOTA_ERR_MALFORMED);
		assert_int_equal(back_st.pct, 0x5a5a5a5a); /* untouched */
	}
	/* every single-byte change is refused */
	for (i = 0; i < len; i++) {
		memcpy(bad, buf, len);
		bad[i] ^= 0x01;
		assert_int_equal(fwu_file_decode(bad, len, &back_st, &back_d), FUOTA_ERR_MALFORMED);
	}
	memcpy(bad, buf, len);
	bad[len] = '\n';
	assert_int_equal(fwu_file_decode(bad, len + 1, &back_st, &back_d), FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_file_encode(&st, &d, buf, 100, &len), FUOTA_ERR_NO_SPACE);
	/* the package's MD5 goes through; a file without it (older) reads it unknown */
	assert_int_equal(fwu_file_encode(&st, &d, buf, sizeof(buf), &len), FUOTA_OK);
	assert_null(strstr(buf, "pkg_md5="));
	assert_int_equal(fwu_file_decode(buf, len, &back_st, &back_d), FUOTA_OK);
	assert_string_equal(back_st.pkg_md5, "");
	strcpy(st.pkg_md5, "0123456789abcdef0123456789ABCDEF");
	assert_int_equal(fwu_file_encode(&st, &d, buf, sizeof(buf), &len), FUOTA_OK);
	assert_non_null(strstr(buf, "pkg_md5=0123456789abcdef0123456789ABCDEF\n"));
	assert_int_equal(fwu_file_decode(buf, len, &back_st, &back_d), FUOTA_OK);
	assert_string_equal(back_st.pkg_md5, st.pkg_md5);
	strcpy(st.pkg_md5, "not-an-md5");
	assert_int_equal(fwu_file_encode(&st, &d, buf, sizeof(buf), &len), FUOTA_ERR_INVALID_ARG);
	st.pkg_md5[0] = 0;
	strcpy(st.ver_after, "a\nb");
	assert_int_equal(fwu_file_encode(&st, &d, buf, sizeof(buf), &len), FUOTA_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_http_ftp_uart),
	        cmocka_unit_test(test_update_under_way),
	        cmocka_unit_test(test_update_done),
	        cmocka_unit_test(test_foat_done_clears_failure),
	        cmocka_unit_test(test_http_md5_mismatch_and_restart),
	        cmocka_unit_test(test_foat),
	        cmocka_unit_test(test_foat_window_and_errors),
	        cmocka_unit_test(test_validation_failure),
	        cmocka_unit_test(test_ufota_default),
	        cmocka_unit_test(test_ufota_modes),
	        cmocka_unit_test(test_ufota_sync),
	        cmocka_unit_test(test_rot),
	        cmocka_unit_test(test_invariants),
	        cmocka_unit_test(test_cmd_check),
	        cmocka_unit_test(test_restore_plan),
	        cmocka_unit_test(test_file_codec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
