/* Private to the encoder: the per-ISA kernels behind frag_enc.c. One table per instruction set
 * (frag_enc_portable.c, frag_enc_avx2.c, frag_enc_avx512.c); frag_enc_init picks one. */
#ifndef FUOTA_FRAG_ENC_IMPL_H
#define FUOTA_FRAG_ENC_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/frag_enc.h"

/* CPU features from glibc (<sys/platform/x86.h>, 2.33 and later): the loader has already run
 * CPUID, and __builtin_cpu_supports would link libgcc's start-up constructor that runs it again
 * in every process (a VM exit per CPUID; about 1 % of a whole `frag encode` of 1 MiB). */
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__has_include)
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#define FRAG_ENC_GLIBC_CPU 1
#endif
#endif
#ifndef FRAG_ENC_GLIBC_CPU
#define FRAG_ENC_GLIBC_CPU 0
#endif

/* Draws are computed in chunks of this many consecutive LFSR windows. */
#define FRAG_ENC_CHUNK 1024u
/* 64-bit words of LFSR bit stream behind one chunk: the windows' bits plus room for the kernels'
 * unaligned reads past the last window. */
#define FRAG_ENC_SW_WORDS (FRAG_ENC_CHUNK / 64u + 3u)
/* Every draws() call starts and ends on a multiple of this many windows. */
#define FRAG_ENC_DRAW_STEP 16u

struct frag_enc_kernels {
	/* r[i] = (bits t0 + i .. t0 + i + 22 of the stream sw) mod enc->mod, for i < count. t0 and
	 * count are multiples of FRAG_ENC_DRAW_STEP and t0 + count <= FRAG_ENC_CHUNK. */
	void (*draws)(const struct frag_enc *enc, const uint64_t *sw, uint32_t t0, uint32_t count,
	              uint32_t *r);
	/* Packs map[0..nbytes) (each byte 0 or 1; nbytes a multiple of 64) into line[0..nbytes /
	 * 8), byte i of map to bit i % 8 of line[i / 8], and zeroes map[0..nbytes). */
	void (*pack)(uint8_t *map, uint8_t *line, size_t nbytes);
	/* Builds the 256-entry XOR tables of groups g0 .. g0 + ng - 1 into tab (ng * 256 * stride
	 * bytes, 64-byte aligned): entry e of group g = XOR of fragments 8g + j for every bit j of
	 * e. */
	void (*tables)(const struct frag_enc *enc, uint32_t g0, uint32_t ng, uint8_t *tab);
	/* For rows i < rows: acc[i] (stride bytes at acc + i * stride, 64-byte aligned) ^= entry
	 * lines[i * line_bytes + g0 + j] of table j, for j < ng. */
	void (*accum)(const struct frag_enc *enc, const uint8_t *tab, uint32_t g0, uint32_t ng,
	              const uint8_t *lines, uint32_t rows, uint8_t *acc);
	/* dst[0..len) ^= src[0..len); any alignment. */
	void (*xor_bytes)(uint8_t *dst, const uint8_t *src, size_t len);
	/* For every bit b of any (ascending): tab + e * len ^= src + b * len, len bytes, where e is
	 * byte b % 8 of entry[b / 8] (bits 8 (b % 8) .. 8 (b % 8) + 7): one word of 64 fragments
	 * into the lean decoder's batch table (frag_lean.c). */
	void (*xor_word)(uint8_t *tab, const uint64_t *entry, uint64_t any, const uint8_t *src,
	                 size_t len);
	/* Bit x of line (x < nbytes * 8; nbytes a multiple of 8), bit x % 8 of byte x / 8, = 1
	 * when (uint8_t)(now - last[x]) < age: fragment x was last drawn in one of the age blocks
	 * up to block now (frag_enc_sweep.c). age >= 1. */
	void (*recent)(const uint8_t *last, uint8_t now, uint8_t age, uint8_t *line, size_t nbytes);
	/* draws() of the chunk's windows j0 .. j1 - 1 (j0 < j1 <= FRAG_ENC_CHUNK, any) into
	 * r[j0 .. j1) (r[] may also be written from j0 down to a multiple of FRAG_ENC_DRAW_STEP, up
	 * to j1 rounded up to one), and then, in window order, last[r[j]] = the block of window j:
	 * (vbase + j) >> shift, vbase a multiple of 1 << shift and shift >= 4 (frag_enc_sweep.c).
	 * One pass: each draw is stored right after it is computed. Only the sweep calls it, whose
	 * codes have enc->mod below 2^17 (frag_enc_sweep.c code_ok). */
	void (*mark)(const struct frag_enc *enc, const uint64_t *sw, uint32_t j0, uint32_t j1,
	             uint32_t *r, uint8_t *last, uint32_t vbase, uint32_t shift);
	/* last[x] = now - h wherever (uint8_t)(now - last[x]) >= h, for x < n (a multiple of 64):
	 * ages that could wrap past 2^8 are pinned at h, which still reads as old. h >= 1. */
	void (*age_out)(uint8_t *last, size_t n, uint8_t now, uint8_t h);
	/* Groups per table block when these kernels lay out their own tables (table_bytes says how
	 * much scratch they take). NULL: the default. */
	uint32_t (*block_groups)(const struct frag_enc *enc);
	/* Bytes of table scratch tables() writes for blocks of up to ng groups (ng <= the block
	 * groups). NULL: ng * 256 * stride. */
	size_t (*table_bytes)(const struct frag_enc *enc, uint32_t ng);
};

