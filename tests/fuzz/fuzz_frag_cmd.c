/* Fuzzes the TS004 command decoders and the FRMPayload walker.
 *
 * Input: byte 0 selects the mode (bit 0: v1/v2, bit 1: down/up, bit 2: one command / walk the
 * whole payload), byte 1 is the session FragSize (0 = unknown), the rest is the payload. Every
 * command that decodes is re-encoded, and the encoding must decode to the same command. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/frag_cmd.h"
#include "fuzz.h"

static void check_round_trip(const struct frag_cmd *cmd, enum frag_version v, uint32_t frag_size)
{
	uint8_t out[FRAG_CMD_MAX_LEN];
	struct frag_cmd again;
	size_t len = 0, used = 0;

	/* Whatever decodes is in range, so our encoder must accept it. */
	if (frag_cmd_encode(cmd, v, out, sizeof(out), &len) != FUOTA_OK)
		abort();
	if (frag_cmd_decode(out, len, v, frag_cmd_dir(cmd->type), frag_size, &again, &used, NULL) !=
	            FUOTA_OK ||
	    used != len || !frag_cmd_equal(cmd, &again))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum frag_version v;
	enum frag_dir dir;
	uint32_t frag_size;
	struct frag_cmd cmd;
	struct fuota_parse_err err;
	char msg[160];

	if (size < 2)
		return 0;
	v = (data[0] & 1) ? FRAG_V2 : FRAG_V1;
	dir = (data[0] & 2) ? FRAG_UP : FRAG_DOWN;
	frag_size = data[1];
	data += 2;
	size -= 2;

	if (!(data[-2] & 4)) {
		size_t used = 0;
		int rc = frag_cmd_decode(data, size, v, dir, frag_size, &cmd, &used, &err);

		if (rc == FUOTA_OK) {
			if (used == 0 || used > size)
				abort();
			check_round_trip(&cmd, v, frag_size);
		} else {
			if (rc != FUOTA_ERR_MALFORMED)
				abort();
			fuota_parse_err_format(&err, msg, sizeof(msg));
		}
		return 0;
	}

	struct frag_cmd_iter it;
	unsigned n = 0;

	frag_cmd_iter_init(&it, data, size, v, dir, frag_size);
	while (frag_cmd_iter_more(&it)) {
		size_t before = it.pos;

		if (frag_cmd_iter_next(&it, &cmd) != FUOTA_OK) {
			fuota_parse_err_format(&it.err, msg, sizeof(msg));
			break;
		}
		/* Progress is made, and a v2 DataFragment ends the walk. */
		if (it.pos <= before && !it.stopped)
			abort();
		if (v == FRAG_V2 && cmd.type == FRAG_CMD_DATA_FRAGMENT &&
		    (n != 0 || frag_cmd_iter_more(&it)))
			abort();
		check_round_trip(&cmd, v, frag_size);
		n++;
	}
	return 0;
}
