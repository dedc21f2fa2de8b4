/* TS004 FragAlgo 0 parity encoder (PROTOCOL-NOTES §4.4, §4.5): the server's hot path.
 *
 * Coded fragment of redundancy row n = XOR of the uncoded fragments selected by frag_row_line(n).
 * The output is byte-identical to that definition (and to frag_ref_encode) for every code: v1, v2
 * relative, v2 absolute, M = 1, M a power of two, seeds above 2^23, FragSize 1..255, and M larger
 * than one session's 14-bit index.
 *
 * How it is fast:
 * - row lines: the prbs23 draws are produced many at a time (while x < 2^23 prbs23 is a 23-bit
 *   Fibonacci LFSR, s[i + 23] = s[i] ^ s[i + 5], so the bit stream is extended a 64-bit word at a
 *   time and every draw is a 23-bit window of it), the modulus is a constant per code (reciprocal
 *   multiplication instead of a division), and the seeds above 2^23 whose carries reach past bit 22
 *   run the exact scalar prbs23 until x drops below 2^23;
 * - shared cycle: v1 rows of an M that is not a power of two, seeds below 2^23, are floor(M / 2)
 *   consecutive windows of the one LFSR cycle (2^23 - 1 states); for a range of at least 64 such
 *   rows (workload b of the bench: 2,185 rows of 10,923 draws, covering the cycle 2.8 times),
 *   the cycle is walked once, each window drawn once into the block of windows (a byte) each
 *   fragment was last seen in, and a row's line is the fragments last seen in a block after its
 *   first, plus its own draws in that block, when the walk reaches its end;
 * - XOR: "four Russians" tables of the 256 XOR combinations of every group of 8 consecutive
 *   fragments, so a row costs M / 8 table XORs instead of M / 2 fragment XORs, built and used one
 *   cache-sized block of groups at a time for every row of a range (the AVX2 and AVX-512 kernels
 *   use tables of the 16 combinations of every 4 fragments instead, M / 4 XORs a row from tables
 *   that stay in the L1 cache);
 * - AVX2 (with BMI2) and AVX-512 kernels chosen at run time (any x86-64 runs the binary; other
 *   CPUs get the portable 64-bit-word kernels).
 *
 * Threads: the library starts none. struct frag_enc is read-only after frag_enc_init, so any number
 * of threads may share one and encode disjoint row ranges, each with its own scratch memory.
 * No allocation anywhere: the caller provides scratch memory sized by the *_scratch_size functions.
 */
#ifndef FUOTA_FRAG_ENC_H
#define FUOTA_FRAG_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/frag_row.h"

/* Largest seed index k for which the seed 1 + 1001 * k fits 32 bits (frag_row_line's limit). For
 * v1 and v2 relative k = n; for v2 absolute k = M + n. */
#define FRAG_ENC_MAX_SEED_INDEX 4290676u

/* Which kernels to use. AUTO picks the best the CPU supports. */
enum frag_enc_isa {
	FRAG_ENC_ISA_AUTO = 0,
	FRAG_ENC_ISA_PORTABLE = 1, /* plain C, 64-bit words: any CPU */
	FRAG_ENC_ISA_AVX2 = 2,     /* x86-64 with AVX2 + BMI2 */
	FRAG_ENC_ISA_AVX512 = 3    /* x86-64 with AVX-512 F + BW */
};

struct frag_enc_kernels; /* private: the function table of one ISA */

/* Precomputed, read-only state of one code over one block of uncoded fragments. Filled by
 * frag_enc_init; the fields are private. */
struct frag_enc {
	struct frag_code code;
	uint32_t frag_size;   /* bytes per fragment, 1..255 */
	const uint8_t *frags; /* borrowed: nb_frag * frag_size bytes, fragment x at x * frag_size */
	uint32_t mod;         /* M, or M + 1 when M is a power of two */
	uint32_t want;        /* floor(M / 2) draws (v1) or distinct ones (v2) per row */
	uint64_t mod_magic;   /* floor(x / mod) = (x * mod_magic) >> mod_shift for x < 2^23 */
	uint32_t mod_shift;
	float mod_inv;         /* just under 1 / mod, for the SIMD quotient estimate */
	uint32_t stride;       /* bytes per table entry: frag_size rounded up to 64 */
	uint32_t groups;       /* ceil(M / 8) groups of 8 fragments */
	uint32_t line_bytes;   /* bytes of one packed line in scratch, a multiple of 8 */
	uint32_t block_groups; /* groups whose tables are built and used together */
	enum frag_enc_isa isa; /* the kernels in use (never AUTO after init) */
	const struct frag_enc_kernels *kern;
};

