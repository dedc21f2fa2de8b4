/* The cellular library (cellular/: serial transport, AT client, SARA-R5 driver) against
 * fuota-modem-sim on a pty, at 115200 bit/s paced as on the module's UART. One ctest per group,
 * cellular.sim-<group>: boot, udp, tcp, http, ftp, files, faults. Set MSIM_AT_LOG=1 to see the AT
 * log on stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "echo.h"
#include "fuota/at_client.h"
#include "fuota/cell_serial.h"
#include "fuota/sara.h"
#include "simh.h"

struct rig {
	struct simh h;
	unsigned pulses;
	const char *greeting; /* sara_config's, for the next rig_open */
	uint32_t fixed_baud;
	struct cell_serial ser;
	struct at_client *at;
	struct sara *s;
};

static const char *const sim_args[] = {"--boot-ms", "300", "--reg-ms", "300", NULL};

/* The pty's slave through cell_serial_open_tty, as a real UART would be opened. */
static int open_line(struct rig *r)
{
	return cell_serial_open_tty(&r->ser, r->h.pty, 115200);
}

/* The board's PWR_ON line, wired to the simulator's control FIFO. */
static int power_pulse(void *ctx, uint32_t ms)
{
	struct rig *r = ctx;
	char cmd[32];

	r->pulses++;
	snprintf(cmd, sizeof(cmd), "pwr-pulse %u", ms);
	simh_ctl(&r->h, cmd);
	return 0;
}

static int rig_open(struct rig *r)
{
	struct at_config ac = {.serial = &r->ser};
	struct sara_config sc = {0};

	if (getenv("MSIM_AT_LOG"))
		ac.log_file = stderr;
	if (open_line(r) != 0 || at_create(&ac, &r->at) != 0)
		return -1;
	sc.at = r->at;
	sc.hw.power_pulse = power_pulse;
	sc.hw.ctx = r;
	sc.greeting = r->greeting;
	sc.fixed_baud = r->fixed_baud;
	return sara_create(&sc, &r->s);
}

static void rig_close(struct rig *r)
{
	sara_destroy(r->s);
	at_destroy(r->at);
	cell_serial_close(&r->ser);
	r->s = NULL;
	r->at = NULL;
}

static int setup(void **state)
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

static int teardown(void **state)
{
	struct rig *r = *state;

	rig_close(r);
	return simh_stop(&r->h);
}

/* Booted, registered on cid 1, PSD profile 0 up. */
static void online(struct rig *r)
{
	int stat = -1;
	char ip[40];

	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(sara_register(r->s, "fuota.apn", 10000, &stat), 0);
	assert_int_equal(stat, 1);
	assert_int_equal(sara_pdp_up(r->s, 0, 1, 5000, ip, sizeof(ip)), 0);
	/* the simulator's address is 10.<boots>.0.3 */
	assert_true(strncmp(ip, "10.", 3) == 0 && strlen(ip) > 7 &&
	            strcmp(ip + strlen(ip) - 4, ".0.3") == 0);
}

static void test_boot(void **state)
{
	struct rig *r = *state;
	struct sara_info info;
	int mno = -1;

	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(sara_info(r->s, &info), 0);
	assert_string_equal(info.fw, "03.15");
	assert_string_equal(info.app, "A00.01");
	assert_string_equal(info.cgmr, "03.15");
	assert_string_equal(info.imei, "004999010640000");
	assert_int_equal(sara_mno_get(r->s, &mno), 0);
	assert_int_equal(mno, 90);
	/* the profile needs the radio off and a reboot; NVM keeps it */
	assert_int_equal(sara_mno_set(r->s, 100, 10000), 0);
	assert_int_equal(sara_mno_get(r->s, &mno), 0);
	assert_int_equal(mno, 100);
}

static void wait_pending(struct rig *r, int sock, size_t want)
{
	for (int i = 0; i < 50 && sara_sock_pending(r->s, sock) < want; i++)
		sara_poll(r->s, 100);
	assert_true(sara_sock_pending(r->s, sock) >= want);
}

