/* AES-256-GCM boxes, tokens and hex, through libcrypto. */
#include "fuota/cbox.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "fuota/bytes.h"
#include "fuota/err.h"

int cbox_seal(const uint8_t key[CBOX_KEY_LEN], const uint8_t *plain, size_t len, const uint8_t *aad,
              size_t aad_len, uint8_t *out, size_t out_cap)
{
	EVP_CIPHER_CTX *ctx;
	int n, rc = FUOTA_ERR_CRYPTO;

	if (out_cap < len + CBOX_OVERHEAD)
		return FUOTA_ERR_NO_SPACE;
	if (len > 1u << 20 || aad_len > 1u << 20)
		return FUOTA_ERR_INVALID_ARG;
	if (RAND_bytes(out, (int)CBOX_NONCE_LEN) != 1)
		return FUOTA_ERR_CRYPTO;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return FUOTA_ERR_CRYPTO;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out) != 1)
		goto out;
	if (aad_len && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (len && EVP_EncryptUpdate(ctx, out + CBOX_NONCE_LEN, &n, plain, (int)len) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, out + CBOX_NONCE_LEN + len, &n) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)CBOX_TAG_LEN,
	                        out + CBOX_NONCE_LEN + len) != 1)
		goto out;
	rc = FUOTA_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int cbox_open(const uint8_t key[CBOX_KEY_LEN], const uint8_t *box, size_t box_len,
              const uint8_t *aad, size_t aad_len, uint8_t *plain, size_t plain_cap)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t tag[CBOX_TAG_LEN];
	size_t len;
	int n, rc = FUOTA_ERR_CRYPTO;

	if (box_len < CBOX_OVERHEAD)
		return FUOTA_ERR_MALFORMED;
	len = box_len - CBOX_OVERHEAD;
	if (plain_cap < len)
		return FUOTA_ERR_NO_SPACE;
	if (len > 1u << 20 || aad_len > 1u << 20)
		return FUOTA_ERR_INVALID_ARG;
	memcpy(tag, box + CBOX_NONCE_LEN + len, CBOX_TAG_LEN);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return FUOTA_ERR_CRYPTO;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, box) != 1)
		goto out;
	if (aad_len && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (len && EVP_DecryptUpdate(ctx, plain, &n, box + CBOX_NONCE_LEN, (int)len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)CBOX_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, plain + len, &n) != 1) {
		OPENSSL_cleanse(plain, len); /* never hand out unauthenticated plaintext */
		goto out;
	}
	rc = FUOTA_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

void cbox_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = 0;
}

int cbox_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t n)
{
	if (hex_len != 2 * n)
		return FUOTA_ERR_MALFORMED;
	for (size_t i = 0; i < n; i++) {
		int hi = fuota_hex_digit(hex[2 * i]), lo = fuota_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return FUOTA_ERR_MALFORMED;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return FUOTA_OK;
}

int cbox_token_new(char out[CBOX_TOKEN_LEN + 1])
{
	uint8_t raw[32];
	size_t plen = strlen(CBOX_TOKEN_PREFIX);

	if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
		return FUOTA_ERR_CRYPTO;
	memcpy(out, CBOX_TOKEN_PREFIX, plen);
	cbox_hex_encode(raw, sizeof(raw), out + plen);
	OPENSSL_cleanse(raw, sizeof(raw));
	return FUOTA_OK;
}

int cbox_token_hash(const char *token, size_t len, uint8_t out[CBOX_HASH_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(token, len, out, &n, EVP_sha256(), NULL) != 1 || n != CBOX_HASH_LEN)
		return FUOTA_ERR_CRYPTO;
	return FUOTA_OK;
}

int cbox_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
