/* TS004 decoder. Coded frames are built here from frag_row_line and a plain byte XOR (an
 * encoder independent of the decoder), and whether the received frames determine the image is
 * decided by a small bit-by-bit GF(2) rank routine of this file, not by the decoder's code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/frag_dec.h"
#include "fuota/frag_row.h"

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

/* A session under test: the true image and its code. */
struct sess {
	struct frag_code code;
	uint32_t m, s, r; /* M, FragSize, redundancy */
	uint8_t *image;   /* M * S bytes */
	uint64_t *line;   /* scratch line */
};

static void sess_init(struct sess *t, enum frag_version v, enum frag_seed seed, uint32_t m,
                      uint32_t s, uint32_t r, uint64_t *rng)
{
	t->code = (struct frag_code){.nb_frag = m, .version = v, .seed = seed};
	t->m = m;
	t->s = s;
	t->r = r;
	t->image = malloc((size_t)m * s);
	t->line = calloc(frag_line_words(m), sizeof(uint64_t));
	assert_non_null(t->image);
	assert_non_null(t->line);
	for (size_t i = 0; i < (size_t)m * s; i++)
		t->image[i] = (uint8_t)rng_next(rng);
}

static void sess_free(struct sess *t)
{
	free(t->image);
	free(t->line);
}

static int line_bit(const uint64_t *line, uint32_t x)
{
	return (int)((line[x / 64] >> (x % 64)) & 1);
}

/* Frame N (1-based): uncoded fragment, or the XOR of the fragments its row selects. */
static void make_frame(struct sess *t, uint32_t n, uint8_t *out)
{
	if (n <= t->m) {
		memcpy(out, t->image + (size_t)(n - 1) * t->s, t->s);
		return;
	}
	assert_int_equal(frag_row_line(&t->code, n - t->m, t->line, frag_line_words(t->m), NULL),
	                 FUOTA_OK);
	memset(out, 0, t->s);
	for (uint32_t x = 0; x < t->m; x++)
		if (line_bit(t->line, x))
			for (uint32_t b = 0; b < t->s; b++)
				out[b] ^= t->image[(size_t)x * t->s + b];
}

/* Rank over GF(2) of the coded rows in `rows` (N values) restricted to the uncoded columns not
 * in `have`, one byte per matrix entry, eliminated bit by bit. Returns the rank; *unknown gets
 * the number of columns not in have. */
static uint32_t indep_rank(struct sess *t, const uint32_t *rows, uint32_t nrows,
                           const uint8_t *have, uint32_t *unknown)
{
	uint32_t *cols = malloc(sizeof(uint32_t) * (t->m + 1));
	uint32_t nc = 0, rank = 0;
	uint8_t *a;

	assert_non_null(cols);
	for (uint32_t x = 0; x < t->m; x++)
		if (!have[x])
			cols[nc++] = x;
	*unknown = nc;
	a = calloc((size_t)nrows * nc + 1, 1);
	assert_non_null(a);
	for (uint32_t i = 0; i < nrows; i++) {
		assert_int_equal(frag_row_line(&t->code, rows[i] - t->m, t->line,
		                               frag_line_words(t->m), NULL),
		                 FUOTA_OK);
		for (uint32_t j = 0; j < nc; j++)
			a[(size_t)i * nc + j] = (uint8_t)line_bit(t->line, cols[j]);
	}
	for (uint32_t j = 0; j < nc && rank < nrows; j++) {
		uint32_t piv = rank;

		while (piv < nrows && !a[(size_t)piv * nc + j])
			piv++;
		if (piv == nrows)
			continue;
		for (uint32_t k = 0; k < nc; k++) {
			uint8_t tmp = a[(size_t)piv * nc + k];

			a[(size_t)piv * nc + k] = a[(size_t)rank * nc + k];
			a[(size_t)rank * nc + k] = tmp;
		}
		for (uint32_t i = 0; i < nrows; i++)
			if (i != rank && a[(size_t)i * nc + j])
				for (uint32_t k = 0; k < nc; k++)
					a[(size_t)i * nc + k] ^= a[(size_t)rank * nc + k];
		rank++;
	}
	free(a);
	free(cols);
	return rank;
}

