/* The AT client against scripted transcripts (cell_fake.h), each fed in 1-byte, random and whole
 * chunks: final results, prefixes, URCs inside a response and split across reads, echo, prompts,
 * binary fields, timeouts, the guard time, the sticky error, the recovery ladder, the log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cell_fake.h"
#include "fuota/at_client.h"
#include "fuota/at_rx.h"
#include "fuota/sara_parse.h"
#include "fuota/xmodem.h"

static const int chunks[] = {1, -1, 0};

#define OK_REPLY "\r\nOK\r\n"

struct urcs {
	int n;
	char last[128];
};

static void on_urc(void *ctx, const char *line, size_t len)
{
	struct urcs *u = ctx;

	u->n++;
	snprintf(u->last, sizeof(u->last), "%.*s", (int)len, line);
}

static struct at_client *client(struct fake *f, struct at_config *extra)
{
	struct at_config cfg = {0};
	struct at_client *at = NULL;

	if (extra)
		cfg = *extra;
	cfg.serial = &f->serial;
	cfg.clock = &f->clock;
	assert_int_equal(at_create(&cfg, &at), FUOTA_OK);
	return at;
}

static void test_final_results(void **state)
{
	static const struct {
		const char *reply;
		int err;
		enum at_final final;
		int code;
		const char *text;
	} cases[] = {
	        {"\r\nOK\r\n", FUOTA_OK, AT_FINAL_OK, -1, ""},
	        {"\r\nERROR\r\n", AT_ERR_DEVICE, AT_FINAL_ERROR, -1, ""},
	        {"\r\n+CME ERROR: 10\r\n", AT_ERR_DEVICE, AT_FINAL_CME, 10, "10"},
	        {"\r\n+CME ERROR: operation not allowed\r\n", AT_ERR_DEVICE, AT_FINAL_CME, -1,
	         "operation not allowed"},
	        {"\r\n+CMS ERROR: 500\r\n", AT_ERR_DEVICE, AT_FINAL_CMS, 500, "500"},
	        {"\r\nABORTED\r\n", AT_ERR_DEVICE, AT_FINAL_ABORTED, -1, ""},
	};
	size_t i, c;

	(void)state;
	for (c = 0; c < 3; c++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct fake_step st[] = {{"AT+X\r", 0, cases[i].reply, 0, 5}};
			struct fake *f = fake_new(st, 1, chunks[c]);
			struct at_client *at = client(f, NULL);
			struct at_resp r;

			assert_int_equal(at_cmdf(at, &r, NULL, 1000, "AT+X"), cases[i].err);
			assert_int_equal(r.final, cases[i].final);
			assert_int_equal(r.code, cases[i].code);
			assert_string_equal(r.text, cases[i].text);
			assert_int_equal(r.n, 0);
			assert_int_equal(at_clear(at), cases[i].err);
			at_destroy(at);
			free(f);
		}
	}
}

static void test_prefix_echo_and_urc_inside(void **state)
{
	size_t c;

	(void)state;
	for (c = 0; c < 3; c++) {
		/* Echo on (before ATE0), a URC between the command and its answer and another
		 * between the answer and OK, a stray line that is neither. */
		struct fake_step st[] = {{"AT+UMNOPROF?\r", 0,
		                          "AT+UMNOPROF?\r\r\n+CEREG: 2\r\n+UMNOPROF: 90\r\n"
		                          "junk\r\n+UUSORD: 0,12\r\n\r\nOK\r\n",
		                          0, 3}};
		struct fake *f = fake_new(st, 1, chunks[c]);
		struct at_client *at = client(f, NULL);
		struct urcs ce = {0}, so = {0};
		struct at_resp r;

		assert_int_equal(at_urc_add(at, "+CEREG:", on_urc, &ce), FUOTA_OK);
		assert_int_equal(at_urc_add(at, "+UUSORD:", on_urc, &so), FUOTA_OK);
		assert_int_equal(at_cmdf(at, &r, "+UMNOPROF:", 0, "AT+UMNOPROF?"), FUOTA_OK);
		assert_int_equal(r.n, 1);
		assert_string_equal(r.line[0], "+UMNOPROF: 90");
		assert_int_equal(ce.n, 1);
		assert_string_equal(ce.last, "+CEREG: 2");
		assert_int_equal(so.n, 1);
		assert_string_equal(so.last, "+UUSORD: 0,12");
		at_destroy(at);
		free(f);
	}
}

