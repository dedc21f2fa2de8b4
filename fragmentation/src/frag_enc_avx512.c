/* AVX-512 (F + BW) encoder kernels, chosen at run time (frag_enc_init); the rest of the build
 * stays baseline x86-64. */
#include <string.h>

#include "frag_enc_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512        __attribute__((target("avx2,avx512f,avx512bw")))
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx2,avx512f,avx512bw")))

int frag_enc_isa_avx512_ok(void)
{
#if FRAG_ENC_GLIBC_CPU
	return CPU_FEATURE_ACTIVE(AVX512F) && CPU_FEATURE_ACTIVE(AVX512BW);
#else
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#endif
}

/* The modulus and its reciprocal, in every lane. */
struct draw16 {
	__m512i d;
	__m512 inv;
};

/* Sixteen windows per vector, from t (a multiple of 8): lanes 0..7 from the 32 bits at byte t /
 * 8, lanes 8..15 from those at the next byte. Modulo as in the AVX2 kernel. */
AVX512_INLINE __m512i draw16(const uint8_t *sb, uint32_t t, const struct draw16 *c)
{
	const __m512i shifts = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
	const __m512i mask = _mm512_set1_epi32(0x7fffff);
	uint32_t w0, w1;
	__m512i w, x, q, rr;

	memcpy(&w0, sb + t / 8u, sizeof(w0));
	memcpy(&w1, sb + t / 8u + 1u, sizeof(w1));
	w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32((int)w0)),
	                       _mm256_set1_epi32((int)w1), 1);
	x = _mm512_and_si512(_mm512_srlv_epi32(w, shifts), mask);
	q = _mm512_cvttps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(x), c->inv));
	rr = _mm512_sub_epi32(x, _mm512_mullo_epi32(q, c->d));
	return _mm512_min_epu32(rr, _mm512_sub_epi32(rr, c->d));
}

AVX512 static void draws_avx512(const struct frag_enc *enc, const uint64_t *sw, uint32_t t0,
                                uint32_t count, uint32_t *r)
{
	const struct draw16 c = {_mm512_set1_epi32((int)enc->mod), _mm512_set1_ps(enc->mod_inv)};

	if (enc->mod >= (1u << 24)) {
		frag_enc_draws_portable(enc, sw, t0, count, r);
		return;
	}
	for (uint32_t t = t0; t < t0 + count; t += 16)
		_mm512_storeu_si512((void *)(r + (t - t0)), draw16((const uint8_t *)sw, t, &c));
}

/* Vectors of draws a mark kernel computes ahead of its stores. Draws read back right after their
 * vector's store stall (measured: workload b's sweep took twice as long as drawing the chunk
 * first); eight ahead was the fastest of 1 to 32 on b, c and d. */
#define LAG 8u

/* Each vector of draws stored, its sixteen marks LAG vectors later, one block for all of them
 * (blocks are 16 windows or more, aligned). */
AVX512 static void mark_avx512(const struct frag_enc *enc, const uint64_t *sw, uint32_t j0,
                               uint32_t j1, uint32_t *r, uint8_t *last, uint32_t vbase,
                               uint32_t shift)
{
	const struct draw16 c = {_mm512_set1_epi32((int)enc->mod), _mm512_set1_ps(enc->mod_inv)};
	const uint32_t t0 = j0 & ~15u, t1 = (j1 + 15u) & ~15u;

	if (enc->mod >= (1u << 24)) {
		frag_enc_draws_portable(enc, sw, t0, t1 - t0, r + t0);
		frag_enc_mark_drawn(last, r, vbase, shift, j0, j1);
		return;
	}
	/* the draws run LAG vectors ahead of the marks: a mark reads a draw whose store is done */
	for (uint32_t t = t0; t < t1 && t < t0 + 16u * LAG; t += 16)
		_mm512_storeu_si512((void *)(r + t), draw16((const uint8_t *)sw, t, &c));
	for (uint32_t t = t0; t < t1; t += 16) {
		const uint8_t blk = (uint8_t)((vbase + t) >> shift);

		if (t + 16u * LAG < t1)
			_mm512_storeu_si512((void *)(r + t + 16u * LAG),
			                    draw16((const uint8_t *)sw, t + 16u * LAG, &c));
		if (t >= j0 && t + 16u <= j1) {
			/* constant offsets: a load and a store per draw */
			const uint32_t *q = r + t;

#pragma GCC unroll 16
			for (uint32_t k = 0; k < 16; k++)
				last[q[k]] = blk;
		} else {
			for (uint32_t j = t < j0 ? j0 : t; j < t + 16u && j < j1; j++)
				last[r[j]] = blk;
		}
	}
}

