/* A plain TS004 parity encoder, the yardstick of bench/encode.sh: what anyone would write at -O2
 * from the spec (PROTOCOL-NOTES §4.4): for each row, draw its line with prbs23, then XOR the
 * selected fragments into the row one byte at a time (their indices gathered first, so that no
 * unpredictable branch slows the yardstick). It writes the same FRG1 frames file as
 * `fuota-tool frag encode` (relative seeds), so the bench can check both outputs are identical.
 *
 * usage: fuota-plain-encode FRAG_SIZE REDUNDANCY_PERCENT TS004_VERSION INPUT OUTPUT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t prbs23(uint32_t x)
{
	uint32_t b0 = x & 1u, b1 = (x >> 5) & 1u;

	return (x >> 1) + ((b0 ^ b1) << 22);
}

/* Line of row n: sel[x] = 1 for the selected fragments. */
static void row_line(uint32_t m, uint32_t n, int v2, uint8_t *sel)
{
	uint32_t mod = (m & (m - 1u)) == 0u ? m + 1u : m, x = 1u + 1001u * n, got = 0;

	memset(sel, 0, m);
	while (got < m / 2u) {
		uint32_t r;

		do {
			x = prbs23(x);
			r = x % mod;
		} while (r >= m);
		if (!sel[r] || !v2)
			got++;
		sel[r] = 1;
	}
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int main(int argc, char **argv)
{
	FILE *in, *out;
	long len;
	uint32_t s, pct, v, m, r;
	uint8_t *frames, *sel, hdr[20] = "FRG1";
	uint32_t *idx;

	if (argc != 6)
		return 2;
	s = (uint32_t)atoi(argv[1]);
	pct = (uint32_t)atoi(argv[2]);
	v = (uint32_t)atoi(argv[3]);
	in = fopen(argv[4], "rb");
	if (!in || s == 0 || s > 255 || fseek(in, 0, SEEK_END) || (len = ftell(in)) <= 0)
		return 1;
	rewind(in);
	m = (uint32_t)(((uint64_t)len + s - 1u) / s);
	r = (uint32_t)(((uint64_t)m * pct + 99u) / 100u);
	frames = calloc((size_t)m + r, s);
	sel = malloc(m);
	idx = malloc((size_t)m * sizeof(*idx));
	if (!frames || !sel || !idx || fread(frames, 1, (size_t)len, in) != (size_t)len)
		return 1;
	fclose(in);
	for (uint32_t n = 1; n <= r; n++) {
		uint8_t *row = frames + ((size_t)m + n - 1u) * s;

		uint32_t k = 0;

		row_line(m, n, v == 2, sel);
		/* the selected indices first, without a branch: a branch on sel[x] is taken at
		 * random for half the fragments and mispredicted often enough to double b's time */
		for (uint32_t x = 0; x < m; x++) {
			idx[k] = x;
			k += sel[x];
		}
		for (uint32_t i = 0; i < k; i++)
			for (uint32_t b = 0; b < s; b++)
				row[b] ^= frames[(size_t)idx[i] * s + b];
	}
	put_le32(hdr + 4, m);
	put_le32(hdr + 8, s);
	put_le32(hdr + 12, r);
	put_le32(hdr + 16, (uint32_t)((size_t)m * s - (size_t)len));
	out = fopen(argv[5], "wb");
	if (!out || fwrite(hdr, 1, 20, out) != 20 ||
	    fwrite(frames, s, (size_t)m + r, out) != (size_t)m + r || fclose(out))
		return 1;
	free(frames);
	free(sel);
	free(idx);
	return 0;
}