static void test_no_prefix_keeps_lines(void **state)
{
	(void)state;
	for (size_t c = 0; c < 3; c++) {
		struct fake_step st[] = {
		        {"AT+CGSN\r", 0, "\r\n004999010640000\r\n\r\nOK\r\n", 0, 1}};
		struct fake *f = fake_new(st, 1, chunks[c]);
		struct at_client *at = client(f, NULL);
		struct at_resp r;
		char imei[20];

		assert_int_equal(at_cmdf(at, &r, NULL, 0, "AT+CGSN"), FUOTA_OK);
		assert_int_equal(r.n, 1);
		assert_int_equal(sara_parse_imei(r.line[0], r.len[0], imei, sizeof(imei)),
		                 FUOTA_OK);
		assert_string_equal(imei, "004999010640000");
		at_destroy(at);
		free(f);
	}
}

static void urc_split_across_reads_in_poll_in(int chunk)
{
	/* Unsolicited: arrives at t+0 in 1-byte reads; a second URC comes 300 ms later. */
	struct fake_step st[] = {{NULL, 0, "\r\n+UUSORD: 3,", 0, 0},
	                         {NULL, 0, "512\r\n\r\n+UUSORD: 1,7\r\n", 0, 300}};
	struct fake *f = fake_new(st, 2, chunk);
	struct at_client *at = client(f, NULL);
	struct urcs u = {0};

	assert_int_equal(at_urc_add(at, "+UUSORD:", on_urc, &u), FUOTA_OK);
	assert_int_equal(at_poll(at, 100), FUOTA_OK);
	assert_int_equal(u.n, 0); /* half a line is no URC yet */
	assert_int_equal(at_poll(at, 500), FUOTA_OK);
	assert_int_equal(u.n, 2);
	assert_string_equal(u.last, "+UUSORD: 1,7");
	assert_int_equal(at_urc_remove(at, "+UUSORD:"), FUOTA_OK);
	assert_int_equal(at_urc_remove(at, "+UUSORD:"), FUOTA_ERR_NOT_FOUND);
	at_destroy(at);
	free(f);
}

static void test_urc_split_across_reads_in_poll(void **state)
{
	(void)state;
	for (size_t c = 0; c < 3; c++)
		urc_split_across_reads_in_poll_in(chunks[c]);
}

/* The '>' of +UDWNFILE and the '@' of +USOST/+USOWR, then binary data with CR, LF, NUL and a
 * quote; a URC after the payload. */
static void test_prompt_and_payload(void **state)
{
	static const struct {
		const char *text, *sent, *prompt_reply;
		char prompt;
	} kinds[] = {
	        {"AT+UDWNFILE=\"f\",6", "AT+UDWNFILE=\"f\",6\r", "\r\n>", '>'},
	        {"AT+USOWR=0,6", "AT+USOWR=0,6\r", "\r\n@", '@'},
	};
	size_t c, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		for (c = 0; c < 3; c++) {
			static const uint8_t data[] = {'a', '\r', '\n', 0, '"', 'z'};
			struct fake_step st[] = {
			        {kinds[k].sent, 0, kinds[k].prompt_reply, 0, 10},
			        {"a\r\n\0\"z", 6, "\r\n+CEREG: 1\r\n\r\nOK\r\n", 0, 10},
			};
			struct fake *f = fake_new(st, 2, chunks[c]);
			struct at_client *at = client(f, NULL);
			struct at_cmd cmd = {.text = kinds[k].text,
			                     .prompt = kinds[k].prompt,
			                     .data = data,
			                     .data_len = sizeof(data)};
			struct urcs u = {0};
			uint64_t t0 = f->now;

			assert_int_equal(at_urc_add(at, "+CEREG:", on_urc, &u), FUOTA_OK);
			assert_int_equal(at_cmd(at, &cmd, NULL), FUOTA_OK);
			assert_int_equal(u.n, 1);
			assert_int_equal(f->n_writes, 3); /* text, CR, payload */
			/* the payload waited 50 ms after the prompt (10 ms after the command) */
			assert_true(f->tx_at[2] >= t0 + 10 + 50);
			at_destroy(at);
			free(f);
		}
	}
}