/* 64 ages per step, their 64 bits stored at once: nbytes is a multiple of 8. */
AVX512 static void recent_avx512(const uint8_t *last, uint8_t now, uint8_t age, uint8_t *line,
                                 size_t nbytes)
{
	const __m512i vnow = _mm512_set1_epi8((char)now), vage = _mm512_set1_epi8((char)age);

	for (size_t b = 0; b < nbytes; b += 8) {
		__m512i a = _mm512_sub_epi8(vnow, _mm512_loadu_si512((const void *)(last + 8 * b)));
		uint64_t bits = _mm512_cmplt_epu8_mask(a, vage);

		memcpy(line + b, &bits, sizeof(bits));
	}
}

AVX512 static void age_out_avx512(uint8_t *last, size_t n, uint8_t now, uint8_t h)
{
	const __m512i vnow = _mm512_set1_epi8((char)now), vh = _mm512_set1_epi8((char)h);
	const __m512i old = _mm512_set1_epi8((char)(uint8_t)(now - h));

	for (size_t x = 0; x < n; x += 64) {
		__m512i v = _mm512_loadu_si512((const void *)(last + x));
		__mmask64 k = _mm512_cmpge_epu8_mask(_mm512_sub_epi8(vnow, v), vh);

		_mm512_storeu_si512((void *)(last + x), _mm512_mask_mov_epi8(v, k, old));
	}
}

AVX512 static void pack_avx512(uint8_t *map, uint8_t *line, size_t nbytes)
{
	const __m512i zero = _mm512_setzero_si512();

	for (size_t b = 0; b < nbytes; b += 64) {
		__m512i v = _mm512_load_si512((const void *)(map + b));
		uint64_t bits = _mm512_test_epi8_mask(v, v);

		memcpy(line + b / 8, &bits, sizeof(bits));
		_mm512_store_si512((void *)(map + b), zero);
	}
}

/* Split tables: when FragSize = 64 q + t with q >= 1 and t in 1..32, an entry is q whole lines
 * plus a tail, and the tails of a group's 256 entries are packed apart at a stride of 8, 16 or 32
 * bytes (in the same 256 * stride bytes of the group: mains first, then tails). A lookup then
 * reads q lines from L2 and a tail that a few neighbours share, instead of q + 1 lines: workload
 * c (FragSize 200) reads 3 lines where it read 4. Returns the tail stride, or 0: whole lines. */
static uint32_t split_tail(const struct frag_enc *enc)
{
	const uint32_t t = enc->frag_size % 64u;

	if (enc->frag_size < 64u || t == 0 || t > 32u)
		return 0;
	return t <= 8u ? 8u : t <= 16u ? 16u : 32u;
}

/* Entries 0 and 2^j of a split table: mains at t + e * main, tails at t + 256 * main + e * ts. */
static void split_units(const struct frag_enc *enc, uint32_t g, uint8_t *t, size_t main,
                        uint32_t ts)
{
	const uint32_t s = enc->frag_size;
	uint8_t *tails = t + 256u * main;

	memset(t, 0, main);
	memset(tails, 0, ts);
	for (uint32_t j = 0; j < 8; j++) {
		const size_t e = (size_t)1 << j;
		const uint32_t x = g * 8u + j;

		memset(tails + e * ts, 0, ts);
		if (x < enc->code.nb_frag) {
			memcpy(t + e * main, enc->frags + (size_t)x * s, main);
			memcpy(tails + e * ts, enc->frags + (size_t)x * s + main, s - main);
		} else {
			memset(t + e * main, 0, main);
		}
	}
}

AVX512 static void split_table(const struct frag_enc *enc, uint32_t g, uint8_t *t, size_t main,
                               uint32_t ts)
{
	uint64_t *tails = (uint64_t *)(void *)(t + 256u * main);
	const uint32_t tw = ts / 8u;

	split_units(enc, g, t, main, ts);
	for (size_t c = 0; c < main; c += 64) {
		for (uint32_t j = 1; j < 8; j++) {
			const size_t base = (size_t)1 << j;
			const __m512i unit = _mm512_load_si512((const void *)(t + base * main + c));

			for (size_t i = 1; i < base; i++) {
				__m512i src = _mm512_load_si512((const void *)(t + i * main + c));

				_mm512_store_si512((void *)(t + (base + i) * main + c),
				                   _mm512_xor_si512(unit, src));
			}
		}
	}
	for (uint32_t j = 1; j < 8; j++) {
		const size_t base = (size_t)1 << j;

		for (size_t i = 1; i < base; i++)
			for (uint32_t w = 0; w < tw; w++)
				tails[(base + i) * tw + w] =
				        tails[base * tw + w] ^ tails[i * tw + w];
	}
}

