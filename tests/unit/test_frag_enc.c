/* The parity encoders: frag_ref_encode and frag_enc (every kernel set this CPU runs) against the
 * PROTOCOL-NOTES §4.7 coded fragments, then the fast encoder against the reference over random and
 * edge-case codes (M = 1, 2, powers of two, M + R = 16383 with seeds above 2^23, FragSize 1 and
 * 255, row offsets, single-row vs range API, partial ranges as threads split them, small scratch).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/frag_enc.h"
#include "fuota/frag_ref.h"

static const enum frag_enc_isa isas[] = {FRAG_ENC_ISA_PORTABLE, FRAG_ENC_ISA_AVX2,
                                         FRAG_ENC_ISA_AVX512};
#define NB_ISAS (sizeof(isas) / sizeof(isas[0]))

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

static void parse_hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		while (*s == ' ')
			s++;
		for (int k = 0; k < 2; k++, s++)
			v = v * 16 + (unsigned)(*s <= '9' ? *s - '0' : *s - 'a' + 10);
		out[i] = (uint8_t)v;
	}
}

/* Reference rows into a new buffer (caller frees). */
static uint8_t *ref_rows(const struct frag_code *code, uint32_t s, const uint8_t *frags,
                         uint32_t first, uint32_t count)
{
	uint8_t *out = malloc((size_t)count * s + 1);
	uint64_t *line = malloc(frag_line_words(code->nb_frag) * sizeof(uint64_t));

	assert_non_null(out);
	assert_non_null(line);
	assert_int_equal(frag_ref_encode(code, s, frags, (size_t)code->nb_frag * s, first, count,
	                                 out, line, frag_line_words(code->nb_frag)),
	                 FUOTA_OK);
	free(line);
	return out;
}

/* Fast rows through frag_enc_range with scratch_len bytes of scratch (0: the full size). */
static int fast_range(const struct frag_enc *enc, uint32_t first, uint32_t count, uint8_t *out,
                      size_t scratch_len)
{
	size_t len = scratch_len ? scratch_len : frag_enc_range_scratch_size(enc, count);
	void *scratch = malloc(len + 1);
	int rc;

	assert_non_null(scratch);
	/* an odd address: the encoder aligns its scratch itself */
	rc = frag_enc_range(enc, first, count, out, (uint8_t *)scratch + 1, len);
	free(scratch);
	return rc;
}

/* Every kernel set this CPU has, range API then single rows, equal to want. */
static void expect_fast_equal(const struct frag_code *code, uint32_t s, const uint8_t *frags,
                              uint32_t first, uint32_t count, const uint8_t *want)
{
	uint8_t *out = malloc((size_t)count * s + 1);

	assert_non_null(out);
	for (size_t i = 0; i < NB_ISAS; i++) {
		struct frag_enc enc;
		int rc = frag_enc_init(&enc, code, s, frags, (size_t)code->nb_frag * s, isas[i]);

		if (rc == FUOTA_ERR_UNSUPPORTED)
			continue;
		assert_int_equal(rc, FUOTA_OK);
		memset(out, 0xa5, (size_t)count * s);
		assert_int_equal(fast_range(&enc, first, count, out, 0), FUOTA_OK);
		assert_memory_equal(out, want, (size_t)count * s);
	}
	free(out);
}

static void expect_rows_equal(const struct frag_code *code, uint32_t s, const uint8_t *frags,
                              uint32_t first, uint32_t count, const uint8_t *want)
{
	uint8_t row[255];

	for (size_t i = 0; i < NB_ISAS; i++) {
		struct frag_enc enc;
		size_t len;
		void *scratch;

		if (frag_enc_init(&enc, code, s, frags, (size_t)code->nb_frag * s, isas[i]) !=
		    FUOTA_OK)
			continue;
		len = frag_enc_row_scratch_size(&enc);
		scratch = malloc(len);
		assert_non_null(scratch);
		for (uint32_t k = 0; k < count; k++) {
			assert_int_equal(frag_enc_row(&enc, first + k, row, scratch, len),
			                 FUOTA_OK);
			assert_memory_equal(row, want + (size_t)k * s, s);
		}
		free(scratch);
	}
}