static void prompt_never_comes_in(int chunk)
{
	static const uint8_t data[] = {1, 2};
	struct fake_step st[] = {
	        {"AT+USOST=0,\"1.2.3.4\",7,2\r", 0, "\r\n+CME ERROR: 4\r\n", 0, 5}};
	struct fake *f = fake_new(st, 1, chunk);
	struct at_client *at = client(f, NULL);
	struct at_cmd cmd = {
	        .text = "AT+USOST=0,\"1.2.3.4\",7,2", .prompt = '@', .data = data, .data_len = 2};
	struct at_resp r;

	assert_int_equal(at_cmd(at, &cmd, &r), AT_ERR_DEVICE);
	assert_int_equal(r.code, 4);
	assert_int_equal(f->n_writes, 2); /* no payload after an error */
	at_destroy(at);
	free(f);
}

static void test_prompt_never_comes(void **state)
{
	(void)state;
	for (size_t c = 0; c < 3; c++)
		prompt_never_comes_in(chunks[c]);
}

static void test_binary_field(void **state)
{
	size_t c;

	(void)state;
	for (c = 0; c < 3; c++) {
		static const char reply[] =
		        "\r\n+USORF: 0,\"1.2.3.4\",7,6,\"\r\nOK\"\n\"\r\n\r\nOK\r\n";
		struct fake_step st[] = {{"AT+USORF=0,1024\r", 0, reply, sizeof(reply) - 1, 1}};
		struct fake *f = fake_new(st, 1, chunks[c]);
		struct at_client *at = client(f, NULL);
		struct at_cmd cmd = {
		        .text = "AT+USORF=0,1024", .prefix = "+USORF:", .binary = {"+USORF:", 3}};
		struct at_resp r;
		const uint8_t *data;
		size_t dlen;
		char ip[40];
		int sock, port;

		assert_int_equal(at_cmd(at, &cmd, &r), FUOTA_OK);
		assert_int_equal(r.n, 1);
		assert_int_equal(sara_parse_usorf(r.line[0], r.len[0], &sock, ip, sizeof(ip), &port,
		                                  &data, &dlen),
		                 FUOTA_OK);
		assert_int_equal(dlen, 6);
		assert_memory_equal(data, "\r\nOK\"\n", 6);
		assert_string_equal(ip, "1.2.3.4");
		assert_int_equal(port, 7);
		at_destroy(at);
		free(f);
	}
}

static void timeout_sticky_and_counter_in(int chunk)
{
	struct fake_step st[] = {{"AT+A\r", 0, "", 0, 0}, {"AT+C\r", 0, "\r\nOK\r\n", 0, 1}};
	struct fake *f = fake_new(st, 2, chunk);
	struct at_client *at = client(f, NULL);
	uint64_t t0 = f->now;
	size_t sent;

	assert_int_equal(at_cmdf(at, NULL, NULL, 700, "AT+A"), FUOTA_ERR_TIMEOUT);
	assert_true(f->now >= t0 + 700 && f->now < t0 + 800);
	assert_int_equal(at_timeouts(at), 1);
	assert_int_equal(at_error(at), FUOTA_ERR_TIMEOUT);
	sent = f->tx_len;
	/* sticky: the next command of the sequence is not even sent */
	assert_int_equal(at_cmdf(at, NULL, NULL, 700, "AT+B"), FUOTA_ERR_TIMEOUT);
	assert_int_equal(f->tx_len, sent);
	assert_int_equal(at_clear(at), FUOTA_ERR_TIMEOUT);
	assert_int_equal(at_error(at), FUOTA_OK);
	assert_int_equal(at_cmdf(at, NULL, NULL, 700, "AT+C"), FUOTA_OK);
	assert_int_equal(at_timeouts(at), 0);
	at_destroy(at);
	free(f);
}

