/* The reference encoder: the spec algorithm, written to be obviously right rather than fast. */
#include "fuota/frag_ref.h"

#include <string.h>

#include "fuota/err.h"

/* row ^= frag, one byte at a time: the plain loop anyone writes (not vectorised at -O2). */
static void xor_fragment(uint8_t *row, const uint8_t *frag, uint32_t frag_size)
{
	for (uint32_t b = 0; b < frag_size; b++)
		row[b] ^= frag[b];
}

int frag_ref_encode(const struct frag_code *code, uint32_t frag_size, const uint8_t *frags,
                    size_t frags_len, uint32_t first, uint32_t count, uint8_t *out, uint64_t *line,
                    size_t words)
{
	if (frag_code_check(code) != FUOTA_OK || frag_size == 0 || frag_size > 255 || !frags ||
	    !line || (count && !out) || first == 0)
		return FUOTA_ERR_INVALID_ARG;
	if (frags_len != (size_t)code->nb_frag * frag_size)
		return FUOTA_ERR_INVALID_ARG;
	if (words < frag_line_words(code->nb_frag) || count > UINT32_MAX - first)
		return FUOTA_ERR_INVALID_ARG;

	for (uint32_t i = 0; i < count; i++) {
		uint8_t *row = out + (size_t)i * frag_size;
		int rc = frag_row_line(code, first + i, line, words, NULL);

		if (rc != FUOTA_OK)
			return rc;
		memset(row, 0, frag_size);
		for (size_t w = 0; w < frag_line_words(code->nb_frag); w++)
			for (uint64_t bits = line[w]; bits; bits &= bits - 1u)
				xor_fragment(row,
				             frags + (w * 64u + (size_t)__builtin_ctzll(bits)) *
				                             frag_size,
				             frag_size);
	}
	return FUOTA_OK;
}
