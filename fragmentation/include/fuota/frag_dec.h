/* TS004 decoder: rebuilds a fragmented data block from DataFragments (the device side; fuota-sim's
 * devices and fuota-tool use it). PROTOCOL-NOTES §4.4, §4.8, §4.9 and pitfalls P2-P5, P16-P18.
 *
 * Frames may arrive in any order and more than once. N = 1..M are the uncoded fragments, N > M
 * the coded ones (row n = N - M of the struct frag_code, with its v1/v2 rule and seed base). Each
 * frame is one GF(2) equation over the M unknown fragments; the decoder keeps the equations that
 * involve fragments not yet known in echelon form (one "pivot" row per equation, 64-bit words,
 * whole-word XOR of data) and finishes as soon as the number of independent equations equals the
 * number of fragments still unknown. With every uncoded fragment received it is done without any
 * coded frame (P5).
 *
 * Memory: the caller owns it all; nothing is allocated. With W = ceil(M / 64),
 * C = ceil((16383 - M) / 64) and L = the number of lost fragments the memory tolerates:
 *
 *     frag_dec_mem_size(M, S, L) = 8 * (W * (L + 2) + C) + 2 * (M + 2 * L) + S * (M + 1)
 *
 * bytes (S = FragSize), 8-byte aligned (malloc'd memory is). The rebuilt image (M * S bytes, the
 * last `padding` bytes excluded from frag_dec_image) lives in that memory. L pivot
 * rows of M bits are the part that grows with losses; a row is stored only for a coded frame that
 * brings new information about fragments not yet received. When a coded frame needs a row and
 * all L are in use, the session is unrecoverable (NotEnoughMatrixMemory): with frames in order
 * (the TS004 norm) L >= the number of lost uncoded fragments is enough; with frames in any order
 * L >= min(M, coded frames) always is.
 *
 * Results are never ambiguous (P2): FRAG_DEC_DONE means the image is exact (given correct
 * frames), FRAG_DEC_FAILED means it cannot be rebuilt, and no call returns "done" on failure. */
#ifndef FUOTA_FRAG_DEC_H
#define FUOTA_FRAG_DEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/frag_row.h"

/* "No row" in the pivot tables (L <= M <= 16383 never reaches it). */
#define FRAG_DEC_NONE 0xffffu

enum frag_dec_state {
	FRAG_DEC_ONGOING = 0, /* more frames are needed */
	FRAG_DEC_DONE = 1,    /* the image is rebuilt */
	FRAG_DEC_FAILED = 2   /* out of matrix memory, or no more frames and not rebuilt */
};

/* Counters, as of the last call. */
struct frag_dec_stats {
	uint32_t received;         /* distinct frames accepted (uncoded + coded) */
	uint32_t uncoded_received; /* distinct uncoded frames */
	uint32_t coded_received;   /* distinct coded frames */
	uint32_t missing;          /* uncoded fragments not yet known (0 once done) */
	uint32_t coded_useful;     /* coded frames that raised the rank when they arrived */
	uint32_t coded_redundant;  /* coded frames that brought nothing new when they arrived */
	uint32_t duplicates;       /* frames already seen (ignored) */
	uint32_t rank;             /* pivot rows in use */
	uint32_t recovered;        /* fragments rebuilt by the FEC (set when done) */
	uint32_t max_lost;         /* L, the pivot rows the memory holds */
	bool not_enough_memory;    /* NotEnoughMatrixMemory / MemoryError (FragSessionStatusAns) */
};

/* The decoder state: a fixed-size struct the caller declares; it points into the caller's
 * memory. Fields are private to frag_dec.c. */
struct frag_dec {
	struct frag_code code;
	uint32_t frag_size;
	uint32_t padding;
	uint32_t words;       /* W */
	uint32_t coded_words; /* C */
	uint32_t max_rows;    /* L */
	uint32_t nb_rows;     /* pivot rows in use, kept compact in rows[0..nb_rows) */
	enum frag_dec_state state;
	struct frag_dec_stats stats;
	uint64_t *known;      /* W words: bit x = uncoded fragment x is known */
	uint64_t *scratch;    /* W words: the equation being reduced */
	uint64_t *coded_seen; /* C words: bit n - 1 = coded row n received */
	uint64_t *rows;       /* L * W words */
	uint16_t *pivot_of;   /* M entries: row holding column x as pivot, or FRAG_DEC_NONE */
	uint16_t *row_pivot;  /* L entries: pivot column of each row */
	uint16_t *used;       /* L entries: rows XORed into the equation being reduced */
	uint8_t *image;       /* M * S bytes; a pivot row's data lives in its pivot column's slot */
	uint8_t *data;        /* S bytes: the data of the equation being reduced */
};

/* Bytes of memory frag_dec_init needs for M = nb_frag (1..16383), S = frag_size (1..255) and
 * L = max_lost pivot rows (the formula above; L is capped at M). Returns 0 for arguments out of
 * range. */
size_t frag_dec_mem_size(uint32_t nb_frag, uint32_t frag_size, uint32_t max_lost);

/* Starts a session. code: M (1..16383), v1/v2 and seed base; frag_size 1..255; padding <
 * frag_size; mem: mem_len bytes, 8-byte aligned, owned by the caller and used until the session
 * is dropped. L is the largest value that fits mem_len (capped at M); mem_len must at least hold
 * L = 0. Returns FUOTA_OK, FUOTA_ERR_INVALID_ARG (bad code or sizes, misaligned memory) or
 * FUOTA_ERR_NO_SPACE (mem_len < frag_dec_mem_size(M, S, 0)). */
int frag_dec_init(struct frag_dec *dec, const struct frag_code *code, uint32_t frag_size,
                  uint32_t padding, void *mem, size_t mem_len);

/* Feeds DataFragment N with its payload (len must equal frag_size). *state (optional) receives
 * the session state after the frame. Frames after DONE or FAILED are ignored.
 * Returns FUOTA_OK (accepted, duplicate or ignored) or FUOTA_ERR_MALFORMED (N = 0, N > 16383,
 * or a payload of the wrong size: the frame is refused and the session is unchanged), or
 * FUOTA_ERR_INVALID_ARG (NULL pointers). */
int frag_dec_process(struct frag_dec *dec, uint32_t n, const uint8_t *payload, size_t len,
                     enum frag_dec_state *state);

/* The caller has no more frames: a session not yet DONE becomes FAILED. Returns the state. */
enum frag_dec_state frag_dec_finish(struct frag_dec *dec);

/* The current state. */
enum frag_dec_state frag_dec_state(const struct frag_dec *dec);

/* Counters (see struct frag_dec_stats). */
void frag_dec_get_stats(const struct frag_dec *dec, struct frag_dec_stats *stats);

/* The rebuilt image: *image points into the decoder's memory, *len = M * S - padding.
 * Returns FUOTA_OK, or FUOTA_ERR_STATE when the session is not DONE. */
int frag_dec_image(const struct frag_dec *dec, const uint8_t **image, size_t *len);

#endif
