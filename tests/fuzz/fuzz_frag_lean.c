/* Fuzzes a TS004 lean decoder session (frag_lean) driven by the input; the input is
 * fuzz_frag_dec.c's (frag_session.h), so the two share seeds, and byte 0 / 3 also picks the row
 * batch: none, 2, 3, 6 or 8, and whether the flash is mapped in place (odd byte 0 / 15).
 * Invariants: the callbacks stay inside the M * S bytes of flash;
 * MALFORMED exactly for N = 0, N > 16383 or a wrong size; consistent counters; FAILED before
 * finish only for lack of memory; DONE after correct frames only leaves the true image in
 * flash. */
#include <stdlib.h>
#include <string.h>

#include "frag_session.h"
#include "fuota/err.h"
#include "fuota/frag_lean.h"
#include "fuzz.h"

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

static const uint8_t *fl_map(void *ctx, uint32_t off, uint32_t len)
{
	struct flash *f = ctx;

	if ((size_t)off + len > f->len)
		abort();
	return f->bytes + off;
}

static void check_stats(const struct frag_lean *d, uint32_t m)
{
	struct frag_dec_stats st;

	frag_lean_get_stats(d, &st);
	frag_fuzz_check_stats(&st, m, frag_lean_state(d) == FRAG_DEC_FAILED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t batches[] = {0, 2, 3, 6, 8};
	struct frag_fuzz f;
	struct frag_fuzz_rec r;
	struct frag_lean dec;
	struct flash fl;
	struct frag_lean_io io = {fl_read, fl_write, &fl, NULL};
	uint32_t batch, rbuf;
	uint8_t *mem;
	size_t mem_len;
	enum frag_dec_state state = FRAG_DEC_ONGOING;

	if (!frag_fuzz_init(&f, data, size))
		return 0;
	batch = batches[(data[0] / 3) % 5];
	if ((data[0] / 15) % 2)
		io.map = fl_map;
	rbuf = (data[0] / 30) % 3 == 1 ? 3u : (data[0] / 30) % 3 == 2 ? FRAG_LEAN_MAX_RBUF : 0u;
	mem_len = frag_lean_mem_size(f.m, f.s, f.l) + frag_lean_batch_mem(f.m, f.s, f.l, batch) +
	          frag_lean_rbuf_mem(f.s, rbuf);
	mem = malloc(mem_len);
	fl.len = (size_t)f.m * f.s;
	fl.bytes = malloc(fl.len);
	if (!mem || !fl.bytes)
		abort();
	memset(fl.bytes, 0xff, fl.len);
	if (frag_lean_init_buffered(&dec, &f.code, f.s, f.padding, &io, batch, rbuf, mem,
	                            mem_len) != FUOTA_OK)
		abort();
	while (frag_fuzz_next(&f, data, size, &r)) {
		int rc = frag_lean_process(&dec, r.n, r.frame, r.len, &state);

		if (r.bad ? rc != FUOTA_ERR_MALFORMED : rc != FUOTA_OK)
			abort();
		check_stats(&dec, f.m);
	}
	if (state == FRAG_DEC_DONE && !f.corrupt &&
	    memcmp(fl.bytes, f.image, fl.len - f.padding) != 0)
		abort();
	if (frag_lean_finish(&dec) == FRAG_DEC_ONGOING)
		abort();
	free(mem);
	free(fl.bytes);
	frag_fuzz_free(&f);
	return 0;
}