static void test_timeout_sticky_and_counter(void **state)
{
	(void)state;
	for (size_t c = 0; c < 3; c++)
		timeout_sticky_and_counter_in(chunks[c]);
}

static void sticky_after_error_in(int chunk)
{
	struct fake_step st[] = {{"AT+A\r", 0, "\r\nERROR\r\n", 0, 1}};
	struct fake *f = fake_new(st, 1, chunk);
	struct at_client *at = client(f, NULL);

	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+A"), AT_ERR_DEVICE);
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+B"), AT_ERR_DEVICE);
	assert_false(fake_sent(f, "AT+B"));
	assert_int_equal(at_timeouts(at), 0); /* ERROR is an answer */
	at_destroy(at);
	free(f);
}

static void test_sticky_after_error(void **state)
{
	(void)state;
	for (size_t c = 0; c < 3; c++)
		sticky_after_error_in(chunks[c]);
}

static void guard_time_in(int chunk)
{
	/* OK comes 5 ms after the command; a URC 15 ms after that restarts the guard. */
	struct fake_step st[] = {{"AT+A\r", 0, "\r\nOK\r\n", 0, 5},
	                         {NULL, 0, "\r\n+CEREG: 1\r\n", 0, 20},
	                         {"AT+B\r", 0, "\r\nOK\r\n", 0, 5}};
	struct fake *f = fake_new(st, 3, chunk);
	struct at_client *at = client(f, NULL);
	struct urcs u = {0};
	uint64_t t0 = f->now;

	assert_int_equal(at_urc_add(at, "+CEREG:", on_urc, &u), FUOTA_OK);
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+A"), FUOTA_OK);
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+B"), FUOTA_OK);
	assert_int_equal(u.n, 1);
	/* writes: AT+A, CR, AT+B, CR; AT+B waited 25 ms after the URC at t0+20 */
	assert_int_equal(f->n_writes, 4);
	assert_int_equal(f->tx_at[0], t0);
	assert_true(f->tx_at[2] >= t0 + 20 + 25);
	assert_true(f->tx_at[2] <= t0 + 20 + 30);
	at_destroy(at);
	free(f);
}

/* With no URC the guard runs from the final result itself: OK 5 ms after AT+A, AT+B 25 ms
 * later; a guard_ms of 20 (u-blox's minimum) is kept too. */
static void guard_after_final_in(int chunk, uint32_t guard_ms)
{
	struct fake_step st[] = {{"AT+A\r", 0, "\r\nOK\r\n", 0, 5},
	                         {"AT+B\r", 0, "\r\nOK\r\n", 0, 5}};
	struct fake *f = fake_new(st, 2, chunk);
	struct at_config cfg = {.guard_ms = guard_ms};
	struct at_client *at = client(f, &cfg);
	uint64_t t0 = f->now;
	uint32_t want = guard_ms ? guard_ms : 25;

	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+A"), FUOTA_OK);
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+B"), FUOTA_OK);
	assert_int_equal(f->n_writes, 4);
	assert_true(f->tx_at[2] >= t0 + 5 + want);
	assert_true(f->tx_at[2] <= t0 + 5 + want + 5);
	at_destroy(at);
	free(f);
}

static void test_guard_time(void **state)
{
	(void)state;
	for (size_t c = 0; c < 3; c++) {
		guard_time_in(chunks[c]);
		guard_after_final_in(chunks[c], 0);
		guard_after_final_in(chunks[c], 20);
	}
}

struct rec {
	struct at_client *at;
	int calls;
	enum at_recovery rungs[8];
	unsigned counts[8];
	int probe;
};

static void on_recover(void *ctx, enum at_recovery rung, unsigned consecutive)
{
	struct rec *r = ctx;

	r->rungs[r->calls] = rung;
	r->counts[r->calls++] = consecutive;
	if (rung == AT_RECOVER_AT)
		r->probe = at_cmdf(r->at, NULL, NULL, 100, "AT"); /* times out too: no loop */
}

