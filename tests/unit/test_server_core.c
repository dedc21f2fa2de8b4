/* Pure pieces of fuotad: configuration (file + environment), AES-256-GCM boxes and tokens,
 * multipart parsing and the job plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuota/cbox.h"
#include "fuota/cfg.h"
#include "fuota/err.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cfg_file_and_env),
	        cmocka_unit_test(test_cbox),
	        cmocka_unit_test(test_multipart),
	        cmocka_unit_test(test_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