/* A decoder with room for max_lost lost fragments; the memory is malloc'd (8-byte aligned). */
static void *dec_new(struct frag_dec *d, struct sess *t, uint32_t padding, uint32_t max_lost)
{
	size_t len = frag_dec_mem_size(t->m, t->s, max_lost);
	void *mem = malloc(len);

	assert_true(len > 0);
	assert_non_null(mem);
	assert_int_equal(frag_dec_init(d, &t->code, t->s, padding, mem, len), FUOTA_OK);
	assert_int_equal(d->stats.max_lost, max_lost > t->m ? t->m : max_lost);
	return mem;
}

static void check_image(struct frag_dec *d, struct sess *t, uint32_t padding)
{
	const uint8_t *img;
	size_t len;

	assert_int_equal(frag_dec_image(d, &img, &len), FUOTA_OK);
	assert_int_equal(len, (size_t)t->m * t->s - padding);
	assert_memory_equal(img, t->image, len);
}

/* ---- property test ------------------------------------------------------------------------ */

struct run_opts {
	enum frag_version v;
	enum frag_seed seed;
	uint32_t m, s, r;
	uint32_t loss_pct; /* per-frame loss probability in % */
	int shuffle;
	int tight_memory; /* in order, L = the number of lost uncoded fragments */
	int check_each;   /* compare state with the independent rank after every frame */
};

static void run_one(const struct run_opts *o, uint64_t *rng)
{
	struct sess t;
	struct frag_dec d;
	struct frag_dec_stats st;
	uint32_t total = o->m + o->r, nfed = 0, ncoded = 0, lost_uncoded = 0, unknown, rank;
	uint32_t *order = malloc(sizeof(uint32_t) * total);
	uint32_t *coded_fed = malloc(sizeof(uint32_t) * (o->r + 1));
	uint8_t *have = calloc(o->m, 1), *frame = malloc(o->s);
	uint8_t *lost = calloc(total + 1, 1);
	uint32_t padding;
	void *mem;
	enum frag_dec_state state = FRAG_DEC_ONGOING;

	assert_true(order && coded_fed && have && frame && lost);
	sess_init(&t, o->v, o->seed, o->m, o->s, o->r, rng);
	padding = rng_below(rng, o->s);
	for (uint32_t i = 0; i < total; i++) {
		order[i] = i + 1;
		lost[i + 1] = rng_below(rng, 100) < o->loss_pct;
		if (lost[i + 1] && i < o->m)
			lost_uncoded++;
	}
	if (o->shuffle)
		for (uint32_t i = total; i > 1; i--) {
			uint32_t j = rng_below(rng, i), tmp = order[i - 1];

			order[i - 1] = order[j];
			order[j] = tmp;
		}
	/* Shuffled frames need up to min(M, R) rows; in order, the lost uncoded count is enough. */
	mem = dec_new(&d, &t, padding,
	              o->tight_memory ? lost_uncoded : (o->m < o->r ? o->m : o->r));

	for (uint32_t i = 0; i < total && state == FRAG_DEC_ONGOING; i++) {
		uint32_t n = order[i];

		if (lost[n])
			continue;
		make_frame(&t, n, frame);
		assert_int_equal(frag_dec_process(&d, n, frame, o->s, &state), FUOTA_OK);
		nfed++;
		if (n <= o->m)
			have[n - 1] = 1;
		else
			coded_fed[ncoded++] = n;
		if (o->check_each) {
			rank = indep_rank(&t, coded_fed, ncoded, have, &unknown);
			if ((state == FRAG_DEC_DONE) != (rank == unknown))
				fail_msg("M %u after %u frames: state %d, rank %u of %u", o->m,
				         nfed, state, rank, unknown);
		}
	}
	rank = indep_rank(&t, coded_fed, ncoded, have, &unknown);
	frag_dec_get_stats(&d, &st);
	assert_false(st.not_enough_memory);
	if (rank == unknown) {
		if (state != FRAG_DEC_DONE)
			fail_msg(
			        "v%d seed %d M %u S %u R %u loss %u%% shuffle %d: full rank %u but "
			        "state %d (rank %u)",
			        o->v, o->seed, o->m, o->s, o->r, o->loss_pct, o->shuffle, rank,
			        state, st.rank);
		check_image(&d, &t, padding);
		assert_int_equal(st.missing, 0);
		assert_int_equal(st.recovered, unknown);
		assert_int_equal(frag_dec_finish(&d), FRAG_DEC_DONE);
	} else {
		assert_int_equal(state, FRAG_DEC_ONGOING);
		assert_int_equal(st.missing, unknown);
		assert_int_equal(st.rank, rank);
		assert_int_equal(frag_dec_finish(&d), FRAG_DEC_FAILED);
		assert_int_equal(frag_dec_state(&d), FRAG_DEC_FAILED);
		{
			const uint8_t *img;
			size_t len;

			assert_int_equal(frag_dec_image(&d, &img, &len), FUOTA_ERR_STATE);
		}
	}
	assert_int_equal(st.received, nfed);
	assert_int_equal(st.coded_useful + st.coded_redundant, st.coded_received);
	free(mem);
	free(order);
	free(coded_fed);
	free(have);
	free(frame);
	free(lost);
	sess_free(&t);
}