/* §4.7: data = bytes 0..99, FragSize 10, M = 10, rows N = 11..20 (n = 1..10). */
static const char *const v1_rows[10] = {
        "26 26 22 22 2e 2e 22 22 26 26", "54 55 56 57 58 59 6a 6b 7c 7d",
        "5c 5d 6e 6f 10 11 02 03 04 05", "36 36 32 32 3e 3e 22 22 36 36",
        "3a 3a 0e 0e 0a 0a 06 06 0a 0a", "0e 0e 32 32 36 36 22 22 3e 3e",
        "02 02 0e 0e 72 72 76 76 62 62", "1e 1e 1a 1a 66 66 5a 5a 4e 4e",
        "1a 1b 1c 1d 1e 1f 30 31 22 23", "22 23 24 25 26 27 18 19 0a 0b"};
static const char *const v2_rel_rows[10] = {
        "68 69 52 53 5c 5d 76 77 70 71", "54 55 56 57 58 59 6a 6b 7c 7d",
        "5c 5d 6e 6f 10 11 02 03 04 05", "6c 6d 6e 6f 60 61 42 43 54 55",
        "12 13 24 25 26 27 28 29 3a 3b", "48 49 7a 7b 7c 7d 6e 6f 70 71",
        "1c 1d 2e 2f 50 51 52 53 44 45", "58 59 52 53 2c 2d 16 17 00 01",
        "1a 1b 1c 1d 1e 1f 30 31 22 23", "00 01 3a 3b 44 45 7e 7f 68 69"};
static const char *const v2_abs_rows[10] = {
        "5a 5b 64 65 1e 1f 18 19 02 03", "3e 3f 08 09 72 73 4c 4d 46 47",
        "42 43 74 75 06 07 08 09 0a 0b", "60 61 52 53 54 55 66 67 68 69",
        "0c 0d 06 07 70 71 7a 7b 74 75", "0a 0b 0c 0d 7e 7f 60 61 72 73",
        "42 43 74 75 06 07 08 09 0a 0b", "1c 1d 16 17 60 61 5a 5b 44 45",
        "2a 2b 1c 1d 1e 1f 20 21 32 33", "1a 1b 24 25 5e 5f 48 49 42 43"};

static void check_vectors(enum frag_version v, enum frag_seed seed, const char *const rows[10])
{
	struct frag_code code = {.nb_frag = 10, .version = v, .seed = seed};
	uint8_t data[100], want[100], *ref;

	for (int i = 0; i < 100; i++)
		data[i] = (uint8_t)i;
	for (int n = 0; n < 10; n++)
		parse_hex(rows[n], want + 10 * n, 10);
	ref = ref_rows(&code, 10, data, 1, 10);
	assert_memory_equal(ref, want, 100);
	free(ref);
	expect_fast_equal(&code, 10, data, 1, 10, want);
	expect_rows_equal(&code, 10, data, 1, 10, want);
	/* the brocaar redundancy-5 case is the first five rows; a later start is a suffix */
	expect_fast_equal(&code, 10, data, 1, 5, want);
	expect_fast_equal(&code, 10, data, 4, 7, want + 30);
}

static void test_vectors_v1(void **state)
{
	(void)state;
	check_vectors(FRAG_V1, FRAG_SEED_RELATIVE, v1_rows);
}

static void test_vectors_v2_relative(void **state)
{
	(void)state;
	check_vectors(FRAG_V2, FRAG_SEED_RELATIVE, v2_rel_rows);
}

static void test_vectors_v2_absolute(void **state)
{
	(void)state;
	check_vectors(FRAG_V2, FRAG_SEED_ABSOLUTE, v2_abs_rows);
}

/* Unit-vector fragments make each coded fragment the row line itself: M = 26 v1 table and the
 * M = 21 interop lines (PROTOCOL-NOTES §4.7, §4.8), through the fast encoder. */
