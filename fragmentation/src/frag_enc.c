/* The fast TS004 parity encoder: row lines from the LFSR bit stream, XOR through four-Russians
 * tables (see fuota/frag_enc.h for the ideas). Equal to frag_ref_encode byte for byte; the unit
 * tests check that on every code shape. */
#include "fuota/frag_enc.h"

#include <string.h>

#include "frag_enc_impl.h"
#include "fuota/err.h"

/* prbs23 draws below this value are pure LFSR states; at or above it, carries are in play. */
#define PRBS_LFSR_LIMIT (1u << 23)
/* Bytes of XOR tables built and used together: sized to stay in a 512 KiB-1 MiB L2 cache beside
 * the accumulators streaming through. */
#define TABLE_BUDGET (384u * 1024u)
/* Fewer rows than this per pass: the tables do not pay for themselves (a table costs 256 entry
 * XORs per group, a direct row about 4 fragment XORs per group). */
#define TABLE_MIN_ROWS 64u

/* Carved from the caller's scratch memory. */
struct enc_scratch {
	uint8_t *map[2]; /* byte x = 1 if fragment x is in the line being drawn (two: see
	                    table_pass) */
	uint64_t *sw;    /* LFSR bit stream of the current chunk */
	uint32_t *rb;    /* draws of the current chunk */
	uint8_t *tab;    /* XOR tables of one block of groups (table path only) */
	uint8_t *acc;    /* rows * stride accumulators (table path) */
	uint8_t *lines;  /* rows * line_bytes packed lines */
	uint32_t rows;   /* rows that fit per pass */
	void *sweep;     /* the shared-cycle line path's memory, or NULL (frag_enc_sweep.c) */
};

static size_t align64(size_t v)
{
	return (v + 63u) & ~(size_t)63u;
}

static int is_pow2(uint32_t v)
{
	return v && !(v & (v - 1u));
}

const char *frag_enc_isa_name(enum frag_enc_isa isa)
{
	switch (isa) {
	case FRAG_ENC_ISA_PORTABLE: return "portable";
	case FRAG_ENC_ISA_AVX2: return "avx2";
	case FRAG_ENC_ISA_AVX512: return "avx512";
	case FRAG_ENC_ISA_AUTO: break;
	}
	return "auto";
}

static int pick_kernels(struct frag_enc *enc, enum frag_enc_isa isa)
{
	if (isa == FRAG_ENC_ISA_AUTO) {
		isa = frag_enc_isa_avx512_ok() ? FRAG_ENC_ISA_AVX512
		      : frag_enc_isa_avx2_ok() ? FRAG_ENC_ISA_AVX2
		                               : FRAG_ENC_ISA_PORTABLE;
	}
	switch (isa) {
	case FRAG_ENC_ISA_PORTABLE: enc->kern = &frag_enc_kern_portable; break;
	case FRAG_ENC_ISA_AVX2:
		if (!frag_enc_isa_avx2_ok())
			return FUOTA_ERR_UNSUPPORTED;
		enc->kern = &frag_enc_kern_avx2;
		break;
	case FRAG_ENC_ISA_AVX512:
		if (!frag_enc_isa_avx512_ok())
			return FUOTA_ERR_UNSUPPORTED;
		enc->kern = &frag_enc_kern_avx512;
		break;
	default: return FUOTA_ERR_INVALID_ARG;
	}
	enc->isa = isa;
	return FUOTA_OK;
}

/* floor(x / d) = (x * magic) >> shift for every x < 2^23 (Granlund-Montgomery with a rounded-up
 * reciprocal): shift = 23 + ceil(log2 d), magic = ceil(2^shift / d); the error magic * d - 2^shift
 * stays below d <= 2^(shift - 23), which keeps the quotient exact, and x * magic < 2^48. */
static void mod_magic(struct frag_enc *enc)
{
	uint32_t d = enc->mod, l = 0;

	while (l < 32 && ((uint64_t)1 << l) < d)
		l++;
	if (d >= PRBS_LFSR_LIMIT) {
		/* every LFSR draw is below d: the quotient is 0 */
		enc->mod_magic = 0;
		enc->mod_shift = 0;
		return;
	}
	enc->mod_shift = 23u + l;
	enc->mod_magic = (((uint64_t)1 << enc->mod_shift) + d - 1u) / d;
}

