/* The state file's text codec (sara_fw_sm.h). One "key=value" line per field in a fixed order,
 * closed by a CRC-32 line: a reader accepts the whole file or nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/sara_fw_parse.h"
#include "fuota/sara_fw_sm.h"

#define HEADER "fuota-modem-state 1\n"

/* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), bitwise: the file is small. */
static uint32_t crc32_ieee(const char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= (uint8_t)p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return c ^ 0xFFFFFFFFu;
}

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void put(struct out *o, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	n = key ? snprintf(o->buf + o->len, o->cap - o->len, "%s=", key) : 0;
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

static bool clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool encodable(const struct fwu_status *st, const struct fwu_desired *d)
{
	size_t i;

	if (!clean(st->ver_before) || !clean(st->ver_after) ||
	    (st->pkg_md5[0] && !fwu_md5_equal(st->pkg_md5, st->pkg_md5)) || !clean(d->psm_tau) ||
	    !clean(d->psm_active) || !clean(d->edrx_value))
		return false;
	for (i = 0; i < FWU_APNS; i++)
		if (!clean(d->apn[i].apn) || !clean(d->apn[i].pdp_type) ||
		    strchr(d->apn[i].pdp_type, ','))
			return false;
	return true;
}

int fwu_file_encode(const struct fwu_status *st, const struct fwu_desired *d, char *buf, size_t cap,
                    size_t *len)
{
	struct out o = {buf, cap, 0, cap == 0};
	size_t i;

	if (!encodable(st, d))
		return FUOTA_ERR_INVALID_ARG;
	put(&o, NULL, "%s", HEADER);
	put(&o, "state", "%s\n", fwu_state_name(st->state));
	put(&o, "method", "%s\n", fwu_method_name(st->method));
	put(&o, "pct", "%d\n", st->pct);
	put(&o, "result", "%d\n", st->result);
	put(&o, "fail", "%d\n", st->fail);
	put(&o, "fail_code", "%d\n", st->fail_code);
	put(&o, "ufota_mode", "%d\n", st->ufota_mode);
	put(&o, "sends", "%u\n", st->sends);
	put(&o, "foat_baud", "%u\n", (unsigned)st->foat_baud);
	put(&o, "seq", "%u\n", (unsigned)st->seq);
	put(&o, "ver_before", "%s\n", st->ver_before);
	put(&o, "ver_after", "%s\n", st->ver_after);
	if (st->pkg_md5[0]) /* only when known: older files stay as they were */
		put(&o, "pkg_md5", "%s\n", st->pkg_md5);
	put(&o, "mno", "%d\n", d->mno);
	for (i = 0; i < FWU_APNS; i++)
		put(&o, "apn", "%d,%s,%s\n", d->apn[i].cid, d->apn[i].pdp_type, d->apn[i].apn);
	put(&o, "psm", "%d,%s,%s\n", d->psm, d->psm_tau, d->psm_active);
	put(&o, "edrx", "%d,%d,%s\n", d->edrx, d->edrx_act, d->edrx_value);
	put(&o, "urcs", "%d,%d\n", d->urcs ? 1 : 0, d->urcs_install ? 1 : 0);
	if (!o.full)
		put(&o, "crc", "%08x\n", (unsigned)crc32_ieee(buf, o.len));
	if (o.full)
		return FUOTA_ERR_NO_SPACE;
	*len = o.len;
	return FUOTA_OK;
}

/* The reader: a cursor over the whole buffer. */
struct in {
	const char *p;
	size_t len, pos;
	char val[96]; /* the current value, NUL-terminated */
	size_t vlen;
};

/* Reads the line "key=value\n" into in->val; MALFORMED for another key, a missing newline,
 * a control byte or a value longer than val. */
static int kv(struct in *in, const char *key)
{
	size_t kl = strlen(key), i;

	if (in->len - in->pos < kl + 2 || memcmp(in->p + in->pos, key, kl) != 0 ||
	    in->p[in->pos + kl] != '=')
		return FUOTA_ERR_MALFORMED;
	in->pos += kl + 1;
	for (i = 0; in->pos + i < in->len && in->p[in->pos + i] != '\n'; i++)
		if ((unsigned char)in->p[in->pos + i] < 0x20 || in->p[in->pos + i] == 0x7f ||
		    i + 1 >= sizeof(in->val))
			return FUOTA_ERR_MALFORMED;
	if (in->pos + i == in->len)
		return FUOTA_ERR_MALFORMED;
	memcpy(in->val, in->p + in->pos, i);
	in->val[i] = 0;
	in->vlen = i;
	in->pos += i + 1;
	return FUOTA_OK;
}

/* A decimal integer in [min, max] at *s, ending at a ',' or the end; advances *s past the ','. */
static int num(const char **s, long min, long max, long *out)
{
	const char *p = *s;
	bool neg = *p == '-';
	long v = 0;

	if (neg)
		p++;
	if (*p < '0' || *p > '9')
		return FUOTA_ERR_MALFORMED;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > 1000000000L)
			return FUOTA_ERR_MALFORMED;
		v = v * 10 + (*p - '0');
	}
	if (*p != 0 && *p != ',')
		return FUOTA_ERR_MALFORMED;
	v = neg ? -v : v;
	if (v < min || v > max)
		return FUOTA_ERR_MALFORMED;
	*s = *p == ',' ? p + 1 : p;
	*out = v;
	return FUOTA_OK;
}