static void test_lines_through_encoder(void **state)
{
	static const uint32_t m26[26] = {
	        0x1555554, 0x1A331CB, 0x3F2C620, 0x00B94FA, 0x1A022C3, 0x04FA190, 0x24A6A64,
	        0x0A69653, 0x010AC9F, 0x0E6A191, 0x0A24D8C, 0x3D04916, 0x2808E37, 0x02158E8,
	        0x2846A9A, 0x00C885C, 0x206DC78, 0x1469920, 0x0372542, 0x0152397, 0x3F16201,
	        0x144288C, 0x1B71504, 0x2B31230, 0x2017E2E, 0x02520C1};
	static const uint32_t m21[5] = {(1u << 6) | (1u << 9) | (1u << 10) | (1u << 13) |
	                                        (1u << 19),
	                                (1u << 1) | (1u << 4) | (1u << 9) | (1u << 12) |
	                                        (1u << 13) | (1u << 16) | (1u << 18),
	                                (1u << 0) | (1u << 1) | (1u << 3) | (1u << 5) | (1u << 6) |
	                                        (1u << 10) | (1u << 14) | (1u << 18),
	                                (1u << 0) | (1u << 2) | (1u << 5) | (1u << 7) | (1u << 11) |
	                                        (1u << 14) | (1u << 17) | (1u << 18),
	                                (1u << 1) | (1u << 3) | (1u << 4) | (1u << 6) | (1u << 7) |
	                                        (1u << 12) | (1u << 13) | (1u << 16)};
	uint8_t frags[26 * 4], want[25 * 4];
	struct frag_code code = {.nb_frag = 26, .version = FRAG_V1};

	(void)state;
	memset(frags, 0, sizeof(frags));
	for (uint32_t x = 0; x < 26; x++)
		frags[x * 4 + x / 8] = (uint8_t)(1u << (x % 8));
	for (uint32_t n = 1; n < 26; n++)
		for (uint32_t b = 0; b < 4; b++)
			want[(n - 1) * 4 + b] = (uint8_t)(m26[n] >> (8 * b));
	expect_fast_equal(&code, 4, frags, 1, 25, want);
	expect_rows_equal(&code, 4, frags, 1, 25, want);

	code.nb_frag = 21;
	for (uint32_t n = 1; n <= 5; n++)
		for (uint32_t b = 0; b < 4; b++)
			want[(n - 1) * 4 + b] = (uint8_t)(m21[n - 1] >> (8 * b));
	expect_fast_equal(&code, 4, frags, 1, 5, want);
}

/* Weight rules seen through the encoder: with unit-vector fragments the popcount of a coded
 * fragment is the row weight (v2: exactly floor(M/2); v1: at most). */
static void test_weights_through_encoder(void **state)
{
	static const uint32_t ms[] = {1, 2, 3, 8, 33, 64, 255, 512, 1000, 2040};
	static uint8_t frags[2040 * 255];
	uint8_t *out = malloc(200 * 255);

	(void)state;
	assert_non_null(out);
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		uint32_t m = ms[i], s = 255;

		memset(frags, 0, (size_t)m * s);
		for (uint32_t x = 0; x < m; x++)
			frags[(size_t)x * s + x / 8] = (uint8_t)(1u << (x % 8));
		for (int v = 1; v <= 2; v++) {
			struct frag_code code = {.nb_frag = m, .version = (enum frag_version)v};
			struct frag_enc enc;

			assert_int_equal(frag_enc_init(&enc, &code, s, frags, (size_t)m * s,
			                               FRAG_ENC_ISA_AUTO),
			                 FUOTA_OK);
			/* rows 8300.. cross n = 8380, where seeds pass 2^23 */
			assert_int_equal(fast_range(&enc, 8300, 200, out, 0), FUOTA_OK);
			for (uint32_t r = 0; r < 200; r++) {
				uint32_t w = 0;

				for (uint32_t b = 0; b < s; b++)
					w += (uint32_t)__builtin_popcount(out[(size_t)r * s + b]);
				if (v == 2)
					assert_int_equal(w, m / 2);
				else
					assert_true(w <= m / 2);
			}
		}
	}
	free(out);
}