static void test_recovery_ladder(void **state)
{
	struct fake_step st[] = {{"never\r", 0, "", 0, 0}};
	struct fake *f = fake_new(st, 1, 0);
	struct rec r = {0};
	struct at_config cfg = {.recover_fn = on_recover, .recover_ctx = &r, .recover_per_rung = 2};
	int i;

	(void)state;
	assert_int_equal(at_recovery_step(0, 2), AT_RECOVER_NONE);
	assert_int_equal(at_recovery_step(1, 2), AT_RECOVER_NONE);
	assert_int_equal(at_recovery_step(2, 2), AT_RECOVER_AT);
	assert_int_equal(at_recovery_step(4, 2), AT_RECOVER_POWER);
	assert_int_equal(at_recovery_step(6, 2), AT_RECOVER_RESET);
	assert_int_equal(at_recovery_step(8, 2), AT_RECOVER_RESET);
	assert_int_equal(at_recovery_step(5, 0), AT_RECOVER_NONE);
	r.at = client(f, &cfg);
	for (i = 0; i < 4; i++) {
		assert_int_equal(at_cmdf(r.at, NULL, NULL, 100, "AT+X"), FUOTA_ERR_TIMEOUT);
		assert_int_equal(at_clear(r.at), FUOTA_ERR_TIMEOUT);
	}
	/* timeouts: 1, 2 (→ AT rung, whose probe times out without counting), 3, 4 (→ POWER) */
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.rungs[0], AT_RECOVER_AT);
	assert_int_equal(r.counts[0], 2);
	assert_int_equal(r.probe, FUOTA_ERR_TIMEOUT);
	assert_int_equal(r.rungs[1], AT_RECOVER_POWER);
	assert_int_equal(r.counts[1], 4);
	at_destroy(r.at);
	free(f);
}

struct logbuf {
	char text[4096];
};

static void on_log(void *ctx, const char *line)
{
	struct logbuf *l = ctx;

	strncat(l->text, line, sizeof(l->text) - strlen(l->text) - 2);
	strcat(l->text, "\n");
}

static void test_log_masks_secrets(void **state)
{
	static const struct {
		const char *in, *out;
	} masks[] = {
	        {"AT+UHTTP=0,3,\"s3cret\"", "AT+UHTTP=0,3,***"},
	        {"AT+UHTTP=0,2,\"bob\"", "AT+UHTTP=0,2,***"},
	        {"AT+UHTTP=0,1,\"example.com\"", "AT+UHTTP=0,1,\"example.com\""},
	        {"AT+UFTP=3,\"pw\"", "AT+UFTP=3,***"},
	        {"AT+UPSD=0,3,\"pw\"", "AT+UPSD=0,3,***"},
	        /* the APN names the operator's private network: masked too (issue 10) */
	        {"AT+UPSD=0,1,\"apn\"", "AT+UPSD=0,1,***"},
	        {"AT+UPSD=0,100,1", "AT+UPSD=0,100,1"},
	        {"AT+CGDCONT=1,\"IP\",\"fuota.apn\"", "AT+CGDCONT=1,\"IP\",***"},
	        {"+CGDCONT: 1,\"IP\",\"a.mnc040.gprs\",\"0.0.0.0\",0,0",
	         "+CGDCONT: 1,\"IP\",***,\"0.0.0.0\",0,0"},
	        {"AT+CGDCONT?", "AT+CGDCONT?"},
	        {"+UPSD: 0,1,\"apn\"", "+UPSD: 0,1,***"},
	        {"AT+CGAUTH=1,1,\"u\",\"p\"", "AT+CGAUTH=1,1,***,***"},
	        {"+UHTTP: 0,3,\"pw\"", "+UHTTP: 0,3,***"},
	        {"AT", "AT"},
	};
	struct fake_step st[] = {
	        {"AT+UHTTP=0,3,\"s3cret\"\r", 0, "AT+UHTTP=0,3,\"s3cret\"\r\r\nOK\r\n", 0, 1234},
	        {"AT+CGDCONT=1,\"IP\",\"fuota.apn\"\r", 0,
	         "AT+CGDCONT=1,\"IP\",\"fuota.apn\"\r\r\nOK\r\n", 0, 5},
	        {"AT+CGDCONT?\r", 0,
	         "\r\n+CGDCONT: 1,\"IP\",\"fuota.apn\",\"0.0.0.0\",0,0\r\nOK\r\n", 0, 5}};
	struct fake *f = fake_new(st, 3, 0);
	struct logbuf l = {{0}};
	struct at_config cfg = {.log_fn = on_log, .log_ctx = &l};
	struct at_client *at = client(f, &cfg);
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		at_mask_secrets(masks[i].in, out, sizeof(out));
		assert_string_equal(out, masks[i].out);
	}
	at_mask_secrets("AT+UHTTP=0,3,\"pw\"", out, 8);
	assert_string_equal(out, "AT+UHTT");
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+UHTTP=0,3,\"s3cret\""), FUOTA_OK);
	assert_null(strstr(l.text, "s3cret")); /* neither the command nor its echo */
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+CGDCONT=1,\"IP\",\"fuota.apn\""), FUOTA_OK);
	assert_int_equal(at_cmdf(at, NULL, "+CGDCONT:", 0, "AT+CGDCONT?"), FUOTA_OK);
	assert_null(strstr(l.text, "fuota.apn")); /* command, echo, read response */
	assert_non_null(strstr(l.text, "< +CGDCONT: 1,\"IP\",***,\"0.0.0.0\",0,0"));
	assert_non_null(strstr(l.text, "[     0.000] > AT+UHTTP=0,3,***"));
	assert_non_null(strstr(l.text, "[     1.234] < OK"));
	at_destroy(at);
	free(f);
}

