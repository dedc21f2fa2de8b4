/* fuota-gw's modem updates end to end, time-scaled: fuotad's commands published to a real
 * mosquitto, fuota-gw driving fuota-modem-sim's firmware update, fuota-sim's gateway uplinking
 * through it all along. One ctest per case, e2e.gw-update-<case>:
 *   deferred  a uart update asked while a session window is near: deferred past the window and
 *             its guard (event "deferred" with deferredUntil), then run; the backhaul drops for
 *             the install; every uplink fuota-gw acked arrives afterwards, in order; the settings
 *             the update erased (the APN) are back; the new firmware shows in state/modem and
 *             the update flag came and went; the retained command is not run twice
 *   control   an update deferred behind a long window still waits after fuota-gw is killed
 *             and restarted; then cancelled; a malformed command and an old id are ignored, a
 *             pause with nothing to pause is rejected, and the update flag goes away
 *   http      an http update with no window near starts at once: downloaded by the module into
 *             its FOAT area (MD5 checked), installed; fuota-gw's own HTTP credentials are used
 *             and the password appears in no log
 *   restart   fuota-gw killed with SIGKILL while the module installs: restarted, it neither boots
 *             nor resets the module, follows the install to its end, reports it done under
 *             the command's id and brings the backhaul back
 *   ufota     a u-blox server's uFOTA request during a session window (wait-for-ack mode):
 *             acked with +UFOTAACK delayed past the window and its guard, so the download (and
 *             the backhaul's drop) starts only after it, and the update completes */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chirpstack/gw.pb-c.h"
#include "gw_rig.h"

#define NEW_FW "03.16,A00.02"
#define GUARD  2

struct obs {
	unsigned ups, dups, out_of_order;
	int last_fcnt[16];
	uint8_t seen[16][1024];
	unsigned offline, online;
	time_t first_offline; /* wall clock, 0 none */
	char states[32][16];  /* event states in arrival order */
	int64_t ids[32];
	size_t n_events;
	int64_t deferred_until;
	char fw_before[48], fw_after[48];
	bool flag_seen;     /* state/modem carried "update" */
	char modem_fw[24];  /* the last state/modem's firmware */
	bool modem_flagged; /* the last state/modem carried "update" */
};

static struct gw_rig rig;
static struct obs obs;

static void on_up(struct obs *o, const struct mqtt_msg *m)
{
	Gw__UplinkFrame *f = gw__uplink_frame__unpack(NULL, m->len, m->payload);
	unsigned dev, fcnt;

	assert_non_null(f);
	if (f->phy_payload.len >= 8) {
		dev = f->phy_payload.data[1];
		fcnt = (unsigned)f->phy_payload.data[6] | (unsigned)f->phy_payload.data[7] << 8;
		if (dev < 16 && fcnt < 1024) {
			if (o->seen[dev][fcnt]++)
				o->dups++;
			else
				o->ups++;
			if ((int)fcnt < o->last_fcnt[dev])
				o->out_of_order++;
			o->last_fcnt[dev] = (int)fcnt;
		}
	}
	gw__uplink_frame__free_unpacked(f, NULL);
}

static void on_event(struct obs *o, const struct mqtt_msg *m)
{
	json_t *j = json_loadb((const char *)m->payload, m->len, 0, NULL);
	const char *st = json_string_value(json_object_get(j, "state"));

	assert_non_null(st);
	if (o->n_events < 32) {
		snprintf(o->states[o->n_events], 16, "%s", st);
		o->ids[o->n_events++] = json_integer_value(json_object_get(j, "id"));
	}
	if (!strcmp(st, "deferred") && !o->deferred_until)
		o->deferred_until = json_integer_value(json_object_get(j, "deferredUntil"));
	if (!strcmp(st, "done")) {
		snprintf(o->fw_before, sizeof(o->fw_before), "%s",
		         json_string_value(json_object_get(j, "firmwareBefore")));
		snprintf(o->fw_after, sizeof(o->fw_after), "%s",
		         json_string_value(json_object_get(j, "firmware")));
	}
	json_decref(j);
}

