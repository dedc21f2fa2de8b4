/* Request decoding and validation (see api_decode.h). */
#include "fuota/api_decode.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuota/cbox.h"
#include "fuota/dev_stack.h"
#include "fuota/err.h"
#include "fuota/lw_region.h"

/* A body jansson refused, answered like every other 400: the field is named when the error lies
 * in a member's value. A string holding \u0000 and an integer past int64 are valid JSON that
 * jansson will not represent: they are the field's fault (invalid_field), not the syntax's. */
static void parse_error(const char *body, size_t len, const json_error_t *jerr, struct api_error *e)
{
	enum json_error_code code = json_error_code(jerr);
	char field[64], path[128];

	api_json_where(body, len, jerr->position > 0 ? (size_t)jerr->position : 0, field,
	               sizeof(field), path, sizeof(path));
	if (field[0] && code == json_error_null_character)
		api_error_field(e, field, "%s must not contain NUL characters", path);
	else if (field[0] && code == json_error_numeric_overflow)
		api_error_field(e, field, "%s is out of range (%s)", path, jerr->text);
	else if (field[0])
		api_error_set(e, 400, "malformed_json", field,
		              "invalid JSON in %s at line %d column %d: %s", path, jerr->line,
		              jerr->column, jerr->text);
	else
		api_error_set(e, 400, "malformed_json", NULL,
		              "invalid JSON at line %d column %d: %s", jerr->line, jerr->column,
		              jerr->text);
}