static const struct {
	enum frag_version v;
	enum frag_seed seed;
} codes[] = {{FRAG_V1, FRAG_SEED_RELATIVE},
             {FRAG_V2, FRAG_SEED_RELATIVE},
             {FRAG_V2, FRAG_SEED_ABSOLUTE}};

static void test_property_small(void **state)
{
	uint64_t rng = 0x1234;
	static const uint32_t loss[] = {0, 5, 10, 20, 40};

	(void)state;
	for (int iter = 0; iter < 300; iter++) {
		struct run_opts o = {0};
		int c = iter % 3;

		o.v = codes[c].v;
		o.seed = codes[c].seed;
		o.m = 1 + rng_below(&rng, 300);
		o.s = 1 + rng_below(&rng, 255);
		o.r = rng_below(&rng, o.m / 2 + 8);
		o.loss_pct = loss[rng_below(&rng, 5)];
		o.shuffle = iter & 4;
		o.tight_memory = !o.shuffle && (iter & 8);
		run_one(&o, &rng);
	}
}

static void test_property_large(void **state)
{
	uint64_t rng = 0x5678;

	(void)state;
	for (int iter = 0; iter < 9; iter++) {
		struct run_opts o = {0};
		int c = iter % 3;

		o.v = codes[c].v;
		o.seed = codes[c].seed;
		o.m = 1000 + rng_below(&rng, 1000);
		o.s = 1 + rng_below(&rng, 24);
		o.r = o.m / 4;
		o.loss_pct = 10;
		o.shuffle = iter & 1;
		o.tight_memory = !o.shuffle;
		run_one(&o, &rng);
	}
}

/* After every frame, DONE iff the independent rank is full: completion as soon as possible,
 * never before. Small M, including powers of two and M = 1. */
static void test_done_exactly_when_full_rank(void **state)
{
	uint64_t rng = 0x9abc;
	static const uint32_t ms[] = {1, 2, 3, 4, 7, 8, 16, 21, 32, 33, 40, 64};

	(void)state;
	for (int iter = 0; iter < 240; iter++) {
		struct run_opts o = {0};
		int c = iter % 3;

		o.v = codes[c].v;
		o.seed = codes[c].seed;
		o.m = ms[(iter / 3) % (sizeof(ms) / sizeof(ms[0]))];
		o.s = 1 + rng_below(&rng, 40);
		o.r = rng_below(&rng, o.m + 4);
		o.loss_pct = 10 + rng_below(&rng, 40);
		o.shuffle = iter & 1;
		o.check_each = 1;
		run_one(&o, &rng);
	}
}

