/* fuotad's commands for a gateway's modem update and fuota-gw's events about it, pure: the JSON
 * of {prefix}/gateway/{id}/command/modem-update and command/sessions (both QoS 1, retained), the
 * deferral rule, and the JSON of event/modem-update.
 *
 *   command/modem-update  {"id": <int64 > 0>, "action": "start"|"pause"|"resume"|"cancel",
 *                          "method": "ufota"|"foat"|"http"|"ftp"|"uart",
 *                          "url": "http://host[:port]/path" | "ftp://host[:port]/path",
 *                          "package": "/path on the gateway", "md5": "<32 hex>"}
 *     start needs a method; http and ftp a url and the md5 (the module's MD5 of the download is
 *     checked against it); foat and uart a package. Credentials never come over MQTT.
 *   command/sessions      {"guardS": 120, "windows": [{"start": s, "end": s, "job": ".."}]}
 *   event/modem-update    {"id":.., "state":.., "method":.., "progress":.., "deferredUntil":..,
 *                          "firmwareBefore":.., "firmware":.., "error":..}
 *
 * Ownership: every function works on the caller's structs; the JSON writers malloc. */
#ifndef FUOTA_GW_MODEM_CMD_H
#define FUOTA_GW_MODEM_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/sara_fw_sm.h"

enum gw_mu_action { GW_MU_START = 1, GW_MU_PAUSE, GW_MU_RESUME, GW_MU_CANCEL };

struct gw_mu_cmd {
	int64_t id;
	enum gw_mu_action action;
	enum fwu_method method; /* FWU_M_NONE when absent (pause, resume, cancel) */
	char url[256];          /* "" when absent */
	char package[256];      /* "" when absent */
	char md5[33];           /* "" when absent */
};

/* Parses command/modem-update. FUOTA_ERR_MALFORMED with a message in err (never a crash) for
 * anything but the message above: not JSON, a field of the wrong type or out of range, an
 * unknown action or method, a url with a quote, a control byte or another scheme, a relative
 * package path, an md5 that is not 32 hex digits, a start without what its method needs.
 * Unknown fields are ignored. */
int gw_mu_cmd_parse(const char *buf, size_t len, struct gw_mu_cmd *out, char *err, size_t errlen);

struct gw_url {
	bool ftp; /* else http */
	char host[128];
	uint16_t port; /* 0: the scheme's default */
	char path[256];
};
/* "http://host[:port]/path" or "ftp://host[:port]/path" (no user info). FUOTA_ERR_MALFORMED
 * otherwise. */
int gw_url_parse(const char *url, struct gw_url *out);

/* Whether a start's url (http, or ftp when ftp) and package (foat, uart) are ones
 * gw_mu_cmd_parse takes: fuotad checks an update's request with them, since a start fuota-gw
 * ignores would never be answered. */
bool gw_mu_url_ok(const char *url, bool ftp);
bool gw_mu_package_ok(const char *package);

#define GW_WINDOWS_MAX 64
struct gw_window {
	int64_t start, end; /* unix seconds, start <= end */
	char job[64];
};
struct gw_sessions {
	int64_t guard_s; /* 0..86400; 120 when absent */
	size_t n;
	struct gw_window w[GW_WINDOWS_MAX];
};

/* Parses command/sessions. FUOTA_ERR_MALFORMED with a message for anything else, more than
 * GW_WINDOWS_MAX windows included (dropping one would let an update start inside it). */
int gw_sessions_parse(const char *buf, size_t len, struct gw_sessions *out, char *err,
                      size_t errlen);

/* The deferral rule: the earliest t >= now_s at which an update expected to take duration_s may
 * start, so that [t, t + duration_s) meets no window widened by the guard on both sides,
 * [start - guard, end + guard). now_s itself when it may start now. Pure. */
int64_t gw_mu_earliest(const struct gw_sessions *s, int64_t duration_s, int64_t now_s);

/* A pessimistic duration for method: the transfer (pkg_bytes at baud for foat and uart; a
 * download of dl_s for the others), the install (install_s) and re-registration (120 s). */
int64_t gw_mu_duration(enum fwu_method m, uint64_t pkg_bytes, uint32_t baud, int64_t dl_s,
                       int64_t install_s);

/* The event state of a manager status: "downloading", "installing", "paused", "done", "failed",
 * "cancelled"; NULL for IDLE and ACK_PENDING (the caller says "deferred" or "starting"). */
const char *gw_mu_state_of(const struct fwu_status *st);

struct gw_mu_event {
	int64_t id; /* 0: an update fuotad did not start (a uFOTA push) */
	char state[16];
	char method[8];
	int progress;           /* 0..100, -1 absent */
	int64_t deferred_until; /* 0 absent */
	char fw_before[48], fw[48];
	char error[128]; /* "" absent */
};

/* event/modem-update's JSON, malloc'd and NUL-terminated. */
int gw_mu_event_to_json(const struct gw_mu_event *e, char **out, size_t *out_len);

#endif
