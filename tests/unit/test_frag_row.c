/* frag_row_line: the TS004 PRBS23 parity lines against PROTOCOL-NOTES §4.7 (v1, v2 relative, the
 * M = 26 table, the M = 16 n = 3 sets) and §4.8 (the M = 21 interop lines), the weight rules, and
 * a straight transcription of the §4.4 pseudo-code (this file's own oracle) for seeds above 2^23.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/frag_row.h"

#define MAX_M 20000u

/* §4.4 pseudo-code, one byte per fragment, written independently of frag_row.c. n may be 0 (the
 * M = 26 table's entry 0). */
static uint32_t oracle_line(uint32_t m, uint32_t n, int distinct, uint8_t *line)
{
	uint32_t mm = (m != 0 && (m & (m - 1)) == 0) ? 1 : 0;
	uint32_t x = 1 + 1001 * n, nb_coeff = 0, weight = 0;

	memset(line, 0, m);
	while (nb_coeff < m / 2) {
		uint32_t r = 1u << 16;

		while (r >= m) {
			uint32_t b0 = x & 1, b1 = (x >> 5) & 1;

			x = (x >> 1) + ((b0 ^ b1) << 22);
			r = x % (m + mm);
		}
		if (distinct && line[r])
			continue;
		if (!line[r])
			weight++;
		line[r] = 1;
		nb_coeff++;
	}
	return weight;
}

static int line_bit(const uint64_t *line, uint32_t x)
{
	return (int)((line[x / 64] >> (x % 64)) & 1u);
}

/* Checks frag_row_line(code, n) against a string of '0'/'1' (character x = fragment x). */
static void expect_line_str(uint32_t m, enum frag_version v, enum frag_seed seed, uint32_t n,
                            const char *want)
{
	struct frag_code code = {.nb_frag = m, .version = v, .seed = seed};
	uint64_t line[4];

	assert_int_equal(strlen(want), m);
	assert_int_equal(frag_row_line(&code, n, line, 4, NULL), FUOTA_OK);
	for (uint32_t x = 0; x < m; x++)
		assert_int_equal(line_bit(line, x), want[x] == '1');
}

static const char *const v1_lines[10] = {"0010010000", "1010110001", "0101011100", "1110100000",
                                         "0001010110", "0101110000", "0000101110", "0000101011",
                                         "0100110011", "0000100011"};
static const char *const v2_lines[10] = {"0111010001", "1010110001", "0101011100", "1110100001",
                                         "0001110110", "0101110100", "0001101110", "0000101111",
                                         "0100110011", "0001101011"};

static void test_m10_v1_v2_relative(void **state)
{
	(void)state;
	for (uint32_t n = 1; n <= 10; n++) {
		expect_line_str(10, FRAG_V1, FRAG_SEED_RELATIVE, n, v1_lines[n - 1]);
		expect_line_str(10, FRAG_V2, FRAG_SEED_RELATIVE, n, v2_lines[n - 1]);
	}
}

/* Absolute seed: row n of M = 10 is the relative line of index N = 10 + n. */
static void test_m10_v2_absolute_is_shifted_relative(void **state)
{
	struct frag_code rel = {.nb_frag = 10, .version = FRAG_V2, .seed = FRAG_SEED_RELATIVE};
	struct frag_code abs = {.nb_frag = 10, .version = FRAG_V2, .seed = FRAG_SEED_ABSOLUTE};
	uint64_t a[1], b[1];

	(void)state;
	for (uint32_t n = 1; n <= 10; n++) {
		assert_int_equal(frag_row_line(&abs, n, a, 1, NULL), FUOTA_OK);
		assert_int_equal(frag_row_line(&rel, 10 + n, b, 1, NULL), FUOTA_OK);
		assert_true(a[0] == b[0]);
	}
}

static void test_m26_table(void **state)
{
	static const uint32_t table[26] = {
	        0x1555554, 0x1A331CB, 0x3F2C620, 0x00B94FA, 0x1A022C3, 0x04FA190, 0x24A6A64,
	        0x0A69653, 0x010AC9F, 0x0E6A191, 0x0A24D8C, 0x3D04916, 0x2808E37, 0x02158E8,
	        0x2846A9A, 0x00C885C, 0x206DC78, 0x1469920, 0x0372542, 0x0152397, 0x3F16201,
	        0x144288C, 0x1B71504, 0x2B31230, 0x2017E2E, 0x02520C1};
	struct frag_code code = {.nb_frag = 26, .version = FRAG_V1};
	uint8_t o[26];
	uint64_t line[1];

	(void)state;
	/* entry 0 (n = 0, never sent) checks the oracle itself */
	oracle_line(26, 0, 0, o);
	for (uint32_t x = 0; x < 26; x++)
		assert_int_equal(o[x], (table[0] >> x) & 1u);
	for (uint32_t n = 1; n < 26; n++) {
		assert_int_equal(frag_row_line(&code, n, line, 1, NULL), FUOTA_OK);
		assert_true(line[0] == table[n]);
	}
}

static void expect_ones(uint32_t m, enum frag_version v, uint32_t n, const uint32_t *ones,
                        size_t count, uint32_t base)
{
	struct frag_code code = {.nb_frag = m, .version = v};
	uint64_t line[1];
	uint32_t weight = 0;
	uint64_t want = 0;

	for (size_t i = 0; i < count; i++)
		want |= (uint64_t)1 << (ones[i] - base);
	assert_int_equal(frag_row_line(&code, n, line, 1, &weight), FUOTA_OK);
	assert_true(line[0] == want);
	assert_int_equal(weight, count);
}

