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

/* Sixteen windows per vector: lanes 0..7 from the 32 bits at byte t / 8, lanes 8..15 from those
 * at the next byte (t a multiple of 8). Modulo as in the AVX2 kernel. */
AVX512 static void draws_avx512(const struct frag_enc *enc, const uint64_t *sw, uint32_t t0,
                                uint32_t count, uint32_t *r)
{
	const uint8_t *sb = (const uint8_t *)sw;
	const __m512i shifts = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
	const __m512i mask = _mm512_set1_epi32(0x7fffff);
	const __m512i d = _mm512_set1_epi32((int)enc->mod);
	const __m512 inv = _mm512_set1_ps(enc->mod_inv);

	if (enc->mod >= (1u << 24)) {
		frag_enc_draws_portable(enc, sw, t0, count, r);
		return;
	}
	for (uint32_t t = t0; t < t0 + count; t += 16) {
		uint32_t w0, w1;
		__m512i w, x, q, rr;

		memcpy(&w0, sb + t / 8u, sizeof(w0));
		memcpy(&w1, sb + t / 8u + 1u, sizeof(w1));
		w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32((int)w0)),
		                       _mm256_set1_epi32((int)w1), 1);
		x = _mm512_and_si512(_mm512_srlv_epi32(w, shifts), mask);
		q = _mm512_cvttps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(x), inv));
		rr = _mm512_sub_epi32(x, _mm512_mullo_epi32(q, d));
		rr = _mm512_min_epu32(rr, _mm512_sub_epi32(rr, d));
		_mm512_storeu_si512((void *)(r + (t - t0)), rr);
	}
}

/* 64 ages per step (two vectors of 32), their 64 bits stored at once: nbytes is a multiple of
 * 8. */
AVX512 static void recent_avx512(const uint16_t *last, uint16_t now, uint16_t len, uint8_t *line,
                                 size_t nbytes)
{
	const __m512i vnow = _mm512_set1_epi16((short)now), vlen = _mm512_set1_epi16((short)len);

	for (size_t b = 0; b < nbytes; b += 8) {
		const uint16_t *p = last + 8 * b;
		__m512i lo = _mm512_sub_epi16(vnow, _mm512_loadu_si512((const void *)p));
		__m512i hi = _mm512_sub_epi16(vnow, _mm512_loadu_si512((const void *)(p + 32)));
		uint64_t bits = (uint64_t)_mm512_cmplt_epu16_mask(lo, vlen) |
		                (uint64_t)_mm512_cmplt_epu16_mask(hi, vlen) << 32;

		memcpy(line + b, &bits, sizeof(bits));
	}
}