static void compare_case(uint32_t m, uint32_t s, enum frag_version v, enum frag_seed seed,
                         uint32_t first, uint32_t count)
{
	struct frag_code code = {.nb_frag = m, .version = v, .seed = seed};
	uint8_t *frags = malloc((size_t)m * s), *want;

	assert_non_null(frags);
	fill_random(frags, (size_t)m * s);
	want = ref_rows(&code, s, frags, first, count);
	expect_fast_equal(&code, s, frags, first, count, want);
	if (count <= 8)
		expect_rows_equal(&code, s, frags, first, count, want);
	free(want);
	free(frags);
}

static void test_edge_sizes(void **state)
{
	static const uint32_t ms[] = {1, 2, 3, 4, 7, 8, 9, 16, 63, 64, 65, 128, 1024, 4096};
	static const uint32_t ss[] = {1, 255, 63, 64, 65, 129, 192, 232};

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		for (int v = 1; v <= 2; v++) {
			enum frag_version ver = (enum frag_version)v;
			uint32_t s = ss[i % (sizeof(ss) / sizeof(ss[0]))];

			compare_case(ms[i], s, ver, FRAG_SEED_RELATIVE, 1, 100);
			compare_case(ms[i], s, ver, FRAG_SEED_ABSOLUTE, 1, 3);
			compare_case(ms[i], s, ver, FRAG_SEED_RELATIVE, 8370, 70);
		}
	}
}

/* FragSizes of 2 to 4 lines, the last line whole or in part (8 to 63 bytes of it), M not a
 * multiple of 8 (entries past M), enough rows for the tables. */
static void test_multi_line_table_sizes(void **state)
{
	static const uint32_t ss[] = {72, 80, 96, 97, 136, 144, 150, 160, 193, 200, 208, 224, 225};

	(void)state;
	for (size_t i = 0; i < sizeof(ss) / sizeof(ss[0]); i++) {
		compare_case(1003, ss[i], FRAG_V1, FRAG_SEED_RELATIVE, 1, 130);
		compare_case(77, ss[i], FRAG_V2, FRAG_SEED_RELATIVE, 5, 70);
	}
}

/* The AVX2 and AVX-512 tables of 16 entries per 4 fragments, 16, 8 or 4 groups of 8 to a block
 * (entries of 1, 2, 3-4 lines), read 8 or 4 line bytes at a time: M of one group, a last block of
 * 1 to 15 groups (less and more than one read), M not a multiple of 8, whole and several blocks. */
static void test_nibble_table_sizes(void **state)
{
	static const uint32_t ss[] = {1, 7, 8, 33, 48, 63, 64, 65, 100, 128, 150, 200, 232, 255};
	static const uint32_t ms[] = {5, 64, 128, 131, 229, 427, 1024, 2049};

	(void)state;
	for (size_t i = 0; i < sizeof(ss) / sizeof(ss[0]); i++)
		for (size_t j = 0; j < sizeof(ms) / sizeof(ms[0]); j++)
			compare_case(ms[j], ss[i], j % 2 ? FRAG_V2 : FRAG_V1, FRAG_SEED_RELATIVE,
			             1 + (uint32_t)j, 70);
}

/* The nibble kernels build at most 32 KiB of tables a block: their scratch leaves out the rest of
 * the 256-entry tables' budget (384 KiB), which a caller would otherwise prefault for nothing. */
static void test_nibble_scratch_size(void **state)
{
	static const uint32_t ss[] = {48, 200, 255};
	struct frag_code code = {.nb_frag = 21846, .version = FRAG_V1, .seed = FRAG_SEED_RELATIVE};
	uint8_t *frags = calloc((size_t)code.nb_frag, 255);
	unsigned compared = 0;

	(void)state;
	assert_non_null(frags);
	for (size_t i = 0; i < sizeof(ss) / sizeof(ss[0]); i++) {
		const size_t len = (size_t)code.nb_frag * ss[i];
		struct frag_enc port, nib;

		assert_int_equal(
		        frag_enc_init(&port, &code, ss[i], frags, len, FRAG_ENC_ISA_PORTABLE),
		        FUOTA_OK);
		for (size_t k = 1; k < NB_ISAS; k++) {
			if (frag_enc_init(&nib, &code, ss[i], frags, len, isas[k]) != FUOTA_OK)
				continue;
			assert_true(frag_enc_range_scratch_size(&nib, 1000) + 256u * 1024u <=
			            frag_enc_range_scratch_size(&port, 1000));
			compared++;
		}
	}
	free(frags);
	if (!compared) /* no AVX2 or AVX-512 here: nothing to compare, said so */
		skip();
}

