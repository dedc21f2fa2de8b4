/* fuotad configuration: an INI file (libinih) whose every key can be overridden by an environment
 * variable FUOTA_<SECTION>_<KEY> (upper case), e.g. [database] dsn -> FUOTA_DATABASE_DSN.
 *
 *   [log]      level = debug|info|warn|error (info), format = text|json (text)
 *   [http]     bind = 127.0.0.1, port = 8080, threads = 4, max_upload_bytes = 16777216,
 *              timeout_s = 15 (a connection silent that long is closed, mid-request too),
 *              token_cache_ms = 2000 (a verified token is trusted that long without asking the
 *              database; a revocation through any fuotad instance reaches this one's cache at
 *              once through a LISTEN connection of its own, and while that connection is down
 *              the cache is not used; 0 = ask every time, and no LISTEN connection),
 *              web_root = the web UI's folder (default: web/ beside the binary's folder;
 *              none: no UI; fuota/web.h),
 *              sse_max_streams = 64, sse_max_streams_per_tenant = 16 (live job streams open
 *              at once), sse_heartbeat_s = 15 (a comment line on a quiet stream, which also
 *              finds clients gone), sse_poll_ms = 250 (how often new events are looked for)
 *   [database] dsn = "host=... dbname=...", pool_size = 4 (one connection per HTTP thread),
 *              prepared_statements = on | off (on: each statement is prepared once per
 *              connection; off: every statement is sent unnamed, as PgBouncer in transaction
 *              mode before 1.21 needs)
 *   [mqtt]     url = tcp://127.0.0.1:1883
 *   [security] master_key = 64 hex digits, or master_key_file = path of a file holding them
 */
#ifndef FUOTA_CFG_H
#define FUOTA_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/log.h"

#define CFG_MASTER_KEY_LEN 32

/* The enum-like settings, parsed once by cfg_set: a value outside the names listed beside each
 * one (compared exactly) is refused with an error naming the key and the allowed values. */
enum cfg_log_format { CFG_LOG_TEXT, CFG_LOG_JSON };                   /* text | json */
enum cfg_encoding { CFG_ENC_JSON, CFG_ENC_PROTOBUF };                 /* json | protobuf */
enum cfg_adaptive_mode { CFG_ADAPTIVE_ROUNDS, CFG_ADAPTIVE_STREAM };  /* rounds | stream */
enum cfg_class_c_timing { CFG_CLASS_C_IMMEDIATELY, CFG_CLASS_C_GPS }; /* immediately | gps */

struct cfg {
	enum log_level log_level; /* debug | info | warn | error */
	enum cfg_log_format log_format;
	char http_bind[64];
	unsigned http_port;
	unsigned http_threads;
	unsigned long max_upload_bytes;
	unsigned http_timeout_s;
	unsigned token_cache_ms;
	unsigned http_header_timeout_s;
	unsigned http_max_connections;
	unsigned http_max_connections_per_ip;
	char http_web_root[1024]; /* [http] web_root: the web UI's files (fuota/web.h) */
	unsigned http_sse_max_streams;
	unsigned http_sse_max_per_tenant;
	unsigned http_sse_heartbeat_s;
	unsigned http_sse_poll_ms;
	char db_dsn[1024];
	unsigned db_pool_size;
	bool db_prepared;
	char mqtt_url[256];
	/* The job engine (fuota/engine_mqtt.h): [mqtt] encoding = json | protobuf (downlinks;
	 * uplinks are detected), application_topic = application, event_topic = fuota,
	 * share_group = fuotad, client_id (default: the engine's instance id); [engine] enabled =
	 * 1, regions = "EU868:eu868:on, US915:us915" (topic prefix, duty cycle), duty_cycle = 1,
	 * adaptive_redundancy = 0, class_c_timing = immediately | gps; adaptive redundancy:
	 * adaptive_mode = rounds | stream, adaptive_loss_percent = 10,
	 * adaptive_step_percent = 3, adaptive_wait_s = 0 (2^(BlockAckDelay + 4) s + the job's
	 * unicast timeout). */
	enum cfg_encoding mqtt_encoding;
	/* [mqtt] gateway_encoding = protobuf | json: a gateway's DownlinkFrames until it has been
	 * heard (its acks and stats tell its encoding, as ChirpStack detects it). */
	enum cfg_encoding mqtt_gw_encoding;
	char mqtt_app_topic[64];
	char mqtt_event_topic[64];
	char mqtt_share_group[64];
	char mqtt_client_id[64];
	unsigned engine_enabled;
	char engine_regions[512];
	unsigned engine_duty_cycle;
	unsigned engine_adaptive;
	enum cfg_adaptive_mode engine_adaptive_mode;
	unsigned engine_adaptive_loss, engine_adaptive_step;
	unsigned engine_adaptive_wait_s;
	enum cfg_class_c_timing engine_class_c_timing;
	/* [engine] keep_group_max_age_s = 2592000 (30 days; 60 .. 31536000): a multicast group a
	 * job with keep_multicast_group left on a device is trusted that long; after it, the next
	 * job sets the device up again (it may have rebooted or lost the group). */
	unsigned engine_keep_group_max_age_s;
	/* [engine] instance_id: the name of this fuotad's job leases (and its MQTT client id when
	 * [mqtt] client_id is not set); default [mqtt] client_id, else fuotad-<host>-<http port>,
	 * so that a restarted fuotad takes its own leases back at once. Held by one running
	 * fuotad at a time (fuota/store_lock.h): a configured id in use is refused, a derived one
	 * falls back to <id>-<pid>. */
	char engine_instance_id[64];
	char master_key_hex[80];
	char master_key_file[512];
	/* Resolved by cfg_load from master_key_hex or master_key_file. */
	bool have_master_key;
	uint8_t master_key[CFG_MASTER_KEY_LEN];
};

/* Fills c with the defaults listed above. */
void cfg_defaults(struct cfg *c);

/* Loads defaults, then the file at path (NULL: no file), then the environment, then resolves the
 * master key. Returns FUOTA_OK, or FUOTA_ERR_INVALID_ARG / FUOTA_ERR_IO with a message naming the
 * key or file in err. An unknown key in the file is an error (a typo must not go unnoticed). */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);

/* Applies one setting, as the file and the environment do. Returns FUOTA_OK or
 * FUOTA_ERR_INVALID_ARG (unknown key or bad value, message in err). */
int cfg_set(struct cfg *c, const char *section, const char *key, const char *value, char *err,
            size_t errlen);

#endif
