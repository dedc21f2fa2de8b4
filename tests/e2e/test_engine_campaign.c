/* A firmware campaign end to end: fuotad (REST API + job engine) and fuota-sim (network server
 * integration, gateways, a fleet with clock offsets, losses and a silent device) on one mosquitto
 * and one PostgreSQL (the integration stack). The devices, the firmware and the job go in
 * through the REST API; the test then only watches: fuotad must end the job with every device but
 * the silent one done, the silent one failed with its reason, and fuota-sim must report that each
 * of those devices rebuilt an image whose SHA-256 (and v2 MIC) matches the original.
 *
 * A second campaign has a fleet of TS004 v1 and v2 devices: fuotad runs one fragmentation
 * session per version on the one multicast group, and every device, of either version, rebuilds
 * the exact image.
 *
 * usage: test_engine_campaign FUOTAD FUOTA_SIM SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "itest.h"

#define FW_SIZE   3000
#define APP_TOPIC "application-e2ec"
#define GW_PREFIX "eu868-e2ec"

/* One campaign: the fleet fuota-sim plays and what the test expects of it. */
struct campaign {
	const char *name;    /* work files and database name */
	const char *devices; /* --devices */
	const char *v2;      /* --v2-fraction */
	const char *seed;    /* --seed */
	int silent;          /* index of the device that never answers, -1: none */
	size_t n_devices;
	bool mixed; /* both TS004 versions in the fleet: two sessions */
};

static struct {
	const char *fuotad, *sim, *env_path, *dir;
	struct itest_env env;
	struct itest_fuotad fd;
	pid_t sim_pid;
} T;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct campaign *C;

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s-%s", T.dir, C->name, name);
}

static json_t *load_json_file(const char *path)
{
	return json_load_file(path, 0, NULL);
}

static void start_sim(const char *fw_path, const char *fleet, const char *report)
{
	char log[512], silent[32];
	pid_t pid;

	path_of(log, sizeof(log), "fuota-sim.log");
	/* No device misbehaves without --misbehave: "silent@-1" is not passed then. */
	snprintf(silent, sizeof(silent), "silent@%d", C->silent);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = freopen(log, "w", stdout);
		const char *mis = C->silent >= 0 ? "--misbehave" : NULL;

		if (!f || dup2(fileno(stdout), 2) < 0)
			_exit(126);
		execl(T.sim, T.sim, "--mqtt", T.env.mqtt_url, "--client-id", "e2e-campaign-sim",
		      "--app-prefix", APP_TOPIC, "--gw-prefix", GW_PREFIX, "--devices", C->devices,
		      "--gateways", "3", "--coverage", "2", "--v2-fraction", C->v2, "--loss",
		      "0.05", "--uplink-period", "2", "--clock-offset", "20", "--image", fw_path,
		      "--fleet-out", fleet, "--report", report, "--seed", C->seed,
		      "--gw-duty-cycle", "0", "--timeout", "400", mis, silent, (char *)NULL);
		_exit(127);
	}
	T.sim_pid = pid;
}

static int stop_sim(void)
{
	int st = 0;

	if (T.sim_pid <= 0)
		return -1;
	kill(T.sim_pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(T.sim_pid, &st, WNOHANG) == T.sim_pid) {
			T.sim_pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		usleep(100000);
	}
	kill(T.sim_pid, SIGKILL);
	waitpid(T.sim_pid, &st, 0);
	T.sim_pid = 0;
	return -1;
}

static int teardown(void **state)
{
	(void)state;
	if (T.sim_pid > 0)
		stop_sim();
	if (T.fd.pid > 0)
		itest_fuotad_stop(&T.fd);
	T.fd.pid = 0;
	return 0;
}

static int64_t upload_firmware(const char *token, const uint8_t *fw, size_t len)
{
	struct form_part parts[2] = {{"name", NULL, "campaign", 8}, {"file", "fw.bin", fw, len}};
	char ctype[128];
	size_t body_len = 0;
	char *body = form_build(parts, 2, &body_len, ctype);
	struct http_resp r;
	json_t *j;
	int64_t id;

	assert_non_null(body);
	assert_int_equal(
	        http_req(T.fd.port, "POST", "/api/v1/firmware", token, ctype, body, body_len, &r),
	        0);
	assert_int_equal(r.status, 201);
	j = http_json(&r);
	assert_non_null(j);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	http_free(&r);
	free(body);
	return id;
}

