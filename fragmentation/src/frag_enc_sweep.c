/* The shared-cycle line path of the encoder (see frag_enc_impl.h): v1 rows whose seeds are LFSR
 * states walk windows of one cycle, so many rows draw the same windows. Workload b of the bench
 * (M = 21,846, 2,185 rows of 10,923 draws) covers the 2^23 - 1 states almost three times over.
 *
 * The cycle is walked once, in chunks of windows from the first row's. Each window is drawn once,
 * and the block of windows it is in (1 << shift of them, 64 or more, aligned on a clock that runs
 * with the walk) is stored at its residue: last[r] = the block of the last draw at fragment r, one
 * byte, so last[] stays in L1 beside the draws and the lines being written (workload b: 21.8 KB;
 * a window each, in 16 bits, was 43.7 KB of a 48 KiB L1). A row is the windows p .. p + L - 1,
 * so when the walk reaches p + L the row's line is every fragment last drawn in a block after
 * p's, read off last[] with one vector compare per 64 fragments, and the row's own draws in p's
 * block (p to the block's end), kept when the row starts (a ring of slots, one per row in
 * flight).
 * The rows' first windows come from a table made at build time (frag_seed_pos.c, by
 * gen/frag_seed_gen.c), taken in cycle order (the table's); all being L long, the rows end in that
 * order too. Where no row needs the windows up to the next row's first, the walk jumps there (the
 * stream restarts at that row's state; the clock goes on, so every block from before the jump is
 * before the next row's first).
 *
 * Blocks are kept modulo 2^8, as an age: now - last[r]. A row spans at most MAX_SPAN blocks
 * (the block size is chosen so); ages of that span and more are pinned back to it (age_out)
 * before the chunk being walked would take an age past 2^8 - 1, so an age never wraps and an
 * old block never looks recent.
 *
 * Equal to draw_line bit for bit; the unit tests (unit.frag_enc_sweep) check that against
 * frag_row_line. */
#include <string.h>

#include "frag_enc_impl.h"

/* The longest row the path takes (the seeds' crowd table covers windows up to 2^16 apart). */
#define MAX_WANT (65535u - FRAG_ENC_CHUNK)
_Static_assert(MAX_WANT + FRAG_ENC_CHUNK <= 1u << (FRAG_ENC_SEED_CROWDS - 1u),
               "frag_enc_seed_crowd covers a row and a chunk");
_Static_assert(FRAG_ENC_CHUNK % 64u == 0 && FRAG_ENC_CHUNK >= 64u,
               "blocks of 64 windows and more divide a chunk");
/* Most blocks between a row's first and last: ages of a row's blocks, far enough below 2^8 to
 * walk 2^8 - MAX_SPAN - FRAG_ENC_CHUNK / 64 blocks between age_outs. */
#define MAX_SPAN 96u

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
	return enc && enc->kern && enc->kern->recent && enc->kern->age_out && enc->kern->mark &&
	       enc->code.version == FRAG_V1 && enc->mod == enc->code.nb_frag && enc->want >= 1u &&
	       enc->want <= MAX_WANT;
}

/* The most blocks (1 << shift windows, aligned) a row of len windows ends past its first. */
static uint32_t span_blocks(uint32_t len, uint32_t shift)
{
	return (len + (1u << shift) - 2u) >> shift;
}

/* Blocks of 64 windows or more, up to a chunk (which they divide), as few per row as MAX_SPAN
 * needs: the fewer, the fewer age_outs; the smaller, the fewer first-block draws kept. */
static uint32_t block_shift(uint32_t len)
{
	uint32_t s = 6;

	while ((1u << s) < FRAG_ENC_CHUNK && span_blocks(len, s) > MAX_SPAN)
		s++;
	return s;
}

/* Rows started and not done at once: at most the seeds whose windows are within len + a chunk
 * of each other (the generator's count for the power of two at or above that), at most count. */
