/* Configuration: a table of settings, filled from defaults, the INI file, then the environment. */
#include "fuota/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuota/cbox.h"
#include "fuota/err.h"

enum cfg_type { CFG_STR, CFG_UINT, CFG_ULONG, CFG_BOOL, CFG_ENUM };

struct cfg_item {
	const char *section;
	const char *key;
	enum cfg_type type;
	size_t offset;
	size_t size;              /* CFG_STR: buffer size; CFG_ENUM: sizeof(int) */
	unsigned long min, max;   /* numeric range */
	const char *const *names; /* CFG_ENUM: the value names in enum order, NULL-terminated */
};

/* The names of each enum-like setting, indexed by its enum's values. */
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"text", "json", NULL};
static const char *const encodings[] = {"json", "protobuf", NULL};
static const char *const adaptive_modes[] = {"rounds", "stream", NULL};
static const char *const class_c_timings[] = {"immediately", "gps", NULL};

_Static_assert(LOG_LVL_DEBUG == 0 && LOG_LVL_ERROR == 3, "log_levels[] follows enum log_level");
_Static_assert(CFG_LOG_JSON == 1 && CFG_ENC_PROTOBUF == 1 && CFG_ADAPTIVE_STREAM == 1 &&
                       CFG_CLASS_C_GPS == 1,
               "the names tables follow their enums");

#define STR(sec, key, field)                                                                      \
	{                                                                                         \
		sec, key, CFG_STR, offsetof(struct cfg, field), sizeof(((struct cfg *)0)->field), \
		        0, 0, NULL                                                                \
	}
#define UINT(sec, key, field, lo, hi)                                            \
	{                                                                        \
		sec, key, CFG_UINT, offsetof(struct cfg, field), 0, lo, hi, NULL \
	}
#define BOOL(sec, key, field)                                                  \
	{                                                                      \
		sec, key, CFG_BOOL, offsetof(struct cfg, field), 0, 0, 0, NULL \
	}
#define ULONG(sec, key, field, lo, hi)                                            \
	{                                                                         \
		sec, key, CFG_ULONG, offsetof(struct cfg, field), 0, lo, hi, NULL \
	}
/* An enum field is written as an int (memcpy): every enum of struct cfg has an int's size. */
#define ENUM(sec, key, field, table)                                                      \
	{                                                                                 \
		sec, key, CFG_ENUM, offsetof(struct cfg, field), sizeof(int), 0, 0, table \
	}
_Static_assert(sizeof(enum log_level) == sizeof(int) &&
                       sizeof(enum cfg_log_format) == sizeof(int) &&
                       sizeof(enum cfg_encoding) == sizeof(int) &&
                       sizeof(enum cfg_adaptive_mode) == sizeof(int) &&
                       sizeof(enum cfg_class_c_timing) == sizeof(int),
               "enum settings are written as int");

static const struct cfg_item cfg_items[] = {
        ENUM("log", "level", log_level, log_levels),
        ENUM("log", "format", log_format, log_formats),
        STR("http", "bind", http_bind),
        UINT("http", "port", http_port, 0, 65535),
        UINT("http", "threads", http_threads, 1, 64),
        ULONG("http", "max_upload_bytes", max_upload_bytes, 1024, 1ul << 30),
        UINT("http", "timeout_s", http_timeout_s, 1, 3600),
        UINT("http", "token_cache_ms", token_cache_ms, 0, 60000),
        UINT("http", "header_timeout_s", http_header_timeout_s, 1, 3600),
        UINT("http", "max_connections", http_max_connections, 1, 100000),
        UINT("http", "max_connections_per_ip", http_max_connections_per_ip, 0, 100000),
        STR("http", "web_root", http_web_root),
        UINT("http", "sse_max_streams", http_sse_max_streams, 1, 1024),
        UINT("http", "sse_max_streams_per_tenant", http_sse_max_per_tenant, 1, 1024),
        UINT("http", "sse_heartbeat_s", http_sse_heartbeat_s, 1, 3600),
        UINT("http", "sse_poll_ms", http_sse_poll_ms, 10, 10000),
        STR("database", "dsn", db_dsn),
        UINT("database", "pool_size", db_pool_size, 1, 64),
        BOOL("database", "prepared_statements", db_prepared),
        STR("mqtt", "url", mqtt_url),
        ENUM("mqtt", "encoding", mqtt_encoding, encodings),
        ENUM("mqtt", "gateway_encoding", mqtt_gw_encoding, encodings),
        STR("mqtt", "application_topic", mqtt_app_topic),
        STR("mqtt", "event_topic", mqtt_event_topic),
        STR("mqtt", "share_group", mqtt_share_group),
        STR("mqtt", "client_id", mqtt_client_id),
        UINT("engine", "enabled", engine_enabled, 0, 1),
        STR("engine", "regions", engine_regions),
        UINT("engine", "duty_cycle", engine_duty_cycle, 0, 1),
        UINT("engine", "adaptive_redundancy", engine_adaptive, 0, 1),
        ENUM("engine", "adaptive_mode", engine_adaptive_mode, adaptive_modes),
        UINT("engine", "adaptive_loss_percent", engine_adaptive_loss, 0, 90),
        UINT("engine", "adaptive_step_percent", engine_adaptive_step, 1, 100),
        UINT("engine", "adaptive_wait_s", engine_adaptive_wait_s, 0, 3600),
        ENUM("engine", "class_c_timing", engine_class_c_timing, class_c_timings),
        UINT("engine", "keep_group_max_age_s", engine_keep_group_max_age_s, 60, 31536000),
        STR("engine", "instance_id", engine_instance_id),
        STR("security", "master_key", master_key_hex),
        STR("security", "master_key_file", master_key_file),
};

void cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_LVL_INFO;
	c->log_format = CFG_LOG_TEXT;
	snprintf(c->http_bind, sizeof(c->http_bind), "127.0.0.1");
	c->http_port = 8080;
	c->http_threads = 4;
	c->max_upload_bytes = 16ul * 1024 * 1024;
	c->http_timeout_s = 15;
	c->token_cache_ms = 2000;
	c->http_header_timeout_s = 10;
	c->http_max_connections = 1000;
	c->http_max_connections_per_ip = 64;
	c->http_sse_max_streams = 64;
	c->http_sse_max_per_tenant = 16;
	c->http_sse_heartbeat_s = 15;
	c->http_sse_poll_ms = 250;
	snprintf(c->db_dsn, sizeof(c->db_dsn), "dbname=fuota");
	c->db_pool_size = 4;
	c->db_prepared = true;
	snprintf(c->mqtt_url, sizeof(c->mqtt_url), "tcp://127.0.0.1:1883");
	c->mqtt_encoding = CFG_ENC_JSON;
	c->mqtt_gw_encoding = CFG_ENC_PROTOBUF;
	snprintf(c->mqtt_app_topic, sizeof(c->mqtt_app_topic), "application");
	snprintf(c->mqtt_event_topic, sizeof(c->mqtt_event_topic), "fuota");
	snprintf(c->mqtt_share_group, sizeof(c->mqtt_share_group), "fuotad");
	c->engine_enabled = 1;
	c->engine_duty_cycle = 1;
	c->engine_class_c_timing = CFG_CLASS_C_IMMEDIATELY;
	c->engine_adaptive_mode = CFG_ADAPTIVE_ROUNDS;
	c->engine_adaptive_loss = 10;
	c->engine_adaptive_step = 3;
	c->engine_keep_group_max_age_s = 30u * 86400;
}

/* on | off, as the README writes it; false / true, no / yes and 0 / 1 as other INI files do. */
static int parse_bool(const char *v, bool *out)
{
	static const char *const words[] = {"off", "on", "false", "true", "no", "yes", "0", "1"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(v, words[i]) == 0) {
			*out = i % 2 == 1;
			return 0;
		}
	return -1;
}

static int parse_ulong(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* One of names, exactly: its index in *out; -1 for any other value. */
static int parse_enum(const char *v, const char *const *names, int *out)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

/* "[engine] adaptive_mode: expected rounds or stream, not \"x\"" */
static void enum_error(const struct cfg_item *it, const char *value, char *err, size_t errlen)
{
	int n = snprintf(err, errlen, "[%s] %s: expected ", it->section, it->key);

	for (size_t i = 0; it->names[i] && n >= 0 && (size_t)n < errlen; i++)
		n += snprintf(err + n, errlen - (size_t)n, "%s%s",
		              i == 0 ? "" : (it->names[i + 1] ? ", " : " or "), it->names[i]);
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ", not \"%.32s\"", value);
}

