/* TS004 lean device decoder: the fragmentation/ decoder for a device whose image lives in flash
 * (PROTOCOL-NOTES §4.4, §4.8, §4.9). It keeps only the lost fragments' columns in RAM and reaches
 * the image through the caller's read/write callbacks.
 *
 * Frames are expected in order, as a device receives them: uncoded fragments N = 1..M first (some
 * lost), then coded rows N > M. An uncoded fragment goes straight to its slot, offset (N - 1) * S,
 * through write(). The first coded frame fixes the lost set: the L uncoded fragments not received
 * by then. A coded row's line is reduced by the fragments already held (their data read back and
 * XORed into the payload) and only its bits over the L lost columns are kept: an L-bit equation,
 * eliminated against the pivot rows held so far. A pivot row with pivot p (the p-th lost column)
 * keeps bits p..L-1 only, in bytes from byte p / 8 on (upper triangle); its data lives in
 * the flash slot of lost fragment p. When the rank reaches L the rows are solved from the last
 * pivot down and every lost slot holds its fragment. A lost uncoded fragment arriving after the
 * first coded frame is one more equation (a single bit). A coded frame with N at or below the
 * highest coded N already taken is ignored (counted as a duplicate), as LoRaMac-node drops frames
 * out of order.
 *
 * Memory: the caller owns it all; nothing is allocated. With W = ceil(M / 64), V = ceil(L / 64),
 * B = ceil(L / 8) and T(L) = the bytes of the upper triangle (pivot rows 8c..8c+7 hold B - c
 * bytes each), about L * L / 16:
 *
 *     frag_lean_mem_size(M, S, L) = 8 * (2 * W + 3 * V) + 2 * (W + L) + T(L) + 2 * S
 *
 * bytes, 8-byte aligned (malloc'd memory is). frag_lean_loramac_mem() gives LoRaMac-node's
 * FragDecoder figure for the same session (see there); for the sessions of docs/BENCHMARKS.md the
 * lean decoder needs less.
 *
 * Results are never ambiguous (P2): FRAG_DEC_DONE means the flash holds the exact image (given
 * correct frames), FRAG_DEC_FAILED that it cannot be rebuilt (more lost fragments than the memory
 * holds, a callback error, or finish() before the rank reached L). */
#ifndef FUOTA_FRAG_LEAN_H
#define FUOTA_FRAG_LEAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/frag_dec.h"
#include "fuota/frag_enc.h"
#include "fuota/frag_row.h"

/* The device's storage of the image: M * S bytes at offsets 0..M*S-1. read and write return 0 on
 * success, anything else on failure (the session then fails). ctx is passed through untouched.
 * map is optional (NULL: not used), for flash the CPU reads in place (memory-mapped, XIP): the
 * address of the len bytes at offset, which must stay readable and unchanged until the next
 * write (the decoder may map the whole image at once); NULL fails the session as a read error
 * would. With it the decoder XORs fragments straight from flash instead of copying each one out
 * first; the image is the same. */
struct frag_lean_io {
	int (*read)(void *ctx, uint32_t offset, uint8_t *buf, uint32_t len);
	int (*write)(void *ctx, uint32_t offset, const uint8_t *buf, uint32_t len);
	void *ctx;
	const uint8_t *(*map)(void *ctx, uint32_t offset, uint32_t len);
};

/* dst[0..n) ^= src[0..n). */
typedef void (*frag_lean_xor_fn)(uint8_t *dst, const uint8_t *src, size_t n);
/* One word of 64 mapped fragments into the batch table (frag_enc_impl.h, xor_word). */
typedef void (*frag_lean_xor_word_fn)(uint8_t *tab, const uint64_t *entry, uint64_t any,
                                      const uint8_t *src, size_t len);

/* The decoder state: a fixed-size struct the caller declares; it points into the caller's
 * memory. Fields are private to frag_lean.c. */
