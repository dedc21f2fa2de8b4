/* fuota-gw's modem updates across what a gateway lives through (SIGKILL, power cut, systemd
 * restart), end to end and time-scaled: fuotad's retained commands on a real mosquitto,
 * fuota-gw through fuota-modem-sim. One ctest per case, e2e.gw-persist-<case>:
 *   paused   a uart update deferred behind a window, paused by fuotad, fuota-gw killed: back,
 *            it says "paused" again (event and state/modem) and does not start it once no
 *            window is near; resumed with a window near, it is deferred again; cancelled and
 *            killed again, it stays cancelled and state/modem carries no update
 *   ufota    a uFOTA start of fuotad's (wait-for-ack mode), fuota-gw killed while it waits for
 *            the server's request and again while the acked request waits out a window: every
 *            event keeps fuotad's id, the request is not acked twice (the module refuses that),
 *            nothing fails, and the download starts only after the window
 *   ufota-pause  a uFOTA download the server pauses: the backhaul comes back meanwhile (it
 *            stayed down until the resume), a restart says "paused" again under fuotad's id,
 *            fuotad's resume with a window near is held past it ("deferred", then +UFOTA=2
 *            after the window and its guard) and finishes it
 *   http     an http download cut by a SIGKILL: downloaded again from its command (it failed
 *            as "interrupted" before), installed, done under fuotad's id
 *   corrupt  a damaged modem-update.gw and a manager's state file cut short: fuota-gw says
 *            so, keeps each as <file>.bad and runs (uplinks flow; it stopped before), taking
 *            up no update
 *   lost     a damaged modem-update.gw after an http update ran to its end, fuotad's start
 *            still retained: not run again ("done" said again under its id, the module's
 *            record and firmware say it ran); a new start is taken and runs
 *   prompt   fuota-gw killed while the module waits at +USOWR's '@' prompt for the bytes:
 *            the restart's first ATs go into the socket until the module's data timeout;
 *            fuota-gw waits it out and comes back (state/modem, uplinks) */
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuota/gw_mu_saved.h"
#include "gw_rig.h"

#define NEW_FW "03.16,A00.02"
#define GUARD  2

struct obs {
	unsigned ups;
	char states[48][16]; /* event states in arrival order */
	int64_t ids[48];
	int64_t until[48];
	size_t n;
	char upd_state[16]; /* the last state/modem's update state, "" none */
	int64_t upd_id;
	unsigned modems; /* state/modem messages seen */
};

static struct gw_rig rig;
static struct obs obs;

static void on_event(const struct mqtt_msg *m)
{
	json_t *j = json_loadb((const char *)m->payload, m->len, 0, NULL);
	const char *st = json_string_value(json_object_get(j, "state"));

	assert_non_null(st);
	if (obs.n < 48) {
		snprintf(obs.states[obs.n], 16, "%s", st);
		obs.ids[obs.n] = json_integer_value(json_object_get(j, "id"));
		obs.until[obs.n++] = json_integer_value(json_object_get(j, "deferredUntil"));
	}
	json_decref(j);
}

static void on_modem(const struct mqtt_msg *m)
{
	json_t *j = json_loadb((const char *)m->payload, m->len, 0, NULL), *u;
	const char *st;

	assert_non_null(j);
	u = json_object_get(j, "update");
	st = json_string_value(json_object_get(u, "state"));
	snprintf(obs.upd_state, sizeof(obs.upd_state), "%s", st ? st : "");
	obs.upd_id = json_integer_value(json_object_get(u, "id"));
	obs.modems++;
	json_decref(j);
}

static void take(const struct mqtt_msg *m)
{
	const char *kind = m->topic + strlen(RIG_PREFIX "/gateway/" RIG_GW_ID "/");

	if (!strcmp(kind, "event/up"))
		obs.ups++;
	else if (!strcmp(kind, "event/modem-update"))
		on_event(m);
	else if (!strcmp(kind, "state/modem") && m->len > 0)
		on_modem(m);
}

