/* frag_enc_line and frag_enc_line_wide (the encoder's vectorised draws into one bit line, the
 * latter also through a byte map) against frag_row_line, bit for bit, with every kernel set this
 * CPU runs: v1, v2 relative and absolute, M = 1, 2, powers of two
 * (the r == M reject), M + R = 16383 with seeds above 2^23 (the carry phase), v2 absolute up to
 * the last seed index; and its argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/frag_enc.h"

#define MAX_WORDS ((16383u + 63u) / 64u)

static const enum frag_enc_isa isas[] = {FRAG_ENC_ISA_AUTO, FRAG_ENC_ISA_PORTABLE,
                                         FRAG_ENC_ISA_AVX2, FRAG_ENC_ISA_AVX512};

/* enc for code with kernels isa (AUTO: frag_enc_init_lines); false if the CPU lacks them. */
static bool enc_for(struct frag_enc *enc, const struct frag_code *code, enum frag_enc_isa isa)
{
	static uint8_t frags[16383];

	if (isa == FRAG_ENC_ISA_AUTO) {
		assert_int_equal(frag_enc_init_lines(enc, code), FUOTA_OK);
		return true;
	}
	return frag_enc_init(enc, code, 1, frags, code->nb_frag, isa) == FUOTA_OK;
}

static void expect_lines(const struct frag_code *code, uint32_t first, uint32_t count)
{
	static uint64_t wide[(16384u + 64u + 192u + 4160u) / 8u + 16u];
	uint64_t want[MAX_WORDS + 1], got[MAX_WORDS + 1], scratch[FRAG_ENC_LINE_SCRATCH / 8];
	size_t words = frag_line_words(code->nb_frag);
	struct frag_enc enc;

	for (size_t i = 0; i < sizeof(isas) / sizeof(isas[0]); i++) {
		if (!enc_for(&enc, code, isas[i]))
			continue;
		for (uint32_t n = first; n < first + count; n++) {
			assert_int_equal(frag_row_line(code, n, want, words, NULL), FUOTA_OK);
			memset(got, 0xa5, sizeof(got));
			assert_int_equal(frag_enc_line(&enc, n, got, words, scratch), FUOTA_OK);
			assert_memory_equal(got, want, words * 8u);
			assert_int_equal(got[words], 0xa5a5a5a5a5a5a5a5u); /* nothing past words */
			/* wide: the byte map with enough scratch (+ 8: any 8-byte offset) */
			memset(got, 0xa5, sizeof(got));
			assert_true(frag_enc_line_wide_scratch(&enc) <= sizeof(wide) - 8u);
			assert_int_equal(frag_enc_line_wide(&enc, n, got, words, wide + n % 8u,
			                                    frag_enc_line_wide_scratch(&enc)),
			                 FUOTA_OK);
			assert_memory_equal(got, want, words * 8u);
			assert_int_equal(got[words], 0xa5a5a5a5a5a5a5a5u);
			/* one byte short of it: frag_enc_line's way, the same line */
			memset(got, 0, sizeof(got));
			assert_int_equal(frag_enc_line_wide(&enc, n, got, words, wide,
			                                    frag_enc_line_wide_scratch(&enc) - 1u),
			                 FUOTA_OK);
			assert_memory_equal(got, want, words * 8u);
		}
	}
}

static void test_shapes(void **state)
{
	static const uint32_t ms[] = {1,  2,  3,   7,   8,    21,   26,   63,
	                              64, 65, 100, 128, 1000, 1024, 1366, 5243};
	static const struct {
		enum frag_version v;
		enum frag_seed seed;
	} codes[] = {{FRAG_V1, FRAG_SEED_RELATIVE},
	             {FRAG_V2, FRAG_SEED_RELATIVE},
	             {FRAG_V2, FRAG_SEED_ABSOLUTE}};

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		for (size_t c = 0; c < 3; c++) {
			struct frag_code code = {ms[i], codes[c].v, codes[c].seed};

			expect_lines(&code, 1, 12);
			expect_lines(&code, 8370, 24); /* seeds cross 2^23 */
		}
}

/* Whole sessions at the 14-bit limit: rows up to 16383 - M, seeds far above 2^23. */
static void test_session_limit(void **state)
{
	static const uint32_t ms[] = {4096, 8192, 10000};

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		struct frag_code v1 = {ms[i], FRAG_V1, FRAG_SEED_RELATIVE};
		struct frag_code v2 = {ms[i], FRAG_V2, FRAG_SEED_ABSOLUTE};

		expect_lines(&v1, 16383u - ms[i] - 40u, 40);
		expect_lines(&v2, 16383u - ms[i] - 40u, 40);
	}
}

static void test_bad_arguments(void **state)
{
	uint64_t line[MAX_WORDS], scratch[FRAG_ENC_LINE_SCRATCH / 8];
	struct frag_code code = {100, FRAG_V2, FRAG_SEED_ABSOLUTE};
	struct frag_code bad = {0, FRAG_V1, FRAG_SEED_RELATIVE};
	struct frag_enc enc;

	(void)state;
	assert_int_equal(frag_enc_init_lines(&enc, &bad), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_init_lines(NULL, &code), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_init_lines(&enc, &code), FUOTA_OK);
	assert_int_equal(frag_enc_line(&enc, 0, line, 2, scratch), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_line(&enc, 1, line, 1, scratch), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_line(&enc, 1, NULL, 2, scratch), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_line(&enc, 1, line, 2, NULL), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_line(&enc, FRAG_ENC_MAX_SEED_INDEX - 100u, line, 2, scratch),
	                 FUOTA_OK);
	assert_int_equal(frag_enc_line(&enc, FRAG_ENC_MAX_SEED_INDEX - 99u, line, 2, scratch),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_line(&enc, UINT32_MAX - 50u, line, 2, scratch),
	                 FUOTA_ERR_INVALID_ARG); /* M + n wraps */
	assert_int_equal(frag_enc_line_wide(&enc, 1, line, 2, scratch, FRAG_ENC_LINE_SCRATCH - 1u),
	                 FUOTA_ERR_INVALID_ARG); /* too little scratch */
	assert_int_equal(frag_enc_line_wide(&enc, 0, line, 2, scratch, sizeof(scratch)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_line_wide(&enc, FRAG_ENC_MAX_SEED_INDEX - 99u, line, 2, scratch,
	                                    sizeof(scratch)),
	                 FUOTA_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_shapes),
	        cmocka_unit_test(test_session_limit),
	        cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
