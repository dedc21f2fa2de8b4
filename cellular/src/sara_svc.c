/* The SARA-R5 driver's services (sara.h): UDP/TCP sockets, the module file system, the HTTP and
 * FTP clients. */
#include <stdio.h>
#include <string.h>

#include "sara_private.h"

#define SOCK_MAX_BYTES 1024 /* per +USOST/+USOWR/+USORF/+USORD through AT (ubxlib) */

int sara_sock_open(struct sara *s, int proto, uint16_t local_port, int *sock)
{
	const char *l;
	int err, port;

	if (proto != SARA_TCP && proto != SARA_UDP)
		return FUOTA_ERR_INVALID_ARG;
	err = local_port ? sara_cmd(s, "+USOCR:", 0, "AT+USOCR=%d,%u", proto, local_port)
	                 : sara_cmd(s, "+USOCR:", 0, "AT+USOCR=%d", proto);
	if (err != FUOTA_OK)
		return err;
	l = s->resp.n ? s->resp.line[0] : "";
	if (sara_parse_usocr(l, s->resp.n ? s->resp.len[0] : 0, sock, &port) != FUOTA_OK)
		return sara_bad_reply(s, "AT+USOCR", l, strlen(l));
	s->pending[*sock] = 0;
	return FUOTA_OK;
}

int sara_sock_connect(struct sara *s, int sock, const char *host, uint16_t port,
                      uint32_t timeout_ms)
{
	if (sock < 0 || sock >= SARA_SOCKS || !sara_safe(host))
		return FUOTA_ERR_INVALID_ARG;
	return sara_cmd(s, NULL, timeout_ms, "AT+USOCO=%d,\"%s\",%u", sock, host, port);
}

/* Sends text, waits for '@', writes data, checks the "+USOST: 0,2" / "+USOWR: 0,2" reply. With
 * taken NULL a count other than len is FUOTA_ERR_IO; otherwise *taken gets the count (a TCP
 * send window may take part of the data, or none). */
static int send_data(struct sara *s, const char *text, const char *prefix, int sock,
                     const uint8_t *data, size_t len, size_t *taken)
{
	struct at_cmd cmd = {
	        .text = text, .prefix = prefix, .prompt = '@', .data = data, .data_len = len};
	const char *l;
	size_t sent;
	int got_sock, err = sara_cmd_ex(s, &cmd);

	if (err != FUOTA_OK)
		return err;
	l = s->resp.n ? s->resp.line[0] : "";
	if (sara_parse_sock_len(l, s->resp.n ? s->resp.len[0] : 0, prefix, &got_sock, &sent) !=
	            FUOTA_OK ||
	    got_sock != sock)
		return sara_bad_reply(s, text, l, strlen(l));
	if (taken && sent <= len) {
		*taken = sent;
		return FUOTA_OK;
	}
	if (sent != len)
		return sara_fail(s, FUOTA_ERR_IO, "%s: %zu of %zu bytes taken", text, sent, len);
	return FUOTA_OK;
}

int sara_sock_sendto(struct sara *s, int sock, const char *ip, uint16_t port, const uint8_t *data,
                     size_t len)
{
	char text[128];

	if (sock < 0 || sock >= SARA_SOCKS || !sara_safe(ip) || strlen(ip) > 64 || len == 0 ||
	    len > SOCK_MAX_BYTES)
		return FUOTA_ERR_INVALID_ARG;
	snprintf(text, sizeof(text), "AT+USOST=%d,\"%s\",%u,%zu", sock, ip, port, len);
	return send_data(s, text, "+USOST:", sock, data, len, NULL);
}

/* AT+USOWR: all of data (taken NULL), else what the send window takes into *taken. */
static int sock_write(struct sara *s, int sock, const uint8_t *data, size_t len, size_t *taken)
{
	char text[64];

	if (sock < 0 || sock >= SARA_SOCKS || len == 0 || len > SOCK_MAX_BYTES)
		return FUOTA_ERR_INVALID_ARG;
	snprintf(text, sizeof(text), "AT+USOWR=%d,%zu", sock, len);
	return send_data(s, text, "+USOWR:", sock, data, len, taken);
}

int sara_sock_write(struct sara *s, int sock, const uint8_t *data, size_t len)
{
	return sock_write(s, sock, data, len, NULL);
}

int sara_sock_write_some(struct sara *s, int sock, const uint8_t *data, size_t len, size_t *taken)
{
	*taken = 0;
	return sock_write(s, sock, data, len, taken);
}

/* Runs a read command with a binary field; *line is NULL when the module said nothing waits
 * ("+USORF: 0,0" or no line). */
static int read_cmd(struct sara *s, const char *text, const char *prefix, unsigned len_field,
                    const char **line, size_t *len)
{
	struct at_cmd cmd = {.text = text, .prefix = prefix, .binary = {prefix, len_field}};
	int err = sara_cmd_ex(s, &cmd), sock;
	size_t bytes;

	*line = NULL;
	if (err != FUOTA_OK || s->resp.n == 0)
		return err;
	*line = s->resp.line[0];
	*len = s->resp.len[0];
	/* "+USORF: 0,0": a length without data, nothing to read */
	if (sara_parse_sock_len(*line, *len, prefix, &sock, &bytes) == FUOTA_OK && bytes == 0)
		*line = NULL;
	return FUOTA_OK;
}