static bool watch(long ms, bool (*done)(void))
{
	for (long end = rig_now_ms() + ms; rig_now_ms() < end;) {
		struct mqtt_msg *m;

		if (done && done())
			return true;
		if (mqtt_queue_pop(rig.q, 100, &m) == 0) {
			take(m);
			mqtt_msg_free(m);
		}
	}
	return done ? done() : true;
}

static size_t count(const char *state)
{
	size_t k = 0;

	for (size_t i = 0; i < obs.n; i++)
		k += !strcmp(obs.states[i], state);
	return k;
}

static size_t count_id(const char *state, int64_t id)
{
	size_t k = 0;

	for (size_t i = 0; i < obs.n; i++)
		k += !strcmp(obs.states[i], state) && obs.ids[i] == id;
	return k;
}

static size_t want_from;
static const char *want_state;
static int64_t want_id;

/* an event of want_state under want_id has arrived since want_from (the disk queue may
 * deliver an event twice across a SIGKILL: only what comes after a step counts for it) */
static bool got(void)
{
	for (size_t i = want_from; i < obs.n; i++)
		if (!strcmp(obs.states[i], want_state) && obs.ids[i] == want_id)
			return true;
	return false;
}

/* Waits for it (want_from is then its index). */
static bool until(const char *state, int64_t id, size_t from, long ms)
{
	want_state = state;
	want_id = id;
	want_from = from;
	if (!watch(ms, got))
		return false;
	for (size_t i = from; i < obs.n; i++)
		if (!strcmp(obs.states[i], state) && obs.ids[i] == id)
			want_from = i;
	return true;
}

/* The deferredUntil of the event until() found last. */
static int64_t found_until(void)
{
	return obs.until[want_from];
}

static bool flowing(void)
{
	return obs.ups >= 4 && obs.modems >= 1;
}

static const char *const gw_args[] = {
        "--apn", "fuota.test",      "--install-s", "3", "--download-s",
        "2",     "--modem-poll-ms", "300",         NULL};
static const char *const ack_args[] = {"--apn",        "fuota.test", "--install-s",     "3",
                                       "--download-s", "2",          "--modem-poll-ms", "300",
                                       "--ufota-ack",  NULL};

static void publish_cmd(int id, const char *action)
{
	char js[96];

	snprintf(js, sizeof(js), "{\"id\":%d,\"action\":\"%s\"}", id, action);
	rig_publish(&rig, "command/modem-update", js, true);
}

static const char *says_state;
static int64_t says_id;

static bool modem_says(void)
{
	return !strcmp(obs.upd_state, says_state) && obs.upd_id == says_id;
}

/* Waits for a state/modem whose update is state under id. */
static bool modem_until(const char *state, int64_t id, long ms)
{
	says_state = state;
	says_id = id;
	return watch(ms, modem_says);
}

static bool modem_says_nothing(void)
{
	return !obs.upd_state[0];
}

