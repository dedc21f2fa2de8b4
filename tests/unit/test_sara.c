/* The SARA-R5 driver against scripted transcripts (cell_fake.h) in the app note's words: boot,
 * identity, registration, the PDP context, a UDP exchange, files, HTTP and FTP downloads into the
 * FOAT area, and replies that do not parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cell_fake.h"
#include "fuota/sara.h"

#define OK "\r\nOK\r\n"

struct rig {
	struct fake *f;
	struct at_client *at;
	struct sara *s;
	int events[8];
	int pulses;
	int resets;
	uint32_t pulse_ms[4];
};

static void on_event(void *ctx, const struct sara_event *ev)
{
	struct rig *r = ctx;

	r->events[ev->kind]++;
}

static int pulse(void *ctx, uint32_t ms)
{
	struct rig *r = ctx;

	r->pulse_ms[r->pulses++ & 3] = ms;
	return FUOTA_OK;
}

static int reset_line(void *ctx, uint32_t ms)
{
	struct rig *r = ctx;

	assert_int_equal(ms, 150);
	r->resets++;
	return FUOTA_OK;
}

static const char *next_greeting; /* the +CSGT text of the next rig, NULL: none */

static struct rig *rig_cfg(const struct fake_step *steps, size_t n, bool recovery,
                           uint32_t fixed_baud)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct at_config ac = {0};
	struct sara_config sc = {0};

	assert_non_null(r);
	r->f = fake_new(steps, n, -1);
	ac.serial = &r->f->serial;
	ac.clock = &r->f->clock;
	assert_int_equal(at_create(&ac, &r->at), FUOTA_OK);
	sc.at = r->at;
	sc.clock = &r->f->clock;
	sc.on_event = on_event;
	sc.event_ctx = r;
	sc.hw.power_pulse = pulse;
	sc.hw.reset = reset_line;
	sc.hw.ctx = r;
	sc.recovery = recovery;
	sc.fixed_baud = fixed_baud;
	sc.greeting = next_greeting; /* one rig */
	next_greeting = NULL;
	assert_int_equal(sara_create(&sc, &r->s), FUOTA_OK);
	return r;
}

static struct rig *rig_ex(const struct fake_step *steps, size_t n, bool recovery)
{
	return rig_cfg(steps, n, recovery, 0);
}

static struct rig *rig(const struct fake_step *steps, size_t n)
{
	return rig_ex(steps, n, false);
}

static void done(struct rig *r)
{
	assert_int_equal(r->f->next, r->f->n_steps); /* the whole script ran */
	sara_destroy(r->s);
	at_destroy(r->at);
	free(r->f);
	free(r);
}

static void test_boot_and_info(void **state)
{
	/* silent for 7 s (the first AT lost to autobaud, then nothing): PWR_ON is pulsed */
	struct fake_step st[] = {
	        {"AT\rAT\rAT\rAT\rAT\rAT\rAT\r", 0, "AT\r" OK, 0, 10},
	        {"ATE0\r", 0, "ATE0\r" OK, 0, 5},
	        {"AT+CMEE=2\r", 0, OK, 0, 5},
	        {"AT+UDCONF=1,0\r", 0, OK, 0, 5},
	        {"AT+CEREG=2\r", 0, OK, 0, 5},
	        {"ATI9\r", 0, "\r\n02.06,A00.01\r\n" OK, 0, 5},
	        {"AT+CGMR\r", 0, "\r\n02.06\r\n" OK, 0, 5},
	        {"AT+CGSN\r", 0, "\r\n004999010640000\r\n" OK, 0, 5},
	        {"AT+UMNOPROF?\r", 0, "\r\n+UMNOPROF: 90\r\n" OK, 0, 5},
	};
	struct rig *r = rig(st, sizeof(st) / sizeof(st[0]));
	struct sara_info info;
	int prof;

	(void)state;
	assert_int_equal(sara_boot(r->s, 30000), FUOTA_OK);
	assert_int_equal(r->pulses, 1);
	assert_int_equal(r->pulse_ms[0], 1500);
	assert_int_equal(sara_info(r->s, &info), FUOTA_OK);
	assert_string_equal(info.fw, "02.06");
	assert_string_equal(info.app, "A00.01");
	assert_string_equal(info.cgmr, "02.06");
	assert_string_equal(info.imei, "004999010640000");
	assert_int_equal(sara_mno_get(r->s, &prof), FUOTA_OK);
	assert_int_equal(prof, 90);
	done(r);
}

