/* TS004 decoder: incremental GF(2) elimination over 64-bit words (see frag_dec.h for the model
 * and the memory formula).
 *
 * Invariants between calls:
 * - known[x] is set iff uncoded fragment x was received; image slot x then holds it.
 * - Each pivot row r has pivot column c = row_pivot[r], an unknown column, and pivot_of[c] = r.
 *   The row's bits are c and columns above c (unknown when stored; some may have become known
 *   since, which is harmless: their slots hold their value). The row's data, the XOR of the
 *   fragments its bits select, lives in image slot c, which is otherwise unused while c is
 *   unknown.
 * - The session is done when the pivot rows cover every unknown column (rank == missing); back
 *   substitution in decreasing pivot order then leaves every slot holding its fragment. */
#include "fuota/frag_dec.h"

#include <stdint.h>
#include <string.h>

#include "fuota/err.h"

enum insert_result { INSERT_USEFUL, INSERT_REDUNDANT, INSERT_NO_MEMORY };

static uint32_t line_words(uint32_t m)
{
	return (m + 63u) / 64u;
}

static uint32_t coded_words(uint32_t m)
{
	return (FRAG_MAX_N - m + 63u) / 64u;
}

size_t frag_dec_mem_size(uint32_t nb_frag, uint32_t frag_size, uint32_t max_lost)
{
	size_t w, l, m = nb_frag;

	if (nb_frag == 0 || nb_frag > FRAG_MAX_N || frag_size == 0 || frag_size > 255)
		return 0;
	l = max_lost > nb_frag ? nb_frag : max_lost;
	w = line_words(nb_frag);
	return 8u * (w * (l + 2u) + coded_words(nb_frag)) + 2u * (m + 2u * l) +
	       (size_t)frag_size * (m + 1u);
}

/* dst ^= src over n bytes, 8 bytes at a time (slots are not aligned: memcpy loads). */
static void xor_bytes(uint8_t *restrict dst, const uint8_t *restrict src, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;

		memcpy(&a, dst + i, 8);
		memcpy(&b, src + i, 8);
		a ^= b;
		memcpy(dst + i, &a, 8);
	}
	for (; i < n; i++)
		dst[i] ^= src[i];
}

static uint8_t *slot(const struct frag_dec *d, uint32_t x)
{
	return d->image + (size_t)x * d->frag_size;
}

int frag_dec_init(struct frag_dec *dec, const struct frag_code *code, uint32_t frag_size,
                  uint32_t padding, void *mem, size_t mem_len)
{
	uint32_t m, w, c, l;
	size_t base, per_row;
	uint8_t *p = mem;

	if (!dec || !mem || frag_code_check(code) != FUOTA_OK || code->nb_frag > FRAG_MAX_N ||
	    frag_size == 0 || frag_size > 255 || padding >= frag_size || ((uintptr_t)mem & 7u))
		return FUOTA_ERR_INVALID_ARG;
	m = code->nb_frag;
	base = frag_dec_mem_size(m, frag_size, 0);
	if (mem_len < base)
		return FUOTA_ERR_NO_SPACE;
	w = line_words(m);
	c = coded_words(m);
	per_row = 8u * w + 4u; /* a row of bits, its row_pivot and used entries */
	l = (uint32_t)((mem_len - base) / per_row > m ? m : (mem_len - base) / per_row);

	memset(dec, 0, sizeof(*dec));
	dec->code = *code;
	dec->frag_size = frag_size;
	dec->padding = padding;
	dec->words = w;
	dec->coded_words = c;
	dec->max_rows = l;
	dec->state = FRAG_DEC_ONGOING;
	/* 64-bit arrays first (mem is 8-byte aligned), then 16-bit ones, then bytes. */
	dec->known = (uint64_t *)(void *)p;
	dec->scratch = dec->known + w;
	dec->coded_seen = dec->scratch + w;
	dec->rows = dec->coded_seen + c;
	p = (uint8_t *)(dec->rows + (size_t)l * w);
	dec->pivot_of = (uint16_t *)(void *)p;
	dec->row_pivot = dec->pivot_of + m;
	dec->used = dec->row_pivot + l;
	dec->image = (uint8_t *)(dec->used + l);
	dec->data = dec->image + (size_t)m * frag_size;

	memset(dec->known, 0, 8u * (2u * (size_t)w + c));
	for (uint32_t x = 0; x < m; x++)
		dec->pivot_of[x] = FRAG_DEC_NONE;
	memset(dec->image, 0, (size_t)m * frag_size + frag_size);
	dec->stats.missing = m;
	dec->stats.max_lost = l;
	return FUOTA_OK;
}

