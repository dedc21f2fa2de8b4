/* fuota-modem: the state file read alone, status as text or JSON, the progress bar, exit codes,
 * and the desired configuration edited in the state file (no modem needed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuota/sara_fw_parse.h"
#include "fuota_modem.h"

int fm_read_state(const struct fm_opts *o, struct fwu_status *st, struct fwu_desired *d)
{
	int err;

	memset(st, 0, sizeof(*st));
	fwu_desired_init(d);
	err = fwu_file_read(o->state, st, d);
	if (err == FUOTA_ERR_NOT_FOUND) {
		memset(st, 0, sizeof(*st));
		fwu_desired_init(d);
		return 0;
	}
	if (err == FUOTA_ERR_MALFORMED) {
		fprintf(stderr, "fuota-modem: %s: not a complete state file\n", o->state);
		return FM_EXIT_STATE_FILE;
	}
	if (err != FUOTA_OK) {
		fprintf(stderr, "fuota-modem: %s: %s\n", o->state, strerror(errno));
		return FM_EXIT_IO;
	}
	return 0;
}

/* A JSON string: quotes, backslashes and control bytes escaped (versions come from the modem). */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_json(const struct fwu_status *st, const char *msg)
{
	printf("{\"state\":\"%s\",\"method\":\"%s\",\"pct\":%d,\"result\":%d,\"result_name\":",
	       fwu_state_name(st->state), fwu_method_name(st->method), st->pct, st->result);
	json_str(st->result ? fwu_install_result_name(st->result) : "");
	printf(",\"fail\":\"%s\",\"fail_code\":%d,\"foat_sends\":%u,\"ufota_mode\":%d,\"seq\":%u,"
	       "\"reset_allowed\":%s,\"version_before\":",
	       fwu_fail_name(st->fail), st->fail_code, st->sends, st->ufota_mode, (unsigned)st->seq,
	       fwu_reset_allowed(st->state) ? "true" : "false");
	json_str(st->ver_before);
	fputs(",\"version_after\":", stdout);
	json_str(st->ver_after);
	fputs(",\"message\":", stdout);
	json_str(msg ? msg : "");
	puts("}");
}

void fm_print(const struct fm_opts *o, const struct fwu_status *st, const char *msg)
{
	if (o->json) {
		print_json(st, msg);
		return;
	}
	printf("state:    %s (%d%%)\n", fwu_state_name(st->state), st->pct);
	printf("method:   %s\n", fwu_method_name(st->method));
	if (st->result)
		printf("result:   %d %s\n", st->result, fwu_install_result_name(st->result));
	if (st->fail)
		printf("failure:  %s (%d)\n", fwu_fail_name(st->fail), st->fail_code);
	if (st->method == FWU_M_FOAT)
		printf("foat:     %u transfer(s)\n", st->sends);
	printf("version:  %s -> %s\n", st->ver_before[0] ? st->ver_before : "?",
	       st->ver_after[0] ? st->ver_after : "?");
	if (!fwu_reset_allowed(st->state))
		puts("warning:  do not reset or power off the module now");
	if (msg && msg[0])
		printf("message:  %s\n", msg);
}

int fm_exit_code(int err, uint32_t seq0, const struct fwu_status *st)
{
	bool moved = st->seq != seq0;

	if (st->state == FWU_S_FAILED && moved)
		return FM_EXIT_FAILED;
	if (err == FUOTA_OK)
		return FM_EXIT_OK;
	if (err == FUOTA_ERR_STATE && !moved)
		return FM_EXIT_REFUSED;
	if (st->state != FWU_S_IDLE && st->state != FWU_S_DONE && st->state != FWU_S_FAILED)
		return FM_EXIT_PENDING;
	return FM_EXIT_IO;
}