static void on_modem(struct obs *o, const struct mqtt_msg *m)
{
	json_t *j = json_loadb((const char *)m->payload, m->len, 0, NULL);
	const char *fw = json_string_value(json_object_get(j, "firmware"));

	assert_non_null(j);
	o->modem_flagged = json_object_get(j, "update") != NULL;
	o->flag_seen |= o->modem_flagged;
	snprintf(o->modem_fw, sizeof(o->modem_fw), "%s", fw ? fw : "");
	json_decref(j);
}

static void take(struct obs *o, const struct mqtt_msg *m)
{
	const char *kind = m->topic + strlen(RIG_PREFIX "/gateway/" RIG_GW_ID "/");

	if (!strcmp(kind, "event/up"))
		on_up(o, m);
	else if (!strcmp(kind, "event/modem-update"))
		on_event(o, m);
	else if (!strcmp(kind, "state/modem"))
		on_modem(o, m);
	else if (!strcmp(kind, "state/conn") && m->len > 0) {
		/* gw.ConnState: field 2 varint, 0 OFFLINE, 1 ONLINE */
		bool on = m->len >= 2 && m->payload[0] == 0x10 && m->payload[1] == 1;

		if (on)
			o->online++;
		else if (!o->offline++)
			o->first_offline = time(NULL);
	}
}

static bool watch(long ms, bool (*done)(const struct obs *o))
{
	for (long end = rig_now_ms() + ms; rig_now_ms() < end;) {
		struct mqtt_msg *m;

		if (done && done(&obs))
			return true;
		if (mqtt_queue_pop(rig.q, 100, &m) == 0) {
			take(&obs, m);
			mqtt_msg_free(m);
		}
	}
	return done ? done(&obs) : true;
}

static bool flowing(const struct obs *o)
{
	return o->ups >= 6 && o->online >= 1 && o->modem_fw[0];
}

static bool deferred(const struct obs *o)
{
	return o->deferred_until > 0;
}

static bool flagged(const struct obs *o)
{
	return o->flag_seen;
}

static bool updated(const struct obs *o)
{
	return o->fw_after[0] && !strncmp(o->modem_fw, "03.16", 5) && !o->modem_flagged;
}

static size_t count_state(const char *state)
{
	size_t n = 0;

	for (size_t i = 0; i < obs.n_events; i++)
		n += !strcmp(obs.states[i], state);
	return n;
}

static bool nvm_has(const char *line)
{
	char path[300], buf[256];
	bool found = false;
	FILE *f = fopen(simh_path(&rig.h, "nvm", path, sizeof(path)), "r");

	while (f && !found && fgets(buf, sizeof(buf), f))
		found = !strncmp(buf, line, strlen(line));
	if (f)
		fclose(f);
	return found;
}

static const char *const gw_args[] = {
        "--apn", "fuota.test",      "--install-s", "3", "--download-s",
        "2",     "--modem-poll-ms", "300",         NULL};

/* fuota-gw and fuota-sim's devices flowing, and a uart package at pkg. */
static void start_uart(const char *devices, char *pkg, size_t cap)
{
	rig_gw_start(&rig, 0, gw_args);
	rig_sim_start(&rig, "40", devices);
	assert_true(watch(40000, flowing));
	snprintf(pkg, cap, "%s/delta.upd", rig.dir);
	rig_write_package(pkg, "03.15,A00.01", NEW_FW, 4000);
}

/* command/modem-update (retained): a uart start of pkg. */
static void publish_uart(int id, const char *pkg)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
	         "{\"id\":%d,\"action\":\"start\",\"method\":\"uart\",\"package\":\"%s\"}", id,
	         pkg);
	rig_publish(&rig, "command/modem-update", cmd, true);
}

