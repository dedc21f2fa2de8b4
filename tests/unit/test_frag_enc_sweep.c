/* The encoder's shared-cycle line path (fragmentation/src/frag_enc_sweep.c, through its private
 * header): every line it draws equals frag_row_line's, bit for bit, with every kernel set this
 * CPU runs, for many M (odd, even, the smallest it takes, the bench's 21,846 and 18,079, M above
 * 2^16 and the largest it takes), for the first rows, the last rows whose seeds are below 2^23 and
 * all 8,380 of them (rows whose windows wrap around the end of the cycle); which codes and ranges
 * take it; frag_enc_range through it against frag_ref_encode; the build-time seed tables; and
 * every kernel set's mark (draws and block stores) on ranges cut anywhere in a chunk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frag_enc_impl.h"
#include "fuota/err.h"
#include "fuota/frag_enc.h"
#include "fuota/frag_ref.h"

static const enum frag_enc_isa isas[] = {FRAG_ENC_ISA_PORTABLE, FRAG_ENC_ISA_AVX2,
                                         FRAG_ENC_ISA_AVX512};

static size_t up64(size_t v)
{
	return (v + 63u) & ~(size_t)63u;
}

static void *zalloc64(size_t len)
{
	void *p = aligned_alloc(64, up64(len ? len : 1));

	assert_non_null(p);
	memset(p, 0, up64(len ? len : 1));
	return p;
}

static struct frag_code v1(uint32_t m)
{
	return (struct frag_code){.nb_frag = m, .version = FRAG_V1, .seed = FRAG_SEED_RELATIVE};
}

/* Row n's reference line as bytes, bit x % 8 of byte x / 8 = fragment x (the encoder's layout). */
static void ref_line_bytes(const struct frag_code *code, uint32_t n, uint64_t *words, uint8_t *out,
                           size_t len)
{
	size_t nw = frag_line_words(code->nb_frag);

	assert_int_equal(frag_row_line(code, n, words, nw, NULL), FUOTA_OK);
	for (size_t b = 0; b < len; b++)
		out[b] = (uint8_t)(words[b / 8u] >> (8u * (b % 8u)));
}

/* Rows first .. first + count - 1 of v1 code M through frag_enc_sweep_lines, every ISA. */
static void expect_sweep(uint32_t m, uint32_t first, uint32_t count)
{
	const struct frag_code code = v1(m);
	uint8_t *frags = zalloc64(m), *want;
	uint64_t *words = zalloc64(frag_line_words(m) * 8u);
	uint64_t *sw = zalloc64(FRAG_ENC_SW_WORDS * 8u);
	uint32_t *rb = zalloc64((FRAG_ENC_CHUNK + FRAG_ENC_DRAW_STEP) * 4u);
	struct frag_enc enc;
	size_t lb;

	assert_int_equal(frag_enc_init(&enc, &code, 1, frags, m, FRAG_ENC_ISA_PORTABLE), FUOTA_OK);
	lb = enc.line_bytes;
	want = zalloc64((size_t)count * lb);
	for (uint32_t i = 0; i < count; i++)
		ref_line_bytes(&code, first + i, words, want + (size_t)i * lb, lb);
	for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++) {
		uint8_t *got, *mem;

		if (frag_enc_init(&enc, &code, 1, frags, m, isas[k]) != FUOTA_OK)
			continue; /* the CPU lacks it */
		assert_true(frag_enc_sweep_mem(&enc, count) > 0);
		mem = zalloc64(frag_enc_sweep_mem(&enc, count));
		got = zalloc64((size_t)count * lb);
		memset(got, 0xa5, (size_t)count * lb);
		assert_int_equal(frag_enc_sweep_lines(&enc, first, count, got, sw, rb, mem), 0);
		for (uint32_t i = 0; i < count; i++)
			assert_memory_equal(got + (size_t)i * lb, want + (size_t)i * lb, lb);
		free(got);
		free(mem);
	}
	free(want);
	free(rb);
	free(sw);
	free(words);
	free(frags);
}

