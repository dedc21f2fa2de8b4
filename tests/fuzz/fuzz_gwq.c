/* The store-and-forward queue's segment files, as bytes from disk: gwq_rec_decode walks the input
 * record by record as the scan on open does; every record it accepts must encode back to the same
 * bytes, and it never reads past the input. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/gwq.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, rec_len = 0;
	uint64_t seq;
	uint8_t kind;
	const uint8_t *payload;
	uint32_t len;
	uint8_t *back;

	while (gwq_rec_decode(data + off, size - off, &seq, &kind, &payload, &len, &rec_len) ==
	       FUOTA_OK) {
		if (rec_len != GWQ_REC_HDR + (size_t)len || rec_len > size - off ||
		    payload != data + off + GWQ_REC_HDR)
			abort();
		back = malloc(rec_len);
		if (!back)
			return 0;
		gwq_rec_encode(seq, kind, payload, len, back);
		if (memcmp(back, data + off, rec_len))
			abort();
		free(back);
		off += rec_len;
	}
	return 0;
}