/* (a) A uart update asked while a window is near. */
static void test_deferred(void **state)
{
	char pkg[300];
	int64_t now, end;
	unsigned acked, sent;
	int status;

	(void)state;
	start_uart("3", pkg, sizeof(pkg));
	now = (int64_t)time(NULL);
	end = now + 7;
	rig_publish_window(&rig, GUARD, now + 3, end);
	publish_uart(5, pkg);
	assert_true(watch(10000, deferred));
	assert_int_equal(obs.deferred_until, end + GUARD);
	assert_true(watch(5000, flagged)); /* state/modem says an update is coming */
	assert_true(watch(60000, updated));
	print_message("backhaul dropped %lld s after the window's end\n",
	              (long long)(obs.first_offline - end));
	assert_true(obs.offline >= 1);
	assert_true(obs.first_offline >= end + GUARD - 1); /* the wall clock's second */
	assert_string_equal(obs.fw_before, "03.15,A00.01");
	assert_string_equal(obs.fw_after, NEW_FW);
	assert_int_equal(count_state("starting"), 1);
	assert_true(count_state("installing") >= 1);
	assert_int_equal(count_state("failed") + count_state("rejected"), 0);
	/* the update erased the APN (Table 16): restored, on the new version */
	assert_true(nvm_has("version " NEW_FW));
	assert_true(nvm_has("cgdcont1 IP fuota.test"));
	/* every uplink fuota-gw acked to the forwarder reaches the broker, in order */
	assert_int_equal(waitpid(rig.sim, &status, 0), rig.sim);
	rig.sim = 0;
	acked = rig_report_acked(&rig, &sent);
	for (long t = rig_now_ms() + 30000; rig_now_ms() < t && obs.ups < acked;)
		watch(500, NULL);
	print_message("uplinks sent %u, acked %u, at the broker %u (%u duplicates)\n", sent, acked,
	              obs.ups, obs.dups);
	assert_true(acked >= 20);
	assert_true(obs.ups >= acked);
	assert_int_equal(obs.out_of_order, 0);
	/* the retained command came back with the reconnection: handled already, not run again */
	assert_int_equal(count_state("starting"), 1);
}

static bool ufota_done(const struct obs *o)
{
	return o->fw_after[0] != '\0';
}

/* The number of the first line of fuota-gw's AT log holding what, after the first holding
 * after; a large number when none. */
static long at_log_line(const char *after, const char *what)
{
	char path[300], buf[512];
	long n = 0, found = 1L << 30;
	bool past = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/at.log", rig.dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f) && found == 1L << 30) {
		n++;
		if (past && strstr(buf, what))
			found = n;
		past |= strstr(buf, after) != NULL;
	}
	fclose(f);
	return found;
}

/* (b) uFOTA's request during a session window. */
static void test_ufota(void **state)
{
	static const char *const args[] = {"--apn",        "fuota.test", "--install-s",     "3",
	                                   "--download-s", "2",          "--modem-poll-ms", "300",
	                                   "--ufota-ack",  NULL};
	char pkg[300];
	int64_t now, end;

	(void)state;
	rig_write_package(simh_path(&rig.h, "www/delta.upd", pkg, sizeof(pkg)), "03.15,A00.01",
	                  NEW_FW, 60000);
	rig_gw_start(&rig, 0, args);
	rig_sim_start(&rig, "40", "2");
	assert_true(watch(40000, flowing));
	now = (int64_t)time(NULL);
	end = now + 5;
	rig_publish_window(&rig, GUARD, now - 1, end);
	watch(1500, NULL); /* fuota-gw has the windows */
	simh_ctl(&rig.h, "ufota-campaign delta.upd");
	assert_true(watch(10000, deferred));
	assert_true(obs.deferred_until >= end + GUARD);
	assert_int_equal(obs.ids[0], 0); /* a push fuotad did not start */
	assert_true(watch(60000, ufota_done));
	print_message("download (backhaul drop) %lld s after the window's end\n",
	              (long long)(obs.first_offline - end));
	assert_true(obs.offline >= 1);
	assert_true(obs.first_offline >= end + GUARD - 1);
	assert_string_equal(obs.fw_after, NEW_FW);
	assert_int_equal(count_state("failed"), 0);
	/* the backhaul's socket closed once the download began, before it completed (§3.7.3) */
	assert_true(at_log_line("+UFOTASTAT: 1,0,0", "> AT+USOCL=") <
	            at_log_line("+UFOTASTAT: 1,0,0", "+UFOTASTAT: 2,2,100"));
	/* wait-for-ack mode set again after the update erased it */
	assert_true(at_log_line("+UFOTASTAT: 2,2,100", "> AT+UFOTACONFIG=721,2,255") < 1L << 30);
}

