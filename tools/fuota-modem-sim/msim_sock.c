/* The sockets: +USOCR, +USOCO, +USOST / +USOWR (with the '@' prompt), +UUSORD, +USORF / +USORD,
 * +USOCL and +UUSOCL. Real sockets bound to 127.0.0.1; only loopback peers are reachable. */
#include "msim_handlers.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void sock_close(struct msim_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->rxq);
	free(s->tcp);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

void msim_net_reset(struct msim *m)
{
	for (int i = 0; i < MSIM_SOCKETS; i++)
		sock_close(&m->sock[i]);
	m->psd_active = false;
	m->netx.cgerep = 0;
	m->upsd_ip[0] = '\0';
	m->upsd_cid = m->nvm.upsd_cid;
	m->upsd_proto = m->nvm.upsd_proto;
}

/* The socket number of parameter i, when that socket is open. */
static struct msim_sock *sock_arg(struct msim *m, const struct msim_cmd *c, int i, long *id)
{
	if (msim_at_int(c, i, 0, MSIM_SOCKETS - 1, id) != 0 || m->sock[*id].fd < 0)
		return NULL;
	return &m->sock[*id];
}

/* "127.0.0.1" or "localhost" (no DNS here): 0 with the address in host order, or -1. */
static int loopback_addr(const struct msim_cmd *c, int i, uint32_t *addr)
{
	char s[64];
	struct in_addr a;

	if (msim_at_str(c, i, s, sizeof(s)) != 0)
		return -1;
	if (!strcmp(s, "localhost"))
		snprintf(s, sizeof(s), "127.0.0.1");
	if (inet_pton(AF_INET, s, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
		return -1;
	*addr = ntohl(a.s_addr);
	return 0;
}

static bool port_ok(const struct msim *m, long port)
{
	return !m->cfg.port_hi || (port >= m->cfg.port_lo && port <= m->cfg.port_hi);
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(addr);
	sa.sin_port = htons(port);
	return sa;
}

/* AT+USOCR=<17|6>[,<local_port>] -> +USOCR: <socket> */
int msim_h_usocr(struct msim *m, const struct msim_cmd *c)
{
	long proto, port = 0;
	int id = -1;
	struct msim_sock *s;
	struct sockaddr_in sa;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 6, 17, &proto) != 0 ||
	    (proto != 6 && proto != 17) ||
	    (msim_at_has(c, 1) && msim_at_int(c, 1, 0, 65535, &port) != 0))
		return MSIM_CME_BAD_PARAM;
	for (int i = 0; i < MSIM_SOCKETS && id < 0; i++)
		if (m->sock[i].fd < 0)
			id = i;
	if (id < 0)
		return MSIM_CME_NOT_ALLOWED; /* all 7 in use */
	s = &m->sock[id];
	s->fd = socket(AF_INET, (proto == 17 ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	sa = sin_of(INADDR_LOOPBACK, (uint16_t)port);
	if (s->fd < 0 || (proto == 17 && bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)) {
		sock_close(s);
		return MSIM_CME_NOT_ALLOWED;
	}
	s->proto = (int)proto;
	s->rxq = proto == 17 ? calloc(MSIM_RX_QUEUE, sizeof(*s->rxq)) : NULL;
	s->tcp = proto == 6 ? malloc(MSIM_TCP_BUF) : NULL;
	if (!s->rxq && !s->tcp) {
		sock_close(s);
		return MSIM_CME_MEMORY_FULL;
	}
	msim_line(m, "+USOCR: %d", id);
	return 0;
}

/* AT+USOCO=<socket>,"<ip>",<port>: a TCP connection (loopback answers at once) */
int msim_h_usoco(struct msim *m, const struct msim_cmd *c)
{
	long id, port;
	uint32_t addr;
	struct msim_sock *s = sock_arg(m, c, 0, &id);
	struct sockaddr_in sa;

	if (!s || s->proto != 6 || s->connected || loopback_addr(c, 1, &addr) != 0 ||
	    msim_at_int(c, 2, 1, 65535, &port) != 0)
		return MSIM_CME_BAD_PARAM;
	if (!m->psd_active || !port_ok(m, port))
		return MSIM_CME_NOT_ALLOWED;
	sa = sin_of(addr, (uint16_t)port);
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return MSIM_CME_NOT_ALLOWED;
	fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	s->connected = true;
	return 0;
}

/* Decodes a data parameter in hex mode; 0 with *n bytes, or -1. */
static int hex_decode(const char *h, size_t hl, uint8_t *out, size_t cap, size_t *n)
{
	if (hl % 2 || hl / 2 > cap)
		return -1;
	for (size_t i = 0; i < hl; i += 2) {
		unsigned v;
		char t[3] = {h[i], h[i + 1], 0};

		if (!isxdigit((unsigned char)t[0]) || !isxdigit((unsigned char)t[1]) ||
		    sscanf(t, "%2x", &v) != 1)
			return -1;
		out[i / 2] = (uint8_t)v;
	}
	*n = hl / 2;
	return 0;
}

/* The bytes the stack took: a datagram whole or not at all (-1); of a TCP write what the send
 * window takes now, which may be part or none (+USOWR: <s>,<taken>, as the module reports). */
static ssize_t send_payload(struct msim *m, int id, const uint8_t *d, size_t n)
{
	struct msim_sock *s = &m->sock[id];
	ssize_t k;

	if (s->proto == 17) {
		struct sockaddr_in sa = sin_of(m->raw.addr, m->raw.port);
		k = sendto(s->fd, d, n, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa));
		return k == (ssize_t)n ? k : -1;
	}
	if (s->peer_closed)
		return -1;
	k = send(s->fd, d, msim_netx_window(m, n), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		k = 0;
	return k;
}

static void sent_reply(struct msim *m, int id, ssize_t n)
{
	if (n < 0) {
		msim_error(m, MSIM_CME_NOT_ALLOWED);
		return;
	}
	msim_line(m, "%s: %d,%zd", m->sock[id].proto == 17 ? "+USOST" : "+USOWR", id, n);
	msim_ok(m);
}

static void payload_done(struct msim *m, bool complete)
{
	int id = m->raw.sock;

	if (!complete || m->sock[id].fd < 0) {
		msim_error(m, MSIM_CME_UNKNOWN);
		return;
	}
	sent_reply(m, id, send_payload(m, id, m->raw.buf, m->raw.want));
}

/* The data of +USOST / +USOWR: in the command (param i) or after the '@' prompt. */
static int payload(struct msim *m, const struct msim_cmd *c, int id, int i, long len)
{
	uint8_t buf[MSIM_DGRAM_MAX];
	size_t n;
	const struct msim_at_param *p = &c->param[i];

	m->raw.sock = id;
	if (c->nparam <= i) {
		msim_out_raw(m, "@", 1);
		msim_expect_raw(m, (size_t)len, 10000, payload_done);
		return MSIM_LATER;
	}
	if (m->hexmode) {
		if (hex_decode(p->p, p->len, buf, sizeof(buf), &n) != 0)
			return MSIM_CME_BAD_PARAM;
	} else {
		n = p->len < sizeof(buf) ? p->len : sizeof(buf);
		memcpy(buf, p->p, n);
	}
	if (n != (size_t)len)
		return MSIM_CME_BAD_PARAM;
	sent_reply(m, id, send_payload(m, id, buf, n));
	return MSIM_LATER;
}

/* AT+USOST=<socket>,"<ip>",<port>,<len>[,"<data>"] -> '@', <len> bytes, +USOST: <s>,<len> */
int msim_h_usost(struct msim *m, const struct msim_cmd *c)
{
	long id, port, len;
	uint32_t addr;
	struct msim_sock *s = sock_arg(m, c, 0, &id);

	if (!s || s->proto != 17 || loopback_addr(c, 1, &addr) != 0 ||
	    msim_at_int(c, 2, 1, 65535, &port) != 0 ||
	    msim_at_int(c, 3, 1, MSIM_DGRAM_MAX, &len) != 0)
		return MSIM_CME_BAD_PARAM;
	if (!m->psd_active || !port_ok(m, port))
		return MSIM_CME_NOT_ALLOWED;
	m->raw.addr = addr;
	m->raw.port = (uint16_t)port;
	return payload(m, c, (int)id, 4, len);
}

/* AT+USOWR=<socket>,<len>[,"<data>"] on a connected TCP socket */
int msim_h_usowr(struct msim *m, const struct msim_cmd *c)
{
	long id, len;
	struct msim_sock *s = sock_arg(m, c, 0, &id);

	if (!s || msim_at_int(c, 1, 1, MSIM_DGRAM_MAX, &len) != 0)
		return MSIM_CME_BAD_PARAM;
	if (s->proto != 6 || !s->connected || !m->psd_active)
		return MSIM_CME_NOT_ALLOWED;
	return payload(m, c, (int)id, 2, len);
}

bool msim_sock_wants_read(const struct msim *m, int id)
{
	const struct msim_sock *s = &m->sock[id];

	if (s->fd < 0 || !m->powered)
		return false;
	if (s->proto == 17)
		return s->rx_n < MSIM_RX_QUEUE;
	return s->connected && !s->peer_closed && s->tcp_n < MSIM_TCP_BUF;
}

static void udp_ready(struct msim *m, int id)
{
	struct msim_sock *s = &m->sock[id];
	struct msim_dgram *d = &s->rxq[(s->rx_head + s->rx_n) % MSIM_RX_QUEUE];
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	ssize_t k = recvfrom(s->fd, d->data, sizeof(d->data), MSG_DONTWAIT | MSG_TRUNC,
	                     (struct sockaddr *)&sa, &sl);

	if (k < 0)
		return; /* ECONNREFUSED from an earlier datagram, EAGAIN */
	if ((size_t)k > sizeof(d->data))
		k = sizeof(d->data); /* the module drops what exceeds its buffer */
	d->addr = ntohl(sa.sin_addr.s_addr);
	d->port = ntohs(sa.sin_port);
	d->len = (uint16_t)k;
	s->rx_n++;
	msim_urc(m, "+UUSORD: %d,%u", id, d->len);
}

static void tcp_ready(struct msim *m, int id)
{
	struct msim_sock *s = &m->sock[id];
	ssize_t k = recv(s->fd, s->tcp + s->tcp_n, MSIM_TCP_BUF - s->tcp_n, MSG_DONTWAIT);

	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {
		s->peer_closed = true;
		if (s->tcp_n == 0)
			msim_urc(m, "+UUSOCL: %d", id);
		return;
	}
	s->tcp_n += (size_t)k;
	msim_urc(m, "+UUSORD: %d,%zu", id, s->tcp_n);
}

void msim_sock_ready(struct msim *m, int id)
{
	if (id < 0 || id >= MSIM_SOCKETS || !msim_sock_wants_read(m, id))
		return;
	if (m->sock[id].proto == 17)
		udp_ready(m, id);
	else
		tcp_ready(m, id);
}

/* '<prefix>"<data>"' with the data raw (binary) or in hex, as one response line */
static void data_line(struct msim *m, const char *prefix, const uint8_t *d, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[MSIM_LINE_MAX];
	size_t k = strlen(prefix);

	memcpy(buf, prefix, k);
	buf[k++] = '"';
	for (size_t i = 0; i < n && k + 3 < sizeof(buf); i++) {
		if (m->hexmode) {
			buf[k++] = hex[d[i] >> 4];
			buf[k++] = hex[d[i] & 15];
		} else {
			buf[k++] = (char)d[i];
		}
	}
	buf[k++] = '"';
	msim_line_bytes(m, buf, k);
}

/* AT+USORF=<s>,<len> -> +USORF: <s>,"<ip>",<port>,<n>,"<data>"; <len> 0 -> +USORF: <s>,<n> */
int msim_h_usorf(struct msim *m, const struct msim_cmd *c)
{
	long id, len;
	struct msim_sock *s = sock_arg(m, c, 0, &id);
	struct msim_dgram *d;
	size_t left, n;
	char prefix[96];
	struct in_addr a;

	if (!s || s->proto != 17 ||
	    msim_at_int(c, 1, 0, m->hexmode ? MSIM_DGRAM_MAX / 2 : MSIM_DGRAM_MAX, &len) != 0)
		return MSIM_CME_BAD_PARAM;
	d = &s->rxq[s->rx_head];
	left = s->rx_n ? d->len - s->rx_off : 0;
	if (len == 0) {
		msim_line(m, "+USORF: %ld,%zu", id, left);
		return 0;
	}
	n = left < (size_t)len ? left : (size_t)len;
	a.s_addr = htonl(d->addr);
	snprintf(prefix, sizeof(prefix), "+USORF: %ld,\"%s\",%u,%zu,", id,
	         s->rx_n ? inet_ntoa(a) : "", s->rx_n ? d->port : 0u, n);
	data_line(m, prefix, d->data + s->rx_off, n);
	if (!s->rx_n)
		return 0;
	s->rx_off += n;
	if (s->rx_off < d->len) {
		msim_urc(m, "+UUSORD: %ld,%zu", id, d->len - s->rx_off);
	} else {
		s->rx_off = 0;
		s->rx_head = (s->rx_head + 1) % MSIM_RX_QUEUE;
		s->rx_n--;
	}
	return 0;
}

/* AT+USORD=<s>,<len> -> +USORD: <s>,<n>,"<data>"; <len> 0 -> +USORD: <s>,<pending> */
int msim_h_usord(struct msim *m, const struct msim_cmd *c)
{
	long id, len;
	struct msim_sock *s = sock_arg(m, c, 0, &id);
	size_t n;
	char prefix[64];

	if (!s || s->proto != 6 ||
	    msim_at_int(c, 1, 0, m->hexmode ? MSIM_DGRAM_MAX / 2 : MSIM_DGRAM_MAX, &len) != 0)
		return MSIM_CME_BAD_PARAM;
	if (len == 0) {
		msim_line(m, "+USORD: %ld,%zu", id, s->tcp_n);
		return 0;
	}
	n = s->tcp_n < (size_t)len ? s->tcp_n : (size_t)len;
	snprintf(prefix, sizeof(prefix), "+USORD: %ld,%zu,", id, n);
	data_line(m, prefix, s->tcp, n);
	memmove(s->tcp, s->tcp + n, s->tcp_n - n);
	s->tcp_n -= n;
	if (s->tcp_n == 0 && s->peer_closed && n > 0)
		msim_urc(m, "+UUSOCL: %ld", id);
	return 0;
}

/* AT+USOCL=<s> */
int msim_h_usocl(struct msim *m, const struct msim_cmd *c)
{
	long id;
	struct msim_sock *s = sock_arg(m, c, 0, &id);

	if (!s)
		return MSIM_CME_BAD_PARAM;
	sock_close(s);
	return 0;
}
