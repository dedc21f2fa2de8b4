/* The shared-cycle line path of the encoder (see frag_enc_impl.h): v1 rows whose seeds are LFSR
 * states walk windows of one cycle, so many rows draw the same windows. Workload b of the bench
 * (M = 21,846, 2,185 rows of 10,923 draws) covers the 2^23 - 1 states almost three times over;
 * here each covered block of the cycle is drawn once. Equal to draw_line bit for bit; the unit
 * tests (unit.frag_enc_sweep) check that against frag_row_line. */
#include <string.h>

#include "frag_enc_impl.h"

/* States of the LFSR cycle (s[j + 23] = s[j] ^ s[j + 5] is maximal-length). */
#define CYCLE ((1u << 23) - 1u)
/* Windows per block: a row of L draws takes about L / BLOCK packed blocks and BLOCK draws of its
 * own at its two ends. */
#ifndef BLOCK
#define BLOCK 2048u
#endif
/* Most whole blocks inside one row: floor(M / 2) / BLOCK for M < 2^24, beyond which the cycle is
 * too short for rows to share it anyway (code_ok). */
#define BLOCK_MAX_SPAN ((1u << 23) / BLOCK + 1u)
/* Rows must cover the cycle this many times over (count * L >= COVER * CYCLE): below that, finding
 * the rows on the cycle and drawing every covered block costs more than it saves. */
#define COVER 1u

struct sweep_row {
	uint32_t p; /* window of the row's first draw on the cycle started at state 1 */
	uint32_t i; /* row first + i */
};

static size_t align64(size_t v)
{
	return (v + 63u) & ~(size_t)63u;
}

static uint32_t ring_slots(const struct frag_enc *enc)
{
	return enc->want / BLOCK + 2u;
}

static int code_ok(const struct frag_enc *enc)
{
	return enc && enc->kern && enc->kern->seeds && enc->kern->or_lines &&
	       enc->code.version == FRAG_V1 && enc->mod == enc->code.nb_frag &&
	       enc->want >= 4u * BLOCK && enc->want / BLOCK < BLOCK_MAX_SPAN;
}