static bool cancelled(const struct obs *o)
{
	(void)o;
	return count_state("cancelled") >= 1;
}

static bool rejected(const struct obs *o)
{
	(void)o;
	return count_state("rejected") >= 1;
}

static bool deferred_twice(const struct obs *o)
{
	(void)o;
	return count_state("deferred") >= 2;
}

static bool unflagged(const struct obs *o)
{
	return !o->modem_flagged;
}

/* Commands around an update that waits, across a restart of fuota-gw. */
static void test_control(void **state)
{
	char pkg[300];
	int64_t now;

	(void)state;
	start_uart("2", pkg, sizeof(pkg));
	now = (int64_t)time(NULL);
	rig_publish_window(&rig, GUARD, now + 2, now + 3600);
	publish_uart(7, pkg);
	assert_true(watch(10000, deferred));
	assert_int_equal(obs.deferred_until, now + 3600 + GUARD);
	assert_true(watch(5000, flagged));
	/* killed and restarted: the update still waits (its id was handled, the command kept) */
	rig_gw_restart(&rig, gw_args);
	assert_true(watch(30000, deferred_twice));
	assert_int_equal(obs.ids[obs.n_events - 1], 7);
	rig_publish(&rig, "command/modem-update", "{\"id\":8,\"action\":\"start\"", false);
	rig_publish(&rig, "command/modem-update", "{\"id\":6,\"action\":\"cancel\"}", false);
	rig_publish(&rig, "command/modem-update", "{\"id\":9,\"action\":\"cancel\"}", true);
	assert_true(watch(10000, cancelled));
	assert_int_equal(obs.ids[obs.n_events - 1], 7);
	assert_true(watch(5000, unflagged));
	rig_publish(&rig, "command/modem-update", "{\"id\":10,\"action\":\"pause\"}", true);
	assert_true(watch(10000, rejected));
	assert_int_equal(obs.ids[obs.n_events - 1], 10);
	watch(2000, NULL);
	/* nothing started, nothing more said: the malformed and the old command were ignored */
	assert_int_equal(count_state("starting"), 0);
	assert_int_equal(obs.n_events, 4);
	assert_false(obs.modem_flagged);
}

static bool started(const struct obs *o)
{
	(void)o;
	return count_state("starting") >= 1;
}

/* A uFOTA start whose server has not asked yet, cancelled: it ends under its own id. */
static void test_ufota_cancel(void **state)
{
	static const char *const args[] = {"--apn",           "fuota.test", "--install-s", "3",
	                                   "--modem-poll-ms", "300",        "--ufota-ack", NULL};
	int64_t now;

	(void)state;
	rig_gw_start(&rig, 0, args);
	rig_sim_start(&rig, "40", "2");
	assert_true(watch(40000, flowing));
	now = (int64_t)time(NULL);
	rig_publish_window(&rig, GUARD, now + 3600, now + 7200);
	rig_publish(&rig, "command/modem-update",
	            "{\"id\":5,\"action\":\"start\",\"method\":\"ufota\"}", true);
	assert_true(watch(10000, started));
	assert_int_equal(obs.ids[obs.n_events - 1], 5);
	assert_true(watch(5000, flagged));
	rig_publish(&rig, "command/modem-update", "{\"id\":6,\"action\":\"cancel\"}", true);
	assert_true(watch(10000, cancelled));
	assert_int_equal(obs.ids[obs.n_events - 1], 5);
	assert_int_equal(count_state("rejected"), 0);
	assert_true(watch(5000, unflagged));
}

