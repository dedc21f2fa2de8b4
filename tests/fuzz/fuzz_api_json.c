/* Fuzzes fuotad's request decoding: the JSON body decoders (device, tenant, token, job), the
 * multipart parser and form check, the form-field conversion, the UTF-8 check, the locator of
 * JSON errors and the job plan computed from a decoded job.
 * Input: byte 0 picks the target, the rest is the body (for multipart: "boundary\n" then body). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/api_decode.h"
#include "fuota/err.h"
#include "fuota/job_regions.h"
#include "fuota/multipart.h"
#include "fuota/plan.h"
#include "fuzz.h"

/* Invariants hold in every build type (CHECK() vanishes under NDEBUG). */
#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static void check_deveui(const char *e)
{
	CHECK(strlen(e) == 16);
	for (int i = 0; i < 16; i++)
		CHECK((e[i] >= '0' && e[i] <= '9') || (e[i] >= 'a' && e[i] <= 'f'));
}

/* A job across regions: its "regions" decoded, then checked against lorawan/'s tables. */
static void fuzz_regions(json_t *obj)
{
	struct job_region r[JOB_REGIONS_MAX];
	struct api_error e;
	size_t n = 0;

	memset(&e, 0, sizeof(e));
	if (api_decode_regions(obj, r, &n, &e) != FUOTA_OK) {
		CHECK(e.status == 400 && e.field[0] && n == 0);
		return;
	}
	CHECK(n >= 1 && n <= JOB_REGIONS_MAX);
	if (job_regions_check(r, n, NULL, 0, &e) != FUOTA_OK)
		CHECK(e.status == 400 && e.field[0]);
}

static void fuzz_job(const char *body, size_t len, unsigned flags)
{
	struct api_error e;
	struct job_params p;
	struct job_plan plan;
	json_t *obj = api_parse_object(body, len, &e);

	if (!obj) {
		CHECK(e.status == 400);
		return;
	}
	fuzz_regions(obj);
	if (api_decode_job(obj, flags & 1, flags & 2, &p, &e) == FUOTA_OK) {
		for (size_t i = 0; i < p.n_devices; i++) {
			check_deveui(p.dev_euis[i]);
			/* sorted and unique */
			CHECK(i == 0 || memcmp(p.dev_euis[i - 1], p.dev_euis[i], 16) < 0);
		}
		CHECK(p.multicast_class == 'B' || p.multicast_class == 'C');
		if (plan_compute(&p, (size_t)(flags >> 2) * 977u, &plan, &e) == FUOTA_OK) {
			CHECK(plan.total_frames <= PLAN_MAX_FRAMES);
			CHECK(plan.total_frames == plan.nb_frag + plan.redundancy);
			CHECK(plan.fragment_size >= 1 &&
			      plan.fragment_size + 3 <= plan.max_payload);
			CHECK(plan.mc_timeout_exp <= 15);
			CHECK(plan.mc_timeout_s >= plan.multicast_s);
		} else {
			CHECK(e.status == 400 && e.field[0]);
		}
	} else {
		CHECK(e.status == 400 || e.status == 500);
	}
	job_params_free(&p);
	json_decref(obj);
}

static void fuzz_multipart(const char *data, size_t len)
{
	const char *nl = memchr(data, '\n', len);
	char ct[128], boundary[80];
	struct mp_part parts[8];
	size_t n, blen;

	if (!nl || (size_t)(nl - data) > 90)
		return;
	blen = (size_t)(nl - data);
	memcpy(ct, "multipart/form-data; boundary=", 30);
	memcpy(ct + 30, data, blen);
	ct[30 + blen] = 0;
	if (mp_boundary(ct, boundary, sizeof(boundary)) != FUOTA_OK)
		return;
	if (mp_parse(boundary, (const uint8_t *)nl + 1, len - blen - 1, parts, 8, &n) == FUOTA_OK) {
		struct api_error e;
		bool checked = api_form_check(parts, n, "file", &e) == FUOTA_OK;

		CHECK(n <= 8);
		CHECK(checked || e.status == 400);
		for (size_t i = 0; i < n; i++) {
			const uint8_t *base = (const uint8_t *)nl + 1;

			/* every part lies inside the body */
			CHECK(parts[i].data >= base &&
			      parts[i].data + parts[i].len <= base + len - blen - 1);
			json_t *v = api_form_value(parts[i].name, (const char *)parts[i].data,
			                           parts[i].len);

			/* A checked form's text fields always convert: a NULL here was the
			 * "out of memory" 500 of invalid UTF-8. */
			CHECK(v || !checked || strcmp(parts[i].name, "file") == 0);
			/* A form's regions are decoded as a JSON body's. */
			if (v && strcmp(parts[i].name, "regions") == 0) {
				json_t *o = json_pack("{s:O}", "regions", v);

				if (o)
					fuzz_regions(o);
				json_decref(o);
			}
			json_decref(v);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_error e;
	const char *body = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;

	if (size == 0)
		return 0;
	switch (data[0] & 7) {
	case 0: {
		struct api_device_req d;

		if (api_decode_device(body, len, &d, &e) == FUOTA_OK) {
			check_deveui(d.dev_eui);
			CHECK(d.dev_class == 'A' || d.dev_class == 'B' || d.dev_class == 'C');
			CHECK(strcmp(d.stack, "ts004") == 0 ||
			      strcmp(d.stack, "loramac-node") == 0 || strcmp(d.stack, "lbm") == 0);
			CHECK(d.max_frags >= 0 && d.max_frags <= 16383);
		} else {
			CHECK(e.status == 400 && e.code[0]);
		}
		break;
	}
	case 1: {
		char name[API_NAME_MAX + 1], field[64], path[128];

		if (api_decode_tenant(body, len, name, &e) == FUOTA_OK)
			CHECK(strlen(name) >= 1 && strlen(name) <= API_NAME_MAX);
		/* The error locator at any position, not only where jansson stopped. */
		api_json_where(body, len, len ? (size_t)data[size - 1] * 31u % (len + 1) : 0, field,
		               sizeof(field), path, sizeof(path));
		CHECK(strlen(field) < sizeof(field) && strlen(path) < sizeof(path));
		break;
	}
	case 2: {
		struct api_token_req t;

		if (api_decode_token(body, len, &t, &e) == FUOTA_OK)
			CHECK(t.tenant_id >= 1);
		break;
	}
	case 3:
	case 4: fuzz_job(body, len, data[0] >> 3 | (data[0] & 4 ? 0 : 3)); break;
	case 5: fuzz_multipart(body, len); break;
	case 6: {
		/* Valid text is always a JSON string (what the database is given). */
		json_t *v = json_stringn(body, len);

		CHECK(!api_text_valid(body, len) || v);
		json_decref(v);
		break;
	}
	default: json_decref(api_form_value(len & 1 ? "devices" : "data_rate", body, len)); break;
	}
	return 0;
}