/* Drops pivot row r, keeping rows[0..nb_rows) compact. Its data slot is left to the caller. */
static void remove_row(struct frag_dec *d, uint32_t r)
{
	uint32_t last = d->nb_rows - 1;

	d->pivot_of[d->row_pivot[r]] = FRAG_DEC_NONE;
	if (r != last) {
		memcpy(d->rows + (size_t)r * d->words, d->rows + (size_t)last * d->words,
		       8u * (size_t)d->words);
		d->row_pivot[r] = d->row_pivot[last];
		d->pivot_of[d->row_pivot[r]] = (uint16_t)r;
	}
	d->nb_rows--;
}

/* Finds the lowest unknown column of the equation in scratch that has no pivot, XORing in (bits
 * only) the pivot rows of the unknown columns below it and listing them in used[]. Returns the
 * column, or FRAG_DEC_NONE when the equation reduces to known columns only. */
static uint32_t reduce_bits(struct frag_dec *d, uint32_t *nb_used)
{
	uint32_t w = d->words, n = 0;

	for (uint32_t i = 0; i < w; i++) {
		for (;;) {
			uint64_t u = d->scratch[i] & ~d->known[i];
			uint32_t col, r;
			const uint64_t *row;

			if (!u)
				break;
			col = i * 64u + (uint32_t)__builtin_ctzll(u);
			r = d->pivot_of[col];
			if (r == FRAG_DEC_NONE) {
				*nb_used = n;
				return col;
			}
			/* Row r has no bits below col: start at word i. */
			row = d->rows + (size_t)r * w;
			for (uint32_t k = i; k < w; k++)
				d->scratch[k] ^= row[k];
			d->used[n++] = (uint16_t)r;
		}
	}
	*nb_used = n;
	return FRAG_DEC_NONE;
}

/* Adds the equation (scratch bits, data) to the pivot rows. The data work (the known fragments
 * and the pivot rows it involves) is done only for an equation that raises the rank. */
static enum insert_result insert(struct frag_dec *d)
{
	uint32_t nb_used, col, r, w = d->words, s = d->frag_size;

	col = reduce_bits(d, &nb_used);
	if (col == FRAG_DEC_NONE)
		return INSERT_REDUNDANT;
	if (d->nb_rows >= d->max_rows)
		return INSERT_NO_MEMORY;
	for (uint32_t k = 0; k < nb_used; k++)
		xor_bytes(d->data, slot(d, d->row_pivot[d->used[k]]), s);
	for (uint32_t i = 0; i < w; i++) {
		uint64_t kb = d->scratch[i] & d->known[i];

		while (kb) {
			xor_bytes(d->data, slot(d, i * 64u + (uint32_t)__builtin_ctzll(kb)), s);
			kb &= kb - 1;
		}
		d->scratch[i] &= ~d->known[i];
	}
	r = d->nb_rows++;
	memcpy(d->rows + (size_t)r * w, d->scratch, 8u * (size_t)w);
	d->row_pivot[r] = (uint16_t)col;
	d->pivot_of[col] = (uint16_t)r;
	memcpy(slot(d, col), d->data, s);
	return INSERT_USEFUL;
}

/* Every unknown column has a pivot row: solve them from the highest pivot down. Each row's
 * other bits are above its pivot, so they are known or already solved when it is reached. */
static void back_substitute(struct frag_dec *d)
{
	uint32_t w = d->words, s = d->frag_size;

	for (uint32_t c = d->code.nb_frag; c-- > 0;) {
		uint32_t r = d->pivot_of[c];
		const uint64_t *row;
		uint8_t *dst;

		if (r == FRAG_DEC_NONE)
			continue;
		row = d->rows + (size_t)r * w;
		dst = slot(d, c);
		for (uint32_t i = c / 64u; i < w; i++) {
			uint64_t b = row[i];

			if (i == c / 64u)
				b &= ~((uint64_t)1 << (c % 64u));
			while (b) {
				xor_bytes(dst, slot(d, i * 64u + (uint32_t)__builtin_ctzll(b)), s);
				b &= b - 1;
			}
		}
	}
}