static void test_log_file(void **state)
{
	struct fake_step st[] = {{"AT+UFTP=2,\"alice\"\r", 0, OK_REPLY, 0, 7}};
	struct fake *f = fake_new(st, 1, 0);
	FILE *log = tmpfile();
	struct at_config cfg = {.log_file = log};
	struct at_client *at;
	char text[512] = {0};

	(void)state;
	assert_non_null(log);
	cfg.log_file = log;
	at = client(f, &cfg);
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+UFTP=2,\"alice\""), FUOTA_OK);
	rewind(log);
	assert_true(fread(text, 1, sizeof(text) - 1, log) > 0);
	assert_string_equal(text, "[     0.000] > AT+UFTP=2,***\n[     0.007] < OK\n");
	fclose(log);
	at_destroy(at);
	free(f);
}

static void raw_handover_in(int chunk)
{
	struct fake_step st[] = {
	        {"AT+UFWUPD=1,115200\r", 0, "\r\nOK\r\n\r\n+UFWUPD: ONGOING\r\nC", 0, 1},
	        {"\x01", 0, "\x06", 0, 1},
	        {NULL, 0, "\r\n+UFWUPD: 128\r\n", 0, 10}};
	struct fake *f = fake_new(st, 3, chunk);
	struct at_client *at = client(f, NULL);
	struct cell_io io;
	char line[64];
	uint8_t b = 0;
	size_t got = 0;

	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+UFWUPD=1,115200"), FUOTA_OK);
	assert_int_equal(at_wait_urc(at, "+UFWUPD:", 1000, line, sizeof(line)), FUOTA_OK);
	assert_string_equal(line, "+UFWUPD: ONGOING");
	assert_int_equal(at_raw_begin(at, &io), FUOTA_OK);
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT"), FUOTA_ERR_STATE);
	assert_int_equal(io.read(io.ctx, &b, 1, 100, &got), FUOTA_OK);
	assert_int_equal(got, 1);
	assert_int_equal(b, 'C');
	b = 0x01;
	assert_int_equal(io.write(io.ctx, &b, 1), FUOTA_OK);
	assert_int_equal(io.read(io.ctx, &b, 1, 100, &got), FUOTA_OK);
	assert_int_equal(b, 0x06);
	at_raw_end(at);
	assert_int_equal(at_wait_urc(at, "+UFWUPD:", 1000, line, sizeof(line)), FUOTA_OK);
	assert_string_equal(line, "+UFWUPD: 128");
	at_destroy(at);
	free(f);
}

static void test_raw_handover(void **state)
{
	(void)state;
	for (size_t c = 0; c < 3; c++)
		raw_handover_in(chunks[c]);
}