static void test_m16_n3_sets(void **state)
{
	static const uint32_t v1[] = {1, 2, 3, 9, 11, 13, 14};    /* 1-based */
	static const uint32_t v2[] = {1, 2, 3, 6, 9, 11, 13, 14}; /* force-full-r */

	(void)state;
	expect_ones(16, FRAG_V1, 3, v1, sizeof(v1) / sizeof(v1[0]), 1);
	expect_ones(16, FRAG_V2, 3, v2, sizeof(v2) / sizeof(v2[0]), 1);
}

static void test_m21_interop_lines(void **state)
{
	static const uint32_t l1[] = {6, 9, 10, 13, 19};
	static const uint32_t l2[] = {1, 4, 9, 12, 13, 16, 18};
	static const uint32_t l3[] = {0, 1, 3, 5, 6, 10, 14, 18};
	static const uint32_t l4[] = {0, 2, 5, 7, 11, 14, 17, 18};
	static const uint32_t l5[] = {1, 3, 4, 6, 7, 12, 13, 16};

	(void)state;
	expect_ones(21, FRAG_V1, 1, l1, 5, 0);
	expect_ones(21, FRAG_V1, 2, l2, 7, 0);
	expect_ones(21, FRAG_V1, 3, l3, 8, 0);
	expect_ones(21, FRAG_V1, 4, l4, 8, 0);
	expect_ones(21, FRAG_V1, 5, l5, 8, 0);
}

/* v2 rows have exactly floor(M/2) ones, v1 rows at most that; both equal the oracle, including
 * seeds above 2^23 (n > 8380) where prbs23's addition carries past bit 22. */
static void test_weights_and_oracle(void **state)
{
	static const uint32_t ms[] = {1,  2,  3,   4,   5,   7,    8,    16,
	                              21, 64, 100, 255, 256, 1000, 1024, 4097};
	static const uint32_t ns[] = {1, 2, 3, 77, 8380, 8381, 8382, 9000, 12000, 16382, 100000};
	static uint64_t line[MAX_M / 64 + 1];
	static uint8_t o[MAX_M];

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++) {
			for (int v = 1; v <= 2; v++) {
				struct frag_code code = {.nb_frag = ms[i],
				                         .version = (enum frag_version)v};
				uint32_t weight = 0, ow;

				assert_int_equal(frag_row_line(&code, ns[j], line,
				                               frag_line_words(ms[i]), &weight),
				                 FUOTA_OK);
				ow = oracle_line(ms[i], ns[j], v == 2, o);
				assert_int_equal(weight, ow);
				if (v == 2)
					assert_int_equal(weight, ms[i] / 2);
				else
					assert_true(weight <= ms[i] / 2);
				for (uint32_t x = 0; x < ms[i]; x++)
					assert_int_equal(line_bit(line, x), o[x]);
			}
		}
	}
}

/* Masking prbs23 to 23 bits would be wrong above 2^23: show that some row there differs from
 * the masked variant, so the carry case is really exercised. */
static void test_carry_matters(void **state)
{
	struct frag_code code = {.nb_frag = 1000, .version = FRAG_V1};
	static uint64_t line[16];
	int differs = 0;

	(void)state;
	for (uint32_t n = 8381; n < 8400 && !differs; n++) {
		uint32_t x = 1 + 1001 * n, got = 0;
		uint64_t masked[16] = {0};

		assert_int_equal(frag_row_line(&code, n, line, 16, NULL), FUOTA_OK);
		while (got < 500) {
			uint32_t r;

			do {
				x = ((x >> 1) | (((x ^ (x >> 5)) & 1u) << 22)) & 0x7fffff;
				r = x % 1000;
			} while (r >= 1000);
			masked[r / 64] |= (uint64_t)1 << (r % 64);
			got++;
		}
		differs = memcmp(masked, line, sizeof(masked)) != 0;
	}
	assert_true(differs);
}

static void test_bad_arguments(void **state)
{
	struct frag_code code = {.nb_frag = 100, .version = FRAG_V2, .seed = FRAG_SEED_ABSOLUTE};
	struct frag_code bad = {.nb_frag = 0, .version = FRAG_V1};
	uint64_t line[2];

	(void)state;
	assert_int_equal(frag_row_line(&code, 0, line, 2, NULL), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_row_line(&code, 1, line, 1, NULL), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_row_line(&code, 1, NULL, 2, NULL), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_row_line(&bad, 1, line, 2, NULL), FUOTA_ERR_INVALID_ARG);
	/* seed 1 + 1001 * (M + n) must fit 32 bits */
	assert_int_equal(frag_row_line(&code, 4290676u - 100u, line, 2, NULL), FUOTA_OK);
	assert_int_equal(frag_row_line(&code, 4290677u - 100u, line, 2, NULL),
	                 FUOTA_ERR_INVALID_ARG);
	code.version = (enum frag_version)3;
	assert_int_equal(frag_code_check(&code), FUOTA_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_m10_v1_v2_relative),
	        cmocka_unit_test(test_m10_v2_absolute_is_shifted_relative),
	        cmocka_unit_test(test_m26_table),
	        cmocka_unit_test(test_m16_n3_sets),
	        cmocka_unit_test(test_m21_interop_lines),
	        cmocka_unit_test(test_weights_and_oracle),
	        cmocka_unit_test(test_carry_matters),
	        cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
