/* The SARA-R5 driver's HTTP and FTP clients (sara.h): profiles, downloads into a file or the
 * FOAT area, and the error queries. */
#include <stdio.h>
#include <string.h>

#include "sara_private.h"

static int str_op(struct sara *s, const char *head, int op, const char *value)
{
	if (!value)
		return FUOTA_OK;
	if (!sara_safe(value) || strlen(value) > 256)
		return sara_fail(s, FUOTA_ERR_INVALID_ARG, "%s op %d: bad value", head, op);
	return sara_cmd(s, NULL, 0, "%s%d,\"%s\"", head, op, value);
}

int sara_http_config(struct sara *s, int profile, const struct sara_http_cfg *cfg)
{
	char head[32];
	int err;

	if (profile < 0 || profile > 3 || !cfg)
		return FUOTA_ERR_INVALID_ARG;
	snprintf(head, sizeof(head), "AT+UHTTP=%d,", profile);
	err = sara_cmd(s, NULL, 0, "AT+UHTTP=%d", profile); /* reset the profile */
	if (err == FUOTA_OK)
		err = str_op(s, head, 0, cfg->server_ip);
	if (err == FUOTA_OK)
		err = str_op(s, head, 1, cfg->server_name);
	if (err == FUOTA_OK)
		err = str_op(s, head, 2, cfg->user);
	if (err == FUOTA_OK)
		err = str_op(s, head, 3, cfg->password);
	if (err == FUOTA_OK && cfg->port)
		err = sara_cmd(s, NULL, 0, "%s5,%u", head, cfg->port);
	if (err == FUOTA_OK && cfg->timeout_s)
		err = sara_cmd(s, NULL, 0, "%s7,%u", head, cfg->timeout_s);
	return err;
}

/* Waits for the +UUHTTPCR / +UUFTPCR of cmd_no (profile: -1 for FTP) that *seen flags. */
static int wait_xfer(struct sara *s, bool *seen, const struct sara_xfer *x, int profile, int cmd_no,
                     uint64_t deadline, const char *what)
{
	for (;;) {
		int err = sara_wait_flag(s, seen, deadline, what);

		if (err != FUOTA_OK)
			return err;
		if (x->cmd == cmd_no && x->profile == profile)
			break;
		*seen = false; /* another profile's or command's result */
	}
	if (x->result != 1)
		return sara_fail(s, FUOTA_ERR_IO, "%s: failed (result %d)", what, x->result);
	return FUOTA_OK;
}

int sara_http_get(struct sara *s, int profile, const char *path, const char *file,
                  uint32_t timeout_ms, struct sara_xfer *out)
{
	uint64_t deadline = s->clk->now_ms(s->clk->ctx) + timeout_ms;
	int cmd_no = file ? 1 : 100, err;
	char what[64];

	if (profile < 0 || profile > 3 || !sara_safe(path) || strlen(path) > 256 ||
	    (file && (!sara_safe(file) || strlen(file) > 248)))
		return FUOTA_ERR_INVALID_ARG;
	s->http_seen = false;
	if (file)
		err = sara_cmd(s, NULL, 0, "AT+UHTTPC=%d,1,\"%s\",\"%s\"", profile, path, file);
	else
		err = sara_cmd(s, NULL, 0, "AT+UHTTPC=%d,100,\"%s\"", profile, path);
	snprintf(what, sizeof(what), "AT+UHTTPC=%d,%d", profile, cmd_no);
	if (err == FUOTA_OK)
		err = wait_xfer(s, &s->http_seen, &s->http, profile, cmd_no, deadline, what);
	if (out)
		*out = s->http;
	return err;
}

static int xfer_error(struct sara *s, const char *prefix, const char *text, int *profile,
                      int *err_class, int *err_code)
{
	int err = sara_cmd(s, prefix, 0, "%s", text);

	if (err == FUOTA_OK &&
	    (s->resp.n == 0 || sara_parse_xfer_error(s->resp.line[0], s->resp.len[0], prefix,
	                                             profile, err_class, err_code) != FUOTA_OK))
		err = sara_bad_reply(s, text, s->resp.n ? s->resp.line[0] : "",
		                     s->resp.n ? s->resp.len[0] : 0);
	return err;
}

int sara_http_error(struct sara *s, int profile, int *err_class, int *err_code)
{
	char text[32];
	int p;

	if (profile < 0 || profile > 3)
		return FUOTA_ERR_INVALID_ARG;
	snprintf(text, sizeof(text), "AT+UHTTPER=%d", profile);
	return xfer_error(s, "+UHTTPER:", text, &p, err_class, err_code);
}

int sara_ftp_config(struct sara *s, const struct sara_ftp_cfg *cfg)
{
	int err;

	if (!cfg)
		return FUOTA_ERR_INVALID_ARG;
	err = str_op(s, "AT+UFTP=", 1, cfg->server_name);
	if (err == FUOTA_OK)
		err = str_op(s, "AT+UFTP=", 2, cfg->user);
	if (err == FUOTA_OK)
		err = str_op(s, "AT+UFTP=", 3, cfg->password);
	if (err == FUOTA_OK && cfg->passive)
		err = sara_cmd(s, NULL, 0, "AT+UFTP=6,1");
	if (err == FUOTA_OK && cfg->port)
		err = sara_cmd(s, NULL, 0, "AT+UFTP=7,%u", cfg->port);
	return err;
}

int sara_ftp_login(struct sara *s, uint32_t timeout_ms)
{
	uint64_t deadline = s->clk->now_ms(s->clk->ctx) + timeout_ms;
	int err;

	s->ftp_seen = false;
	err = sara_cmd(s, NULL, 0, "AT+UFTPC=1");
	if (err == FUOTA_OK)
		err = wait_xfer(s, &s->ftp_seen, &s->ftp, -1, 1, deadline, "AT+UFTPC=1");
	return err;
}

int sara_ftp_get_foat(struct sara *s, const char *path, uint32_t timeout_ms, struct sara_xfer *out)
{
	uint64_t deadline = s->clk->now_ms(s->clk->ctx) + timeout_ms;
	int err;

	if (!sara_safe(path) || strlen(path) > 256)
		return FUOTA_ERR_INVALID_ARG;
	s->ftp_seen = false;
	err = sara_cmd(s, NULL, 0, "AT+UFTPC=100,\"%s\"", path);
	if (err == FUOTA_OK)
		err = wait_xfer(s, &s->ftp_seen, &s->ftp, -1, 100, deadline, "AT+UFTPC=100");
	if (out)
		*out = s->ftp;
	return err;
}

int sara_ftp_error(struct sara *s, int *err_class, int *err_code)
{
	int p;

	return xfer_error(s, "+UFTPER:", "AT+UFTPER", &p, err_class, err_code);
}
