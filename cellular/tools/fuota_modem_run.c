/* fuota-modem: the commands that talk to the modem: the port, the AT client (its log appended to
 * the log file, secrets masked), the driver and the update manager, then one command. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fuota/sara_fw_parse.h"
#include "fuota_modem.h"

struct fm {
	const struct fm_opts *o;
	struct cell_serial ser;
	FILE *log;
	struct at_client *at;
	struct sara *s;
	struct fwu *u;
	uint8_t *pkg;
	size_t pkg_len;
};

struct upd {
	enum fwu_method m;
	const char *package, *server, *path, *md5, *user, *password;
	uint16_t server_port;
	bool use_1k;
	uint32_t foat_baud, timeout_s;
	char md5_buf[33];
};

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* The package's MD5, to compare with the one +UUHTTPCR / +UUFTPCR reports. */
static int md5_hex(const uint8_t *p, size_t n, char out[33])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned len = 0, i;

	if (EVP_Digest(p, n, d, &len, EVP_md5(), NULL) != 1 || len != 16)
		return -1;
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return 0;
}

static int parse_update(const struct fm_opts *o, struct upd *p)
{
	const char *v, *name;
	int i;

	memset(p, 0, sizeof(*p));
	p->timeout_s = 600;
	for (i = 1; i < o->argc; i++) {
		name = o->argv[i];
		if (strcmp(name, "--1k") == 0) {
			p->use_1k = true;
			continue;
		}
		if (i + 1 >= o->argc)
			return -1;
		v = o->argv[++i];
		if (strcmp(name, "--method") == 0 && fwu_method_parse(v, &p->m) != FUOTA_OK)
			return -1;
		else if (strcmp(name, "--package") == 0)
			p->package = v;
		else if (strcmp(name, "--server") == 0)
			p->server = v;
		else if (strcmp(name, "--path") == 0)
			p->path = v;
		else if (strcmp(name, "--md5") == 0)
			p->md5 = v;
		else if (strcmp(name, "--user") == 0)
			p->user = v;
		else if (strcmp(name, "--password") == 0)
			p->password = v;
		else if (strcmp(name, "--server-port") == 0)
			p->server_port = (uint16_t)strtoul(v, NULL, 10);
		else if (strcmp(name, "--foat-baud") == 0)
			p->foat_baud = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(name, "--timeout") == 0)
			p->timeout_s = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(name, "--method") != 0)
			return -1;
	}
	if (p->m == FWU_M_FOAT || p->m == FWU_M_UART)
		return p->package ? 0 : -1;
	if (p->m == FWU_M_HTTP || p->m == FWU_M_FTP)
		return p->server && p->path && (p->md5 || p->package) ? 0 : -1;
	return -1;
}

/* The same update asked again after it finished: the state file says DONE with this package and
 * the module runs the version it ended on. Sending it again would fail (a delta: 168, wrong base
 * version) or install a full package twice. */
static bool already_done(struct fm *fm, const struct upd *p)
{
	struct sara_info info;
	char ver[64];

	if (fwu_get_status(fm->u)->state != FWU_S_DONE || sara_info(fm->s, &info) != FUOTA_OK)
		return false;
	snprintf(ver, sizeof(ver), "%s,%s", info.fw, info.app);
	if (!fwu_update_done(fwu_get_status(fm->u), p->m, p->md5, ver))
		return false;
	fprintf(stderr, "fuota-modem: this update is done already: the module runs %s\n", ver);
	return true;
}

static int run_update(struct fm *fm, struct upd *p)
{
	struct fwu_foat_opts fo = {.baud = p->foat_baud, .use_1k = p->use_1k};
	uint32_t t_ms = p->timeout_s * 1000u;

	if (p->package && !(fm->pkg = slurp(p->package, &fm->pkg_len))) {
		fprintf(stderr, "fuota-modem: %s: cannot read it\n", p->package);
		return FUOTA_ERR_IO;
	}
	if (!p->md5 && fm->pkg && md5_hex(fm->pkg, fm->pkg_len, p->md5_buf) == 0)
		p->md5 = p->md5_buf;
	if (already_done(fm, p))
		return FUOTA_OK;
	fwu_set_package_md5(fm->u, p->md5);
	if (p->m == FWU_M_FOAT)
		return fwu_foat(fm->u, fm->pkg, fm->pkg_len, &fo);
	if (p->m == FWU_M_UART)
		return fwu_uart(fm->u, fm->pkg, fm->pkg_len, t_ms);
	if (p->m == FWU_M_HTTP) {
		struct sara_http_cfg hc = {.server_name = p->server,
		                           .user = p->user,
		                           .password = p->password,
		                           .port = p->server_port};

		return fwu_http(fm->u, 0, &hc, p->path, p->md5, t_ms);
	}
	struct sara_ftp_cfg fc = {.server_name = p->server,
	                          .user = p->user,
	                          .password = p->password,
	                          .port = p->server_port,
	                          .passive = true};

	return fwu_ftp(fm->u, &fc, p->path, p->md5, t_ms);
}