static void test_lines_many_m(void **state)
{
	static const uint32_t ms[] = {3, 1000, 5243, 16385, 16386, 18079, 21846, 40000, 65537};

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		expect_sweep(ms[i], 1, 120);
		expect_sweep(ms[i], FRAG_ENC_SWEEP_MAX_ROW - 99u, 100); /* up to the last row */
		expect_sweep(ms[i], 4000, 1);
	}
	/* the longest rows it takes: 64,511 windows, blocks of 1,024 (one a chunk) and an
	 * age_out every 191 chunks */
	expect_sweep(129023, 1, 8);
}

/* All 8,380 rows: they cover the cycle 8 times over, so windows wrap past its end; and
 * workload c's 1,311 rows, which cover 41 % of it (the walk jumps over the rest). */
static void test_lines_every_row(void **state)
{
	(void)state;
	expect_sweep(16385, 1, FRAG_ENC_SWEEP_MAX_ROW);
	expect_sweep(5243, 1, 1311);
}

/* The build-time table of the seeds' windows, against one walk of the cycle from state 1 that
 * tells a seed 1 + 1001 q by (s - 1) * 1001^-1 modulo 2^32 = q (another test than the
 * generator's). */
static void test_seed_table(void **state)
{
	const uint32_t inv = 0xb6170459u; /* 1001 * inv = 1 modulo 2^32 */
	uint32_t x = 1, seen = 0;

	(void)state;
	assert_int_equal(1001u * inv, 1u);
	for (uint32_t t = 0; t < (1u << 23) - 1u; t++) {
		uint32_t q = (x - 1u) * inv;

		if (q >= 1u && q <= FRAG_ENC_SWEEP_MAX_ROW) {
			assert_int_equal(frag_enc_seed_pos[q - 1u], t);
			seen++;
		}
		x = (x >> 1) + (((x ^ (x >> 5)) & 1u) << 22);
	}
	assert_int_equal(seen, FRAG_ENC_SWEEP_MAX_ROW);
	assert_int_equal(x, 1u);
}