/* A paused waiting update across two restarts. */
static void test_paused(void **state)
{
	char pkg[300], cmd[512];
	int64_t now;
	size_t mark;

	(void)state;
	rig_gw_start(&rig, 0, gw_args);
	rig_sim_start(&rig, "50", "2");
	assert_true(watch(40000, flowing));
	snprintf(pkg, sizeof(pkg), "%s/delta.upd", rig.dir);
	rig_write_package(pkg, "03.15,A00.01", NEW_FW, 4000);
	now = (int64_t)time(NULL);
	rig_publish_window(&rig, GUARD, now + 2, now + 3600);
	snprintf(cmd, sizeof(cmd),
	         "{\"id\":7,\"action\":\"start\",\"method\":\"uart\",\"package\":\"%s\"}", pkg);
	rig_publish(&rig, "command/modem-update", cmd, true);
	assert_true(until("deferred", 7, 0, 10000));
	publish_cmd(8, "pause");
	assert_true(until("paused", 7, 0, 10000));
	watch(1000, NULL);
	rig_gw_restart(&rig, gw_args);
	/* back: paused, said again, and shown on state/modem */
	mark = obs.n;
	assert_true(until("paused", 7, mark, 20000));
	assert_true(modem_until("paused", 7, 5000));
	/* no window near any more: a start that forgot its pause would go now */
	rig_publish(&rig, "command/sessions", "{\"guardS\":2,\"windows\":[]}", true);
	watch(4000, NULL);
	assert_int_equal(count("starting"), 0);
	assert_true(modem_says());
	/* resumed while a window is near: deferred again, past it */
	now = (int64_t)time(NULL);
	rig_publish_window(&rig, GUARD, now + 1, now + 3600);
	watch(1500, NULL);
	mark = obs.n;
	publish_cmd(9, "resume");
	assert_true(until("deferred", 7, mark, 10000));
	assert_int_equal(found_until(), now + 3600 + GUARD);
	assert_int_equal(count("starting"), 0);
	/* cancelled, killed again: it stays cancelled, and state/modem shows no update */
	publish_cmd(10, "cancel");
	assert_true(until("cancelled", 7, mark, 10000));
	watch(1000, NULL);
	rig_gw_restart(&rig, gw_args);
	obs.upd_state[0] = 'x';
	/* from "listening" (the module answered and registered): relay and paho, 1 s unloaded */
	assert_true(watch(10000, modem_says_nothing));
	watch(2000, NULL);
	assert_int_equal(count("starting") + count("failed") + count("rejected"), 0);
	assert_true(count_id("cancelled", 7) >= 1);
	print_message("events: %zu, the last %s\n", obs.n, obs.states[obs.n - 1]);
}

static bool got_done(void)
{
	return count("done") >= 1;
}

/* A uFOTA start of fuotad's, killed while it waits for the request and for its acked delay. */
static void test_ufota(void **state)
{
	char pkg[300];
	int64_t now, end, done_at;

	(void)state;
	rig_write_package(simh_path(&rig.h, "www/delta.upd", pkg, sizeof(pkg)), "03.15,A00.01",
	                  NEW_FW, 60000);
	rig_gw_start(&rig, 0, ack_args);
	rig_sim_start(&rig, "50", "2");
	assert_true(watch(40000, flowing));
	rig_publish(&rig, "command/sessions", "{\"guardS\":2,\"windows\":[]}", true);
	rig_publish(&rig, "command/modem-update",
	            "{\"id\":5,\"action\":\"start\",\"method\":\"ufota\"}", true);
	assert_true(until("starting", 5, 0, 10000));
	/* killed while the start waits for the server's request */
	rig_gw_restart(&rig, ack_args);
	obs.upd_state[0] = 'x'; /* the new process's state/modem: still starting, under 5 */
	assert_true(modem_until("starting", 5, 10000));
	now = (int64_t)time(NULL);
	end = now + 10;
	rig_publish_window(&rig, GUARD, now - 1, end);
	watch(1500, NULL);
	simh_ctl(&rig.h, "ufota-campaign delta.upd");
	assert_true(until("deferred", 5, 0, 10000)); /* fuotad's id, not a push's 0 */
	assert_true(found_until() >= end + GUARD);
	watch(500, NULL);
	/* killed while the acked request waits out the window */
	rig_gw_restart(&rig, ack_args);
	assert_true(watch(60000, got_done));
	done_at = (int64_t)time(NULL);
	print_message("done %lld s after the window's end\n", (long long)(done_at - end));
	for (size_t i = 0; i < obs.n; i++)
		if (obs.ids[i] != 5)
			fail_msg("event %zu (%s) under id %lld", i, obs.states[i],
			         (long long)obs.ids[i]);
	assert_int_equal(count("failed") + count("rejected"), 0);
	assert_true(done_at >= end + GUARD);
}

/* A uFOTA download the server pauses: the backhaul comes back while it is paused, a restart
 * says "paused" again, and fuotad's resume finishes it, all under fuotad's id. */