json_t *api_parse_object(const char *body, size_t len, struct api_error *e)
{
	json_error_t jerr;
	json_t *j;

	if (len == 0) {
		api_error_set(e, 400, "malformed_json", NULL, "the request needs a JSON body");
		return NULL;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		parse_error(body, len, &jerr, e);
		return NULL;
	}
	if (!json_is_object(j)) {
		api_error_set(e, 400, "invalid_body", NULL, "the body must be a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Refuses any key not in allowed (NULL-terminated): a typo must not be silently ignored. */
static int check_fields(json_t *obj, const char *const *allowed, struct api_error *e)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		const char *const *a = allowed;

		(void)v;
		while (*a && strcmp(*a, key) != 0)
			a++;
		if (!*a)
			return api_error_field(e, key, "unknown field \"%.40s\"", key);
	}
	return FUOTA_OK;
}

/* A string field: *present = 0 and FUOTA_OK when absent and optional. */
static int get_str(json_t *obj, const char *key, bool required, size_t max, char *out,
                   struct api_error *e)
{
	json_t *v = json_object_get(obj, key);
	size_t n;

	out[0] = 0;
	if (!v || json_is_null(v)) {
		if (required)
			return api_error_field(e, key, "%s is required", key);
		return FUOTA_OK;
	}
	if (!json_is_string(v))
		return api_error_field(e, key, "%s must be a string", key);
	n = json_string_length(v);
	if (n == 0)
		return api_error_field(e, key, "%s must not be empty", key);
	if (n > max)
		return api_error_field(e, key, "%s is longer than %zu characters", key, max);
	if (memchr(json_string_value(v), 0, n))
		return api_error_field(e, key, "%s must not contain NUL characters", key);
	memcpy(out, json_string_value(v), n + 1);
	return FUOTA_OK;
}

/* An integer field in min..max; *present tells whether it was there. */
static int get_int(json_t *obj, const char *key, bool required, long long min, long long max,
                   long long *out, bool *present, struct api_error *e)
{
	json_t *v = json_object_get(obj, key);
	long long n;

	if (present)
		*present = false;
	if (!v || json_is_null(v)) {
		if (required)
			return api_error_field(e, key, "%s is required", key);
		return FUOTA_OK;
	}
	if (!json_is_integer(v))
		return api_error_field(e, key, "%s must be an integer", key);
	n = json_integer_value(v);
	if (n < 0 && min >= 0)
		return api_error_field(e, key, "%s must not be negative", key);
	if (n < min || n > max)
		return api_error_field(e, key, "%s must be in %lld..%lld", key, min, max);
	*out = n;
	if (present)
		*present = true;
	return FUOTA_OK;
}

/* 16 hex digits, stored lowercase. */
static int parse_deveui(const char *s, size_t len, char out[17])
{
	if (len != 16)
		return -1;
	for (size_t i = 0; i < 16; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[16] = 0;
	return 0;
}

static int get_region(json_t *obj, char out[16], struct api_error *e)
{
	char name[32];
	const struct lw_region *r;
	int rc = get_str(obj, "region", true, sizeof(name) - 1, name, e);

	if (rc != FUOTA_OK)
		return rc;
	r = lw_region_find(name);
	if (!r)
		return api_error_field(e, "region", "unknown region \"%s\"", name);
	snprintf(out, 16, "%s", r->name);
	return FUOTA_OK;
}

static const char *const lorawan_versions[] = {"1.0.0", "1.0.1", "1.0.2", "1.0.3",
                                               "1.0.4", "1.1.0", NULL};

static int get_packages(json_t *obj, struct api_device_req *d, struct api_error *e)
{
	static const char *const fields[] = {"ts003", "ts004", "ts005", "ts006", NULL};
	json_t *p = json_object_get(obj, "packages");
	long long v[4] = {0, 0, 0, 0};
	int rc;

	if (!p || json_is_null(p))
		return FUOTA_OK;
	if (!json_is_object(p))
		return api_error_field(e, "packages", "packages must be an object");
	rc = check_fields(p, fields, e);
	/* TS006 Firmware Management has one version (1); 0: the device does not have it. */
	for (int i = 0; rc == FUOTA_OK && i < 4; i++)
		rc = get_int(p, fields[i], false, 0, i == 3 ? 1 : 2, &v[i], NULL, e);
	if (rc != FUOTA_OK) {
		char f[64];

		snprintf(f, sizeof(f), "packages.%.50s", e->field);
		snprintf(e->field, sizeof(e->field), "%s", f);
		return rc;
	}
	d->ts003_version = (int)v[0];
	d->ts004_version = (int)v[1];
	d->ts005_version = (int)v[2];
	d->ts006_version = (int)v[3];
	return FUOTA_OK;
}

static int get_key(json_t *obj, struct api_device_req *d, struct api_error *e)
{
	bool v10 = strncmp(d->lorawan_version, "1.0", 3) == 0;
	json_t *gen = json_object_get(obj, "gen_app_key"), *app = json_object_get(obj, "app_key");
	const char *field = gen ? "gen_app_key" : "app_key";
	json_t *v = gen ? gen : app;

	if (gen && app)
		return api_error_field(e, "app_key", "give gen_app_key or app_key, not both");
	if (!v)
		return api_error_field(
		        e, v10 ? "gen_app_key" : "app_key",
		        "%s is required for LoRaWAN %s (the McRootKey is derived from "
		        "it)",
		        v10 ? "gen_app_key" : "app_key", d->lorawan_version);
	if (!json_is_string(v))
		return api_error_field(e, field, "%s must be a string of 32 hex digits", field);
	if (cbox_hex_decode(json_string_value(v), json_string_length(v), d->key, 16) != FUOTA_OK)
		return api_error_field(e, field, "%s must be 32 hex digits (16 bytes)", field);
	if (v10 != (gen != NULL))
		return api_error_field(
		        e, field, "LoRaWAN %s devices use %s, not %s (TS005 McRootKey derivation)",
		        d->lorawan_version, v10 ? "gen_app_key" : "app_key", field);
	snprintf(d->key_kind, sizeof(d->key_kind), "%s", field);
	return FUOTA_OK;
}

/* "stack" and "max_frags" (issue 16): how the device reads TS004, and its memory limit. */
static int get_stack(json_t *obj, struct api_device_req *d, struct api_error *e)
{
	enum dev_stack st;
	long long max = 0;
	int rc = get_str(obj, "stack", false, sizeof(d->stack) - 1, d->stack, e);

	if (rc != FUOTA_OK)
		return rc;
	if (dev_stack_parse(d->stack, &st) != 0)
		return api_error_field(e, "stack",
		                       "stack must be \"ts004\", \"loramac-node\" or \"lbm\"");
	snprintf(d->stack, sizeof(d->stack), "%s", dev_stack_name(st));
	rc = get_int(obj, "max_frags", false, 1, PLAN_MAX_FRAMES, &max, NULL, e);
	d->max_frags = (int)max;
	return rc;
}

int api_decode_device(const char *body, size_t len, struct api_device_req *d, struct api_error *e)
{
	static const char *const fields[] = {
	        "dev_eui", "application_id", "lorawan_version", "gen_app_key", "app_key", "class",
	        "region",  "packages",       "stack",           "max_frags",   NULL};
	json_t *obj = api_parse_object(body, len, e);
	char eui[32], cls[4], ver[32];
	const char *const *v;
	int rc;

	memset(d, 0, sizeof(*d));
	if (!obj)
		return FUOTA_ERR_INVALID_ARG;
	if ((rc = check_fields(obj, fields, e)) != FUOTA_OK)
		goto out;
	if ((rc = get_str(obj, "dev_eui", true, sizeof(eui) - 1, eui, e)) != FUOTA_OK)
		goto out;
	if (parse_deveui(eui, strlen(eui), d->dev_eui) != 0) {
		rc = api_error_field(e, "dev_eui", "dev_eui must be 16 hex digits");
		goto out;
	}
	if ((rc = get_str(obj, "application_id", true, sizeof(d->application_id) - 1,
	                  d->application_id, e)) != FUOTA_OK)
		goto out;
	if ((rc = get_str(obj, "lorawan_version", true, sizeof(ver) - 1, ver, e)) != FUOTA_OK)
		goto out;
	for (v = lorawan_versions; *v && strcmp(*v, ver) != 0; v++)
		;
	if (!*v) {
		rc = api_error_field(e, "lorawan_version",
		                     "lorawan_version must be one of 1.0.0 .. 1.0.4, 1.1.0");
		goto out;
	}
	snprintf(d->lorawan_version, sizeof(d->lorawan_version), "%s", *v);
	if ((rc = get_key(obj, d, e)) != FUOTA_OK)
		goto out;
	if ((rc = get_str(obj, "class", true, sizeof(cls) - 1, cls, e)) != FUOTA_OK)
		goto out;
	if (strlen(cls) != 1 || !strchr("ABC", cls[0])) {
		rc = api_error_field(e, "class", "class must be \"A\", \"B\" or \"C\"");
		goto out;
	}
	d->dev_class = cls[0];
	if ((rc = get_region(obj, d->region, e)) != FUOTA_OK)
		goto out;
	if ((rc = get_packages(obj, d, e)) != FUOTA_OK)
		goto out;
	rc = get_stack(obj, d, e);
out:
	json_decref(obj);
	return rc;
}

int api_decode_tenant(const char *body, size_t len, char name[API_NAME_MAX + 1],
                      struct api_error *e)
{
	static const char *const fields[] = {"name", NULL};
	json_t *obj = api_parse_object(body, len, e);
	int rc;

	if (!obj)
		return FUOTA_ERR_INVALID_ARG;
	rc = check_fields(obj, fields, e);
	if (rc == FUOTA_OK)
		rc = get_str(obj, "name", true, API_NAME_MAX, name, e);
	json_decref(obj);
	return rc;
}

int api_decode_token(const char *body, size_t len, struct api_token_req *t, struct api_error *e)
{
	static const char *const fields[] = {"tenant_id", "name", "admin", NULL};
	json_t *obj = api_parse_object(body, len, e);
	json_t *admin;
	long long id = 0;
	int rc;

	memset(t, 0, sizeof(*t));
	if (!obj)
		return FUOTA_ERR_INVALID_ARG;
	if ((rc = check_fields(obj, fields, e)) != FUOTA_OK)
		goto out;
	if ((rc = get_int(obj, "tenant_id", true, 1, INT64_MAX, &id, NULL, e)) != FUOTA_OK)
		goto out;
	t->tenant_id = id;
	if ((rc = get_str(obj, "name", true, API_NAME_MAX, t->name, e)) != FUOTA_OK)
		goto out;
	admin = json_object_get(obj, "admin");
	if (admin && !json_is_boolean(admin) && !json_is_null(admin)) {
		rc = api_error_field(e, "admin", "admin must be true or false");
		goto out;
	}
	t->admin = admin && json_is_true(admin);
out:
	json_decref(obj);
	return rc;
}

static int cmp_eui(const void *a, const void *b)
{
	return memcmp(a, b, PLAN_DEVEUI_LEN);
}

static int get_devices(json_t *obj, bool required, struct job_params *p, struct api_error *e)
{
	json_t *arr = json_object_get(obj, "devices"), *v;
	size_t i, n;

	if (!arr || json_is_null(arr)) {
		if (required)
			return api_error_field(e, "devices",
			                       "devices is required (a list of DevEUIs)");
		return FUOTA_OK;
	}
	if (!json_is_array(arr))
		return api_error_field(e, "devices", "devices must be an array of DevEUIs");
	n = json_array_size(arr);
	if (n == 0 && required)
		return api_error_field(e, "devices", "devices must not be empty");
	if (n > API_MAX_DEVICES_PER_JOB)
		return api_error_field(e, "devices", "at most %u devices per job",
		                       API_MAX_DEVICES_PER_JOB);
	p->dev_euis = malloc((n ? n : 1) * sizeof(*p->dev_euis));
	if (!p->dev_euis)
		return api_error_set(e, 500, "internal", NULL, "out of memory");
	p->n_devices = n;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) ||
		    parse_deveui(json_string_value(v), json_string_length(v), p->dev_euis[i]) != 0)
			return api_error_field(e, "devices", "devices[%zu] must be 16 hex digits",
			                       i);
	}
	qsort(p->dev_euis, n, sizeof(*p->dev_euis), cmp_eui);
	for (i = 1; i < n; i++)
		if (memcmp(p->dev_euis[i - 1], p->dev_euis[i], PLAN_DEVEUI_LEN) == 0)
			return api_error_field(e, "devices", "DevEUI %s is listed twice",
			                       p->dev_euis[i]);
	return FUOTA_OK;
}

