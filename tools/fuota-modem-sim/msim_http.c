/* HTTP and FTP clients served from a local folder (--www): no network. The request is checked
 * (a profile, a server, an active PDP context), then after the time the bytes would take at
 * --net-rate the file lands in the module file system and the URC reports it:
 *   +UUHTTPCR: <profile>,<cmd>,<result>[,<status>,"<md5>"]  (cmd 100: the FOAT package)
 *   +UUFTPCR: <cmd>,<result>[,"<md5>"]
 * Error classes and codes of +UHTTPER / +UFTPER are the simulator's choice where the FW app note
 * gives none: 8,12 no PSD connection (app note Table 9); 3,23 no server set (Table 11's hostname
 * lookup failure); 10,404 the file is not in --www; 1,1 not logged in (FTP). */
#include "msim_handlers.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The file under --www for a request path: "/fw/delta" or "fw/delta"; no "..". */
static int www_path(const struct msim *m, const char *req, char *out, size_t len)
{
	int k;

	if (!m->cfg.www_dir || !req[0] || strstr(req, "..") || strchr(req, '\\'))
		return -1;
	while (*req == '/')
		req++;
	k = snprintf(out, len, "%s/%s", m->cfg.www_dir, req);
	return k > 0 && (size_t)k < len ? 0 : -1;
}

/* Reads the whole file; NULL when missing. The caller frees. */
static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *b = NULL;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (64L << 20)) {
		b = malloc((size_t)st.st_size + 1);
		if (b && fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
			free(b);
			b = NULL;
		}
		*n = (size_t)st.st_size;
	}
	fclose(f);
	return b;
}

static void md5_hex(const uint8_t *d, size_t n, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int ml = 0;

	out[0] = '\0';
	if (EVP_Digest(d, n, md, &ml, EVP_md5(), NULL) != 1 || ml != 16)
		return;
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Delay of a download of the file at --net-rate, at least 50 ms. */
static unsigned xfer_ms(const struct msim *m, const char *path)
{
	struct stat st;
	uint64_t n = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;

	return 50u + (unsigned)(n * 1000u / m->cfg.net_bytes_per_s);
}

static void http_fail(struct msim *m, int p, int cls, int code)
{
	m->http[p].x.busy = false;
	m->http[p].x.err_class = cls;
	m->http[p].x.err_code = code;
	msim_urc(m, "+UUHTTPCR: %d,%d,0", p, m->http[p].x.cmd);
}

static void http_done(struct msim *m, int p)
{
	struct msim_xfer *x = &m->http[p].x;
	char path[4096], md5[33], head[128];
	size_t n = 0;
	uint8_t *body;
	int hl;

	if (x->err_class) {
		http_fail(m, p, x->err_class, x->err_code); /* found at the request */
		return;
	}
	if (www_path(m, x->path, path, sizeof(path)) != 0 || !(body = slurp(path, &n))) {
		if (x->cmd == 100) {
			http_fail(m, p, 10, 404);
			return;
		}
		body = NULL;
		n = 0;
	}
	x->busy = false;
	x->err_class = x->err_code = 0;
	if (x->cmd == 100) {
		md5_hex(body, n, md5);
		if (msim_fw_dl_cut(m, "FOAT", "updatePackage.bin", body, n)) {
			free(body); /* the power went mid-download: no result URC */
			return;
		}
		if (msim_fs_write(m, "FOAT", "updatePackage.bin", body, n, false) != 0)
			http_fail(m, p, 1, 20);
		else
			msim_urc(m, "+UUHTTPCR: %d,100,1,200,\"%s\"", p, md5);
		free(body);
		return;
	}
	/* HEAD and GET keep the response, headers included, in <respfile> */
	hl = snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Length: %zu\r\n\r\n",
	              body ? "200 OK" : "404 Not Found", n);
	if (msim_fs_write(m, "USER", x->local, head, (size_t)hl, false) != 0 ||
	    (x->cmd == 1 && body && msim_fs_write(m, "USER", x->local, body, n, true) != 0))
		http_fail(m, p, 1, 20);
	else
		msim_urc(m, "+UUHTTPCR: %d,%d,1", p, x->cmd);
	free(body);
}

