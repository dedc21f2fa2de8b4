/* The input the TS004 decoder harnesses share (fuzz_frag_dec.c, fuzz_frag_lean.c), so that they
 * share seeds too. Header-only so that each harness stays one source file.
 *
 * Header (6 bytes): byte 0 % 3 the code (v1 / v2 relative / v2 absolute; fuzz_frag_lean reads
 * byte 0 / 3 too), M (2 bytes LE, 1..200), FragSize S (1..32), matrix memory L (0..M), padding.
 * The true image is derived from the header. Then records of 3 bytes: N (2 bytes LE) and a flag
 * byte: bit 2 folds N into 1..3M+2 (to hit real rows often), bit 0 takes the payload from the
 * input instead of the true image (a corrupt frame), bit 1 sends a payload of the wrong size
 * (bit 3: one byte more, else one less). */
#ifndef FUOTA_FRAG_SESSION_H
#define FUOTA_FRAG_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/frag_dec.h"
#include "fuota/frag_row.h"

#define FRAG_FUZZ_MAX_M 200u
#define FRAG_FUZZ_MAX_S 32u

struct frag_fuzz {
	struct frag_code code;
	uint32_t m, s, l, padding;
	uint8_t *image; /* M * S bytes, malloc'd (frag_fuzz_free) */
	size_t pos;     /* the next record */
	bool corrupt;   /* a frame the decoder took in was not the true one */
};

/* One record: frame N with len bytes; bad: the decoder must refuse it as MALFORMED. */
struct frag_fuzz_rec {
	uint32_t n;
	size_t len;
	bool bad;
	uint8_t frame[FRAG_FUZZ_MAX_S + 1];
};

/* Reads the header; false when the input is shorter. Aborts without memory. */
static inline bool frag_fuzz_init(struct frag_fuzz *f, const uint8_t *data, size_t size)
{
	static const struct {
		enum frag_version v;
		enum frag_seed seed;
	} codes[] = {{FRAG_V1, FRAG_SEED_RELATIVE},
	             {FRAG_V2, FRAG_SEED_RELATIVE},
	             {FRAG_V2, FRAG_SEED_ABSOLUTE}};
	uint64_t x;

	if (size < 6)
		return false;
	memset(f, 0, sizeof(*f));
	f->code.version = codes[data[0] % 3].v;
	f->code.seed = codes[data[0] % 3].seed;
	f->m = 1 + (uint32_t)((data[1] | data[2] << 8) % FRAG_FUZZ_MAX_M);
	f->code.nb_frag = f->m;
	f->s = 1 + data[3] % FRAG_FUZZ_MAX_S;
	f->l = data[4] % (f->m + 1);
	f->padding = data[5] % f->s;
	f->pos = 6;
	f->image = malloc((size_t)f->m * f->s);
	if (!f->image)
		abort();
	x = 0x243f6a8885a308d3ull ^ data[0] ^ (uint64_t)data[3] << 8;
	for (size_t i = 0; i < (size_t)f->m * f->s; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		f->image[i] = (uint8_t)x;
	}
	return true;
}

static inline void frag_fuzz_free(struct frag_fuzz *f)
{
	free(f->image);
	f->image = NULL;
}

/* Frame n (1..M uncoded, above: a parity row) of the true image into out (S bytes). */
static inline void frag_fuzz_true_frame(const struct frag_fuzz *f, uint32_t n, uint8_t *out)
{
	uint64_t line[(FRAG_FUZZ_MAX_M + 63) / 64];
	uint32_t m = f->m, s = f->s;

	if (n <= m) {
		memcpy(out, f->image + (size_t)(n - 1) * s, s);
		return;
	}
	if (frag_row_line(&f->code, n - m, line, sizeof(line) / sizeof(line[0]), NULL) != FUOTA_OK)
		abort();
	memset(out, 0, s);
	for (uint32_t x = 0; x < m; x++)
		if ((line[x / 64] >> (x % 64)) & 1)
			for (uint32_t b = 0; b < s; b++)
				out[b] ^= f->image[(size_t)x * s + b];
}

/* The next record into r; false at the end of the input. Marks the session corrupt when a
 * frame the decoder must take is not the true one (from the input, or a dummy for a row far
 * beyond 3M). */
static inline bool frag_fuzz_next(struct frag_fuzz *f, const uint8_t *data, size_t size,
                                  struct frag_fuzz_rec *r)
{
	uint8_t flags;
	bool given = false, dummy = false;

	if (f->pos + 3 > size)
		return false;
	r->n = (uint32_t)(data[f->pos] | data[f->pos + 1] << 8);
	flags = data[f->pos + 2];
	f->pos += 3;
	r->len = f->s;
	if (flags & 4)
		r->n = r->n % (3 * f->m + 3);
	if (flags & 2)
		r->len = (flags & 8) ? f->s + 1 : f->s - 1;
	if (flags & 1) {
		if (f->pos + f->s > size)
			return false;
		memcpy(r->frame, data + f->pos, f->s);
		f->pos += f->s;
		given = true;
	} else if (r->n >= 1 && r->n <= FRAG_MAX_N && r->n <= f->m + 2 * f->m + 64) {
		frag_fuzz_true_frame(f, r->n, r->frame);
	} else {
		memset(r->frame, 0xa5, sizeof(r->frame));
		dummy = true;
	}
	r->bad = r->n == 0 || r->n > FRAG_MAX_N || r->len != f->s;
	if (!r->bad && (given || dummy))
		f->corrupt = true;
	return true;
}

/* What both decoders' counters must satisfy; aborts otherwise. failed: the session is FAILED
 * (only for lack of memory before finish). */
static inline void frag_fuzz_check_stats(const struct frag_dec_stats *st, uint32_t m, bool failed)
{
	if (st->received != st->uncoded_received + st->coded_received || st->missing > m ||
	    st->rank > st->max_lost || st->uncoded_received > m ||
	    st->coded_useful + st->coded_redundant > st->coded_received)
		abort();
	if (failed && !st->not_enough_memory)
		abort();
}

#endif