static void test_udp(void **state)
{
	struct rig *r = *state;
	struct echo e;
	uint8_t out[1024], in[1024];
	size_t got;
	char ip[40];
	uint16_t port;
	int sock;

	echo_start(&e, 17);
	/* the module keeps hex mode over a reboot (SARA-R5xxx-01B): sara_boot sets binary again */
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(at_cmdf(r->at, NULL, NULL, 0, "AT+UDCONF=1,1"), 0);
	simh_ctl(&r->h, "reboot");
	sara_poll(r->s, 500);
	online(r);
	assert_int_equal(sara_sock_open(r->s, SARA_UDP, 0, &sock), 0);
	for (size_t len = 1; len <= 1024; len = len * 4 + 3) {
		size_t n = len > 1024 ? 1024 : len;

		for (size_t i = 0; i < n; i++)
			out[i] = (uint8_t)(i * 7 + len);
		assert_int_equal(
		        sara_sock_sendto(r->s, sock, "127.0.0.1", (uint16_t)e.port, out, n), 0);
		wait_pending(r, sock, n);
		assert_int_equal(
		        sara_sock_recvfrom(r->s, sock, in, sizeof(in), &got, ip, sizeof(ip), &port),
		        0);
		assert_int_equal(got, n);
		assert_memory_equal(in, out, n);
		assert_string_equal(ip, "127.0.0.1");
		assert_int_equal(port, e.port);
	}
	assert_int_not_equal(sara_sock_sendto(r->s, sock, "127.0.0.1", (uint16_t)e.port, out, 1025),
	                     0);
	assert_int_equal(sara_sock_close(r->s, sock), 0);
	echo_stop(&e);
}

static void test_tcp(void **state)
{
	struct rig *r = *state;
	struct echo e;
	uint8_t in[64];
	size_t got = 0, n;
	int sock;

	echo_start(&e, 6);
	online(r);
	assert_int_equal(sara_sock_open(r->s, SARA_TCP, 0, &sock), 0);
	assert_int_equal(sara_sock_connect(r->s, sock, "127.0.0.1", (uint16_t)e.port, 5000), 0);
	assert_int_equal(sara_sock_write(r->s, sock, (const uint8_t *)"stream bytes", 12), 0);
	while (got < 12) {
		wait_pending(r, sock, 1);
		assert_int_equal(sara_sock_read(r->s, sock, in + got, sizeof(in) - got, &n), 0);
		got += n;
	}
	assert_memory_equal(in, "stream bytes", 12);
	assert_int_equal(sara_sock_close(r->s, sock), 0);
	echo_stop(&e);
}