static unsigned two(const char *s)
{
	return (unsigned)(s[0] - '0') * 10u + (unsigned)(s[1] - '0');
}

/* The calendar fields of a syntactically valid RFC 3339 time: year 0001..9999 (PostgreSQL has
 * no year 0), a day that exists in its month, hour 0..23, minute 0..59, second 0..60 (a leap
 * second), an offset of at most 23:59. Each was a 500 from the database before. */
static int check_fields_3339(const char *s, const char *offset)
{
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned year = two(s) * 100u + two(s + 2), mon = two(s + 5), day = two(s + 8);
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (year == 0 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
	    (mon == 2 && day == 29 && !leap))
		return -1;
	if (two(s + 11) > 23 || two(s + 14) > 59 || two(s + 17) > 60)
		return -1;
	if (offset && (two(offset + 1) > 23 || two(offset + 4) > 59))
		return -1;
	return 0;
}

/* RFC 3339: 2025-01-31T12:00:00Z, with an optional fraction (at most 9 digits) and a numeric
 * offset. */
static int check_rfc3339(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t i, n = strlen(s);

	if (n < sizeof(pat) - 1)
		return -1;
	for (i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'd' ? !isdigit((unsigned char)s[i])
		                  : !(s[i] == pat[i] || (pat[i] == 'T' && s[i] == 't')))
			return -1;
	}
	if (s[i] == '.') {
		size_t j = i + 1;

		while (isdigit((unsigned char)s[j]))
			j++;
		if (j == i + 1 || j - i - 1 > 9)
			return -1;
		i = j;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == 0)
		return check_fields_3339(s, NULL);
	if ((s[i] == '+' || s[i] == '-') && isdigit((unsigned char)s[i + 1]) &&
	    isdigit((unsigned char)s[i + 2]) && s[i + 3] == ':' &&
	    isdigit((unsigned char)s[i + 4]) && isdigit((unsigned char)s[i + 5]) && s[i + 6] == 0)
		return check_fields_3339(s, s + i);
	return -1;
}

