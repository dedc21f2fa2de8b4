/* TS004 lean device decoder (see frag_lean.h for the model and the memory formula).
 *
 * Invariants between calls, once the lost set is frozen:
 * - lost_x[p] is the p-th uncoded fragment not received before the freeze (increasing order);
 *   known[] no longer changes, and prefix[i] counts the lost fragments below word i.
 * - has bit p (byte p / 8, bit p % 8; eq and late alike): pivot row p is held at
 *   tri_offset(p), bytes p / 8 .. ceil(L / 8) - 1 of its bit row; its bits are p and lost
 *   columns above p,
 *   and its data (the XOR of the lost fragments its bits select) is in lost_x[p]'s flash slot.
 * - rank = the pivot rows held; the session is done when rank == lost. */
#include "fuota/frag_lean.h"

#include <string.h>

#include "frag_enc_impl.h"
#include "fuota/err.h"

static uint32_t words_of(uint32_t bits)
{
	return (bits + 63u) / 64u;
}

/* Byte offset of pivot row p in the upper triangle of an L-column matrix of nb = ceil(L / 8)
 * bytes a row: pivot rows of block c (p / 8 == c) keep bytes c..nb-1. */
static size_t tri_offset(uint32_t p, uint32_t nb)
{
	size_t c = p / 8u;

	return 8u * (c * nb - c * (c - (c ? 1u : 0u)) / 2u) + (size_t)(p - 8u * c) * (nb - c);
}

/* 16 bytes as one value: GCC and clang lower it to a vector register where the target has one
 * (SSE2 on x86-64, NEON) and to two 64-bit words elsewhere. */
typedef uint64_t frag_lean_v16 __attribute__((vector_size(16)));

/* dst[0..n) ^= src[0..n), 16 bytes at a time: the portable XOR (a device's). */
static void xor_portable(uint8_t *restrict dst, const uint8_t *restrict src, size_t n)
{
	size_t i = 0;

	for (; i + 16u <= n; i += 16u) {
		frag_lean_v16 a, b;

		memcpy(&a, dst + i, 16);
		memcpy(&b, src + i, 16);
		a ^= b;
		memcpy(dst + i, &a, 16);
	}
	for (; i + 8u <= n; i += 8u) {
		uint64_t a, b;

		memcpy(&a, dst + i, 8);
		memcpy(&b, src + i, 8);
		a ^= b;
		memcpy(dst + i, &a, 8);
	}
	for (; i < n; i++)
		dst[i] ^= src[i];
}

/* The widest XORs the CPU runs: the encoder's AVX-512 or AVX2 kernels where there are (a host
 * such as fuota-sim), else the portable ones. */
static void pick_xor(struct frag_lean *d)
{
	const struct frag_enc_kernels *k = frag_enc_isa_avx512_ok() ? &frag_enc_kern_avx512
	                                   : frag_enc_isa_avx2_ok() ? &frag_enc_kern_avx2
	                                                            : NULL;

	d->xor_fn = k ? k->xor_bytes : xor_portable;
	d->xor_word = k ? k->xor_word : frag_enc_kern_portable.xor_word;
}

#if defined(__x86_64__)
/* BMI2 (pext) for the coded equations. */
static int have_bmi2(void)
{
#if FRAG_ENC_GLIBC_CPU
	return CPU_FEATURE_ACTIVE(BMI2) && CPU_FEATURE_ACTIVE(POPCNT);
#else
	__builtin_cpu_init();
	return __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
#endif
}
#endif

size_t frag_lean_mem_size(uint32_t nb_frag, uint32_t frag_size, uint32_t max_lost)
{
	size_t w, v, l;

	if (nb_frag == 0 || nb_frag > FRAG_MAX_N || frag_size == 0 || frag_size > 255)
		return 0;
	l = max_lost > nb_frag ? nb_frag : max_lost;
	w = words_of(nb_frag);
	v = words_of((uint32_t)l);
	return 8u * (2u * w + 3u * v) + 2u * (w + l) +
	       tri_offset((uint32_t)l, (uint32_t)(l + 7u) / 8u) + 2u * (size_t)frag_size;
}

