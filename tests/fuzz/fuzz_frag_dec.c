/* Fuzzes a TS004 decoder session driven by the input (frag_session.h, shared with
 * fuzz_frag_lean.c). Invariants: MALFORMED exactly for N = 0, N > 16383 or a wrong size;
 * consistent counters; FAILED before finish only for lack of memory; and when the decoder says
 * DONE after correct frames only, its image is the true image. */
#include <stdlib.h>
#include <string.h>

#include "frag_session.h"
#include "fuota/err.h"
#include "fuota/frag_dec.h"
#include "fuzz.h"

static void check_stats(const struct frag_dec *d, uint32_t m)
{
	struct frag_dec_stats st;

	frag_dec_get_stats(d, &st);
	frag_fuzz_check_stats(&st, m, frag_dec_state(d) == FRAG_DEC_FAILED);
	if (st.coded_received - (st.coded_useful + st.coded_redundant) > 1)
		abort();
	if (frag_dec_state(d) == FRAG_DEC_ONGOING && st.rank >= st.missing)
		abort(); /* rank == missing must have completed the session */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frag_fuzz f;
	struct frag_fuzz_rec r;
	struct frag_dec dec;
	uint8_t *mem;
	size_t mem_len;
	enum frag_dec_state state = FRAG_DEC_ONGOING;

	if (!frag_fuzz_init(&f, data, size))
		return 0;
	mem_len = frag_dec_mem_size(f.m, f.s, f.l);
	mem = malloc(mem_len);
	if (!mem)
		abort();
	if (frag_dec_init(&dec, &f.code, f.s, f.padding, mem, mem_len) != FUOTA_OK)
		abort();
	while (frag_fuzz_next(&f, data, size, &r)) {
		int rc = frag_dec_process(&dec, r.n, r.frame, r.len, &state);

		if (r.bad ? rc != FUOTA_ERR_MALFORMED : rc != FUOTA_OK)
			abort();
		check_stats(&dec, f.m);
	}
	if (state == FRAG_DEC_DONE && !f.corrupt) {
		const uint8_t *img;
		size_t len;

		if (frag_dec_image(&dec, &img, &len) != FUOTA_OK ||
		    len != (size_t)f.m * f.s - f.padding || memcmp(img, f.image, len) != 0)
			abort();
	}
	if (frag_dec_finish(&dec) == FRAG_DEC_ONGOING)
		abort();
	free(mem);
	frag_fuzz_free(&f);
	return 0;
}
