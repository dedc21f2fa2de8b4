/* The rig of the firmware-update manager's end-to-end tests (fw_rig.h). */
#include "fw_rig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msim_fw.h"

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_log(void *ctx, const char *line)
{
	struct rig *r = ctx;

	if (strstr(line, "] > AT+ULWM2MREG=102")) {
		r->reg102++;
		r->reg102_ms = now_ms();
	}
	if (getenv("MSIM_AT_LOG"))
		fprintf(stderr, "%s\n", line);
}

static void on_report(void *ctx, const struct fwu_status *st, const char *msg)
{
	struct rig *r = ctx;

	(void)msg;
	if (st->state == FWU_S_INSTALLING) {
		if (st->pct < r->last_pct)
			r->restarts++;
		r->last_pct = st->pct;
	}
	if (st->state == FWU_S_VALIDATING && st->pct == 0)
		r->validates++;
}

static const char *const sim_args[] = {
        "--boot-ms", "300",        "--reg-ms", "300", "--install-ms", "1500", "--xmodem-scale",
        "20",        "--net-rate", "40000",    NULL};

static int power_pulse(void *ctx, uint32_t ms)
{
	struct rig *r = ctx;
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "pwr-pulse %u", ms);
	simh_ctl(&r->h, cmd);
	return 0;
}

int rig_open(struct rig *r)
{
	struct at_config ac = {.serial = &r->ser};
	struct sara_config sc = {0};
	struct fwu_config fc = {0};

	ac.log_fn = on_log;
	ac.log_ctx = r;
	if (cell_serial_open_tty(&r->ser, r->h.pty, 115200) != 0 || at_create(&ac, &r->at) != 0)
		return -1;
	sc.at = r->at;
	sc.hw.power_pulse = power_pulse;
	sc.hw.ctx = r;
	if (sara_create(&sc, &r->s) != 0)
		return -1;
	fc.sara = r->s;
	fc.at = r->at;
	fc.serial = &r->ser;
	fc.state_path = simh_path(&r->h, "fwu.state", r->state, sizeof(r->state));
	fc.install_timeout_ms = 30000;
	fc.poll_ms = 200;
	fc.silence_ms = 600000; /* the install's URCs must say it went away, not a clock */
	fc.boot_timeout_ms = 10000;
	fc.verizon_period_ms = 1000; /* 30 s at the simulator's scale of 30 */
	fc.on_report = on_report;
	fc.ctx = r;
	return fwu_open(&fc, &r->u);
}

void rig_close(struct rig *r)
{
	fwu_close(r->u);
	sara_destroy(r->s);
	at_destroy(r->at);
	cell_serial_close(&r->ser);
	r->u = NULL;
	r->s = NULL;
	r->at = NULL;
}

int rig_setup(void **state)
{
	static struct rig r;

	memset(&r, 0, sizeof(r));
	if (simh_start(&r.h, sim_args) != 0)
		return -1;
	close(r.h.fd); /* the driver owns the line */
	r.h.fd = -1;
	if (rig_open(&r) != 0)
		return -1;
	*state = &r;
	return 0;
}

int rig_teardown(void **state)
{
	struct rig *r = *state;

	rig_close(r);
	return simh_stop(&r->h);
}

uint8_t *package(const char *from, const char *to, size_t n, size_t *len)
{
	uint8_t *body = malloc(n), *pkg = malloc(MSIM_FW_HDR + n);
	uint32_t seed = 7;

	assert_non_null(body);
	assert_non_null(pkg);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		body[i] = (uint8_t)(seed >> 16);
	}
	msim_fw_build(pkg, from, to, body, n);
	free(body);
	*len = MSIM_FW_HDR + n;
	return pkg;
}

void prepare(struct rig *r)
{
	struct fwu_desired d;

	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(sara_mno_set(r->s, 100, 10000), 0);
	fwu_desired_init(&d);
	d.mno = 100;
	d.apn[0].cid = 1;
	snprintf(d.apn[0].pdp_type, sizeof(d.apn[0].pdp_type), "IP");
	snprintf(d.apn[0].apn, sizeof(d.apn[0].apn), "fuota.apn");
	assert_int_equal(fwu_set_desired(r->u, &d), 0);
}

void outcome(struct rig *r, const char *version, enum fwu_state state)
{
	struct sara_info info;
	struct fwu_status st;
	struct fwu_desired d;

	assert_int_equal(sara_info(r->s, &info), 0);
	assert_string_equal(info.app, strchr(version, ',') + 1);
	assert_int_equal(fwu_file_read(r->state, &st, &d), 0);
	assert_int_equal(st.state, state);
}

void restored(struct rig *r)
{
	int mno = -1;

	assert_int_equal(sara_mno_get(r->s, &mno), 0);
	assert_int_equal(mno, 100);
}

void put_pkg(struct rig *r, const char *name, const char *from, const char *to, size_t body)
{
	char p[300], rel[64];
	size_t len;
	uint8_t *pkg = package(from, to, body, &len);
	FILE *f;

	snprintf(rel, sizeof(rel), "www/%s", name);
	f = fopen(simh_path(&r->h, rel, p, sizeof(p)), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(pkg, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(pkg);
}

void put_www(struct rig *r, const char *name, size_t body)
{
	put_pkg(r, name, OLD, NEW, body);
}

void wait_state(struct rig *r, enum fwu_state want)
{
	for (int i = 0; i < 100 && fwu_get_status(r->u)->state != want; i++)
		(void)sara_poll(r->s, 100);
	assert_int_equal(fwu_get_status(r->u)->state, want);
}

void campaign(struct rig *r, int mode)
{
	prepare(r);
	put_www(r, "delta.upd", 40000);
	if (mode)
		assert_int_equal(fwu_ufota_config(r->u, mode), 0);
	assert_int_equal(fwu_ufota_enable(r->u), 0);
	simh_ctl(&r->h, "ufota-campaign delta.upd");
}

int fw_rig_main(int argc, char **argv, const struct fw_case *cases, size_t n)
{
	for (size_t i = 0; argc == 2 && i < n; i++) {
		if (!strcmp(argv[1], cases[i].name)) {
			const struct CMUnitTest t[] = {
			        {cases[i].name, cases[i].fn, rig_setup, rig_teardown, NULL},
			};
			return cmocka_run_group_tests_name(cases[i].name, t, NULL, NULL);
		}
	}
	fprintf(stderr, "usage: %s CASE\n", argv[0]);
	return 2;
}