static void test_boot_timeout(void **state)
{
	struct fake_step st[] = {{"never", 0, "", 0, 0}};
	struct rig *r = rig(st, 1);

	(void)state;
	assert_int_equal(sara_boot(r->s, 10000), FUOTA_ERR_TIMEOUT);
	assert_non_null(strstr(sara_last_error(r->s), "no answer"));
	assert_true(r->f->now >= 1000 + 10000);
	r->f->next = 1;
	done(r);
}

#define BOOT_STEPS(at_reply)                                                    \
	{"AT\r", 0, at_reply, 0, 10}, {"ATE0\r", 0, "ATE0\r" OK, 0, 5},         \
	        {"AT+CMEE=2\r", 0, OK, 0, 5}, {"AT+UDCONF=1,0\r", 0, OK, 0, 5}, \
	{                                                                       \
		"AT+CEREG=2\r", 0, OK, 0, 5                                     \
	}

/* A module at +IPR=0 (autobauding, the factory setting) sends no greeting and holds its URCs
 * after every boot until the host's first AT (UBX-20009652 §3.2.2, §5.2): with fixed_baud the
 * driver fixes the rate, waits 100 ms and stores it (CELLULAR-NOTES §3.7). A module at a fixed
 * rate is left alone; a reply that does not parse names the command. */
static void test_boot_fixes_autobaud(void **state)
{
	struct fake_step st[] = {
	        BOOT_STEPS("AT\r" OK),
	        {"AT+IPR?\r", 0, "\r\n+IPR: 0\r\n" OK, 0, 5},
	        {"AT+IPR=115200\r", 0, OK, 0, 5},
	        {"AT&W\r", 0, OK, 0, 5},
	        BOOT_STEPS(OK),
	        {"AT+IPR?\r", 0, "\r\n+IPR: 115200\r\n" OK, 0, 5},
	        BOOT_STEPS(OK),
	        {"AT+IPR?\r", 0, "\r\n+IPR: fast\r\n" OK, 0, 5},
	};
	struct rig *r = rig_cfg(st, sizeof(st) / sizeof(st[0]), false, 115200);

	(void)state;
	assert_int_equal(sara_boot(r->s, 30000), FUOTA_OK);
	/* writes: AT, ATE0, CMEE, UDCONF, CEREG, IPR?, IPR= (12), &W (14): 100 ms after its OK */
	assert_int_equal(r->f->n_writes, 16);
	assert_true(r->f->tx_at[14] >= r->f->tx_at[12] + 5 + 100);
	assert_int_equal(sara_boot(r->s, 30000), FUOTA_OK);
	assert_int_equal(sara_boot(r->s, 30000), FUOTA_ERR_MALFORMED);
	assert_string_equal(sara_last_error(r->s), "AT+IPR?: cannot parse '+IPR: fast'");
	done(r);
}