AVX512 static void age_out_avx512(uint16_t *last, size_t n, uint16_t now, uint16_t h)
{
	const __m512i vnow = _mm512_set1_epi16((short)now), vh = _mm512_set1_epi16((short)h);
	const __m512i old = _mm512_set1_epi16((short)(uint16_t)(now - h));

	for (size_t x = 0; x < n; x += 32) {
		__m512i v = _mm512_loadu_si512((const void *)(last + x));
		__mmask32 k = _mm512_cmpge_epu16_mask(_mm512_sub_epi16(vnow, v), vh);

		_mm512_storeu_si512((void *)(last + x), _mm512_mask_mov_epi16(v, k, old));
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

/* ---- nibble tables: FragSize up to 64 ----
 * With one 64-byte line per entry, a table of 256 entries per 8 fragments is 16 KiB: a block of
 * them lives in L2, and each lookup waits on it (about 2.2 cycles a lookup on workload b). Tables
 * of 16 entries per 4 fragments are 1 KiB: the 32 of a block of NIB_GROUPS groups (32 KiB) stay
 * in the 48 KiB L1 cache, a lookup is a rotate, an AND and an XOR from L1, twice the lookups at
 * less than half the cost each, and building them takes 22 XORs per group instead of 247. Table
 * q of a block (q = 2 g + h, h = 0 for fragments 8 g .. 8 g + 3, h = 1 for the next four) is at
 * q KiB, entry e at 64 e. */
#define NIB_GROUPS 16u
#define NIB_TABLE  1024u

static int nib_ok(const struct frag_enc *enc)
{
	return enc->stride == 64u;
}

static uint32_t block_groups_avx512(const struct frag_enc *enc)
{
	return nib_ok(enc) ? NIB_GROUPS : 0u;
}

/* The two nibble tables of group g at t: units from the fragments (zero past M and past
 * FragSize), then entry 2^j + i = entry 2^j ^ entry i. */
AVX512 static void nib_tables(const struct frag_enc *enc, uint32_t g, uint8_t *t)
{
	const uint32_t s = enc->frag_size, m = enc->code.nb_frag;
	const __mmask64 k = (__mmask64)(~(uint64_t)0 >> (64u - s));

	for (uint32_t h = 0; h < 2; h++, t += NIB_TABLE) {
		__m512i e[16];

		e[0] = _mm512_setzero_si512();
		for (uint32_t j = 0; j < 4; j++) {
			uint32_t x = g * 8u + h * 4u + j;

			e[1u << j] = x < m ? _mm512_maskz_loadu_epi8(k, enc->frags + (size_t)x * s)
			                   : _mm512_setzero_si512();
		}
#pragma GCC unroll 4
		for (uint32_t j = 1; j < 4; j++)
#pragma GCC unroll 8
			for (uint32_t i = 1; i < (1u << j); i++)
				e[(1u << j) + i] = _mm512_xor_si512(e[1u << j], e[i]);
#pragma GCC unroll 16
		for (uint32_t i = 0; i < 16; i++)
			_mm512_store_si512((void *)(t + 64u * i), e[i]);
	}
}

/* ng groups from g0, rounded up to whole words of 8 (the accum reads the line 8 bytes at a time;
 * groups past the last hold zero fragments, and the line's bytes there are zero). */
AVX512 static void tables_nib(const struct frag_enc *enc, uint32_t g0, uint32_t ng, uint8_t *tab)
{
	const uint32_t words = (ng + 7u) / 8u;

	for (uint32_t g = 0; g < words * 8u; g++)
		nib_tables(enc, g0 + g, tab + (size_t)g * 2u * NIB_TABLE);
}

AVX512 static void tables_avx512(const struct frag_enc *enc, uint32_t g0, uint32_t ng, uint8_t *tab)
{
	const size_t stride = enc->stride;
	const uint32_t ts = split_tail(enc);

	if (nib_ok(enc)) {
		tables_nib(enc, g0, ng, tab);
		return;
	}

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

/* The 16 nibbles of w (8 line bytes) looked up in 16 tables from t, XORed into v[0..1]. The
 * entry offset of nibble q is bits 4q..4q+3 of w moved to bits 6..9: one rotate and one AND. */
AVX512_NIB_INLINE void nib_word(__m512i *v, const uint8_t *t, uint64_t w)
{
#pragma GCC unroll 16
	for (unsigned q = 0; q < 16; q++) {
		const unsigned r = (4u * q + 58u) % 64u; /* rotate right by 4q - 6 */
		const size_t off = (size_t)((w >> r) | (w << ((64u - r) % 64u))) & 0x3c0u;

		v[q % 2u] = _mm512_xor_si512(
		        v[q % 2u], _mm512_load_si512((const void *)(t + q * NIB_TABLE + off)));
	}
}

/* Line slices asked for this many rows ahead (a row takes about 20 cycles here; 4-24 measured
 * alike on workload b) */
#define NIB_AHEAD 16u

AVX512_NIB static void accum_nib(const struct frag_enc *enc, const uint8_t *tab, uint32_t ng,
                                 const uint8_t *lines, uint32_t rows, uint8_t *acc)
{
	const size_t lb = enc->line_bytes;
	const uint32_t words = (ng + 7u) / 8u;

	for (uint32_t i = 0; i < rows; i++) {
		const uint8_t *ln = lines + i * lb;
		uint8_t *a = acc + (size_t)i * 64u;
		__m512i v[2] = {_mm512_load_si512((const void *)a), _mm512_setzero_si512()};

		__builtin_prefetch((const void *)((uintptr_t)ln + NIB_AHEAD * lb));
		__builtin_prefetch(
		        (const void *)((uintptr_t)ln + NIB_AHEAD * lb + 8u * words - 1u));
		if (words == 2u) {
			uint64_t w0, w1;

			memcpy(&w0, ln, 8);
			memcpy(&w1, ln + 8, 8);
			nib_word(v, tab, w0);
			nib_word(v, tab + 16u * NIB_TABLE, w1);
		} else {
			for (uint32_t k = 0; k < words; k++) {
				uint64_t w;

				memcpy(&w, ln + 8u * k, 8);
				nib_word(v, tab + (size_t)k * 16u * NIB_TABLE, w);
			}
		}
		_mm512_store_si512((void *)a, _mm512_xor_si512(v[0], v[1]));
	}
}

AVX512 static void accum_avx512(const struct frag_enc *enc, const uint8_t *tab, uint32_t g0,
                                uint32_t ng, const uint8_t *lines, uint32_t rows, uint8_t *acc)
{
	const size_t stride = enc->stride, lb = enc->line_bytes;
	const uint32_t ts = split_tail(enc);

	lines += g0;
	if (nib_ok(enc)) {
		accum_nib(enc, tab, ng, lines, rows, acc);
		return;
	}
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
        .block_groups = block_groups_avx512,
};

#else /* not x86-64: frag_enc_isa_avx512_ok() is 0, so this table is never used */

int frag_enc_isa_avx512_ok(void)
{
	return 0;
}

const struct frag_enc_kernels frag_enc_kern_avx512 = {.draws = frag_enc_draws_portable};

#endif
