/* The fault switches and other control commands, one text line each, from --fault or from the
 * control FIFO (--control):
 *   drop-final [N]        the next N final result codes are not sent
 *   garble [N]            the next N lines sent are corrupted (first byte 0xFE, one bit pattern)
 *   urc-mid [N] [TEXT]    the next N responses carry a URC (TEXT, default "+CEREG: 1") after
 *                         their first line, before their final result code
 *   silent SECONDS        no answer, input dropped, for that long (a hung module)
 *   reboot                an unprompted reboot (volatile settings lost, greeting again)
 *   power-off | power-on  lose power / get it back (power-on boots)
 *   pwr-pulse MS          the host holds PWR_ON low for MS ms: switches a module that is off on
 *                         (>= 150 ms), one that is on off (>= 2000 ms; CELLULAR-NOTES §3.1)
 *   reset-pulse MS        the host holds RESET_N low for MS ms (>= 150 ms: a reboot)
 *   urc TEXT              send TEXT as a URC now
 *   cereg STAT            the network changes the registration state (0..5)
 * and the firmware update's (msim_fw_run.c):
 *   fw-power-dl BYTE      power lost when a download reaches that byte (back 300 ms later): the
 *                         FOAT transfer, or +UDWNFILE / +UHTTPC / +UFTPC into the FOAT area (a
 *                         partial updatePackage.bin is left)
 *   fw-power-install PCT  power lost when the install reaches PCT % (it starts again at boot)
 *   fw-lose-128 [N]       the next N "128" success URCs are not sent
 *   fw-validate-fail [C]  the next validation fails with code C (default 247)
 *   fw-xm-corrupt BYTE    a bit of that byte of the next FOAT transfer flipped
 * the backhaul's (msim_netx.c): sock-close S, sock-window N, pdp-drop, csq RSSI; and uFOTA's:
 *   ufota-campaign FILE   a uFOTA campaign of the package FILE of --www (msim_ufota.c)
 *   ufota-pause | ufota-resume | ufota-cancel   the campaign's download, from the server side
 *   rot 0|1|3             what AT+USECFW=0 answers: up to date, update needed, no update file
 *   ufota-scale N         N module seconds per second for the campaign's timers (ack, retries)
 *   ufota-signal S        the signal lost for S module seconds (§3.2.2 retries)
 *   ufota-offer FILE      a campaign the server holds until the next check-in (msim_lwm2m.c)
 *   ufota-verizon FILE    a campaign of the Verizon DM server (Table 3)
 *   ufota-secmode 0|1, ufota-fresh, ufota-00b   +USECMODE, a client never registered, a 00B-00 */
#include "msim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void silent_end(struct msim *m, int arg)
{
	(void)arg;
	m->silent = false;
}

/* An optional count (default 1); moves *rest past it. */
static int count_arg(const char **rest, int *n)
{
	char *end;
	long v;

	while (**rest == ' ')
		(*rest)++;
	if (!isdigit((unsigned char)**rest)) {
		*n = 1;
		return 0;
	}
	v = strtol(*rest, &end, 10);
	if (v < 0 || v > 1000000 || (*end && *end != ' '))
		return -1;
	*n = (int)v;
	*rest = end;
	while (**rest == ' ')
		(*rest)++;
	return 0;
}

static bool is(const char *line, const char *word, const char **rest)
{
	size_t n = strlen(word);

	if (strncmp(line, word, n) || (line[n] && line[n] != ' '))
		return false;
	*rest = line + n;
	while (**rest == ' ')
		(*rest)++;
	return true;
}

static int timed(struct msim *m, const char *rest, const char **why)
{
	char *end;
	double s = strtod(rest, &end);

	if (end == rest || *end || s < 0 || s > 86400) {
		*why = "silent wants seconds (0..86400)";
		return -1;
	}
	m->silent = true;
	msim_timer_cancel(m, silent_end);
	msim_timer_add(m, (unsigned)(s * 1000), silent_end, 0);
	return 0;
}

int msim_control(struct msim *m, const char *line, const char **why)
{
	const char *rest;
	int n;

	*why = "unknown control command";
	if (is(line, "drop-final", &rest) || is(line, "garble", &rest)) {
		if (count_arg(&rest, &n) != 0 || *rest) {
			*why = "bad count";
			return -1;
		}
		*(line[0] == 'd' ? &m->faults.drop_final : &m->faults.garble) = n;
	} else if (is(line, "urc-mid", &rest)) {
		if (count_arg(&rest, &n) != 0) {
			*why = "bad count";
			return -1;
		}
		m->faults.urc_mid = n;
		if (*rest)
			snprintf(m->faults.urc_text, sizeof(m->faults.urc_text), "%s", rest);
	} else if (is(line, "silent", &rest)) {
		return timed(m, rest, why);
	} else if (is(line, "reboot", &rest) && !*rest) {
		msim_reboot(m);
	} else if (is(line, "power-off", &rest) && !*rest) {
		msim_power_off(m);
	} else if (is(line, "power-on", &rest) && !*rest) {
		msim_power_on(m);
	} else if (is(line, "pwr-pulse", &rest) || is(line, "reset-pulse", &rest)) {
		char *end;
		long ms = strtol(rest, &end, 10);

		if (end == rest || *end || ms < 0 || ms > 60000) {
			*why = "a pulse wants milliseconds (0..60000)";
			return -1;
		}
		if (line[0] == 'r' && ms >= 150)
			msim_reboot(m);
		else if (line[0] == 'p' && !m->powered && ms >= 150)
			msim_power_on(m);
		else if (line[0] == 'p' && m->powered && ms >= 2000)
			msim_power_off(m);
	} else if (is(line, "urc", &rest) && *rest) {
		msim_urc(m, "%s", rest);
	} else if (is(line, "cereg", &rest) && rest[0] >= '0' && rest[0] <= '5' && !rest[1]) {
		msim_cereg_set(m, rest[0] - '0');
	} else if (!strncmp(line, "ufota-", 6) || !strncmp(line, "rot ", 4)) {
		return msim_ufota_control(m, line, why);
	} else if (!strncmp(line, "fw-", 3)) {
		return msim_fw_control(m, line, why);
	} else if (msim_netx_control(m, line, &n, why)) {
		return n;
	} else {
		return -1;
	}
	return 0;
}
