/* multipart/form-data (fuota/multipart.h): the boundary, the parts, Content-Disposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/multipart.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_multipart),
	        cmocka_unit_test(test_multipart_disposition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