/* 1 / d rounded down, then one unit in the last place lower. For x < 2^23 and 3 <= d < 2^24 the
 * float product x * inv (one rounding, relative error <= 2^-24) then stays below x / d, because inv
 * is at least 2^-24 (relative) under 1 / d, and above x / d - 1, because inv is at most 2^-22 under
 * and x / d < 2^23 / 3: its truncation is floor(x / d) or one less. */
static float recip_down(uint32_t d)
{
	float f = 1.0f / (float)d;
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	if ((double)f * d > 1.0) /* exact: 24 x 24 bits */
		u--;
	u--;
	memcpy(&f, &u, sizeof(f));
	return f;
}

/* What the row lines need: the code, the modulus and its reciprocals. */
static void init_code(struct frag_enc *enc, const struct frag_code *code)
{
	uint32_t m = code->nb_frag;

	memset(enc, 0, sizeof(*enc));
	enc->code = *code;
	if (enc->code.version == FRAG_V1)
		enc->code.seed = FRAG_SEED_RELATIVE; /* v1 has one seed base */
	enc->mod = m + (is_pow2(m) ? 1u : 0u);
	enc->want = m / 2u;
	mod_magic(enc);
	enc->mod_inv = recip_down(enc->mod);
	enc->line_bytes = (uint32_t)(align64(m) / 8u);
}

int frag_enc_init_lines(struct frag_enc *enc, const struct frag_code *code)
{
	int rc;

	if (!enc || frag_code_check(code) != FUOTA_OK || code->nb_frag > UINT32_MAX - 64u)
		return FUOTA_ERR_INVALID_ARG;
	init_code(enc, code);
	rc = pick_kernels(enc, FRAG_ENC_ISA_AUTO);
	if (rc != FUOTA_OK)
		memset(enc, 0, sizeof(*enc));
	return rc;
}

int frag_enc_init(struct frag_enc *enc, const struct frag_code *code, uint32_t frag_size,
                  const uint8_t *frags, size_t frags_len, enum frag_enc_isa isa)
{
	uint32_t m, per_group;
	int rc;

	if (!enc || frag_code_check(code) != FUOTA_OK || frag_size == 0 || frag_size > 255 ||
	    !frags)
		return FUOTA_ERR_INVALID_ARG;
	m = code->nb_frag;
	if (frags_len != (size_t)m * frag_size || m > UINT32_MAX - 64u)
		return FUOTA_ERR_INVALID_ARG;
	init_code(enc, code);
	enc->frag_size = frag_size;
	enc->frags = frags;
	enc->stride = (uint32_t)align64(frag_size);
	enc->groups = (uint32_t)(((uint64_t)m + 7u) / 8u);
	per_group = 256u * enc->stride;
	enc->block_groups = TABLE_BUDGET / per_group ? TABLE_BUDGET / per_group : 1u;
	rc = pick_kernels(enc, isa);
	if (rc != FUOTA_OK) {
		memset(enc, 0, sizeof(*enc));
		return rc;
	}
	if (enc->kern->block_groups)
		enc->block_groups = enc->kern->block_groups(enc);
	return FUOTA_OK;
}

/* ---- scratch ---- */

/* maps (with one spare byte at index M for the power-of-two reject slot), LFSR stream, draws. */
static size_t fixed_bytes(const struct frag_enc *enc)
{
	return 64u + 2u * align64((size_t)enc->code.nb_frag + 1u) +
	       align64(FRAG_ENC_SW_WORDS * sizeof(uint64_t)) +
	       align64((FRAG_ENC_CHUNK + FRAG_ENC_DRAW_STEP) * sizeof(uint32_t));
}

static size_t table_bytes(const struct frag_enc *enc)
{
	uint32_t bg = enc->block_groups < enc->groups ? enc->block_groups : enc->groups;

	if (enc->kern->table_bytes)
		return enc->kern->table_bytes(enc, bg);
	return (size_t)bg * 256u * enc->stride;
}