static int kv_int(struct in *in, const char *key, long min, long max, long *out)
{
	const char *s = in->val;

	if (kv(in, key) != FUOTA_OK || num(&s, min, max, out) != FUOTA_OK || *s != 0)
		return FUOTA_ERR_MALFORMED;
	return FUOTA_OK;
}

/* Copies the text up to the next ',' (or the end when last) into out. */
static int str(const char **s, bool last, char *out, size_t cap)
{
	const char *e = last ? *s + strlen(*s) : strchr(*s, ',');
	size_t n;

	if (!e || (size_t)(e - *s) >= cap)
		return FUOTA_ERR_MALFORMED;
	n = (size_t)(e - *s);
	memcpy(out, *s, n);
	out[n] = 0;
	*s = *e ? e + 1 : e;
	return FUOTA_OK;
}

static int kv_str(struct in *in, const char *key, char *out, size_t cap)
{
	const char *s = in->val;

	if (kv(in, key) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	return str(&s, true, out, cap);
}

static int named(const char *v, const char *(*name)(int), int count, int *out)
{
	int i;

	for (i = 0; i < count; i++)
		if (strcmp(v, name(i)) == 0) {
			*out = i;
			return FUOTA_OK;
		}
	return FUOTA_ERR_MALFORMED;
}

static const char *state_name_i(int i)
{
	return fwu_state_name((enum fwu_state)i);
}

static const char *method_name_i(int i)
{
	return fwu_method_name((enum fwu_method)i);
}

static int read_status(struct in *in, struct fwu_status *st)
{
	long v[7], seq, baud;
	int s, m;

	if (kv(in, "state") || named(in->val, state_name_i, FWU_S_COUNT, &s) || kv(in, "method") ||
	    named(in->val, method_name_i, FWU_M_ROT + 1, &m) || kv_int(in, "pct", 0, 100, &v[0]) ||
	    kv_int(in, "result", 0, 255, &v[1]) || kv_int(in, "fail", 0, FWU_F_ROT, &v[2]) ||
	    kv_int(in, "fail_code", -1000000000L, 1000000000L, &v[3]) ||
	    kv_int(in, "ufota_mode", 0, 3, &v[4]) || kv_int(in, "sends", 0, 1000, &v[5]) ||
	    kv_int(in, "foat_baud", 0, 4000000, &baud) || kv_int(in, "seq", 0, 0xFFFFFFFFL, &seq) ||
	    kv_str(in, "ver_before", st->ver_before, sizeof(st->ver_before)) ||
	    kv_str(in, "ver_after", st->ver_after, sizeof(st->ver_after)))
		return FUOTA_ERR_MALFORMED;
	/* pkg_md5 came later: a file without it is read with the package unknown */
	if (in->len - in->pos >= 8 && memcmp(in->p + in->pos, "pkg_md5=", 8) == 0 &&
	    (kv_str(in, "pkg_md5", st->pkg_md5, sizeof(st->pkg_md5)) ||
	     !fwu_md5_equal(st->pkg_md5, st->pkg_md5)))
		return FUOTA_ERR_MALFORMED;
	st->state = (enum fwu_state)s;
	st->method = (enum fwu_method)m;
	st->pct = (int)v[0];
	st->result = (int)v[1];
	st->fail = (int)v[2];
	st->fail_code = (int)v[3];
	st->ufota_mode = (int)v[4];
	st->sends = (unsigned)v[5];
	st->foat_baud = (uint32_t)baud;
	st->seq = (uint32_t)seq;
	return FUOTA_OK;
}

static int read_desired(struct in *in, struct fwu_desired *d)
{
	const char *s;
	long v[3];
	size_t i;

	if (kv_int(in, "mno", -1, 255, &v[0]))
		return FUOTA_ERR_MALFORMED;
	d->mno = (int)v[0];
	for (i = 0; i < FWU_APNS; i++) {
		s = in->val;
		if (kv(in, "apn") || num(&s, 0, 11, &v[0]) ||
		    str(&s, false, d->apn[i].pdp_type, sizeof(d->apn[i].pdp_type)) ||
		    str(&s, true, d->apn[i].apn, sizeof(d->apn[i].apn)))
			return FUOTA_ERR_MALFORMED;
		d->apn[i].cid = (int)v[0];
	}
	s = in->val;
	if (kv(in, "psm") || num(&s, -1, 1, &v[0]) ||
	    str(&s, false, d->psm_tau, sizeof(d->psm_tau)) ||
	    str(&s, true, d->psm_active, sizeof(d->psm_active)))
		return FUOTA_ERR_MALFORMED;
	d->psm = (int)v[0];
	s = in->val;
	if (kv(in, "edrx") || num(&s, -1, 1, &v[0]) || num(&s, 0, 9, &v[1]) ||
	    str(&s, true, d->edrx_value, sizeof(d->edrx_value)))
		return FUOTA_ERR_MALFORMED;
	d->edrx = (int)v[0];
	d->edrx_act = (int)v[1];
	s = in->val;
	if (kv(in, "urcs") || num(&s, 0, 1, &v[0]) || num(&s, 0, 1, &v[1]) || *s)
		return FUOTA_ERR_MALFORMED;
	d->urcs = v[0] == 1;
	d->urcs_install = v[1] == 1;
	return FUOTA_OK;
}

int fwu_file_decode(const char *buf, size_t len, struct fwu_status *st, struct fwu_desired *d)
{
	struct in in = {.p = buf, .len = len};
	struct fwu_status s = {0};
	struct fwu_desired w;
	size_t body;
	char want[9];

	fwu_desired_init(&w);
	if (len < sizeof(HEADER) - 1 || memcmp(buf, HEADER, sizeof(HEADER) - 1) != 0)
		return FUOTA_ERR_MALFORMED;
	in.pos = sizeof(HEADER) - 1;
	if (read_status(&in, &s) != FUOTA_OK || read_desired(&in, &w) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	body = in.pos;
	snprintf(want, sizeof(want), "%08x", (unsigned)crc32_ieee(buf, body));
	if (kv(&in, "crc") != FUOTA_OK || strcmp(in.val, want) != 0 || in.pos != len)
		return FUOTA_ERR_MALFORMED;
	*st = s;
	*d = w;
	return FUOTA_OK;
}