/* ---- PROTOCOL-NOTES §4.8: the interop test, M = 21, FragSize 48, 5 v1 rows ---------------- */

static void interop_case(const uint32_t *lost_n, size_t nlost, uint32_t done_at)
{
	uint64_t rng = 42;
	struct sess t;
	struct frag_dec d;
	struct frag_dec_stats st;
	uint8_t frame[48];
	void *mem;
	enum frag_dec_state state = FRAG_DEC_ONGOING;

	sess_init(&t, FRAG_V1, FRAG_SEED_RELATIVE, 21, 48, 5, &rng);
	mem = dec_new(&d, &t, 0, 5); /* LoRaMac-node's FRAG_MAX_REDUNDANCY */
	for (uint32_t n = 1; n <= 26; n++) {
		int skip = 0;

		for (size_t k = 0; k < nlost; k++)
			skip |= lost_n[k] == n;
		if (skip)
			continue;
		make_frame(&t, n, frame);
		assert_int_equal(frag_dec_process(&d, n, frame, 48, &state), FUOTA_OK);
		if (done_at && n >= done_at)
			assert_int_equal(state, FRAG_DEC_DONE);
		else if (state != FRAG_DEC_ONGOING)
			fail_msg("state %d after N = %u", state, n);
	}
	frag_dec_get_stats(&d, &st);
	if (done_at) {
		check_image(&d, &t, 0);
		assert_int_equal(st.recovered, nlost);
	} else {
		assert_int_equal(frag_dec_finish(&d), FRAG_DEC_FAILED);
		assert_false(st.not_enough_memory); /* failure by rank, not memory */
	}
	free(mem);
	sess_free(&t);
}

static void test_interop_m21(void **state)
{
	const uint32_t l29[] = {3, 10};         /* indices 2, 9 */
	const uint32_t l0120[] = {1, 2, 21};    /* indices 0, 1, 20 */
	const uint32_t l48[] = {5, 6, 7, 8, 9}; /* indices 4..8 */

	(void)state;
	interop_case(NULL, 0, 21); /* nothing lost: done at N = 21 */
	interop_case(l29, 2, 25);  /* done at N = 25, two recovered */
	interop_case(l0120, 3, 0);
	interop_case(l48, 5, 0);
}

/* ---- edge cases ---------------------------------------------------------------------------- */

static void test_all_uncoded_done_without_coded(void **state)
{
	uint64_t rng = 7;
	struct sess t;
	struct frag_dec d;
	struct frag_dec_stats st;
	uint8_t frame[200];
	enum frag_dec_state s = FRAG_DEC_ONGOING;
	void *mem;

	(void)state;
	sess_init(&t, FRAG_V2, FRAG_SEED_RELATIVE, 50, 200, 10, &rng);
	mem = dec_new(&d, &t, 17, 0);        /* no matrix memory at all */
	for (uint32_t n = 50; n >= 1; n--) { /* reverse order */
		make_frame(&t, n, frame);
		assert_int_equal(frag_dec_process(&d, n, frame, 200, &s), FUOTA_OK);
		assert_int_equal(s, n == 1 ? FRAG_DEC_DONE : FRAG_DEC_ONGOING);
	}
	check_image(&d, &t, 17);
	frag_dec_get_stats(&d, &st);
	assert_int_equal(st.coded_received, 0);
	assert_int_equal(st.recovered, 0);
	/* Frames after DONE are ignored. */
	make_frame(&t, 55, frame);
	assert_int_equal(frag_dec_process(&d, 55, frame, 200, &s), FUOTA_OK);
	assert_int_equal(s, FRAG_DEC_DONE);
	frag_dec_get_stats(&d, &st);
	assert_int_equal(st.coded_received, 0);
	free(mem);
	sess_free(&t);
}

