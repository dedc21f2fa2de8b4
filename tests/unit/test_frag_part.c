/* The part Descriptor of an image carried over several fragmentation sessions (frag_part.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/frag_part.h"

static void test_round_trip(void **state)
{
	struct frag_part p = {.index = 2, .count = 5, .full_frags = 0x1234}, q;
	uint8_t d[FRAG_PART_DESC_LEN];
	const uint8_t want[FRAG_PART_DESC_LEN] = {0x02, 0x05, 0x34, 0x12};

	(void)state;
	assert_int_equal(frag_part_encode(&p, d), FUOTA_OK);
	assert_memory_equal(d, want, sizeof(want));
	assert_int_equal(frag_part_decode(d, &q), FUOTA_OK);
	assert_int_equal(q.index, 2);
	assert_int_equal(q.count, 5);
	assert_int_equal(q.full_frags, 0x1234);
	assert_false(frag_part_is_last(&q));
	q.index = 4;
	assert_true(frag_part_is_last(&q));
	/* part 2 of parts of 0x1234 fragments of 50 bytes */
	assert_int_equal(frag_part_offset(&p, 50), 2ull * 0x1234 * 50);
}

static void test_whole_image(void **state)
{
	const uint8_t zero[FRAG_PART_DESC_LEN] = {0};
	struct frag_part p = {.index = 9, .count = 9, .full_frags = 9}, none = {0};
	uint8_t d[FRAG_PART_DESC_LEN] = {1, 2, 3, 4};

	(void)state;
	assert_int_equal(frag_part_decode(zero, &p), FUOTA_OK);
	assert_int_equal(p.count, 0);
	assert_true(frag_part_is_last(&p));
	assert_int_equal(frag_part_offset(&p, 200), 0);
	assert_int_equal(frag_part_encode(&none, d), FUOTA_OK);
	assert_memory_equal(d, zero, sizeof(zero));
}

static void test_refused(void **state)
{
	static const uint8_t bad[][FRAG_PART_DESC_LEN] = {
	        {0x00, 0x00, 0x01, 0x00}, /* P = 0 with F set */
	        {0x01, 0x00, 0x00, 0x00}, /* P = 0 with k set */
	        {0x03, 0x03, 0x10, 0x00}, /* k = P */
	        {0x00, 0x02, 0x00, 0x00}, /* F = 0 */
	        {0x00, 0x02, 0x00, 0x40}, /* F = 16384 */
	        {0xff, 0x01, 0xff, 0xff},
	};
	struct frag_part p = {.index = 7, .count = 8, .full_frags = 1}, q = p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(frag_part_decode(bad[i], &q), FUOTA_ERR_MALFORMED);
		assert_int_equal(q.index, 7); /* untouched */
	}
	p.index = 8;
	assert_int_equal(frag_part_encode(&p, (uint8_t[4]){0}), FUOTA_ERR_INVALID_ARG);
	p.index = 0;
	p.full_frags = 16384;
	assert_int_equal(frag_part_encode(&p, (uint8_t[4]){0}), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_part_decode(NULL, &q), FUOTA_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_whole_image),
	        cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
