/* What a client is told for a store or engine return code (fuota/api_error.h): the database
 * out of reach is 503 with a Retry-After, any other failure of ours 500; and which database
 * failures are an outage (fuota/db_error.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/api_error.h"
#include "fuota/db_error.h"
#include "fuota/err.h"

static void test_from_rc(void **state)
{
	static const struct {
		int rc;
		int status;
		const char *code;
		unsigned retry_after_s;
	} cases[] = {
	        {FUOTA_ERR_UNAVAILABLE, 503, "database_unavailable", API_RETRY_AFTER_S},
	        {FUOTA_ERR_IO, 500, "internal", 0},
	        {FUOTA_ERR_NO_MEMORY, 500, "internal", 0},
	        {FUOTA_ERR_TIMEOUT, 500, "internal", 0},
	        {FUOTA_ERR_NOT_FOUND, 404, "not_found", 0},
	        {FUOTA_ERR_CONFLICT, 409, "conflict", 0},
	        {FUOTA_ERR_STATE, 409, "invalid_state", 0},
	        {-999, 500, "internal", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct api_error e;

		memset(&e, 0x5a, sizeof(e)); /* every field must be set */
		assert_int_equal(api_error_from_rc(&e, cases[i].rc, "job"), cases[i].status);
		assert_int_equal(e.status, cases[i].status);
		assert_string_equal(e.code, cases[i].code);
		assert_string_equal(e.field, "");
		assert_int_equal(e.retry_after_s, cases[i].retry_after_s);
		assert_true(strlen(e.message) > 0);
	}
	assert_true(API_RETRY_AFTER_S >= 1 && API_RETRY_AFTER_S <= 30);
}

/* Every 503 has one shape: its code, a message and a Retry-After of API_RETRY_AFTER_S. */
static void test_unavailable(void **state)
{
	struct api_error e;

	(void)state;
	memset(&e, 0x5a, sizeof(e)); /* every field must be set */
	assert_int_equal(api_error_unavailable(&e, "not_ready", "the %s is away", "database"), 503);
	assert_int_equal(e.status, 503);
	assert_string_equal(e.code, "not_ready");
	assert_string_equal(e.field, "");
	assert_string_equal(e.message, "the database is away");
	assert_int_equal(e.retry_after_s, API_RETRY_AFTER_S);
}

/* An error set for a 4xx after a 503 in the same struct sends no Retry-After. */
static void test_set_clears_retry(void **state)
{
	struct api_error e;

	(void)state;
	api_error_from_rc(&e, FUOTA_ERR_UNAVAILABLE, "job");
	assert_int_equal(api_error_field(&e, "name", "bad"), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(e.status, 400);
	assert_int_equal(e.retry_after_s, 0);
}

static void test_db_error(void **state)
{
	static const struct {
		const char *sqlstate;
		bool conn_ok;
		int rc;
	} cases[] = {
	        /* the connection gone: whatever the server said last */
	        {NULL, false, FUOTA_ERR_UNAVAILABLE},
	        {"", false, FUOTA_ERR_UNAVAILABLE},
	        {"23505", false, FUOTA_ERR_UNAVAILABLE},
	        /* class 08, connection exception */
	        {"08000", true, FUOTA_ERR_UNAVAILABLE},
	        {"08003", true, FUOTA_ERR_UNAVAILABLE},
	        {"08006", true, FUOTA_ERR_UNAVAILABLE},
	        {"08P01", true, FUOTA_ERR_UNAVAILABLE},
	        /* admin_shutdown, crash_shutdown, cannot_connect_now */
	        {"57P01", true, FUOTA_ERR_UNAVAILABLE},
	        {"57P02", true, FUOTA_ERR_UNAVAILABLE},
	        {"57P03", true, FUOTA_ERR_UNAVAILABLE},
	        /* the statement's or the data's: ours to fix */
	        {"57014", true, FUOTA_ERR_IO}, /* query_canceled */
	        {"57P04", true, FUOTA_ERR_IO}, /* database_dropped */
	        {"22008", true, FUOTA_ERR_IO}, /* datetime_field_overflow */
	        {"23505", true, FUOTA_ERR_IO},
	        {"42P01", true, FUOTA_ERR_IO},
	        {"XX000", true, FUOTA_ERR_IO},
	        {"0800", true, FUOTA_ERR_IO}, /* not a SQLSTATE */
	        {"080000", true, FUOTA_ERR_IO},
	        {"", true, FUOTA_ERR_IO},
	        {NULL, true, FUOTA_ERR_IO},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(db_error_rc(cases[i].sqlstate, cases[i].conn_ok), cases[i].rc);
	assert_string_equal(fuota_strerror(FUOTA_ERR_UNAVAILABLE), "service unavailable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_from_rc),
	        cmocka_unit_test(test_unavailable),
	        cmocka_unit_test(test_set_clears_retry),
	        cmocka_unit_test(test_db_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
