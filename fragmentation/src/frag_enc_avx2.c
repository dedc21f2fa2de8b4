/* AVX2 encoder kernels, chosen at run time (frag_enc_init); the rest of the build stays baseline
 * x86-64, so the binary runs on any x86-64 and only calls these where the CPU has AVX2. */
#include <string.h>

#include "frag_enc_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2        __attribute__((target("avx2")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2")))

int frag_enc_isa_avx2_ok(void)
{
#if FRAG_ENC_GLIBC_CPU
	return CPU_FEATURE_ACTIVE(AVX2);
#else
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
#endif
}

/* Eight windows per vector: window t + i is bits i .. i + 22 of the 32 bits at byte t / 8 (t a
 * multiple of 8). The quotient q comes from the float reciprocal enc->mod_inv, biased low so that
 * q is floor(x / mod) or one less (see frag_enc.c), and r = x - q * mod in [0, 2 * mod) needs one
 * correction: min(r, r - mod) as unsigned numbers. */
AVX2 static void draws_avx2(const struct frag_enc *enc, const uint64_t *sw, uint32_t t0,
                            uint32_t count, uint32_t *r)
{
	const uint8_t *sb = (const uint8_t *)sw;
	const __m256i shifts = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	const __m256i mask = _mm256_set1_epi32(0x7fffff);
	const __m256i d = _mm256_set1_epi32((int)enc->mod);
	const __m256 inv = _mm256_set1_ps(enc->mod_inv);

	if (enc->mod >= (1u << 24)) {
		frag_enc_draws_portable(enc, sw, t0, count, r);
		return;
	}
	for (uint32_t t = t0; t < t0 + count; t += 8) {
		uint32_t w;
		__m256i x, q, rr;

		memcpy(&w, sb + t / 8u, sizeof(w));
		x = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)w), shifts), mask);
		q = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(x), inv));
		rr = _mm256_sub_epi32(x, _mm256_mullo_epi32(q, d));
		rr = _mm256_min_epu32(rr, _mm256_sub_epi32(rr, d));
		_mm256_storeu_si256((__m256i *)(void *)(r + (t - t0)), rr);
	}
}

AVX2 static void mark_avx2(const struct frag_enc *enc, const uint64_t *sw, uint32_t j0, uint32_t j1,
                           uint32_t *r, uint8_t *last, uint32_t vbase, uint32_t shift)
{
	const uint32_t t0 = j0 & ~(FRAG_ENC_DRAW_STEP - 1u);
	const uint32_t t1 = (j1 + FRAG_ENC_DRAW_STEP - 1u) & ~(FRAG_ENC_DRAW_STEP - 1u);

	draws_avx2(enc, sw, t0, t1 - t0, r + t0);
	frag_enc_mark_drawn(last, r, vbase, shift, j0, j1);
}

/* Unsigned 8-bit a < b as all-ones lanes: min(a, b - 1) == a, b >= 1. */
AVX2_INLINE __m256i lt_epu8(__m256i a, __m256i b_minus_1)
{
	return _mm256_cmpeq_epi8(_mm256_min_epu8(a, b_minus_1), a);
}

/* 32 fragments' ages per step, one compare and one movemask. */
AVX2 static void recent_avx2(const uint8_t *last, uint8_t now, uint8_t age, uint8_t *line,
                             size_t nbytes)
{
	const __m256i vnow = _mm256_set1_epi8((char)now);
	const __m256i vam1 = _mm256_set1_epi8((char)(uint8_t)(age - 1u));

	for (size_t b = 0; b < nbytes; b += 4) {
		const __m256i *p = (const __m256i *)(const void *)(last + 8 * b);
		uint32_t bits = (uint32_t)_mm256_movemask_epi8(
		        lt_epu8(_mm256_sub_epi8(vnow, _mm256_loadu_si256(p)), vam1));

		memcpy(line + b, &bits, sizeof(bits));
	}
}

AVX2 static void age_out_avx2(uint8_t *last, size_t n, uint8_t now, uint8_t h)
{
	const __m256i vnow = _mm256_set1_epi8((char)now);
	const __m256i vhm1 = _mm256_set1_epi8((char)(uint8_t)(h - 1u));
	const __m256i old = _mm256_set1_epi8((char)(uint8_t)(now - h));

	for (size_t x = 0; x < n; x += 32) {
		__m256i *p = (__m256i *)(void *)(last + x);
		__m256i v = _mm256_loadu_si256(p);
		__m256i young = lt_epu8(_mm256_sub_epi8(vnow, v), vhm1);

		_mm256_storeu_si256(p, _mm256_blendv_epi8(old, v, young));
	}
}

AVX2 static void pack_avx2(uint8_t *map, uint8_t *line, size_t nbytes)
{
	const __m256i zero = _mm256_setzero_si256();

	for (size_t b = 0; b < nbytes; b += 32) {
		__m256i v = _mm256_load_si256((const __m256i *)(const void *)(map + b));
		uint32_t bits = (uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(v, 7));

		memcpy(line + b / 8, &bits, sizeof(bits));
		_mm256_store_si256((__m256i *)(void *)(map + b), zero);
	}
}