static void test_ufota_pause(void **state)
{
	char pkg[300];
	size_t mark;
	int64_t now, end;

	(void)state;
	rig_write_package(simh_path(&rig.h, "www/delta.upd", pkg, sizeof(pkg)), "03.15,A00.01",
	                  NEW_FW, 100000);
	rig_gw_start(&rig, 0, ack_args);
	rig_sim_start(&rig, "60", "2");
	assert_true(watch(40000, flowing));
	rig_publish(&rig, "command/sessions", "{\"guardS\":2,\"windows\":[]}", true);
	rig_publish(&rig, "command/modem-update",
	            "{\"id\":5,\"action\":\"start\",\"method\":\"ufota\"}", true);
	assert_true(until("starting", 5, 0, 10000));
	simh_ctl(&rig.h, "ufota-campaign delta.upd");
	for (long t = rig_now_ms() + 20000;
	     rig_now_ms() < t && !rig_file_has(&rig, "at.log", "+UFOTASTAT: 0,1,2");)
		usleep(50000);
	assert_true(rig_file_has(&rig, "at.log", "+UFOTASTAT: 0,1,2")); /* downloading */
	simh_ctl(&rig.h, "ufota-pause");
	/* the backhaul is back while the download waits: the pause is heard */
	assert_true(until("paused", 5, 0, 15000));
	mark = obs.n;
	rig_gw_restart(&rig, ack_args);
	assert_true(until("paused", 5, mark, 20000));
	assert_true(modem_until("paused", 5, 5000));
	/* resumed while a window is near: held past it and its guard, then sent */
	now = (int64_t)time(NULL);
	end = now + 4;
	rig_publish_window(&rig, GUARD, now + 1, end);
	watch(1500, NULL);
	mark = obs.n;
	publish_cmd(6, "resume");
	assert_true(until("deferred", 5, mark, 10000));
	assert_true(found_until() >= end + GUARD);
	while (!rig_file_has(&rig, "at.log", "> AT+UFOTA=2") && (int64_t)time(NULL) < end + 20)
		watch(200, NULL);
	assert_true(rig_file_has(&rig, "at.log", "> AT+UFOTA=2"));
	print_message("resume sent %lld s after the window's end\n",
	              (long long)((int64_t)time(NULL) - end));
	assert_true((int64_t)time(NULL) >= end + GUARD);
	assert_true(watch(60000, got_done));
	for (size_t i = 0; i < obs.n; i++)
		if (obs.ids[i] != 5)
			fail_msg("event %zu (%s) under id %lld", i, obs.states[i],
			         (long long)obs.ids[i]);
	assert_int_equal(count("failed") + count("rejected"), 0);
}

static void publish_http(int id, const char *file, const char *md5)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
	         "{\"id\":%d,\"action\":\"start\",\"method\":\"http\","
	         "\"url\":\"http://fw.example:8080/%s\",\"md5\":\"%s\"}",
	         id, file, md5);
	rig_publish(&rig, "command/modem-update", cmd, true);
}

/* An http download cut by a SIGKILL: downloaded again, installed, done under its id. */
static void test_http(void **state)
{
	char pkg[300], md5[40] = "";

	(void)state;
	rig_write_package(simh_path(&rig.h, "www/delta.upd", pkg, sizeof(pkg)), "03.15,A00.01",
	                  NEW_FW, 100000);
	rig_md5(pkg, md5, sizeof(md5));
	rig_gw_start(&rig, 0, gw_args);
	rig_sim_start(&rig, "60", "2");
	assert_true(watch(40000, flowing));
	rig_publish(&rig, "command/sessions", "{\"guardS\":2,\"windows\":[]}", true);
	publish_http(3, "delta.upd", md5);
	for (long t = rig_now_ms() + 30000;
	     rig_now_ms() < t && !rig_file_has(&rig, "gw.log", "(http): downloading");)
		usleep(50000);
	assert_true(rig_file_has(&rig, "gw.log", "3 (http): downloading"));
	usleep(1500000); /* into the 5 s download */
	rig_gw_restart(&rig, gw_args);
	assert_true(watch(60000, got_done));
	for (size_t i = 0; i < obs.n; i++)
		if (obs.ids[i] != 3)
			fail_msg("event %zu (%s) under id %lld", i, obs.states[i],
			         (long long)obs.ids[i]);
	assert_int_equal(count("failed") + count("rejected"), 0);
	assert_true(rig_file_has(&rig, "gw.log", "3 (http): the download again"));
}

