/* AVX2 encoder kernels, chosen at run time (frag_enc_init); the rest of the build stays baseline
 * x86-64, so the binary runs on any x86-64 and only calls these where the CPU has AVX2. */
#include <string.h>

#include "frag_enc_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2        __attribute__((target("avx2")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2")))
/* The nibble kernels also rotate with BMI2's rorx (one instruction, its source kept). */
#define AVX2_NIB        __attribute__((target("avx2,bmi2")))
#define AVX2_NIB_INLINE static inline __attribute__((always_inline, target("avx2,bmi2")))

int frag_enc_isa_avx2_ok(void)
{
#if FRAG_ENC_GLIBC_CPU
	return CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(BMI2);
#else
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
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
	frag_enc_mark_with(draws_avx2, enc, sw, j0, j1, r, last, vbase, shift);
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

/* The AVX-512 kernels' nibble tables (frag_enc_avx512.c; layout in frag_enc_impl.h) on 256-bit
 * vectors: an entry is nv = stride / 32 vectors. */

/* Bytes 32 c .. 32 c + 31 of fragment x, zero past FragSize and for x >= M. */
AVX2_INLINE __m256i nib_unit(const struct frag_enc *enc, uint32_t x, uint32_t c)
{
	const uint32_t s = enc->frag_size;
	const uint8_t *p = enc->frags + (size_t)x * s + 32u * c;
	uint8_t tail[32] = {0};

	if (x >= enc->code.nb_frag || 32u * c >= s)
		return _mm256_setzero_si256();
	if (s - 32u * c >= 32u)
		return _mm256_loadu_si256((const __m256i *)(const void *)p);
	memcpy(tail, p, s - 32u * c);
	return _mm256_loadu_si256((const __m256i *)(const void *)tail);
}

/* Entries 0 .. 15 of one vector (32 c .. 32 c + 31) of a table from its 4 unit vectors u. */
AVX2_INLINE void nib_fill(uint8_t *t, uint32_t sh, const __m256i *u)
{
	__m256i e[16];

	e[0] = _mm256_setzero_si256();
	e[1] = u[0];
	e[2] = u[1];
	e[4] = u[2];
	e[8] = u[3];
	/* entry 2^j + i = entry 2^j ^ entry i (unrolled whole: e stays in registers) */
#pragma GCC unroll 16
	for (uint32_t i = 3; i < 16; i++) {
		const uint32_t top = 1u << (31 - __builtin_clz(i));

		if (i != top)
			e[i] = _mm256_xor_si256(e[top], e[i - top]);
	}
#pragma GCC unroll 16
	for (uint32_t i = 0; i < 16; i++)
		_mm256_store_si256((__m256i *)(void *)(t + ((size_t)i << sh)), e[i]);
}

/* The two tables of group g at t, one vector of their entries at a time. */
AVX2 static void nib_tables(const struct frag_enc *enc, uint32_t g, uint8_t *t, uint32_t sh)
{
	const uint32_t nv = enc->stride / 32u;

	for (uint32_t h = 0; h < 2; h++, t += (size_t)16u << sh) {
		for (uint32_t c = 0; c < nv; c++) {
			__m256i u[4];

			for (uint32_t j = 0; j < 4; j++)
				u[j] = nib_unit(enc, g * 8u + h * 4u + j, c);
			nib_fill(t + 32u * c, sh, u);
		}
	}
}

AVX2 static void tables_avx2(const struct frag_enc *enc, uint32_t g0, uint32_t ng, uint8_t *tab)
{
	const uint32_t sh = frag_enc_nib_sh(enc),
	               built = frag_enc_nib_built(ng, frag_enc_nib_gpb(sh));

	for (uint32_t g = 0; g < built; g++)
		nib_tables(enc, g0 + g, tab + ((size_t)g << (sh + 5u)), sh);
}

/* nq nibbles of w looked up in nq tables from t, XORed into v[0..nv): nibble q's entry offset is
 * its 4 bits moved to bits sh.., one rotate and one AND. */
AVX2_NIB_INLINE void nib_look(__m256i *v, const uint8_t *t, uint64_t w, const unsigned nq,
                              const unsigned nv, const unsigned sh)
{
#pragma GCC unroll 16
	for (unsigned q = 0; q < nq; q++) {
		const unsigned r = (4u * q + 64u - sh) % 64u; /* rotate right: nibble q to bit sh */
		const size_t off = (size_t)((w >> r) | (w << ((64u - r) % 64u))) & (15u << sh);
		const __m256i *e =
		        (const __m256i *)(const void *)(t + ((size_t)q << (sh + 4u)) + off);

#pragma GCC unroll 8
		for (unsigned k = 0; k < nv; k++)
			v[k] = _mm256_xor_si256(v[k], _mm256_load_si256(e + k));
	}
}

/* nv 32-byte vectors per accumulator, kept in registers across the block's groups. */
AVX2_NIB_INLINE void accum_nib_n(const uint8_t *tab, uint32_t ng, const uint8_t *lines, size_t lb,
                                 uint32_t rows, uint8_t *acc, const unsigned nv, const unsigned sh)
{
	const unsigned gpb = frag_enc_nib_gpb(sh);

	for (uint32_t i = 0; i < rows; i++) {
		const uint8_t *ln = lines + i * lb;
		__m256i *a = (__m256i *)(void *)(acc + (size_t)i * 32u * nv);
		__m256i v[8];
		uint64_t w = 0;

		/* a slice of 4 or 8 bytes lies in one cache line (a row starts at a multiple of 8
		 * bytes from the 64-byte aligned lines) */
		__builtin_prefetch((const void *)((uintptr_t)ln + FRAG_ENC_NIB_AHEAD * lb));
		if (gpb > 8u)
			__builtin_prefetch(
			        (const void *)((uintptr_t)ln + FRAG_ENC_NIB_AHEAD * lb + 15u));
#pragma GCC unroll 8
		for (unsigned k = 0; k < nv; k++)
			v[k] = _mm256_load_si256(a + k);
		memcpy(&w, ln, gpb < 8u ? gpb : 8u);
		nib_look(v, tab, w, gpb < 8u ? 2u * gpb : 16u, nv, sh);
		if (gpb > 8u && ng > 8u) { /* the block's second word, but for a short last block */
			memcpy(&w, ln + 8, 8);
			nib_look(v, tab + ((size_t)16u << (sh + 4u)), w, 16u, nv, sh);
		}
#pragma GCC unroll 8
		for (unsigned k = 0; k < nv; k++)
			_mm256_store_si256(a + k, v[k]);
	}
}

AVX2_NIB static void accum_avx2(const struct frag_enc *enc, const uint8_t *tab, uint32_t g0,
                                uint32_t ng, const uint8_t *lines, uint32_t rows, uint8_t *acc)
{
	const size_t lb = enc->line_bytes;

	lines += g0;
	switch (enc->stride / 64u) {
	case 1: accum_nib_n(tab, ng, lines, lb, rows, acc, 2, 6); break;
	case 2: accum_nib_n(tab, ng, lines, lb, rows, acc, 4, 7); break;
	case 3: accum_nib_n(tab, ng, lines, lb, rows, acc, 6, 8); break;
	default: accum_nib_n(tab, ng, lines, lb, rows, acc, 8, 8); break; /* stride 256 */
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
        .block_groups = frag_enc_nib_block_groups,
        .table_bytes = frag_enc_nib_table_bytes,
        .mark = mark_avx2,
};

#else /* not x86-64: frag_enc_isa_avx2_ok() is 0, so this table is never used */

int frag_enc_isa_avx2_ok(void)
{
	return 0;
}

const struct frag_enc_kernels frag_enc_kern_avx2 = {.draws = frag_enc_draws_portable};

#endif