/* Deterministic bytes into <sim dir>/<rel>; their MD5 in hex. */
static void www_file(struct rig *r, const char *rel, size_t n, uint8_t *d, char md5[33])
{
	char p[300];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned ml;
	FILE *f;
	uint32_t x = (uint32_t)n;

	for (size_t i = 0; i < n; i++) {
		x = x * 1664525u + 1013904223u;
		d[i] = (uint8_t)(x >> 24);
	}
	f = fopen(simh_path(&r->h, rel, p, sizeof(p)), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(EVP_Digest(d, n, md, &ml, EVP_md5(), NULL), 1);
	for (unsigned i = 0; i < 16; i++)
		snprintf(md5 + 2 * i, 3, "%02x", md[i]);
}

static bool sim_file_is(struct rig *r, const char *rel, const uint8_t *d, size_t n)
{
	char p[300];
	FILE *f = fopen(simh_path(&r->h, rel, p, sizeof(p)), "rb");
	uint8_t *b = malloc(n + 1);
	size_t k = f ? fread(b, 1, n + 1, f) : 0;
	bool same = k == n && !memcmp(b, d, n);

	if (f)
		fclose(f);
	free(b);
	return same;
}

static void on_name(void *ctx, const char *name)
{
	snprintf(ctx, 64, "%s", name);
}

/* HTTP into the FOAT area: the URC's MD5 is the file's, and so are the module's bytes. */
static void test_http(void **state)
{
	struct rig *r = *state;
	static uint8_t d[300000];
	struct sara_http_cfg hc = {.server_ip = "127.0.0.1", .port = 80, .timeout_s = 180};
	struct sara_xfer x;
	char md5[33], name[64] = "";
	size_t size = 0;
	int cls = -1, code = -1;

	www_file(r, "www/fw.upd", sizeof(d), d, md5);
	online(r);
	assert_int_equal(sara_http_config(r->s, 0, &hc), 0);
	assert_int_equal(sara_http_get(r->s, 0, "/fw.upd", NULL, 10000, &x), 0);
	assert_int_equal(x.result, 1);
	assert_int_equal(x.status, 200);
	assert_string_equal(x.md5, md5);
	assert_true(sim_file_is(r, "fs/FOAT/updatePackage.bin", d, sizeof(d)));
	assert_int_equal(sara_file_list(r->s, "FOAT", on_name, name), 0);
	assert_string_equal(name, "updatePackage.bin");
	assert_int_equal(sara_file_size(r->s, "updatePackage.bin", "FOAT", &size), 0);
	assert_int_equal(size, sizeof(d));
	/* a missing file: the failure URC, then the reason */
	assert_int_not_equal(sara_http_get(r->s, 0, "/nope", NULL, 10000, &x), 0);
	assert_int_equal(sara_http_error(r->s, 0, &cls, &code), 0);
	assert_int_equal(cls, 10);
	assert_int_equal(code, 404);
}

static void test_ftp(void **state)
{
	struct rig *r = *state;
	static uint8_t d[50000];
	struct sara_ftp_cfg fc = {
	        .server_name = "localhost", .user = "u", .password = "secret", .passive = true};
	struct sara_xfer x;
	char md5[33];

	www_file(r, "www/delta", sizeof(d), d, md5);
	online(r);
	assert_int_equal(sara_ftp_config(r->s, &fc), 0);
	assert_int_equal(sara_ftp_login(r->s, 5000), 0);
	assert_int_equal(sara_ftp_get_foat(r->s, "/delta", 10000, &x), 0);
	assert_string_equal(x.md5, md5);
	assert_true(sim_file_is(r, "fs/FOAT/updatePackage.bin", d, sizeof(d)));
}

/* +UDWNFILE through the driver's '>' prompt, into the FOAT area and USER. */
static void test_files(void **state)
{
	struct rig *r = *state;
	static uint8_t d[20000];
	char md5[33];
	size_t size = 0;

	www_file(r, "www/unused", sizeof(d), d, md5);
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(sara_file_write(r->s, "delta", "FOAT", d, sizeof(d), 20000), 0);
	assert_true(sim_file_is(r, "fs/FOAT/updatePackage.bin", d, sizeof(d)));
	assert_int_equal(sara_file_write(r->s, "cfg", NULL, d, 100, 5000), 0);
	assert_int_equal(sara_file_write(r->s, "cfg", NULL, d + 100, 50, 5000), 0); /* appends */
	assert_int_equal(sara_file_size(r->s, "cfg", NULL, &size), 0);
	assert_int_equal(size, 150);
	assert_true(sim_file_is(r, "fs/USER/cfg", d, 150));
	assert_int_equal(sara_file_delete(r->s, "updatePackage.bin", "FOAT"), 0);
	assert_int_not_equal(sara_file_size(r->s, "updatePackage.bin", "FOAT", &size), 0);
}

/* A URC in the middle of a response, and an unprompted reboot that drops the PDP context. */
static void test_faults(void **state)
{
	struct rig *r = *state;
	struct sara_info info;
	struct sara_cereg reg;

	online(r);
	simh_ctl(&r->h, "urc-mid 1 +CEREG: 5,\"0001\",\"01A2D001\",7");
	sara_poll(r->s, 100);
	assert_int_equal(sara_info(r->s, &info), 0);
	assert_string_equal(info.fw, "03.15");
	assert_int_equal(sara_reg_get(r->s, &reg), 0);
	simh_ctl(&r->h, "reboot");
	sara_poll(r->s, 500);
	assert_int_equal(sara_boot(r->s, 10000), 0);
	/* asked, not taken from the driver's memory (see the reboot case) */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(sara_reg_get(r->s, &reg), 0);
		if (reg.stat == 1)
			break;
		sara_poll(r->s, 100);
	}
	assert_int_equal(reg.stat, 1);
	/* the context did not survive the reboot: it must be activated again */
	{
		char ip[40];
		assert_int_equal(sara_pdp_up(r->s, 0, 1, 5000, ip, sizeof(ip)), 0);
	}
}

/* A reboot behind the driver's back on a network slow to register (2 s): sara_register must
 * ask the module, not trust the +CEREG state it kept from before the reboot. */