struct frag_lean {
	struct frag_code code;
	struct frag_lean_io io;
	uint32_t frag_size, padding;
	uint32_t words;      /* W */
	uint32_t max_lost;   /* L the memory holds */
	uint32_t lost;       /* L of the session, set by the first coded frame */
	uint32_t lbytes;     /* ceil(L / 8) of the session */
	uint32_t rank;       /* pivot rows held */
	uint32_t last_coded; /* highest coded row n taken, 0 before the first */
	uint32_t batch;      /* B, 0 = rows completed as they arrive */
	uint32_t pending;    /* useful rows of the batch whose data waits for the flush */
	bool frozen;         /* the lost set is fixed */
	bool bmi2;           /* the coded equations by pext (x86-64 with BMI2) */
	enum frag_dec_state state;
	struct frag_dec_stats stats;
	frag_lean_xor_fn xor_fn;        /* the widest XOR this CPU runs, picked at init */
	frag_lean_xor_word_fn xor_word; /* the same for a word of mapped fragments */
	struct frag_enc lines; /* the encoder's vectorised line draws (batched: the table is
	                        * their scratch between flushes) */
	uint8_t *line_scratch; /* in the table, 8-byte aligned; NULL: frag_row_line */
	const uint8_t *mapped; /* the whole image mapped while the table is filled */
	uint64_t *known;       /* W words: bit x = uncoded fragment x received before the freeze */
	uint64_t *line;        /* W words: the coded row's line */
	uint8_t *eq;           /* 8 * V bytes: the equation being reduced, bit p in byte p / 8 */
	uint8_t *has;          /* 8 * V bytes: bit p = pivot row p held */
	uint8_t *late;         /* 8 * V bytes: bit p = lost fragment p received after the freeze */
	uint16_t *prefix;      /* W entries: lost fragments before word i */
	uint16_t *lost_x;      /* L entries: fragment index of lost column p */
	uint8_t *rows;         /* T(L) bytes: the upper triangle of pivot rows */
	uint8_t *data;         /* S bytes: the equation's data */
	uint8_t *buf;          /* S bytes: a slot read back */
	uint64_t *blines;      /* B * W words: the lines of the batch's rows */
	uint8_t *bused;        /* B * 8V bytes: pivot rows each batched row was reduced with */
	uint16_t *bpiv;        /* B entries: the batched rows' pivots */
	uint8_t *table;        /* 2^B * S bytes: XOR of the held fragments per line combination */
	uint8_t *rbuf;         /* N * S bytes: a run of up to N fragments read at once */
	uint32_t rbuf_frags;   /* N, 0 = one read per fragment */
};

/* Rows batched at most (the table has 2^B entries of S bytes). */
#define FRAG_LEAN_MAX_BATCH 8u

/* Bytes frag_lean_init needs for M = nb_frag (1..16383), S = frag_size (1..255), and up to
 * max_lost lost fragments (capped at M). Returns 0 for arguments out of range. */
size_t frag_lean_mem_size(uint32_t nb_frag, uint32_t frag_size, uint32_t max_lost);

/* Extra bytes of a batch of B = 2..FRAG_LEAN_MAX_BATCH rows (0 for B < 2):
 * B * (8 * W + 8 * V + 2) + 2^B * S + 8. Batched, a useful coded row's raw payload waits in its
 * pivot's slot and its line in RAM; every B useful rows the held fragments are read once each and
 * XORed into the table entry of the rows whose lines hold them, and each row's data is completed
 * from the 2^(B-1) entries that contain it: about B / 2.5 times fewer reads and XORs than one
 * pass per row for 10 % loss. The table is also the scratch of the row lines'
 * vectorised draws between flushes and, at the end, of the back substitution, B pivot rows at a
 * time: no memory beyond the formula. */
size_t frag_lean_batch_mem(uint32_t nb_frag, uint32_t frag_size, uint32_t max_lost, uint32_t batch);

/* RAM of LoRaMac-node's FragDecoder built for this session (FRAG_MAX_NB = M, FRAG_MAX_SIZE = S,
 * FRAG_MAX_REDUNDANCY = L lost fragments), from its layout (PROTOCOL-NOTES §4.9, P16):
 * MatrixM2B ((L >> 3) + 1) * L bytes, FragNbMissingIndex 2 * M (uint16_t), S (the pivot flags)
 * (L >> 3) + 1, and FragDecoderProcess's line buffers matrixRow (M >> 3) + 1, matrixDataTemp S,
 * dataTempVector and dataTempVector2 (L >> 3) + 1 each. Its image is in flash too. Counters and
 * callbacks (a few dozen bytes) are left out. Returns 0 for M == 0. */
