/* The shared-cycle line path of the encoder (see frag_enc_impl.h): v1 rows whose seeds are LFSR
 * states walk windows of one cycle, so many rows draw the same windows. Workload b of the bench
 * (M = 21,846, 2,185 rows of 10,923 draws) covers the 2^23 - 1 states almost three times over.
 *
 * The cycle is walked once, from state 1, in chunks of windows. Each window is drawn once, and
 * its position is stored at its residue: last[r] = the last window drawn at fragment r. A row is
 * the windows p .. p + L - 1, so when the walk reaches p + L the row's line is every fragment
 * whose last window is at p or later, read off last[] with one vector compare per 32 fragments.
 * The rows' first windows come from a scan for their seeds in the same walk; the rows are met in
 * cycle order and, all being L long, end in that order too.
 *
 * Positions are kept modulo 2^16, as an age: now - last[r]. Every 2^16 - L windows, ages of L and
 * more are pinned back to L (age_out), so an age never wraps and an old window never looks
 * recent; this needs L + FRAG_ENC_CHUNK <= 2^16 - 1.
 *
 * Equal to draw_line bit for bit; the unit tests (unit.frag_enc_sweep) check that against
 * frag_row_line. */
#include <string.h>

#include "frag_enc_impl.h"

/* States of the LFSR cycle (s[j + 23] = s[j] ^ s[j + 5] is maximal-length). */
#define CYCLE ((1u << 23) - 1u)
/* Ages modulo 2^16: the longest row (want) whose ages stay apart from wrapped ones. */
#define MAX_WANT (65535u - FRAG_ENC_CHUNK)
/* Rows must cover the cycle this many times over (count * L >= COVER * CYCLE): below that, the
 * seed scan over the whole cycle costs more than the draws the rows share. */
#define COVER 1u

struct sweep_row {
	uint32_t p; /* window of the row's first draw on the cycle started at state 1 */
	uint32_t i; /* row first + i */
};

static size_t align64(size_t v)
{
	return (v + 63u) & ~(size_t)63u;
}

static int code_ok(const struct frag_enc *enc)
{
	return enc && enc->kern && enc->kern->seeds && enc->kern->recent && enc->kern->age_out &&
	       enc->code.version == FRAG_V1 && enc->mod == enc->code.nb_frag && enc->want >= 1u &&
	       enc->want <= MAX_WANT;
}

/* last[]: one age per bit of a line (line_bytes * 8, a multiple of 64). */
static size_t last_bytes(const struct frag_enc *enc)
{
	return align64((size_t)enc->line_bytes * 8u * sizeof(uint16_t));
}

size_t frag_enc_sweep_mem(const struct frag_enc *enc, uint32_t count)
{
	if (!code_ok(enc) || count == 0)
		return 0;
	return last_bytes(enc) + align64((size_t)count * sizeof(struct sweep_row));
}

size_t frag_enc_sweep_bytes(const struct frag_enc *enc, uint32_t count)
{
	if (!code_ok(enc) || (uint64_t)count * enc->want < (uint64_t)COVER * CYCLE)
		return 0;
	return frag_enc_sweep_mem(enc, count);
}

int frag_enc_sweep_ok(const struct frag_enc *enc, uint32_t first, uint32_t count)
{
	return frag_enc_sweep_bytes(enc, count) > 0 && first >= 1u &&
	       (uint64_t)first + count - 1u <= FRAG_ENC_SWEEP_MAX_ROW;
}

/* The rows whose seeds are windows of the chunk at base (below the cycle's end), appended to
 * rows in cycle order. Returns how many rows are known now. */
static uint32_t find_rows(const struct frag_enc *enc, uint32_t first, uint32_t count,
                          const uint64_t *sw, uint32_t base, uint32_t *hits, struct sweep_row *rows,
                          uint32_t found)
{
	uint32_t k = enc->kern->seeds(sw, first, count, hits);

	for (uint32_t j = 0; j < k && base + hits[j] < CYCLE && found < count; j++) {
		uint32_t s = (uint32_t)(frag_enc_stream_bits(sw, hits[j]) & 0x7fffffu);

		rows[found].p = base + hits[j] + 1u; /* the first draw is prbs23(seed) */
		rows[found].i = (s - 1u) / 1001u - first;
		found++;
	}
	return found;
}

/* last[r] = the window of each draw rb[j], j0 <= j < j1, of the chunk at base. */
static void mark(uint16_t *last, const uint32_t *rb, uint32_t base, uint32_t j0, uint32_t j1)
{
#pragma GCC unroll 8
	for (uint32_t j = j0; j < j1; j++)
		last[rb[j]] = (uint16_t)(base + j);
}

/* One walk state: the rows found, started and ended, and the last age_out. */
struct walk {
	struct sweep_row *rows;
	uint32_t found, head, tail; /* rows found; rows[0 .. head) started; [0 .. tail) done */
	uint32_t fresh;             /* the `now` of the last age_out */
};

/* Draws the chunk at base, marks it and writes the line of every row that ends in it. */
static void walk_chunk(const struct frag_enc *enc, struct walk *w, uint32_t base, uint32_t *rb,
                       const uint64_t *sw, uint16_t *last, uint8_t *lines)
{
	const uint32_t len = enc->want;
	uint32_t j = 0;

	enc->kern->draws(enc, sw, 0, FRAG_ENC_CHUNK, rb);
	while (w->tail < w->head && w->rows[w->tail].p + len <= base + FRAG_ENC_CHUNK) {
		const struct sweep_row *r = &w->rows[w->tail++];
		uint32_t e = r->p + len - base;

		mark(last, rb, base, j, e);
		j = e;
		enc->kern->recent(last, (uint16_t)(base + e - 1u), (uint16_t)len,
		                  lines + (size_t)r->i * enc->line_bytes, enc->line_bytes);
	}
	mark(last, rb, base, j, FRAG_ENC_CHUNK);
}

int frag_enc_sweep_lines(const struct frag_enc *enc, uint32_t first, uint32_t count, uint8_t *lines,
                         uint64_t *sw, uint32_t *rb, void *mem)
{
	const uint32_t len = enc->want, nl = enc->line_bytes * 8u;
	uint16_t *last = mem;
	struct walk w = {(struct sweep_row *)(void *)((uint8_t *)mem + last_bytes(enc)), 0, 0, 0,
	                 0xffffffffu};
	/* rb holds a chunk's draws; the seed scan's hits go after them */
	uint32_t *hits = rb;

	/* every age starts at len: old */
	for (uint32_t x = 0; x < nl; x++)
		last[x] = (uint16_t)(w.fresh - len);
	frag_enc_stream_start(sw, 1u);
	for (uint32_t base = 0; w.tail < count; base += FRAG_ENC_CHUNK) {
		if (base) {
			frag_enc_stream_next(sw);
			if (base >= CYCLE + len)
				return -1; /* a row was not found (cannot happen: seeds are states)
				            */
		}
		if (base < CYCLE && w.found < count)
			w.found = find_rows(enc, first, count, sw, base, hits, w.rows, w.found);
		while (w.head < w.found && w.rows[w.head].p < base + FRAG_ENC_CHUNK)
			w.head++;
		/* ages up to the chunk's end stay below 2^16 (see the top of the file) */
		if (base + FRAG_ENC_CHUNK - 1u - w.fresh > 65535u - len) {
			w.fresh = base - 1u;
			enc->kern->age_out(last, nl, (uint16_t)w.fresh, (uint16_t)len);
		}
		if (w.tail < w.head)
			walk_chunk(enc, &w, base, rb, sw, last, lines);
	}
	return 0;
}