AVX512 static void tables_avx512(const struct frag_enc *enc, uint32_t g0, uint32_t ng, uint8_t *tab)
{
	const size_t stride = enc->stride;
	const uint32_t ts = split_tail(enc);

	for (uint32_t g = 0; g < ng; g++) {
		uint8_t *t = tab + (size_t)g * 256u * stride;

		if (ts) {
			split_table(enc, g0 + g, t, stride - 64u, ts);
			continue;
		}
		frag_enc_table_units(enc, g0 + g, t);
		for (size_t c = 0; c < stride; c += 64) {
			for (uint32_t j = 1; j < 8; j++) {
				const size_t base = (size_t)1 << j;
				const __m512i unit =
				        _mm512_load_si512((const void *)(t + base * stride + c));

				for (size_t i = 1; i < base; i++) {
					__m512i src = _mm512_load_si512(
					        (const void *)(t + i * stride + c));

					_mm512_store_si512((void *)(t + (base + i) * stride + c),
					                   _mm512_xor_si512(unit, src));
				}
			}
		}
	}
}

/* nv 64-byte vectors per accumulator, kept in registers across the block's groups. */
AVX512_INLINE void accum_avx512_n(const uint8_t *tab, uint32_t ng, const uint8_t *lines, size_t lb,
                                  uint32_t rows, uint8_t *acc, const unsigned nv)
{
	/* whole lines: the stride is 64 nv, known here, so an entry's address is a shift */
	const size_t stride = 64u * nv;

	for (uint32_t i = 0; i < rows; i++) {
		const uint8_t *ln = lines + i * lb, *t = tab;
		uint8_t *a = acc + i * stride;
		__m512i v[4];

		frag_enc_line_ahead(ln, lb, ng);

#pragma GCC unroll 4
		for (unsigned k = 0; k < nv; k++)
			v[k] = _mm512_load_si512((const void *)(a + 64 * k));
		for (uint32_t j = 0; j < ng; j++, t += 256u * stride) {
			const uint8_t *e = t + (size_t)ln[j] * stride;

#pragma GCC unroll 4
			for (unsigned k = 0; k < nv; k++)
				v[k] = _mm512_xor_si512(
				        v[k], _mm512_load_si512((const void *)(e + 64 * k)));
		}
#pragma GCC unroll 4
		for (unsigned k = 0; k < nv; k++)
			_mm512_store_si512((void *)(a + 64 * k), v[k]);
	}
}

/* The tail of a split entry (ts bytes, ts-aligned), zero-extended to 32 bytes. */
AVX512_INLINE __m256i tail_load(const uint8_t *p, const uint32_t ts)
{
	if (ts == 8u)
		return _mm256_zextsi128_si256(_mm_loadl_epi64((const __m128i *)(const void *)p));
	if (ts == 16u)
		return _mm256_zextsi128_si256(_mm_load_si128((const __m128i *)(const void *)p));
	return _mm256_load_si256((const __m256i *)(const void *)p);
}

/* As accum_avx512_n on split tables: nv whole lines per entry (1..3), then a tail of ts bytes.
 * The accumulator keeps the plain layout (the tail right after the lines). */
AVX512_INLINE void accum_split_n(const uint8_t *tab, size_t stride, uint32_t ng,
                                 const uint8_t *lines, size_t lb, uint32_t rows, uint8_t *acc,
                                 const unsigned nv, const uint32_t ts)
{
	const size_t main = 64u * nv;

	for (uint32_t i = 0; i < rows; i++) {
		const uint8_t *ln = lines + i * lb;
		uint8_t *a = acc + i * stride;
		__m512i v[3];
		__m256i tv = _mm256_load_si256((const __m256i *)(const void *)(a + main));

		frag_enc_line_ahead(ln, lb, ng);

#pragma GCC unroll 3
		for (unsigned k = 0; k < nv; k++)
			v[k] = _mm512_load_si512((const void *)(a + 64 * k));
		for (uint32_t j = 0; j < ng; j++) {
			const uint8_t *t = tab + (size_t)j * 256u * stride;
			const uint8_t *e = t + ln[j] * main;

#pragma GCC unroll 3
			for (unsigned k = 0; k < nv; k++)
				v[k] = _mm512_xor_si512(
				        v[k], _mm512_load_si512((const void *)(e + 64 * k)));
			tv = _mm256_xor_si256(tv, tail_load(t + 256u * main + ln[j] * ts, ts));
		}
#pragma GCC unroll 3
		for (unsigned k = 0; k < nv; k++)
			_mm512_store_si512((void *)(a + 64 * k), v[k]);
		_mm256_store_si256((__m256i *)(void *)(a + main), tv);
	}
}