/* ufota progress | register [--checkin] | srlt [SECONDS]: queries that print what they read. */
static int run_ufota_query(struct fm *fm, const char *sub, const char *arg)
{
	uint32_t total = 0, done = 0;
	long srlt = 0;
	int st = 0, sec = 0, err;

	if (strcmp(sub, "progress") == 0) {
		err = fwu_ufota_progress(fm->u, &st, &total, &done);
		if (err == FUOTA_OK)
			printf("ufota: state %d, %u of %u bytes\n", st, done, total);
	} else if (strcmp(sub, "register") == 0) {
		err = fwu_ufota_register(fm->u, arg && strcmp(arg, "--checkin") == 0, &st, &sec);
		if (err == FUOTA_OK)
			printf("ufota: server 721 status %d (3: registered), USECMODE %d\n", st,
			       sec);
	} else if (strcmp(sub, "srlt") == 0) {
		err = fwu_ufota_srlt(fm->u, arg ? atol(arg) : 0, &srlt);
		if (err == FUOTA_OK)
			printf("ufota: registration lifetime %ld s\n", srlt);
	} else {
		err = FUOTA_ERR_INVALID_ARG;
	}
	return err;
}

static int run_ufota(struct fm *fm)
{
	const char *sub = fm->o->argc > 1 ? fm->o->argv[1] : "";
	const char *arg = fm->o->argc > 2 ? fm->o->argv[2] : NULL;

	if (strcmp(sub, "enable") == 0)
		return fwu_ufota_enable(fm->u);
	if (strcmp(sub, "config") == 0 && arg)
		return fwu_ufota_config(fm->u, atoi(arg));
	/* the download follows the ack by itself: watched here, since the URCs of a download that
	 * runs while no fuota-modem does are lost */
	if (strcmp(sub, "ack") == 0 && arg && atoi(arg) > 0) {
		int err = fwu_ufota_ack(fm->u, atoi(arg));

		return err == FUOTA_OK ? fwu_watch(fm->u, (uint32_t)atoi(arg) * 1000u + 3600000u)
		                       : err;
	}
	if (strcmp(sub, "reject") == 0)
		return fwu_ufota_ack(fm->u, 0);
	if (strcmp(sub, "pause") == 0 || strcmp(sub, "resume") == 0 || strcmp(sub, "cancel") == 0)
		return fwu_ufota_ctl(fm->u, sub[0] == 'p'   ? FWU_UFOTA_PAUSE
		                            : sub[0] == 'r' ? FWU_UFOTA_RESUME
		                                            : FWU_UFOTA_CANCEL);
	return run_ufota_query(fm, sub, arg);
}

static int run_rot(struct fm *fm)
{
	const char *sub = fm->o->argc > 1 ? fm->o->argv[1] : "";
	int st, err;

	if (strcmp(sub, "check") != 0 && strcmp(sub, "update") != 0)
		return FUOTA_ERR_INVALID_ARG;
	err = fwu_rot(fm->u, sub[0] == 'u', &st);
	if (err == FUOTA_OK || st >= 0)
		printf("rot: +USECFW: %d (%s)\n", st,
		       st == 0   ? "up to date"
		       : st == 1 ? "update needed"
		                 : "no update file");
	return err;
}

static void report(void *ctx, const struct fwu_status *st, const char *msg)
{
	struct fm *fm = ctx;

	fm_report((void *)(uintptr_t)fm->o, st, msg);
}

/* Before each HTTP/FTP download try: registered, with the APN of context 1 from the desired
 * configuration (when it has one), and PSD profile 0 on context 1. */
