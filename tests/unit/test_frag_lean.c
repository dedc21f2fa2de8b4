/* TS004 lean device decoder (frag_lean): the image it leaves in its "flash" (a RAM buffer behind
 * the callbacks) must be byte-identical to the full decoder's (frag_dec) over many random loss
 * patterns, with the same counters; the failures must be exact; bad input is refused. */
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
#include "fuota/frag_lean.h"
#include "fuota/frag_row.h"

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull); /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The device's flash: a RAM buffer; fail_at > 0 makes the fail_at-th access fail. */
struct flash {
	uint8_t *bytes;
	size_t len;
	unsigned calls, fail_at;
	unsigned reads; /* read calls */
};

static int fl_read(void *ctx, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct flash *f = ctx;

	assert_true((size_t)off + len <= f->len);
	if (f->fail_at && ++f->calls == f->fail_at)
		return -1;
	f->reads++;
	memcpy(buf, f->bytes + off, len);
	return 0;
}

static int fl_write(void *ctx, uint32_t off, const uint8_t *buf, uint32_t len)
{
	struct flash *f = ctx;

	assert_true((size_t)off + len <= f->len);
	if (f->fail_at && ++f->calls == f->fail_at)
		return -1;
	memcpy(f->bytes + off, buf, len);
	return 0;
}

/* The flash mapped in place (XIP): counted as a read access. */
static const uint8_t *fl_map(void *ctx, uint32_t off, uint32_t len)
{
	struct flash *f = ctx;

	assert_true((size_t)off + len <= f->len);
	if (f->fail_at && ++f->calls == f->fail_at)
		return NULL;
	return f->bytes + off;
}

/* Frame N of the image (coded rows by frag_row_line and a byte XOR). */
static void make_frame(const struct frag_code *code, const uint8_t *image, uint32_t s, uint32_t n,
                       uint8_t *out)
{
	uint32_t m = code->nb_frag;
	uint64_t *line = calloc(frag_line_words(m), 8);

	assert_non_null(line);
	if (n <= m) {
		memcpy(out, image + (size_t)(n - 1) * s, s);
	} else {
		assert_int_equal(frag_row_line(code, n - m, line, frag_line_words(m), NULL),
		                 FUOTA_OK);
		memset(out, 0, s);
		for (uint32_t x = 0; x < m; x++)
			if ((line[x / 64] >> (x % 64)) & 1)
				for (uint32_t b = 0; b < s; b++)
					out[b] ^= image[(size_t)x * s + b];
	}
	free(line);
}

/* Both decoders of one session, fed the same frames. */
struct pair {
	struct frag_dec full;
	struct frag_lean lean;
	struct flash fl;
	void *mem_full, *mem_lean;
	enum frag_dec_state st_full, st_lean;
};

/* Rows batched by the lean decoder in the pairs built next (0: none). */
static uint32_t g_batch;
/* Pairs whose lean decoder drew its lines with the encoder's draws (the table as scratch), and
 * with frag_row_line. */
static unsigned g_fast_lines, g_plain_lines;
/* The pairs built next map their flash (struct frag_lean_io.map). */
static bool g_map;
/* The read buffer (fragments) of the pairs built next. */
static uint32_t g_rbuf;
/* The pairs built next take the generic coded-equation loop even on a BMI2 CPU. */
static bool g_no_bmi2;

static void pair_init(struct pair *p, const struct frag_code *code, uint32_t s, uint32_t padding,
                      uint32_t max_lost)
{
	uint32_t m = code->nb_frag;
	size_t full = frag_dec_mem_size(m, s, m),
	       lean = frag_lean_mem_size(m, s, max_lost) +
	              frag_lean_batch_mem(m, s, max_lost, g_batch) + frag_lean_rbuf_mem(s, g_rbuf);
	struct frag_lean_io io = {fl_read, fl_write, &p->fl, g_map ? fl_map : NULL};

	memset(p, 0, sizeof(*p));
	p->mem_full = malloc(full);
	p->mem_lean = malloc(lean);
	p->fl.len = (size_t)m * s;
	p->fl.bytes = malloc(p->fl.len);
	assert_non_null(p->mem_full);
	assert_non_null(p->mem_lean);
	assert_non_null(p->fl.bytes);
	memset(p->fl.bytes, 0xff, p->fl.len); /* erased flash */
	assert_int_equal(frag_dec_init(&p->full, code, s, padding, p->mem_full, full), FUOTA_OK);
	assert_int_equal(frag_lean_init_buffered(&p->lean, code, s, padding, &io, g_batch, g_rbuf,
	                                         p->mem_lean, lean),
	                 FUOTA_OK);
	if (g_no_bmi2)
		p->lean.bmi2 = false;
	assert_int_equal(p->lean.max_lost, max_lost > m ? m : max_lost);
	assert_int_equal(p->lean.line_scratch != NULL,
	                 g_batch >= 2 && ((size_t)1 << g_batch) * s >= FRAG_ENC_LINE_SCRATCH + 7u);
	if (p->lean.line_scratch)
		g_fast_lines++;
	else
		g_plain_lines++;
}

