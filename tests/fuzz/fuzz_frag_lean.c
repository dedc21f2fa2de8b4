/* Fuzzes a TS004 lean decoder session (frag_lean) driven by the input; the input format is
 * fuzz_frag_dec.c's, so the two share seeds.
 *
 * Header (6 bytes): code (v1 / v2 relative / v2 absolute; byte / 3 picks the row batch: none, 2,
 * 3, 6 or 8), M (2 bytes, 1..200), FragSize (1..32),
 * lost fragments the memory holds L (0..M), padding. The true image is derived from the header.
 * Then records of 3 bytes: N (2 bytes LE) and a flag byte: bit 2 folds N into 1..3M+2, bit 0
 * takes the payload from the input (a corrupt frame), bit 1 sends a payload of the wrong size.
 * Invariants: the callbacks stay inside the M * S bytes of flash; MALFORMED exactly for N = 0,
 * N > 16383 or a wrong size; consistent counters; FAILED before finish only for lack of memory;
 * DONE after correct frames only leaves the true image in flash. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/frag_lean.h"
#include "fuota/frag_row.h"
#include "fuzz.h"

#define MAX_M 200u
#define MAX_S 32u

struct flash {
	uint8_t *bytes;
	size_t len;
};

static int fl_read(void *ctx, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct flash *f = ctx;

	if ((size_t)off + len > f->len)
		abort();
	memcpy(buf, f->bytes + off, len);
	return 0;
}

static int fl_write(void *ctx, uint32_t off, const uint8_t *buf, uint32_t len)
{
	struct flash *f = ctx;

	if ((size_t)off + len > f->len)
		abort();
	memcpy(f->bytes + off, buf, len);
	return 0;
}

static void true_frame(const struct frag_code *code, const uint8_t *image, uint32_t s, uint32_t n,
                       uint8_t *out)
{
	uint64_t line[(MAX_M + 63) / 64];
	uint32_t m = code->nb_frag;

	if (n <= m) {
		memcpy(out, image + (size_t)(n - 1) * s, s);
		return;
	}
	if (frag_row_line(code, n - m, line, sizeof(line) / sizeof(line[0]), NULL) != FUOTA_OK)
		abort();
	memset(out, 0, s);
	for (uint32_t x = 0; x < m; x++)
		if ((line[x / 64] >> (x % 64)) & 1)
			for (uint32_t b = 0; b < s; b++)
				out[b] ^= image[(size_t)x * s + b];
}

static void check_stats(const struct frag_lean *d, uint32_t m)
{
	struct frag_dec_stats st;

	frag_lean_get_stats(d, &st);
	if (st.received != st.uncoded_received + st.coded_received || st.missing > m ||
	    st.rank > st.max_lost || st.uncoded_received > m ||
	    st.coded_useful + st.coded_redundant > st.coded_received)
		abort();
	if (frag_lean_state(d) == FRAG_DEC_FAILED && !st.not_enough_memory)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		enum frag_version v;
		enum frag_seed seed;
	} codes[] = {{FRAG_V1, FRAG_SEED_RELATIVE},
	             {FRAG_V2, FRAG_SEED_RELATIVE},
	             {FRAG_V2, FRAG_SEED_ABSOLUTE}};
	struct frag_code code;
	struct frag_lean dec;
	struct flash fl;
	struct frag_lean_io io = {fl_read, fl_write, &fl};
	static const uint32_t batches[] = {0, 2, 3, 6, 8};
	uint32_t m, s, l, padding, batch;
	uint8_t *image, *mem, frame[MAX_S + 1];
	size_t mem_len, pos = 6;
	uint64_t x;
	int corrupt = 0;
	enum frag_dec_state state = FRAG_DEC_ONGOING;

	if (size < 6)
		return 0;
	code.version = codes[data[0] % 3].v;
	code.seed = codes[data[0] % 3].seed;
	m = 1 + (uint32_t)((data[1] | data[2] << 8) % MAX_M);
	code.nb_frag = m;
	s = 1 + data[3] % MAX_S;
	l = data[4] % (m + 1);
	padding = data[5] % s;
	batch = batches[(data[0] / 3) % 5];
	mem_len = frag_lean_mem_size(m, s, l) + frag_lean_batch_mem(m, s, l, batch);
	mem = malloc(mem_len);
	image = malloc((size_t)m * s);
	fl.len = (size_t)m * s;
	fl.bytes = malloc(fl.len);
	if (!mem || !image || !fl.bytes)
		abort();
	memset(fl.bytes, 0xff, fl.len);
	x = 0x243f6a8885a308d3ull ^ data[0] ^ (uint64_t)data[3] << 8;
	for (size_t i = 0; i < (size_t)m * s; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		image[i] = (uint8_t)x;
	}
	if (frag_lean_init_batch(&dec, &code, s, padding, &io, batch, mem, mem_len) != FUOTA_OK)
		abort();

	while (pos + 3 <= size) {
		uint32_t n = (uint32_t)(data[pos] | data[pos + 1] << 8);
		uint8_t flags = data[pos + 2];
		size_t len = s;
		int rc, bad;

		pos += 3;
		if (flags & 4)
			n = n % (3 * m + 3);
		if (flags & 2)
			len = (flags & 8) ? s + 1 : s - 1;
		if (flags & 1) {
			if (pos + s > size)
				break;
			memcpy(frame, data + pos, s);
			pos += s;
		} else if (n >= 1 && n <= FRAG_MAX_N && n <= m + 2 * m + 64) {
			true_frame(&code, image, s, n, frame);
		} else {
			memset(frame, 0xa5, sizeof(frame));
		}
		bad = n == 0 || n > FRAG_MAX_N || len != s;
		rc = frag_lean_process(&dec, n, frame, len, &state);
		if (bad ? rc != FUOTA_ERR_MALFORMED : rc != FUOTA_OK)
			abort();
		if (!bad && (flags & 1))
			corrupt = 1;
		if (!bad && !(flags & 1) && n > m + 2 * m + 64)
			corrupt = 1;
		check_stats(&dec, m);
	}
	if (state == FRAG_DEC_DONE && !corrupt && memcmp(fl.bytes, image, fl.len - padding) != 0)
		abort();
	if (frag_lean_finish(&dec) == FRAG_DEC_ONGOING)
		abort();
	free(mem);
	free(image);
	free(fl.bytes);
	return 0;
}