static bool uplinks_after(void)
{
	return obs.ups >= 8;
}

/* A damaged modem-update.gw. */
static void test_corrupt(void **state)
{
	char path[300], bad[320], line[512], buf[4096], err[160];
	struct gw_mu_saved sv;
	struct stat sb;
	size_t n;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/q", rig.dir);
	(void)mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/q/modem-update.gw", rig.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"v\":1,\"lastId\":9,\"waiting\":{\"paused\":true,\"command\":{\"id\":7,\"act", f);
	fclose(f);
	/* and the manager's own, cut short */
	snprintf(line, sizeof(line), "%s/q/modem-update.state", rig.dir);
	f = fopen(line, "w");
	assert_non_null(f);
	fputs("fuota-modem-state 1\nstate=installing\nmethod=ua", f);
	fclose(f);
	rig_gw_start(&rig, 0, gw_args);
	rig_sim_start(&rig, "30", "2");
	assert_true(watch(40000, uplinks_after));
	snprintf(bad, sizeof(bad), "%s.bad", path);
	assert_int_equal(stat(bad, &sb), 0);
	assert_true(rig_file_has(&rig, "gw.log", "modem-update.gw: not JSON"));
	snprintf(line, sizeof(line), "%s/q/modem-update.state.bad", rig.dir);
	assert_int_equal(stat(line, &sb), 0);
	/* no update taken up: none said, none on state/modem */
	watch(1000, NULL);
	assert_int_equal(obs.n, 0);
	assert_true(obs.modems >= 1);
	assert_string_equal(obs.upd_state, "");
	/* a fresh file, written whole, that reads back: nothing handled, nothing waits */
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(gw_mu_saved_parse(buf, n, &sv, err, sizeof(err)), 0);
	assert_int_equal(sv.last_id, 0);
	assert_false(sv.waiting);
	assert_int_equal(sv.cur_method, FWU_M_NONE);
}

/* A damaged modem-update.gw after an update ran to its end, fuotad's start still retained (it
 * clears it once it has the final event): not run again, its end said again; a new start is
 * taken. */
static void test_lost(void **state)
{
	char pkg[300], md5[40], md5b[40], path[300];
	size_t mark;
	unsigned port;
	FILE *f;

	(void)state;
	rig_write_package(simh_path(&rig.h, "www/delta.upd", pkg, sizeof(pkg)), "03.15,A00.01",
	                  NEW_FW, 8000);
	rig_md5(pkg, md5, sizeof(md5));
	rig_write_package(simh_path(&rig.h, "www/next.upd", pkg, sizeof(pkg)), NEW_FW,
	                  "03.17,A00.03", 8000);
	rig_md5(pkg, md5b, sizeof(md5b));
	rig_gw_start(&rig, 0, gw_args);
	port = rig.gw_port;
	rig_sim_start(&rig, "90", "2");
	assert_true(watch(40000, flowing));
	rig_publish(&rig, "command/sessions", "{\"guardS\":2,\"windows\":[]}", true);
	publish_http(3, "delta.upd", md5);
	assert_true(until("done", 3, 0, 60000));
	watch(1500, NULL);
	rig_stop_pid(&rig.gw, SIGKILL);
	snprintf(path, sizeof(path), "%s/q/modem-update.gw", rig.dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"v\":1,\"lastId\":3,\"wai", f);
	fclose(f);
	mark = obs.n;
	rig_gw_start(&rig, port, gw_args);
	/* the retained start 3: its end said again (the queue may repeat the old one: the log
	 * says which), nothing run */
	assert_true(until("done", 3, mark, 20000));
	for (long t = rig_now_ms() + 5000;
	     rig_now_ms() < t &&
	     !rig_file_has(&rig, "gw.log", "command 3: its update ran already");)
		watch(200, NULL);
	assert_true(rig_file_has(&rig, "gw.log", "command 3: its update ran already"));
	watch(2000, NULL);
	for (size_t i = mark; i < obs.n; i++)
		if (strcmp(obs.states[i], "done"))
			fail_msg("event %zu after the restart: %s under id %lld", i, obs.states[i],
			         (long long)obs.ids[i]);
	/* a new start is taken and runs */
	mark = obs.n;
	publish_http(4, "next.upd", md5b);
	assert_true(until("downloading", 4, mark, 20000));
	assert_true(until("done", 4, mark, 60000));
	assert_int_equal(count("failed") + count("rejected"), 0);
}

