/* Pure parsers of SARA-R5 replies (sara_parse.h). Each parser quotes the lines it reads. */
#include "fuota/sara_parse.h"

#include <string.h>

#include "fuota/err.h"

int sara_fields(const char *line, size_t len, const char *prefix, struct sara_field *f, size_t max,
                size_t *n)
{
	size_t plen = strlen(prefix), i;

	*n = 0;
	if (len < plen || memcmp(line, prefix, plen) != 0 || max == 0)
		return FUOTA_ERR_MALFORMED;
	i = plen;
	while (i < len && line[i] == ' ')
		i++;
	if (i == len)
		return FUOTA_OK; /* "+ULSTFILE:" with nothing after it: no fields */
	for (;;) {
		struct sara_field *fd;

		if (*n == max)
			return FUOTA_ERR_MALFORMED;
		fd = &f[(*n)++];
		fd->quoted = i < len && line[i] == '"';
		if (fd->quoted) {
			const char *q = memchr(line + i + 1, '"', len - i - 1);

			if (!q)
				return FUOTA_ERR_MALFORMED;
			fd->p = line + i + 1;
			fd->len = (size_t)(q - fd->p);
			i = (size_t)(q - line) + 1;
		} else {
			fd->p = line + i;
			while (i < len && line[i] != ',')
				i++;
			fd->len = (size_t)(line + i - fd->p);
		}
		if (i == len)
			return FUOTA_OK;
		if (line[i] != ',')
			return FUOTA_ERR_MALFORMED; /* text after a closing quote */
		i++;
	}
}