static void pair_free(struct pair *p)
{
	free(p->mem_full);
	free(p->mem_lean);
	free(p->fl.bytes);
}

static void pair_feed(struct pair *p, uint32_t n, const uint8_t *frame, uint32_t s)
{
	assert_int_equal(frag_dec_process(&p->full, n, frame, s, &p->st_full), FUOTA_OK);
	assert_int_equal(frag_lean_process(&p->lean, n, frame, s, &p->st_lean), FUOTA_OK);
	assert_int_equal(p->st_full, p->st_lean);
}

static void same_stats(const struct pair *p)
{
	struct frag_dec_stats a, b;

	frag_dec_get_stats(&p->full, &a);
	frag_lean_get_stats(&p->lean, &b);
	assert_int_equal(a.received, b.received);
	assert_int_equal(a.uncoded_received, b.uncoded_received);
	assert_int_equal(a.coded_received, b.coded_received);
	assert_int_equal(a.missing, b.missing);
	assert_int_equal(a.coded_useful, b.coded_useful);
	assert_int_equal(a.coded_redundant, b.coded_redundant);
	assert_int_equal(a.duplicates, b.duplicates);
	assert_int_equal(a.rank, b.rank);
	assert_int_equal(a.recovered, b.recovered);
	assert_int_equal(a.not_enough_memory, b.not_enough_memory);
}

/* One random session: M, S, loss and redundancy drawn from rng; frames in order, each lost with
 * the session's probability. Returns 1 if it was rebuilt. */
static int random_session(const struct frag_code *base, uint64_t *rng)
{
	struct frag_code code = *base;
	uint32_t m = 1 + (uint32_t)(rng_next(rng) % 300), s = 1 + (uint32_t)(rng_next(rng) % 40);
	uint32_t loss = (uint32_t)(rng_next(rng) % 30), r = m / 4 + 2;
	uint32_t padding = (uint32_t)(rng_next(rng) % s);
	uint8_t *image, frame[64];
	struct pair p;
	const uint8_t *img;
	size_t len;
	int done;

	code.nb_frag = m;
	image = malloc((size_t)m * s);
	assert_non_null(image);
	for (size_t i = 0; i < (size_t)m * s; i++)
		image[i] = (uint8_t)rng_next(rng);
	memset(image + (size_t)m * s - padding, 0, padding);
	pair_init(&p, &code, s, padding, m);
	for (uint32_t n = 1; n <= m + r && p.st_full == FRAG_DEC_ONGOING; n++) {
		if (rng_next(rng) % 100 < loss)
			continue;
		make_frame(&code, image, s, n, frame);
		pair_feed(&p, n, frame, s);
		same_stats(&p);
	}
	assert_int_equal(frag_dec_finish(&p.full), frag_lean_finish(&p.lean));
	same_stats(&p);
	done = frag_lean_state(&p.lean) == FRAG_DEC_DONE;
	if (done) {
		assert_int_equal(frag_dec_image(&p.full, &img, &len), FUOTA_OK);
		assert_int_equal(len, (size_t)m * s - padding);
		assert_memory_equal(p.fl.bytes, img, len);
		assert_memory_equal(p.fl.bytes, image, len);
	}
	pair_free(&p);
	free(image);
	return done;
}

static void run_random(enum frag_version v, enum frag_seed seed, uint64_t rng)
{
	struct frag_code code = {.nb_frag = 1, .version = v, .seed = seed};
	unsigned done = 0, total = 300;

	for (unsigned i = 0; i < total; i++)
		done += (unsigned)random_session(&code, &rng);
	/* Both outcomes must have been exercised. */
	assert_true(done > total / 2);
	assert_true(done < total);
}