/* The hand-over as FOAT uses it: +UFWUPD: ONGOING, the module's 'C', an Xmodem transfer over
 * the raw stream (a block, the EOT NAKed once), the AT reader back for the result URC. */
static void xmodem_over_raw_in(int chunk)
{
	static const uint8_t file[10] = {'f', 'i', 'r', 'm', 'w', 'a', 'r', 'e', 0, '\r'};
	uint8_t block[133];
	size_t blen = xm_block(block, 1, file, sizeof(file), 128, true, 0x1a);
	struct fake_step st[] = {
	        {"AT+UFWUPD=1,115200\r", 0, "\r\nOK\r\n\r\n+UFWUPD: ONGOING\r\n", 0, 1},
	        {NULL, 0, "C", 0, 20},
	        {(const char *)block, blen, "\x06", 1, 2},
	        {"\x04", 0, "\x15", 0, 2},
	        {"\x04", 0, "\x06", 0, 2},
	        {NULL, 0, "\r\n+UFWUPD: 128\r\n", 0, 30}};
	struct fake *f = fake_new(st, 6, chunk);
	struct at_client *at = client(f, NULL);
	struct xm_config xc = {.clock = &f->clock};
	struct xm_stats xs;
	char line[64];

	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+UFWUPD=1,115200"), FUOTA_OK);
	assert_int_equal(at_wait_urc(at, "+UFWUPD:", 1000, line, sizeof(line)), FUOTA_OK);
	assert_string_equal(line, "+UFWUPD: ONGOING");
	assert_int_equal(at_raw_begin(at, &xc.io), FUOTA_OK);
	assert_int_equal(xm_send(&xc, file, sizeof(file), &xs), FUOTA_OK);
	assert_true(xs.crc);
	assert_int_equal(xs.blocks, 1);
	assert_int_equal(xs.resends, 0);
	at_raw_end(at);
	assert_int_equal(at_wait_urc(at, "+UFWUPD:", 1000, line, sizeof(line)), FUOTA_OK);
	assert_string_equal(line, "+UFWUPD: 128");
	assert_int_equal(f->next, 6);
	at_destroy(at);
	free(f);
}

static void test_xmodem_over_raw(void **state)
{
	(void)state;
	for (size_t c = 0; c < 3; c++)
		xmodem_over_raw_in(chunks[c]);
}

static void test_hangup_and_overflow(void **state)
{
	char many[600] = "\r\n";
	struct fake_step st[] = {{"AT+M\r", 0, many, 0, 1}};
	struct fake *f;
	struct at_client *at;
	struct at_resp r;
	int i;

	(void)state;
	for (i = 0; i < AT_RESP_LINES + 2; i++)
		strcat(many, "+L: 1\r\n");
	strcat(many, "OK\r\n");
	f = fake_new(st, 1, -1);
	at = client(f, NULL);
	assert_int_equal(at_cmdf(at, &r, "+L:", 0, "AT+M"), FUOTA_ERR_NO_SPACE);
	assert_true(r.overflow);
	assert_int_equal(r.n, AT_RESP_LINES);
	assert_int_equal(r.final, AT_FINAL_OK);
	at_clear(at);
	f->hangup = true;
	assert_int_equal(at_cmdf(at, &r, NULL, 0, "AT"), FUOTA_ERR_IO);
	at_destroy(at);
	free(f);
}

static void test_rx_line_limits(void **state)
{
	uint8_t buf[8];
	struct at_rx rx;
	const char *in = "0123456789\r\nOK\r\n";
	int overflow = 0, lines = 0;
	size_t len;

	(void)state;
	at_rx_init(&rx, buf, sizeof(buf));
	for (; *in; in++) {
		enum at_rx_event ev = at_rx_feed(&rx, (uint8_t)*in);

		overflow += ev == AT_RX_OVERFLOW;
		if (ev == AT_RX_LINE) {
			lines++;
			assert_string_equal(at_rx_line(&rx, &len), "OK");
		}
	}
	assert_int_equal(overflow, 1);
	assert_int_equal(lines, 1);
}

struct reader {
	struct at_client *at;
	int calls;
	int err;
	char data[64];
	bool after_final; /* the outer command's reply, ERROR included, was read before */
	struct fake *f;
};

