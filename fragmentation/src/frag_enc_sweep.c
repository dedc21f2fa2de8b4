/* The shared-cycle line path of the encoder (see frag_enc_impl.h): v1 rows whose seeds are LFSR
 * states walk windows of one cycle, so many rows draw the same windows. Workload b of the bench
 * (M = 21,846, 2,185 rows of 10,923 draws) covers the 2^23 - 1 states almost three times over.
 *
 * The cycle is walked once, in chunks of windows from the first row's. Each window is drawn once,
 * and its position is stored at its residue: last[r] = the last window drawn at fragment r. A row
 * is the windows p .. p + L - 1, so when the walk reaches p + L the row's line is every fragment
 * whose last window is at p or later, read off last[] with one vector compare per 32 fragments.
 * The rows' first windows come from a table made at build time (frag_seed_pos.c, by
 * gen/frag_seed_gen.c), taken in cycle order (the table's); all being L long, the rows end in that
 * order too.
 * Where no row needs the windows up to the next row's first, the walk jumps there (the stream
 * restarts at that row's state).
 *
 * Positions are kept modulo 2^16, as an age: now - last[r]. Every 2^16 - L windows, ages of L and
 * more are pinned back to L (age_out), so an age never wraps and an old window never looks
 * recent; this needs L + FRAG_ENC_CHUNK <= 2^16 - 1.
 *
 * Equal to draw_line bit for bit; the unit tests (unit.frag_enc_sweep) check that against
 * frag_row_line. */
#include <string.h>

#include "frag_enc_impl.h"

/* Ages modulo 2^16: the longest row (want) whose ages stay apart from wrapped ones. */
#define MAX_WANT (65535u - FRAG_ENC_CHUNK)

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
	return enc && enc->kern && enc->kern->recent && enc->kern->age_out &&
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

int frag_enc_sweep_ok(const struct frag_enc *enc, uint32_t first, uint32_t count)
{
	return frag_enc_sweep_mem(enc, count) > 0 && first >= 1u &&
	       (uint64_t)first + count - 1u <= FRAG_ENC_SWEEP_MAX_ROW;
}

/* Rows first .. first + count - 1 (seed indexes first - 1 ..) in cycle order, from the build-time
 * order of every seed: a pass over 8,380 entries, no sort. */
static void order_rows(struct sweep_row *rows, uint32_t first, uint32_t count)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < FRAG_ENC_SWEEP_MAX_ROW; k++) {
		uint32_t i = (uint32_t)frag_enc_seed_order[k] - (first - 1u);

		if (i < count) {
			rows[n].p = frag_enc_seed_pos[first - 1u + i] +
			            1u; /* the draw after the seed */
			rows[n++].i = i;
		}
	}
}

/* last[r] = the window of each draw rb[j], j0 <= j < j1, of the chunk at base. */
static void mark(uint16_t *last, const uint32_t *rb, uint32_t base, uint32_t j0, uint32_t j1)
{
#pragma GCC unroll 8
	for (uint32_t j = j0; j < j1; j++)
		last[rb[j]] = (uint16_t)(base + j);
}

/* One walk state: the rows in cycle order, started and ended, and the clock. The clock is
 * virtual: it runs with the windows walked, and jumps len + FRAG_ENC_CHUNK where the walk jumps
 * over windows no row needs, so every age from before the jump reads as old. */
struct walk {
	struct sweep_row *rows;
	uint32_t head, tail;  /* rows[0 .. head) started; rows[0 .. tail) done */
	uint32_t base, vbase; /* the chunk's first window, and its time on the clock */
	uint32_t fresh;       /* the time of the last age_out */
};

/* Draws the chunk at w->base as far as a started row needs, marks it and writes the line of
 * every row that ends in it. */
static void walk_chunk(const struct frag_enc *enc, struct walk *w, uint32_t *rb, const uint64_t *sw,
                       uint16_t *last, uint8_t *lines)
{
	const uint32_t len = enc->want, reach = w->rows[w->head - 1u].p + len - w->base;
	const uint32_t hi = reach < FRAG_ENC_CHUNK ? reach : FRAG_ENC_CHUNK;
	uint32_t j = 0;

	enc->kern->draws(enc, sw, 0, (hi + FRAG_ENC_DRAW_STEP - 1u) & ~(FRAG_ENC_DRAW_STEP - 1u),
	                 rb);
	while (w->tail < w->head && w->rows[w->tail].p + len - w->base <= hi) {
		const struct sweep_row *r = &w->rows[w->tail++];
		uint32_t e = r->p + len - w->base;

		mark(last, rb, w->vbase, j, e);
		j = e;
		enc->kern->recent(last, (uint16_t)(w->vbase + e - 1u), (uint16_t)len,
		                  lines + (size_t)r->i * enc->line_bytes, enc->line_bytes);
	}
	mark(last, rb, w->vbase, j, hi);
}

/* The state of row first + r->i's first window: the draw after its seed. */
static uint32_t row_state(uint32_t first, const struct sweep_row *r)
{
	uint32_t x = 1u + 1001u * (first + r->i);

	return (x >> 1) + (((x ^ (x >> 5)) & 1u) << 22);
}

int frag_enc_sweep_lines(const struct frag_enc *enc, uint32_t first, uint32_t count, uint8_t *lines,
                         uint64_t *sw, uint32_t *rb, void *mem)
{
	const uint32_t len = enc->want, nl = enc->line_bytes * 8u;
	uint16_t *last = mem;
	struct walk w = {.rows = (struct sweep_row *)(void *)((uint8_t *)mem + last_bytes(enc)),
	                 .fresh = 0xffffffffu}; /* the clock starts at 0: "now" is -1 */

	if (count == 0 || first == 0 || (uint64_t)first + count - 1u > FRAG_ENC_SWEEP_MAX_ROW)
		return -1;
	order_rows(w.rows, first, count);
	/* every age starts at len: old */
	for (uint32_t x = 0; x < nl; x++)
		last[x] = (uint16_t)(w.fresh - len);
	w.base = w.rows[0].p;
	frag_enc_stream_start(sw, row_state(first, &w.rows[0]));
	for (;;) {
		while (w.head < count && w.rows[w.head].p < w.base + FRAG_ENC_CHUNK)
			w.head++;
		/* ages up to the chunk's end stay below 2^16 (see the top of the file) */
		if (w.vbase + FRAG_ENC_CHUNK - 1u - w.fresh > 65535u - len) {
			w.fresh = w.vbase - 1u;
			enc->kern->age_out(last, nl, (uint16_t)w.fresh, (uint16_t)len);
		}
		walk_chunk(enc, &w, rb, sw, last, lines);
		if (w.tail == count)
			return 0;
		if (w.tail == w.head) { /* no row needs the windows up to the next row's first */
			w.vbase += FRAG_ENC_CHUNK + len;
			w.base = w.rows[w.head].p;
			frag_enc_stream_start(sw, row_state(first, &w.rows[w.head]));
		} else {
			w.vbase += FRAG_ENC_CHUNK;
			w.base += FRAG_ENC_CHUNK;
			frag_enc_stream_next(sw);
		}
	}
}