size_t frag_lean_batch_mem(uint32_t nb_frag, uint32_t frag_size, uint32_t max_lost, uint32_t batch)
{
	size_t l = max_lost > nb_frag ? nb_frag : max_lost;

	if (batch < 2u || batch > FRAG_LEAN_MAX_BATCH)
		return 0;
	return (size_t)batch * (8u * words_of(nb_frag) + 8u * words_of((uint32_t)l) + 2u) +
	       ((size_t)1 << batch) * frag_size + 8u; /* + 8: alignment after the base layout */
}

size_t frag_lean_rbuf_mem(uint32_t frag_size, uint32_t frags)
{
	/* fill_table reads runs from two fragments up: a buffer of one would go unused */
	return frags < 2u || frags > FRAG_LEAN_MAX_RBUF ? 0 : (size_t)frags * frag_size;
}

static size_t total_mem(uint32_t m, uint32_t s, uint32_t l, uint32_t batch, uint32_t rbuf)
{
	return frag_lean_mem_size(m, s, l) + frag_lean_batch_mem(m, s, l, batch) +
	       frag_lean_rbuf_mem(s, rbuf);
}

size_t frag_lean_loramac_mem(uint32_t nb_frag, uint32_t frag_size, uint32_t lost)
{
	size_t l = lost, lb = (l >> 3) + 1u;

	if (nb_frag == 0)
		return 0;
	return lb * l + 2u * (size_t)nb_frag + lb + (((size_t)nb_frag >> 3) + 1u) + frag_size +
	       2u * lb;
}

int frag_lean_init(struct frag_lean *dec, const struct frag_code *code, uint32_t frag_size,
                   uint32_t padding, const struct frag_lean_io *io, void *mem, size_t mem_len)
{
	return frag_lean_init_batch(dec, code, frag_size, padding, io, 0, mem, mem_len);
}

int frag_lean_init_batch(struct frag_lean *dec, const struct frag_code *code, uint32_t frag_size,
                         uint32_t padding, const struct frag_lean_io *io, uint32_t batch, void *mem,
                         size_t mem_len)
{
	return frag_lean_init_buffered(dec, code, frag_size, padding, io, batch, 0, mem, mem_len);
}

/* Carves the batch arrays (B lines, B used masks, B pivots, the 2^B table, the read buffer)
 * after the rest. */
static void carve_batch(struct frag_lean *d, uint8_t *end)
{
	uint32_t b = d->batch, v8 = 8u * words_of(d->max_lost);

	if (b < 2u)
		return;
	d->blines = (uint64_t *)(void *)end;
	d->bused = (uint8_t *)(d->blines + (size_t)b * d->words);
	d->bpiv = (uint16_t *)(void *)(d->bused + (size_t)b * v8);
	d->table = (uint8_t *)(d->bpiv + b);
	d->rbuf = d->rbuf_frags ? d->table + ((size_t)1 << b) * d->frag_size : NULL;
	/* between flushes the table is free: the line draws' scratch when it holds it */
	uint8_t *ls = d->table + ((8u - ((uintptr_t)d->table & 7u)) & 7u);
	if (ls + FRAG_ENC_LINE_SCRATCH <= d->table + ((size_t)1 << b) * d->frag_size)
		d->line_scratch = ls;
}