/* The last row n whose seed 1 + 1001 n is an LFSR state (below 2^23). */
#define FRAG_ENC_SWEEP_MAX_ROW 8380u
/* Window of the seed 1 + 1001 (k + 1), k < FRAG_ENC_SWEEP_MAX_ROW, on the cycle walked from state
 * 1 (window t: the state after t prbs23 steps). Made at build time by gen/frag_seed_gen.c. */
extern const uint32_t frag_enc_seed_pos[FRAG_ENC_SWEEP_MAX_ROW];
/* Every k < FRAG_ENC_SWEEP_MAX_ROW once, by frag_enc_seed_pos[k] ascending: the seeds in the order
 * the cycle meets them (gen/frag_seed_gen.c). */
extern const uint16_t frag_enc_seed_order[FRAG_ENC_SWEEP_MAX_ROW];
/* Entries of frag_enc_seed_crowd. */
#define FRAG_ENC_SEED_CROWDS 17u
/* frag_enc_seed_crowd[j]: the most seeds whose windows are less than 2^j apart, all pairwise
 * (gen/frag_seed_gen.c). */
extern const uint16_t frag_enc_seed_crowd[FRAG_ENC_SEED_CROWDS];

/* The entry of bit b in xor_word's entry words. */
static inline size_t frag_enc_word_entry(const uint64_t *entry, uint32_t b)
{
	return (size_t)((entry[b / 8u] >> (8u * (b % 8u))) & 0xffu);
}

extern const struct frag_enc_kernels frag_enc_kern_portable;
extern const struct frag_enc_kernels frag_enc_kern_avx2;
extern const struct frag_enc_kernels frag_enc_kern_avx512;

/* 1 if this build has the kernels of isa and the CPU runs them. */
int frag_enc_isa_avx2_ok(void);
int frag_enc_isa_avx512_ok(void);

/* ---- nibble tables (frag_enc_avx512.c, and on 256-bit vectors frag_enc_avx2.c) ----
 * Tables of 16 entries per 4 fragments, 1-4 KiB a table: a block of FRAG_ENC_NIB_L1 bytes of them
 * stays in L1. Entries are 2^sh bytes apart (64, 128 or 256); table q of a block (q = 2 g + h, h =
 * 0 for fragments 8 g .. 8 g + 3, 1 for the next four) is at q << (sh + 4). A block holds
 * FRAG_ENC_NIB_L1 >> (sh + 5) groups: 16, 8 or 4. */
#define FRAG_ENC_NIB_L1 32768u
/* Line slices asked for this many rows ahead (a row takes some 20 cycles; 4-24 measured alike
 * on workload b). */
#define FRAG_ENC_NIB_AHEAD 16u

static inline uint32_t frag_enc_nib_sh(const struct frag_enc *enc)
{
	return enc->stride == 64u ? 6u : enc->stride == 128u ? 7u : 8u;
}

/* Groups of a nibble table block: FRAG_ENC_NIB_L1 bytes of 2^(sh + 5)-byte group tables. */
static inline uint32_t frag_enc_nib_gpb(uint32_t sh)
{
	return FRAG_ENC_NIB_L1 >> (sh + 5u);
}

/* The nibble kernels' block_groups. */
static inline uint32_t frag_enc_nib_block_groups(const struct frag_enc *enc)
{
	return frag_enc_nib_gpb(frag_enc_nib_sh(enc));
}

/* Groups whose tables a block of ng groups builds: whole reads of the line (8 bytes, or 4 when a
 * block is 4 groups). Groups past the last hold zero fragments; the line's bytes there are zero
 * and within line_bytes, a multiple of 8. */
static inline uint32_t frag_enc_nib_built(uint32_t ng, uint32_t gpb)
{
	const uint32_t unit = gpb < 8u ? gpb : 8u;

	return (ng + unit - 1u) / unit * unit;
}

/* The nibble kernels' table_bytes: the tables of frag_enc_nib_built groups, at most
 * FRAG_ENC_NIB_L1 bytes (ng <= block_groups). */
static inline size_t frag_enc_nib_table_bytes(const struct frag_enc *enc, uint32_t ng)
{
	const uint32_t sh = frag_enc_nib_sh(enc);

	return (size_t)frag_enc_nib_built(ng, frag_enc_nib_gpb(sh)) << (sh + 5u);
}