static void test_register_and_pdp(void **state)
{
	struct fake_step st[] = {
	        {"AT+CGDCONT=1,\"IP\",\"iot.example\"\r", 0, OK, 0, 5},
	        {"AT+CFUN=1\r", 0, OK, 0, 50},
	        {NULL, 0, "\r\n+CEREG: 2\r\n", 0, 500},
	        {"AT+CEREG?\r", 0, "\r\n+CEREG: 2,2\r\n" OK, 0, 5},
	        {NULL, 0, "\r\n+CEREG: 1,\"0001\",\"01A2B3C4\",7\r\n", 0, 1000},
	        {"AT+UPSD=0,0,0\r", 0, OK, 0, 5},
	        {"AT+UPSD=0,100,1\r", 0, OK, 0, 5},
	        {"AT+UPSDA=0,3\r", 0, OK, 0, 20},
	        {NULL, 0, "\r\n+UUPSDA: 0,\"100.108.232.233\"\r\n", 0, 800},
	};
	struct rig *r = rig(st, sizeof(st) / sizeof(st[0]));
	char ip[48];
	int stat;

	(void)state;
	assert_int_equal(sara_register(r->s, "iot.example", 60000, &stat), FUOTA_OK);
	assert_int_equal(stat, SARA_REG_HOME);
	assert_true(r->events[SARA_EV_REG] >= 2);
	assert_int_equal(sara_pdp_up(r->s, 0, 1, 10000, ip, sizeof(ip)), FUOTA_OK);
	assert_string_equal(ip, "100.108.232.233");
	assert_int_equal(r->events[SARA_EV_PDP_UP], 1);
	assert_int_equal(sara_register(r->s, "bad\"apn", 1000, NULL), FUOTA_ERR_INVALID_ARG);
	done(r);
}

/* The module restarts (its boot greeting) while AT+UPSDA waits for +UUPSDA: the wait ends at
 * once with the reason, not at the deadline (sara_wait_flag, as for the HTTP/FTP results). */
static void test_pdp_restart(void **state)
{
	struct fake_step st[] = {
	        {"AT+UPSD=0,0,0\r", 0, OK, 0, 5},
	        {"AT+UPSD=0,100,1\r", 0, OK, 0, 5},
	        {"AT+UPSDA=0,3\r", 0, OK, 0, 20},
	        {NULL, 0, "\r\nFUOTA: READY\r\n", 0, 500},
	};
	struct rig *r;
	char ip[48];

	(void)state;
	next_greeting = "FUOTA: READY";
	r = rig(st, sizeof(st) / sizeof(st[0]));
	assert_int_equal(sara_pdp_up(r->s, 0, 1, 60000, ip, sizeof(ip)), FUOTA_ERR_TIMEOUT);
	assert_non_null(
	        strstr(sara_last_error(r->s), "AT+UPSDA=0,3 (+UUPSDA): the module restarted"));
	assert_true(r->f->now < 5000);
	done(r);
}

static void test_register_denied(void **state)
{
	struct fake_step st[] = {
	        {"AT+CFUN=1\r", 0, "\r\n+CEREG: 3\r\n" OK, 0, 5},
	};
	struct rig *r = rig(st, 1);
	int stat;

	(void)state;
	assert_int_equal(sara_register(r->s, NULL, 60000, &stat), FUOTA_ERR_CONFLICT);
	assert_int_equal(stat, SARA_REG_DENIED);
	done(r);
}

