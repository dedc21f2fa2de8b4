/* TS006 decoder harness. Byte 0 picks the direction (bit 0: uplink); the rest is one FRMPayload.
 * Every decoded command must re-encode to the same length and decode back to itself. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/fmp.h"
#include "fuzz.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool up;
	size_t pos = 0;

	if (size < 1)
		return 0;
	up = data[0] & 1;
	data++;
	size--;
	while (pos < size) {
		struct fmp_cmd c, again;
		struct fuota_parse_err err;
		uint8_t buf[16];
		size_t before = pos, n = 0, rpos = 0;
		int rc = fmp_decode(data, size, &pos, up, &c, &err);

		if (rc != FUOTA_OK) {
			check(pos == before);
			check(rc == FUOTA_ERR_MALFORMED || rc == FUOTA_ERR_UNSUPPORTED);
			check(rc != FUOTA_ERR_MALFORMED ||
			      (err.command && err.field && err.left < err.need));
			break;
		}
		check(pos > before && pos <= size);
		check(fmp_encode(&c, buf, sizeof(buf), &n) == FUOTA_OK);
		check(n == pos - before);
		check(fmp_decode(buf, n, &rpos, up, &again, NULL) == FUOTA_OK);
		check(rpos == n && memcmp(&c, &again, sizeof(c)) == 0);
	}
	return 0;
}