int api_rfc3339_ms(const char *s, int64_t *out_ms)
{
	struct tm tm;
	size_t n = strlen(s);
	int64_t off = 0;

	if (check_rfc3339(s) != 0)
		return FUOTA_ERR_INVALID_ARG;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)(two(s) * 100u + two(s + 2)) - 1900;
	tm.tm_mon = (int)two(s + 5) - 1;
	tm.tm_mday = (int)two(s + 8);
	tm.tm_hour = (int)two(s + 11);
	tm.tm_min = (int)two(s + 14);
	tm.tm_sec = (int)two(s + 17);
	/* check_rfc3339 let through Z or a "+hh:mm" offset at the end. */
	if (s[n - 1] != 'Z' && s[n - 1] != 'z')
		off = (int64_t)(two(s + n - 5) * 3600u + two(s + n - 2) * 60u) *
		      (s[n - 6] == '-' ? -1 : 1);
	*out_ms = ((int64_t)timegm(&tm) - off) * 1000;
	return FUOTA_OK;
}

/* keep_multicast_group: a boolean, false when absent (a form sends "true" or "false"). */
static int get_keep(json_t *obj, struct job_params *p, struct api_error *e)
{
	json_t *v = json_object_get(obj, "keep_multicast_group");

	p->keep_multicast_group = false;
	if (!v || json_is_null(v))
		return FUOTA_OK;
	if (!json_is_boolean(v))
		return api_error_field(e, "keep_multicast_group", "must be true or false");
	p->keep_multicast_group = json_is_true(v);
	return FUOTA_OK;
}

