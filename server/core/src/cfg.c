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

enum cfg_type { CFG_STR, CFG_UINT, CFG_ULONG, CFG_BOOL };

struct cfg_item {
	const char *section;
	const char *key;
	enum cfg_type type;
	size_t offset;
	size_t size;            /* CFG_STR: buffer size */
	unsigned long min, max; /* numeric range */
};

#define STR(sec, key, field)                                                                      \
	{                                                                                         \
		sec, key, CFG_STR, offsetof(struct cfg, field), sizeof(((struct cfg *)0)->field), \
		        0, 0                                                                      \
	}
#define UINT(sec, key, field, lo, hi)                                      \
	{                                                                  \
		sec, key, CFG_UINT, offsetof(struct cfg, field), 0, lo, hi \
	}
#define BOOL(sec, key, field)                                            \
	{                                                                \
		sec, key, CFG_BOOL, offsetof(struct cfg, field), 0, 0, 0 \
	}
#define ULONG(sec, key, field, lo, hi)                                      \
	{                                                                   \
		sec, key, CFG_ULONG, offsetof(struct cfg, field), 0, lo, hi \
	}

static const struct cfg_item cfg_items[] = {
        STR("log", "level", log_level),
        STR("log", "format", log_format),
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
        STR("mqtt", "encoding", mqtt_encoding),
        STR("mqtt", "gateway_encoding", mqtt_gw_encoding),
        STR("mqtt", "application_topic", mqtt_app_topic),
        STR("mqtt", "event_topic", mqtt_event_topic),
        STR("mqtt", "share_group", mqtt_share_group),
        STR("mqtt", "client_id", mqtt_client_id),
        UINT("engine", "enabled", engine_enabled, 0, 1),
        STR("engine", "regions", engine_regions),
        UINT("engine", "duty_cycle", engine_duty_cycle, 0, 1),
        UINT("engine", "adaptive_redundancy", engine_adaptive, 0, 1),
        STR("engine", "adaptive_mode", engine_adaptive_mode),
        UINT("engine", "adaptive_loss_percent", engine_adaptive_loss, 0, 90),
        UINT("engine", "adaptive_step_percent", engine_adaptive_step, 1, 100),
        UINT("engine", "adaptive_wait_s", engine_adaptive_wait_s, 0, 3600),
        STR("engine", "class_c_timing", engine_class_c_timing),
        STR("engine", "instance_id", engine_instance_id),
        STR("security", "master_key", master_key_hex),
        STR("security", "master_key_file", master_key_file),
};

void cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->log_level, sizeof(c->log_level), "info");
	snprintf(c->log_format, sizeof(c->log_format), "text");
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
	snprintf(c->mqtt_encoding, sizeof(c->mqtt_encoding), "json");
	snprintf(c->mqtt_gw_encoding, sizeof(c->mqtt_gw_encoding), "protobuf");
	snprintf(c->mqtt_app_topic, sizeof(c->mqtt_app_topic), "application");
	snprintf(c->mqtt_event_topic, sizeof(c->mqtt_event_topic), "fuota");
	snprintf(c->mqtt_share_group, sizeof(c->mqtt_share_group), "fuotad");
	c->engine_enabled = 1;
	c->engine_duty_cycle = 1;
	snprintf(c->engine_class_c_timing, sizeof(c->engine_class_c_timing), "immediately");
	snprintf(c->engine_adaptive_mode, sizeof(c->engine_adaptive_mode), "rounds");
	c->engine_adaptive_loss = 10;
	c->engine_adaptive_step = 3;
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

int cfg_set(struct cfg *c, const char *section, const char *key, const char *value, char *err,
            size_t errlen)
{
	for (size_t i = 0; i < sizeof(cfg_items) / sizeof(cfg_items[0]); i++) {
		const struct cfg_item *it = &cfg_items[i];
		char *field = (char *)c + it->offset;
		unsigned long n;

		if (strcasecmp(it->section, section) != 0 || strcasecmp(it->key, key) != 0)
			continue;
		if (it->type == CFG_STR) {
			if (strlen(value) >= it->size) {
				snprintf(err, errlen, "[%s] %s: value longer than %zu characters",
				         section, key, it->size - 1);
				return FUOTA_ERR_INVALID_ARG;
			}
			memcpy(field, value, strlen(value) + 1);
			return FUOTA_OK;
		}
		if (it->type == CFG_BOOL) {
			if (parse_bool(value, (bool *)(void *)field) != 0) {
				snprintf(err, errlen, "[%s] %s: expected on or off", section, key);
				return FUOTA_ERR_INVALID_ARG;
			}
			return FUOTA_OK;
		}
		if (parse_ulong(value, it->min, it->max, &n) != 0) {
			snprintf(err, errlen, "[%s] %s: expected an integer in %lu..%lu", section,
			         key, it->min, it->max);
			return FUOTA_ERR_INVALID_ARG;
		}
		if (it->type == CFG_UINT)
			*(unsigned *)(void *)field = (unsigned)n;
		else
			*(unsigned long *)(void *)field = n;
		return FUOTA_OK;
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