static int data_up(void *ctx)
{
	struct fm *fm = ctx;
	const struct fwu_desired *d = fwu_get_desired(fm->u);
	const char *apn = NULL;
	size_t i;
	int err;

	for (i = 0; i < FWU_APNS; i++)
		if (d->apn[i].cid == 1)
			apn = d->apn[i].apn;
	err = sara_register(fm->s, apn, 180000, NULL);
	if (err == FUOTA_OK)
		err = sara_pdp_up(fm->s, 0, 1, 60000, NULL, 0);
	/* a profile left active by a fuota-modem killed after activating it refuses a second
	 * activation ("operation not allowed"): take it down, then up again */
	if (err == AT_ERR_DEVICE && sara_pdp_down(fm->s, 0) == FUOTA_OK)
		err = sara_pdp_up(fm->s, 0, 1, 60000, NULL, 0);
	if (err != FUOTA_OK)
		fprintf(stderr, "fuota-modem: data connection: %s\n", sara_last_error(fm->s));
	return err;
}

static int open_modem(struct fm *fm)
{
	const struct fm_opts *o = fm->o;
	struct at_config ac = {0};
	struct sara_config sc = {0};
	struct fwu_config fc = {0};
	int err;

	if (!o->tty) {
		fputs("fuota-modem: no --tty (or FUOTA_MODEM_TTY)\n", stderr);
		return FUOTA_ERR_INVALID_ARG;
	}
	if ((err = cell_serial_open_tty(&fm->ser, o->tty, o->baud)) != FUOTA_OK) {
		fprintf(stderr, "fuota-modem: %s: %s\n", o->tty, strerror(errno));
		return err;
	}
	fm->log = fopen(o->log, "a");
	ac.serial = &fm->ser;
	ac.log_file = fm->log;
	if ((err = at_create(&ac, &fm->at)) != FUOTA_OK)
		return err;
	sc.at = fm->at;
	sc.recovery = true;
	sc.greeting = o->greeting;
	if ((err = sara_create(&sc, &fm->s)) != FUOTA_OK)
		return err;
	fc.sara = fm->s;
	fc.at = fm->at;
	fc.serial = &fm->ser;
	fc.state_path = o->state;
	fc.baud = o->baud;
	fc.on_report = report;
	fc.data_up = data_up;
	fc.ctx = fm;
	return fwu_open(&fc, &fm->u);
}

static void close_modem(struct fm *fm)
{
	fwu_close(fm->u);
	sara_destroy(fm->s);
	at_destroy(fm->at);
	cell_serial_close(&fm->ser);
	if (fm->log)
		fclose(fm->log);
	free(fm->pkg);
}

/* resume: the manager goes on from its state file. A uFOTA campaign runs in the module alone
 * (§3.2.2: it resumes or restarts its download by itself; its URCs are lost while no host
 * listens), so catch up with it and say where it stands. */
static int resume(struct fm *fm)
{
	const struct fwu_status *st = fwu_get_status(fm->u);
	uint32_t total = 0, done = 0;
	int err = fwu_resume(fm->u), ms = -1;

	if (err == FUOTA_OK)
		err = fwu_ufota_sync(fm->u, &ms, &total, &done);
	if (err != FUOTA_OK || st->method != FWU_M_UFOTA || fm->o->json)
		return err;
	if ((st->state == FWU_S_DOWNLOADING || st->state == FWU_S_PAUSED) && total > 0)
		printf("uFOTA download: %u of %u bytes (+UFOTA state %d); the module goes on by "
		       "itself, `watch` follows it\n",
		       done, total, ms);
	else if (st->state == FWU_S_ACK_PENDING)
		printf("uFOTA: the server's request waits for `ufota ack|reject`; the module "
		       "accepts "
		       "it on its own one hour after it came (§3.4.2)\n");
	return err;
}