AVX512 static void accum_split(const struct frag_enc *enc, const uint8_t *tab, uint32_t ng,
                               const uint8_t *lines, uint32_t rows, uint8_t *acc, uint32_t ts)
{
	const size_t stride = enc->stride, lb = enc->line_bytes;
	const unsigned nv = (unsigned)(stride / 64u) - 1u;

	/* each (lines, tail stride) pair its own loop, the counts known to the compiler */
	switch (nv * 64u + ts) {
	case 64 + 8: accum_split_n(tab, stride, ng, lines, lb, rows, acc, 1, 8); break;
	case 64 + 16: accum_split_n(tab, stride, ng, lines, lb, rows, acc, 1, 16); break;
	case 64 + 32: accum_split_n(tab, stride, ng, lines, lb, rows, acc, 1, 32); break;
	case 128 + 8: accum_split_n(tab, stride, ng, lines, lb, rows, acc, 2, 8); break;
	case 128 + 16: accum_split_n(tab, stride, ng, lines, lb, rows, acc, 2, 16); break;
	case 128 + 32: accum_split_n(tab, stride, ng, lines, lb, rows, acc, 2, 32); break;
	case 192 + 8: accum_split_n(tab, stride, ng, lines, lb, rows, acc, 3, 8); break;
	case 192 + 16: accum_split_n(tab, stride, ng, lines, lb, rows, acc, 3, 16); break;
	default: accum_split_n(tab, stride, ng, lines, lb, rows, acc, 3, 32); break;
	}
}

AVX512 static void accum_avx512(const struct frag_enc *enc, const uint8_t *tab, uint32_t g0,
                                uint32_t ng, const uint8_t *lines, uint32_t rows, uint8_t *acc)
{
	const size_t stride = enc->stride, lb = enc->line_bytes;
	const uint32_t ts = split_tail(enc);

	lines += g0;
	if (ts) {
		accum_split(enc, tab, ng, lines, rows, acc, ts);
		return;
	}
	switch (stride / 64u) {
	case 1: accum_avx512_n(tab, ng, lines, lb, rows, acc, 1); break;
	case 2: accum_avx512_n(tab, ng, lines, lb, rows, acc, 2); break;
	case 3: accum_avx512_n(tab, ng, lines, lb, rows, acc, 3); break;
	default: accum_avx512_n(tab, ng, lines, lb, rows, acc, 4); break; /* stride 256 */
	}
}

AVX512 static void xor_avx512(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t i = 0;

	for (; i + 64 <= len; i += 64) {
		__m512i a = _mm512_loadu_si512((const void *)(dst + i));
		__m512i b = _mm512_loadu_si512((const void *)(src + i));

		_mm512_storeu_si512((void *)(dst + i), _mm512_xor_si512(a, b));
	}
	if (i < len) {
		/* masked: bytes past len are neither read nor written */
		__mmask64 k = (__mmask64)(~(uint64_t)0 >> (64u - (len - i)));
		__m512i a = _mm512_maskz_loadu_epi8(k, dst + i);
		__m512i b = _mm512_maskz_loadu_epi8(k, src + i);

		_mm512_mask_storeu_epi8(dst + i, k, _mm512_xor_si512(a, b));
	}
}

/* The loop inlined, the tail mask computed once: the lean decoder's table fill. */
AVX512 static void xor_word_avx512(uint8_t *tab, const uint64_t *entry, uint64_t any,
                                   const uint8_t *src, size_t len)
{
	const size_t full = len & ~(size_t)63u;
	const __mmask64 k = (__mmask64)(len % 64u ? ~(uint64_t)0 >> (64u - len % 64u) : 0);

	for (; any; any &= any - 1u) {
		uint32_t b = (uint32_t)__builtin_ctzll(any);
		uint8_t *d = tab + frag_enc_word_entry(entry, b) * len;
		const uint8_t *s = src + b * len;

		for (size_t i = 0; i < full; i += 64) {
			__m512i x = _mm512_loadu_si512((const void *)(d + i));
			__m512i y = _mm512_loadu_si512((const void *)(s + i));

			_mm512_storeu_si512((void *)(d + i), _mm512_xor_si512(x, y));
		}
		if (k) {
			__m512i x = _mm512_maskz_loadu_epi8(k, d + full);
			__m512i y = _mm512_maskz_loadu_epi8(k, s + full);

			_mm512_mask_storeu_epi8(d + full, k, _mm512_xor_si512(x, y));
		}
	}
}

const struct frag_enc_kernels frag_enc_kern_avx512 = {
        .draws = draws_avx512,
        .pack = pack_avx512,
        .tables = tables_avx512,
        .accum = accum_avx512,
        .xor_bytes = xor_avx512,
        .xor_word = xor_word_avx512,
        .recent = recent_avx512,
        .age_out = age_out_avx512,
        .mark = mark_avx512,
};

#else /* not x86-64: frag_enc_isa_avx512_ok() is 0, so this table is never used */

int frag_enc_isa_avx512_ok(void)
{
	return 0;
}

const struct frag_enc_kernels frag_enc_kern_avx512 = {.draws = frag_enc_draws_portable};

#endif