AVX2 static void tables_avx2(const struct frag_enc *enc, uint32_t g0, uint32_t ng, uint8_t *tab)
{
	const size_t stride = enc->stride;

	for (uint32_t g = 0; g < ng; g++) {
		uint8_t *t = tab + (size_t)g * 256u * stride;

		frag_enc_table_units(enc, g0 + g, t);
		for (size_t c = 0; c < stride; c += 32) {
			for (uint32_t j = 1; j < 8; j++) {
				const size_t base = (size_t)1 << j;
				const __m256i unit = _mm256_load_si256(
				        (const __m256i *)(void *)(t + base * stride + c));

				for (size_t i = 1; i < base; i++) {
					const __m256i *src =
					        (const __m256i *)(void *)(t + i * stride + c);
					__m256i *dst =
					        (__m256i *)(void *)(t + (base + i) * stride + c);

					_mm256_store_si256(
					        dst,
					        _mm256_xor_si256(unit, _mm256_load_si256(src)));
				}
			}
		}
	}
}

/* nv 32-byte vectors per accumulator, kept in registers across the block's groups. */
AVX2_INLINE void accum_avx2_n(const uint8_t *tab, size_t stride, uint32_t ng, const uint8_t *lines,
                              size_t lb, uint32_t rows, uint8_t *acc, const unsigned nv)
{
	for (uint32_t i = 0; i < rows; i++) {
		const uint8_t *ln = lines + i * lb;
		__m256i *a = (__m256i *)(void *)(acc + i * stride);
		__m256i v[8];

		frag_enc_line_ahead(ln, lb, ng);

#pragma GCC unroll 8
		for (unsigned k = 0; k < nv; k++)
			v[k] = _mm256_load_si256(a + k);
		for (uint32_t j = 0; j < ng; j++) {
			const __m256i *e =
			        (const __m256i *)(const void *)(tab + ((size_t)j * 256u + ln[j]) *
			                                                      stride);

#pragma GCC unroll 8
			for (unsigned k = 0; k < nv; k++)
				v[k] = _mm256_xor_si256(v[k], _mm256_load_si256(e + k));
		}
#pragma GCC unroll 8
		for (unsigned k = 0; k < nv; k++)
			_mm256_store_si256(a + k, v[k]);
	}
}

AVX2 static void accum_avx2(const struct frag_enc *enc, const uint8_t *tab, uint32_t g0,
                            uint32_t ng, const uint8_t *lines, uint32_t rows, uint8_t *acc)
{
	const size_t stride = enc->stride, lb = enc->line_bytes;

	lines += g0;
	switch (stride / 64u) {
	case 1: accum_avx2_n(tab, stride, ng, lines, lb, rows, acc, 2); break;
	case 2: accum_avx2_n(tab, stride, ng, lines, lb, rows, acc, 4); break;
	case 3: accum_avx2_n(tab, stride, ng, lines, lb, rows, acc, 6); break;
	default: accum_avx2_n(tab, stride, ng, lines, lb, rows, acc, 8); break;
	}
}

AVX2 static void xor_avx2(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t i = 0;

	for (; i + 32 <= len; i += 32) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(dst + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(src + i));

		_mm256_storeu_si256((__m256i *)(void *)(dst + i), _mm256_xor_si256(a, b));
	}
	for (; i + 8 <= len; i += 8) {
		uint64_t a, b;

		memcpy(&a, dst + i, 8);
		memcpy(&b, src + i, 8);
		a ^= b;
		memcpy(dst + i, &a, 8);
	}
	for (; i < len; i++)
		dst[i] ^= src[i];
}

AVX2 static void xor_word_avx2(uint8_t *tab, const uint64_t *entry, uint64_t any,
                               const uint8_t *src, size_t len)
{
	for (; any; any &= any - 1u) {
		uint32_t b = (uint32_t)__builtin_ctzll(any);

		xor_avx2(tab + frag_enc_word_entry(entry, b) * len, src + b * len, len);
	}
}

const struct frag_enc_kernels frag_enc_kern_avx2 = {
        .draws = draws_avx2,
        .pack = pack_avx2,
        .tables = tables_avx2,
        .accum = accum_avx2,
        .xor_bytes = xor_avx2,
        .xor_word = xor_word_avx2,
        .recent = recent_avx2,
        .age_out = age_out_avx2,
        .mark = mark_avx2,
};

#else /* not x86-64: frag_enc_isa_avx2_ok() is 0, so this table is never used */

int frag_enc_isa_avx2_ok(void)
{
	return 0;
}

const struct frag_enc_kernels frag_enc_kern_avx2 = {.draws = frag_enc_draws_portable};

#endif