/* Writes value into the field of it; the message in err names it->section and it->key. */
static int set_item(struct cfg *c, const struct cfg_item *it, const char *value, char *err,
                    size_t errlen)
{
	char *field = (char *)c + it->offset;
	unsigned long n;
	int e;

	switch (it->type) {
	case CFG_STR:
		if (strlen(value) >= it->size) {
			snprintf(err, errlen, "[%s] %s: value longer than %zu characters",
			         it->section, it->key, it->size - 1);
			return FUOTA_ERR_INVALID_ARG;
		}
		memcpy(field, value, strlen(value) + 1);
		return FUOTA_OK;
	case CFG_BOOL:
		if (parse_bool(value, (bool *)(void *)field) != 0) {
			snprintf(err, errlen, "[%s] %s: expected on or off", it->section, it->key);
			return FUOTA_ERR_INVALID_ARG;
		}
		return FUOTA_OK;
	case CFG_ENUM:
		if (parse_enum(value, it->names, &e) != 0) {
			enum_error(it, value, err, errlen);
			return FUOTA_ERR_INVALID_ARG;
		}
		memcpy(field, &e, sizeof(e));
		return FUOTA_OK;
	case CFG_UINT:
	case CFG_ULONG: break;
	}
	if (parse_ulong(value, it->min, it->max, &n) != 0) {
		snprintf(err, errlen, "[%s] %s: expected an integer in %lu..%lu", it->section,
		         it->key, it->min, it->max);
		return FUOTA_ERR_INVALID_ARG;
	}
	if (it->type == CFG_UINT)
		*(unsigned *)(void *)field = (unsigned)n;
	else
		*(unsigned long *)(void *)field = n;
	return FUOTA_OK;
}

int cfg_set(struct cfg *c, const char *section, const char *key, const char *value, char *err,
            size_t errlen)
{
	for (size_t i = 0; i < sizeof(cfg_items) / sizeof(cfg_items[0]); i++) {
		const struct cfg_item *it = &cfg_items[i];

		if (strcasecmp(it->section, section) == 0 && strcasecmp(it->key, key) == 0)
			return set_item(c, it, value, err, errlen);
	}
	snprintf(err, errlen, "unknown setting [%s] %s", section, key);
	return FUOTA_ERR_INVALID_ARG;
}

struct ini_ctx {
	struct cfg *c;
	char *err;
	size_t errlen;
	int rc;
};

static int ini_cb(void *user, const char *section, const char *key, const char *value)
{
	struct ini_ctx *x = user;

	if (x->rc != FUOTA_OK)
		return 0;
	x->rc = cfg_set(x->c, section, key, value, x->err, x->errlen);
	return x->rc == FUOTA_OK;
}

static void env_name(const struct cfg_item *it, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "FUOTA_%s_%s", it->section, it->key);

	for (size_t i = 0; i < n && i < cap; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

static int load_key(struct cfg *c, char *err, size_t errlen)
{
	char buf[128];
	const char *hex = c->master_key_hex;
	size_t len;

	if (!hex[0] && c->master_key_file[0]) {
		FILE *f = fopen(c->master_key_file, "r");
		size_t n;

		if (!f) {
			snprintf(err, errlen, "[security] master_key_file %s: %s",
			         c->master_key_file, strerror(errno));
			return FUOTA_ERR_IO;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		hex = buf;
	}
	if (!hex[0])
		return FUOTA_OK; /* no key: fuotad refuses device keys, everything else works */
	len = strlen(hex);
	while (len && isspace((unsigned char)hex[len - 1]))
		len--;
	if (cbox_hex_decode(hex, len, c->master_key, CFG_MASTER_KEY_LEN) != FUOTA_OK) {
		snprintf(err, errlen, "[security] master key: expected 64 hex digits (32 bytes)");
		return FUOTA_ERR_INVALID_ARG;
	}
	c->have_master_key = true;
	return FUOTA_OK;
}

int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
	struct ini_ctx x = {c, err, errlen, FUOTA_OK};

	cfg_defaults(c);
	if (path) {
		int line = ini_parse(path, ini_cb, &x);

		if (line < 0) {
			snprintf(err, errlen, "%s: cannot read the file", path);
			return FUOTA_ERR_IO;
		}
		if (x.rc != FUOTA_OK)
			return x.rc;
		if (line > 0) {
			snprintf(err, errlen, "%s:%d: syntax error", path, line);
			return FUOTA_ERR_INVALID_ARG;
		}
	}
	for (size_t i = 0; i < sizeof(cfg_items) / sizeof(cfg_items[0]); i++) {
		char name[96];
		const char *v;
		int rc;

		env_name(&cfg_items[i], name, sizeof(name));
		v = getenv(name);
		if (!v)
			continue;
		rc = cfg_set(c, cfg_items[i].section, cfg_items[i].key, v, err, errlen);
		if (rc != FUOTA_OK)
			return rc;
	}
	return load_key(c, err, errlen);
}
