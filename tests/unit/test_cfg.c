/* fuotad's configuration (fuota/cfg.h): the file, the environment over it, ranges and the master
 * key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuota/cfg.h"
#include "fuota/err.h"

/* cfg_load (the file at path, NULL: none) with the environment variable env = value refuses,
 * and its message names key. */
static void assert_refused(const char *path, const char *env, const char *value, const char *key)
{
	struct cfg c;
	char err[256];

	setenv(env, value, 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	unsetenv(env);
	assert_non_null(strstr(err, key));
}

static void test_cfg_file_and_env(void **state)
{
	char path[] = "/tmp/fuota-cfg-XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct cfg c;

	(void)state;
	fprintf(f, "[http]\nport = 9000\nthreads = 2\n[database]\ndsn = host=x dbname=y\n"
	           "[security]\nmaster_key = "
	           "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	fclose(f);
	setenv("FUOTA_HTTP_PORT", "9100", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_OK);
	unsetenv("FUOTA_HTTP_PORT");
	assert_int_equal(c.http_port, 9100); /* the environment wins */
	assert_int_equal(c.http_threads, 2);
	assert_string_equal(c.db_dsn, "host=x dbname=y");
	assert_int_equal(c.max_upload_bytes, 16ul * 1024 * 1024);
	assert_true(c.have_master_key);
	assert_int_equal(c.master_key[31], 0x1f);

	assert_int_equal(c.http_timeout_s, 15);
	assert_int_equal(c.token_cache_ms, 2000);
	setenv("FUOTA_HTTP_TIMEOUT_S", "3", 1);
	setenv("FUOTA_HTTP_TOKEN_CACHE_MS", "0", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(c.http_timeout_s, 3);
	assert_int_equal(c.token_cache_ms, 0);
	unsetenv("FUOTA_HTTP_TIMEOUT_S");
	unsetenv("FUOTA_HTTP_TOKEN_CACHE_MS");
	assert_refused(path, "FUOTA_HTTP_TIMEOUT_S", "0", "timeout_s");
	assert_refused(path, "FUOTA_HTTP_TOKEN_CACHE_MS", "60001", "token_cache_ms");
	/* Slowloris defences: a header deadline and connection limits, in range. */
	assert_int_equal(c.http_header_timeout_s, 10);
	assert_int_equal(c.http_max_connections, 1000);
	assert_int_equal(c.http_max_connections_per_ip, 64);
	setenv("FUOTA_HTTP_MAX_CONNECTIONS_PER_IP", "0", 1);
	setenv("FUOTA_HTTP_HEADER_TIMEOUT_S", "3", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(c.http_max_connections_per_ip, 0);
	assert_int_equal(c.http_header_timeout_s, 3);
	unsetenv("FUOTA_HTTP_HEADER_TIMEOUT_S");
	unsetenv("FUOTA_HTTP_MAX_CONNECTIONS_PER_IP");
	assert_refused(path, "FUOTA_HTTP_HEADER_TIMEOUT_S", "0", "header_timeout_s");
	assert_refused(path, "FUOTA_HTTP_MAX_CONNECTIONS", "0", "max_connections");
	assert_refused(path, "FUOTA_HTTP_THREADS", "0", "threads");
	f = fopen(path, "a");
	fprintf(f, "[http]\nprot = 1\n");
	fclose(f);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	assert_non_null(strstr(err, "prot"));
	unlink(path);
	assert_refused(NULL, "FUOTA_SECURITY_MASTER_KEY", "0011", "master key");
}

/* The enum-like settings: each allowed name gives its enum value; anything else (another case, a
 * near miss, empty) is refused with a message naming the key and every allowed value. */
static void test_cfg_enums(void **state)
{
	static const struct {
		const char *section, *key, *value;
		size_t offset;
		int want; /* -1: refused */
	} cases[] = {
#define E(sec, key, field, value, want) {sec, key, value, offsetof(struct cfg, field), want}
	        E("log", "level", log_level, "debug", LOG_LVL_DEBUG),
	        E("log", "level", log_level, "info", LOG_LVL_INFO),
	        E("log", "level", log_level, "warn", LOG_LVL_WARN),
	        E("log", "level", log_level, "error", LOG_LVL_ERROR),
	        E("log", "level", log_level, "warning", -1),
	        E("log", "format", log_format, "text", CFG_LOG_TEXT),
	        E("log", "format", log_format, "json", CFG_LOG_JSON),
	        E("log", "format", log_format, "JSON", -1),
	        E("mqtt", "encoding", mqtt_encoding, "json", CFG_ENC_JSON),
	        E("mqtt", "encoding", mqtt_encoding, "protobuf", CFG_ENC_PROTOBUF),
	        E("mqtt", "encoding", mqtt_encoding, "proto", -1),
	        E("mqtt", "gateway_encoding", mqtt_gw_encoding, "json", CFG_ENC_JSON),
	        E("mqtt", "gateway_encoding", mqtt_gw_encoding, "protobuf", CFG_ENC_PROTOBUF),
	        E("mqtt", "gateway_encoding", mqtt_gw_encoding, "", -1),
	        E("engine", "adaptive_mode", engine_adaptive_mode, "rounds", CFG_ADAPTIVE_ROUNDS),
	        E("engine", "adaptive_mode", engine_adaptive_mode, "stream", CFG_ADAPTIVE_STREAM),
	        E("engine", "adaptive_mode", engine_adaptive_mode, "streams", -1),
	        E("engine", "adaptive_mode", engine_adaptive_mode, "Stream", -1),
	        E("engine", "class_c_timing", engine_class_c_timing, "immediately",
	          CFG_CLASS_C_IMMEDIATELY),
	        E("engine", "class_c_timing", engine_class_c_timing, "gps", CFG_CLASS_C_GPS),
	        E("engine", "class_c_timing", engine_class_c_timing, "gps ", -1),
#undef E
	};
	struct cfg c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = -2;
		int rc;

		cfg_defaults(&c);
		err[0] = 0;
		rc = cfg_set(&c, cases[i].section, cases[i].key, cases[i].value, err, sizeof(err));
		memcpy(&got, (const char *)&c + cases[i].offset, sizeof(got));
		if (cases[i].want >= 0) {
			if (rc != FUOTA_OK || got != cases[i].want)
				fail_msg("[%s] %s = %s: rc %d, value %d (%s)", cases[i].section,
				         cases[i].key, cases[i].value, rc, got, err);
			continue;
		}
		if (rc != FUOTA_ERR_INVALID_ARG)
			fail_msg("[%s] %s = \"%s\" accepted", cases[i].section, cases[i].key,
			         cases[i].value);
		assert_non_null(strstr(err, cases[i].section));
		assert_non_null(strstr(err, cases[i].key));
	}
	/* The message lists every allowed value; the default stays after a refusal. */
	cfg_defaults(&c);
	assert_int_equal(cfg_set(&c, "engine", "adaptive_mode", "streams", err, sizeof(err)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_string_equal(err,
	                    "[engine] adaptive_mode: expected rounds or stream, not \"streams\"");
	assert_int_equal(c.engine_adaptive_mode, CFG_ADAPTIVE_ROUNDS);
	assert_int_equal(cfg_set(&c, "log", "level", "loud", err, sizeof(err)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_string_equal(err, "[log] level: expected debug, info, warn or error, not \"loud\"");
	/* A short error buffer is cut, never overrun. */
	assert_int_equal(cfg_set(&c, "log", "level", "loud", err, 12), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(err, "[log] level");
}

/* The defaults of the enum-like settings, and one refused from the environment at load time
 * whatever else is configured (the engine need not be on for a typo to be caught). */
static void test_cfg_enum_load(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_int_equal(c.log_format, CFG_LOG_TEXT);
	assert_int_equal(c.mqtt_encoding, CFG_ENC_JSON);
	assert_int_equal(c.mqtt_gw_encoding, CFG_ENC_PROTOBUF);
	assert_int_equal(c.engine_adaptive_mode, CFG_ADAPTIVE_ROUNDS);
	assert_int_equal(c.engine_class_c_timing, CFG_CLASS_C_IMMEDIATELY);
	/* A kept multicast group's maximum age: 30 days, a minute to a year. */
	assert_int_equal(c.engine_keep_group_max_age_s, 2592000);
	setenv("FUOTA_ENGINE_KEEP_GROUP_MAX_AGE_S", "86400", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), FUOTA_OK);
	unsetenv("FUOTA_ENGINE_KEEP_GROUP_MAX_AGE_S");
	assert_int_equal(c.engine_keep_group_max_age_s, 86400);
	assert_refused(NULL, "FUOTA_ENGINE_KEEP_GROUP_MAX_AGE_S", "59", "keep_group_max_age_s");
	assert_refused(NULL, "FUOTA_ENGINE_KEEP_GROUP_MAX_AGE_S", "31536001",
	               "keep_group_max_age_s");
	assert_refused(NULL, "FUOTA_ENGINE_KEEP_GROUP_MAX_AGE_S", "30d", "keep_group_max_age_s");
	setenv("FUOTA_ENGINE_ENABLED", "0", 1);
	setenv("FUOTA_ENGINE_ADAPTIVE_MODE", "stream", 1);
	setenv("FUOTA_MQTT_GATEWAY_ENCODING", "json", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(c.engine_adaptive_mode, CFG_ADAPTIVE_STREAM);
	assert_int_equal(c.mqtt_gw_encoding, CFG_ENC_JSON);
	assert_refused(NULL, "FUOTA_ENGINE_CLASS_C_TIMING", "later",
	               "[engine] class_c_timing: expected immediately or gps");
	unsetenv("FUOTA_MQTT_GATEWAY_ENCODING");
	unsetenv("FUOTA_ENGINE_ADAPTIVE_MODE");
	unsetenv("FUOTA_ENGINE_ENABLED");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cfg_file_and_env),
	        cmocka_unit_test(test_cfg_enums),
	        cmocka_unit_test(test_cfg_enum_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