static size_t row_bytes(const struct frag_enc *enc)
{
	return (size_t)enc->line_bytes + enc->stride;
}

size_t frag_enc_row_scratch_size(const struct frag_enc *enc)
{
	return enc ? fixed_bytes(enc) + row_bytes(enc) : 0;
}

size_t frag_enc_range_scratch_min(const struct frag_enc *enc, uint32_t count)
{
	(void)count; /* the row-by-row path works with any count */
	return frag_enc_row_scratch_size(enc);
}

size_t frag_enc_range_scratch_size(const struct frag_enc *enc, uint32_t count)
{
	if (!enc)
		return 0;
	if (count < TABLE_MIN_ROWS)
		return frag_enc_row_scratch_size(enc);
	return fixed_bytes(enc) + align64(table_bytes(enc)) + frag_enc_sweep_mem(enc, count) +
	       (size_t)count * row_bytes(enc);
}

/* Lays out scratch; tables and rows > 1 only when with_tables. The shared-cycle path's memory
 * (sweep bytes, 0 for none) comes first, only when all max_rows rows then fit. Returns 0, or -1 if
 * it is short. */
static int carve(const struct frag_enc *enc, void *mem, size_t len, int with_tables,
                 uint32_t max_rows, size_t sweep, struct enc_scratch *sc)
{
	uint8_t *p = mem;
	size_t fixed = fixed_bytes(enc), tab = with_tables ? align64(table_bytes(enc)) : 0;
	size_t left, rows;

	if (!mem || len < fixed + tab + row_bytes(enc))
		return -1;
	if (len - fixed - tab < sweep + (size_t)max_rows * row_bytes(enc))
		sweep = 0;
	left = len - fixed - tab - sweep;
	rows = with_tables ? left / row_bytes(enc) : 1u;
	if (rows > max_rows)
		rows = max_rows;
	p += (64u - ((uintptr_t)p & 63u)) & 63u;
	for (int i = 0; i < 2; i++) {
		sc->map[i] = p;
		p += align64((size_t)enc->code.nb_frag + 1u);
		/* maps start empty; index M is the reject slot of a power-of-two M (draw r == M),
		 * kept at 1 so that a v2 draw of it never counts */
		memset(sc->map[i], 0, align64((size_t)enc->code.nb_frag + 1u));
		sc->map[i][enc->code.nb_frag] = 1;
	}
	sc->sw = (uint64_t *)(void *)p;
	p += align64(FRAG_ENC_SW_WORDS * sizeof(uint64_t));
	sc->rb = (uint32_t *)(void *)p;
	p += align64((FRAG_ENC_CHUNK + FRAG_ENC_DRAW_STEP) * sizeof(uint32_t));
	sc->sweep = sweep ? p : NULL;
	p += sweep;
	sc->tab = p;
	p += tab;
	sc->acc = p;
	p += rows * enc->stride;
	sc->lines = p;
	sc->rows = (uint32_t)rows;
	return 0;
}

/* ---- row lines ---- */

/* prbs23 exactly as the reference, additions and carries included (PROTOCOL-NOTES §4.4). */
static uint32_t prbs23(uint32_t x)
{
	return (x >> 1) + (((x ^ (x >> 5)) & 1u) << 22);
}

/* s[j] = s[j - 23] ^ s[j - 18] implies s[j] = s[j - 92] ^ s[j - 72] (the recurrence squared
 * twice over GF(2)), which reaches back further than one word: each new word is two funnel shifts
 * of the two words before it. Valid for words k >= 2 (bits >= 128 >= 92). */
static void stream_extend(uint64_t *sw, uint32_t from, uint32_t to)
{
	for (uint32_t k = from; k < to; k++)
		sw[k] = ((sw[k - 2] >> 36) | (sw[k - 1] << 28)) ^
		        ((sw[k - 2] >> 56) | (sw[k - 1] << 8));
}