static void test_udp_echo(void **state)
{
	static const char reply[] = "\r\n+USORF: 0,\"10.0.0.1\",7,4,\"h\r\n\"\"\r\n" OK;
	struct fake_step st[] = {
	        {"AT+USOCR=17\r", 0, "\r\n+USOCR: 0\r\n" OK, 0, 5},
	        {"AT+USOST=0,\"10.0.0.1\",7,4\r", 0, "\r\n@", 0, 5},
	        {"h\r\n\"", 0, "\r\n+USOST: 0,4\r\n" OK, 0, 5},
	        {NULL, 0, "\r\n+UUSORD: 0,4\r\n", 0, 300},
	        {"AT+USORF=0,1024\r", 0, reply, sizeof(reply) - 1, 5},
	        {"AT+USOCL=0\r", 0, OK, 0, 5},
	};
	struct rig *r = rig(st, sizeof(st) / sizeof(st[0]));
	uint8_t buf[2048];
	char ip[48];
	uint16_t port;
	size_t got;
	int sock;

	(void)state;
	assert_int_equal(sara_sock_open(r->s, SARA_UDP, 0, &sock), FUOTA_OK);
	assert_int_equal(sock, 0);
	assert_int_equal(sara_sock_sendto(r->s, 0, "10.0.0.1", 7, (const uint8_t *)"h\r\n\"", 4),
	                 FUOTA_OK);
	assert_int_equal(sara_poll(r->s, 1000), FUOTA_OK);
	assert_int_equal(sara_sock_pending(r->s, 0), 4);
	assert_int_equal(r->events[SARA_EV_SOCK_DATA], 1);
	assert_int_equal(sara_sock_recvfrom(r->s, 0, buf, sizeof(buf), &got, ip, sizeof(ip), &port),
	                 FUOTA_OK);
	assert_int_equal(got, 4);
	assert_memory_equal(buf, "h\r\n\"", 4);
	assert_string_equal(ip, "10.0.0.1");
	assert_int_equal(port, 7);
	assert_int_equal(sara_sock_pending(r->s, 0), 0);
	assert_int_equal(sara_sock_close(r->s, 0), FUOTA_OK);
	assert_int_equal(sara_sock_sendto(r->s, 0, "10.0.0.1", 7, buf, 1025),
	                 FUOTA_ERR_INVALID_ARG);
	done(r);
}

static void test_bad_reply_names_command_and_line(void **state)
{
	struct fake_step st[] = {
	        {"AT+USOCR=17\r", 0, "\r\n+USOCR: banana\r\n" OK, 0, 5},
	        {"AT+USOCR=6\r", 0, "\r\n+CME ERROR: operation not allowed\r\n", 0, 5},
	};
	struct rig *r = rig(st, 2);
	int sock;

	(void)state;
	assert_int_equal(sara_sock_open(r->s, SARA_UDP, 0, &sock), FUOTA_ERR_MALFORMED);
	assert_string_equal(sara_last_error(r->s), "AT+USOCR: cannot parse '+USOCR: banana'");
	assert_int_equal(sara_sock_open(r->s, SARA_TCP, 0, &sock), AT_ERR_DEVICE);
	assert_string_equal(sara_last_error(r->s), "AT+USOCR=6: +CME ERROR: operation not allowed");
	done(r);
}

struct names {
	int n;
};

static void on_name(void *ctx, const char *name)
{
	struct names *n = ctx;

	assert_string_equal(name, "updatePackage.bin");
	n->n++;
}