/* AT+UHTTP=<p>[,<op>,<value>]: 0 server IP, 1 server name, 5 port; 2-4, 6, 7 accepted */
int msim_h_uhttp(struct msim *m, const struct msim_cmd *c)
{
	long p, op, port;
	struct msim_http *h;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, MSIM_PROFILES - 1, &p) != 0)
		return MSIM_CME_BAD_PARAM;
	h = &m->http[p];
	if (c->nparam == 1) {
		if (h->x.busy)
			return MSIM_CME_NOT_ALLOWED;
		memset(h, 0, sizeof(*h));
		return 0;
	}
	if (msim_at_int(c, 1, 0, 7, &op) != 0 || c->nparam < 3)
		return MSIM_CME_BAD_PARAM;
	if (op == 0 || op == 1)
		return msim_at_str(c, 2, h->server, sizeof(h->server)) == 0 && h->server[0]
		               ? 0
		               : MSIM_CME_BAD_PARAM;
	if (op == 5) {
		if (msim_at_int(c, 2, 1, 65535, &port) != 0)
			return MSIM_CME_BAD_PARAM;
		h->port = (int)port;
	}
	return 0;
}

/* AT+UHTTPC=<p>,<cmd>,"<path>"[,"<respfile>"]: 0 HEAD, 1 GET, 100 the FOAT package -> OK, then
 * +UUHTTPCR */
int msim_h_uhttpc(struct msim *m, const struct msim_cmd *c)
{
	long p, cmd;
	struct msim_xfer *x;
	char path[4096];

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, MSIM_PROFILES - 1, &p) != 0 ||
	    msim_at_int(c, 1, 0, 100, &cmd) != 0 || (cmd != 0 && cmd != 1 && cmd != 100))
		return MSIM_CME_BAD_PARAM;
	x = &m->http[p].x;
	if (x->busy)
		return MSIM_CME_NOT_ALLOWED;
	x->cmd = (int)cmd;
	if (msim_at_str(c, 2, x->path, sizeof(x->path)) != 0 || !x->path[0])
		return MSIM_CME_BAD_PARAM;
	snprintf(x->local, sizeof(x->local), "http_response");
	if (cmd != 100 && msim_at_has(c, 3) &&
	    (msim_at_str(c, 3, x->local, sizeof(x->local)) != 0 ||
	     msim_fs_path(m, "USER", x->local, path, sizeof(path)) != 0))
		return MSIM_CME_BAD_PARAM;
	x->busy = true;
	x->err_class = x->err_code = 0;
	if (!m->psd_active)
		x->err_class = 8, x->err_code = 12;
	else if (!m->http[p].server[0])
		x->err_class = 3, x->err_code = 23;
	else if (www_path(m, x->path, path, sizeof(path)) != 0)
		x->err_class = 10, x->err_code = 404;
	/* OK first; the URC follows after the transfer time */
	if (msim_timer_add(m, x->err_class ? 50 : xfer_ms(m, path), http_done, (int)p) != 0) {
		x->busy = false;
		return MSIM_CME_NOT_ALLOWED;
	}
	return 0;
}

/* AT+UHTTPER=<p> -> +UHTTPER: <p>,<class>,<code> */
int msim_h_uhttper(struct msim *m, const struct msim_cmd *c)
{
	long p;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, MSIM_PROFILES - 1, &p) != 0)
		return MSIM_CME_BAD_PARAM;
	msim_line(m, "+UHTTPER: %ld,%d,%d", p, m->http[p].x.err_class, m->http[p].x.err_code);
	return 0;
}

static void ftp_fail(struct msim *m, int cls, int code)
{
	m->ftp.busy = false;
	m->ftp.err_class = cls;
	m->ftp.err_code = code;
	msim_urc(m, "+UUFTPCR: %d,0", m->ftp.cmd);
}