static uint32_t ring_slots(const struct frag_enc *enc, uint32_t count)
{
	uint32_t j = 0;

	while (((uint32_t)1 << j) < enc->want + FRAG_ENC_CHUNK)
		j++;
	return frag_enc_seed_crowd[j] < count ? frag_enc_seed_crowd[j] : count;
}

/* last[]: one block number per bit of a line (line_bytes * 8, a multiple of 64). */
static size_t last_bytes(const struct frag_enc *enc)
{
	return align64((size_t)enc->line_bytes * 8u);
}

static struct sweep_row *rows_of(const struct frag_enc *enc, void *mem)
{
	return (struct sweep_row *)(void *)((uint8_t *)mem + last_bytes(enc));
}

size_t frag_enc_sweep_mem(const struct frag_enc *enc, uint32_t count)
{
	if (!code_ok(enc) || count == 0)
		return 0;
	return last_bytes(enc) + align64((size_t)count * sizeof(struct sweep_row)) +
	       ((size_t)ring_slots(enc, count) << block_shift(enc->want)) * sizeof(uint32_t);
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

/* One walk state: the rows in cycle order, started and ended, the clock and the ring of the
 * started rows' first-block draws. The clock runs with the windows walked, from one block, and
 * does not stop where the walk jumps: windows from before a jump are in blocks before any row's
 * after it. */
struct walk {
	struct sweep_row *rows;
	uint32_t *part;              /* ring: slots of 1 << shift draws */
	uint32_t slots, shift, span; /* ring slots; blocks of 1 << shift windows; span_blocks */
	uint32_t head, tail, saved;  /* rows[0 .. head) started, [0 .. saved) their draws kept,
	                                [0 .. tail) done */
	uint32_t base, vbase;        /* the chunk's first window, and its time on the clock */
	uint32_t fresh;              /* the block of the last age_out */
};

/* Window p's time on the clock (p in the chunk, or in an earlier one with no jump between). */
static uint32_t clock_of(const struct walk *w, uint32_t p)
{
	return w->vbase + (p - w->base);
}

/* Draws of a row's first block that are its own: from its first window to the block's end (or
 * the row's, if sooner). */
static uint32_t part_len(const struct walk *w, uint32_t vp, uint32_t len)
{
	const uint32_t n = (((vp >> w->shift) + 1u) << w->shift) - vp;

	return n < len ? n : len;
}

/* Keeps the first-block draws of the rows started in this chunk and not done in it (rb holds
 * them: a block never straddles two chunks). */
static void keep_parts(struct walk *w, const uint32_t *rb, uint32_t len)
{
	const size_t bw = (size_t)1 << w->shift;

	for (uint32_t k = w->saved > w->tail ? w->saved : w->tail; k < w->head; k++) {
		const uint32_t o = w->rows[k].p - w->base;

		memcpy(w->part + (size_t)(k % w->slots) * bw, rb + o,
		       part_len(w, w->vbase + o, len) * sizeof(uint32_t));
	}
	w->saved = w->head;
}

/* Row k's line, its walk ending at clock time ve: every fragment last drawn in a block after the
 * row's first, and the row's own draws of that first block (in rb if it started in this chunk,
 * else in its ring slot). */
static void row_line(const struct frag_enc *enc, const struct walk *w, uint32_t k, uint32_t ve,
                     const uint32_t *rb, const uint8_t *last, uint8_t *line)
{
	const uint32_t vp = clock_of(w, w->rows[k].p), age = (ve >> w->shift) - (vp >> w->shift);
	const uint32_t *part = k >= w->saved ? rb + (w->rows[k].p - w->base)
	                                     : w->part + ((size_t)(k % w->slots) << w->shift);
	const uint32_t n = part_len(w, vp, enc->want);

	if (age)
		enc->kern->recent(last, (uint8_t)(ve >> w->shift), (uint8_t)age, line,
		                  enc->line_bytes);
	else
		memset(line, 0, enc->line_bytes);
	for (uint32_t j = 0; j < n; j++)
		line[part[j] / 8u] |= (uint8_t)(1u << (part[j] % 8u));
}

/* Draws and marks the chunk at w->base as far as a started row needs, writing the line of every
 * row that ends in it on the way. */
static void walk_chunk(const struct frag_enc *enc, struct walk *w, uint32_t *rb, const uint64_t *sw,
                       uint8_t *last, uint8_t *lines)
{
	const uint32_t len = enc->want, reach = w->rows[w->head - 1u].p + len - w->base;
	const uint32_t hi = reach < FRAG_ENC_CHUNK ? reach : FRAG_ENC_CHUNK;
	uint32_t j = 0;

	while (w->tail < w->head && w->rows[w->tail].p + len - w->base <= hi) {
		const uint32_t k = w->tail++, e = w->rows[k].p + len - w->base;

		enc->kern->mark(enc, sw, j, e, rb, last, w->vbase, w->shift);
		j = e;
		row_line(enc, w, k, w->vbase + e - 1u, rb, last,
		         lines + (size_t)w->rows[k].i * enc->line_bytes);
	}
	if (j < hi)
		enc->kern->mark(enc, sw, j, hi, rb, last, w->vbase, w->shift);
	keep_parts(w, rb, len);
}

/* The state of row first + r->i's first window: the draw after its seed. */
static uint32_t row_state(uint32_t first, const struct sweep_row *r)
{
	uint32_t x = 1u + 1001u * (first + r->i);

	return (x >> 1) + (((x ^ (x >> 5)) & 1u) << 22);
}

/* Ages of the chunk's blocks stay below 2^8 (see the top of the file): pins them when the
 * chunk's last block would be 2^8 - span blocks past the last age_out. */
static void keep_young(const struct frag_enc *enc, struct walk *w, uint8_t *last)
{
	const uint32_t end = (w->vbase + FRAG_ENC_CHUNK - 1u) >> w->shift;

	if (end - w->fresh > 255u - w->span) {
		w->fresh = (w->vbase >> w->shift) - 1u;
		enc->kern->age_out(last, (size_t)enc->line_bytes * 8u, (uint8_t)w->fresh,
		                   (uint8_t)w->span);
	}
}

int frag_enc_sweep_lines(const struct frag_enc *enc, uint32_t first, uint32_t count, uint8_t *lines,
                         uint64_t *sw, uint32_t *rb, void *mem)
{
	uint8_t *last = mem;
	struct walk w = {.rows = rows_of(enc, mem)};

	if (count == 0 || first == 0 || (uint64_t)first + count - 1u > FRAG_ENC_SWEEP_MAX_ROW)
		return -1;
	w.shift = block_shift(enc->want);
	w.span = span_blocks(enc->want, w.shift);
	w.slots = ring_slots(enc, count);
	w.part = (uint32_t *)(void *)((uint8_t *)w.rows + align64((size_t)count * sizeof(*w.rows)));
	order_rows(w.rows, first, count);
	/* the clock starts at block 1, as if just aged out at block 0: every age reads as old */
	w.vbase = 1u << w.shift;
	memset(last, (uint8_t)(0u - w.span), (size_t)enc->line_bytes * 8u);
	w.base = w.rows[0].p;
	frag_enc_stream_start(sw, row_state(first, &w.rows[0]));
	for (;;) {
		while (w.head < count && w.rows[w.head].p < w.base + FRAG_ENC_CHUNK)
			w.head++;
		keep_young(enc, &w, last);
		walk_chunk(enc, &w, rb, sw, last, lines);
		if (w.tail == count)
			return 0;
		w.vbase += FRAG_ENC_CHUNK;
		if (w.tail == w.head) { /* no row needs the windows up to the next row's first */
			w.base = w.rows[w.head].p;
			frag_enc_stream_start(sw, row_state(first, &w.rows[w.head]));
		} else {
			w.base += FRAG_ENC_CHUNK;
			frag_enc_stream_next(sw);
		}
	}
}