static void test_http_foat_and_files(void **state)
{
	struct fake_step st[] = {
	        {"AT+UDELFILE=\"updatePackage.bin\",\"FOAT\"\r", 0, OK, 0, 5},
	        {"AT+UHTTP=0\r", 0, OK, 0, 5},
	        {"AT+UHTTP=0,1,\"fw.example\"\r", 0, OK, 0, 5},
	        {"AT+UHTTP=0,2,\"bob\"\r", 0, OK, 0, 5},
	        {"AT+UHTTP=0,3,\"pw\"\r", 0, OK, 0, 5},
	        {"AT+UHTTP=0,5,8080\r", 0, OK, 0, 5},
	        {"AT+UHTTPC=0,100,\"/fw/delta\"\r", 0, OK, 0, 5},
	        {NULL, 0, "\r\n+UUHTTPCR: 0,100,1,200,\"884a2d96fddaf1d957c604805b75b9f2\"\r\n", 0,
	         4000},
	        {"AT+ULSTFILE=0,\"FOAT\"\r", 0, "\r\n+ULSTFILE: \"updatePackage.bin\"\r\n" OK, 0,
	         5},
	        {"AT+ULSTFILE=2,\"updatePackage.bin\",\"FOAT\"\r", 0,
	         "\r\n+ULSTFILE: 123456\r\n" OK, 0, 5},
	        {"AT+UHTTPC=0,100,\"/fw/missing\"\r", 0, OK "\r\n+UUHTTPCR: 0,100,0\r\n", 0, 5},
	        {"AT+UHTTPER=0\r", 0, "\r\n+UHTTPER: 0,3,23\r\n" OK, 0, 5},
	        {"AT+UDWNFILE=\"delta\",3,\"FOAT\"\r", 0, "\r\n>", 0, 5},
	        {"xyz", 0, OK, 0, 5},
	};
	struct rig *r = rig(st, sizeof(st) / sizeof(st[0]));
	struct sara_http_cfg hc = {
	        .server_name = "fw.example", .user = "bob", .password = "pw", .port = 8080};
	struct sara_xfer x;
	struct names nm = {0};
	size_t size;
	int cls, code;

	(void)state;
	assert_int_equal(sara_file_delete(r->s, "updatePackage.bin", "FOAT"), FUOTA_OK);
	assert_int_equal(sara_http_config(r->s, 0, &hc), FUOTA_OK);
	assert_int_equal(sara_http_get(r->s, 0, "/fw/delta", NULL, 300000, &x), FUOTA_OK);
	assert_string_equal(x.md5, "884a2d96fddaf1d957c604805b75b9f2");
	assert_int_equal(x.status, 200);
	assert_int_equal(sara_file_list(r->s, "FOAT", on_name, &nm), FUOTA_OK);
	assert_int_equal(nm.n, 1);
	assert_int_equal(sara_file_size(r->s, "updatePackage.bin", "FOAT", &size), FUOTA_OK);
	assert_int_equal(size, 123456);
	assert_int_equal(sara_http_get(r->s, 0, "/fw/missing", NULL, 300000, &x), FUOTA_ERR_IO);
	assert_int_equal(sara_http_error(r->s, 0, &cls, &code), FUOTA_OK);
	assert_int_equal(cls, 3);
	assert_int_equal(code, 23);
	assert_int_equal(sara_file_write(r->s, "delta", "FOAT", (const uint8_t *)"xyz", 3, 10000),
	                 FUOTA_OK);
	assert_int_equal(sara_file_delete(r->s, "a\"b", NULL), FUOTA_ERR_INVALID_ARG);
	done(r);
}

static void test_ftp_foat(void **state)
{
	struct fake_step st[] = {
	        {"AT+UFTP=1,\"ftp.example\"\r", 0, OK, 0, 5},
	        {"AT+UFTP=2,\"u\"\r", 0, OK, 0, 5},
	        {"AT+UFTP=3,\"p\"\r", 0, OK, 0, 5},
	        {"AT+UFTP=6,1\r", 0, OK, 0, 5},
	        {"AT+UFTPC=1\r", 0, OK, 0, 5},
	        {NULL, 0, "\r\n+UUFTPCR: 1,1\r\n", 0, 700},
	        {"AT+UFTPC=100,\"/fw/delta\"\r", 0, OK, 0, 5},
	        {NULL, 0, "\r\n+UUFTPCR: 100,1,\"9ac81b5381d94eb0999dfa0b8c2da363\"\r\n", 0, 9000},
	        {"AT+UFTPC=100,\"/fw/delta\"\r", 0, OK "\r\n+UUFTPCR: 100,0\r\n", 0, 5},
	        {"AT+UFTPER\r", 0, "\r\n+UFTPER: 8,12\r\n" OK, 0, 5},
	};
	struct rig *r = rig(st, sizeof(st) / sizeof(st[0]));
	struct sara_ftp_cfg fc = {
	        .server_name = "ftp.example", .user = "u", .password = "p", .passive = true};
	struct sara_xfer x;
	int cls, code;

	(void)state;
	assert_int_equal(sara_ftp_config(r->s, &fc), FUOTA_OK);
	assert_int_equal(sara_ftp_login(r->s, 30000), FUOTA_OK);
	assert_int_equal(sara_ftp_get_foat(r->s, "/fw/delta", 300000, &x), FUOTA_OK);
	assert_string_equal(x.md5, "9ac81b5381d94eb0999dfa0b8c2da363");
	assert_int_equal(sara_ftp_get_foat(r->s, "/fw/delta", 300000, &x), FUOTA_ERR_IO);
	assert_int_equal(sara_ftp_error(r->s, &cls, &code), FUOTA_OK);
	assert_int_equal(cls, 8);
	assert_int_equal(code, 12);
	done(r);
}