size_t frag_lean_loramac_mem(uint32_t nb_frag, uint32_t frag_size, uint32_t lost);

/* Starts a session. code: M (1..16383), v1/v2 and seed base; frag_size 1..255; padding <
 * frag_size (the last fragment's zero bytes: the image is M * S - padding bytes); io: both
 * callbacks set; mem: mem_len bytes, 8-byte aligned, owned by the caller and used until the
 * session is dropped; the largest L that fits is used (capped at M). Returns FUOTA_OK,
 * FUOTA_ERR_INVALID_ARG or FUOTA_ERR_NO_SPACE (mem_len < frag_lean_mem_size(M, S, 0)). */
int frag_lean_init(struct frag_lean *dec, const struct frag_code *code, uint32_t frag_size,
                   uint32_t padding, const struct frag_lean_io *io, void *mem, size_t mem_len);

/* frag_lean_init with rows batched by B (0: none; 2..FRAG_LEAN_MAX_BATCH); mem_len must hold
 * frag_lean_mem_size(M, S, L) + frag_lean_batch_mem(M, S, L, B) for the L wanted. The rebuilt
 * image is the same. Returns as frag_lean_init (FUOTA_ERR_INVALID_ARG also for B = 1 or > 8). */
int frag_lean_init_batch(struct frag_lean *dec, const struct frag_code *code, uint32_t frag_size,
                         uint32_t padding, const struct frag_lean_io *io, uint32_t batch, void *mem,
                         size_t mem_len);

/* Fragments a read buffer holds at most (one word of the batch's lines). */
#define FRAG_LEAN_MAX_RBUF 64u

/* Bytes of a read buffer of n = 0..FRAG_LEAN_MAX_RBUF fragments: n * S (0 for n < 2, which is
 * no buffer, and out of range). Batched and without a map callback, the table is filled from runs
 * of up to n consecutive fragments of one word read with one read call, instead of a call per
 * fragment. */
size_t frag_lean_rbuf_mem(uint32_t frag_size, uint32_t frags);

/* frag_lean_init_batch with a read buffer of rbuf = 0..FRAG_LEAN_MAX_RBUF fragments (ignored
 * without a batch, and 1 is taken as 0); mem_len must hold frag_lean_mem_size(M, S, L) +
 * frag_lean_batch_mem(M, S, L, B) + frag_lean_rbuf_mem(S, rbuf). The rebuilt image is the
 * same. Returns as frag_lean_init_batch (FUOTA_ERR_INVALID_ARG also for rbuf > 64). */
int frag_lean_init_buffered(struct frag_lean *dec, const struct frag_code *code, uint32_t frag_size,
                            uint32_t padding, const struct frag_lean_io *io, uint32_t batch,
                            uint32_t rbuf, void *mem, size_t mem_len);

/* Feeds DataFragment N with its payload (len must equal frag_size). *state (optional) receives
 * the state after the frame; frames after DONE or FAILED are ignored. Returns FUOTA_OK (taken,
 * duplicate or ignored), FUOTA_ERR_MALFORMED (N = 0, N > 16383, or a wrong size: refused, the
 * session unchanged) or FUOTA_ERR_INVALID_ARG (NULL pointers). A callback error fails the
 * session (state FAILED) and returns FUOTA_ERR_IO. */
int frag_lean_process(struct frag_lean *dec, uint32_t n, const uint8_t *payload, size_t len,
                      enum frag_dec_state *state);

/* The caller has no more frames: a session not yet DONE becomes FAILED. Returns the state. */
enum frag_dec_state frag_lean_finish(struct frag_lean *dec);

/* The current state. */
enum frag_dec_state frag_lean_state(const struct frag_lean *dec);

/* Counters, as struct frag_dec_stats defines them (max_lost: the L the memory holds). */
void frag_lean_get_stats(const struct frag_lean *dec, struct frag_dec_stats *stats);

#endif