/* TS006 in the campaign: target_version (FW_version, 32 bits, DevVersionAns), and the reboot
 * after the clean-up, reboot_in_s (a 24-bit countdown; 0, reboot now without an answer, and
 * 0xFFFFFF, cancel, are not one) or reboot_at (RFC 3339, DevRebootTimeReq), not both; a reboot
 * needs target_version, the version the devices must report after it. */
static int get_fmp(json_t *obj, struct job_params *p, struct api_error *e)
{
	long long v;
	bool has;
	int rc;

	if ((rc = get_int(obj, "target_version", false, 0, UINT32_MAX, &v, &p->has_target_version,
	                  e)) != FUOTA_OK)
		return rc;
	p->target_version = p->has_target_version ? (uint32_t)v : 0;
	if ((rc = get_int(obj, "reboot_in_s", false, 1, 0xFFFFFE, &v, &has, e)) != FUOTA_OK)
		return rc;
	p->reboot_in_s = has ? (uint32_t)v : 0;
	if ((rc = get_str(obj, "reboot_at", false, sizeof(p->reboot_at) - 1, p->reboot_at, e)) !=
	    FUOTA_OK)
		return rc;
	if (p->reboot_at[0] && check_rfc3339(p->reboot_at) != 0)
		return api_error_field(
		        e, "reboot_at",
		        "reboot_at must be an RFC 3339 time, e.g. 2030-01-31T03:00:00Z");
	if (p->reboot_at[0] && has)
		return api_error_field(e, "reboot_at", "give reboot_at or reboot_in_s, not both");
	if ((has || p->reboot_at[0]) && !p->has_target_version)
		return api_error_field(e, has ? "reboot_in_s" : "reboot_at",
		                       "%s needs target_version (the version the devices must "
		                       "report after the reboot)",
		                       has ? "reboot_in_s" : "reboot_at");
	return FUOTA_OK;
}

static int job_numbers(json_t *obj, struct job_params *p, struct api_error *e)
{
	long long v;
	bool has_frames, has_pct, has;
	int rc;

	if ((rc = get_int(obj, "data_rate", true, 0, 15, &v, NULL, e)) != FUOTA_OK)
		return rc;
	p->data_rate = (unsigned)v;
	if ((rc = get_int(obj, "frequency_hz", true, 1, 10000000000ll, &v, NULL, e)) != FUOTA_OK)
		return rc;
	p->frequency_hz = (uint64_t)v;
	if ((rc = get_int(obj, "fragment_size", false, 1, 252, &v, &has, e)) != FUOTA_OK)
		return rc;
	p->fragment_size = has ? (unsigned)v : 0;
	if ((rc = get_int(obj, "redundancy_frames", false, 0, PLAN_MAX_FRAMES, &v, &has_frames,
	                  e)) != FUOTA_OK)
		return rc;
	if (has_frames)
		p->redundancy_frames = (int)v;
	if ((rc = get_int(obj, "redundancy_percent", false, 0, 1000, &v, &has_pct, e)) != FUOTA_OK)
		return rc;
	if (has_pct)
		p->redundancy_percent = (int)v;
	if (has_frames == has_pct)
		return api_error_field(
		        e, "redundancy_frames",
		        "give exactly one of redundancy_frames and redundancy_percent");
	if ((rc = get_int(obj, "unicast_timeout_s", true, 1, 86400, &v, NULL, e)) != FUOTA_OK)
		return rc;
	p->unicast_timeout_s = (unsigned)v;
	/* Not in the seed: absent, it is job_defaults_fields' (0 until then). */
	if ((rc = get_int(obj, "unicast_attempts", false, 1, 100, &v, &has, e)) != FUOTA_OK)
		return rc;
	p->unicast_attempts = has ? (unsigned)v : 0;
	if ((rc = get_int(obj, "multicast_timeout_s", false, 1, 128ll << 15, &v, &has, e)) !=
	    FUOTA_OK)
		return rc;
	p->multicast_timeout_s = has ? (unsigned)v : 0;
	if ((rc = get_int(obj, "ping_slot_periodicity", false, 0, 7, &v, &has, e)) != FUOTA_OK)
		return rc;
	p->ping_slot_periodicity = has ? (int)v : -1;
	if ((rc = get_int(obj, "tx_power_dbm", false, 0, 100, &v, &p->has_tx_power, e)) != FUOTA_OK)
		return rc;
	p->tx_power_dbm = p->has_tx_power ? (int)v : 0;
	if ((rc = get_fmp(obj, p, e)) != FUOTA_OK)
		return rc;
	return get_keep(obj, p, e);
}