/* Fills bits 23..127 18 at a time, then the rest of the chunk (see frag_enc_impl.h). */
void frag_enc_stream_start(uint64_t *sw, uint32_t x)
{
	sw[0] = x;
	sw[1] = 0;
	sw[2] = 0;
	for (uint32_t j = 23; j < 128; j += 18) {
		uint64_t v =
		        (frag_enc_stream_bits(sw, j - 23u) ^ frag_enc_stream_bits(sw, j - 18u)) &
		        0x3ffffu;

		sw[j / 64u] |= v << (j % 64u);
		if (j % 64u > 46u)
			sw[j / 64u + 1u] |= v >> (64u - j % 64u);
	}
	stream_extend(sw, 2, FRAG_ENC_SW_WORDS);
}

void frag_enc_stream_next(uint64_t *sw)
{
	sw[0] = sw[FRAG_ENC_CHUNK / 64u];
	sw[1] = sw[FRAG_ENC_CHUNK / 64u + 1u];
	stream_extend(sw, 2, FRAG_ENC_SW_WORDS);
}

static uint32_t round_step(uint32_t v)
{
	return (v + FRAG_ENC_DRAW_STEP - 1u) & ~(FRAG_ENC_DRAW_STEP - 1u);
}

/* Draws from the LFSR state x until the row has `want` coefficients. Returns nothing: the map
 * holds the line. got: coefficients counted so far (the carry phase). */
static void lfsr_phase(const struct frag_enc *enc, const struct enc_scratch *sc, uint8_t *map,
                       uint32_t x, uint32_t got)
{
	const uint32_t m = enc->code.nb_frag, want = enc->want;
	const int v2 = enc->code.version == FRAG_V2, reject = enc->mod != m;
	const uint32_t *rb = sc->rb;
	uint32_t i = 0, gen = 0;

	frag_enc_stream_start(sc->sw, x);
	while (got < want) {
		uint32_t d;

		if (i == gen) {
			uint32_t need = want - got, cnt;

			if (gen == FRAG_ENC_CHUNK) {
				frag_enc_stream_next(sc->sw);
				i = gen = 0;
			}
			/* v1 needs `need` more draws (plus the rare r == M reject of a power-of-two
			 * M); v2 about twice that near the end of a row, where half the fragments
			 * are taken */
			if (v2)
				cnt = need < 32u ? 64u : 2u * need;
			else
				cnt = reject ? need + 16u : need;
			cnt = round_step(cnt);
			if (cnt > FRAG_ENC_CHUNK - gen)
				cnt = FRAG_ENC_CHUNK - gen;
			enc->kern->draws(enc, sc->sw, gen, cnt, sc->rb + gen);
			gen += cnt;
		}
		/* each draw adds at most one coefficient, so the next d draws cannot overshoot */
		d = want - got;
		if (d > gen - i)
			d = gen - i;
		/* unrolled: these loops are half of the encoder's time on small fragments */
		if (v2) {
#pragma GCC unroll 4
			for (uint32_t j = i; j < i + d; j++) {
				uint32_t r = rb[j];

				got += map[r] ^ 1u;
				map[r] = 1;
			}
		} else if (reject) {
#pragma GCC unroll 4
			for (uint32_t j = i; j < i + d; j++) {
				uint32_t r = rb[j];

				got += r < m;
				map[r] = 1;
			}
		} else {
#pragma GCC unroll 8
			for (uint32_t j = i; j < i + d; j++)
				map[rb[j]] = 1;
			got += d;
		}
		i += d;
	}
}

/* Marks the fragments of row n's line in map (byte x = 1 for fragment x). */
static void draw_line(const struct frag_enc *enc, const struct enc_scratch *sc, uint8_t *map,
                      uint32_t n)
{
	const uint32_t m = enc->code.nb_frag, want = enc->want;
	const int v2 = enc->code.version == FRAG_V2;
	uint32_t k = (v2 && enc->code.seed == FRAG_SEED_ABSOLUTE) ? m + n : n;
	uint32_t x = 1u + 1001u * k, got = 0;

	/* carries past bit 22: the exact scalar prbs23 until x drops below 2^23, which then holds
	 */
	while (got < want) {
		uint32_t r;

		x = prbs23(x);
		if (x < PRBS_LFSR_LIMIT) {
			lfsr_phase(enc, sc, map, x, got);
			break;
		}
		r = x % enc->mod;
		if (r >= m)
			continue;
		got += v2 ? map[r] ^ 1u : 1u;
		map[r] = 1;
	}
}