static void test_reboot(void **state)
{
	static const char *const slow[] = {"--boot-ms", "300", "--reg-ms", "2000", NULL};
	struct rig *r = *state;
	struct sara_cereg reg;
	int stat = -1;

	rig_close(r);
	assert_int_equal(simh_restart(&r->h, slow), 0);
	close(r->h.fd);
	r->h.fd = -1;
	assert_int_equal(rig_open(r), 0);
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(sara_register(r->s, NULL, 10000, &stat), 0);
	assert_int_equal(stat, 1);
	simh_ctl(&r->h, "reboot");
	sara_poll(r->s, 500);
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(sara_register(r->s, NULL, 10000, &stat), 0);
	assert_int_equal(stat, 1);
	/* registered in the module's own words too */
	assert_int_equal(sara_reg_get(r->s, &reg), 0);
	assert_int_equal(reg.stat, 1);
}

/* A module without power: sara_boot's ATs go unanswered, it pulses PWR_ON after 6 s, the
 * module boots and answers. */
static void test_power(void **state)
{
	struct rig *r = *state;
	struct sara_info info;

	simh_ctl(&r->h, "power-off");
	sara_poll(r->s, 200);
	assert_int_equal(sara_boot(r->s, 20000), 0);
	assert_int_equal(r->pulses, 1);
	assert_int_equal(sara_info(r->s, &info), 0);
	assert_string_equal(info.fw, "03.15");
}

/* A final result lost on the line: the command times out with a clear error, the next works;
 * a garbled answer is refused, never taken for data. */
static void test_lost(void **state)
{
	struct rig *r = *state;
	struct sara_info info;
	int mno = -1;

	assert_int_equal(sara_boot(r->s, 10000), 0);
	simh_ctl(&r->h, "drop-final 1");
	sara_poll(r->s, 100);
	assert_int_equal(sara_info(r->s, &info), FUOTA_ERR_TIMEOUT);
	assert_true(strstr(sara_last_error(r->s), "ATI9") != NULL);
	assert_int_equal(sara_info(r->s, &info), 0);
	assert_string_equal(info.imei, "004999010640000");
	simh_ctl(&r->h, "garble 1");
	sara_poll(r->s, 100);
	assert_int_not_equal(sara_mno_get(r->s, &mno), 0);
	assert_int_equal(sara_mno_get(r->s, &mno), 0);
	assert_int_equal(mno, 90);
}

/* A module that autobauds (+IPR=0, the factory setting; --autobaud): sara_boot's ATs teach it
 * the rate, and with fixed_baud the driver fixes and stores it, so that the next boot, even an
 * unprompted one, brings the greeting at once instead of silence until the host's next AT. */
static void test_autobaud(void **state)
{
	static const char *const ab[] = {"--boot-ms", "300", "--reg-ms", "300", "--autobaud", NULL};
	struct rig *r = *state;
	int stat = -1;

	rig_close(r);
	assert_int_equal(simh_restart(&r->h, ab), 0);
	close(r->h.fd);
	r->h.fd = -1;
	r->greeting = "FUOTA: READY";
	r->fixed_baud = 115200;
	assert_int_equal(rig_open(r), 0);
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(sara_boots(r->s), 0); /* none at +IPR=0 */
	assert_int_equal(sara_register(r->s, NULL, 10000, &stat), 0);
	assert_int_equal(stat, 1);
	simh_ctl(&r->h, "reboot");
	for (int i = 0; i < 40 && sara_boots(r->s) == 0; i++)
		sara_poll(r->s, 100);
	assert_int_equal(sara_boots(r->s), 1);
	assert_int_equal(sara_boot(r->s, 10000), 0);
	assert_int_equal(sara_register(r->s, NULL, 10000, &stat), 0);
	assert_int_equal(stat, 1);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
	} cases[] = {
	        {"boot", test_boot},     {"udp", test_udp},           {"tcp", test_tcp},
	        {"http", test_http},     {"ftp", test_ftp},           {"files", test_files},
	        {"faults", test_faults}, {"power", test_power},       {"lost", test_lost},
	        {"reboot", test_reboot}, {"autobaud", test_autobaud},
	};

	for (size_t i = 0; argc == 2 && i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!strcmp(argv[1], cases[i].name)) {
			const struct CMUnitTest t[] = {
			        {cases[i].name, cases[i].fn, setup, teardown, NULL},
			};
			return cmocka_run_group_tests_name(cases[i].name, t, NULL, NULL);
		}
	}
	fprintf(stderr,
	        "usage: test_cellular_sim boot|udp|tcp|http|ftp|files|faults|power|lost|reboot|"
	        "autobaud\n");
	return 2;
}