/* M + R = 16383 (one full session), rows through n = 9383 > 8380 (seeds above 2^23). */
static void test_full_session_with_carries(void **state)
{
	(void)state;
	compare_case(7000, 3, FRAG_V1, FRAG_SEED_RELATIVE, 1, 9383);
	compare_case(7000, 2, FRAG_V2, FRAG_SEED_RELATIVE, 8000, 1383);
	compare_case(7000, 2, FRAG_V2, FRAG_SEED_ABSOLUTE, 1, 600);
}

static void test_random_codes(void **state)
{
	(void)state;
	for (int iter = 0; iter < 40; iter++) {
		uint32_t m = 1 + rnd() % 3000, s = 1 + rnd() % 255;
		uint32_t count = 1 + rnd() % 200,
		         first = 1 + (rnd() % 2 ? rnd() % 20 : rnd() % 20000);
		enum frag_version v = rnd() % 2 ? FRAG_V1 : FRAG_V2;
		enum frag_seed seed = rnd() % 2 ? FRAG_SEED_RELATIVE : FRAG_SEED_ABSOLUTE;

		compare_case(m, s, v, seed, first, count);
	}
}

/* Larger than one session's 14-bit index (the benchmark's 1 MiB / 48 bytes is M = 21846). */
static void test_beyond_one_session(void **state)
{
	(void)state;
	compare_case(21846, 5, FRAG_V1, FRAG_SEED_RELATIVE, 1, 70);
	compare_case(20000, 4, FRAG_V2, FRAG_SEED_RELATIVE, 9000, 65);
}

/* A modulus of 2^23 and more: every LFSR draw is below it (x < 2^23), and the SIMD kernels hand
 * a modulus of 2^24 and more to the portable code. */
static void test_huge_nb_frag(void **state)
{
	(void)state;
	compare_case((1u << 23) - 3u, 1, FRAG_V1, FRAG_SEED_RELATIVE, 1, 2);
	compare_case(1u << 23, 1, FRAG_V2, FRAG_SEED_RELATIVE, 9000, 1);
	compare_case((1u << 24) + 3u, 1, FRAG_V1, FRAG_SEED_RELATIVE, 1, 1);
}

/* Ranges split at random points, each with its own scratch as threads use them, and passes forced
 * by small scratch, equal the one-shot range. */
static void test_partial_ranges_and_small_scratch(void **state)
{
	const uint32_t m = 1500, s = 48, r = 700;
	struct frag_code code = {.nb_frag = m, .version = FRAG_V2};
	uint8_t *frags = malloc((size_t)m * s), *want, *out = malloc((size_t)r * s);
	struct frag_enc enc;

	(void)state;
	assert_non_null(frags);
	assert_non_null(out);
	fill_random(frags, (size_t)m * s);
	want = ref_rows(&code, s, frags, 1, r);
	assert_int_equal(frag_enc_init(&enc, &code, s, frags, (size_t)m * s, FRAG_ENC_ISA_AUTO),
	                 FUOTA_OK);
	for (int iter = 0; iter < 5; iter++) {
		uint32_t done = 0;

		memset(out, 0, (size_t)r * s);
		while (done < r) {
			uint32_t part = 1 + rnd() % 300;

			if (part > r - done)
				part = r - done;
			assert_int_equal(
			        fast_range(&enc, 1 + done, part, out + (size_t)done * s, 0),
			        FUOTA_OK);
			done += part;
		}
		assert_memory_equal(out, want, (size_t)r * s);
	}
	/* the least scratch, and room for a bit more than the table-path minimum */
	memset(out, 0, (size_t)r * s);
	assert_int_equal(fast_range(&enc, 1, r, out, frag_enc_range_scratch_min(&enc, r)),
	                 FUOTA_OK);
	assert_memory_equal(out, want, (size_t)r * s);
	memset(out, 0, (size_t)r * s);
	assert_int_equal(fast_range(&enc, 1, r, out, frag_enc_range_scratch_size(&enc, 100)),
	                 FUOTA_OK);
	assert_memory_equal(out, want, (size_t)r * s);
	assert_int_equal(fast_range(&enc, 1, r, out, frag_enc_range_scratch_min(&enc, r) - 1),
	                 FUOTA_ERR_NO_SPACE);
	free(want);
	free(out);
	free(frags);
}

