/* The store's one builder of PostgreSQL array literals (server/store/src/store_array.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "store_array.h"

static void test_empty_and_ints(void **state)
{
	struct store_array a;
	char *out = NULL;

	(void)state;
	store_array_init(&a, STORE_ARRAY_MAX);
	assert_int_equal(store_array_end(&a, &out), FUOTA_OK);
	assert_string_equal(out, "{}");
	free(out);
	store_array_init(&a, STORE_ARRAY_MAX);
	store_array_i64(&a, INT64_MIN);
	store_array_i64(&a, 0);
	store_array_i64(&a, 4294967295);
	assert_int_equal(store_array_end(&a, &out), FUOTA_OK);
	assert_string_equal(out, "{-9223372036854775808,0,4294967295}");
	free(out);
}

/* Every text is one element, whatever it holds; NULL is SQL NULL, "NULL" is a string. */
static void test_text_quoting(void **state)
{
	static const char *const in[] = {"a",   "",   "b,c",  "d\"e", "f\\g",
	                                 "{h}", NULL, "NULL", " i "};
	struct store_array a;
	char *out = NULL;

	(void)state;
	store_array_init(&a, STORE_ARRAY_MAX);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		store_array_text(&a, in[i]);
	assert_int_equal(store_array_end(&a, &out), FUOTA_OK);
	assert_string_equal(out, "{\"a\",\"\",\"b,c\",\"d\\\"e\",\"f\\\\g\",\"{h}\",NULL,\"NULL\","
	                         "\" i \"}");
	free(out);
}

/* Ten thousand DevEUIs: the buffer grows, nothing is lost. */
static void test_grows(void **state)
{
	struct store_array a;
	char eui[17], want[24], *out = NULL;
	size_t n = 10000;

	(void)state;
	store_array_init(&a, STORE_ARRAY_MAX);
	for (size_t i = 0; i < n; i++) {
		snprintf(eui, sizeof(eui), "%016zx", i);
		store_array_text(&a, eui);
	}
	assert_int_equal(store_array_end(&a, &out), FUOTA_OK);
	assert_int_equal(strlen(out), 2 + n * 18 + (n - 1));
	assert_memory_equal(out, "{\"0000000000000000\",", 20);
	snprintf(want, sizeof(want), ",\"%016zx\"}", n - 1);
	assert_string_equal(out + strlen(out) - strlen(want), want);
	free(out);
}

/* A literal longer than its limit is refused whole, never cut: the exact fit passes, one
 * character less fails, and the error sticks through later appends. */
static void test_refuses_truncation(void **state)
{
	struct store_array a;
	char *out = (char *)"x";

	(void)state;
	store_array_init(&a, 12); /* {"abcdefgh"} */
	store_array_text(&a, "abcdefgh");
	assert_int_equal(store_array_end(&a, &out), FUOTA_OK);
	assert_string_equal(out, "{\"abcdefgh\"}");
	free(out);
	store_array_init(&a, 11);
	store_array_text(&a, "abcdefgh");
	assert_int_equal(store_array_end(&a, &out), FUOTA_ERR_NO_SPACE);
	assert_null(out);
	store_array_init(&a, 8);
	store_array_text(&a, "abcdefgh");
	assert_int_equal(a.rc, FUOTA_ERR_NO_SPACE);
	store_array_i64(&a, 1);
	store_array_text(&a, NULL);
	assert_int_equal(a.len, 0);
	assert_int_equal(store_array_end(&a, &out), FUOTA_ERR_NO_SPACE);
	assert_null(out);
	/* The closing brace counts too. */
	store_array_init(&a, 4);
	store_array_i64(&a, 123);
	assert_int_equal(store_array_end(&a, &out), FUOTA_ERR_NO_SPACE);
	assert_null(out);
	store_array_init(&a, 1);
	assert_int_equal(store_array_end(&a, &out), FUOTA_ERR_NO_SPACE);
	assert_null(out);
}

/* DevEUIs are checked before they go into a literal: 16 lowercase hex digits each. */
static void test_dev_euis(void **state)
{
	const char good[2][17] = {"0011223344556677", "8899aabbccddeeff"};
	const char upper[1][17] = {"001122334455667A"};
	const char shorter[1][17] = {"00112233"};
	char *out = NULL, other = 0;

	(void)state;
	assert_int_equal(store_array_dev_euis(good, 2, &out), FUOTA_OK);
	assert_string_equal(out, "{\"0011223344556677\",\"8899aabbccddeeff\"}");
	free(out);
	assert_int_equal(store_array_dev_euis(good, 0, &out), FUOTA_OK);
	assert_string_equal(out, "{}");
	free(out);
	out = &other;
	assert_int_equal(store_array_dev_euis(shorter, 1, &out), FUOTA_ERR_INVALID_ARG);
	assert_null(out);
	assert_int_equal(store_array_dev_euis(upper, 1, &out), FUOTA_ERR_INVALID_ARG);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_empty_and_ints), cmocka_unit_test(test_text_quoting),
	        cmocka_unit_test(test_grows),          cmocka_unit_test(test_refuses_truncation),
	        cmocka_unit_test(test_dev_euis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
