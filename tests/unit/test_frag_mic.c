/* TS004 v2 data-block MIC. No public test vector exists for this MIC (PROTOCOL-NOTES §4.6: no
 * repository has one), so the checks are cross-checks: B0 built by hand here and a one-shot
 * lw_aes_cmac over a copied buffer, the key derived by hand with lw_aes128_encrypt, and one
 * known answer computed outside this code base with the OpenSSL command line:
 *
 *   printf '\x30' + 15 zero bytes | openssl enc -aes-128-ecb -K 000102...0f -nopad
 *     -> 017a8bd9ecd102ba4bb7946d3d8707e0 (DataBlockIntKey)
 *   openssl mac -cipher AES-128-CBC -macopt hexkey:017a8b... -in B0|data CMAC
 *     with B0 = 49 8000 03 01020304 00000000 64000000 and data = bytes 0..99
 *     -> 0EF8BA066C6CD9DDFA6CED9B4DCE5889, MIC = 0e f8 ba 06 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/frag_mic.h"
#include "fuota/lw_crypto.h"

static const uint8_t root[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

static void test_key_derivation(void **state)
{
	const uint8_t want[16] = {0x01, 0x7a, 0x8b, 0xd9, 0xec, 0xd1, 0x02, 0xba,
	                          0x4b, 0xb7, 0x94, 0x6d, 0x3d, 0x87, 0x07, 0xe0};
	uint8_t block[16] = {0}, by_hand[16], key[16];

	(void)state;
	block[0] = 0x30;
	assert_int_equal(lw_aes128_encrypt(root, block, by_hand), FUOTA_OK);
	assert_int_equal(frag_mic_key(root, key), FUOTA_OK);
	assert_memory_equal(key, by_hand, 16);
	assert_memory_equal(key, want, 16);
	assert_int_equal(frag_mic_key(NULL, key), FUOTA_ERR_INVALID_ARG);
}

/* MIC the slow, obvious way: B0 written out byte by byte, data copied behind it, one CMAC. */
static void mic_by_hand(const uint8_t key[16], uint16_t cnt, uint8_t idx, const uint8_t desc[4],
                        const uint8_t *data, size_t len, uint8_t mic[4])
{
	uint8_t *buf = malloc(16 + len), tag[16];

	assert_non_null(buf);
	buf[0] = 0x49;
	buf[1] = (uint8_t)(cnt & 0xff);
	buf[2] = (uint8_t)(cnt >> 8);
	buf[3] = idx;
	buf[4] = desc[0];
	buf[5] = desc[1];
	buf[6] = desc[2];
	buf[7] = desc[3];
	buf[8] = buf[9] = buf[10] = buf[11] = 0;
	buf[12] = (uint8_t)(len & 0xff);
	buf[13] = (uint8_t)((len >> 8) & 0xff);
	buf[14] = (uint8_t)((len >> 16) & 0xff);
	buf[15] = (uint8_t)((len >> 24) & 0xff);
	if (len)
		memcpy(buf + 16, data, len);
	assert_int_equal(lw_aes_cmac(key, buf, 16 + len, tag), FUOTA_OK);
	memcpy(mic, tag, 4);
	free(buf);
}

static void test_known_answer(void **state)
{
	const uint8_t want[4] = {0x0e, 0xf8, 0xba, 0x06};
	struct frag_mic_params p = {
	        .session_cnt = 128, .frag_index = 3, .descriptor = {1, 2, 3, 4}};
	uint8_t data[100], key[16], mic[4], b0[16];
	const uint8_t b0_want[16] = {0x49, 0x80, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04,
	                             0x00, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00};

	(void)state;
	for (int i = 0; i < 100; i++)
		data[i] = (uint8_t)i;
	assert_int_equal(frag_mic_key(root, key), FUOTA_OK);
	assert_int_equal(frag_mic_b0(&p, 100, b0), FUOTA_OK);
	assert_memory_equal(b0, b0_want, 16);
	assert_int_equal(frag_mic_compute(key, &p, data, 100, mic), FUOTA_OK);
	assert_memory_equal(mic, want, 4);
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 16);
}

/* Random parameters and lengths (across the 16-byte block boundaries), one-shot and streamed in
 * random pieces, against the by-hand MIC. */