static void test_random_v1(void **state)
{
	(void)state;
	g_batch = 0;
	run_random(FRAG_V1, FRAG_SEED_RELATIVE, 1);
}

static void test_random_v2(void **state)
{
	(void)state;
	g_batch = 0;
	run_random(FRAG_V2, FRAG_SEED_RELATIVE, 2);
	run_random(FRAG_V2, FRAG_SEED_ABSOLUTE, 3);
}

/* The same sessions with rows batched by 2, 3, 6 and 8, and with the flash mapped: the same
 * images and counters. */
static void test_random_batched(void **state)
{
	static const uint32_t batches[] = {2, 3, 6, 8};

	(void)state;
	g_fast_lines = g_plain_lines = 0;
	for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		g_batch = batches[i];
		run_random(FRAG_V1, FRAG_SEED_RELATIVE, 10 + i);
		run_random(FRAG_V2, FRAG_SEED_RELATIVE, 20 + i);
		run_random(FRAG_V2, FRAG_SEED_ABSOLUTE, 30 + i);
	}
	g_map = true; /* the same with the flash mapped: the same images and counters */
	for (size_t i = 0; i < 2; i++) {
		g_batch = i ? 6 : 0;
		run_random(FRAG_V1, FRAG_SEED_RELATIVE, 40 + i);
		run_random(FRAG_V2, FRAG_SEED_ABSOLUTE, 50 + i);
	}
	g_map = false;
	g_batch = 0;
	/* both line paths decoded many of these sessions */
	assert_true(g_fast_lines > 300);
	assert_true(g_plain_lines > 300);
}

/* The same sessions with the held fragments read in runs through a read buffer of 2, 5 and 64
 * fragments (rows batched by 3 and 6, the read callback): the same images and counters. */
static void test_random_buffered(void **state)
{
	static const uint32_t rbufs[] = {2, 5, 64};

	(void)state;
	for (size_t i = 0; i < sizeof(rbufs) / sizeof(rbufs[0]); i++) {
		g_rbuf = rbufs[i];
		g_batch = i % 2 ? 3 : 6;
		run_random(FRAG_V1, FRAG_SEED_RELATIVE, 60 + i);
		run_random(FRAG_V2, FRAG_SEED_ABSOLUTE, 70 + i);
	}
	g_rbuf = 0;
	g_batch = 0;
}

/* The generic coded_equation loop, which a BMI2 CPU otherwise never runs (pext instead): the
 * same images and counters as the full decoder, batched and not. */
static void test_random_generic_equations(void **state)
{
	(void)state;
	g_no_bmi2 = true;
	run_random(FRAG_V1, FRAG_SEED_RELATIVE, 81);
	run_random(FRAG_V2, FRAG_SEED_ABSOLUTE, 82);
	g_batch = 4;
	run_random(FRAG_V2, FRAG_SEED_RELATIVE, 83);
	g_batch = 0;
	g_no_bmi2 = false;
}

/* A read buffer of one fragment is none (runs are read from two fragments up): rbuf = 1 takes
 * no memory from the lost fragments' room, and frag_lean_rbuf_mem counts none for it. */
static void test_rbuf_one_is_none(void **state)
{
	struct frag_code code = {.nb_frag = 200, .version = FRAG_V1};
	struct flash fl = {0};
	struct frag_lean_io io = {fl_read, fl_write, &fl, NULL};
	const size_t len = frag_lean_mem_size(200, 16, 40) + frag_lean_batch_mem(200, 16, 40, 4);
	uint64_t *mem = malloc(len);
	struct frag_lean a, b;

	(void)state;
	assert_non_null(mem);
	assert_int_equal(frag_lean_init_buffered(&a, &code, 16, 0, &io, 4, 0, mem, len), FUOTA_OK);
	assert_int_equal(frag_lean_init_buffered(&b, &code, 16, 0, &io, 4, 1, mem, len), FUOTA_OK);
	assert_true(a.max_lost >= 40u);
	assert_int_equal(b.max_lost, a.max_lost);
	assert_int_equal(b.rbuf_frags, 0);
	assert_null(b.rbuf);
	assert_int_equal(frag_lean_rbuf_mem(16, 1), 0);
	assert_int_equal(frag_lean_rbuf_mem(16, 2), 32);
	free(mem);
}

/* One session decoded without and with a read buffer of 32 fragments: the same image, and the
 * buffer takes the held fragments in runs, several times fewer read calls. */