static void read_on_uusord(void *ctx, const char *line, size_t len)
{
	struct reader *r = ctx;
	struct at_resp resp;

	(void)line;
	(void)len;
	r->calls++;
	r->after_final = r->f->rx_pos == r->f->rx_len;
	r->err = at_cmdf(r->at, &resp, "+USORD:", 0, "AT+USORD=0,2");
	if (r->err == FUOTA_OK && resp.n == 1)
		snprintf(r->data, sizeof(r->data), "%s", resp.line[0]);
}

static void test_handler_sends_commands(void **state)
{
	/* the URC comes inside an ERROR'd command; its handler reads the data */
	struct fake_step st[] = {
	        {"AT+X\r", 0, "\r\n+UUSORD: 0,2\r\n\r\nERROR\r\n", 0, 5},
	        {"AT+USORD=0,2\r", 0, "\r\n+USORD: 0,2,\"hi\"\r\n\r\nOK\r\n", 0, 5}};
	struct fake *f = fake_new(st, 2, -1);
	struct at_client *at = client(f, NULL);
	struct reader r = {.at = at, .f = f};

	(void)state;
	assert_int_equal(at_urc_add(at, "+UUSORD:", read_on_uusord, &r), FUOTA_OK);
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+X"), AT_ERR_DEVICE);
	assert_int_equal(r.calls, 1);
	assert_true(r.after_final);
	assert_int_equal(r.err, FUOTA_OK); /* the caller's sticky ERROR did not block it */
	assert_string_equal(r.data, "+USORD: 0,2,\"hi\"");
	assert_int_equal(at_error(at), AT_ERR_DEVICE); /* and is still the caller's */
	at_destroy(at);
	free(f);
}

static void test_urc_queue_limit(void **state)
{
	static char many[2048];
	struct fake_step st[] = {{"AT+Q\r", 0, many, 0, 1}};
	struct fake *f;
	struct at_client *at;
	struct urcs u = {0};
	int i;

	(void)state;
	many[0] = 0;
	for (i = 0; i < 40; i++)
		strcat(many, "\r\n+CEREG: 1\r\n");
	strcat(many, "\r\nOK\r\n");
	f = fake_new(st, 1, 0);
	at = client(f, NULL);
	assert_int_equal(at_urc_add(at, "+CEREG:", on_urc, &u), FUOTA_OK);
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+Q"), FUOTA_OK);
	assert_int_equal(u.n, 32);
	at_destroy(at);
	free(f);
	/* a handler added with at_urc_add_now sees every one, inside the command */
	memset(&u, 0, sizeof(u));
	f = fake_new(st, 1, 0);
	at = client(f, NULL);
	assert_int_equal(at_urc_add_now(at, "+CEREG:", on_urc, &u), FUOTA_OK);
	assert_int_equal(at_cmdf(at, NULL, NULL, 0, "AT+Q"), FUOTA_OK);
	assert_int_equal(u.n, 40);
	assert_string_equal(u.last, "+CEREG: 1");
	at_destroy(at);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_final_results),
	        cmocka_unit_test(test_prefix_echo_and_urc_inside),
	        cmocka_unit_test(test_no_prefix_keeps_lines),
	        cmocka_unit_test(test_urc_split_across_reads_in_poll),
	        cmocka_unit_test(test_prompt_and_payload),
	        cmocka_unit_test(test_prompt_never_comes),
	        cmocka_unit_test(test_binary_field),
	        cmocka_unit_test(test_timeout_sticky_and_counter),
	        cmocka_unit_test(test_sticky_after_error),
	        cmocka_unit_test(test_guard_time),
	        cmocka_unit_test(test_recovery_ladder),
	        cmocka_unit_test(test_log_masks_secrets),
	        cmocka_unit_test(test_log_file),
	        cmocka_unit_test(test_raw_handover),
	        cmocka_unit_test(test_xmodem_over_raw),
	        cmocka_unit_test(test_hangup_and_overflow),
	        cmocka_unit_test(test_rx_line_limits),
	        cmocka_unit_test(test_handler_sends_commands),
	        cmocka_unit_test(test_urc_queue_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