int api_decode_job(json_t *obj, bool firmware_required, bool need_devices, struct job_params *p,
                   struct api_error *e)
{
	static const char *const fields[] = {"name",
	                                     "firmware_id",
	                                     "devices",
	                                     "redundancy_frames",
	                                     "redundancy_percent",
	                                     "unicast_timeout_s",
	                                     "unicast_attempts",
	                                     "data_rate",
	                                     "frequency_hz",
	                                     "region",
	                                     "multicast_class",
	                                     "multicast_timeout_s",
	                                     "ping_slot_periodicity",
	                                     "start_at",
	                                     "fragment_size",
	                                     "tx_power_dbm",
	                                     "keep_multicast_group",
	                                     "target_version",
	                                     "reboot_in_s",
	                                     "reboot_at",
	                                     NULL};
	char cls[4];
	long long fw = 0;
	bool has_fw;
	int rc;

	job_params_init(p);
	/* A job across regions is read apart (api_job_regions.c), each region as a job of its own.
	 */
	if (json_object_get(obj, "regions"))
		return api_error_field(e, "regions", "regions is read per region, not here");
	if ((rc = check_fields(obj, fields, e)) != FUOTA_OK)
		return rc;
	if ((rc = get_str(obj, "name", need_devices, API_NAME_MAX, p->name, e)) != FUOTA_OK)
		return rc;
	if ((rc = get_int(obj, "firmware_id", false, 1, INT64_MAX, &fw, &has_fw, e)) != FUOTA_OK)
		return rc;
	if (firmware_required && !has_fw)
		return api_error_field(e, "firmware_id",
		                       "firmware_id is required (or upload the image as \"file\")");
	if (!firmware_required && has_fw)
		return api_error_field(e, "firmware_id",
		                       "give firmware_id or a \"file\" part, not both");
	p->firmware_id = fw;
	/* Not in the seed: absent, the job takes its devices' (job_defaults_region). */
	p->region[0] = 0;
	if (json_object_get(obj, "region") && !json_is_null(json_object_get(obj, "region")) &&
	    (rc = get_region(obj, p->region, e)) != FUOTA_OK)
		return rc;
	if ((rc = job_numbers(obj, p, e)) != FUOTA_OK)
		return rc;
	if ((rc = get_str(obj, "multicast_class", true, sizeof(cls) - 1, cls, e)) != FUOTA_OK)
		return rc;
	if (strcmp(cls, "B") != 0 && strcmp(cls, "C") != 0)
		return api_error_field(e, "multicast_class",
		                       "multicast_class must be \"B\" or \"C\"");
	p->multicast_class = cls[0];
	/* Class B without ping_slot_periodicity: job_defaults_plan chooses it. */
	if (p->multicast_class == 'C' && p->ping_slot_periodicity >= 0)
		return api_error_field(e, "ping_slot_periodicity",
		                       "ping_slot_periodicity is for class B only");
	if ((rc = get_str(obj, "start_at", false, sizeof(p->start_at) - 1, p->start_at, e)) !=
	    FUOTA_OK)
		return rc;
	if (p->start_at[0] && check_rfc3339(p->start_at) != 0)
		return api_error_field(
		        e, "start_at",
		        "start_at must be an RFC 3339 time, e.g. 2030-01-31T12:00:00Z");
	return get_devices(obj, need_devices, p, e);
}