int frag_lean_init_buffered(struct frag_lean *dec, const struct frag_code *code, uint32_t frag_size,
                            uint32_t padding, const struct frag_lean_io *io, uint32_t batch,
                            uint32_t rbuf, void *mem, size_t mem_len)
{
	uint32_t m, l;
	uint8_t *p = mem;

	if (!dec || !mem || !io || !io->read || !io->write || frag_code_check(code) != FUOTA_OK ||
	    code->nb_frag > FRAG_MAX_N || frag_size == 0 || frag_size > 255 ||
	    padding >= frag_size || ((uintptr_t)mem & 7u) || batch == 1u ||
	    batch > FRAG_LEAN_MAX_BATCH || rbuf > FRAG_LEAN_MAX_RBUF)
		return FUOTA_ERR_INVALID_ARG;
	m = code->nb_frag;
	if (batch < 2u || rbuf < 2u)
		rbuf = 0;
	if (mem_len < total_mem(m, frag_size, 0, batch, rbuf))
		return FUOTA_ERR_NO_SPACE;
	for (uint32_t lo = 0, hi = m;;) { /* the largest L that fits: the size grows with L */
		l = lo + (hi - lo + 1u) / 2u;
		if (lo == hi) {
			l = lo;
			break;
		}
		if (total_mem(m, frag_size, l, batch, rbuf) <= mem_len)
			lo = l;
		else
			hi = l - 1u;
	}

	memset(dec, 0, sizeof(*dec));
	dec->code = *code;
	dec->io = *io;
	dec->frag_size = frag_size;
	dec->padding = padding;
	dec->words = words_of(m);
	dec->max_lost = l;
	dec->state = FRAG_DEC_ONGOING;
	pick_xor(dec);
#if defined(__x86_64__)
	dec->bmi2 = have_bmi2() != 0;
#endif
	dec->known = (uint64_t *)(void *)p;
	dec->line = dec->known + dec->words;
	dec->eq = (uint8_t *)(dec->line + dec->words);
	dec->has = dec->eq + 8u * words_of(l);
	dec->late = dec->has + 8u * words_of(l);
	dec->prefix = (uint16_t *)(void *)(dec->late + 8u * words_of(l));
	dec->lost_x = dec->prefix + dec->words;
	dec->rows = (uint8_t *)(dec->lost_x + l);
	dec->data = dec->rows + tri_offset(l, (l + 7u) / 8u);
	dec->buf = dec->data + frag_size;
	dec->batch = batch;
	dec->rbuf_frags = rbuf;
	/* the batch arrays start at the next 8-byte boundary past the base layout */
	carve_batch(dec,
	            (uint8_t *)mem + ((frag_lean_mem_size(m, frag_size, l) + 7u) & ~(size_t)7u));
	if (dec->line_scratch && frag_enc_init_lines(&dec->lines, code) != FUOTA_OK)
		dec->line_scratch = NULL;
	memset(dec->known, 0, 8u * (size_t)dec->words);
	dec->stats.missing = m;
	dec->stats.max_lost = l;
	return FUOTA_OK;
}

static uint32_t slot_off(const struct frag_lean *d, uint32_t x)
{
	return x * d->frag_size;
}

/* The flash slot of fragment x to read: mapped in place when the caller maps its flash, else
 * copied into buf. NULL on a callback error. */
static const uint8_t *slot(struct frag_lean *d, uint32_t x)
{
	if (d->mapped)
		return d->mapped + slot_off(d, x);
	if (d->io.map)
		return d->io.map(d->io.ctx, slot_off(d, x), d->frag_size);
	return d->io.read(d->io.ctx, slot_off(d, x), d->buf, d->frag_size) ? NULL : d->buf;
}

/* dst ^= flash slot of fragment x. */
static int xor_slot_into(struct frag_lean *d, uint8_t *dst, uint32_t x)
{
	const uint8_t *src = slot(d, x);

	if (!src)
		return FUOTA_ERR_IO;
	d->xor_fn(dst, src, d->frag_size);
	return FUOTA_OK;
}

/* data ^= flash slot of fragment x. */
static int xor_slot(struct frag_lean *d, uint32_t x)
{
	return xor_slot_into(d, d->data, x);
}

/* Fixes the lost set: the uncoded fragments not received so far. */
static int freeze(struct frag_lean *d)
{
	uint32_t m = d->code.nb_frag, count = 0;

	for (uint32_t i = 0; i < d->words; i++) {
		uint64_t miss = ~d->known[i];

		if (i == d->words - 1u && m % 64u)
			miss &= ((uint64_t)1 << (m % 64u)) - 1u;
		d->prefix[i] = (uint16_t)count;
		while (miss) {
			if (count >= d->max_lost)
				return FUOTA_ERR_NO_SPACE;
			d->lost_x[count++] = (uint16_t)(i * 64u + (uint32_t)__builtin_ctzll(miss));
			miss &= miss - 1u;
		}
	}
	d->lost = count;
	d->lbytes = (count + 7u) / 8u;
	memset(d->eq, 0, 8u * 3u * (size_t)words_of(d->max_lost));
	d->frozen = true;
	return FUOTA_OK;
}

/* Bit c (c >= p) of pivot row p. */
static unsigned row_bit(const struct frag_lean *d, uint32_t p, uint32_t c)
{
	const uint8_t *row = d->rows + tri_offset(p, d->lbytes);

	return (row[c / 8u - p / 8u] >> (c % 8u)) & 1u;
}

