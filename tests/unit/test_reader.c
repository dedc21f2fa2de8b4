/* fuota/reader.h: every read checks its length first and records the first short field; the
 * TS004-style whole-command report; out-of-range refusals; unknown CIDs; empty payloads; a NULL
 * error record; the one-line messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/reader.h"

/* CID 0x05 at offset 2, then 01 | 02 03 | 04 05 06 | 07 08 09 0a | 0b 0c. */
static const uint8_t payload[] = {0xee, 0xff, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05,
                                  0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};

static void test_reads_in_order(void **state)
{
	struct fuota_reader r;
	struct fuota_parse_err err;
	uint8_t cid = 0, u8 = 0, two[2];
	uint16_t u16 = 0;
	uint32_t u24 = 0, u32 = 0;

	(void)state;
	memset(&err, 0xa5, sizeof(err));
	assert_int_equal(fuota_reader_begin(&r, payload, sizeof(payload), 2, &err, &cid), FUOTA_OK);
	assert_int_equal(cid, 0x05);
	assert_int_equal(err.cid, 0x05);
	assert_int_equal(err.offset, 2);
	assert_null(err.command);
	assert_null(err.reason);
	assert_int_equal(fuota_reader_command(&r, "TestCmd", NULL), FUOTA_OK);
	assert_int_equal(fuota_read_u8(&r, "A", &u8), FUOTA_OK);
	assert_int_equal(fuota_read_le16(&r, "B", &u16), FUOTA_OK);
	assert_int_equal(fuota_read_le24(&r, "C", &u24), FUOTA_OK);
	assert_int_equal(fuota_read_le32(&r, "D", &u32), FUOTA_OK);
	assert_int_equal(fuota_read_bytes(&r, "E", two, 2), FUOTA_OK);
	assert_int_equal(u8, 0x01);
	assert_int_equal(u16, 0x0302);
	assert_int_equal(u24, 0x060504);
	assert_int_equal(u32, 0x0a090807u);
	assert_int_equal(two[0], 0x0b);
	assert_int_equal(two[1], 0x0c);
	assert_int_equal(r.pos, sizeof(payload));
	assert_null(err.reason);
}

/* Cutting the payload anywhere makes the field that straddles the cut MALFORMED: it names the
 * field, what it needs and what was left, reads nothing and leaves the position. */
static void test_every_cut(void **state)
{
	static const struct {
		const char *name;
		size_t size;
	} fields[] = {{"A", 1}, {"B", 2}, {"C", 3}, {"D", 4}, {"E", 2}};

	(void)state;
	for (size_t len = 3; len < sizeof(payload); len++) {
		struct fuota_reader r;
		struct fuota_parse_err err;
		uint8_t cid, u8 = 0x77, two[2] = {0x77, 0x77};
		uint16_t u16 = 0x7777;
		uint32_t u32 = 0x7777;
		size_t at = 3, f = 0, before = 0;
		int rc = FUOTA_OK;

		assert_int_equal(fuota_reader_begin(&r, payload, len, 2, &err, &cid), FUOTA_OK);
		fuota_reader_command(&r, "TestCmd", NULL);
		while (at + fields[f].size <= len)
			at += fields[f++].size;
		for (size_t i = 0; i <= f; i++) {
			before = r.pos;
			switch (i) {
			case 0: rc = fuota_read_u8(&r, "A", &u8); break;
			case 1: rc = fuota_read_le16(&r, "B", &u16); break;
			case 2: rc = fuota_read_le24(&r, "C", &u32); break;
			case 3: rc = fuota_read_le32(&r, "D", &u32); break;
			default: rc = fuota_read_bytes(&r, "E", two, 2); break;
			}
		}
		assert_int_equal(rc, FUOTA_ERR_MALFORMED);
		assert_int_equal(r.pos, before);
		assert_string_equal(err.command, "TestCmd");
		assert_string_equal(err.field, fields[f].name);
		assert_string_equal(err.reason, "missing");
		assert_int_equal(err.need, fields[f].size);
		assert_int_equal(err.left, len - at);
		if (f == 0)
			assert_int_equal(u8, 0x77);
		if (f == 4)
			assert_int_equal(two[0], 0x77);
	}
}

/* With the command's length declared, a short field reports that length and what was left after
 * the CID; a span borrows the payload. */