void fm_report(void *ctx, const struct fwu_status *st, const char *msg)
{
	const struct fm_opts *o = ctx;
	static const char bar[] = "########################################";
	int n = st->pct * 40 / 100;

	if (!o->json && isatty(STDERR_FILENO))
		fprintf(stderr, "\r%-16s [%.*s%*s] %3d%%", fwu_state_name(st->state), n, bar,
		        40 - n, "", st->pct);
	if (msg && msg[0])
		fprintf(stderr, "%sfuota-modem: %s\n", isatty(STDERR_FILENO) ? "\n" : "", msg);
}

int fm_status(const struct fm_opts *o)
{
	struct fwu_status st;
	struct fwu_desired d;
	int rc = fm_read_state(o, &st, &d);

	if (rc == 0)
		fm_print(o, &st, NULL);
	return rc;
}

/* "1,IP,iot.example" */
static int parse_apn(const char *v, struct fwu_desired *d)
{
	char type[sizeof(d->apn[0].pdp_type)];
	int cid, used = 0;
	size_t i;

	if (sscanf(v, "%d,%7[^,],%n", &cid, type, &used) != 2 || used == 0 || cid < 1 || cid > 11)
		return -1;
	for (i = 0; i < FWU_APNS && d->apn[i].cid && d->apn[i].cid != cid; i++)
		;
	if (i == FWU_APNS || strlen(v + used) >= sizeof(d->apn[i].apn))
		return -1;
	d->apn[i].cid = cid;
	memcpy(d->apn[i].pdp_type, type, sizeof(type));
	snprintf(d->apn[i].apn, sizeof(d->apn[i].apn), "%s", v + used);
	return 0;
}

static int parse_psm_edrx(const char *name, const char *v, struct fwu_desired *d)
{
	if (strcmp(name, "--psm") == 0 && strcmp(v, "off") == 0)
		d->psm = 0;
	else if (strcmp(name, "--psm") == 0 &&
	         sscanf(v, "%8[01],%8[01]", d->psm_tau, d->psm_active) == 2)
		d->psm = 1;
	else if (strcmp(name, "--edrx") == 0 && strcmp(v, "off") == 0)
		d->edrx = 0;
	else if (strcmp(name, "--edrx") == 0 && sscanf(v, "%4[01]", d->edrx_value) == 1)
		d->edrx = 1;
	else
		return -1;
	return 0;
}

int fm_config(const struct fm_opts *o)
{
	struct fwu_status st;
	struct fwu_desired d;
	char cmds[16][160];
	bool mno;
	size_t n;
	int i, rc = fm_read_state(o, &st, &d);

	for (i = 1; rc == 0 && i < o->argc; i++) {
		const char *name = o->argv[i], *v = i + 1 < o->argc ? o->argv[i + 1] : NULL;

		if (strcmp(name, "--urcs") == 0)
			d.urcs = true;
		else if (strcmp(name, "--urcs-install") == 0)
			d.urcs_install = true;
		else if (!v)
			rc = FM_EXIT_USAGE;
		else if (strcmp(name, "--mno") == 0 && ++i)
			d.mno = atoi(v);
		else if (strcmp(name, "--apn") == 0 && ++i)
			rc = parse_apn(v, &d) ? FM_EXIT_USAGE : 0;
		else if (++i)
			rc = parse_psm_edrx(name, v, &d) ? FM_EXIT_USAGE : 0;
	}
	if (rc == 0 &&
	    (d.mno < -1 || d.mno > 255 || fwu_restore_plan(&d, -1, &mno, cmds, 16, &n) != FUOTA_OK))
		rc = FM_EXIT_USAGE;
	if (rc == FM_EXIT_USAGE)
		fputs("fuota-modem: config: bad value\n", stderr);
	if (rc == 0 && fwu_file_write(o->state, &st, &d) != FUOTA_OK) {
		fprintf(stderr, "fuota-modem: %s: %s\n", o->state, strerror(errno));
		rc = FM_EXIT_IO;
	}
	for (i = 0; rc == 0 && (size_t)i < n; i++)
		printf("%s\n", cmds[i]); /* what a restore will send (after the MNO profile) */
	return rc;
}
