/* TS004 FragAlgo 0: the PRBS23 parity matrix (PROTOCOL-NOTES §4.4, §4.5).
 *
 * Redundancy row n (n >= 1) is sent as DataFragment N = M + n. Its line is a set of uncoded
 * fragments (0-based column x = fragment N = x + 1) whose XOR is the coded fragment. The line is
 * drawn with prbs23 from the seed 1 + 1001 * k, where k = n (v1, v2 relative: LoRaMac-node, LBM,
 * ChirpStack since f0225624) or k = N (v2 absolute: the TS004 v2 MATLAB reading). v1 counts
 * repeated draws towards floor(M/2); v2 counts only distinct ones. */
#ifndef FUOTA_FRAG_ROW_H
#define FUOTA_FRAG_ROW_H

#include <stddef.h>
#include <stdint.h>

/* DataFragment's N is 14 bits: M + redundancy <= 16383 in one session. */
#define FRAG_MAX_N 16383u

enum frag_version {
	FRAG_V1 = 1, /* TS004 v1.0.0: repeated draws count */
	FRAG_V2 = 2  /* TS004 v2.0.0: distinct draws */
};

enum frag_seed {
	FRAG_SEED_RELATIVE = 0, /* seed index n = N - M (every v1 stack; LBM and ChirpStack v2) */
	FRAG_SEED_ABSOLUTE = 1  /* seed index N (TS004 v2 MATLAB reading); used only with FRAG_V2 */
};

/* Which parity code a session uses. */
struct frag_code {
	uint32_t nb_frag;          /* M, uncoded fragments, >= 1 */
	enum frag_version version; /* FRAG_V1 or FRAG_V2 */
	enum frag_seed seed;       /* ignored for FRAG_V1 */
};

/* 64-bit words that hold a line of M bits. */
static inline size_t frag_line_words(uint32_t nb_frag)
{
	return ((size_t)nb_frag + 63) / 64;
}

/* Checks a code: FUOTA_OK, or FUOTA_ERR_INVALID_ARG for M == 0 or an unknown version/seed.
 * M may exceed FRAG_MAX_N: the encoder serves images larger than one session. */
int frag_code_check(const struct frag_code *code);

/* Computes the line of redundancy row n (n >= 1) into line[0..words), bit x at line[x / 64] bit
 * (x % 64); words must be >= frag_line_words(M). *weight (optional) receives the number of ones.
 * Returns FUOTA_OK or FUOTA_ERR_INVALID_ARG (bad code, n == 0, words too small, or a seed index
 * whose seed 1 + 1001 * k would not fit 32 bits). */
int frag_row_line(const struct frag_code *code, uint32_t n, uint64_t *line, size_t words,
                  uint32_t *weight);

#endif