static void check_done(struct frag_dec *d)
{
	if (d->state != FRAG_DEC_ONGOING || d->nb_rows != d->stats.missing)
		return;
	back_substitute(d);
	d->stats.recovered = d->nb_rows;
	d->stats.missing = 0;
	d->state = FRAG_DEC_DONE;
}

static void uncoded(struct frag_dec *d, uint32_t x, const uint8_t *payload)
{
	uint64_t bit = (uint64_t)1 << (x % 64u);
	uint32_t r;

	if (d->known[x / 64u] & bit) {
		d->stats.duplicates++;
		return;
	}
	d->stats.received++;
	d->stats.uncoded_received++;
	r = d->pivot_of[x];
	if (r == FRAG_DEC_NONE) {
		memcpy(slot(d, x), payload, d->frag_size);
		d->known[x / 64u] |= bit;
		d->stats.missing--;
		return;
	}
	/* x was the pivot of row r, whose data sits in slot x: take the row out, store the
	 * fragment, and put the row back as an equation over the other columns (x now known). */
	memcpy(d->scratch, d->rows + (size_t)r * d->words, 8u * (size_t)d->words);
	memcpy(d->data, slot(d, x), d->frag_size);
	remove_row(d, r);
	memcpy(slot(d, x), payload, d->frag_size);
	d->known[x / 64u] |= bit;
	d->stats.missing--;
	(void)insert(d); /* a row was just freed: never INSERT_NO_MEMORY */
}

static void coded(struct frag_dec *d, uint32_t n, const uint8_t *payload)
{
	uint64_t bit = (uint64_t)1 << ((n - 1u) % 64u);
	uint64_t *seen = &d->coded_seen[(n - 1u) / 64u];
	int rc;

	if (*seen & bit) {
		d->stats.duplicates++;
		return;
	}
	*seen |= bit;
	d->stats.received++;
	d->stats.coded_received++;
	rc = frag_row_line(&d->code, n, d->scratch, d->words, NULL);
	if (rc != FUOTA_OK) { /* cannot happen for n <= 16383 - M; treat as no information */
		d->stats.coded_redundant++;
		return;
	}
	memcpy(d->data, payload, d->frag_size);
	switch (insert(d)) {
	case INSERT_USEFUL: d->stats.coded_useful++; break;
	case INSERT_REDUNDANT: d->stats.coded_redundant++; break;
	case INSERT_NO_MEMORY:
		d->stats.not_enough_memory = true;
		d->state = FRAG_DEC_FAILED;
		break;
	}
}

int frag_dec_process(struct frag_dec *dec, uint32_t n, const uint8_t *payload, size_t len,
                     enum frag_dec_state *state)
{
	if (!dec || !payload)
		return FUOTA_ERR_INVALID_ARG;
	if (n == 0 || n > FRAG_MAX_N || len != dec->frag_size)
		return FUOTA_ERR_MALFORMED;
	if (dec->state == FRAG_DEC_ONGOING) {
		if (n <= dec->code.nb_frag)
			uncoded(dec, n - 1u, payload);
		else
			coded(dec, n - dec->code.nb_frag, payload);
		check_done(dec);
	}
	if (state)
		*state = dec->state;
	return FUOTA_OK;
}

enum frag_dec_state frag_dec_finish(struct frag_dec *dec)
{
	if (!dec)
		return FRAG_DEC_FAILED;
	if (dec->state == FRAG_DEC_ONGOING)
		dec->state = FRAG_DEC_FAILED;
	return dec->state;
}

enum frag_dec_state frag_dec_state(const struct frag_dec *dec)
{
	return dec->state;
}

void frag_dec_get_stats(const struct frag_dec *dec, struct frag_dec_stats *stats)
{
	*stats = dec->stats;
	stats->rank = dec->nb_rows;
}

int frag_dec_image(const struct frag_dec *dec, const uint8_t **image, size_t *len)
{
	if (!dec || !image || !len)
		return FUOTA_ERR_INVALID_ARG;
	if (dec->state != FRAG_DEC_DONE)
		return FUOTA_ERR_STATE;
	*image = dec->image;
	*len = (size_t)dec->code.nb_frag * dec->frag_size - dec->padding;
	return FUOTA_OK;
}