void frag_enc_finish_line(const struct frag_enc *enc, uint8_t *map, uint8_t *line)
{
	const uint32_t m = enc->code.nb_frag;

	enc->kern->pack(map, line, (size_t)enc->line_bytes * 8u);
	map[m] = 1;
	if (m % 8u)
		line[m / 8u] &= (uint8_t)((1u << (m % 8u)) - 1u);
	for (uint32_t b = (m + 7u) / 8u; b < enc->line_bytes; b++)
		line[b] = 0;
}

/* ---- rows ---- */

static int check_rows(const struct frag_enc *enc, uint32_t first, uint32_t count)
{
	uint64_t last_k;

	if (!enc || !enc->kern || first == 0)
		return FUOTA_ERR_INVALID_ARG;
	last_k = (uint64_t)first + (count ? count - 1u : 0u);
	if (enc->code.version == FRAG_V2 && enc->code.seed == FRAG_SEED_ABSOLUTE)
		last_k += enc->code.nb_frag;
	return last_k > FRAG_ENC_MAX_SEED_INDEX ? FUOTA_ERR_INVALID_ARG : FUOTA_OK;
}

/* ---- one line for a decoder ---- */

/* One byte map, the LFSR stream, the draws. */
static size_t line_wide_bytes(const struct frag_enc *enc)
{
	return 64u + align64((size_t)enc->code.nb_frag + 1u) +
	       align64(FRAG_ENC_SW_WORDS * sizeof(uint64_t)) +
	       align64((FRAG_ENC_CHUNK + FRAG_ENC_DRAW_STEP) * sizeof(uint32_t));
}

size_t frag_enc_line_wide_scratch(const struct frag_enc *enc)
{
	return enc ? line_wide_bytes(enc) : 0;
}

int frag_enc_line_wide(const struct frag_enc *enc, uint32_t n, uint64_t *line, size_t words,
                       void *scratch, size_t scratch_len)
{
	if (!enc || !enc->kern || !line || !scratch || n == 0)
		return FUOTA_ERR_INVALID_ARG;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (scratch_len >= line_wide_bytes(enc) && check_rows(enc, n, 1) == FUOTA_OK &&
	    words >= frag_line_words(enc->code.nb_frag)) {
		/* the encoder's byte map: a store per draw, then one pack (words are bytes in
		 * little-endian order) */
		size_t mb = align64((size_t)enc->code.nb_frag + 1u);
		uint8_t *p = (uint8_t *)scratch + ((64u - ((uintptr_t)scratch & 63u)) & 63u);
		struct enc_scratch sc;

		sc.map[0] = sc.map[1] = p;
		memset(p, 0, mb);
		p[enc->code.nb_frag] = 1; /* the reject slot (see carve) */
		sc.sw = (uint64_t *)(void *)(p + mb);
		sc.rb = (uint32_t *)(void *)(p + mb +
		                             align64(FRAG_ENC_SW_WORDS * sizeof(uint64_t)));
		draw_line(enc, &sc, sc.map[0], n);
		frag_enc_finish_line(enc, sc.map[0], (uint8_t *)line);
		return FUOTA_OK;
	}
#endif
	return scratch_len >= FRAG_ENC_LINE_SCRATCH ? frag_enc_line(enc, n, line, words, scratch)
	                                            : FUOTA_ERR_INVALID_ARG;
}