/* Prepares enc for code over frags (nb_frag * frag_size bytes, the last fragment already padded by
 * the caller; frags_len must equal that product). frags is borrowed: it must stay unchanged while
 * enc is used. isa selects the kernels (AUTO: the best this CPU has).
 * Returns FUOTA_OK; FUOTA_ERR_INVALID_ARG for a bad code, frag_size 0 or > 255, a NULL pointer or a
 * wrong frags_len; FUOTA_ERR_UNSUPPORTED if the CPU lacks the requested isa. */
int frag_enc_init(struct frag_enc *enc, const struct frag_code *code, uint32_t frag_size,
                  const uint8_t *frags, size_t frags_len, enum frag_enc_isa isa);

/* Name of the kernels an initialised enc uses ("portable", "avx2", "avx512"). */
const char *frag_enc_isa_name(enum frag_enc_isa isa);

/* Scratch bytes frag_enc_row needs. */
size_t frag_enc_row_scratch_size(const struct frag_enc *enc);

/* Computes the coded fragment of redundancy row n (n >= 1; DataFragment N = M + n) into
 * out[0..frag_size). scratch: scratch_len >= frag_enc_row_scratch_size(enc) bytes, any alignment,
 * owned by the caller and not shared with another thread during the call.
 * Returns FUOTA_OK; FUOTA_ERR_INVALID_ARG (NULL pointer, n == 0, seed index over
 * FRAG_ENC_MAX_SEED_INDEX); FUOTA_ERR_NO_SPACE (scratch too small). */
int frag_enc_row(const struct frag_enc *enc, uint32_t n, uint8_t *out, void *scratch,
                 size_t scratch_len);

/* Scratch bytes with which frag_enc_range handles count rows in one pass (the fastest). */
size_t frag_enc_range_scratch_size(const struct frag_enc *enc, uint32_t count);
/* The least scratch frag_enc_range accepts for count rows (it then works in several passes, each
 * rebuilding the XOR tables). */
size_t frag_enc_range_scratch_min(const struct frag_enc *enc, uint32_t count);

/* Computes the coded fragments of redundancy rows n = first .. first + count - 1 into
 * out[0 .. count * frag_size), row first + i at out + i * frag_size. count == 0 does nothing.
 * Threads may call this at the same time on one enc with disjoint out ranges and their own scratch.
 * Returns FUOTA_OK; FUOTA_ERR_INVALID_ARG (NULL pointer, first == 0, last seed index over
 * FRAG_ENC_MAX_SEED_INDEX); FUOTA_ERR_NO_SPACE (scratch below frag_enc_range_scratch_min). */
int frag_enc_range(const struct frag_enc *enc, uint32_t first, uint32_t count, uint8_t *out,
                   void *scratch, size_t scratch_len);

/* Row lines alone, for a decoder that draws one line per coded frame (frag_lean): the encoder's
 * vectorised draws into a bit line, with FRAG_ENC_LINE_SCRATCH bytes of scratch. */
#define FRAG_ENC_LINE_SCRATCH 408u

/* Prepares enc for frag_enc_line only (no fragments, no tables): the code, the modulus and the
 * best draws kernel of this CPU. Returns FUOTA_OK or FUOTA_ERR_INVALID_ARG. */
int frag_enc_init_lines(struct frag_enc *enc, const struct frag_code *code);

/* The line of row n, exactly as frag_row_line computes it, into line[0..words) (words >=
 * frag_line_words(M)); enc from frag_enc_init_lines or frag_enc_init; scratch:
 * FRAG_ENC_LINE_SCRATCH bytes, 8-byte aligned, not shared during the call. Returns FUOTA_OK or
 * FUOTA_ERR_INVALID_ARG (a NULL pointer, n == 0, a seed index over FRAG_ENC_MAX_SEED_INDEX,
 * words too small). */
int frag_enc_line(const struct frag_enc *enc, uint32_t n, uint64_t *line, size_t words,
                  void *scratch);

/* Scratch with which frag_enc_line_wide takes the encoder's byte map (about M + 4.4 KB). */
size_t frag_enc_line_wide_scratch(const struct frag_enc *enc);

/* frag_enc_line with scratch_len bytes of scratch (8-byte aligned, at least
 * FRAG_ENC_LINE_SCRATCH): with frag_enc_line_wide_scratch(enc) or more, on a little-endian CPU,
 * the draws mark a byte map (a store each, no read-modify-write of line words) packed into the
 * line at the end, as the encoder does. The same line and return values. */
int frag_enc_line_wide(const struct frag_enc *enc, uint32_t n, uint64_t *line, size_t words,
                       void *scratch, size_t scratch_len);

#endif