static void test_rbuf_fewer_reads(void **state)
{
	struct frag_code code = {.nb_frag = 640, .version = FRAG_V1};
	static uint8_t image[640 * 16];
	uint8_t frame[16];
	unsigned reads[2];

	(void)state;
	for (unsigned i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 29 + i / 7);
	g_batch = 6;
	for (int b = 0; b < 2; b++) {
		struct pair p;

		g_rbuf = b ? 32 : 0;
		pair_init(&p, &code, 16, 0, 640);
		for (uint32_t n = 1; n <= 640; n++)
			if (n % 10 != 3) /* 64 lost */
				assert_int_equal(frag_lean_process(&p.lean, n, image + (n - 1) * 16,
				                                   16, NULL),
				                 FUOTA_OK);
		for (uint32_t n = 641; n <= 900 && frag_lean_state(&p.lean) == FRAG_DEC_ONGOING;
		     n++) {
			make_frame(&code, image, 16, n, frame);
			assert_int_equal(frag_lean_process(&p.lean, n, frame, 16, NULL), FUOTA_OK);
		}
		assert_int_equal(frag_lean_state(&p.lean), FRAG_DEC_DONE);
		assert_memory_equal(p.fl.bytes, image, sizeof(image));
		reads[b] = p.fl.reads;
		pair_free(&p);
	}
	assert_true(reads[1] * 4u < reads[0]);
	g_rbuf = 0;
	g_batch = 0;
}

/* Lost fragments arriving after the coded rows began, batched and not: each is one more
 * equation, and the image is still exact. */
static void test_late_uncoded(void **state)
{
	struct frag_code code = {.nb_frag = 60, .version = FRAG_V1};
	uint8_t image[60 * 8], frame[8];
	uint32_t batches[] = {0, 4};

	(void)state;
	for (unsigned i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 13 + 5);
	for (size_t b = 0; b < 2; b++) {
		struct pair p;

		g_batch = batches[b];
		pair_init(&p, &code, 8, 0, 60);
		for (uint32_t n = 1; n <= 60; n++)
			if (n % 6 != 0) /* 10 lost */
				assert_int_equal(
				        frag_lean_process(&p.lean, n, image + (n - 1) * 8, 8, NULL),
				        FUOTA_OK);
		for (uint32_t n = 61; n <= 66; n++) { /* 6 coded rows, then 4 of the lost */
			make_frame(&code, image, 8, n, frame);
			assert_int_equal(frag_lean_process(&p.lean, n, frame, 8, NULL), FUOTA_OK);
		}
		for (uint32_t n = 6; n <= 24 && frag_lean_state(&p.lean) == FRAG_DEC_ONGOING;
		     n += 6)
			assert_int_equal(
			        frag_lean_process(&p.lean, n, image + (n - 1) * 8, 8, NULL),
			        FUOTA_OK);
		for (uint32_t n = 67; n <= 90 && frag_lean_state(&p.lean) == FRAG_DEC_ONGOING;
		     n++) {
			make_frame(&code, image, 8, n, frame);
			assert_int_equal(frag_lean_process(&p.lean, n, frame, 8, NULL), FUOTA_OK);
		}
		assert_int_equal(frag_lean_state(&p.lean), FRAG_DEC_DONE);
		assert_memory_equal(p.fl.bytes, image, sizeof(image));
		pair_free(&p);
	}
	g_batch = 0;
}

/* A big session as devices get it: M = 2000, 10 % lost, rows until done. */
static void test_big_session(void **state)
{
	struct frag_code code = {.nb_frag = 2000, .version = FRAG_V1};
	uint32_t s = 16, m = code.nb_frag;
	uint64_t rng = 99;
	uint8_t *image = malloc((size_t)m * s), frame[16];
	struct pair p;

	(void)state;
	assert_non_null(image);
	for (size_t i = 0; i < (size_t)m * s; i++)
		image[i] = (uint8_t)rng_next(&rng);
	pair_init(&p, &code, s, 0, m / 5);
	for (uint32_t n = 1; n <= 2 * m && p.st_lean == FRAG_DEC_ONGOING; n++) {
		if (rng_next(&rng) % 10 == 0)
			continue;
		make_frame(&code, image, s, n, frame);
		pair_feed(&p, n, frame, s);
	}
	assert_int_equal(p.st_lean, FRAG_DEC_DONE);
	same_stats(&p);
	assert_memory_equal(p.fl.bytes, image, (size_t)m * s);
	pair_free(&p);
	free(image);
}