/* Pivot rows a..end-1 (k = end - a <= B rows), the columns from end on solved: each solved
 * fragment some row of the block holds is XORed once into the table entry of the block's rows
 * that hold it; each row then takes the entries with its bit and, from the block's last row
 * down, the block's own solved columns. */
static int solve_block(struct frag_lean *d, uint32_t a, uint32_t end)
{
	uint32_t k = end - a, s = d->frag_size;

	memset(d->table, 0, ((size_t)1 << k) * s);
	/* no write until the table is full: a mapped image stays valid */
	if (d->io.map && !(d->mapped = d->io.map(d->io.ctx, 0, d->code.nb_frag * s)))
		return FUOTA_ERR_IO;
	for (uint32_t c = end; c < d->lost; c++) {
		uint32_t e = 0;

		for (uint32_t j = 0; j < k; j++)
			e |= row_bit(d, a + j, c) << j;
		if (e && xor_slot_into(d, d->table + (size_t)e * s, d->lost_x[c])) {
			d->mapped = NULL;
			return FUOTA_ERR_IO;
		}
	}
	d->mapped = NULL;
	for (uint32_t p = end; p-- > a;) {
		uint32_t j = p - a;

		if (d->io.read(d->io.ctx, slot_off(d, d->lost_x[p]), d->data, s) != 0)
			return FUOTA_ERR_IO;
		for (uint32_t e = 1; e < (1u << k); e++)
			if (e >> j & 1u)
				d->xor_fn(d->data, d->table + (size_t)e * s, s);
		for (uint32_t c = p + 1u; c < end; c++)
			if (row_bit(d, p, c) && xor_slot(d, d->lost_x[c]))
				return FUOTA_ERR_IO;
		if (d->io.write(d->io.ctx, slot_off(d, d->lost_x[p]), d->data, s) != 0)
			return FUOTA_ERR_IO;
	}
	return FUOTA_OK;
}

/* Solves the pivot rows from the last pivot down: each row's other bits are above its pivot,
 * so their slots already hold fragments when it is reached. Batched, B rows at a time through
 * the table (about 2B / 3 times fewer fragment XORs for L of some hundreds). */
static int back_substitute(struct frag_lean *d)
{
	uint32_t nb = d->lbytes, s = d->frag_size;

	if (d->batch >= 2u) { /* the table is free once the last batch is flushed */
		for (uint32_t end = d->lost; end > 0;) {
			uint32_t a = end > d->batch ? end - d->batch : 0;

			if (solve_block(d, a, end) != FUOTA_OK)
				return FUOTA_ERR_IO;
			end = a;
		}
		return FUOTA_OK;
	}

	for (uint32_t p = d->lost; p-- > 0;) {
		const uint8_t *row = d->rows + tri_offset(p, nb);
		uint32_t c = p / 8u;

		if (d->io.read(d->io.ctx, slot_off(d, d->lost_x[p]), d->data, s) != 0)
			return FUOTA_ERR_IO;
		for (uint32_t k = c; k < nb; k++) {
			unsigned bits = row[k - c];

			if (k == c)
				bits &= ~(1u << (p % 8u));
			for (; bits; bits &= bits - 1u)
				if (xor_slot(d, d->lost_x[k * 8u + (uint32_t)__builtin_ctz(bits)]))
					return FUOTA_ERR_IO;
		}
		if (d->io.write(d->io.ctx, slot_off(d, d->lost_x[p]), d->data, s) != 0)
			return FUOTA_ERR_IO;
	}
	return FUOTA_OK;
}

/* Eliminates the equation (eq, data) against the pivot rows; stores it when it raises the
 * rank (*pivot = its pivot column). With used == NULL the pivot rows' data is XORed in as they
 * are used; otherwise they are only marked in used (bit p) and the data is left to flush(). */
