/* Text encodings of the protobuf JSON mapping: base64 for bytes, RFC 3339 for Timestamp,
 * "<s>.<frac>s" for Duration. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fuota/cs_msg.h"
#include "fuota/err.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void cs_base64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	/* The URL-safe alphabet is accepted too: some integrations emit it. */
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int cs_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
{
	uint32_t acc = 0;
	size_t n = 0, digits = 0, pad = 0;

	for (size_t i = 0; i < in_len; i++) {
		int v;

		if (in[i] == '=') {
			pad++;
			continue;
		}
		if (pad)
			return FUOTA_ERR_MALFORMED; /* data after padding */
		v = b64_value(in[i]);
		if (v < 0)
			return FUOTA_ERR_MALFORMED;
		acc = acc << 6 | (uint32_t)v;
		if (++digits % 4 == 0) {
			if (n + 3 > cap)
				return FUOTA_ERR_NO_SPACE;
			out[n++] = (uint8_t)(acc >> 16);
			out[n++] = (uint8_t)(acc >> 8);
			out[n++] = (uint8_t)acc;
			acc = 0;
		}
	}
	switch (digits % 4) {
	case 0: break;
	case 1: return FUOTA_ERR_MALFORMED; /* 6 bits cannot make a byte */
	case 2:
		if (n + 1 > cap)
			return FUOTA_ERR_NO_SPACE;
		out[n++] = (uint8_t)(acc >> 4);
		break;
	case 3:
		if (n + 2 > cap)
			return FUOTA_ERR_NO_SPACE;
		out[n++] = (uint8_t)(acc >> 10);
		out[n++] = (uint8_t)(acc >> 2);
		break;
	}
	if (pad > 2 || (pad && (digits + pad) % 4 != 0))
		return FUOTA_ERR_MALFORMED;
	*out_len = n;
	return FUOTA_OK;
}

/* Parses ".ddddddddd" (1..9 digits) at *s into nanoseconds; advances *s. */
static int parse_fraction(const char **s, int32_t *nsec)
{
	int32_t v = 0, scale = 100000000;
	const char *p = *s;

	if (*p != '.')
		return 0;
	p++;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (scale == 0)
			return -1; /* more than nanosecond precision */
		v += (int32_t)(*p - '0') * scale;
		scale /= 10;
		p++;
	}
	*nsec = v;
	*s = p;
	return 0;
}

static int parse_digits(const char **s, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*s)[i];

		if (c < '0' || c > '9')
			return -1;
		x = x * 10 + (c - '0');
	}
	*s += n;
	*v = x;
	return 0;
}

int cs_time_parse_rfc3339(const char *s, struct cs_time *t)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int32_t nsec = 0;
	struct tm tm;
	int64_t epoch;

	memset(t, 0, sizeof(*t));
	if (parse_digits(&s, 4, &y) || *s++ != '-' || parse_digits(&s, 2, &mo) || *s++ != '-' ||
	    parse_digits(&s, 2, &d) || (*s != 'T' && *s != 't' && *s != ' '))
		return FUOTA_ERR_MALFORMED;
	s++;
	if (parse_digits(&s, 2, &h) || *s++ != ':' || parse_digits(&s, 2, &mi) || *s++ != ':' ||
	    parse_digits(&s, 2, &sec) || parse_fraction(&s, &nsec))
		return FUOTA_ERR_MALFORMED;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (parse_digits(&s, 2, &oh) || *s++ != ':' || parse_digits(&s, 2, &om))
			return FUOTA_ERR_MALFORMED;
	} else {
		return FUOTA_ERR_MALFORMED;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    oh > 23 || om > 59)
		return FUOTA_ERR_MALFORMED;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	epoch = (int64_t)timegm(&tm);
	epoch -= (int64_t)sign * (oh * 3600 + om * 60);
	t->set = 1;
	t->sec = epoch;
	t->nsec = nsec;
	return FUOTA_OK;
}

void cs_time_format_rfc3339(const struct cs_time *t, char *out, size_t outlen)
{
	time_t sec = (time_t)t->sec;
	struct tm tm;
	char base[32];

	if (!gmtime_r(&sec, &tm)) {
		snprintf(out, outlen, "1970-01-01T00:00:00Z");
		return;
	}
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (t->nsec)
		snprintf(out, outlen, "%s.%09dZ", base, (int)t->nsec);
	else
		snprintf(out, outlen, "%sZ", base);
}

int cs_duration_parse(const char *s, struct cs_time *t)
{
	int64_t sec = 0;
	int32_t nsec = 0;
	int neg = 0, digits = 0;

	memset(t, 0, sizeof(*t));
	if (*s == '-') {
		neg = 1;
		s++;
	}
	while (*s >= '0' && *s <= '9') {
		if (++digits > 12) /* protobuf limits durations to ±315,576,000,000 s */
			return FUOTA_ERR_MALFORMED;
		sec = sec * 10 + (*s++ - '0');
	}
	if (!digits || parse_fraction(&s, &nsec) || *s++ != 's' || *s)
		return FUOTA_ERR_MALFORMED;
	t->set = 1;
	t->sec = neg ? -sec : sec;
	t->nsec = neg ? -nsec : nsec;
	return FUOTA_OK;
}

void cs_duration_format(const struct cs_time *t, char *out, size_t outlen)
{
	int64_t sec = t->sec;
	int32_t nsec = t->nsec;
	const char *sign = "";

	if (sec < 0 || nsec < 0) {
		sign = "-";
		sec = sec < 0 ? -sec : sec;
		nsec = nsec < 0 ? -nsec : nsec;
	}
	if (nsec)
		snprintf(out, outlen, "%s%lld.%09ds", sign, (long long)sec, (int)nsec);
	else
		snprintf(out, outlen, "%s%llds", sign, (long long)sec);
}
