/* fuota-gw's saved modem-update state and the start-up decision (gw_mu_saved.h): each state an
 * update can be in when fuota-gw is killed, against what it must be after the restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/gw_mu_saved.h"

#define NOW INT64_C(1765000000)

static struct gw_mu_cmd uart_cmd(int64_t id)
{
	struct gw_mu_cmd c = {.id = id, .action = GW_MU_START, .method = FWU_M_UART};

	snprintf(c.package, sizeof(c.package), "/var/lib/fw/delta.upd");
	return c;
}

static struct gw_mu_saved round_trip(const struct gw_mu_saved *in)
{
	struct gw_mu_saved out;
	char *js = NULL, err[160];
	size_t len;

	assert_int_equal(gw_mu_saved_to_json(in, &js, &len), FUOTA_OK);
	assert_int_equal(gw_mu_saved_parse(js, len, &out, err, sizeof(err)), FUOTA_OK);
	free(js);
	return out;
}

static void test_codec(void **state)
{
	struct gw_mu_saved s = {.last_id = 9, .waiting = true, .paused = true, .cmd = uart_cmd(7)},
	                   b;

	(void)state;
	b = round_trip(&s);
	assert_true(b.last_id == 9 && b.waiting && b.paused && b.cmd.id == 7);
	assert_int_equal(b.cmd.method, FWU_M_UART);
	assert_string_equal(b.cmd.package, "/var/lib/fw/delta.upd");
	assert_int_equal(b.cur_method, FWU_M_NONE);
	s = (struct gw_mu_saved){
	        .last_id = 12,
	        .cur_id = 11,
	        .cur_method = FWU_M_HTTP,
	        .cur_seq = 4000000000u,
	        .have_cur_cmd = true,
	        .cur_cmd = {.id = 11, .action = GW_MU_START, .method = FWU_M_HTTP}};
	snprintf(s.cur_cmd.url, sizeof(s.cur_cmd.url), "http://fw.example:8080/d.upd");
	snprintf(s.cur_cmd.md5, sizeof(s.cur_cmd.md5), "884a2d96fddaf1d957c604805b75b9f2");
	b = round_trip(&s);
	assert_true(b.cur_id == 11 && b.cur_seq == 4000000000u && b.have_cur_cmd);
	assert_string_equal(b.cur_cmd.url, "http://fw.example:8080/d.upd");
	assert_string_equal(b.cur_cmd.md5, "884a2d96fddaf1d957c604805b75b9f2");
	s = (struct gw_mu_saved){.last_id = 5,
	                         .cur_id = 5,
	                         .cur_method = FWU_M_UFOTA,
	                         .acked = true,
	                         .deferred_until = NOW + 60};
	b = round_trip(&s);
	assert_true(b.acked && b.deferred_until == NOW + 60 && !b.have_cur_cmd);
}

/* What a file cut short or damaged gives: MALFORMED, a message, a zeroed struct. */
static void test_bad(void **state)
{
	static const char *const bad[] = {
	        "",
	        "{",
	        "{\"v\":1,\"lastId\":9",
	        "[]",
	        "{\"lastId\":9}",
	        "{\"v\":2,\"lastId\":9}",
	        "{\"v\":1}",
	        "{\"v\":1,\"lastId\":-1}",
	        "{\"v\":1,\"lastId\":\"9\"}",
	        "{\"v\":1,\"lastId\":9,\"lastId\":10}",
	        "{\"v\":1,\"lastId\":9,\"waiting\":true}",
	        "{\"v\":1,\"lastId\":9,\"waiting\":{\"paused\":1,\"command\":{\"id\":7,\"action\":"
	        "\"start\",\"method\":\"uart\",\"package\":\"/p\"}}}",
	        "{\"v\":1,\"lastId\":9,\"waiting\":{\"paused\":true}}",
	        "{\"v\":1,\"lastId\":9,\"waiting\":{\"command\":{\"id\":7,\"action\":\"pause\"}}}",
	        "{\"v\":1,\"lastId\":9,\"waiting\":{\"command\":{\"id\":7,\"action\":\"start\","
	        "\"method\":\"ufota\"}}}",
	        "{\"v\":1,\"lastId\":9,\"waiting\":{\"command\":{\"id\":7,\"action\":\"start\","
	        "\"method\":\"uart\",\"package\":\"rel\"}}}",
	        "{\"v\":1,\"lastId\":9,\"current\":{\"id\":7,\"method\":\"rot\",\"seq\":1}}",
	        "{\"v\":1,\"lastId\":9,\"current\":{\"id\":7,\"method\":\"none\",\"seq\":1}}",
	        "{\"v\":1,\"lastId\":9,\"current\":{\"id\":7,\"method\":\"uart\"}}",
	        "{\"v\":1,\"lastId\":9,\"current\":{\"id\":7,\"method\":\"uart\",\"seq\":"
	        "4294967296}}",
	        "{\"v\":1,\"lastId\":9,\"current\":{\"id\":-7,\"method\":\"uart\",\"seq\":1}}",
	        "{\"v\":1,\"lastId\":9,\"current\":{\"id\":7,\"method\":\"ufota\",\"seq\":1,"
	        "\"deferredUntil\":-5}}",
	        "{\"v\":1,\"lastId\":9,\"current\":{\"id\":7,\"method\":\"uart\",\"seq\":1,"
	        "\"command\":{\"id\":8,\"action\":\"start\",\"method\":\"uart\",\"package\":\"/"
	        "p\"}}}",
	        "{\"v\":1,\"lastId\":9,\"current\":{\"id\":7,\"method\":\"uart\",\"seq\":1,"
	        "\"command\":{\"id\":7,\"action\":\"start\",\"method\":\"foat\",\"package\":\"/"
	        "p\"}}}",
	};
	struct gw_mu_saved s, zero;
	char err[160];

	(void)state;
	memset(&zero, 0, sizeof(zero));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&s, 0x5a, sizeof(s));
		err[0] = 0;
		if (gw_mu_saved_parse(bad[i], strlen(bad[i]), &s, err, sizeof(err)) !=
		    FUOTA_ERR_MALFORMED)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != 0);
		assert_memory_equal(&s, &zero, sizeof(s));
	}
}