size_t frag_enc_sweep_mem(const struct frag_enc *enc, uint32_t count)
{
	if (!code_ok(enc) || count == 0)
		return 0;
	return (size_t)ring_slots(enc) * align64(enc->line_bytes) +
	       align64(FRAG_ENC_SW_WORDS * sizeof(uint64_t)) +
	       align64((size_t)count * sizeof(struct sweep_row));
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

static uint32_t prbs23(uint32_t x)
{
	return (x >> 1) + (((x ^ (x >> 5)) & 1u) << 22);
}

/* Marks in map the residues of cnt consecutive draws starting at LFSR state x. v1 without rejects:
 * every draw is a coefficient. */
static void mark_run(const struct frag_enc *enc, uint64_t *sw, uint32_t *rb, uint8_t *map,
                     uint32_t x, uint32_t cnt)
{
	uint32_t t = 0;

	frag_enc_stream_start(sw, x);
	while (cnt) {
		uint32_t d = cnt < FRAG_ENC_CHUNK - t ? cnt : FRAG_ENC_CHUNK - t;
		uint32_t n = (d + FRAG_ENC_DRAW_STEP - 1u) & ~(FRAG_ENC_DRAW_STEP - 1u);

		if (t == FRAG_ENC_CHUNK) {
			frag_enc_stream_next(sw);
			t = 0;
			continue;
		}
		enc->kern->draws(enc, sw, t, n, rb);
#pragma GCC unroll 8
		for (uint32_t j = 0; j < d; j++)
			map[rb[j]] = 1;
		t += n;
		cnt -= d;
	}
}

/* A stream walked forward only: the state at window t (t never below an earlier request). */
struct cursor {
	uint64_t *sw;
	uint32_t base; /* window of sw's bit 0 */
};

static uint32_t cursor_state(struct cursor *c, uint32_t t)
{
	while (t - c->base >= FRAG_ENC_CHUNK) {
		frag_enc_stream_next(c->sw);
		c->base += FRAG_ENC_CHUNK;
	}
	return (uint32_t)(frag_enc_stream_bits(c->sw, t - c->base) & 0x7fffffu);
}

/* Every row's first window, in cycle order (the scan meets them in that order). Returns how many
 * were found: all of them, the seeds being distinct non-zero states. */
static uint32_t find_rows(const struct frag_enc *enc, uint32_t first, uint32_t count, uint64_t *sw,
                          uint32_t *rb, struct sweep_row *rows)
{
	uint32_t found = 0;

	frag_enc_stream_start(sw, 1u);
	for (uint32_t base = 0; base < CYCLE && found < count; base += FRAG_ENC_CHUNK) {
		uint32_t k;

		if (base)
			frag_enc_stream_next(sw);
		k = enc->kern->seeds(sw, first, count, rb);
		for (uint32_t j = 0; j < k && base + rb[j] < CYCLE && found < count; j++) {
			uint32_t s = (uint32_t)(frag_enc_stream_bits(sw, rb[j]) & 0x7fffffu);

			rows[found].p = base + rb[j] + 1u; /* the first draw is prbs23(seed) */
			rows[found].i = (s - 1u) / 1001u - first;
			found++;
		}
	}
	return found;
}

/* line |= the packed blocks a .. b - 1 of the ring, one pass over the line. */
static void or_blocks(const struct frag_enc *enc, uint8_t *line, const uint8_t *ring, size_t slot,
                      uint32_t nr, uint32_t a, uint32_t b, size_t len)
{
	const uint8_t *src[BLOCK_MAX_SPAN];
	uint32_t ns = 0;

	for (uint32_t k = a; k < b; k++)
		src[ns++] = ring + (k % nr) * slot;
	enc->kern->or_lines(line, src, ns, len);
}

int frag_enc_sweep_lines(const struct frag_enc *enc, uint32_t first, uint32_t count, uint8_t *lines,
                         uint8_t *map, uint64_t *sw, uint32_t *rb, void *mem)
{
	const uint32_t nr = ring_slots(enc), len = enc->want;
	const size_t lb = enc->line_bytes, slot = align64(lb);
	uint8_t *ring = mem;
	struct cursor cur = {(uint64_t *)(void *)(ring + nr * slot), 0};
	struct sweep_row *rows =
	        (struct sweep_row *)(void *)((uint8_t *)cur.sw + align64(FRAG_ENC_SW_WORDS * 8u));
	uint32_t next_k = 0;

	if (find_rows(enc, first, count, sw, rb, rows) != count)
		return -1;
	frag_enc_stream_start(cur.sw, 1u);
	for (uint32_t r = 0; r < count; r++) {
		const uint32_t p = rows[r].p, a = (p + BLOCK - 1u) / BLOCK, b = (p + len) / BLOCK;
		const uint32_t x = prbs23(1u + 1001u * (first + rows[r].i));
		uint8_t *line = lines + rows[r].i * lb;

		if (b <= a) { /* no whole block inside: the row on its own */
			mark_run(enc, sw, rb, map, x, len);
			frag_enc_finish_line(enc, map, line);
			continue;
		}
		for (uint32_t k = a > next_k ? a : next_k; k < b; k++) {
			mark_run(enc, sw, rb, map, cursor_state(&cur, k * BLOCK), BLOCK);
			frag_enc_finish_line(enc, map, ring + (k % nr) * slot);
		}
		next_k = b > next_k ? b : next_k;
		mark_run(enc, sw, rb, map, x, a * BLOCK - p);
		mark_run(enc, sw, rb, map, cursor_state(&cur, b * BLOCK), p + len - b * BLOCK);
		frag_enc_finish_line(enc, map, line);
		or_blocks(enc, line, ring, slot, nr, a, b, lb);
	}
	return 0;
}
