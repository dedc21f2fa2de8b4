/* The module's NVM in a state file: one "key value" line each, rewritten whole (temporary file,
 * fsync, rename) at every change so that a power cut never leaves it half-written. A reboot
 * reloads it, which is how the simulator forgets exactly the volatile settings. */
#include "msim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void msim_nvm_defaults(struct msim_nvm *n)
{
	memset(n, 0, sizeof(*n));
	n->ipr = 0;      /* autobaud, the factory default */
	n->mnoprof = 90; /* global */
	n->greeting = 1;
	snprintf(n->greeting_text, sizeof(n->greeting_text), "+UMSIM: READY");
	snprintf(n->version, sizeof(n->version), "03.15,A00.01");
	n->echo = 1;
	n->cmee = 0;
	n->upsd_cid = -1;
	n->upsd_proto = 0;
}

static int set_str(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	snprintf(dst, len, "%s", v);
	return 0;
}

static int set_int(int *dst, const char *v, long lo, long hi)
{
	char *end;
	long x = strtol(v, &end, 10);

	if (end == v || *end || x < lo || x > hi)
		return -1;
	*dst = (int)x;
	return 0;
}

/* One "key value" line of the state file. */
static int apply(struct msim_nvm *n, const char *k, const char *v)
{
	int x;

	if (!strcmp(k, "ipr")) {
		if (set_int(&x, v, 0, 3000000))
			return -1;
		n->ipr = (unsigned)x;
		return 0;
	}
	if (!strcmp(k, "mnoprof"))
		return set_int(&n->mnoprof, v, 0, 255);
	if (!strcmp(k, "cfun4"))
		return set_int(&n->cfun4, v, 0, 1);
	if (!strcmp(k, "greeting"))
		return set_int(&n->greeting, v, 0, 1);
	if (!strcmp(k, "greeting_text"))
		return set_str(n->greeting_text, sizeof(n->greeting_text), v);
	if (!strcmp(k, "version"))
		return set_str(n->version, sizeof(n->version), v);
	if (!strcmp(k, "echo"))
		return set_int(&n->echo, v, 0, 1);
	if (!strcmp(k, "cmee"))
		return set_int(&n->cmee, v, 0, 2);
	if (!strcmp(k, "upsd_cid"))
		return set_int(&n->upsd_cid, v, -1, MSIM_CIDS);
	if (!strcmp(k, "upsd_proto"))
		return set_int(&n->upsd_proto, v, 0, 3);
	if (!strcmp(k, "hexmode"))
		return set_int(&n->hexmode, v, 0, 1);
	if (!strncmp(k, "cgdcont", 7)) {
		int cid;
		char type[8], apn[MSIM_STR_MAX];

		if (set_int(&cid, k + 7, 1, MSIM_CIDS) || sscanf(v, "%7s %255s", type, apn) < 1)
			return -1;
		snprintf(n->pdp_type[cid - 1], sizeof(n->pdp_type[0]), "%s", type);
		if (sscanf(v, "%*s %255s", apn) != 1)
			apn[0] = '\0';
		snprintf(n->apn[cid - 1], sizeof(n->apn[0]), "%s", apn);
		return 0;
	}
	return -1;
}

int msim_nvm_load(struct msim_nvm *n, const char *path)
{
	char buf[512];
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return errno == ENOENT ? 0 : -1; /* a new module: factory values */
	while (fgets(buf, sizeof(buf), f)) {
		char *sp;

		buf[strcspn(buf, "\r\n")] = '\0';
		if (!buf[0] || buf[0] == '#')
			continue;
		sp = strchr(buf, ' ');
		if (!sp || apply(n, (*sp = '\0', buf), sp + 1) != 0) {
			fprintf(stderr, "fuota-modem-sim: %s: bad line '%s'\n", path, buf);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

int msim_nvm_save(const struct msim_nvm *n, const char *path)
{
	char tmp[4096];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "# fuota-modem-sim NVM\nipr %u\nmnoprof %d\ncfun4 %d\ngreeting %d\n", n->ipr,
	        n->mnoprof, n->cfun4, n->greeting);
	fprintf(f, "greeting_text %s\nversion %s\necho %d\ncmee %d\nupsd_cid %d\nupsd_proto %d\n",
	        n->greeting_text, n->version, n->echo, n->cmee, n->upsd_cid, n->upsd_proto);
	fprintf(f, "hexmode %d\n", n->hexmode);
	for (int i = 0; i < MSIM_CIDS; i++)
		if (n->pdp_type[i][0])
			fprintf(f, "cgdcont%d %s %s\n", i + 1, n->pdp_type[i], n->apn[i]);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

void msim_nvm_changed(struct msim *m)
{
	if (m->cfg.state_path && msim_nvm_save(&m->nvm, m->cfg.state_path) != 0)
		fprintf(stderr, "fuota-modem-sim: cannot write %s\n", m->cfg.state_path);
}