int sara_sock_recvfrom(struct sara *s, int sock, uint8_t *buf, size_t cap, size_t *got, char *ip,
                       size_t ip_cap, uint16_t *port)
{
	char text[64], from[48];
	const char *l;
	const uint8_t *data;
	size_t len = 0;
	int err, rsock, rport;

	*got = 0;
	if (sock < 0 || sock >= SARA_SOCKS || cap == 0)
		return FUOTA_ERR_INVALID_ARG;
	snprintf(text, sizeof(text), "AT+USORF=%d,%zu", sock, cap > 1024 ? (size_t)1024 : cap);
	err = read_cmd(s, text, "+USORF:", 3, &l, &len);
	if (err != FUOTA_OK || !l)
		return err;
	if (sara_parse_usorf(l, len, &rsock, from, sizeof(from), &rport, &data, got) != FUOTA_OK ||
	    rsock != sock || *got > cap) {
		*got = 0;
		return sara_bad_reply(s, text, l, len);
	}
	memcpy(buf, data, *got);
	s->pending[sock] = 0; /* a new +UUSORD reports what is left */
	if (ip && snprintf(ip, ip_cap, "%s", from) >= (int)ip_cap)
		return FUOTA_ERR_NO_SPACE;
	if (port)
		*port = (uint16_t)rport;
	return FUOTA_OK;
}

int sara_sock_read(struct sara *s, int sock, uint8_t *buf, size_t cap, size_t *got)
{
	char text[64];
	const char *l;
	const uint8_t *data;
	size_t len = 0;
	int err, rsock;

	*got = 0;
	if (sock < 0 || sock >= SARA_SOCKS || cap == 0)
		return FUOTA_ERR_INVALID_ARG;
	snprintf(text, sizeof(text), "AT+USORD=%d,%zu", sock, cap > 1024 ? (size_t)1024 : cap);
	err = read_cmd(s, text, "+USORD:", 1, &l, &len);
	if (err != FUOTA_OK || !l)
		return err;
	if (sara_parse_usord(l, len, &rsock, &data, got) != FUOTA_OK || rsock != sock ||
	    *got > cap) {
		*got = 0;
		return sara_bad_reply(s, text, l, len);
	}
	memcpy(buf, data, *got);
	s->pending[sock] = 0;
	return FUOTA_OK;
}

size_t sara_sock_pending(const struct sara *s, int sock)
{
	return sock >= 0 && sock < SARA_SOCKS ? s->pending[sock] : 0;
}

int sara_sock_close(struct sara *s, int sock)
{
	if (sock < 0 || sock >= SARA_SOCKS)
		return FUOTA_ERR_INVALID_ARG;
	s->pending[sock] = 0;
	return sara_cmd(s, NULL, 120000, "AT+USOCL=%d", sock);
}

/* ",\"<tag>\"" or "" into out. */
static const char *tag_arg(const char *tag, char *out, size_t cap)
{
	out[0] = 0;
	if (tag)
		snprintf(out, cap, ",\"%s\"", tag);
	return out;
}

int sara_file_write(struct sara *s, const char *name, const char *tag, const uint8_t *data,
                    size_t len, uint32_t timeout_ms)
{
	char text[400], t[32];
	struct at_cmd cmd = {.text = text,
	                     .timeout_ms = timeout_ms,
	                     .prompt = '>',
	                     .data = data,
	                     .data_len = len};

	if (!sara_safe(name) || strlen(name) > 248 ||
	    (tag && (!sara_safe(tag) || strlen(tag) > 16)))
		return FUOTA_ERR_INVALID_ARG;
	snprintf(text, sizeof(text), "AT+UDWNFILE=\"%s\",%zu%s", name, len,
	         tag_arg(tag, t, sizeof(t)));
	return sara_cmd_ex(s, &cmd);
}

int sara_file_list(struct sara *s, const char *tag, void (*fn)(void *ctx, const char *name),
                   void *ctx)
{
	char t[32];
	size_t i;
	int err;

	if (tag && (!sara_safe(tag) || strlen(tag) > 16))
		return FUOTA_ERR_INVALID_ARG;
	err = sara_cmd(s, "+ULSTFILE:", 0, "AT+ULSTFILE=0%s", tag_arg(tag, t, sizeof(t)));
	for (i = 0; err == FUOTA_OK && i < s->resp.n; i++)
		if (sara_parse_ulstfile_names(s->resp.line[i], s->resp.len[i], fn, ctx) != FUOTA_OK)
			err = sara_bad_reply(s, "AT+ULSTFILE=0", s->resp.line[i], s->resp.len[i]);
	return err;
}

int sara_file_size(struct sara *s, const char *name, const char *tag, size_t *bytes)
{
	char t[32];
	int err;

	if (!sara_safe(name) || strlen(name) > 248 ||
	    (tag && (!sara_safe(tag) || strlen(tag) > 16)))
		return FUOTA_ERR_INVALID_ARG;
	err = sara_cmd(s, "+ULSTFILE:", 0, "AT+ULSTFILE=2,\"%s\"%s", name,
	               tag_arg(tag, t, sizeof(t)));
	if (err == FUOTA_OK &&
	    (s->resp.n == 0 ||
	     sara_parse_ulstfile_size(s->resp.line[0], s->resp.len[0], bytes) != FUOTA_OK))
		err = sara_bad_reply(s, "AT+ULSTFILE=2", s->resp.n ? s->resp.line[0] : "",
		                     s->resp.n ? s->resp.len[0] : 0);
	return err;
}

int sara_file_delete(struct sara *s, const char *name, const char *tag)
{
	char t[32];

	if (!sara_safe(name) || strlen(name) > 248 ||
	    (tag && (!sara_safe(tag) || strlen(tag) > 16)))
		return FUOTA_ERR_INVALID_ARG;
	return sara_cmd(s, NULL, 0, "AT+UDELFILE=\"%s\"%s", name, tag_arg(tag, t, sizeof(t)));
}
