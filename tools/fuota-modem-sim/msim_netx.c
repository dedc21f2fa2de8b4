/* The simulator's network extras for the gateway backhaul; see msim_netx.h. */
#include "msim.h"
#include "msim_netx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int msim_h_cgerep(struct msim *m, const struct msim_cmd *c)
{
	long mode, bfr;

	if (c->kind == MSIM_AT_READ) {
		msim_line(m, "+CGEREP: %d,0", m->netx.cgerep);
		return 0;
	}
	if (c->kind == MSIM_AT_TEST) {
		msim_line(m, "+CGEREP: (0-2),(0,1)");
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 2, &mode) != 0 ||
	    (msim_at_has(c, 1) && msim_at_int(c, 1, 0, 1, &bfr) != 0))
		return MSIM_CME_BAD_PARAM;
	m->netx.cgerep = (int)mode;
	return 0;
}

int msim_netx_csq(const struct msim *m)
{
	return m->netx.csq ? m->netx.csq : 20;
}

/* The network ends socket id: the peer sees the connection go, the host gets +UUSOCL. The slot
 * stays taken until the host's +USOCL, as on the module. */
static void sock_reset(struct msim *m, int id)
{
	struct msim_sock *s = &m->sock[id];

	if (s->fd < 0 || s->peer_closed)
		return;
	shutdown(s->fd, SHUT_RDWR);
	s->peer_closed = true;
	s->connected = false;
	if (s->proto == 17 || s->tcp_n == 0)
		msim_urc(m, "+UUSOCL: %d", id);
}

void msim_netx_pdp_lost(struct msim *m, bool by_host)
{
	if (m->netx.cgerep)
		msim_urc(m, "+CGEV: %s PDN DEACT %d", by_host ? "ME" : "NW",
		         m->upsd_cid > 0 ? m->upsd_cid : 1);
	for (int i = 0; i < MSIM_SOCKETS; i++)
		sock_reset(m, i);
}

size_t msim_netx_window(const struct msim *m, size_t n)
{
	return m->netx.sock_window && n > m->netx.sock_window ? m->netx.sock_window : n;
}

static int number(const char *rest, long lo, long hi, long *v)
{
	char *end;

	if (!*rest)
		return -1;
	*v = strtol(rest, &end, 10);
	return *end || *v < lo || *v > hi ? -1 : 0;
}

int msim_netx_control(struct msim *m, const char *line, int *rc, const char **why)
{
	long v;

	*rc = -1;
	if (!strncmp(line, "sock-close ", 11)) {
		if (number(line + 11, 0, MSIM_SOCKETS - 1, &v) != 0 || m->sock[v].fd < 0)
			*why = "sock-close wants an open socket (0..6)";
		else
			sock_reset(m, (int)v), *rc = 0;
	} else if (!strncmp(line, "sock-window ", 12)) {
		if (number(line + 12, 0, MSIM_DGRAM_MAX, &v) != 0)
			*why = "sock-window wants bytes (0..1024)";
		else
			m->netx.sock_window = (size_t)v, *rc = 0;
	} else if (!strcmp(line, "pdp-drop")) {
		if (!m->psd_active) {
			*why = "no PDP context is active";
		} else {
			m->psd_active = false;
			m->upsd_ip[0] = '\0';
			msim_netx_pdp_lost(m, false);
			msim_urc(m, "+UUPSDD: 0");
			*rc = 0;
		}
	} else if (!strncmp(line, "csq ", 4)) {
		if (number(line + 4, 0, 99, &v) != 0 || (v > 31 && v != 99))
			*why = "csq wants 0..31 or 99";
		else
			m->netx.csq = (int)v, *rc = 0;
	} else {
		return 0;
	}
	return 1;
}