static bool is_silent(const char *eui, const char *silent_eui)
{
	return silent_eui && strcmp(eui, silent_eui) == 0;
}

/* The job's estimate in its event log: one session per TS004 version of the fleet. */
static void assert_sessions_logged(const char *token, int64_t job, size_t n_sessions)
{
	char path[128];
	json_t *out = NULL, *ev;
	size_t i, found = 0;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events?limit=500", (long long)job);
	assert_int_equal(api_call(T.fd.port, "GET", path, token, NULL, &out), 200);
	json_array_foreach(json_object_get(out, "items"), i, ev)
	{
		json_t *ss = json_object_get(json_object_get(ev, "data"), "sessions");

		if (!json_is_array(ss))
			continue;
		assert_int_equal(json_array_size(ss), n_sessions);
		found++;
	}
	assert_int_equal(found, 1);
	json_decref(out);
}

static void run_campaign(void)
{
	char dbname[64], fw_path[512], fleet_path[512], report_path[512], token[80], path[96];
	char body[4096];
	int versions = 0;
	uint8_t fw[FW_SIZE];
	json_t *fleet = NULL, *devs, *report, *out = NULL, *d;
	const char *silent_eui = NULL;
	int64_t fw_id, job, deadline;
	size_t i, pos = 0;
	FILE *f;

	{
		char parent[512], *slash;

		snprintf(parent, sizeof(parent), "%s", T.dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = 0;
			mkdir(parent, 0755);
		}
		mkdir(T.dir, 0755);
	}
	for (i = 0; i < FW_SIZE; i++)
		fw[i] = (uint8_t)(i * 31 + (i >> 7));
	path_of(fw_path, sizeof(fw_path), "fw.bin");
	path_of(fleet_path, sizeof(fleet_path), "fleet.json");
	path_of(report_path, sizeof(report_path), "report.json");
	unlink(fleet_path);
	unlink(report_path);
	f = fopen(fw_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(fw, 1, FW_SIZE, f), FW_SIZE);
	fclose(f);

	snprintf(dbname, sizeof(dbname), "fuota_e2e_%s_%ld", C->name, (long)getpid());
	memset(&T.fd, 0, sizeof(T.fd));
	assert_int_equal(itest_db_create(&T.env, dbname, T.fd.dsn, sizeof(T.fd.dsn)), 0);
	snprintf(T.fd.bin, sizeof(T.fd.bin), "%s", T.fuotad);
	path_of(T.fd.log, sizeof(T.fd.log), "fuotad.log");
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	/* Topics of its own: integration.engine_mqtt runs fuotad and a fake gateway on the same
	 * broker with the default ones, maybe at the same time. */
	setenv("FUOTA_MQTT_APPLICATION_TOPIC", APP_TOPIC, 1);
	setenv("FUOTA_MQTT_EVENT_TOPIC", "fuota-e2ec", 1);
	setenv("FUOTA_MQTT_SHARE_GROUP", "fuotad-e2ec", 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:" GW_PREFIX ":off", 1);
	setenv("FUOTA_ENGINE_ADAPTIVE_REDUNDANCY", "1", 1);
	assert_int_equal(itest_fuotad_start(&T.fd), 0);
	assert_int_equal(itest_token(T.fuotad, T.fd.dsn, false, 1, token), 0);

	/* fuota-sim writes its fleet once it is subscribed: the devices to register. */
	start_sim(fw_path, fleet_path, report_path);
	deadline = now_ms() + 30000;
	while (!(fleet = load_json_file(fleet_path))) {
		assert_true(now_ms() < deadline);
		usleep(100000);
	}
	devs = json_object_get(fleet, "devices");
	assert_int_equal(json_array_size(devs), C->n_devices);
	json_array_foreach(devs, i, d)
	{
		char *text = json_dumps(d, JSON_COMPACT);
		json_int_t v = json_integer_value(
		        json_object_get(json_object_get(d, "packages"), "ts004"));

		assert_int_equal(api_call(T.fd.port, "POST", "/api/v1/devices", token, text, NULL),
		                 201);
		free(text);
		if ((int)i == C->silent)
			silent_eui = json_string_value(json_object_get(d, "dev_eui"));
		versions |= v >= 2 ? 2 : 1;
	}
	/* The fleet has the TS004 versions the campaign is about. */
	assert_int_equal(versions, C->mixed ? 3 : 2);
	fw_id = upload_firmware(token, fw, FW_SIZE);

	pos = (size_t)snprintf(body, sizeof(body),
	                       "{\"name\":\"campaign\",\"firmware_id\":%lld,\"devices\":[",
	                       (long long)fw_id);
	json_array_foreach(devs, i, d) pos +=
	        (size_t)snprintf(body + pos, sizeof(body) - pos, "%s\"%s\"", i ? "," : "",
	                         json_string_value(json_object_get(d, "dev_eui")));
	snprintf(body + pos, sizeof(body) - pos,
	         "],\"redundancy_frames\":3,\"unicast_timeout_s\":6,\"unicast_attempts\":3,"
	         "\"data_rate\":5,\"frequency_hz\":869525000,\"region\":\"EU868\","
	         "\"multicast_class\":\"C\"}");
	assert_int_equal(api_call(T.fd.port, "POST", "/api/v1/jobs", token, body, &out), 201);
	job = json_integer_value(json_object_get(out, "id"));
	json_decref(out);

	/* fuotad runs the campaign on its own. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", (long long)job);
	deadline = now_ms() + 300000;
	for (;;) {
		const char *st;

		assert_int_equal(api_call(T.fd.port, "GET", path, token, NULL, &out), 200);
		st = json_string_value(json_object_get(out, "state"));
		assert_non_null(st);
		if (strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0) {
			assert_string_equal(st, "succeeded");
			json_decref(out);
			break;
		}
		json_decref(out);
		assert_true(now_ms() < deadline);
		sleep(1);
	}
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices", (long long)job);
	assert_int_equal(api_call(T.fd.port, "GET", path, token, NULL, &out), 200);
	assert_int_equal(json_array_size(json_object_get(out, "items")), C->n_devices);
	json_array_foreach(json_object_get(out, "items"), i, d)
	{
		const char *eui = json_string_value(json_object_get(d, "dev_eui"));
		const char *step = json_string_value(json_object_get(d, "step"));

		if (is_silent(eui, silent_eui)) {
			const char *why = json_string_value(json_object_get(d, "failure_reason"));

			assert_string_equal(step, "failed");
			assert_non_null(why);
			assert_non_null(strstr(why, "no answer"));
		} else {
			assert_string_equal(step, "done");
		}
	}
	json_decref(out);
	assert_sessions_logged(token, job, C->mixed ? 2 : 1);

	/* What the devices say: the image they rebuilt is the original. */
	stop_sim();
	report = load_json_file(report_path);
	assert_non_null(report);
	assert_int_equal(json_array_size(json_object_get(report, "devices")), C->n_devices);
	json_array_foreach(json_object_get(report, "devices"), i, d)
	{
		const char *eui = json_string_value(json_object_get(d, "dev_eui"));

		if (is_silent(eui, silent_eui))
			continue;
		assert_true(json_is_true(json_object_get(d, "decoded")));
		assert_true(json_is_true(json_object_get(d, "sha256_ok")));
		assert_false(json_is_false(json_object_get(d, "mic_ok")));
		assert_false(json_is_true(json_object_get(d, "failed")));
		/* a device of a mixed job hears the other session's fragments and ignores them */
		if (C->mixed)
			assert_true(json_integer_value(json_object_get(json_object_get(d, "frames"),
			                                               "other_session")) > 0);
	}
	json_decref(report);
	json_decref(fleet);
	assert_int_equal(itest_fuotad_stop(&T.fd), 0);
	T.fd.pid = 0;
}

/* TS004 v2 fleet with losses, clock offsets and a silent device. */
static void test_campaign(void **state)
{
	static const struct campaign c = {"campaign", "12", "1", "7", 5, 12, false};

	(void)state;
	C = &c;
	run_campaign();
}

/* TS004 v1 and v2 devices in one job: two fragmentation sessions on one group. */
static void test_campaign_mixed(void **state)
{
	static const struct campaign c = {"mixed", "6", "0.5", "11", -1, 6, true};

	(void)state;
	C = &c;
	run_campaign();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_campaign, teardown),
	        cmocka_unit_test_teardown(test_campaign_mixed, teardown),
	};

	if (argc < 5) {
		fprintf(stderr, "usage: %s FUOTAD FUOTA_SIM SERVICES_ENV WORKDIR\n", argv[0]);
		return 2;
	}
	T.fuotad = argv[1];
	T.sim = argv[2];
	T.env_path = argv[3];
	T.dir = argv[4];
	if (itest_env_load(T.env_path, &T.env) != 0) {
		fprintf(stderr, "test_engine_campaign: cannot read %s\n", T.env_path);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