static void test_recovery_ladder(void **state)
{
	/* the module goes silent for good after booting */
	struct fake_step st[] = {
	        {"AT\r", 0, OK, 0, 5},         {"ATE0\r", 0, OK, 0, 5},
	        {"AT+CMEE=2\r", 0, OK, 0, 5},  {"AT+UDCONF=1,0\r", 0, OK, 0, 5},
	        {"AT+CEREG=2\r", 0, OK, 0, 5},
	};
	struct rig *r = rig_ex(st, sizeof(st) / sizeof(st[0]), true);
	struct sara_cereg reg;
	int i;

	(void)state;
	assert_int_equal(sara_boot(r->s, 30000), FUOTA_OK);
	assert_false(sara_needs_boot(r->s));
	for (i = 0; i < 6; i++)
		assert_int_equal(sara_reg_get(r->s, &reg), FUOTA_ERR_TIMEOUT);
	/* 2 timeouts: 3 sacrificial ATs; 4: power off 2 s, on 1.5 s; 6: the reset line */
	assert_int_equal(r->events[SARA_EV_RECOVERY], 3);
	assert_int_equal(r->pulses, 2);
	assert_int_equal(r->pulse_ms[0], 2000);
	assert_int_equal(r->pulse_ms[1], 1500);
	assert_int_equal(r->resets, 1);
	assert_true(sara_needs_boot(r->s));
	assert_int_equal(at_timeouts(r->at), 6);
	done(r);
}

static void test_held_resets(void **state)
{
	/* a firmware install: the module is silent, and must not be power-cycled or reset */
	struct fake_step st[] = {{"never", 0, "", 0, 0}};
	struct rig *r = rig_ex(st, 1, true);
	struct sara_cereg reg;
	int i;

	(void)state;
	sara_hold_resets(r->s, true);
	assert_true(sara_resets_held(r->s));
	assert_int_equal(sara_boot(r->s, 10000), FUOTA_ERR_TIMEOUT);
	for (i = 0; i < 8; i++)
		assert_int_equal(sara_reg_get(r->s, &reg), FUOTA_ERR_TIMEOUT);
	assert_int_equal(r->pulses, 0);
	assert_int_equal(r->resets, 0);
	assert_false(sara_needs_boot(r->s));
	r->f->next = 1;
	done(r);
}

static int refuse_cfun(void *ctx, const char *cmd, char *why, size_t cap)
{
	(void)ctx;
	if (strcmp(cmd, "AT+CFUN=16") != 0)
		return FUOTA_OK;
	snprintf(why, cap, "AT+CFUN=16 refused: an install");
	return FUOTA_ERR_STATE;
}

static void test_cmd_check_refuses(void **state)
{
	struct fake_step st[] = {
	        {"AT+CFUN=0\r", 0, OK, 0, 5},
	        {"AT+UMNOPROF=100\r", 0, OK, 0, 5},
	};
	struct rig *r = rig(st, 2);

	(void)state;
	sara_set_cmd_check(r->s, refuse_cfun, NULL);
	assert_int_equal(sara_mno_set(r->s, 100, 1000), FUOTA_ERR_STATE);
	assert_string_equal(sara_last_error(r->s), "AT+CFUN=16 refused: an install");
	assert_false(fake_sent(r->f, "AT+CFUN=16"));
	done(r);
}

