#include "fuota/frag_row.h"

#include <string.h>

#include "fuota/err.h"

int frag_code_check(const struct frag_code *code)
{
	if (!code || code->nb_frag == 0)
		return FUOTA_ERR_INVALID_ARG;
	if (code->version != FRAG_V1 && code->version != FRAG_V2)
		return FUOTA_ERR_INVALID_ARG;
	if (code->version == FRAG_V2 && code->seed != FRAG_SEED_RELATIVE &&
	    code->seed != FRAG_SEED_ABSOLUTE)
		return FUOTA_ERR_INVALID_ARG;
	return FUOTA_OK;
}

/* prbs23 exactly as the reference: the feedback bit is ADDED at bit 22. Seeds above 2^23 (n > 8380)
 * carry into bit 23 and beyond; masking or OR-ing would change the sequence (PROTOCOL-NOTES §4.4).
 */
static inline uint32_t prbs23(uint32_t x)
{
	uint32_t b0 = x & 1u;
	uint32_t b1 = (x >> 5) & 1u;

	return (x >> 1) + ((b0 ^ b1) << 22);
}

/* x % mod without a division, exact for every 32-bit x and mod >= 1 (Lemire, Kaser and Kurz,
 * "Faster remainder by direct computation", 2019): magic = floor((2^64 - 1) / mod) + 1. Where the
 * compiler has no 128-bit type (32-bit devices) it is the plain remainder. */
#if defined(__SIZEOF_INT128__)
static inline uint32_t fast_mod(uint32_t x, uint32_t mod, uint64_t magic)
{
	return (uint32_t)(((unsigned __int128)(magic * x) * mod) >> 64);
}
#define FRAG_ROW_MAGIC(mod) (UINT64_MAX / (mod) + 1u)
#else
static inline uint32_t fast_mod(uint32_t x, uint32_t mod, uint64_t magic)
{
	(void)magic;
	return x % mod;
}
#define FRAG_ROW_MAGIC(mod) 0u
#endif

int frag_row_line(const struct frag_code *code, uint32_t n, uint64_t *line, size_t words,
                  uint32_t *weight)
{
	uint32_t m, mod, k, x, want, got = 0;
	uint64_t magic;
	int distinct;

	if (frag_code_check(code) != FUOTA_OK || n == 0 || !line)
		return FUOTA_ERR_INVALID_ARG;
	m = code->nb_frag;
	if (words < frag_line_words(m))
		return FUOTA_ERR_INVALID_ARG;
	distinct = code->version == FRAG_V2;
	k = (distinct && code->seed == FRAG_SEED_ABSOLUTE) ? m + n : n;
	if (k < n || k > (UINT32_MAX - 1u) / 1001u)
		return FUOTA_ERR_INVALID_ARG;

	memset(line, 0, frag_line_words(m) * sizeof(*line));
	mod = m + (((m & (m - 1u)) == 0u) ? 1u : 0u);
	magic = FRAG_ROW_MAGIC(mod);
	x = 1u + 1001u * k;
	want = m / 2u;
	while (got < want) {
		uint32_t r;
		uint64_t bit;

		do {
			x = prbs23(x);
			r = fast_mod(x, mod, magic);
		} while (r >= m);
		bit = (uint64_t)1 << (r % 64u);
		/* v1: a repeated draw still counts towards floor(M/2), so no test is needed (a
		 * branch the CPU mispredicts); v2 counts distinct draws only. */
		got += !distinct || !(line[r / 64u] & bit);
		line[r / 64u] |= bit;
	}
	if (weight) {
		uint32_t w = 0;

		for (size_t i = 0; i < frag_line_words(m); i++)
			w += (uint32_t)__builtin_popcountll(line[i]);
		*weight = w;
	}
	return FUOTA_OK;
}