static int dispatch(struct fm *fm, struct upd *p)
{
	const char *cmd = fm->o->argv[0];
	const struct fwu_status *st = fwu_get_status(fm->u);
	bool quiet = !fwu_reset_allowed(st->state);
	bool going = strcmp(cmd, "update") == 0 && fwu_update_under_way(st, p->m);
	int err = FUOTA_OK;

	/* a module mid-install or in Firmware Update Mode answers no AT: resume, watch and an
	 * update under way go on without a boot */
	if (strcmp(cmd, "resume") != 0 && !(strcmp(cmd, "watch") == 0 && quiet) && !going)
		err = sara_boot(fm->s, 30000);
	if (err != FUOTA_OK) {
		fprintf(stderr, "fuota-modem: %s\n", sara_last_error(fm->s));
		return err;
	}
	/* FOAT goes on in fwu_foat, with the package; a download cut midway starts again */
	if (going && p->m != FWU_M_FOAT) {
		err = fwu_resume(fm->u);
		if (err != FUOTA_OK || st->state != FWU_S_FAILED || st->fail != FWU_F_INTERRUPTED)
			return err;
		err = sara_boot(fm->s, 30000);
		if (err != FUOTA_OK)
			return err;
	}
	if (strcmp(cmd, "update") == 0)
		return run_update(fm, p);
	if (strcmp(cmd, "resume") == 0)
		return resume(fm);
	if (strcmp(cmd, "install") == 0)
		return fwu_install(fm->u);
	if (strcmp(cmd, "restore") == 0)
		return fwu_restore_now(fm->u);
	/* a campaign that went on while no host listened; then the host's turn already (its URC
	 * may have come while the module booted) */
	if (strcmp(cmd, "watch") == 0 && !quiet) {
		uint32_t seq = st->seq, total, done;
		int ms;

		if ((err = fwu_ufota_sync(fm->u, &ms, &total, &done)) != FUOTA_OK)
			return err;
		if (st->seq != seq && (st->state == FWU_S_DONE || st->state == FWU_S_FAILED))
			return FUOTA_OK; /* its outcome came while no host listened */
	}
	if (strcmp(cmd, "watch") == 0 &&
	    (st->state == FWU_S_ACK_PENDING || st->state == FWU_S_DOWNLOADED))
		return FUOTA_OK;
	if (strcmp(cmd, "watch") == 0)
		return fwu_watch(fm->u, (fm->o->argc > 2 && strcmp(fm->o->argv[1], "--timeout") == 0
		                                 ? (uint32_t)strtoul(fm->o->argv[2], NULL, 10)
		                                 : 3600u) *
		                                1000u);
	if (strcmp(cmd, "ufota") == 0)
		return run_ufota(fm);
	return run_rot(fm);
}

int fm_modem(const struct fm_opts *o)
{
	struct fm fm = {.o = o};
	struct fwu_status st;
	struct fwu_desired d;
	struct upd p;
	int rc = fm_read_state(o, &st, &d), err;
	uint32_t seq0 = st.seq;

	if (rc != 0)
		return rc;
	if (strcmp(o->argv[0], "update") == 0 && parse_update(o, &p) != 0) {
		fputs("fuota-modem: update: --method and its arguments, see --help\n", stderr);
		return FM_EXIT_USAGE;
	}
	/* refused before the port is even opened: no second transfer over an install; the same
	 * update asked again goes on from where it stands */
	if (strcmp(o->argv[0], "update") == 0 && fwu_update_under_way(&st, p.m))
		fprintf(stderr, "fuota-modem: %s %s under way: going on with it\n",
		        fwu_method_name(st.method), fwu_state_name(st.state));
	else if (strcmp(o->argv[0], "update") == 0 && !fwu_transfer_allowed(st.state, p.m)) {
		fprintf(stderr, "fuota-modem: refused: %s %s; run resume\n",
		        fwu_method_name(st.method), fwu_state_name(st.state));
		fm_print(o, &st, "refused");
		return FM_EXIT_REFUSED;
	}
	err = open_modem(&fm);
	if (err == FUOTA_OK)
		err = dispatch(&fm, &p);
	if (err == FUOTA_ERR_INVALID_ARG) {
		close_modem(&fm);
		return FM_EXIT_USAGE;
	}
	if (!o->json && isatty(STDERR_FILENO))
		fputc('\n', stderr); /* end the progress bar's line */
	if (fm.u) {
		st = *fwu_get_status(fm.u);
		fm_print(o, &st, fwu_last_error(fm.u));
	}
	rc = fm.u ? fm_exit_code(err, seq0, fwu_get_status(fm.u)) : FM_EXIT_IO;
	close_modem(&fm);
	return rc;
}
