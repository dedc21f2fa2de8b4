/* Pure pieces of fuotad: configuration (file + environment), AES-256-GCM boxes and tokens,
 * multipart parsing, the request checks (dates, UTF-8, forms) and the job plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuota/api_decode.h"
#include "fuota/cbox.h"
#include "fuota/cfg.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/multipart.h"
#include "fuota/plan.h"

static void test_cfg_file_and_env(void **state)
{
	char path[] = "/tmp/fuota-cfg-XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct cfg c;

	(void)state;
	fprintf(f, "[http]\nport = 9000\nthreads = 2\n[database]\ndsn = host=x dbname=y\n"
	           "[security]\nmaster_key = "
	           "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	fclose(f);
	setenv("FUOTA_HTTP_PORT", "9100", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_OK);
	unsetenv("FUOTA_HTTP_PORT");
	assert_int_equal(c.http_port, 9100); /* the environment wins */
	assert_int_equal(c.http_threads, 2);
	assert_string_equal(c.db_dsn, "host=x dbname=y");
	assert_int_equal(c.max_upload_bytes, 16ul * 1024 * 1024);
	assert_true(c.have_master_key);
	assert_int_equal(c.master_key[31], 0x1f);

	assert_int_equal(c.http_timeout_s, 15);
	assert_int_equal(c.token_cache_ms, 2000);
	setenv("FUOTA_HTTP_TIMEOUT_S", "3", 1);
	setenv("FUOTA_HTTP_TOKEN_CACHE_MS", "0", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(c.http_timeout_s, 3);
	assert_int_equal(c.token_cache_ms, 0);
	setenv("FUOTA_HTTP_TIMEOUT_S", "0", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	assert_non_null(strstr(err, "timeout_s"));
	unsetenv("FUOTA_HTTP_TIMEOUT_S");
	setenv("FUOTA_HTTP_TOKEN_CACHE_MS", "60001", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	assert_non_null(strstr(err, "token_cache_ms"));
	unsetenv("FUOTA_HTTP_TOKEN_CACHE_MS");
	/* Slowloris defences: a header deadline and connection limits, in range. */
	assert_int_equal(c.http_header_timeout_s, 10);
	assert_int_equal(c.http_max_connections, 1000);
	assert_int_equal(c.http_max_connections_per_ip, 64);
	setenv("FUOTA_HTTP_MAX_CONNECTIONS_PER_IP", "0", 1);
	setenv("FUOTA_HTTP_HEADER_TIMEOUT_S", "3", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(c.http_max_connections_per_ip, 0);
	assert_int_equal(c.http_header_timeout_s, 3);
	setenv("FUOTA_HTTP_HEADER_TIMEOUT_S", "0", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	assert_non_null(strstr(err, "header_timeout_s"));
	unsetenv("FUOTA_HTTP_HEADER_TIMEOUT_S");
	unsetenv("FUOTA_HTTP_MAX_CONNECTIONS_PER_IP");
	setenv("FUOTA_HTTP_MAX_CONNECTIONS", "0", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	assert_non_null(strstr(err, "max_connections"));
	unsetenv("FUOTA_HTTP_MAX_CONNECTIONS");
	setenv("FUOTA_HTTP_THREADS", "0", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	assert_non_null(strstr(err, "threads"));
	unsetenv("FUOTA_HTTP_THREADS");
	f = fopen(path, "a");
	fprintf(f, "[http]\nprot = 1\n");
	fclose(f);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	assert_non_null(strstr(err, "prot"));
	unlink(path);
	setenv("FUOTA_SECURITY_MASTER_KEY", "0011", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	unsetenv("FUOTA_SECURITY_MASTER_KEY");
}

static void test_cbox(void **state)
{
	uint8_t key[32], plain[16], box[16 + CBOX_OVERHEAD], box2[sizeof(box)], out[16];
	char tok[CBOX_TOKEN_LEN + 1], tok2[CBOX_TOKEN_LEN + 1];
	uint8_t h1[32], h2[32];

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++)
		plain[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(cbox_seal(key, plain, 16, (const uint8_t *)"ad", 2, box, sizeof(box)),
	                 FUOTA_OK);
	assert_int_equal(cbox_seal(key, plain, 16, (const uint8_t *)"ad", 2, box2, sizeof(box2)),
	                 FUOTA_OK);
	/* A fresh nonce each time; never the plaintext in clear. */
	assert_memory_not_equal(box, box2, sizeof(box));
	assert_memory_not_equal(box + CBOX_NONCE_LEN, plain, 16);
	assert_int_equal(cbox_open(key, box, sizeof(box), (const uint8_t *)"ad", 2, out, 16),
	                 FUOTA_OK);
	assert_memory_equal(out, plain, 16);
	/* Wrong associated data (another device), a flipped bit, a wrong key, a short box. */
	assert_int_equal(cbox_open(key, box, sizeof(box), (const uint8_t *)"ae", 2, out, 16),
	                 FUOTA_ERR_CRYPTO);
	box[20] ^= 1;
	assert_int_equal(cbox_open(key, box, sizeof(box), (const uint8_t *)"ad", 2, out, 16),
	                 FUOTA_ERR_CRYPTO);
	box[20] ^= 1;
	key[0] ^= 1;
	assert_int_equal(cbox_open(key, box, sizeof(box), (const uint8_t *)"ad", 2, out, 16),
	                 FUOTA_ERR_CRYPTO);
	assert_int_equal(cbox_open(key, box, 10, NULL, 0, out, 16), FUOTA_ERR_MALFORMED);
	assert_int_equal(cbox_seal(key, plain, 16, NULL, 0, box, 20), FUOTA_ERR_NO_SPACE);

	assert_int_equal(cbox_token_new(tok), FUOTA_OK);
	assert_int_equal(cbox_token_new(tok2), FUOTA_OK);
	assert_int_equal(strlen(tok), CBOX_TOKEN_LEN);
	assert_memory_equal(tok, "fuota_", 6);
	assert_string_not_equal(tok, tok2);
	assert_int_equal(cbox_token_hash(tok, strlen(tok), h1), FUOTA_OK);
	assert_int_equal(cbox_token_hash(tok2, strlen(tok2), h2), FUOTA_OK);
	assert_false(cbox_equal(h1, h2, 32));
	assert_true(cbox_equal(h1, h1, 32));
	/* SHA-256("abc") */
	assert_int_equal(cbox_token_hash("abc", 3, h1), FUOTA_OK);
	assert_int_equal(h1[0], 0xba);
	assert_int_equal(h1[31], 0xad);
	assert_int_equal(cbox_hex_decode("0g", 2, h1, 1), FUOTA_ERR_MALFORMED);
	assert_int_equal(cbox_hex_decode("0A", 2, h1, 1), FUOTA_OK);
	assert_int_equal(h1[0], 0x0a);
}

static void test_multipart(void **state)
{
	static const char body[] =
	        "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"name\""
	        "\r\n\r\nfw 1\r\n--XyZ\r\nContent-Disposition: form-data; "
	        "name=\"file\"; filename=\"a.bin\"\r\nContent-Type: x/y\r\n\r\n"
	        "\x01\r\n\x02--X\r\n--XyZ--\r\n";
	char b[80];
	struct mp_part parts[4];
	size_t n;

	(void)state;
	assert_int_equal(mp_boundary("multipart/form-data; boundary=XyZ", b, sizeof(b)), FUOTA_OK);
	assert_string_equal(b, "XyZ");
	assert_int_equal(
	        mp_boundary("Multipart/Form-Data; charset=x; boundary=\"a b\"", b, sizeof(b)),
	        FUOTA_OK);
	assert_string_equal(b, "a b");
	assert_int_equal(mp_boundary("application/json", b, sizeof(b)), FUOTA_ERR_MALFORMED);
	assert_int_equal(mp_boundary("multipart/form-data", b, sizeof(b)), FUOTA_ERR_MALFORMED);

	assert_int_equal(mp_parse("XyZ", (const uint8_t *)body, sizeof(body) - 1, parts, 4, &n),
	                 FUOTA_OK);
	assert_int_equal(n, 2);
	assert_string_equal(parts[0].name, "name");
	assert_int_equal(parts[0].len, 4);
	assert_memory_equal(parts[0].data, "fw 1", 4);
	assert_string_equal(parts[1].name, "file");
	assert_string_equal(parts[1].filename, "a.bin");
	assert_int_equal(parts[1].len, 7); /* CR LF and a near-boundary inside the data stay */
	assert_memory_equal(parts[1].data, "\x01\r\n\x02--X", 7);
	/* Every truncation is refused, never read past. */
	for (size_t cut = 0; cut < sizeof(body) - 1 - 9; cut++)
		assert_int_not_equal(mp_parse("XyZ", (const uint8_t *)body, cut, parts, 4, &n),
		                     FUOTA_OK);
	assert_int_equal(mp_parse("XyZ", (const uint8_t *)body, sizeof(body) - 1, parts, 1, &n),
	                 FUOTA_ERR_NO_SPACE);
}

/* Content-Disposition parameters: a quoted value may hold ';' and "name="; a parameter given
 * twice, or a NUL in the part's headers, is refused (the first must not silently win). */
static void test_multipart_disposition(void **state)
{
	static const struct {
		const char *disposition;
		int rc;
		const char *name, *filename;
	} cases[] = {
	        {"form-data; name=\"file\"; filename=\"a; name=b.bin\"", FUOTA_OK, "file",
	         "a; name=b.bin"},
	        {"form-data;name=x ;  filename = y ", FUOTA_OK, "x", "y"},
	        {"form-data; NAME=\"n\"", FUOTA_OK, "n", ""},
	        {"form-data; name=\"a\"; name=\"b\"", FUOTA_ERR_MALFORMED, NULL, NULL},
	        {"form-data; name=a; filename=\"x\"; FILENAME=y", FUOTA_ERR_MALFORMED, NULL, NULL},
	        {"form-data; name=\"a", FUOTA_ERR_MALFORMED, NULL, NULL},
	        {"form-data; filename=\"x\"", FUOTA_ERR_MALFORMED, NULL, NULL},
	};
	char body[512];
	struct mp_part parts[2];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *d = cases[i].disposition;
		int len = snprintf(body, sizeof(body),
		                   "--B\r\nContent-Disposition: %s\r\n\r\nv\r\n--B--", d);

		if (mp_parse("B", (const uint8_t *)body, (size_t)len, parts, 2, &n) != cases[i].rc)
			fail_msg("case %zu (%s): unexpected result", i, d);
		if (cases[i].rc != FUOTA_OK)
			continue;
		assert_string_equal(parts[0].name, cases[i].name);
		assert_string_equal(parts[0].filename, cases[i].filename);
	}
	{
		static const char nul[] =
		        "--B\r\nContent-Disposition: form-data; name=\"fi\0le\"\r\n"
		        "\r\nv\r\n--B--";

		assert_int_equal(mp_parse("B", (const uint8_t *)nul, sizeof(nul) - 1, parts, 2, &n),
		                 FUOTA_ERR_MALFORMED);
	}
}

/* start_at through the job decoder: the pattern and the calendar. */
static int start_at(const char *when, struct api_error *e)
{
	char body[512];
	struct job_params p;
	json_t *obj;
	int rc;

	snprintf(body, sizeof(body),
	         "{\"name\":\"j\",\"firmware_id\":1,\"devices\":[\"0011223344556677\"],"
	         "\"redundancy_percent\":10,\"unicast_timeout_s\":60,\"unicast_attempts\":3,"
	         "\"data_rate\":5,\"frequency_hz\":869525000,\"region\":\"EU868\","
	         "\"multicast_class\":\"C\",\"start_at\":\"%s\"}",
	         when);
	obj = api_parse_object(body, strlen(body), e);
	assert_non_null(obj);
	rc = api_decode_job(obj, true, true, &p, e);
	job_params_free(&p);
	json_decref(obj);
	return rc;
}

static void test_start_at(void **state)
{
	static const char *const good[] = {
	        "2030-01-31T12:00:00Z",      "2028-02-29T00:00:00Z",
	        "2000-02-29T23:59:59z",      "2016-12-31T23:59:60Z",
	        "0001-01-01T00:00:00Z",      "9999-12-31T23:59:59.999999999+23:59",
	        "2030-04-30t00:00:00-12:30",
	};
	static const char *const bad[] = {
	        "9999-99-99T99:99:99Z",
	        "0000-00-00T00:00:00Z",
	        "2030-01-01T00:00:00+99:99",
	        "0000-01-01T00:00:00Z",
	        "2030-13-01T00:00:00Z",
	        "2030-00-01T00:00:00Z",
	        "2030-01-00T00:00:00Z",
	        "2030-01-32T00:00:00Z",
	        "2030-02-29T00:00:00Z",
	        "2100-02-29T00:00:00Z",
	        "2030-04-31T00:00:00Z",
	        "2030-01-01T24:00:00Z",
	        "2030-01-01T00:60:00Z",
	        "2030-01-01T00:00:61Z",
	        "2030-01-01T00:00:00+24:00",
	        "2030-01-01T00:00:00-00:60",
	        "2030-01-01T00:00:00.1234567890Z",
	        "2030-01-01T00:00:00",
	        "2030-01-01 00:00:00Z",
	        "now",
	};
	struct api_error e;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (start_at(good[i], &e) != FUOTA_OK)
			fail_msg("%s refused: %s", good[i], e.message);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (start_at(bad[i], &e) == FUOTA_OK)
			fail_msg("%s accepted", bad[i]);
		assert_int_equal(e.status, 400);
		assert_string_equal(e.field, "start_at");
	}
}

static void test_text_valid(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		bool ok;
	} cases[] = {
	        {"", 0, true},
	        {"plain", 5, true},
	        {"caf\xc3\xa9", 5, true},
	        {"\xe2\x82\xac", 3, true},
	        {"\xf0\x9f\x98\x80", 4, true},
	        {"\xf4\x8f\xbf\xbf", 4, true},  /* U+10FFFF */
	        {"a\0b", 3, false},             /* NUL */
	        {"\xff\xfe", 2, false},         /* never in UTF-8 */
	        {"\xc3", 1, false},             /* truncated */
	        {"\xf0\x9f\x98", 3, false},     /* truncated */
	        {"\xc0\xaf", 2, false},         /* overlong '/' */
	        {"\xe0\x80\xaf", 3, false},     /* overlong */
	        {"\xf0\x80\x80\xaf", 4, false}, /* overlong */
	        {"\xed\xa0\x80", 3, false},     /* surrogate U+D800 */
	        {"\xf4\x90\x80\x80", 4, false}, /* past U+10FFFF */
	        {"\x80", 1, false},             /* lone continuation */
	        {"\xc3\x28", 2, false},         /* bad continuation */
	};
	char cut[] = "abc\xc3\xa9\xc3";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (api_text_valid(cases[i].s, cases[i].len) != cases[i].ok)
			fail_msg("case %zu: expected %s", i, cases[i].ok ? "valid" : "invalid");
	api_text_cut(cut);
	assert_string_equal(cut, "abc\xc3\xa9");
}

static void test_form_check(void **state)
{
	struct mp_part p[3];
	struct api_error e;

	(void)state;
	memset(p, 0, sizeof(p));
	snprintf(p[0].name, sizeof(p[0].name), "name");
	p[0].data = (const uint8_t *)"fw";
	p[0].len = 2;
	snprintf(p[1].name, sizeof(p[1].name), "file");
	snprintf(p[1].filename, sizeof(p[1].filename), "a.bin");
	p[1].data = (const uint8_t *)"\xff\x00\xfe";
	p[1].len = 3;
	p[2] = p[1];
	assert_int_equal(api_form_check(p, 2, "file", &e), FUOTA_OK); /* binary file: fine */
	/* the binary file's part is not text when it is not the file part */
	assert_int_not_equal(api_form_check(p, 2, NULL, &e), FUOTA_OK);
	assert_string_equal(e.field, "file");
	assert_int_not_equal(api_form_check(p, 3, "file", &e), FUOTA_OK); /* file twice */
	assert_string_equal(e.field, "file");
	assert_non_null(strstr(e.message, "twice"));
	snprintf(p[1].filename, sizeof(p[1].filename), "\xff\xfe.bin");
	assert_int_not_equal(api_form_check(p, 2, "file", &e), FUOTA_OK);
	assert_string_equal(e.field, "file");
	p[0].data = (const uint8_t *)"\xff";
	p[0].len = 1;
	assert_int_not_equal(api_form_check(p, 1, "file", &e), FUOTA_OK);
	assert_string_equal(e.field, "name");
	assert_int_equal(e.status, 400);
}

static void job(struct job_params *p, const char *region, unsigned dr, uint64_t freq, char cls)
{
	job_params_init(p);
	snprintf(p->region, sizeof(p->region), "%s", region);
	p->data_rate = dr;
	p->frequency_hz = freq;
	p->multicast_class = cls;
	p->redundancy_percent = 10;
	p->unicast_timeout_s = 60;
	p->unicast_attempts = 3;
}

static void test_plan(void **state)
{
	struct job_params p;
	struct job_plan pl;
	struct api_error e;

	(void)state;
	/* EU868 DR5 (N 242): 65536 bytes -> 275 fragments of 239, 28 parity. */
	job(&p, "EU868", 5, 869525000, 'C');
	assert_int_equal(plan_compute(&p, 65536, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.fragment_size, 239);
	assert_int_equal(pl.nb_frag, 275);
	assert_int_equal(pl.padding, 275 * 239 - 65536);
	assert_int_equal(pl.redundancy, 28);
	assert_int_equal(pl.total_frames, 303);
	assert_true(pl.frame_airtime_us > 300000 && pl.frame_airtime_us < 500000);
	/* 10 % sub-band: each frame occupies 10x its airtime. */
	assert_true(pl.multicast_s * 1000000 >= 303 * pl.frame_airtime_us * 10);
	assert_int_equal(pl.mc_timeout_s, 1u << pl.mc_timeout_exp);
	assert_true(pl.mc_timeout_s >= pl.multicast_s && pl.mc_timeout_s / 2 < pl.multicast_s);
	assert_int_equal(pl.unicast_s, 3 * 3 * 60);

	/* Class B, periodicity 7: one ping slot per 128 s beacon period. */
	job(&p, "EU868", 3, 869525000, 'B');
	p.ping_slot_periodicity = 7;
	p.redundancy_percent = -1;
	p.redundancy_frames = 0;
	assert_int_equal(plan_compute(&p, 1150, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.fragment_size, 115 - 3);
	assert_int_equal(pl.nb_frag, 11);
	assert_int_equal(pl.multicast_s, (11 + 1) * 128);
	assert_int_equal(pl.mc_timeout_s, 128u << pl.mc_timeout_exp);

	/* Errors name their field. */
	job(&p, "EU868", 5, 869525000, 'C');
	p.fragment_size = 240;
	assert_int_not_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "fragment_size");
	job(&p, "EU868", 5, 915000000, 'C');
	assert_int_not_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "frequency_hz");
	job(&p, "US915", 3, 923300000, 'C');
	assert_int_not_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "data_rate");
	job(&p, "EU868", 0, 869525000, 'C');
	assert_int_not_equal(plan_compute(&p, 16000 * 48, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "redundancy_percent"); /* 16000 + 1600 > 16383 */
	assert_int_not_equal(plan_compute(&p, 20000 * 48, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "firmware_id");
	assert_non_null(strstr(e.message, "split the image into 2 parts"));
	job(&p, "EU868", 5, 869525000, 'C');
	p.multicast_timeout_s = 10;
	assert_int_not_equal(plan_compute(&p, 65536, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "multicast_timeout_s");
	job(&p, "EU868", 5, 869525000, 'C');
	assert_int_not_equal(plan_compute(&p, 0, &pl, &e), FUOTA_OK);
}

/* A client's bytes in a log line: nothing that ends the line or forges another one. */
static void test_log_escape(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
	        {"/api/v1/jobs", 12, "/api/v1/jobs"},
	        {"/a\nINFO forged", 14, "/a\\x0aINFO forged"},
	        {"/a\r\n\t\x1b[0m", 9, "/a\\x0d\\x0a\\x09\\x1b[0m"},
	        {"a\0b", 3, "a\\x00b"},
	        {"\\x0a", 4, "\\\\x0a"}, /* a literal backslash reads back apart from an escape */
	        {"\x7f\xc3\xa9\xff", 4, "\\x7f\\xc3\\xa9\\xff"},
	        {"", 0, ""},
	};
	char out[64], small[12];
	char buf[4096] = {0};
	FILE *f;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(log_escape(cases[i].in, cases[i].len, out, sizeof(out)),
		                    cases[i].out);
	/* Cut between escapes, with "..." and within cap. */
	assert_string_equal(log_escape("abcdefghijklmnop", 16, small, sizeof(small)),
	                    "abcdefgh...");
	assert_string_equal(log_escape("ab\n\n\n", 5, small, sizeof(small)), "ab\\x0a...");
	assert_string_equal(log_escape("abcdefghijk", 11, small, sizeof(small)), "abcdefghijk");
	/* The text sink keeps a message with a raw line feed on one line. */
	f = tmpfile();
	assert_non_null(f);
	log_setup(LOG_LVL_DEBUG, false, f);
	log_write(LOG_LVL_INFO, "GET %s", "/x\n2030-01-01T00:00:00.000Z INFO forged");
	log_setup(LOG_LVL_INFO, false, NULL);
	rewind(f);
	assert_true(fread(buf, 1, sizeof(buf) - 1, f) > 0);
	fclose(f);
	assert_non_null(strstr(buf, "GET /x\\x0a2030"));
	assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

/* Bodies jansson refuses: the 400 names the member the error is in, as the decoders' own 400s
 * do, and the top level names none. */
static void test_json_error_field(void **state)
{
	static const struct {
		const char *body;
		const char *code, *field; /* field "" = none */
	} cases[] = {
	        {"{\"name\":\"a\\u0000b\",\"x\":1}", "invalid_field", "name"},
	        {"{\"name\":\"\\u0000\"}", "invalid_field", "name"},
	        {"{\"n\" : 99999999999999999999 ,\"x\":1}", "invalid_field", "n"},
	        {"{\"n\":9223372036854775808}", "invalid_field", "n"},
	        {"{\"n\":-9223372036854775809}", "invalid_field", "n"},
	        {"{\"n\":1e400}", "invalid_field", "n"},
	        {"{\"packages\":{\"ts003\":99999999999999999999}}", "invalid_field",
	         "packages.ts003"},
	        {"{\"devices\":[\"00000000000000a1\",\"a\\u0000\"]}", "invalid_field", "devices"},
	        {"{\"a\":[{},[1,{\"b\":\"\\u0000\"}]]}", "invalid_field", "a.b"},
	        {"{\"na\\u006de\":\"\\u0000\"}", "invalid_field", "name"},
	        {"{\"x\":{},\"a\":tru}", "malformed_json", "a"},
	        {"{\"a\":}", "malformed_json", "a"},
	        {"{\"a\":01}", "malformed_json", "a"},
	        {"{\"a\":\"\\ud800\"}", "malformed_json", "a"},
	        {"{\"a\":\"\xff\"}", "malformed_json", "a"},
	        {"{\"a\":[1 2]}", "malformed_json", "a"},
	        {"{\"a\":1 \"b\":2}", "malformed_json", ""},
	        {"{\"a\":1,}", "malformed_json", ""},
	        {"{\"a\\u0000\":1}", "malformed_json", "a\\u0000"}, /* the key as sent */
	        {"{\"a\":1,\"a\":2}", "malformed_json", "a"},
	        {"{\"p\":{\"b\":1,\"b\":2}}", "malformed_json", "p.b"},
	        {"99999999999999999999", "malformed_json", ""},
	        {"\"\\u0000\"", "malformed_json", ""},
	        {"{", "malformed_json", ""},
	        {"{}{}", "malformed_json", ""},
	};
	char deep[6000];
	struct api_error e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_null(api_parse_object(cases[i].body, strlen(cases[i].body), &e));
		printf("%s -> %s %s: %s\n", cases[i].body, e.code, e.field, e.message);
		assert_int_equal(e.status, 400);
		assert_string_equal(e.code, cases[i].code);
		assert_string_equal(e.field, cases[i].field);
	}
	/* Past jansson's depth limit, inside a member: named, without a walk past the limit. */
	snprintf(deep, sizeof(deep), "{\"a\":");
	memset(deep + 5, '[', 5000);
	deep[5005] = 0;
	assert_null(api_parse_object(deep, strlen(deep), &e));
	assert_string_equal(e.field, "a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cfg_file_and_env),
	        cmocka_unit_test(test_cbox),
	        cmocka_unit_test(test_multipart),
	        cmocka_unit_test(test_multipart_disposition),
	        cmocka_unit_test(test_start_at),
	        cmocka_unit_test(test_text_valid),
	        cmocka_unit_test(test_form_check),
	        cmocka_unit_test(test_plan),
	        cmocka_unit_test(test_log_escape),
	        cmocka_unit_test(test_json_error_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