/* Rank short: 3 lost fragments, 2 coded rows. FAILED at finish, rank 2 (or less), 3 missing,
 * not for lack of memory; exactly what the full decoder says. */
static void test_rank_short(void **state)
{
	struct frag_code code = {.nb_frag = 20, .version = FRAG_V1};
	uint8_t image[20 * 4], frame[4];
	struct frag_dec_stats st;
	struct pair p;

	(void)state;
	for (unsigned i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 7 + 1);
	pair_init(&p, &code, 4, 0, 20);
	for (uint32_t n = 1; n <= 22; n++) {
		if (n == 3 || n == 9 || n == 14)
			continue;
		make_frame(&code, image, 4, n, frame);
		pair_feed(&p, n, frame, 4);
	}
	assert_int_equal(p.st_lean, FRAG_DEC_ONGOING);
	assert_int_equal(frag_lean_finish(&p.lean), FRAG_DEC_FAILED);
	assert_int_equal(frag_dec_finish(&p.full), FRAG_DEC_FAILED);
	frag_lean_get_stats(&p.lean, &st);
	assert_int_equal(st.missing, 3);
	assert_true(st.rank <= 2);
	assert_int_equal(st.coded_received, 2);
	assert_false(st.not_enough_memory);
	same_stats(&p);
	/* Frames after FAILED are ignored. */
	make_frame(&code, image, 4, 23, frame);
	assert_int_equal(frag_lean_process(&p.lean, 23, frame, 4, NULL), FUOTA_OK);
	assert_int_equal(frag_lean_state(&p.lean), FRAG_DEC_FAILED);
	pair_free(&p);
}

/* More lost fragments than the memory holds: FAILED, not enough memory, at the first coded row. */
static void test_not_enough_memory(void **state)
{
	struct frag_code code = {.nb_frag = 100, .version = FRAG_V2};
	uint8_t image[100 * 8], frame[8];
	struct frag_dec_stats st;
	struct pair p;
	enum frag_dec_state s;

	(void)state;
	memset(image, 0x5a, sizeof(image));
	pair_init(&p, &code, 8, 0, 4);
	frag_lean_get_stats(&p.lean, &st);
	assert_int_equal(st.max_lost, 4);
	for (uint32_t n = 1; n <= 100; n++) {
		if (n % 20 == 0)
			continue; /* 5 lost */
		assert_int_equal(frag_lean_process(&p.lean, n, image + (n - 1) * 8, 8, &s),
		                 FUOTA_OK);
	}
	make_frame(&code, image, 8, 101, frame);
	assert_int_equal(frag_lean_process(&p.lean, 101, frame, 8, &s), FUOTA_OK);
	assert_int_equal(s, FRAG_DEC_FAILED);
	frag_lean_get_stats(&p.lean, &st);
	assert_true(st.not_enough_memory);
	pair_free(&p);
}

