/* The walk the TS003, TS005 and TS006 harnesses share: one FRMPayload decoded command by command
 * with the codec's `xxx_decode(buf, len, &pos, ...)`. Whatever fails must leave pos alone, be
 * MALFORMED or UNSUPPORTED, and a MALFORMED error must name the command and a field that is
 * really short; whatever decodes must advance pos, re-encode to exactly the bytes it took, and
 * decode back to the same struct. Header-only so that each harness stays one source file. */
#ifndef FUOTA_CODEC_WALK_H
#define FUOTA_CODEC_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/reader.h"

static inline void fuzz_check(int ok)
{
	if (!ok)
		abort();
}

/* One codec seen through void pointers; each harness adapts its typed functions. */
struct fuzz_codec {
	size_t cmd_size; /* sizeof the codec's command struct */
	/* version: the package version, for codecs that need it. */
	int (*decode)(const uint8_t *buf, size_t len, size_t *pos, bool up, int version, void *cmd,
	              struct fuota_parse_err *err);
	int (*encode)(const void *cmd, uint8_t *buf, size_t cap, size_t *pos);
	/* May be NULL. True when the encoder may refuse this decoded command with rc (a decoder
	 * can be more lenient than the encoder). */
	bool (*may_refuse)(const void *cmd, int rc);
	/* May be NULL. More checks on each decoded command. */
	void (*exercise)(const void *cmd);
};

/* Walks data[0..size); cmd and again are two of the codec's command structs. */
static inline void fuzz_walk(const struct fuzz_codec *c, const uint8_t *data, size_t size, bool up,
                             int version, void *cmd, void *again)
{
	size_t pos = 0;

	while (pos < size) {
		struct fuota_parse_err err;
		uint8_t buf[64];
		size_t before = pos, n = 0, rpos = 0;
		int rc = c->decode(data, size, &pos, up, version, cmd, &err);

		if (rc != FUOTA_OK) {
			fuzz_check(pos == before);
			fuzz_check(rc == FUOTA_ERR_MALFORMED || rc == FUOTA_ERR_UNSUPPORTED);
			fuzz_check(rc != FUOTA_ERR_MALFORMED ||
			           (err.command && err.field && err.left < err.need));
			return;
		}
		fuzz_check(pos > before && pos <= size);
		rc = c->encode(cmd, buf, sizeof(buf), &n);
		if (rc != FUOTA_OK && c->may_refuse && c->may_refuse(cmd, rc))
			continue;
		fuzz_check(rc == FUOTA_OK);
		fuzz_check(n == pos - before);
		fuzz_check(c->decode(buf, n, &rpos, up, version, again, NULL) == FUOTA_OK);
		fuzz_check(rpos == n && memcmp(cmd, again, c->cmd_size) == 0);
		if (c->exercise)
			c->exercise(cmd);
	}
}

#endif