/* Every prefix of a good file is refused (a file cut at any length is never half-read). */
static void test_truncated(void **state)
{
	struct gw_mu_saved s = {.last_id = 9, .waiting = true, .paused = true, .cmd = uart_cmd(7)},
	                   b;
	char *js = NULL, err[160];
	size_t len;

	(void)state;
	assert_int_equal(gw_mu_saved_to_json(&s, &js, &len), FUOTA_OK);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(gw_mu_saved_parse(js, n, &b, err, sizeof(err)),
		                 FUOTA_ERR_MALFORMED);
	free(js);
}

static struct fwu_status status(enum fwu_state state, enum fwu_method m, uint32_t seq)
{
	return (struct fwu_status){.state = state, .method = m, .seq = seq};
}

/* Waiting, deferred, paused: a paused start stays paused (the bug: it started). */
static void test_boot_waiting(void **state)
{
	struct gw_mu_saved s = {.last_id = 8, .waiting = true, .paused = true, .cmd = uart_cmd(7)};
	struct fwu_status st = status(FWU_S_DONE, FWU_M_HTTP, 40);
	struct gw_mu_boot b;

	(void)state;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_int_equal(b.job, GW_MU_BOOT_NONE);
	assert_true(b.waiting && b.paused && b.cmd.id == 7 && b.event);
	assert_string_equal(b.state, "paused");
	assert_false(b.report_final);
	s.paused = false;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.waiting && !b.paused && !b.event);
	assert_string_equal(b.state, "deferred");
	/* cancelled (nothing saved but the id): nothing */
	s = (struct gw_mu_saved){.last_id = 9};
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(!b.waiting && !b.state[0] && b.job == GW_MU_BOOT_NONE);
	assert_int_equal(b.cur_method, FWU_M_NONE);
}

