/* fuotad's configuration (fuota/cfg.h): the file, the environment over it, ranges and the master
 * key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuota/cfg.h"
#include "fuota/err.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cfg_file_and_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
