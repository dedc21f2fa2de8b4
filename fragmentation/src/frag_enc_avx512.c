/* AVX-512 (F + BW) encoder kernels, chosen at run time (frag_enc_init); the rest of the build
 * stays baseline x86-64. */
#include <string.h>

#include "frag_enc_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512        __attribute__((target("avx2,avx512f,avx512bw")))
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx2,avx512f,avx512bw")))
/* The nibble kernels also rotate with BMI2's rorx (one instruction, its source kept). */
#define AVX512_NIB __attribute__((target("avx2,avx512f,avx512bw,bmi2")))
#define AVX512_NIB_INLINE \
	static inline __attribute__((always_inline, target("avx2,avx512f,avx512bw,bmi2")))

int frag_enc_isa_avx512_ok(void)
{
#if FRAG_ENC_GLIBC_CPU
	return CPU_FEATURE_ACTIVE(AVX512F) && CPU_FEATURE_ACTIVE(AVX512BW) &&
	       CPU_FEATURE_ACTIVE(BMI2);
#else
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("bmi2");
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

/* ---- XOR tables of nibbles ----
 * Four-Russians tables of 256 entries per 8 fragments are 16-64 KiB a group: a block of them
 * lives in L2, and every lookup waited on it (about 2.2 cycles a lookup on workload b). Tables
 * of 16 entries per 4 fragments are 1-4 KiB: a block of FRAG_ENC_NIB_L1 bytes of them stays in the
 * 48 KiB L1 cache, a lookup is a rotate, an AND and nv XORs from L1 (twice the lookups at well
 * under half the cost), and building them takes 22 entry XORs per group instead of 247. An entry is
 * nv = stride / 64 lines (layout: frag_enc_impl.h). */

/* Entries 0 .. 15 of one line (64 l .. 64 l + 63) of a table from its 4 unit vectors u. */
AVX512_INLINE void nib_fill(uint8_t *t, uint32_t sh, __m512i u0, __m512i u1, __m512i u2, __m512i u3)
{
	__m512i e[16];

	e[0] = _mm512_setzero_si512();
	e[1] = u0;
	e[2] = u1;
	e[4] = u2;
	e[8] = u3;
	/* entry 2^j + i = entry 2^j ^ entry i (one loop, unrolled whole: e stays in registers) */
#pragma GCC unroll 16
	for (uint32_t i = 3; i < 16; i++) {
		const uint32_t top = 1u << (31 - __builtin_clz(i));

		if (i != top)
			e[i] = _mm512_xor_si512(e[top], e[i - top]);
	}
#pragma GCC unroll 16
	for (uint32_t i = 0; i < 16; i++)
		_mm512_store_si512((void *)(t + ((size_t)i << sh)), e[i]);
}

/* The two tables of group g at t, one line of their entries at a time: units from the fragments
 * (zero past M and past FragSize, masked loads), then entry 2^j + i = entry 2^j ^ entry i. */
AVX512 static void nib_tables(const struct frag_enc *enc, uint32_t g, uint8_t *t, uint32_t sh)
{
	const uint32_t s = enc->frag_size, m = enc->code.nb_frag, nv = enc->stride / 64u;

	for (uint32_t h = 0; h < 2; h++, t += (size_t)16u << sh) {
		for (uint32_t l = 0; l < nv; l++) {
			const uint32_t n = s - 64u * l < 64u ? s - 64u * l : 64u;
			const __mmask64 k = (__mmask64)(~(uint64_t)0 >> (64u - n));
			__m512i u[4];

			for (uint32_t j = 0; j < 4; j++) {
				uint32_t x = g * 8u + h * 4u + j;

				u[j] = x < m ? _mm512_maskz_loadu_epi8(
				                       k, enc->frags + (size_t)x * s + 64u * l)
				             : _mm512_setzero_si512();
			}
			nib_fill(t + 64u * l, sh, u[0], u[1], u[2], u[3]);
		}
	}
}

AVX512 static void tables_avx512(const struct frag_enc *enc, uint32_t g0, uint32_t ng, uint8_t *tab)
{
	const uint32_t sh = frag_enc_nib_sh(enc),
	               built = frag_enc_nib_built(ng, frag_enc_nib_gpb(sh));

	for (uint32_t g = 0; g < built; g++)
		nib_tables(enc, g0 + g, tab + ((size_t)g << (sh + 5u)), sh);
}

/* nq nibbles of w looked up in nq tables from t, XORed into v[0..nv) (even nibbles) and v[4..4 +
 * nv) (odd): nibble q's entry offset is its 4 bits moved to bits sh.., one rotate and one AND. */
AVX512_NIB_INLINE void nib_look(__m512i *v, const uint8_t *t, uint64_t w, const unsigned nq,
                                const unsigned nv, const unsigned sh)
{
#pragma GCC unroll 16
	for (unsigned q = 0; q < nq; q++) {
		const unsigned r = (4u * q + 64u - sh) % 64u; /* rotate right: nibble q to bit sh */
		const size_t off = (size_t)((w >> r) | (w << ((64u - r) % 64u))) & (15u << sh);
		const uint8_t *e = t + ((size_t)q << (sh + 4u)) + off;

#pragma GCC unroll 4
		for (unsigned k = 0; k < nv; k++)
			v[(q % 2u) * 4u + k] =
			        _mm512_xor_si512(v[(q % 2u) * 4u + k],
			                         _mm512_load_si512((const void *)(e + 64u * k)));
	}
}

AVX512_NIB_INLINE void accum_nib_n(const uint8_t *tab, uint32_t ng, const uint8_t *lines, size_t lb,
                                   uint32_t rows, uint8_t *acc, const unsigned nv,
                                   const unsigned sh)
{
	const unsigned gpb = frag_enc_nib_gpb(sh);

	for (uint32_t i = 0; i < rows; i++) {
		const uint8_t *ln = lines + i * lb;
		uint8_t *a = acc + (size_t)i * 64u * nv;
		__m512i v[8];
		uint64_t w = 0;

		/* a slice of 4 or 8 bytes lies in one cache line (a row starts at a multiple of 8
		 * bytes from the 64-byte aligned lines) */
		__builtin_prefetch((const void *)((uintptr_t)ln + FRAG_ENC_NIB_AHEAD * lb));
		if (gpb > 8u)
			__builtin_prefetch(
			        (const void *)((uintptr_t)ln + FRAG_ENC_NIB_AHEAD * lb + 15u));
#pragma GCC unroll 4
		for (unsigned k = 0; k < nv; k++) {
			v[k] = _mm512_load_si512((const void *)(a + 64u * k));
			v[4u + k] = _mm512_setzero_si512();
		}
		memcpy(&w, ln, gpb < 8u ? gpb : 8u);
		nib_look(v, tab, w, gpb < 8u ? 2u * gpb : 16u, nv, sh);
		if (gpb > 8u && ng > 8u) { /* the block's second word, but for a short last block */
			memcpy(&w, ln + 8, 8);
			nib_look(v, tab + ((size_t)16u << (sh + 4u)), w, 16u, nv, sh);
		}
#pragma GCC unroll 4
		for (unsigned k = 0; k < nv; k++)
			_mm512_store_si512((void *)(a + 64u * k),
			                   _mm512_xor_si512(v[k], v[4u + k]));
	}
}

AVX512_NIB static void accum_avx512(const struct frag_enc *enc, const uint8_t *tab, uint32_t g0,
                                    uint32_t ng, const uint8_t *lines, uint32_t rows, uint8_t *acc)
{
	const size_t lb = enc->line_bytes;

	lines += g0;
	switch (enc->stride / 64u) {
	case 1: accum_nib_n(tab, ng, lines, lb, rows, acc, 1, 6); break;
	case 2: accum_nib_n(tab, ng, lines, lb, rows, acc, 2, 7); break;
	case 3: accum_nib_n(tab, ng, lines, lb, rows, acc, 3, 8); break;
	default: accum_nib_n(tab, ng, lines, lb, rows, acc, 4, 8); break; /* stride 256 */
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
        .block_groups = frag_enc_nib_block_groups,
        .table_bytes = frag_enc_nib_table_bytes,
        .mark = mark_avx512,
};

#else /* not x86-64: frag_enc_isa_avx512_ok() is 0, so this table is never used */

int frag_enc_isa_avx512_ok(void)
{
	return 0;
}

const struct frag_enc_kernels frag_enc_kern_avx512 = {.draws = frag_enc_draws_portable};

#endif
