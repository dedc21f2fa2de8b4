/* Portable encoder kernels: plain C on 64-bit words, for any CPU. */
#include <string.h>

#include "frag_enc_impl.h"
#include "fuota/bytes.h"

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void store64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

void frag_enc_draws_portable(const struct frag_enc *enc, const uint64_t *sw, uint32_t t0,
                             uint32_t count, uint32_t *r)
{
	const uint64_t magic = enc->mod_magic;
	const uint32_t shift = enc->mod_shift, d = enc->mod;

	for (uint32_t i = 0; i < count; i++) {
		uint32_t x = (uint32_t)(frag_enc_stream_bits(sw, t0 + i) & 0x7fffffu);
		uint32_t q = (uint32_t)((x * magic) >> shift);

		r[i] = x - q * d;
	}
}

/* Byte i of the 8 bytes (each 0 or 1) lands on bit i: the multiplier places byte i's bit 0 at bit
 * 56 + i of the product, and no two partial products overlap, so no carry disturbs them. */
static void pack_portable(uint8_t *map, uint8_t *line, size_t nbytes)
{
	for (size_t b = 0; b < nbytes; b += 8) {
		uint64_t v = (uint64_t)fuota_get_le32(map + b) |
		             ((uint64_t)fuota_get_le32(map + b + 4) << 32);

		line[b / 8] = (uint8_t)(((v & 0x0101010101010101u) * 0x0102040810204080u) >> 56);
		memset(map + b, 0, 8);
	}
}

/* 64 ages at a time: flags in a byte each (a fixed-length loop the compiler can vectorise), then
 * eight bytes to eight bits by pack_portable. */
static void recent_portable(const uint8_t *last, uint8_t now, uint8_t age, uint8_t *line,
                            size_t nbytes)
{
	for (size_t b = 0; b < nbytes; b += 8) {
		const uint8_t *p = last + 8 * b;
		uint8_t f[64];

		for (uint32_t k = 0; k < 64; k++)
			f[k] = (uint8_t)((uint8_t)(now - p[k]) < age);
		pack_portable(f, line + b, 64);
	}
}

/* A select, not a branch on each age: the compiler vectorises it (the branch made age_out most
 * of the portable sweep). */
static void age_out_portable(uint8_t *last, size_t n, uint8_t now, uint8_t h)
{
	const uint8_t old = (uint8_t)(now - h);

	for (size_t x = 0; x < n; x++) {
		const uint8_t v = last[x];

		last[x] = (uint8_t)(now - v) >= h ? old : v;
	}
}

static void mark_portable(const struct frag_enc *enc, const uint64_t *sw, uint32_t j0, uint32_t j1,
                          uint32_t *r, uint8_t *last, uint32_t vbase, uint32_t shift)
{
	frag_enc_mark_with(frag_enc_draws_portable, enc, sw, j0, j1, r, last, vbase, shift);
}

/* Writes entries 0 (zero) and 2^j (fragment 8g + j, zero-padded to stride; zero past M) of the
 * table of group g at t. */
static void frag_enc_table_units(const struct frag_enc *enc, uint32_t g, uint8_t *t)
{
	const uint32_t s = enc->frag_size, stride = enc->stride;

	memset(t, 0, stride);
	for (uint32_t j = 0; j < 8; j++) {
		uint8_t *e = t + ((size_t)1 << j) * stride;
		uint32_t x = g * 8u + j;

		if (x < enc->code.nb_frag) {
			memcpy(e, enc->frags + (size_t)x * s, s);
			memset(e + s, 0, stride - s);
		} else {
			memset(e, 0, stride);
		}
	}
}

static void tables_portable(const struct frag_enc *enc, uint32_t g0, uint32_t ng, uint8_t *tab)
{
	const size_t stride = enc->stride;

	for (uint32_t g = 0; g < ng; g++) {
		uint8_t *t = tab + (size_t)g * 256u * stride;

		frag_enc_table_units(enc, g0 + g, t);
		/* entry 2^j + i = entry 2^j ^ entry i, for every i < 2^j */
		for (uint32_t j = 1; j < 8; j++) {
			const uint8_t *unit = t + ((size_t)1 << j) * stride;

			for (uint32_t i = 1; i < (1u << j); i++) {
				uint8_t *dst = t + (((size_t)1 << j) + i) * stride;
				const uint8_t *src = t + (size_t)i * stride;

				for (size_t w = 0; w < stride; w += 8)
					store64(dst + w, load64(unit + w) ^ load64(src + w));
			}
		}
	}
}

/* One 64-byte column of every accumulator at a time, held in eight words. */
static void accum_portable(const struct frag_enc *enc, const uint8_t *tab, uint32_t g0, uint32_t ng,
                           const uint8_t *lines, uint32_t rows, uint8_t *acc)
{
	const size_t stride = enc->stride, lb = enc->line_bytes;

	for (size_t c = 0; c < stride; c += 64) {
		for (uint32_t i = 0; i < rows; i++) {
			const uint8_t *ln = lines + i * lb + g0;
			uint8_t *a = acc + i * stride + c;
			uint64_t w[8];

			for (uint32_t k = 0; k < 8; k++)
				w[k] = load64(a + 8 * k);
			for (uint32_t j = 0; j < ng; j++) {
				const uint8_t *e = tab + ((size_t)j * 256u + ln[j]) * stride + c;

				for (uint32_t k = 0; k < 8; k++)
					w[k] ^= load64(e + 8 * k);
			}
			for (uint32_t k = 0; k < 8; k++)
				store64(a + 8 * k, w[k]);
		}
	}
}

static void xor_portable(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8)
		store64(dst + i, load64(dst + i) ^ load64(src + i));
	for (; i < len; i++)
		dst[i] ^= src[i];
}

static void xor_word_portable(uint8_t *tab, const uint64_t *entry, uint64_t any, const uint8_t *src,
                              size_t len)
{
	for (; any; any &= any - 1u) {
		uint32_t b = (uint32_t)__builtin_ctzll(any);

		xor_portable(tab + frag_enc_word_entry(entry, b) * len, src + b * len, len);
	}
}

const struct frag_enc_kernels frag_enc_kern_portable = {
        .draws = frag_enc_draws_portable,
        .pack = pack_portable,
        .tables = tables_portable,
        .accum = accum_portable,
        .xor_bytes = xor_portable,
        .xor_word = xor_word_portable,
        .recent = recent_portable,
        .age_out = age_out_portable,
        .mark = mark_portable,
};
