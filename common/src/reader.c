/* The checked command reader of fuota/reader.h. */
#include "fuota/reader.h"

#include <stdio.h>
#include <string.h>

#include "fuota/bytes.h"
#include "fuota/err.h"

int fuota_reader_begin(struct fuota_reader *r, const uint8_t *buf, size_t len, size_t pos,
                       struct fuota_parse_err *err, uint8_t *cid)
{
	memset(r, 0, sizeof(*r));
	r->err = err;
	if (err)
		memset(err, 0, sizeof(*err));
	if (!buf || pos >= len) {
		if (err)
			err->reason = "empty payload";
		return FUOTA_ERR_MALFORMED;
	}
	r->buf = buf;
	r->len = len;
	r->pos = pos + 1;
	r->body = pos + 1;
	*cid = buf[pos];
	if (err) {
		err->offset = pos;
		err->cid = buf[pos];
	}
	return FUOTA_OK;
}

int fuota_reader_command(struct fuota_reader *r, const char *name, const char *why)
{
	if (r->err) {
		r->err->command = name;
		if (!name)
			r->err->reason = why ? why : "unknown command";
	}
	return name ? FUOTA_OK : FUOTA_ERR_UNSUPPORTED;
}

void fuota_reader_expect(struct fuota_reader *r, size_t n)
{
	r->expect = n;
}

/* The length check in front of every field. */
static int need(struct fuota_reader *r, size_t n, const char *field)
{
	if (n <= r->len - r->pos)
		return FUOTA_OK;
	if (r->err) {
		r->err->field = field;
		r->err->reason = "missing";
		r->err->need = r->expect ? r->expect : n;
		r->err->left = r->expect ? r->len - r->body : r->len - r->pos;
	}
	return FUOTA_ERR_MALFORMED;
}

int fuota_read_span(struct fuota_reader *r, const char *field, size_t n, const uint8_t **p)
{
	if (need(r, n, field) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*p = r->buf + r->pos;
	r->pos += n;
	return FUOTA_OK;
}

int fuota_read_bytes(struct fuota_reader *r, const char *field, uint8_t *out, size_t n)
{
	const uint8_t *p;

	if (fuota_read_span(r, field, n, &p) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	memcpy(out, p, n);
	return FUOTA_OK;
}

int fuota_read_u8(struct fuota_reader *r, const char *field, uint8_t *v)
{
	const uint8_t *p;

	if (fuota_read_span(r, field, 1, &p) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*v = p[0];
	return FUOTA_OK;
}

int fuota_read_le16(struct fuota_reader *r, const char *field, uint16_t *v)
{
	const uint8_t *p;

	if (fuota_read_span(r, field, 2, &p) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*v = fuota_get_le16(p);
	return FUOTA_OK;
}

int fuota_read_le24(struct fuota_reader *r, const char *field, uint32_t *v)
{
	const uint8_t *p;

	if (fuota_read_span(r, field, 3, &p) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*v = fuota_get_le24(p);
	return FUOTA_OK;
}

int fuota_read_le32(struct fuota_reader *r, const char *field, uint32_t *v)
{
	const uint8_t *p;

	if (fuota_read_span(r, field, 4, &p) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*v = fuota_get_le32(p);
	return FUOTA_OK;
}

int fuota_reader_fail(struct fuota_reader *r, const char *field, const char *reason)
{
	if (r->err) {
		r->err->field = field;
		r->err->reason = reason;
		r->err->need = 0;
		r->err->left = r->len - r->body;
	}
	return FUOTA_ERR_MALFORMED;
}

void fuota_parse_err_format(const struct fuota_parse_err *err, char *buf, size_t len)
{
	const char *reason;

	if (!buf || len == 0)
		return;
	if (!err) {
		snprintf(buf, len, "malformed payload");
		return;
	}
	reason = err->reason ? err->reason : "malformed";
	if (!err->command)
		snprintf(buf, len, "CID 0x%02x at offset %zu: %s", err->cid, err->offset, reason);
	else if (err->need > err->left)
		snprintf(buf, len, "%s: %s %s (%zu bytes needed, %zu left)", err->command, reason,
		         err->field ? err->field : "payload", err->need, err->left);
	else if (err->field)
		snprintf(buf, len, "%s: %s %s", err->command, err->field, reason);
	else
		snprintf(buf, len, "%s: %s", err->command, reason);
}
