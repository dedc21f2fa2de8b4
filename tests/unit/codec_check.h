/* What the TS003, TS005 and TS006 codec tests (test_clk.c, test_mc.c, test_fmp.c) check the same
 * way. Include after <cmocka.h>. */
#ifndef FUOTA_CODEC_CHECK_H
#define FUOTA_CODEC_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/reader.h"

/* One field of a command after its CID, in wire order. */
struct field {
	const char *name;
	size_t size;
};

/* A command whose fields after its 1-byte CID are fields[], cut to k bytes (CID included,
 * 1 <= k < its length), must be reported as: its name, the field the cut falls in, that field's
 * size and the bytes of it that were there. */
static inline void assert_cut_reported(const struct fuota_parse_err *err, const char *command,
                                       const struct field *fields, size_t k)
{
	size_t start = 1, f = 0;

	while (start + fields[f].size <= k)
		start += fields[f++].size;
	assert_string_equal(err->command, command);
	assert_string_equal(err->field, fields[f].name);
	assert_int_equal(err->need, fields[f].size);
	assert_int_equal(err->left, k - start);
}

/* xorshift32 (Marsaglia): reproducible test data from a non-zero seed in *s. */
static inline uint32_t xorshift32(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#endif