static void test_bad_arguments(void **state)
{
	struct frag_code code = {.nb_frag = 10, .version = FRAG_V2, .seed = FRAG_SEED_ABSOLUTE};
	uint8_t frags[100] = {0}, out[40];
	uint64_t scratch[4096];
	struct frag_enc enc;

	(void)state;
	assert_int_equal(frag_enc_init(&enc, &code, 0, frags, 0, FRAG_ENC_ISA_AUTO),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_init(&enc, &code, 256, frags, 2560, FRAG_ENC_ISA_AUTO),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_init(&enc, &code, 10, frags, 99, FRAG_ENC_ISA_AUTO),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_init(&enc, &code, 10, NULL, 100, FRAG_ENC_ISA_AUTO),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_init(&enc, &code, 10, frags, 100, (enum frag_enc_isa)9),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_init(&enc, &code, 10, frags, 100, FRAG_ENC_ISA_AUTO), FUOTA_OK);
	assert_string_not_equal(frag_enc_isa_name(enc.isa), "auto");
	assert_true(frag_enc_row_scratch_size(&enc) <= sizeof(scratch));
	assert_int_equal(frag_enc_row(&enc, 0, out, scratch, sizeof(scratch)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_row(&enc, 1, out, scratch, 16), FUOTA_ERR_NO_SPACE);
	assert_int_equal(frag_enc_row(&enc, 1, NULL, scratch, sizeof(scratch)),
	                 FUOTA_ERR_INVALID_ARG);
	/* absolute seed index M + n: 4290676 is the last that fits */
	assert_int_equal(frag_enc_row(&enc, 4290666u, out, scratch, sizeof(scratch)), FUOTA_OK);
	assert_int_equal(frag_enc_row(&enc, 4290667u, out, scratch, sizeof(scratch)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_range(&enc, 4290664u, 3, out, scratch, sizeof(scratch)),
	                 FUOTA_OK);
	assert_int_equal(frag_enc_range(&enc, 4290664u, 4, out, scratch, sizeof(scratch)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_enc_range(&enc, 1, 0, NULL, NULL, 0), FUOTA_OK);
	assert_int_equal(frag_ref_encode(&code, 10, frags, 100, 0, 1, out, scratch, 1),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_ref_encode(&code, 10, frags, 90, 1, 1, out, scratch, 1),
	                 FUOTA_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vectors_v1),
	        cmocka_unit_test(test_vectors_v2_relative),
	        cmocka_unit_test(test_vectors_v2_absolute),
	        cmocka_unit_test(test_lines_through_encoder),
	        cmocka_unit_test(test_weights_through_encoder),
	        cmocka_unit_test(test_edge_sizes),
	        cmocka_unit_test(test_multi_line_table_sizes),
	        cmocka_unit_test(test_nibble_table_sizes),
	        cmocka_unit_test(test_nibble_scratch_size),
	        cmocka_unit_test(test_full_session_with_carries),
	        cmocka_unit_test(test_random_codes),
	        cmocka_unit_test(test_beyond_one_session),
	        cmocka_unit_test(test_huge_nb_frag),
	        cmocka_unit_test(test_partial_ranges_and_small_scratch),
	        cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