static void test_bad_input(void **state)
{
	struct frag_code code = {.nb_frag = 10, .version = FRAG_V1};
	struct flash fl = {0};
	struct frag_lean_io io = {fl_read, fl_write, &fl, NULL},
	                    no_read = {NULL, fl_write, &fl, NULL};
	struct frag_lean d;
	struct frag_dec_stats before, after;
	uint64_t mem[256];
	uint8_t flash[10 * 8], frame[9] = {0};

	(void)state;
	fl.bytes = flash;
	fl.len = sizeof(flash);
	assert_int_equal(frag_lean_init(&d, &code, 8, 8, &io, mem, sizeof(mem)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_lean_init(&d, &code, 0, 0, &io, mem, sizeof(mem)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_lean_init(&d, &code, 8, 0, &no_read, mem, sizeof(mem)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_lean_init(&d, &code, 8, 0, &io, (uint8_t *)mem + 1, 100),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_lean_init(&d, &code, 8, 0, &io, mem, 8), FUOTA_ERR_NO_SPACE);
	assert_int_equal(frag_lean_init_buffered(&d, &code, 8, 0, &io, 2, FRAG_LEAN_MAX_RBUF + 1u,
	                                         mem, sizeof(mem)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_lean_mem_size(0, 8, 1), 0);
	assert_int_equal(frag_lean_mem_size(16384, 8, 1), 0);
	assert_int_equal(frag_lean_mem_size(10, 256, 1), 0);
	assert_int_equal(frag_lean_init(&d, &code, 8, 0, &io, mem, sizeof(mem)), FUOTA_OK);
	frag_lean_get_stats(&d, &before);
	assert_int_equal(before.max_lost, 10);
	assert_int_equal(frag_lean_process(&d, 0, frame, 8, NULL), FUOTA_ERR_MALFORMED);
	assert_int_equal(frag_lean_process(&d, 16384, frame, 8, NULL), FUOTA_ERR_MALFORMED);
	assert_int_equal(frag_lean_process(&d, 1, frame, 7, NULL), FUOTA_ERR_MALFORMED);
	assert_int_equal(frag_lean_process(&d, 1, frame, 9, NULL), FUOTA_ERR_MALFORMED);
	assert_int_equal(frag_lean_process(&d, 1, NULL, 8, NULL), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_lean_process(NULL, 1, frame, 8, NULL), FUOTA_ERR_INVALID_ARG);
	frag_lean_get_stats(&d, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(frag_lean_state(&d), FRAG_DEC_ONGOING);
	/* A flash that fails: the session fails, with FUOTA_ERR_IO. */
	fl.fail_at = 1;
	assert_int_equal(frag_lean_process(&d, 1, frame, 8, NULL), FUOTA_ERR_IO);
	assert_int_equal(frag_lean_state(&d), FRAG_DEC_FAILED);
	/* A mapped flash whose map fails at the first coded row: the same. */
	io.map = fl_map;
	fl.fail_at = 0;
	assert_int_equal(frag_lean_init(&d, &code, 8, 0, &io, mem, sizeof(mem)), FUOTA_OK);
	for (uint32_t n = 1; n <= 9; n++)
		assert_int_equal(frag_lean_process(&d, n, frame, 8, NULL), FUOTA_OK);
	fl.calls = 0;
	fl.fail_at = 1;
	assert_int_equal(frag_lean_process(&d, 11, frame, 8, NULL), FUOTA_ERR_IO);
	assert_int_equal(frag_lean_state(&d), FRAG_DEC_FAILED);
}

/* Memory at or below LoRaMac-node's FragDecoder for the benchmark sessions (10 % lost) and for a
 * spread of sessions from M = 100 up. */
static void test_memory_vs_loramac(void **state)
{
	static const uint32_t ms[][2] = {{1366, 48}, {21846 / 2, 48}, {5243, 200}, {16383, 232},
	                                 {100, 50},  {275, 239},      {1097, 239}};

	(void)state;
	assert_int_equal(frag_lean_loramac_mem(5243, 200, 525),
	                 66 * 525 + 2 * 5243 + 66 + 656 + 200 + 2 * 66);
	/* lean-bench's workload c at 10 % loss (548 lost): rows batched by 6 and a read buffer of
	 * 48 fragments, still at or below */
	assert_int_equal(frag_lean_rbuf_mem(200, 48), 9600);
	assert_int_equal(frag_lean_rbuf_mem(200, FRAG_LEAN_MAX_RBUF + 1u), 0);
	assert_true(frag_lean_mem_size(5243, 200, 548) + frag_lean_batch_mem(5243, 200, 548, 6) +
	                    frag_lean_rbuf_mem(200, 48) <=
	            frag_lean_loramac_mem(5243, 200, 548));
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		uint32_t m = ms[i][0], s = ms[i][1];

		for (uint32_t pct = 1; pct <= 30; pct++) {
			uint32_t l = (m * pct + 99) / 100;

			assert_true(frag_lean_mem_size(m, s, l) <= frag_lean_loramac_mem(m, s, l));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_random_v1),
	        cmocka_unit_test(test_random_v2),
	        cmocka_unit_test(test_big_session),
	        cmocka_unit_test(test_rank_short),
	        cmocka_unit_test(test_not_enough_memory),
	        cmocka_unit_test(test_bad_input),
	        cmocka_unit_test(test_memory_vs_loramac),
	        cmocka_unit_test(test_random_batched),
	        cmocka_unit_test(test_late_uncoded),
	        cmocka_unit_test(test_random_buffered),
	        cmocka_unit_test(test_rbuf_fewer_reads),
	        cmocka_unit_test(test_random_generic_equations),
	        cmocka_unit_test(test_rbuf_one_is_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
