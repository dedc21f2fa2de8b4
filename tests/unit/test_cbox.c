/* The secret box (fuota/cbox.h): AES-256-GCM boxes, API tokens and their hashes, hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/cbox.h"
#include "fuota/err.h"

static void test_cbox(void **state)
{
	uint8_t key[32], plain[16], box[16 + CBOX_OVERHEAD], box2[sizeof(box)], out[16];
	char tok[CBOX_TOKEN_LEN + 1], tok2[CBOX_TOKEN_LEN + 1];
	uint8_t h1[32], h2[32];

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++)
		plain[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(cbox_seal(key, plain, 16, (const uint8_t *)"ad", 2, box, sizeof(box)),
	                 FUOTA_OK);
	assert_int_equal(cbox_seal(key, plain, 16, (const uint8_t *)"ad", 2, box2, sizeof(box2)),
	                 FUOTA_OK);
	/* A fresh nonce each time; never the plaintext in clear. */
	assert_memory_not_equal(box, box2, sizeof(box));
	assert_memory_not_equal(box + CBOX_NONCE_LEN, plain, 16);
	assert_int_equal(cbox_open(key, box, sizeof(box), (const uint8_t *)"ad", 2, out, 16),
	                 FUOTA_OK);
	assert_memory_equal(out, plain, 16);
	/* Wrong associated data (another device), a flipped bit, a wrong key, a short box. */
	assert_int_equal(cbox_open(key, box, sizeof(box), (const uint8_t *)"ae", 2, out, 16),
	                 FUOTA_ERR_CRYPTO);
	box[20] ^= 1;
	assert_int_equal(cbox_open(key, box, sizeof(box), (const uint8_t *)"ad", 2, out, 16),
	                 FUOTA_ERR_CRYPTO);
	box[20] ^= 1;
	key[0] ^= 1;
	assert_int_equal(cbox_open(key, box, sizeof(box), (const uint8_t *)"ad", 2, out, 16),
	                 FUOTA_ERR_CRYPTO);
	assert_int_equal(cbox_open(key, box, 10, NULL, 0, out, 16), FUOTA_ERR_MALFORMED);
	assert_int_equal(cbox_seal(key, plain, 16, NULL, 0, box, 20), FUOTA_ERR_NO_SPACE);

	assert_int_equal(cbox_token_new(tok), FUOTA_OK);
	assert_int_equal(cbox_token_new(tok2), FUOTA_OK);
	assert_int_equal(strlen(tok), CBOX_TOKEN_LEN);
	assert_memory_equal(tok, "fuota_", 6);
	assert_string_not_equal(tok, tok2);
	assert_int_equal(cbox_token_hash(tok, strlen(tok), h1), FUOTA_OK);
	assert_int_equal(cbox_token_hash(tok2, strlen(tok2), h2), FUOTA_OK);
	assert_false(cbox_equal(h1, h2, 32));
	assert_true(cbox_equal(h1, h1, 32));
	/* SHA-256("abc") */
	assert_int_equal(cbox_token_hash("abc", 3, h1), FUOTA_OK);
	assert_int_equal(h1[0], 0xba);
	assert_int_equal(h1[31], 0xad);
	assert_int_equal(cbox_hex_decode("0g", 2, h1, 1), FUOTA_ERR_MALFORMED);
	assert_int_equal(cbox_hex_decode("0A", 2, h1, 1), FUOTA_OK);
	assert_int_equal(h1[0], 0x0a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cbox),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