static void test_m1(void **state)
{
	uint64_t rng = 8;
	struct sess t;
	struct frag_dec d;
	uint8_t frame[9];
	enum frag_dec_state s;
	void *mem;

	(void)state;
	/* M = 1: floor(1/2) = 0 ones per row, so coded frames carry nothing. */
	sess_init(&t, FRAG_V1, FRAG_SEED_RELATIVE, 1, 9, 3, &rng);
	mem = dec_new(&d, &t, 0, 1);
	for (uint32_t n = 2; n <= 4; n++) {
		make_frame(&t, n, frame);
		assert_int_equal(frag_dec_process(&d, n, frame, 9, &s), FUOTA_OK);
		assert_int_equal(s, FRAG_DEC_ONGOING);
	}
	make_frame(&t, 1, frame);
	assert_int_equal(frag_dec_process(&d, 1, frame, 9, &s), FUOTA_OK);
	assert_int_equal(s, FRAG_DEC_DONE);
	check_image(&d, &t, 0);
	free(mem);
	sess_free(&t);
}

static void test_bad_frames(void **state)
{
	uint64_t rng = 9;
	struct sess t;
	struct frag_dec d;
	struct frag_dec_stats st;
	uint8_t frame[16] = {0};
	enum frag_dec_state s = FRAG_DEC_ONGOING;
	void *mem;

	(void)state;
	sess_init(&t, FRAG_V2, FRAG_SEED_ABSOLUTE, 10, 8, 10, &rng);
	mem = dec_new(&d, &t, 0, 10);
	assert_int_equal(frag_dec_process(&d, 0, frame, 8, &s), FUOTA_ERR_MALFORMED);
	assert_int_equal(frag_dec_process(&d, FRAG_MAX_N + 1, frame, 8, &s), FUOTA_ERR_MALFORMED);
	assert_int_equal(frag_dec_process(&d, 0xffffffffu, frame, 8, &s), FUOTA_ERR_MALFORMED);
	assert_int_equal(frag_dec_process(&d, 1, frame, 7, &s), FUOTA_ERR_MALFORMED);
	assert_int_equal(frag_dec_process(&d, 1, frame, 9, &s), FUOTA_ERR_MALFORMED);
	assert_int_equal(frag_dec_process(&d, 1, NULL, 8, &s), FUOTA_ERR_INVALID_ARG);
	frag_dec_get_stats(&d, &st);
	assert_int_equal(st.received, 0);
	assert_int_equal(st.missing, 10);
	/* The last N the 14-bit field allows is a valid coded row. */
	make_frame(&t, FRAG_MAX_N, frame);
	assert_int_equal(frag_dec_process(&d, FRAG_MAX_N, frame, 8, &s), FUOTA_OK);
	/* Duplicates of an uncoded and of a coded frame are counted and ignored. */
	make_frame(&t, 3, frame);
	assert_int_equal(frag_dec_process(&d, 3, frame, 8, &s), FUOTA_OK);
	assert_int_equal(frag_dec_process(&d, 3, frame, 8, &s), FUOTA_OK);
	make_frame(&t, 12, frame);
	assert_int_equal(frag_dec_process(&d, 12, frame, 8, &s), FUOTA_OK);
	assert_int_equal(frag_dec_process(&d, 12, frame, 8, &s), FUOTA_OK);
	frag_dec_get_stats(&d, &st);
	assert_int_equal(st.duplicates, 2);
	assert_int_equal(st.received, 3);
	assert_int_equal(st.uncoded_received, 1);
	assert_int_equal(st.coded_received, 2);
	free(mem);
	sess_free(&t);
}

