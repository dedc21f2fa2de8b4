/* The simulator's network extras for the gateway backhaul (issue 12), kept apart from the core and
 * the firmware update: +CGEREP and its +CGEV reports, the signal +CSQ answers, and the socket
 * faults a cellular link shows (the network resetting a TCP connection, the PDP context torn
 * down, a send window that takes only part of a +USOWR). msim_netx.c. */
#ifndef MSIM_NETX_H
#define MSIM_NETX_H

#include <stdbool.h>
#include <stddef.h>

struct msim;
struct msim_cmd;

struct msim_netx {
	int cgerep;         /* +CGEREP <mode>: 0 no +CGEV reports, 1 or 2 report (volatile) */
	int csq;            /* +CSQ <rssi> while registered; 0 means the default 20 */
	size_t sock_window; /* bytes one +USOWR takes at most; 0: no limit (a fault) */
};

/* AT+CGEREP=<mode>[,<bfr>] / AT+CGEREP? */
int msim_h_cgerep(struct msim *m, const struct msim_cmd *c);
/* The <rssi> +CSQ reports while registered. */
int msim_netx_csq(const struct msim *m);
/* The PDP context went away (deregistration, +UPSDA=0,4 or the network): "+CGEV: NW PDN DEACT
 * <cid>" when reporting is on (ME PDN DEACT when the host asked), then every open socket is
 * reset with +UUSOCL, as the module's stack loses its address. */
void msim_netx_pdp_lost(struct msim *m, bool by_host);
/* How many of n bytes a +USOWR may take now (the window fault). */
size_t msim_netx_window(const struct msim *m, size_t n);
/* The control commands of this file:
 *   sock-close S    the network resets TCP socket S: the peer sees the connection end, the host
 *                   gets +UUSOCL: S (after the bytes already buffered are read)
 *   sock-window N   each +USOWR takes at most N bytes (+USOWR: S,<taken>); 0 lifts it
 *   pdp-drop        the network deactivates the PDP context (+CGEV, +UUPSDD, sockets reset)
 *   csq RSSI        +CSQ reports RSSI (0..31, 99 unknown)
 * 1 when line is one of them (0 done, or -1 with *why), 0 when it is not ours. */
int msim_netx_control(struct msim *m, const char *line, int *rc, const char **why);

#endif