static const char *const numeric_fields[] = {"firmware_id",           "redundancy_frames",
                                             "redundancy_percent",    "unicast_timeout_s",
                                             "unicast_attempts",      "data_rate",
                                             "frequency_hz",          "multicast_timeout_s",
                                             "ping_slot_periodicity", "fragment_size",
                                             "tx_power_dbm",          "target_version",
                                             "reboot_in_s",           NULL};

static json_t *form_devices(const char *v, size_t len)
{
	json_t *arr;
	size_t i = 0;

	while (i < len && isspace((unsigned char)v[i]))
		i++;
	if (i < len && v[i] == '[') {
		json_t *j = json_loadb(v, len, 0, NULL);

		return j ? j : json_stringn(v, len); /* not JSON: a type error later */
	}
	arr = json_array();
	while (arr && i < len) {
		size_t n = 0;

		while (i < len && (isspace((unsigned char)v[i]) || v[i] == ','))
			i++;
		while (i + n < len && !isspace((unsigned char)v[i + n]) && v[i + n] != ',')
			n++;
		if (n && json_array_append_new(arr, json_stringn(v + i, n)) != 0) {
			json_decref(arr);
			return NULL;
		}
		i += n;
	}
	return arr;
}

/* A form's "regions": the JSON array a JSON body gives; text that is not JSON stays a string,
 * which api_decode_regions refuses naming the field. */
static json_t *form_regions(const char *v, size_t len)
{
	json_t *j = json_loadb(v, len, JSON_REJECT_DUPLICATES, NULL);

	return j ? j : json_stringn(v, len);
}

json_t *api_form_value(const char *name, const char *value, size_t len)
{
	if (strcmp(name, "devices") == 0)
		return form_devices(value, len);
	if (strcmp(name, "regions") == 0)
		return form_regions(value, len);
	if (strcmp(name, "keep_multicast_group") == 0 && (len == 4 || len == 5) &&
	    (memcmp(value, "true", len) == 0 || memcmp(value, "false", len) == 0))
		return json_boolean(len == 4);
	for (const char *const *f = numeric_fields; *f; f++) {
		char buf[32], *end;
		long long n;

		if (strcmp(*f, name) != 0)
			continue;
		if (len == 0 || len >= sizeof(buf))
			break;
		memcpy(buf, value, len);
		buf[len] = 0;
		errno = 0;
		n = strtoll(buf, &end, 10);
		if (errno || *end || !(isdigit((unsigned char)buf[0]) || buf[0] == '-'))
			break;
		return json_integer(n);
	}
	return json_stringn(value, len);
}

bool api_text_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i], need, cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false; /* a continuation byte, an overlong lead (c0, c1) or f5..ff */
		if (len - i <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3fu);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += need + 1;
	}
	return true;
}

void api_text_cut(char *s)
{
	size_t n = strlen(s);

	while (n && !api_text_valid(s, n))
		s[--n] = 0;
}

int api_form_check(const struct mp_part *parts, size_t n, const char *file_part,
                   struct api_error *e)
{
	for (size_t i = 0; i < n; i++) {
		const struct mp_part *p = &parts[i];
		bool is_file = file_part && strcmp(p->name, file_part) == 0;

		if (!api_text_valid(p->name, strlen(p->name)))
			return api_error_field(e, "", "a part's name is not valid UTF-8");
		if (!api_text_valid(p->filename, strlen(p->filename)))
			return api_error_field(
			        e, p->name, "the filename of \"%s\" is not valid UTF-8", p->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(parts[j].name, p->name) == 0)
				return api_error_field(e, p->name, "field \"%.40s\" given twice",
				                       p->name);
		if (!is_file && !api_text_valid((const char *)p->data, p->len))
			return api_error_field(e, p->name,
			                       "%s must be UTF-8 text without NUL characters",
			                       p->name);
	}
	return FUOTA_OK;
}