/* 64 bits of the LFSR stream from bit pos: bit i of the result = s[pos + i]. */
static inline uint64_t frag_enc_stream_bits(const uint64_t *sw, uint32_t pos)
{
	uint32_t k = pos / 64u, b = pos % 64u;

	return b ? (sw[k] >> b) | (sw[k + 1] << (64u - b)) : sw[k];
}

/* Starts the stream at the 23-bit state x: bits 0..22 = x, window t is the draw after t more
 * prbs23 steps; fills sw[0..FRAG_ENC_SW_WORDS). */
void frag_enc_stream_start(uint64_t *sw, uint32_t x);
/* Moves the stream on by one chunk of windows. */
void frag_enc_stream_next(uint64_t *sw);

/* Draws taken per kernel call by frag_enc_line (a multiple of FRAG_ENC_DRAW_STEP). */
#define FRAG_ENC_LINE_DRAWS 64u
_Static_assert(FRAG_ENC_LINE_SCRATCH == FRAG_ENC_SW_WORDS * 8u + FRAG_ENC_LINE_DRAWS * 4u,
               "frag_enc_line's scratch: the stream and one call's draws");

/* last[r[j]] = (vbase + j) >> shift for j0 <= j < j1, in order: the stores of a mark kernel
 * whose draws are already in r. */
static inline void frag_enc_mark_drawn(uint8_t *last, const uint32_t *r, uint32_t vbase,
                                       uint32_t shift, uint32_t j0, uint32_t j1)
{
	while (j0 < j1) {
		const uint32_t blk = (vbase + j0) >> shift, next = ((blk + 1u) << shift) - vbase;
		const uint32_t end = next < j1 ? next : j1;

#pragma GCC unroll 8
		for (uint32_t j = j0; j < end; j++)
			last[r[j]] = (uint8_t)blk;
		j0 = end;
	}
}

/* The portable draws(), also the fallback of the SIMD kernels for a modulus of 2^24 or more. */
void frag_enc_draws_portable(const struct frag_enc *enc, const uint64_t *sw, uint32_t t0,
                             uint32_t count, uint32_t *r);

/* A mark kernel on a draws kernel: the draws of whole steps around j0 .. j1, then their stores. */
static inline void frag_enc_mark_with(void (*draws)(const struct frag_enc *, const uint64_t *,
                                                    uint32_t, uint32_t, uint32_t *),
                                      const struct frag_enc *enc, const uint64_t *sw, uint32_t j0,
                                      uint32_t j1, uint32_t *r, uint8_t *last, uint32_t vbase,
                                      uint32_t shift)
{
	const uint32_t t0 = j0 & ~(FRAG_ENC_DRAW_STEP - 1u);
	const uint32_t t1 = (j1 + FRAG_ENC_DRAW_STEP - 1u) & ~(FRAG_ENC_DRAW_STEP - 1u);

	draws(enc, sw, t0, t1 - t0, r + t0);
	frag_enc_mark_drawn(last, r, vbase, shift, j0, j1);
}

/* Packs map into line (enc->line_bytes bytes; bit x % 8 of byte x / 8 = fragment x) and leaves
 * map empty again, its reject slot at 1. */
void frag_enc_finish_line(const struct frag_enc *enc, uint8_t *map, uint8_t *line);

/* The shared-cycle line path (frag_enc_sweep.c). Every v1 row of a code without rejects (M not a
 * power of two) and with a seed below 2^23 is floor(M / 2) consecutive windows of one LFSR cycle
 * of 2^23 - 1 states; the cycle is walked once over the windows the rows need, each window drawn
 * once however many rows share it, and a row's line read off the block of windows each fragment
 * was last drawn in (plus the row's own draws in its first block). The scratch bytes
 * frag_enc_sweep_lines needs for count rows, or 0 when the code cannot take it. */
size_t frag_enc_sweep_mem(const struct frag_enc *enc, uint32_t count);
/* 1 if rows first .. first + count - 1 can take it (frag_enc_sweep_mem(enc, count) > 0 and
 * every seed below 2^23). */
int frag_enc_sweep_ok(const struct frag_enc *enc, uint32_t first, uint32_t count);
/* The packed lines of rows first + i (i < count) into lines + i * enc->line_bytes, equal to
 * draw_line + frag_enc_finish_line's. sw, rb: a chunk's stream and draws; mem:
 * frag_enc_sweep_mem(enc, count) bytes, 64-byte aligned. Returns 0, or -1 (nothing written) when
 * count is 0 or a row is outside 1 .. FRAG_ENC_SWEEP_MAX_ROW. */
int frag_enc_sweep_lines(const struct frag_enc *enc, uint32_t first, uint32_t count, uint8_t *lines,
                         uint64_t *sw, uint32_t *rb, void *mem);

#endif