/* One row without tables: XOR of the selected fragments straight into out. */
static void direct_row(const struct frag_enc *enc, const struct enc_scratch *sc, uint32_t n,
                       uint8_t *out)
{
	const uint32_t s = enc->frag_size;

	draw_line(enc, sc, sc->map[0], n);
	frag_enc_finish_line(enc, sc->map[0], sc->lines);
	memset(out, 0, s);
	for (uint32_t b = 0; b < enc->line_bytes; b++) {
		uint32_t bits = sc->lines[b];

		while (bits) {
			uint32_t x = b * 8u + (uint32_t)__builtin_ctz(bits);

			enc->kern->xor_bytes(out, enc->frags + (size_t)x * s, s);
			bits &= bits - 1u;
		}
	}
}

/* rows rows through the tables: lines first, then one block of groups at a time for all rows. */
static void table_pass(const struct frag_enc *enc, const struct enc_scratch *sc, uint32_t first,
                       uint32_t rows, uint8_t *out)
{
	const uint32_t bg = enc->block_groups;
	int rows_ready = 0;

	if (sc->sweep &&
	    frag_enc_sweep_lines(enc, first, rows, sc->lines, sc->sw, sc->rb, sc->sweep) == 0)
		rows_ready = 1;
	/* row i is packed after row i + 1 is drawn into the other map: the pack's wide loads then
	 * do not wait for the draw's byte stores to leave the store buffer */
	for (uint32_t i = 0; !rows_ready && i <= rows; i++) {
		if (i < rows)
			draw_line(enc, sc, sc->map[i % 2u], first + i);
		if (i > 0)
			frag_enc_finish_line(enc, sc->map[(i - 1u) % 2u],
			                     sc->lines + (size_t)(i - 1u) * enc->line_bytes);
	}
	memset(sc->acc, 0, (size_t)rows * enc->stride);
	for (uint32_t g0 = 0; g0 < enc->groups; g0 += bg) {
		uint32_t ng = enc->groups - g0 < bg ? enc->groups - g0 : bg;

		enc->kern->tables(enc, g0, ng, sc->tab);
		enc->kern->accum(enc, sc->tab, g0, ng, sc->lines, rows, sc->acc);
	}
	for (uint32_t i = 0; i < rows; i++)
		memcpy(out + (size_t)i * enc->frag_size, sc->acc + (size_t)i * enc->stride,
		       enc->frag_size);
}

int frag_enc_row(const struct frag_enc *enc, uint32_t n, uint8_t *out, void *scratch,
                 size_t scratch_len)
{
	struct enc_scratch sc;
	int rc = check_rows(enc, n, 1);

	if (rc != FUOTA_OK || !out)
		return rc != FUOTA_OK ? rc : FUOTA_ERR_INVALID_ARG;
	if (carve(enc, scratch, scratch_len, 0, 1, 0, &sc) != 0)
		return scratch ? FUOTA_ERR_NO_SPACE : FUOTA_ERR_INVALID_ARG;
	direct_row(enc, &sc, n, out);
	return FUOTA_OK;
}

int frag_enc_range(const struct frag_enc *enc, uint32_t first, uint32_t count, uint8_t *out,
                   void *scratch, size_t scratch_len)
{
	struct enc_scratch sc;
	int rc = check_rows(enc, first, count);

	if (rc != FUOTA_OK)
		return rc;
	if (count == 0)
		return FUOTA_OK;
	if (!out || !scratch)
		return FUOTA_ERR_INVALID_ARG;
	if (count >= TABLE_MIN_ROWS &&
	    carve(enc, scratch, scratch_len, 1, count,
	          frag_enc_sweep_ok(enc, first, count) ? frag_enc_sweep_mem(enc, count) : 0,
	          &sc) == 0 &&
	    sc.rows >= TABLE_MIN_ROWS) {
		for (uint32_t done = 0; done < count;) {
			uint32_t rows = count - done < sc.rows ? count - done : sc.rows;

			table_pass(enc, &sc, first + done, rows,
			           out + (size_t)done * enc->frag_size);
			done += rows;
		}
		return FUOTA_OK;
	}
	if (carve(enc, scratch, scratch_len, 0, 1, 0, &sc) != 0)
		return FUOTA_ERR_NO_SPACE;
	for (uint32_t i = 0; i < count; i++)
		direct_row(enc, &sc, first + i, out + (size_t)i * enc->frag_size);
	return FUOTA_OK;
}