/* A port with modem lines on a fake clock: every set_lines call, and when. */
struct lines_port {
	uint64_t now;
	unsigned asserted;
	unsigned mask[8], value[8];
	uint64_t at[8];
	size_t n;
	struct cell_clock clock;
	struct cell_serial serial;
};

static uint64_t lp_now(void *ctx)
{
	return ((struct lines_port *)ctx)->now;
}

static void lp_sleep(void *ctx, uint32_t ms)
{
	((struct lines_port *)ctx)->now += ms;
}

static int lp_set_lines(void *ctx, unsigned mask, unsigned value)
{
	struct lines_port *p = ctx;

	assert_true(p->n < 8);
	p->mask[p->n] = mask;
	p->value[p->n] = value;
	p->at[p->n++] = p->now;
	p->asserted = (p->asserted & ~mask) | (value & mask);
	return FUOTA_OK;
}

/* PWR_ON on DTR and RESET_N on RTS: each pulse asserts its line for its length, then releases
 * it; a line not wired leaves its callback NULL (the ladder then says so). */
static void test_hw_from_lines(void **state)
{
	static const struct cell_serial_ops ops = {.set_lines = lp_set_lines};
	struct lines_port p = {.now = 1000};
	struct sara_hw_lines l = {.serial = &p.serial, .clock = &p.clock};
	struct sara_hw hw;

	(void)state;
	p.clock = (struct cell_clock){lp_now, lp_sleep, &p};
	p.serial = (struct cell_serial){&ops, &p};
	l.pwr_line = CELL_LINE_DTR;
	l.reset_line = CELL_LINE_RTS;
	assert_int_equal(sara_hw_from_lines(&hw, &l), FUOTA_OK);
	assert_int_equal(hw.power_pulse(hw.ctx, 1500), FUOTA_OK);
	assert_int_equal(hw.reset(hw.ctx, 150), FUOTA_OK);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.mask[0], CELL_LINE_DTR);
	assert_int_equal(p.value[0], CELL_LINE_DTR);
	assert_int_equal(p.mask[1], CELL_LINE_DTR);
	assert_int_equal(p.value[1], 0);
	assert_int_equal(p.at[1] - p.at[0], 1500);
	assert_int_equal(p.mask[2], CELL_LINE_RTS);
	assert_int_equal(p.value[2], CELL_LINE_RTS);
	assert_int_equal(p.at[3] - p.at[2], 150);
	assert_int_equal(p.asserted, 0);
	l.reset_line = 0;
	assert_int_equal(sara_hw_from_lines(&hw, &l), FUOTA_OK);
	assert_null(hw.reset);
	assert_non_null(hw.power_pulse);
	l.reset_line = CELL_LINE_CTS; /* an input */
	assert_int_equal(sara_hw_from_lines(&hw, &l), FUOTA_ERR_INVALID_ARG);
	l.reset_line = CELL_LINE_DTR; /* the same line as PWR_ON */
	assert_int_equal(sara_hw_from_lines(&hw, &l), FUOTA_ERR_INVALID_ARG);
	l.reset_line = CELL_LINE_DTR | CELL_LINE_RTS;
	assert_int_equal(sara_hw_from_lines(&hw, &l), FUOTA_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_boot_and_info),
	        cmocka_unit_test(test_boot_timeout),
	        cmocka_unit_test(test_boot_fixes_autobaud),
	        cmocka_unit_test(test_register_and_pdp),
	        cmocka_unit_test(test_register_denied),
	        cmocka_unit_test(test_pdp_restart),
	        cmocka_unit_test(test_udp_echo),
	        cmocka_unit_test(test_bad_reply_names_command_and_line),
	        cmocka_unit_test(test_http_foat_and_files),
	        cmocka_unit_test(test_ftp_foat),
	        cmocka_unit_test(test_recovery_ladder),
	        cmocka_unit_test(test_held_resets),
	        cmocka_unit_test(test_cmd_check_refuses),
	        cmocka_unit_test(test_hw_from_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
