/* TS006 decoder harness. Byte 0 picks the direction (bit 0: uplink); the rest is one FRMPayload.
 * Every decoded command must re-encode to the same length and decode back to itself. */
#include "codec_walk.h"
#include "fuota/err.h"
#include "fuota/fmp.h"
#include "fuzz.h"

static int decode(const uint8_t *buf, size_t len, size_t *pos, bool up, int version, void *cmd,
                  struct fuota_parse_err *err)
{
	(void)version; /* TS006 has version 1 only */
	return fmp_decode(buf, len, pos, up, cmd, err);
}

static int encode(const void *cmd, uint8_t *buf, size_t cap, size_t *pos)
{
	return fmp_encode(cmd, buf, cap, pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec codec = {sizeof(struct fmp_cmd), decode, encode, NULL, NULL};
	struct fmp_cmd c, again;

	if (size < 1)
		return 0;
	fuzz_walk(&codec, data + 1, size - 1, data[0] & 1, 1, &c, &again);
	return 0;
}