static int insert(struct frag_lean *d, uint8_t *used, uint32_t *pivot)
{
	uint32_t nb = d->lbytes;

	*pivot = FRAG_DEC_NONE;
	for (uint32_t k = 0; k < nb; k++) {
		if (k % 8u == 0) { /* skip zero words fast */
			uint64_t w;

			memcpy(&w, d->eq + k, 8);
			if (!w) {
				k += 7u;
				continue;
			}
		}
		while (d->eq[k]) {
			uint32_t p = k * 8u + (uint32_t)__builtin_ctz(d->eq[k]);
			uint8_t bit = (uint8_t)(1u << (p % 8u));
			uint8_t *row = d->rows + tri_offset(p, nb);

			if (!(d->has[k] & bit)) {
				memcpy(row, d->eq + k, nb - k);
				if (d->io.write(d->io.ctx, slot_off(d, d->lost_x[p]), d->data,
				                d->frag_size) != 0)
					return FUOTA_ERR_IO;
				d->has[k] |= bit;
				d->rank++;
				*pivot = p;
				return FUOTA_OK;
			}
			xor_portable(d->eq + k, row, nb - k);
			if (used)
				used[k] |= bit;
			else if (xor_slot(d, d->lost_x[p]))
				return FUOTA_ERR_IO;
		}
	}
	return FUOTA_OK;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* eq at bit p |= v, n bits: one or two little-endian words (eq 8-byte aligned and zeroed up to
 * the word of the session's last lost column). */
static void or_bits(uint8_t *eq, uint32_t p, uint64_t v, uint32_t n)
{
	uint32_t w = p / 64u, sh = p % 64u;
	uint64_t x;

	memcpy(&x, eq + 8u * w, 8);
	x |= v << sh;
	memcpy(eq + 8u * w, &x, 8);
	if (sh && n + sh > 64u) {
		memcpy(&x, eq + 8u * (w + 1u), 8);
		x |= v >> (64u - sh);
		memcpy(eq + 8u * (w + 1u), &x, 8);
	}
}

/* The lost columns' bits of each line word, in column order, by one pext: a word's lost
 * columns are eq bits prefix[i] on. */
__attribute__((target("bmi2,popcnt"))) static void eq_bits_bmi2(struct frag_lean *d,
                                                                const uint64_t *line)
{
	uint32_t m = d->code.nb_frag;

	for (uint32_t i = 0; i < d->words; i++) {
		uint64_t lost = ~d->known[i];

		if (i + 1u == d->words && m % 64u)
			lost &= ((uint64_t)1 << (m % 64u)) - 1u;
		if (line[i] & lost)
			or_bits(d->eq, d->prefix[i], _pext_u64(line[i], lost),
			        (uint32_t)_mm_popcnt_u64(lost));
	}
}

#endif

/* Builds the equation of coded row n from its line (in line): the lost columns' bits into eq;
 * with held != 0 also the held fragments' data XORed into data. */
static int coded_equation(struct frag_lean *d, const uint64_t *line, int held)
{
	memset(d->eq, 0, 8u * (size_t)words_of(d->lost));
#if defined(__x86_64__)
	if (!held && d->bmi2) {
		eq_bits_bmi2(d, line);
		return FUOTA_OK;
	}
#endif
	for (uint32_t i = 0; i < d->words; i++) {
		uint64_t have = line[i] & d->known[i], miss = line[i] & ~d->known[i];

		for (; held && have; have &= have - 1u)
			if (xor_slot(d, i * 64u + (uint32_t)__builtin_ctzll(have)))
				return FUOTA_ERR_IO;
		if (!miss)
			continue;
		/* walk the word's lost columns (few) in order: p counts them, no popcount */
		uint64_t lost = ~d->known[i];
		if (i == d->words - 1u && d->code.nb_frag % 64u)
			lost &= ((uint64_t)1 << (d->code.nb_frag % 64u)) - 1u;
		for (uint32_t p = d->prefix[i]; lost; lost &= lost - 1u, p++)
			d->eq[p / 8u] |= (uint8_t)((unsigned)((line[i] & lost & -lost) != 0)
			                           << (p % 8u)); /* branch-free: a coin toss */
	}
	return FUOTA_OK;
}

/* Bits 0..7 of x to bytes 0..7 of the result (bit i to bit 8i): bits 0..6 by one multiply, whose
 * partial products 7j + i never meet, bit 7 apart. */
static uint64_t spread8(uint64_t x)
{
	return (((x & 0x7fu) * 0x0002040810204081u) & 0x0101010101010101u) | ((x >> 7 & 1u) << 56);
}

/* out = in (64 entry bytes) moved down by first bytes: byte b of out is byte b + first of in. */
static void shift_entry(const uint64_t in[8], uint32_t first, uint64_t out[8])
{
	uint32_t q = first / 8u, r = 8u * (first % 8u);

	for (uint32_t c = 0; c < 8u; c++) {
		uint64_t lo = c + q < 8u ? in[c + q] : 0, hi = c + q + 1u < 8u ? in[c + q + 1u] : 0;

		out[c] = r ? (lo >> r) | (hi << (64u - r)) : lo;
	}
}

/* Word i's fragments of any into the table without a map: runs of up to N consecutive
 * fragments (the lost ones between them read too, not used) read with one call each into the
 * read buffer, then XORed from there as from a mapped flash. */
static int fill_runs(struct frag_lean *d, uint32_t i, const uint64_t entry[8], uint64_t any)
{
	uint64_t shifted[8];

	while (any) {
		uint32_t first = (uint32_t)__builtin_ctzll(any), lim = first + d->rbuf_frags;
		uint64_t run = lim >= 64u ? any : any & (((uint64_t)1 << lim) - 1u);
		uint32_t cnt = 64u - (uint32_t)__builtin_clzll(run) - first;

		if (d->io.read(d->io.ctx, slot_off(d, i * 64u + first), d->rbuf,
		               cnt * d->frag_size))
			return FUOTA_ERR_IO;
		shift_entry(entry, first, shifted);
		d->xor_word(d->table, shifted, run >> first, d->rbuf, d->frag_size);
		any &= ~run;
	}
	return FUOTA_OK;
}

/* Table entry e (bit j: line j of the batch) ^= every held fragment whose column is in exactly
 * the lines of e: each held fragment is read once for the whole batch. */
static int fill_table(struct frag_lean *d, uint32_t k)
{
	uint64_t entry[8]; /* byte b % 8 of entry[b / 8]: the table entry of the word's bit b */

	memset(d->table, 0, ((size_t)1 << k) * d->frag_size);
	for (uint32_t i = 0; i < d->words; i++) {
		uint64_t any = 0;

		/* eight fragments' entries per step: line j's bits spread to bit j of bytes */
		memset(entry, 0, sizeof(entry));
		for (uint32_t j = 0; j < k; j++) {
			uint64_t w = d->blines[(size_t)j * d->words + i] & d->known[i];

			any |= w;
			for (uint32_t c = 0; c < 8u; c++)
				entry[c] |= spread8(w >> (8u * c)) << j;
		}
		if (d->mapped) { /* the hot loop: the word's fragments in one kernel call */
			d->xor_word(d->table, entry, any,
			            d->mapped + (size_t)i * 64u * d->frag_size, d->frag_size);
			continue;
		}
		if (d->rbuf_frags) { /* 0, or 2 and more (init) */
			if (fill_runs(d, i, entry, any) != FUOTA_OK)
				return FUOTA_ERR_IO;
			continue;
		}
		for (; any; any &= any - 1u) {
			uint32_t b = (uint32_t)__builtin_ctzll(any);

			if (xor_slot_into(d,
			                  d->table + frag_enc_word_entry(entry, b) * d->frag_size,
			                  i * 64u + b))
				return FUOTA_ERR_IO;
		}
	}
	return FUOTA_OK;
}

static bool pending_pivot(const struct frag_lean *d, uint32_t k, uint32_t p)
{
	for (uint32_t i = 0; i < k; i++)
		if (d->bpiv[i] == p)
			return true;
	return false;
}

/* Table entry e ^= the data of every pivot row complete before this batch that exactly the rows
 * of e were reduced with: each is read once for the batch. The batch's own pivot rows are left to
 * flush(), their data not being complete yet. */
static int fold_pivots(struct frag_lean *d, uint32_t k)
{
	uint32_t v8 = 8u * words_of(d->max_lost);

	for (uint32_t q = 0; q < d->lbytes; q++) {
		unsigned any = 0;

		for (uint32_t j = 0; j < k; j++)
			any |= d->bused[(size_t)j * v8 + q];
		for (; any; any &= any - 1u) {
			uint32_t b = (uint32_t)__builtin_ctz(any), p = q * 8u + b, e = 0;

			if (pending_pivot(d, k, p))
				continue;
			for (uint32_t j = 0; j < k; j++)
				e |= (uint32_t)((d->bused[(size_t)j * v8 + q] >> b) & 1u) << j;
			if (xor_slot_into(d, d->table + (size_t)e * d->frag_size, d->lost_x[p]))
				return FUOTA_ERR_IO;
		}
	}
	return FUOTA_OK;
}

/* Completes the data of the batch's pending pivot rows, in arrival order: the raw payload in the
 * slot, XOR the table entries that contain the row (its held fragments and the complete pivot
 * rows it was reduced with), XOR the batch's earlier pivot rows it was reduced with (complete by
 * then). */
static int flush(struct frag_lean *d)
{
	uint32_t k = d->pending, v8 = 8u * words_of(d->max_lost);
	int rc;

	if (!k)
		return FUOTA_OK;
	/* no write until both are done: a mapped image stays valid, mapped once for all */
	if (d->io.map && !(d->mapped = d->io.map(d->io.ctx, 0, d->code.nb_frag * d->frag_size)))
		return FUOTA_ERR_IO;
	rc = fill_table(d, k) != FUOTA_OK || fold_pivots(d, k) != FUOTA_OK;
	d->mapped = NULL;
	if (rc)
		return FUOTA_ERR_IO;
	d->pending = 0;
	for (uint32_t j = 0; j < k; j++) {
		uint32_t x = d->lost_x[d->bpiv[j]];
		const uint8_t *used = d->bused + (size_t)j * v8;

		if (d->io.read(d->io.ctx, slot_off(d, x), d->data, d->frag_size) != 0)
			return FUOTA_ERR_IO;
		for (uint32_t e = 1; e < (1u << k); e++)
			if (e & (1u << j))
				d->xor_fn(d->data, d->table + (size_t)e * d->frag_size,
				          d->frag_size);
		for (uint32_t i = 0; i < j; i++) {
			uint32_t p = d->bpiv[i];

			if ((used[p / 8u] >> (p % 8u)) & 1u && xor_slot(d, d->lost_x[p]))
				return FUOTA_ERR_IO;
		}
		if (d->io.write(d->io.ctx, slot_off(d, x), d->data, d->frag_size) != 0)
			return FUOTA_ERR_IO;
	}
	return FUOTA_OK;
}

static int finish_if_done(struct frag_lean *d)
{
	if (d->rank != d->lost)
		return FUOTA_OK;
	if (flush(d) != FUOTA_OK || back_substitute(d) != FUOTA_OK)
		return FUOTA_ERR_IO;
	d->stats.recovered = d->stats.missing;
	d->stats.missing = 0;
	d->state = FRAG_DEC_DONE;
	return FUOTA_OK;
}

static int uncoded(struct frag_lean *d, uint32_t x, const uint8_t *payload)
{
	uint64_t bit = (uint64_t)1 << (x % 64u);
	uint32_t p, pivot;

	if (d->known[x / 64u] & bit)
		goto dup;
	if (!d->frozen) {
		if (d->io.write(d->io.ctx, slot_off(d, x), payload, d->frag_size) != 0)
			return FUOTA_ERR_IO;
		d->known[x / 64u] |= bit;
		d->stats.received++;
		d->stats.uncoded_received++;
		if (--d->stats.missing == 0)
			d->state = FRAG_DEC_DONE;
		return FUOTA_OK;
	}
	/* A lost fragment after the freeze: the equation "column p = payload", reduced with the
	 * pivot rows' complete data (the batch flushed first). */
	p = d->prefix[x / 64u] + (uint32_t)__builtin_popcountll(~d->known[x / 64u] & (bit - 1u));
	if (d->late[p / 8u] & (1u << (p % 8u)))
		goto dup;
	if (flush(d) != FUOTA_OK)
		return FUOTA_ERR_IO;
	d->late[p / 8u] |= (uint8_t)(1u << (p % 8u));
	d->stats.received++;
	d->stats.uncoded_received++;
	d->stats.missing--;
	memset(d->eq, 0, 8u * (size_t)words_of(d->lost));
	d->eq[p / 8u] = (uint8_t)(1u << (p % 8u));
	memcpy(d->data, payload, d->frag_size);
	if (insert(d, NULL, &pivot) != FUOTA_OK)
		return FUOTA_ERR_IO;
	return finish_if_done(d);
dup:
	d->stats.duplicates++;
	return FUOTA_OK;
}

/* Row n's line with the encoder's draws, the table (unused between flushes) as scratch. */
static int line_fast(struct frag_lean *d, uint32_t n, uint64_t *line)
{
	const uint8_t *end = d->table + ((size_t)1 << d->batch) * d->frag_size;

	return frag_enc_line_wide(&d->lines, n, line, d->words, d->line_scratch,
	                          (size_t)(end - d->line_scratch));
}

/* Coded row n: its line, then its equation; unbatched the data is completed now, batched the
 * raw payload waits in its pivot's slot for flush(). */
static int coded_row(struct frag_lean *d, uint32_t n, const uint8_t *payload, uint32_t *pivot)
{
	uint32_t j = d->pending, batched = d->batch >= 2u;
	uint64_t *line = batched ? d->blines + (size_t)j * d->words : d->line;
	uint8_t *used = batched ? d->bused + (size_t)j * 8u * words_of(d->max_lost) : NULL;

	int rc = d->line_scratch ? line_fast(d, n, line)
	                         : frag_row_line(&d->code, n, line, d->words, NULL);

	if (rc != FUOTA_OK)
		return FUOTA_ERR_INVALID_ARG; /* not for n <= 16383 - M */
	memcpy(d->data, payload, d->frag_size);
	if (coded_equation(d, line, !batched) != FUOTA_OK)
		return FUOTA_ERR_IO;
	if (used)
		memset(used, 0, d->lbytes);
	if (insert(d, used, pivot) != FUOTA_OK)
		return FUOTA_ERR_IO;
	if (batched && *pivot != FRAG_DEC_NONE) {
		d->bpiv[j] = (uint16_t)*pivot;
		if (++d->pending == d->batch)
			return flush(d);
	}
	return FUOTA_OK;
}

static int coded(struct frag_lean *d, uint32_t n, const uint8_t *payload)
{
	uint32_t pivot;
	int rc;

	if (!d->frozen && freeze(d) != FUOTA_OK) {
		d->stats.not_enough_memory = true;
		d->state = FRAG_DEC_FAILED;
		return FUOTA_OK;
	}
	if (n <= d->last_coded) {
		d->stats.duplicates++;
		return FUOTA_OK;
	}
	d->last_coded = n;
	d->stats.received++;
	d->stats.coded_received++;
	rc = coded_row(d, n, payload, &pivot);
	if (rc == FUOTA_ERR_INVALID_ARG) {
		d->stats.coded_redundant++;
		return FUOTA_OK;
	}
	if (rc != FUOTA_OK)
		return FUOTA_ERR_IO;
	if (pivot != FRAG_DEC_NONE)
		d->stats.coded_useful++;
	else
		d->stats.coded_redundant++;
	return finish_if_done(d);
}

int frag_lean_process(struct frag_lean *dec, uint32_t n, const uint8_t *payload, size_t len,
                      enum frag_dec_state *state)
{
	int rc = FUOTA_OK;

	if (!dec || !payload)
		return FUOTA_ERR_INVALID_ARG;
	if (n == 0 || n > FRAG_MAX_N || len != dec->frag_size)
		return FUOTA_ERR_MALFORMED;
	if (dec->state == FRAG_DEC_ONGOING) {
		if (n <= dec->code.nb_frag)
			rc = uncoded(dec, n - 1u, payload);
		else
			rc = coded(dec, n - dec->code.nb_frag, payload);
		if (rc != FUOTA_OK)
			dec->state = FRAG_DEC_FAILED;
	}
	if (state)
		*state = dec->state;
	return rc;
}

enum frag_dec_state frag_lean_finish(struct frag_lean *dec)
{
	if (!dec)
		return FRAG_DEC_FAILED;
	if (dec->state == FRAG_DEC_ONGOING)
		dec->state = FRAG_DEC_FAILED;
	return dec->state;
}

enum frag_dec_state frag_lean_state(const struct frag_lean *dec)
{
	return dec->state;
}

void frag_lean_get_stats(const struct frag_lean *dec, struct frag_dec_stats *stats)
{
	*stats = dec->stats;
	stats->rank = dec->rank;
}
