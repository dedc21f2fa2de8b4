/* JSON member readers for the Semtech UDP codec: each names the object and field at fault, so a
 * datagram that does not parse says why. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "sudp_private.h"

int sudp_j_int(json_t *o, const char *obj, const char *key, int64_t min, int64_t max, int64_t *v,
               char *err, size_t errlen)
{
	json_t *m = json_object_get(o, key);
	json_int_t i;

	if (!m)
		return 0;
	if (!json_is_integer(m))
		return fuota_malformed(err, errlen, "%s.%s: not an integer", obj, key);
	i = json_integer_value(m);
	if (i < min || i > max)
		return fuota_malformed(err, errlen, "%s.%s: %lld out of [%lld, %lld]", obj, key,
		                       (long long)i, (long long)min, (long long)max);
	*v = (int64_t)i;
	return 1;
}

int sudp_j_num(json_t *o, const char *obj, const char *key, double min, double max, double *v,
               char *err, size_t errlen)
{
	json_t *m = json_object_get(o, key);
	double d;

	if (!m)
		return 0;
	if (!json_is_number(m))
		return fuota_malformed(err, errlen, "%s.%s: not a number", obj, key);
	d = json_number_value(m);
	if (!isfinite(d) || d < min || d > max)
		return fuota_malformed(err, errlen, "%s.%s: %g out of [%g, %g]", obj, key, d, min,
		                       max);
	*v = d;
	return 1;
}

int sudp_j_str(json_t *o, const char *obj, const char *key, const char **v, char *err,
               size_t errlen)
{
	json_t *m = json_object_get(o, key);

	if (!m)
		return 0;
	if (!json_is_string(m))
		return fuota_malformed(err, errlen, "%s.%s: not a string", obj, key);
	*v = json_string_value(m);
	return 1;
}

int sudp_j_bool(json_t *o, const char *obj, const char *key, int *v, char *err, size_t errlen)
{
	json_t *m = json_object_get(o, key);

	if (!m)
		return 0;
	if (!json_is_boolean(m))
		return fuota_malformed(err, errlen, "%s.%s: not a boolean", obj, key);
	*v = json_is_true(m);
	return 1;
}

int sudp_j_freq(json_t *o, const char *obj, uint32_t *hz, char *err, size_t errlen)
{
	double mhz = 0;
	int rc = sudp_j_num(o, obj, "freq", 0.000001, 4294.967295, &mhz, err, errlen);

	if (rc == 0)
		return fuota_malformed(err, errlen, "%s.freq: missing", obj);
	if (rc < 0)
		return rc;
	/* A double holds 15 significant digits; MHz with 6 decimals needs at most 10, so the
	 * nearest integer of mhz * 1e6 is the value that was written. */
	*hz = (uint32_t)llround(mhz * 1e6);
	return 1;
}

json_t *sudp_freq_json(uint32_t hz)
{
	/* hz / 1e6 is the double nearest the decimal; sudp_finish prints 10 significant digits,
	 * enough for every uint32 Hz value and never more than it. */
	return json_real((double)hz / 1e6);
}

static int parse_lora_datr(const char *s, struct sudp_mod *mod)
{
	char *end;
	unsigned long sf, bw;

	if (strncmp(s, "SF", 2) != 0 || s[2] < '0' || s[2] > '9')
		return -1;
	sf = strtoul(s + 2, &end, 10);
	if (strncmp(end, "BW", 2) != 0 || end[2] < '0' || end[2] > '9')
		return -1;
	bw = strtoul(end + 2, &end, 10);
	if (*end || sf < 5 || sf > 12 || (bw != 125 && bw != 250 && bw != 500))
		return -1;
	mod->sf = (uint32_t)sf;
	mod->bw_hz = (uint32_t)bw * 1000u;
	return 0;
}

static const char *const codr_names[] = {NULL, "4/5", "4/6", "4/7", "4/8"};