/* The last line of fuota-gw's AT log, "" none. */
static void at_log_last(char *last, size_t cap)
{
	char path[300], buf[512];
	FILE *f;

	last[0] = '\0';
	snprintf(path, sizeof(path), "%s/at.log", rig.dir);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(buf, sizeof(buf), f))
		snprintf(last, cap, "%s", buf);
	fclose(f);
}

/* SIGKILLs fuota-gw once the last line of its AT log is a socket write's command: at_cmd.c
 * logs the data line before it writes the bytes, so if that is still the last line after the
 * kill the module was left at the '@' prompt, owed the bytes. false when the kill missed (the
 * bytes went first; a loaded machine), after 5 s with no write seen too. */
static bool kill_at_prompt(void)
{
	char last[512] = "";

	for (long t = rig_now_ms() + 5000; rig_now_ms() < t && !strstr(last, "> AT+USOWR=");) {
		usleep(1000);
		at_log_last(last, sizeof(last));
	}
	rig_stop_pid(&rig.gw, SIGKILL);
	at_log_last(last, sizeof(last));
	return strstr(last, "> AT+USOWR=") != NULL;
}

static unsigned modems_before, ups_before;

static bool modem_said_again(void)
{
	return obs.modems > modems_before;
}

static bool flowing_again(void)
{
	return obs.ups >= ups_before + 4;
}

/* fuota-gw killed while the module waits at +USOWR's prompt for the bytes (CI's flake in
 * "paused": the restart's ATs went into the socket until the module's 10 s data timeout). */
static void test_prompt(void **state)
{
	unsigned port, ups;
	long killed_ms, up_ms;
	bool landed = false;

	(void)state;
	rig_gw_start(&rig, 0, gw_args);
	port = rig.gw_port;
	rig_sim_start(&rig, "60", "2");
	assert_true(watch(40000, flowing));
	for (int i = 0; i < 5 && !landed; i++) {
		landed = kill_at_prompt();
		killed_ms = rig_now_ms();
		watch(300, NULL); /* what the dead process got out: before the new one's */
		modems_before = obs.modems;
		ups = obs.ups;
		rig_gw_start(&rig, port, gw_args);
		up_ms = rig_now_ms();
		/* the broker hears the new process 1 s after its "listening" line unloaded */
		assert_true(watch(10000, modem_said_again));
		print_message("kill %d %s the prompt: listening %ld ms later, state/modem %ld ms "
		              "after that\n",
		              i, landed ? "at" : "past", up_ms - killed_ms, rig_now_ms() - up_ms);
	}
	assert_true(landed);
	/* the module swallowed the boot's first ATs (its data timeout), fuota-gw waited it out */
	assert_true(rig_file_has(&rig, "at.log", "(timeout)"));
	assert_true(up_ms - killed_ms >= 5000);
	ups_before = ups;
	assert_true(watch(10000, flowing_again)); /* uplinks through the new process */
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
	        cmocka_unit_test_setup_teardown(test_paused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ufota, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ufota_pause, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_http, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_prompt, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lost, setup, teardown),
	};
	static const char *const names[] = {"paused", "ufota",  "corrupt", "ufota-pause",
	                                    "http",   "prompt", "lost"};

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; argc > 1 && i < 7; i++)
		if (!strcmp(argv[1], names[i]))
			return _cmocka_run_group_tests(names[i], &all[i], 1, NULL, NULL);
	return cmocka_run_group_tests(all, NULL, NULL);
}