static void ftp_done(struct msim *m, int arg)
{
	struct msim_xfer *x = &m->ftp;
	char path[4096], md5[33];
	size_t n = 0;
	uint8_t *body;

	(void)arg;
	if (x->err_class) {
		ftp_fail(m, x->err_class, x->err_code);
		return;
	}
	x->busy = false;
	if (x->cmd == 0 || x->cmd == 1) {
		m->ftp_logged_in = x->cmd == 1;
		msim_urc(m, "+UUFTPCR: %d,1", x->cmd);
		return;
	}
	if (www_path(m, x->path, path, sizeof(path)) != 0 || !(body = slurp(path, &n))) {
		ftp_fail(m, 10, 404);
		return;
	}
	if (x->cmd == 100) {
		md5_hex(body, n, md5);
		if (msim_fw_dl_cut(m, "FOAT", "updatePackage.bin", body, n)) {
			free(body); /* the power went mid-download: no result URC */
			return;
		}
		if (msim_fs_write(m, "FOAT", "updatePackage.bin", body, n, false) != 0)
			ftp_fail(m, 1, 20);
		else
			msim_urc(m, "+UUFTPCR: 100,1,\"%s\"", md5);
	} else if (msim_fs_write(m, "USER", x->local, body, n, false) != 0) {
		ftp_fail(m, 1, 20);
	} else {
		msim_urc(m, "+UUFTPCR: 4,1");
	}
	free(body);
}

/* AT+UFTP=<op>,<value>: 0 server IP, 1 server name; 2 user, 3 password, 5 timeout, 6 mode */
int msim_h_uftp(struct msim *m, const struct msim_cmd *c)
{
	long op;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 8, &op) != 0 || c->nparam < 2)
		return MSIM_CME_BAD_PARAM;
	if (op == 0 || op == 1)
		return msim_at_str(c, 1, m->ftp_server, sizeof(m->ftp_server)) == 0 &&
		                       m->ftp_server[0]
		               ? 0
		               : MSIM_CME_BAD_PARAM;
	return 0;
}

/* AT+UFTPC=<cmd>[,...]: 0 logout, 1 login, 4 get "<remote>","<local>", 100 get the FOAT package
 * "<remote>" -> OK, then +UUFTPCR */
int msim_h_uftpc(struct msim *m, const struct msim_cmd *c)
{
	long cmd;
	struct msim_xfer *x = &m->ftp;
	char path[4096] = "";

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 100, &cmd) != 0 ||
	    (cmd != 0 && cmd != 1 && cmd != 4 && cmd != 100))
		return MSIM_CME_BAD_PARAM;
	if (x->busy)
		return MSIM_CME_NOT_ALLOWED;
	x->cmd = (int)cmd;
	if (cmd >= 4 && (msim_at_str(c, 1, x->path, sizeof(x->path)) != 0 || !x->path[0]))
		return MSIM_CME_BAD_PARAM;
	if (cmd == 4 && (msim_at_str(c, 2, x->local, sizeof(x->local)) != 0 ||
	                 msim_fs_path(m, "USER", x->local, path, sizeof(path)) != 0))
		return MSIM_CME_BAD_PARAM;
	x->busy = true;
	x->err_class = x->err_code = 0;
	if (!m->psd_active)
		x->err_class = 8, x->err_code = 12; /* FW app note Table 9 */
	else if (!m->ftp_server[0])
		x->err_class = 3, x->err_code = 23;
	else if (cmd >= 4 && !m->ftp_logged_in)
		x->err_class = 1, x->err_code = 1;
	else if (cmd >= 4 && www_path(m, x->path, path, sizeof(path)) != 0)
		x->err_class = 10, x->err_code = 404;
	if (msim_timer_add(m, x->err_class || cmd < 4 ? 50 : xfer_ms(m, path), ftp_done, 0) != 0) {
		x->busy = false;
		return MSIM_CME_NOT_ALLOWED;
	}
	return 0;
}

/* AT+UFTPER -> +UFTPER: <class>,<code> (FW app note Table 9) */
int msim_h_uftper(struct msim *m, const struct msim_cmd *c)
{
	(void)c;
	msim_line(m, "+UFTPER: %d,%d", m->ftp.err_class, m->ftp.err_code);
	return 0;
}