static void test_expect_and_span(void **state)
{
	struct fuota_reader r;
	struct fuota_parse_err err;
	const uint8_t *span = NULL;
	uint8_t cid, b;
	char msg[96];

	(void)state;
	assert_int_equal(fuota_reader_begin(&r, payload, 8, 2, &err, &cid), FUOTA_OK);
	fuota_reader_command(&r, "TestCmd", NULL);
	fuota_reader_expect(&r, 10);
	assert_int_equal(fuota_read_u8(&r, "A", &b), FUOTA_OK);
	assert_int_equal(fuota_read_span(&r, "Span", 2, &span), FUOTA_OK);
	assert_ptr_equal(span, payload + 4);
	assert_int_equal(fuota_read_span(&r, "Rest", 4, &span), FUOTA_ERR_MALFORMED);
	assert_ptr_equal(span, payload + 4);
	assert_int_equal(err.need, 10);
	assert_int_equal(err.left, 5);
	fuota_parse_err_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "TestCmd: missing Rest (10 bytes needed, 5 left)");
}

static void test_fail_unknown_empty(void **state)
{
	struct fuota_reader r;
	struct fuota_parse_err err;
	uint8_t cid = 0x99;
	char msg[96];

	(void)state;
	assert_int_equal(fuota_reader_begin(&r, payload, sizeof(payload), 2, &err, &cid), FUOTA_OK);
	fuota_reader_command(&r, "TestCmd", NULL);
	assert_int_equal(fuota_reader_fail(&r, "N", "out of range (0)"), FUOTA_ERR_MALFORMED);
	assert_int_equal(err.need, 0);
	assert_int_equal(err.left, sizeof(payload) - 3);
	fuota_parse_err_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "TestCmd: N out of range (0)");

	assert_int_equal(fuota_reader_begin(&r, payload, sizeof(payload), 2, &err, &cid), FUOTA_OK);
	assert_int_equal(fuota_reader_command(&r, NULL, NULL), FUOTA_ERR_UNSUPPORTED);
	assert_null(err.command);
	fuota_parse_err_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "CID 0x05 at offset 2: unknown command");
	assert_int_equal(fuota_reader_command(&r, NULL, "v2 only"), FUOTA_ERR_UNSUPPORTED);
	assert_string_equal(err.reason, "v2 only");

	cid = 0x99;
	assert_int_equal(fuota_reader_begin(&r, payload, 2, 2, &err, &cid), FUOTA_ERR_MALFORMED);
	assert_int_equal(cid, 0x99);
	assert_string_equal(err.reason, "empty payload");
	assert_int_equal(fuota_reader_begin(&r, NULL, 4, 0, &err, &cid), FUOTA_ERR_MALFORMED);
	fuota_parse_err_format(NULL, msg, sizeof(msg));
	assert_string_equal(msg, "malformed payload");
	fuota_parse_err_format(&err, msg, 8); /* truncated, still terminated */
	assert_int_equal(strlen(msg), 7);
}

/* A NULL error record: the same return codes, nothing written anywhere. */
static void test_null_err(void **state)
{
	struct fuota_reader r;
	uint8_t cid, b;
	uint32_t v;

	(void)state;
	assert_int_equal(fuota_reader_begin(&r, payload, 5, 2, NULL, &cid), FUOTA_OK);
	assert_int_equal(fuota_reader_command(&r, "TestCmd", NULL), FUOTA_OK);
	assert_int_equal(fuota_read_u8(&r, "A", &b), FUOTA_OK);
	assert_int_equal(fuota_read_le32(&r, "D", &v), FUOTA_ERR_MALFORMED);
	assert_int_equal(fuota_reader_fail(&r, "A", "out of range"), FUOTA_ERR_MALFORMED);
	assert_int_equal(fuota_reader_command(&r, NULL, NULL), FUOTA_ERR_UNSUPPORTED);
	assert_int_equal(fuota_reader_begin(&r, payload, 0, 0, NULL, &cid), FUOTA_ERR_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_reads_in_order),  cmocka_unit_test(test_every_cut),
	        cmocka_unit_test(test_expect_and_span), cmocka_unit_test(test_fail_unknown_empty),
	        cmocka_unit_test(test_null_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
