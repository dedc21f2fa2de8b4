/* Decoding and validation of the REST API's request bodies, apart from any I/O so that they can be
 * fuzzed (tests/fuzz/fuzz_api_json.c). Each decoder reads untrusted bytes, rejects unknown fields,
 * wrong types and out-of-range values with a 400 api_error naming the field, and never crashes. */
#ifndef FUOTA_API_DECODE_H
#define FUOTA_API_DECODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/api_error.h"
#include "fuota/multipart.h"
#include "fuota/job_regions.h"
#include "fuota/plan.h"

#define API_MAX_DEVICES_PER_JOB 100000u
#define API_NAME_MAX            200u

struct api_device_req {
	char dev_eui[17]; /* lowercase */
	char application_id[101];
	char lorawan_version[8]; /* "1.0.0" .. "1.0.4", "1.1.0" */
	char dev_class;          /* 'A', 'B' or 'C' */
	char region[16];         /* canonical name from lw_region */
	char key_kind[12];       /* "gen_app_key" (LoRaWAN 1.0.x) or "app_key" (1.1) */
	uint8_t key[16];
	int ts003_version, ts004_version, ts005_version; /* 0 = unknown (asked later), 1, 2 */
	int ts006_version; /* 0 = without TS006 Firmware Management, 1 */
	char stack[16];    /* "ts004" (default), "loramac-node" or "lbm" (fuota/dev_stack.h) */
	int max_frags;     /* the most uncoded fragments it takes, 0 = unknown */
};

struct api_token_req {
	int64_t tenant_id;
	char name[API_NAME_MAX + 1];
	bool admin;
};

/* Parses body as one JSON object (duplicate keys refused). Returns the object (json_decref it)
 * or NULL with e set (400 malformed_json / invalid_body). */
json_t *api_parse_object(const char *body, size_t len, struct api_error *e);

/* Where jansson stopped reading body (len bytes) at byte pos (json_error_t.position): field gets
 * the keys of the objects the error is inside, joined by '.' ("packages.ts003"; "devices" for an
 * element of the devices array), path the same with array indices ("devices[2]"); both "" at the
 * top level (a syntax error outside every member). field holds fcap bytes, path pcap, both
 * always terminated. Reads at most pos bytes of body. */
void api_json_where(const char *body, size_t len, size_t pos, char *field, size_t fcap, char *path,
                    size_t pcap);

int api_decode_device(const char *body, size_t len, struct api_device_req *out,
                      struct api_error *e);
int api_decode_tenant(const char *body, size_t len, char name[API_NAME_MAX + 1],
                      struct api_error *e);
int api_decode_token(const char *body, size_t len, struct api_token_req *out, struct api_error *e);

/* A job (or a plan request) from a JSON object. firmware_required: false when the firmware comes
 * as a multipart file, in which case firmware_id must be absent. need_devices: false for
 * jobs:plan, where devices are optional. On success out->dev_euis is malloc'd (job_params_free).
 * Fields the seed does not name may be absent and are left for fuota/job_defaults.h: region ""
 * (the devices'), unicast_attempts 0, ping_slot_periodicity -1 for class B.
 * Returns FUOTA_OK or FUOTA_ERR_INVALID_ARG (e). */
int api_decode_job(json_t *obj, bool firmware_required, bool need_devices, struct job_params *out,
                   struct api_error *e);

/* The "regions" of a job across regions (fuota/job_regions.h) from a job request object that has
 * them: an array of 1..JOB_REGIONS_MAX objects {region, data_rate, frequency_hz, and optionally
 * fragment_size, tx_power_dbm, ping_slot_periodicity}, decoded into out[0..*n) (out holds
 * JOB_REGIONS_MAX). Those fields are refused beside regions (each region gives its own). Types
 * and ranges only: job_regions_check checks the regions against lorawan/'s tables. Returns
 * FUOTA_OK or FUOTA_ERR_INVALID_ARG (e, naming "regions[i].field"). */
int api_decode_regions(json_t *obj, struct job_region *out, size_t *n, struct api_error *e);

/* True when s[0..len) is valid UTF-8 (RFC 3629: no overlong form, no surrogate, at most
 * U+10FFFF) without a NUL: what a name, a query value or a form field may hold before it is
 * given to the database (PostgreSQL refuses invalid UTF-8 with an error, not a 400). */
bool api_text_valid(const char *s, size_t len);
/* An RFC 3339 time as jobs' start_at takes it (2030-01-31T12:00:00Z, a fraction, or an offset
 * +hh:mm) into Unix ms (the fraction dropped). FUOTA_ERR_INVALID_ARG when it is not one, or not
 * a real date. */
int api_rfc3339_ms(const char *s, int64_t *out_ms);

/* Cuts the NUL-terminated s at its first byte that is not part of valid UTF-8 (a text cut to a
 * length inside a character, for instance). */
void api_text_cut(char *s);

/* The checks every multipart form gets before its fields are read: each part's name and
 * filename are valid text, no name is given twice (the last one must not silently win), and
 * every part but the one named file_part (the binary image; NULL: none) is valid text. Returns
 * FUOTA_OK or FUOTA_ERR_INVALID_ARG with e naming the field (400). */
int api_form_check(const struct mp_part *parts, size_t n, const char *file_part,
                   struct api_error *e);

/* A multipart form's text field turned into the JSON value the job decoder expects: integers for
 * numeric fields when the text is one, "devices" as an array (a JSON array, or DevEUIs separated
 * by commas, spaces or newlines), "regions" as the JSON array a JSON body gives (a string when
 * the text is not JSON: the decoder refuses it), a string otherwise. Returns a new reference or
 * NULL (no memory). */
json_t *api_form_value(const char *name, const char *value, size_t len);

#endif
