/* The processes of fuota-gw's end-to-end tests (gw_rig.h). */
#include "gw_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

long rig_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

pid_t rig_spawn(const char *const *argv, const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

void rig_stop_pid(pid_t *pid, int sig)
{
	if (*pid > 0) {
		kill(*pid, sig);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

static void broker_start(struct gw_rig *r)
{
	char cmd[700];
	FILE *f;

	snprintf(r->broker_dir, sizeof(r->broker_dir), "%s/broker", r->dir);
	snprintf(cmd, sizeof(cmd), "bash %s start %s >/dev/null", MOSQ_SH, r->broker_dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/port", r->broker_dir);
	f = fopen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%u", &r->broker_port), 1);
	fclose(f);
}

static void observer_start(struct gw_rig *r)
{
	struct mqtt_options mo = {.client_id = "gw-e2e-observer", .clean_session = true};
	char uri[64];

	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", r->broker_port);
	assert_int_equal(mqtt_queue_create(0, &r->q), 0);
	assert_int_equal(mqtt_paho_create(&r->mq), 0);
	assert_int_equal(
	        mqtt_subscribe(r->mq, RIG_PREFIX "/gateway/#", 1, mqtt_queue_on_message, r->q), 0);
	assert_int_equal(mqtt_connect(r->mq, uri, &mo), 0);
	assert_int_equal(mqtt_wait_subscribed(r->mq, 10000), 0);
}

int rig_setup(struct gw_rig *r, bool json, const char *const *sim_args)
{
	memset(r, 0, sizeof(*r));
	r->json = json;
	snprintf(r->dir, sizeof(r->dir), "/tmp/fuota-gw-e2e-XXXXXX");
	if (!mkdtemp(r->dir) || simh_start(&r->h, sim_args) != 0)
		return -1;
	close(r->h.fd);
	r->h.fd = -1;
	broker_start(r);
	observer_start(r);
	return 0;
}

void rig_teardown(struct gw_rig *r)
{
	char cmd[700];

	rig_stop_pid(&r->sim, SIGTERM);
	rig_stop_pid(&r->gw, SIGTERM);
	mqtt_destroy(r->mq);
	mqtt_queue_destroy(r->q);
	snprintf(cmd, sizeof(cmd), "bash %s stop %s >/dev/null 2>&1", MOSQ_SH, r->broker_dir);
	(void)system(cmd);
	(void)simh_stop(&r->h);
	if (!getenv("GW_E2E_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
		(void)system(cmd);
	}
}

/* The port of the first "listening" line of log past offset (this start's, not an earlier
 * run's on the same port), 0 none yet. */
static unsigned listening_port(const char *log, long offset)
{
	char line[256];
	unsigned port = 0;
	FILE *f = fopen(log, "r");

	if (!f)
		return 0;
	if (fseek(f, offset, SEEK_SET) == 0)
		while (!port && fgets(line, sizeof(line), f))
			(void)sscanf(line, "fuota-gw: listening on 127.0.0.1:%u", &port);
	fclose(f);
	return port;
}

void rig_gw_start(struct gw_rig *r, unsigned port, const char *const *extra)
{
	char q[300], broker[32], p[8], log[300], atlog[300];
	const char *argv[48] = {GW_BIN,     "--queue",   q,         "--port",        p,
	                        "--broker", broker,      "--modem", r->h.pty,        "--prefix",
	                        RIG_PREFIX, "--state-s", "1",       "--keepalive-s", "4",
	                        "--at-log", atlog};
	int k = 17;
	struct stat sb;
	long offset;

	snprintf(q, sizeof(q), "%s/q", r->dir);
	snprintf(p, sizeof(p), "%u", port);
	snprintf(broker, sizeof(broker), "127.0.0.1:%u", r->broker_port);
	snprintf(log, sizeof(log), "%s/gw.log", r->dir);
	snprintf(atlog, sizeof(atlog), "%s/at.log", r->dir);
	if (r->json)
		argv[k++] = "--json";
	for (size_t i = 0; extra && extra[i] && k < 46; i++)
		argv[k++] = extra[i];
	argv[k] = NULL;
	offset = stat(log, &sb) == 0 ? (long)sb.st_size : 0;
	r->gw_port = 0;
	r->gw = rig_spawn(argv, log);
	for (long end = rig_now_ms() + RIG_BOOT_MS; rig_now_ms() < end && !r->gw_port;) {
		r->gw_port = listening_port(log, offset);
		if (!r->gw_port)
			usleep(100000);
	}
	assert_true(r->gw_port > 0);
	if (port)
		assert_int_equal(r->gw_port, port);
}

void rig_gw_restart(struct gw_rig *r, const char *const *extra)
{
	unsigned port = r->gw_port;

	rig_stop_pid(&r->gw, SIGKILL);
	rig_gw_start(r, port, extra);
}

void rig_sim_start(struct gw_rig *r, const char *timeout_s, const char *devices)
{
	char mqtt[64], udp[64], log[300], report[300];
	const char *argv[40] = {SIM_BIN,
	                        "--mqtt",
	                        mqtt,
	                        "--semtech-udp",
	                        udp,
	                        "--devices",
	                        devices,
	                        "--uplink-period",
	                        "1",
	                        "--gw-stats-period",
	                        "2",
	                        "--gw-duty-cycle",
	                        "0",
	                        "--timeout",
	                        timeout_s,
	                        "--report",
	                        report,
	                        "--gw-encoding",
	                        r->json ? "json" : "protobuf",
	                        NULL};

	snprintf(mqtt, sizeof(mqtt), "tcp://127.0.0.1:%u", r->broker_port);
	snprintf(udp, sizeof(udp), "127.0.0.1:%u", r->gw_port);
	snprintf(log, sizeof(log), "%s/sim.log", r->dir);
	snprintf(report, sizeof(report), "%s/report.json", r->dir);
	r->sim = rig_spawn(argv, log);
}

void rig_publish(struct gw_rig *r, const char *sub, const char *payload, bool retain)
{
	char topic[256];

	snprintf(topic, sizeof(topic), RIG_PREFIX "/gateway/" RIG_GW_ID "/%s", sub);
	assert_int_equal(mqtt_publish(r->mq, topic, payload, strlen(payload),
	                              1 | (retain ? MQTT_RETAIN : 0)),
	                 0);
}

unsigned rig_report_acked(const struct gw_rig *r, unsigned *uplinks)
{
	char path[300];
	json_t *j, *g;
	unsigned acked;

	snprintf(path, sizeof(path), "%s/report.json", r->dir);
	j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	g = json_array_get(json_object_get(j, "gateways"), 0);
	acked = (unsigned)json_integer_value(
	        json_object_get(json_object_get(g, "semtech_udp"), "rxpk_acked"));
	*uplinks = (unsigned)json_integer_value(json_object_get(g, "uplinks"));
	json_decref(j);
	return acked;
}

void rig_publish_window(struct gw_rig *r, int guard_s, int64_t start, int64_t end)
{
	char js[160];

	snprintf(js, sizeof(js),
	         "{\"guardS\":%d,\"windows\":[{\"start\":%lld,\"end\":%lld,\"job\":\"e2e\"}]}",
	         guard_s, (long long)start, (long long)end);
	rig_publish(r, "command/sessions", js, true);
}

void rig_write_package(const char *path, const char *from, const char *to, size_t body)
{
	uint8_t *p = calloc(1, 64 + body);
	uint32_t crc;
	FILE *f;

	assert_non_null(p);
	memcpy(p, "FSIMFWP1", 8);
	memcpy(p + 8, from, strnlen(from, 24));
	memcpy(p + 32, to, strnlen(to, 24));
	for (size_t i = 0; i < 4; i++)
		p[56 + i] = (uint8_t)(body >> (8 * i));
	for (size_t i = 0; i < body; i++)
		p[64 + i] = (uint8_t)(i * 7 + 3);
	/* the CRC covers the 60 header bytes before it and the body */
	crc = (uint32_t)crc32(0, p, 60);
	crc = (uint32_t)crc32(crc, p + 64, (uInt)body);
	for (size_t i = 0; i < 4; i++)
		p[60 + i] = (uint8_t)(crc >> (8 * i));
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, 64 + body, f), 64 + body);
	fclose(f);
	free(p);
}

void rig_md5(const char *path, char *md5, size_t cap)
{
	char line[400];
	FILE *p;

	assert_true(cap >= 33);
	snprintf(line, sizeof(line), "md5sum %s", path);
	assert_non_null(p = popen(line, "r"));
	assert_int_equal(fscanf(p, "%32s", md5), 1);
	pclose(p);
}

bool rig_file_has(const struct gw_rig *r, const char *name, const char *what)
{
	char path[300], buf[1024];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	if (!(f = fopen(path, "r")))
		return false;
	while (!found && fgets(buf, sizeof(buf), f))
		found = strstr(buf, what) != NULL;
	fclose(f);
	return found;
}