/* The build-time cycle order: every seed once, their windows ascending. */
static void test_seed_order(void **state)
{
	static uint8_t seen[FRAG_ENC_SWEEP_MAX_ROW];

	(void)state;
	for (uint32_t k = 0; k < FRAG_ENC_SWEEP_MAX_ROW; k++) {
		uint32_t n = frag_enc_seed_order[k];

		assert_true(n < FRAG_ENC_SWEEP_MAX_ROW);
		assert_int_equal(seen[n], 0);
		seen[n] = 1;
		if (k > 0)
			assert_true(frag_enc_seed_pos[frag_enc_seed_order[k - 1u]] <
			            frag_enc_seed_pos[n]);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* frag_enc_seed_crowd[j] recounted from frag_enc_seed_pos alone: the most windows in [p, p + 2^j)
 * for p one of them (a set whose windows are all less than 2^j apart lies in the one starting at
 * its first), each window's end found by binary search. ring_slots rests on this table. */
static void test_seed_crowd(void **state)
{
	static uint32_t pos[FRAG_ENC_SWEEP_MAX_ROW];

	(void)state;
	memcpy(pos, frag_enc_seed_pos, sizeof(pos));
	qsort(pos, FRAG_ENC_SWEEP_MAX_ROW, sizeof(pos[0]), cmp_u32);
	for (uint32_t j = 0; j < FRAG_ENC_SEED_CROWDS; j++) {
		uint32_t most = 0;

		for (uint32_t a = 0; a < FRAG_ENC_SWEEP_MAX_ROW; a++) {
			uint32_t lo = a, hi = FRAG_ENC_SWEEP_MAX_ROW; /* first b with pos[b] -
			                                                 pos[a] >= 2^j */

			while (lo < hi) {
				const uint32_t mid = lo + (hi - lo) / 2u;

				if (pos[mid] - pos[a] < ((uint32_t)1 << j))
					lo = mid + 1u;
				else
					hi = mid;
			}
			if (lo - a > most)
				most = lo - a;
		}
		assert_int_equal(frag_enc_seed_crowd[j], most);
	}
}

/* Every kernel set's mark on ranges of a chunk that start and end anywhere (the rows' ends):
 * the draws it leaves in r and the blocks it stores in last[] equal the draws kernel's and one
 * store per draw in window order, for blocks of 64 and 1,024 windows. */
static void expect_mark(uint32_t m, uint32_t shift)
{
	const struct frag_code code = v1(m);
	uint8_t *frags = zalloc64(m), *last = zalloc64(m), *want = zalloc64(m);
	uint64_t *sw = zalloc64(FRAG_ENC_SW_WORDS * 8u);
	uint32_t *rb = zalloc64((FRAG_ENC_CHUNK + FRAG_ENC_DRAW_STEP) * 4u);
	uint32_t *draws = zalloc64((FRAG_ENC_CHUNK + FRAG_ENC_DRAW_STEP) * 4u);
	static const uint32_t cuts[] = {0, 1, 15, 16, 17, 100, 129, 130, 600, 1000, 1023, 1024};
	const uint32_t vbase = 5u << shift;
	struct frag_enc enc;

	assert_int_equal(frag_enc_init(&enc, &code, 1, frags, m, FRAG_ENC_ISA_PORTABLE), FUOTA_OK);
	frag_enc_stream_start(sw, 0x2a5f31u);
	enc.kern->draws(&enc, sw, 0, FRAG_ENC_CHUNK, draws);
	for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++) {
		if (frag_enc_init(&enc, &code, 1, frags, m, isas[k]) != FUOTA_OK)
			continue;
		memset(last, 0, m);
		memset(want, 0, m);
		for (size_t c = 0; c + 1u < sizeof(cuts) / sizeof(cuts[0]); c++) {
			/* no draw left from an earlier call: each call draws its range */
			memset(rb, 0, (FRAG_ENC_CHUNK + FRAG_ENC_DRAW_STEP) * 4u);
			enc.kern->mark(&enc, sw, cuts[c], cuts[c + 1u], rb, last, vbase, shift);
			for (uint32_t j = cuts[c]; j < cuts[c + 1u]; j++) {
				assert_int_equal(rb[j], draws[j]);
				want[draws[j]] = (uint8_t)((vbase + j) >> shift);
			}
			assert_memory_equal(last, want, m);
		}
	}
	free(draws);
	free(rb);
	free(sw);
	free(want);
	free(last);
	free(frags);
}

static void test_mark_kernels(void **state)
{
	(void)state;
	expect_mark(3, 6);
	expect_mark(5243, 6);
	expect_mark(21846, 7);
	expect_mark(129023, 10);
}

/* frag_enc_sweep_lines refuses rows it cannot take, and writes nothing. */
static void expect_refused(const struct frag_enc *enc, uint32_t first, uint32_t count)
{
	size_t lb = enc->line_bytes, mem_len = frag_enc_sweep_mem(enc, count ? count : 1u);
	uint8_t *lines = zalloc64(2u * lb), *mem = zalloc64(mem_len);
	uint64_t *sw = zalloc64(FRAG_ENC_SW_WORDS * 8u);
	uint32_t *rb = zalloc64((FRAG_ENC_CHUNK + FRAG_ENC_DRAW_STEP) * 4u);

	memset(lines, 0xa5, 2u * lb);
	assert_int_equal(frag_enc_sweep_lines(enc, first, count, lines, sw, rb, mem), -1);
	for (size_t b = 0; b < 2u * lb; b++)
		assert_int_equal(lines[b], 0xa5);
	free(rb);
	free(sw);
	free(mem);
	free(lines);
}

static void test_which_codes(void **state)
{
	static uint8_t frags[65536];
	struct frag_code code = v1(21846);
	struct frag_enc enc;
	uint8_t *frags_big;

	(void)state;
	assert_int_equal(frag_enc_init(&enc, &code, 1, frags, 21846, FRAG_ENC_ISA_PORTABLE),
	                 FUOTA_OK);
	assert_true(frag_enc_sweep_ok(&enc, 1, 2185)); /* workload b */
	assert_true(frag_enc_sweep_mem(&enc, 2185) > 0);
	assert_true(frag_enc_sweep_ok(&enc, 1, 100)); /* rows apart: the walk jumps between */
	assert_false(frag_enc_sweep_ok(&enc, 0, 2185));
	assert_false(frag_enc_sweep_ok(&enc, 7000, 1400)); /* row 8381: seed above 2^23 */
	assert_true(frag_enc_sweep_ok(&enc, 6981, 1400));
	expect_refused(&enc, FRAG_ENC_SWEEP_MAX_ROW, 2); /* the second row's seed is above 2^23 */
	expect_refused(&enc, 0, 1);
	expect_refused(&enc, 1, 0);
	code.version = FRAG_V2; /* distinct draws: a row's length depends on its content */
	assert_int_equal(frag_enc_init(&enc, &code, 1, frags, 21846, FRAG_ENC_ISA_PORTABLE),
	                 FUOTA_OK);
	assert_int_equal(frag_enc_sweep_mem(&enc, 2185), 0);
	code = v1(32768); /* a power of two: rejected draws */
	assert_int_equal(frag_enc_init(&enc, &code, 1, frags, 32768, FRAG_ENC_ISA_PORTABLE),
	                 FUOTA_OK);
	assert_int_equal(frag_enc_sweep_mem(&enc, 2185), 0);
	code = v1(129024); /* rows of 64,512 windows: past the seeds' crowd table */
	frags_big = calloc(129024, 1);
	assert_non_null(frags_big);
	assert_int_equal(frag_enc_init(&enc, &code, 1, frags_big, 129024, FRAG_ENC_ISA_PORTABLE),
	                 FUOTA_OK);
	assert_int_equal(frag_enc_sweep_mem(&enc, 8000), 0);
	code = v1(129023);
	assert_int_equal(frag_enc_init(&enc, &code, 1, frags_big, 129023, FRAG_ENC_ISA_PORTABLE),
	                 FUOTA_OK);
	assert_true(frag_enc_sweep_ok(&enc, 1, 200));
	free(frags_big);
}

/* frag_enc_range with the path (full scratch) and without it (the least scratch) against the
 * reference encoder, every ISA: rows first .. first + count - 1 of M, FragSize 3. */
static void expect_range(uint32_t m, uint32_t first, uint32_t count)
{
	const uint32_t s = 3;
	const struct frag_code code = v1(m);
	uint8_t *frags = zalloc64((size_t)m * s), *want = zalloc64((size_t)count * s);
	uint64_t *line = zalloc64(frag_line_words(m) * 8u);
	uint64_t rng = 0x2545f4914f6cdd1du ^ m ^ first;
	struct frag_enc enc;

	for (size_t i = 0; i < (size_t)m * s; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		frags[i] = (uint8_t)rng;
	}
	assert_int_equal(frag_ref_encode(&code, s, frags, (size_t)m * s, first, count, want, line,
	                                 frag_line_words(m)),
	                 FUOTA_OK);
	for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++) {
		size_t full, least;
		uint8_t *got, *scratch;

		if (frag_enc_init(&enc, &code, s, frags, (size_t)m * s, isas[k]) != FUOTA_OK)
			continue;
		assert_true(frag_enc_sweep_ok(&enc, first, count));
		full = frag_enc_range_scratch_size(&enc, count);
		least = frag_enc_range_scratch_min(&enc, count);
		got = zalloc64((size_t)count * s);
		scratch = zalloc64(full);
		assert_int_equal(frag_enc_range(&enc, first, count, got, scratch, full), FUOTA_OK);
		assert_memory_equal(got, want, (size_t)count * s);
		memset(got, 0, (size_t)count * s);
		assert_int_equal(frag_enc_range(&enc, first, count, got, scratch, least), FUOTA_OK);
		assert_memory_equal(got, want, (size_t)count * s);
		free(scratch);
		free(got);
	}
	free(line);
	free(want);
	free(frags);
}

/* Rows 1 .. 1100 of M = 16,385 cover the cycle once; rows 7,000 .. 8,380 of M = 16,386 end at
 * the last seed below 2^23. */
static void test_range_through_sweep(void **state)
{
	(void)state;
	expect_range(16385, 1, 1100);
	expect_range(16386, 7000, FRAG_ENC_SWEEP_MAX_ROW - 7000u + 1u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_lines_many_m),        cmocka_unit_test(test_lines_every_row),
	        cmocka_unit_test(test_which_codes),         cmocka_unit_test(test_seed_table),
	        cmocka_unit_test(test_range_through_sweep), cmocka_unit_test(test_seed_order),
	        cmocka_unit_test(test_seed_crowd),          cmocka_unit_test(test_mark_kernels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