static void test_cross_check(void **state)
{
	static const size_t lens[] = {0, 1, 15, 16, 17, 31, 32, 33, 255, 1000, 4099};
	uint64_t s = 77;
	uint8_t *data = malloc(4099);

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < 4099; i++)
		data[i] = (uint8_t)rnd(&s);
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		for (int rep = 0; rep < 4; rep++) {
			struct frag_mic_params p;
			struct frag_mic_ctx c;
			uint8_t key[16], a[4], b[4], h[4];
			size_t len = lens[k], done = 0;

			for (int i = 0; i < 16; i++)
				key[i] = (uint8_t)rnd(&s);
			p.session_cnt = (uint16_t)rnd(&s);
			p.frag_index = (uint8_t)(rnd(&s) & 3);
			for (int i = 0; i < 4; i++)
				p.descriptor[i] = (uint8_t)rnd(&s);
			mic_by_hand(key, p.session_cnt, p.frag_index, p.descriptor, data, len, h);
			assert_int_equal(frag_mic_compute(key, &p, data, len, a), FUOTA_OK);
			assert_memory_equal(a, h, 4);
			assert_int_equal(frag_mic_begin(&c, key, &p, len), FUOTA_OK);
			while (done < len) {
				size_t piece = 1 + rnd(&s) % 40;

				if (piece > len - done)
					piece = len - done;
				assert_int_equal(frag_mic_update(&c, data + done, piece), FUOTA_OK);
				done += piece;
			}
			assert_int_equal(frag_mic_end(&c, b), FUOTA_OK);
			assert_memory_equal(b, h, 4);
		}
	}
	free(data);
}

/* The MIC covers the unpadded image: DataLen and the padding bytes both change it; so does each
 * B0 parameter. */
static void test_length_and_padding(void **state)
{
	struct frag_mic_params p = {.session_cnt = 1, .frag_index = 0, .descriptor = {9, 9, 9, 9}};
	struct frag_mic_params q;
	uint8_t image[60], key[16], unpadded[4], padded[4], other[4];

	(void)state;
	memset(image, 0x5a, sizeof(image));
	memset(image + 57, 0, 3); /* 3 bytes of padding */
	assert_int_equal(frag_mic_key(root, key), FUOTA_OK);
	assert_int_equal(frag_mic_compute(key, &p, image, 57, unpadded), FUOTA_OK);
	assert_int_equal(frag_mic_compute(key, &p, image, 60, padded), FUOTA_OK);
	assert_memory_not_equal(unpadded, padded, 4);

	q = p;
	q.session_cnt = 2;
	assert_int_equal(frag_mic_compute(key, &q, image, 57, other), FUOTA_OK);
	assert_memory_not_equal(unpadded, other, 4);
	q = p;
	q.frag_index = 1;
	assert_int_equal(frag_mic_compute(key, &q, image, 57, other), FUOTA_OK);
	assert_memory_not_equal(unpadded, other, 4);
	q = p;
	q.descriptor[3] = 8;
	assert_int_equal(frag_mic_compute(key, &q, image, 57, other), FUOTA_OK);
	assert_memory_not_equal(unpadded, other, 4);
	image[0] ^= 1;
	assert_int_equal(frag_mic_compute(key, &p, image, 57, other), FUOTA_OK);
	assert_memory_not_equal(unpadded, other, 4);
}

static void test_errors(void **state)
{
	struct frag_mic_params p = {.frag_index = 4};
	struct frag_mic_ctx c;
	uint8_t key[16] = {0}, mic[4], data[8] = {0}, b0[16];

	(void)state;
	assert_int_equal(frag_mic_b0(&p, 8, b0), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_mic_compute(key, &p, data, 8, mic), FUOTA_ERR_INVALID_ARG);
	p.frag_index = 0;
	assert_int_equal(frag_mic_compute(key, &p, NULL, 8, mic), FUOTA_ERR_INVALID_ARG);
	/* More than announced, then fewer than announced. */
	assert_int_equal(frag_mic_begin(&c, key, &p, 4), FUOTA_OK);
	assert_int_equal(frag_mic_update(&c, data, 5), FUOTA_ERR_STATE);
	assert_int_equal(frag_mic_update(&c, data, 3), FUOTA_OK);
	assert_int_equal(frag_mic_end(&c, mic), FUOTA_ERR_STATE);
	assert_int_equal(frag_mic_begin(&c, key, &p, 4), FUOTA_OK);
	frag_mic_abort(&c);
	frag_mic_abort(&c); /* twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_key_derivation), cmocka_unit_test(test_known_answer),
	        cmocka_unit_test(test_cross_check),    cmocka_unit_test(test_length_and_padding),
	        cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