/* Killed after "starting", before the worker's first step: it waits again. */
static void test_boot_not_begun(void **state)
{
	struct gw_mu_saved s = {.last_id = 7,
	                        .cur_id = 7,
	                        .cur_method = FWU_M_UART,
	                        .cur_seq = 40,
	                        .have_cur_cmd = true,
	                        .cur_cmd = uart_cmd(7)};
	struct fwu_status st = status(FWU_S_DONE, FWU_M_UART, 40);
	struct gw_mu_boot b;

	(void)state;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.waiting && !b.paused && b.cmd.id == 7 && !b.report_final);
	assert_int_equal(b.job, GW_MU_BOOT_NONE);
	/* the manager moved: it ran and ended while fuota-gw was away: said under its id */
	st.seq = 44;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.report_final && !b.waiting && b.cur_id == 7 && b.event);
	assert_string_equal(b.state, "done");
	assert_int_equal(b.cur_method, FWU_M_NONE);
	st.state = FWU_S_FAILED;
	st.fail = FWU_F_CANCELLED;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_string_equal(b.state, "cancelled");
	st.fail = FWU_F_MD5;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_string_equal(b.state, "failed");
}

/* Downloading and installing: the manager goes on under the saved id. */
static void test_boot_under_way(void **state)
{
	struct gw_mu_saved s = {.last_id = 11,
	                        .cur_id = 11,
	                        .cur_method = FWU_M_FOAT,
	                        .cur_seq = 3,
	                        .have_cur_cmd = true,
	                        .cur_cmd = uart_cmd(11)};
	struct fwu_status st = status(FWU_S_INSTALLING, FWU_M_FOAT, 9);
	struct gw_mu_boot b;

	(void)state;
	s.cur_cmd.method = FWU_M_FOAT;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_int_equal(b.job, GW_MU_BOOT_RESUME); /* an install is never sent again */
	assert_true(b.cur_id == 11 && b.cur_method == FWU_M_FOAT);
	st.state = FWU_S_UPDATE_MODE; /* the module waits for the package: it goes again */
	gw_mu_boot(&s, &st, NOW, &b);
	assert_int_equal(b.job, GW_MU_BOOT_TRANSFER);
	s.have_cur_cmd = false;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_int_equal(b.job, GW_MU_BOOT_RESUME);
	assert_false(b.redo);
	/* another method's update under way than the one saved: not ours, not redone */
	st = status(FWU_S_DOWNLOADING, FWU_M_HTTP, 9);
	s.have_cur_cmd = true;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_int_equal(b.job, GW_MU_BOOT_RESUME);
	assert_true(b.cur_id == 0 && b.cur_method == FWU_M_HTTP && !b.redo);
	/* a uart download of ours: the manager's resume, then the download afresh */
	s.cur_method = FWU_M_UART;
	s.cur_cmd = uart_cmd(11);
	st = status(FWU_S_DOWNLOADING, FWU_M_UART, 9);
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.job == GW_MU_BOOT_RESUME && b.redo && b.cur_id == 11);
	st.state = FWU_S_INSTALLING; /* never once the install was commanded */
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.job == GW_MU_BOOT_RESUME && !b.redo);
	/* nothing saved (a corrupt file): an install is still waited for */
	memset(&s, 0, sizeof(s));
	st = status(FWU_S_VALIDATING, FWU_M_UART, 9);
	gw_mu_boot(&s, &st, NOW, &b);
	assert_int_equal(b.job, GW_MU_BOOT_RESUME);
}

/* uFOTA: a start the server has not asked for, an acked request, a download, a pause. */
static void test_boot_ufota(void **state)
{
	struct gw_mu_saved s = {.last_id = 5, .cur_id = 5, .cur_method = FWU_M_UFOTA, .cur_seq = 3};
	struct fwu_status st = status(FWU_S_IDLE, FWU_M_NONE, 3);
	struct gw_mu_boot b;

	(void)state;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.cur_id == 5 && b.cur_method == FWU_M_UFOTA && !b.acked && !b.event);
	assert_string_equal(b.state, "starting");
	/* the request came while fuota-gw was away: acked later under id 5 */
	st = status(FWU_S_ACK_PENDING, FWU_M_UFOTA, 4);
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.cur_id == 5 && !b.acked);
	/* acked with a delay: not acked again (the module refuses a second +UFOTAACK) */
	s.acked = true;
	s.deferred_until = NOW + 30;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.cur_id == 5 && b.acked && b.deferred_until == NOW + 30);
	assert_string_equal(b.state, "deferred");
	gw_mu_boot(&s, &st, NOW + 31, &b);
	assert_string_equal(b.state, "starting");
	st = status(FWU_S_DOWNLOADING, FWU_M_UFOTA, 6);
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.cur_id == 5 && b.job == GW_MU_BOOT_NONE);
	assert_string_equal(b.state, "downloading");
	st.state = FWU_S_PAUSED;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.cur_id == 5 && b.event && !b.acked && b.deferred_until == 0);
	assert_string_equal(b.state, "paused");
	/* fuotad's resume held past a window stays held */
	s.acked = false;
	s.deferred_until = NOW + 90;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.cur_id == 5 && !b.acked && b.deferred_until == NOW + 90);
	assert_string_equal(b.state, "deferred");
	s.acked = true;
	st.state = FWU_S_DONE;
	gw_mu_boot(&s, &st, NOW, &b);
	assert_true(b.report_final && b.cur_id == 5);
	/* an old update's DONE while the start waits for its request: not reported as this one */
	st = status(FWU_S_DONE, FWU_M_UFOTA, 3);
	gw_mu_boot(&s, &st, NOW, &b);
	assert_false(b.report_final);
	assert_true(b.cur_id == 5);
	assert_string_equal(b.state, "starting");
}