int sudp_j_mod(json_t *o, const char *obj, int need_codr, struct sudp_mod *mod, char *err,
               size_t errlen)
{
	const char *modu = NULL, *datr = NULL, *codr = NULL;
	int64_t bps = 0;
	int rc;

	memset(mod, 0, sizeof(*mod));
	if ((rc = sudp_j_str(o, obj, "modu", &modu, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "%s.modu: missing", obj);
	if (strcmp(modu, "FSK") == 0) {
		mod->fsk = 1;
		rc = sudp_j_int(o, obj, "datr", 500, 250000, &bps, err, errlen);
		if (rc <= 0)
			return rc ? rc
			          : fuota_malformed(err, errlen, "%s.datr: missing (FSK bit/s)",
			                            obj);
		mod->fsk_bps = (uint32_t)bps;
		return 1;
	}
	if (strcmp(modu, "LORA") != 0)
		return fuota_malformed(err, errlen, "%s.modu: \"%.16s\" is neither LORA nor FSK",
		                       obj, modu);
	if ((rc = sudp_j_str(o, obj, "datr", &datr, err, errlen)) <= 0)
		return rc ? rc
		          : fuota_malformed(err, errlen, "%s.datr: missing (LoRa SFnBWm)", obj);
	if (parse_lora_datr(datr, mod) != 0)
		return fuota_malformed(
		        err, errlen, "%s.datr: \"%.16s\" is not SF5..12 BW125/250/500", obj, datr);
	if ((rc = sudp_j_str(o, obj, "codr", &codr, err, errlen)) < 0)
		return rc;
	if (rc == 0)
		return need_codr ? fuota_malformed(err, errlen, "%s.codr: missing", obj) : 1;
	for (size_t i = 1; i < sizeof(codr_names) / sizeof(codr_names[0]); i++)
		if (strcmp(codr, codr_names[i]) == 0)
			mod->codr = (enum sudp_codr)i;
	if (mod->codr == SUDP_CR_NONE)
		return fuota_malformed(err, errlen, "%s.codr: \"%.16s\" is not 4/5..4/8", obj,
		                       codr);
	return 1;
}

int sudp_put_mod(json_t *o, const struct sudp_mod *mod)
{
	char datr[24];

	if (mod->fsk) {
		if (mod->fsk_bps == 0)
			return FUOTA_ERR_INVALID_ARG;
		json_object_set_new(o, "modu", json_string("FSK"));
		json_object_set_new(o, "datr", json_integer(mod->fsk_bps));
		return FUOTA_OK;
	}
	if (mod->sf < 5 || mod->sf > 12 ||
	    (mod->bw_hz != 125000 && mod->bw_hz != 250000 && mod->bw_hz != 500000) ||
	    mod->codr < SUDP_CR_4_5 || mod->codr > SUDP_CR_4_8)
		return FUOTA_ERR_INVALID_ARG;
	snprintf(datr, sizeof(datr), "SF%uBW%u", mod->sf, mod->bw_hz / 1000u);
	json_object_set_new(o, "modu", json_string("LORA"));
	json_object_set_new(o, "datr", json_string(datr));
	json_object_set_new(o, "codr", json_string(codr_names[mod->codr]));
	return FUOTA_OK;
}

int sudp_j_data(json_t *o, const char *obj, uint8_t *data, size_t *size, char *err, size_t errlen)
{
	const char *b64 = NULL;
	int64_t want = 0;
	size_t got = 0;
	int rc;

	if ((rc = sudp_j_int(o, obj, "size", 0, CS_MAX_PAYLOAD, &want, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "%s.size: missing", obj);
	if ((rc = sudp_j_str(o, obj, "data", &b64, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "%s.data: missing", obj);
	rc = cs_base64_decode(b64, strlen(b64), data, CS_MAX_PAYLOAD, &got);
	if (rc != FUOTA_OK)
		return fuota_malformed(err, errlen, "%s.data: %s", obj,
		                       rc == FUOTA_ERR_NO_SPACE ? "longer than 256 bytes"
		                                                : "not base64");
	if (got != (size_t)want)
		return fuota_malformed(err, errlen, "%s.size: %lld but data holds %zu bytes", obj,
		                       (long long)want, got);
	*size = got;
	return 1;
}

int sudp_put_data(json_t *o, const uint8_t *data, size_t size)
{
	char b64[4 * ((CS_MAX_PAYLOAD + 2) / 3) + 1];

	if (size > CS_MAX_PAYLOAD)
		return FUOTA_ERR_INVALID_ARG;
	cs_base64_encode(data, size, b64);
	json_object_set_new(o, "size", json_integer((json_int_t)size));
	json_object_set_new(o, "data", json_string(b64));
	return FUOTA_OK;
}

int sudp_finish(json_t *root, const uint8_t *hdr, size_t hdr_len, uint8_t **out, size_t *out_len)
{
	char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10));
	size_t n;
	uint8_t *buf;

	if (!text)
		return FUOTA_ERR_NO_MEMORY;
	n = strlen(text);
	buf = malloc(hdr_len + n);
	if (!buf) {
		free(text);
		return FUOTA_ERR_NO_MEMORY;
	}
	memcpy(buf, hdr, hdr_len);
	memcpy(buf + hdr_len, text, n);
	free(text);
	*out = buf;
	*out_len = hdr_len + n;
	return FUOTA_OK;
}