/* Uncoded fragments that arrive after the coded rows that used them as unknowns. */
static void test_uncoded_after_coded(void **state)
{
	uint64_t rng = 10;
	struct sess t;
	struct frag_dec d;
	struct frag_dec_stats st;
	uint8_t frame[13];
	enum frag_dec_state s = FRAG_DEC_ONGOING;
	void *mem;

	(void)state;
	for (int c = 0; c < 3; c++) {
		sess_init(&t, codes[c].v, codes[c].seed, 40, 13, 30, &rng);
		mem = dec_new(&d, &t, 0, 30);
		for (uint32_t n = 41; n <= 70; n++) {
			make_frame(&t, n, frame);
			assert_int_equal(frag_dec_process(&d, n, frame, 13, &s), FUOTA_OK);
		}
		frag_dec_get_stats(&d, &st);
		assert_int_equal(st.rank, st.coded_useful);
		/* Then the uncoded ones from the top down, until done. */
		for (uint32_t n = 40; n >= 1 && s == FRAG_DEC_ONGOING; n--) {
			make_frame(&t, n, frame);
			assert_int_equal(frag_dec_process(&d, n, frame, 13, &s), FUOTA_OK);
		}
		assert_int_equal(s, FRAG_DEC_DONE);
		check_image(&d, &t, 0);
		frag_dec_get_stats(&d, &st);
		assert_true(st.uncoded_received < 40); /* the FEC did part of the work */
		free(mem);
		sess_free(&t);
	}
}

static void test_memory_too_small(void **state)
{
	uint64_t rng = 11;
	struct sess t;
	struct frag_dec d;
	struct frag_dec_stats st;
	uint8_t frame[20];
	enum frag_dec_state s = FRAG_DEC_ONGOING;
	void *mem;

	(void)state;
	sess_init(&t, FRAG_V1, FRAG_SEED_RELATIVE, 30, 20, 15, &rng);
	mem = dec_new(&d, &t, 0, 2);
	/* In order with uncoded 3, 4, 5 lost: the third useful coded row does not fit. */
	for (uint32_t n = 1; n <= 45 && s == FRAG_DEC_ONGOING; n++) {
		if (n >= 3 && n <= 5)
			continue;
		make_frame(&t, n, frame);
		assert_int_equal(frag_dec_process(&d, n, frame, 20, &s), FUOTA_OK);
	}
	assert_int_equal(s, FRAG_DEC_FAILED);
	frag_dec_get_stats(&d, &st);
	assert_true(st.not_enough_memory);
	assert_int_equal(st.rank, 2);
	/* Sticky: more frames, even the missing uncoded ones, change nothing. */
	make_frame(&t, 3, frame);
	assert_int_equal(frag_dec_process(&d, 3, frame, 20, &s), FUOTA_OK);
	assert_int_equal(s, FRAG_DEC_FAILED);
	assert_int_equal(frag_dec_finish(&d), FRAG_DEC_FAILED);
	free(mem);
	sess_free(&t);
}

static void test_mem_size_formula(void **state)
{
	static const uint32_t ms[] = {1, 63, 64, 65, 1000, 5243, FRAG_MAX_N};
	struct frag_dec d;
	struct frag_code code = {.version = FRAG_V1};

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		uint32_t m = ms[i], s = 1 + (uint32_t)(i * 37 % 255);
		size_t w = (m + 63) / 64, c = (FRAG_MAX_N - m + 63) / 64;

		for (uint32_t l = 0; l <= 3 && l <= m; l++) {
			size_t want = 8 * (w * (l + 2) + c) + 2 * (m + 2 * l) + (size_t)s * (m + 1);
			size_t len = frag_dec_mem_size(m, s, l);
			void *mem;

			assert_int_equal(len, want);
			mem = malloc(len);
			assert_non_null(mem);
			code.nb_frag = m;
			assert_int_equal(frag_dec_init(&d, &code, s, 0, mem, len), FUOTA_OK);
			assert_int_equal(d.stats.max_lost, l);
			if (l > 0) {
				assert_int_equal(frag_dec_init(&d, &code, s, 0, mem, len - 1),
				                 FUOTA_OK);
				assert_int_equal(d.stats.max_lost, l - 1);
			} else {
				assert_int_equal(frag_dec_init(&d, &code, s, 0, mem, len - 1),
				                 FUOTA_ERR_NO_SPACE);
			}
			free(mem);
		}
	}
	/* L is capped at M. */
	assert_int_equal(frag_dec_mem_size(10, 5, 50), frag_dec_mem_size(10, 5, 10));
	assert_int_equal(frag_dec_mem_size(0, 5, 1), 0);
	assert_int_equal(frag_dec_mem_size(FRAG_MAX_N + 1, 5, 1), 0);
	assert_int_equal(frag_dec_mem_size(10, 0, 1), 0);
	assert_int_equal(frag_dec_mem_size(10, 256, 1), 0);
}