int sara_field_int(const struct sara_field *f, long min, long max, long *out)
{
	size_t i = 0;
	bool neg = false;
	long v = 0;

	if (f->quoted || f->len == 0)
		return FUOTA_ERR_MALFORMED;
	if (f->p[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == f->len)
		return FUOTA_ERR_MALFORMED;
	for (; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9' || v > 100000000L)
			return FUOTA_ERR_MALFORMED;
		v = v * 10 + (f->p[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return FUOTA_ERR_MALFORMED;
	*out = v;
	return FUOTA_OK;
}

int sara_field_str(const struct sara_field *f, char *out, size_t cap)
{
	if (f->len + 1 > cap)
		return FUOTA_ERR_NO_SPACE;
	if (memchr(f->p, 0, f->len))
		return FUOTA_ERR_MALFORMED; /* a NUL byte would cut the string short */
	memcpy(out, f->p, f->len);
	out[f->len] = 0;
	return FUOTA_OK;
}

/* Integer field i of n into *out as an int, within [min, max]. */
static int int_at(const struct sara_field *f, size_t n, size_t i, long min, long max, int *out)
{
	long v;

	if (i >= n || sara_field_int(&f[i], min, max, &v) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*out = (int)v;
	return FUOTA_OK;
}

/* A quoted field i of n into out, MALFORMED when absent, unquoted or too long. */
static int str_at(const struct sara_field *f, size_t n, size_t i, char *out, size_t cap)
{
	if (i >= n || !f[i].quoted || sara_field_str(&f[i], out, cap) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	return FUOTA_OK;
}

/* URC:  +CEREG: 1
 *       +CEREG: 5,"0001","01A2B3C4",7
 * read: +CEREG: 0,1
 *       +CEREG: 2,1,"0001","01A2B3C4",7
 * The URC's second field is quoted (tac) or absent; the read response's is the integer stat. */
int sara_parse_cereg(const char *line, size_t len, struct sara_cereg *out)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n, i = 0;

	memset(out, 0, sizeof(*out));
	out->n = -1;
	out->act = -1;
	if (sara_fields(line, len, "+CEREG:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n == 0)
		return FUOTA_ERR_MALFORMED;
	if (n >= 2 && !f[1].quoted && f[1].len > 0) {
		if (int_at(f, n, 0, 0, 5, &out->n) != FUOTA_OK)
			return FUOTA_ERR_MALFORMED;
		i = 1;
	}
	if (int_at(f, n, i, 0, 10, &out->stat) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	if (n > i + 1 && (str_at(f, n, i + 1, out->tac, sizeof(out->tac)) != FUOTA_OK ||
	                  str_at(f, n, i + 2, out->ci, sizeof(out->ci)) != FUOTA_OK))
		return FUOTA_ERR_MALFORMED;
	if (n > i + 3 && int_at(f, n, i + 3, -1, 9, &out->act) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	return FUOTA_OK;
}

/* +UMNOPROF: 90 */
int sara_parse_umnoprof(const char *line, size_t len, int *profile)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;

	if (sara_fields(line, len, "+UMNOPROF:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	return int_at(f, n, 0, 0, 255, profile);
}

/* ATI9:  02.06,A00.01    (modem firmware version, application version) */
int sara_parse_ati9(const char *line, size_t len, char *fw, size_t fw_cap, char *app,
                    size_t app_cap)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;

	if (sara_fields(line, len, "", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n != 2 ||
	    f[0].len == 0 || f[1].len == 0 || line[0] == '+')
		return FUOTA_ERR_MALFORMED;
	if (sara_field_str(&f[0], fw, fw_cap) != FUOTA_OK ||
	    sara_field_str(&f[1], app, app_cap) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	return FUOTA_OK;
}

/* AT+CGMR:  03.15      (the modem firmware version alone; ATI9 adds the application's) */
int sara_parse_cgmr(const char *line, size_t len, char *ver, size_t cap)
{
	size_t i;

	if (len == 0 || len + 1 > cap || line[0] == '+')
		return FUOTA_ERR_MALFORMED;
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			return FUOTA_ERR_MALFORMED;
	memcpy(ver, line, len);
	ver[len] = 0;
	return FUOTA_OK;
}

/* AT+CGSN:  004999010640000      (some firmware: +CGSN: 004999010640000) */
int sara_parse_imei(const char *line, size_t len, char *imei, size_t cap)
{
	size_t i = 0, d;

	if (len >= 6 && memcmp(line, "+CGSN:", 6) == 0) {
		i = 6;
		while (i < len && line[i] == ' ')
			i++;
		if (i < len && line[i] == '"' && len > i + 1 && line[len - 1] == '"') {
			i++;
			len--;
		}
	}
	d = len - i;
	if (d < 14 || d > 17 || d + 1 > cap)
		return FUOTA_ERR_MALFORMED;
	for (size_t k = i; k < len; k++)
		if (line[k] < '0' || line[k] > '9')
			return FUOTA_ERR_MALFORMED;
	memcpy(imei, line + i, d);
	imei[d] = 0;
	return FUOTA_OK;
}

/* AT+IPR?:  +IPR: 0          (autobauding, the factory setting)
 *           +IPR: 115200     (a fixed rate) */
int sara_parse_ipr(const char *line, size_t len, uint32_t *rate)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;
	int v;

	if (sara_fields(line, len, "+IPR:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n != 1 ||
	    int_at(f, n, 0, 0, 4000000, &v) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*rate = (uint32_t)v;
	return FUOTA_OK;
}

/* +UUPSDA: 0,"100.108.232.233"     (result 0 = activated, with the address)
 * +UUPSDA: 1                        (failure, no address) */
int sara_parse_uupsda(const char *line, size_t len, int *result, char *ip, size_t ip_cap)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;

	if (ip_cap == 0 || sara_fields(line, len, "+UUPSDA:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK ||
	    n > 2 || int_at(f, n, 0, 0, 1000, result) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	ip[0] = 0;
	if (n == 2)
		return str_at(f, n, 1, ip, ip_cap);
	return FUOTA_OK;
}

/* +UUPSDD: 0 */
int sara_parse_uupsdd(const char *line, size_t len, int *profile)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;

	if (sara_fields(line, len, "+UUPSDD:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n != 1)
		return FUOTA_ERR_MALFORMED;
	return int_at(f, n, 0, 0, 6, profile);
}

/* +USOCR: 0
 * +USOCR: 0,1234    (with the local port) */
int sara_parse_usocr(const char *line, size_t len, int *sock, int *port)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;

	*port = 0;
	if (sara_fields(line, len, "+USOCR:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n > 2 ||
	    int_at(f, n, 0, 0, 6, sock) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	if (n == 2)
		return int_at(f, n, 1, 0, 65535, port);
	return FUOTA_OK;
}

/* +USOST: 0,2   +USOWR: 0,2   +UUSORD: 0,2   +UUSORF: 0,2   +USORF: 0,12   +USORD: 0,12 */
int sara_parse_sock_len(const char *line, size_t len, const char *prefix, int *sock, size_t *bytes)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;
	int b;

	if (sara_fields(line, len, prefix, f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n != 2 ||
	    int_at(f, n, 0, 0, 6, sock) != FUOTA_OK || int_at(f, n, 1, 0, 1000000, &b) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*bytes = (size_t)b;
	return FUOTA_OK;
}

/* The binary data field f (quoted, exactly want bytes): raw bytes may include '"' and ',', so
 * the field runs from its opening quote to the line's last byte, which must be the closing quote.
 */
static int data_field(const char *line, size_t len, const struct sara_field *f, size_t want,
                      const uint8_t **data)
{
	size_t start = (size_t)(f->p - line);

	if (!f->quoted || start + want + 1 != len || line[len - 1] != '"')
		return FUOTA_ERR_MALFORMED;
	*data = (const uint8_t *)f->p;
	return FUOTA_OK;
}

/* The first n_head fields of a line whose last field is binary data. */
static int head_fields(const char *line, size_t len, const char *prefix, size_t n_head,
                       struct sara_field *f)
{
	size_t i, n = 0, commas = 0;
	bool q = false;

	for (i = 0; i < len && commas < n_head; i++) {
		if (line[i] == '"')
			q = !q;
		else if (line[i] == ',' && !q)
			commas++;
	}
	if (commas < n_head)
		return FUOTA_ERR_MALFORMED;
	if (sara_fields(line, i - 1, prefix, f, n_head, &n) != FUOTA_OK || n != n_head)
		return FUOTA_ERR_MALFORMED;
	f[n_head].p = line + i + 1;
	f[n_head].quoted = i < len && line[i] == '"';
	f[n_head].len = len > i + 1 ? len - i - 2 : 0;
	return FUOTA_OK;
}

/* +USORF: 0,"195.34.89.241",7,2,"ab" */
int sara_parse_usorf(const char *line, size_t len, int *sock, char *ip, size_t ip_cap, int *port,
                     const uint8_t **data, size_t *data_len)
{
	struct sara_field f[5];
	int n_bytes;

	if (head_fields(line, len, "+USORF:", 4, f) != FUOTA_OK ||
	    int_at(f, 4, 0, 0, 6, sock) != FUOTA_OK || str_at(f, 4, 1, ip, ip_cap) != FUOTA_OK ||
	    int_at(f, 4, 2, 0, 65535, port) != FUOTA_OK ||
	    int_at(f, 4, 3, 0, 1024, &n_bytes) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*data_len = (size_t)n_bytes;
	return data_field(line, len, &f[4], *data_len, data);
}

/* +USORD: 0,2,"ab" */
int sara_parse_usord(const char *line, size_t len, int *sock, const uint8_t **data,
                     size_t *data_len)
{
	struct sara_field f[3];
	int n_bytes;

	if (head_fields(line, len, "+USORD:", 2, f) != FUOTA_OK ||
	    int_at(f, 2, 0, 0, 6, sock) != FUOTA_OK ||
	    int_at(f, 2, 1, 0, 1024, &n_bytes) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*data_len = (size_t)n_bytes;
	return data_field(line, len, &f[2], *data_len, data);
}

/* +UUSOCL: 0 */
int sara_parse_uusocl(const char *line, size_t len, int *sock)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;

	if (sara_fields(line, len, "+UUSOCL:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n != 1)
		return FUOTA_ERR_MALFORMED;
	return int_at(f, n, 0, 0, 6, sock);
}

/* +ULSTFILE: "updatePackage.bin"
 * +ULSTFILE: "a.txt","b.bin"
 * +ULSTFILE:                        (no file) */
int sara_parse_ulstfile_names(const char *line, size_t len, void (*fn)(void *ctx, const char *name),
                              void *ctx)
{
	struct sara_field f[SARA_FIELDS_MAX];
	char name[256];
	size_t n, i;

	if (sara_fields(line, len, "+ULSTFILE:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	for (i = 0; i < n; i++)
		if (str_at(f, n, i, name, sizeof(name)) != FUOTA_OK || name[0] == 0)
			return FUOTA_ERR_MALFORMED;
	for (i = 0; i < n; i++) {
		sara_field_str(&f[i], name, sizeof(name));
		fn(ctx, name);
	}
	return FUOTA_OK;
}

/* +ULSTFILE: 1234     (AT+ULSTFILE=2,"name": the size in bytes) */
int sara_parse_ulstfile_size(const char *line, size_t len, size_t *bytes)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;
	long v;

	if (sara_fields(line, len, "+ULSTFILE:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n != 1 ||
	    sara_field_int(&f[0], 0, 100000000L, &v) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*bytes = (size_t)v;
	return FUOTA_OK;
}

static int md5_at(const struct sara_field *f, size_t n, size_t i, char *md5)
{
	size_t k;

	if (str_at(f, n, i, md5, 33) != FUOTA_OK || f[i].len != 32)
		return FUOTA_ERR_MALFORMED;
	for (k = 0; k < 32; k++) {
		char c = md5[k];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return FUOTA_ERR_MALFORMED;
	}
	return FUOTA_OK;
}

/* +UUHTTPCR: 0,100,1,200,"884a2d96fddaf1d957c604805b75b9f2"   (FOTA download, HTTP 200, MD5)
 * +UUHTTPCR: 0,100,0                                            (failure)
 * +UUHTTPCR: 0,1,1                                              (GET into a file) */
int sara_parse_uuhttpcr(const char *line, size_t len, struct sara_xfer *out)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;

	memset(out, 0, sizeof(*out));
	out->status = -1;
	if (sara_fields(line, len, "+UUHTTPCR:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n < 3 ||
	    n > 5 || int_at(f, n, 0, 0, 3, &out->profile) != FUOTA_OK ||
	    int_at(f, n, 1, 0, 100, &out->cmd) != FUOTA_OK ||
	    int_at(f, n, 2, 0, 1, &out->result) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	if (n >= 4 && int_at(f, n, 3, 0, 999, &out->status) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	if (n == 5)
		return md5_at(f, n, 4, out->md5);
	return FUOTA_OK;
}

/* +UUFTPCR: 1,1                                          (login succeeded)
 * +UUFTPCR: 100,1,"9ac81b5381d94eb0999dfa0b8c2da363"     (FOTA download complete, MD5)
 * +UUFTPCR: 100,0                                        (failure) */
int sara_parse_uuftpcr(const char *line, size_t len, struct sara_xfer *out)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;

	memset(out, 0, sizeof(*out));
	out->profile = -1;
	out->status = -1;
	if (sara_fields(line, len, "+UUFTPCR:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n < 2 ||
	    n > 3 || int_at(f, n, 0, 0, 100, &out->cmd) != FUOTA_OK ||
	    int_at(f, n, 1, 0, 1, &out->result) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	if (n == 3)
		return md5_at(f, n, 2, out->md5);
	return FUOTA_OK;
}

/* +UHTTPER: 0,3,23   (profile, class, code: the AT manual's form)
 * +UHTTPER: 3,23     (the FW app note's Table 11)
 * +UFTPER: 8,12      (class, code: no PSD connection) */
int sara_parse_xfer_error(const char *line, size_t len, const char *prefix, int *profile,
                          int *err_class, int *err_code)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n, i = 0;

	*profile = -1;
	if (sara_fields(line, len, prefix, f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n < 2 || n > 3)
		return FUOTA_ERR_MALFORMED;
	if (n == 3) {
		if (int_at(f, n, 0, 0, 3, profile) != FUOTA_OK)
			return FUOTA_ERR_MALFORMED;
		i = 1;
	}
	if (int_at(f, n, i, 0, 1000, err_class) != FUOTA_OK ||
	    int_at(f, n, i + 1, 0, 100000, err_code) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	return FUOTA_OK;
}