/* An http update, started at once. */
static void test_http(void **state)
{
	static const char *const args[] = {
	        "--install-s", "3",           "--download-s", "2", "--modem-poll-ms",
	        "300",         "--http-user", "fuota",        NULL};
	const char *secret = "pw-never-in-a-log-4711";
	char pkg[300], cmd[512], md5[40] = "";

	(void)state;
	rig_write_package(simh_path(&rig.h, "www/delta.upd", pkg, sizeof(pkg)), "03.15,A00.01",
	                  NEW_FW, 8000);
	rig_md5(pkg, md5, sizeof(md5));
	setenv("FUOTA_GW_HTTP_PASSWORD", secret, 1);
	rig_gw_start(&rig, 0, args);
	rig_sim_start(&rig, "30", "2");
	assert_true(watch(40000, flowing));
	rig_publish(&rig, "command/sessions", "{\"guardS\":2,\"windows\":[]}", true);
	snprintf(cmd, sizeof(cmd),
	         "{\"id\":3,\"action\":\"start\",\"method\":\"http\","
	         "\"url\":\"http://fw.example:8080/delta.upd\",\"md5\":\"%s\"}",
	         md5);
	rig_publish(&rig, "command/modem-update", cmd, true);
	assert_true(watch(60000, updated));
	assert_string_equal(obs.fw_after, NEW_FW);
	assert_int_equal(count_state("deferred"), 0);
	assert_true(count_state("downloading") >= 1);
	assert_int_equal(count_state("failed"), 0);
	assert_true(rig_file_has(&rig, "at.log", "AT+UHTTPC=0,100,\"/delta.upd\""));
	assert_true(rig_file_has(&rig, "at.log", "fw.example"));
	assert_false(rig_file_has(&rig, "at.log", secret));
	assert_false(rig_file_has(&rig, "gw.log", secret));
}

static bool id11_done(const struct obs *o)
{
	for (size_t i = 0; i < o->n_events; i++)
		if (!strcmp(o->states[i], "done") && o->ids[i] == 11)
			return updated(o);
	return false;
}

/* SIGKILL mid-install, then a restart. */
static void test_restart(void **state)
{
	char pkg[300];

	(void)state;
	start_uart("2", pkg, sizeof(pkg));
	rig_publish(&rig, "command/sessions", "{\"guardS\":2,\"windows\":[]}", true);
	publish_uart(11, pkg);
	for (long t = rig_now_ms() + 30000;
	     rig_now_ms() < t && !rig_file_has(&rig, "gw.log", "installing");)
		usleep(20000);
	assert_true(rig_file_has(&rig, "gw.log", "(uart): installing"));
	/* "installing" is said before +UFWINSTALL goes (written ahead): 1 s into the 3 s install */
	usleep(1000000);
	rig_gw_restart(&rig, gw_args);
	assert_true(watch(60000, id11_done));
	assert_string_equal(obs.fw_after, NEW_FW);
	assert_int_equal(count_state("failed"), 0);
	assert_int_equal(count_state("starting"), 1);
	assert_true(rig_file_has(&rig, "gw.log", "the modem installs an update"));
	assert_true(nvm_has("cgdcont1 IP fuota.test"));
}

static int setup(void **state)
{
	static const char *const args[] = {"--boot-ms",
	                                   "100",
	                                   "--reg-ms",
	                                   "100",
	                                   "--install-ms",
	                                   "3000",
	                                   "--xmodem-scale",
	                                   "1",
	                                   "--net-rate",
	                                   "20000",
	                                   NULL};

	(void)state;
	memset(&obs, 0, sizeof(obs));
	for (size_t i = 0; i < 16; i++)
		obs.last_fcnt[i] = -1;
	return rig_setup(&rig, false, args);
}

static int teardown(void **state)
{
	(void)state;
	rig_teardown(&rig);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest all[] = {
	        cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ufota, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_control, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_http, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ufota_cancel, setup, teardown),
	};
	static const char *const names[] = {"deferred", "ufota",   "control",
	                                    "http",     "restart", "ufota-cancel"};

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; argc > 1 && i < 6; i++)
		if (!strcmp(argv[1], names[i]))
			return _cmocka_run_group_tests(names[i], &all[i], 1, NULL, NULL);
	return cmocka_run_group_tests(all, NULL, NULL);
}
