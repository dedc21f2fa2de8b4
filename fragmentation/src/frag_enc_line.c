/* One row line into a bit line with the encoder's vectorised prbs23 draws and a few hundred
 * bytes of scratch: for a decoder, which draws one line per coded frame (frag_lean). Equal to
 * frag_row_line bit for bit; the unit tests check that on every code shape. */
#include <string.h>

#include "frag_enc_impl.h"
#include "fuota/err.h"

/* prbs23 exactly as the reference, additions and carries included (PROTOCOL-NOTES §4.4). */
static uint32_t prbs23(uint32_t x)
{
	return (x >> 1) + (((x ^ (x >> 5)) & 1u) << 22);
}

/* Draws from the 23-bit LFSR state x until the line has `want` coefficients (got so far). */
static void line_lfsr(const struct frag_enc *enc, uint64_t *line, uint64_t *sw, uint32_t *rb,
                      uint32_t x, uint32_t got)
{
	const uint32_t m = enc->code.nb_frag, want = enc->want;
	const int v2 = enc->code.version == FRAG_V2, reject = enc->mod != m;
	uint32_t t = 0, i = FRAG_ENC_LINE_DRAWS; /* rb[i..) not used yet */

	frag_enc_stream_start(sw, x);
	while (got < want) {
		uint32_t d = want - got;

		if (i == FRAG_ENC_LINE_DRAWS) {
			if (t == FRAG_ENC_CHUNK) {
				frag_enc_stream_next(sw);
				t = 0;
			}
			enc->kern->draws(enc, sw, t, FRAG_ENC_LINE_DRAWS, rb);
			t += FRAG_ENC_LINE_DRAWS;
			i = 0;
		}
		/* each draw adds at most one coefficient: the next d cannot overshoot */
		if (d > FRAG_ENC_LINE_DRAWS - i)
			d = FRAG_ENC_LINE_DRAWS - i;
		if (v2) {
			for (uint32_t j = i; j < i + d; j++) {
				uint32_t r = rb[j];
				uint64_t bit = (uint64_t)1 << (r % 64u);

				if (r >= m)
					continue;
				got += !(line[r / 64u] & bit);
				line[r / 64u] |= bit;
			}
		} else if (reject) {
			for (uint32_t j = i; j < i + d; j++) {
				uint32_t r = rb[j];

				if (r >= m)
					continue;
				got++;
				line[r / 64u] |= (uint64_t)1 << (r % 64u);
			}
		} else {
#pragma GCC unroll 8
			for (uint32_t j = i; j < i + d; j++)
				line[rb[j] / 64u] |= (uint64_t)1 << (rb[j] % 64u);
			got += d;
		}
		i += d;
	}
}

int frag_enc_line(const struct frag_enc *enc, uint32_t n, uint64_t *line, size_t words,
                  void *scratch)
{
	uint32_t m, k, x, got = 0;
	uint64_t *sw = scratch;
	int v2;

	if (!enc || !enc->kern || !line || !scratch || n == 0)
		return FUOTA_ERR_INVALID_ARG;
	m = enc->code.nb_frag;
	v2 = enc->code.version == FRAG_V2;
	k = (v2 && enc->code.seed == FRAG_SEED_ABSOLUTE) ? m + n : n;
	if (words < frag_line_words(m) || k < n || k > FRAG_ENC_MAX_SEED_INDEX)
		return FUOTA_ERR_INVALID_ARG;
	memset(line, 0, frag_line_words(m) * sizeof(*line));
	x = 1u + 1001u * k;
	/* carries past bit 22: the exact scalar prbs23 until x drops below 2^23, which then holds
	 */
	while (got < enc->want) {
		uint32_t r;
		uint64_t bit;

		x = prbs23(x);
		if (x < (1u << 23)) {
			line_lfsr(enc, line, sw, (uint32_t *)(void *)(sw + FRAG_ENC_SW_WORDS), x,
			          got);
			break;
		}
		r = x % enc->mod;
		if (r >= m)
			continue;
		bit = (uint64_t)1 << (r % 64u);
		got += !v2 || !(line[r / 64u] & bit);
		line[r / 64u] |= bit;
	}
	return FUOTA_OK;
}