static void test_init_args(void **state)
{
	uint64_t mem[512];
	struct frag_dec d;
	struct frag_code code = {.nb_frag = 10, .version = FRAG_V2, .seed = FRAG_SEED_RELATIVE};
	struct frag_code bad = code;

	(void)state;
	assert_int_equal(frag_dec_init(&d, &code, 10, 0, mem, sizeof(mem)), FUOTA_OK);
	assert_int_equal(frag_dec_init(&d, &code, 10, 0, (uint8_t *)mem + 1, sizeof(mem) - 1),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_dec_init(&d, &code, 10, 10, mem, sizeof(mem)), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_dec_init(&d, &code, 0, 0, mem, sizeof(mem)), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_dec_init(&d, &code, 256, 0, mem, sizeof(mem)), FUOTA_ERR_INVALID_ARG);
	bad.nb_frag = 0;
	assert_int_equal(frag_dec_init(&d, &bad, 10, 0, mem, sizeof(mem)), FUOTA_ERR_INVALID_ARG);
	bad.nb_frag = FRAG_MAX_N + 1;
	assert_int_equal(frag_dec_init(&d, &bad, 10, 0, mem, sizeof(mem)), FUOTA_ERR_INVALID_ARG);
	bad = code;
	bad.version = (enum frag_version)3;
	assert_int_equal(frag_dec_init(&d, &bad, 10, 0, mem, sizeof(mem)), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_dec_init(&d, &code, 10, 0, mem, 16), FUOTA_ERR_NO_SPACE);
}

/* Workload "c" of the brief: 1 MiB, FragSize 200, 25 % redundancy, 10 % of frames lost. */
static void test_workload_c(void **state)
{
	uint64_t rng = 12;
	struct sess t;
	struct frag_dec d;
	struct frag_dec_stats st;
	uint32_t m = (1048576 + 199) / 200, r = (m + 3) / 4, lost_uncoded = 0;
	uint8_t frame[200];
	enum frag_dec_state s = FRAG_DEC_ONGOING;
	uint8_t *lost = calloc(m + r + 1, 1);
	void *mem;

	(void)state;
	assert_int_equal(m, 5243);
	assert_int_equal(r, 1311);
	sess_init(&t, FRAG_V2, FRAG_SEED_RELATIVE, m, 200, r, &rng);
	for (uint32_t n = 1; n <= m + r; n++) {
		lost[n] = rng_below(&rng, 10) == 0;
		lost_uncoded += lost[n] && n <= m;
	}
	mem = dec_new(&d, &t, (uint32_t)((size_t)m * 200 - 1048576), lost_uncoded);
	for (uint32_t n = 1; n <= m + r && s == FRAG_DEC_ONGOING; n++) {
		if (lost[n])
			continue;
		make_frame(&t, n, frame);
		assert_int_equal(frag_dec_process(&d, n, frame, 200, &s), FUOTA_OK);
	}
	assert_int_equal(s, FRAG_DEC_DONE);
	check_image(&d, &t, (uint32_t)((size_t)m * 200 - 1048576));
	frag_dec_get_stats(&d, &st);
	assert_int_equal(st.recovered, lost_uncoded);
	free(mem);
	free(lost);
	sess_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_interop_m21),
	        cmocka_unit_test(test_all_uncoded_done_without_coded),
	        cmocka_unit_test(test_m1),
	        cmocka_unit_test(test_bad_frames),
	        cmocka_unit_test(test_uncoded_after_coded),
	        cmocka_unit_test(test_memory_too_small),
	        cmocka_unit_test(test_mem_size_formula),
	        cmocka_unit_test(test_init_args),
	        cmocka_unit_test(test_done_exactly_when_full_rank),
	        cmocka_unit_test(test_property_small),
	        cmocka_unit_test(test_property_large),
	        cmocka_unit_test(test_workload_c),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