/* Commands judged with modem-update.gw lost: a retained start whose update the manager's own
 * record shows done (same method, same package, the module on its version) is not run again;
 * every other command is taken. */
static void test_lost(void **state)
{
	static const char md5[] = "98987256f2ef0b30cfc3915326860863";
	struct fwu_status st = {.state = FWU_S_DONE, .method = FWU_M_HTTP};
	struct gw_mu_cmd c = {.id = 3, .action = GW_MU_START, .method = FWU_M_HTTP};
	struct gw_mu_cmd u = uart_cmd(3);

	(void)state;
	snprintf(c.url, sizeof(c.url), "http://fw.example/delta.upd");
	snprintf(c.md5, sizeof(c.md5), "%s", md5);
	snprintf(st.pkg_md5, sizeof(st.pkg_md5), "%s", md5);
	snprintf(st.ver_before, sizeof(st.ver_before), "03.15,A00.01");
	snprintf(st.ver_after, sizeof(st.ver_after), "03.16,A00.02");
	assert_int_equal(gw_mu_lost_judge(&c, &st, "03.16,A00.02"), GW_MU_LOST_DONE);
	/* the module not on the version it ended on (reflashed, or another update since) */
	assert_int_equal(gw_mu_lost_judge(&c, &st, "03.15,A00.01"), GW_MU_LOST_TAKE);
	assert_int_equal(gw_mu_lost_judge(&c, &st, NULL), GW_MU_LOST_TAKE);
	/* another package, another method: a new update */
	c.md5[0] = '0';
	assert_int_equal(gw_mu_lost_judge(&c, &st, "03.16,A00.02"), GW_MU_LOST_TAKE);
	snprintf(c.md5, sizeof(c.md5), "%s", md5);
	c.method = FWU_M_FTP;
	assert_int_equal(gw_mu_lost_judge(&c, &st, "03.16,A00.02"), GW_MU_LOST_TAKE);
	c.method = FWU_M_HTTP;
	/* the record's update did not end done: it waited, failed or runs */
	st.state = FWU_S_FAILED;
	assert_int_equal(gw_mu_lost_judge(&c, &st, "03.16,A00.02"), GW_MU_LOST_TAKE);
	st.state = FWU_S_IDLE;
	assert_int_equal(gw_mu_lost_judge(&c, &st, "03.16,A00.02"), GW_MU_LOST_TAKE);
	/* no md5 in the start: nothing says it is the same package */
	st.state = FWU_S_DONE;
	st.method = FWU_M_UART;
	assert_int_equal(gw_mu_lost_judge(&u, &st, "03.16,A00.02"), GW_MU_LOST_TAKE);
	snprintf(u.md5, sizeof(u.md5), "%s", md5);
	assert_int_equal(gw_mu_lost_judge(&u, &st, "03.16,A00.02"), GW_MU_LOST_DONE);
	/* controls are judged as always */
	u.action = GW_MU_CANCEL;
	assert_int_equal(gw_mu_lost_judge(&u, &st, "03.16,A00.02"), GW_MU_LOST_TAKE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_codec),          cmocka_unit_test(test_bad),
	        cmocka_unit_test(test_truncated),      cmocka_unit_test(test_boot_waiting),
	        cmocka_unit_test(test_boot_not_begun), cmocka_unit_test(test_boot_under_way),
	        cmocka_unit_test(test_boot_ufota),     cmocka_unit_test(test_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
