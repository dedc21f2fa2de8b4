#include "fuota/lw_crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "fuota/err.h"

static int aes_block(const uint8_t *key, const uint8_t *in, uint8_t *out, int encrypt)
{
	int rc = FUOTA_ERR_CRYPTO;
	int n = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!ctx)
		return FUOTA_ERR_CRYPTO;
	if (EVP_CipherInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL, encrypt) != 1)
		goto out;
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	if (EVP_CipherUpdate(ctx, out, &n, in, LW_BLOCK_LEN) != 1 || n != LW_BLOCK_LEN)
		goto out;
	rc = FUOTA_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int lw_aes128_encrypt(const uint8_t key[LW_KEY_LEN], const uint8_t in[LW_BLOCK_LEN],
                      uint8_t out[LW_BLOCK_LEN])
{
	return aes_block(key, in, out, 1);
}

int lw_aes128_decrypt(const uint8_t key[LW_KEY_LEN], const uint8_t in[LW_BLOCK_LEN],
                      uint8_t out[LW_BLOCK_LEN])
{
	return aes_block(key, in, out, 0);
}

int lw_cmac_init(struct lw_cmac *c, const uint8_t key[LW_KEY_LEN])
{
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	char cipher[] = "AES-128-CBC";
	OSSL_PARAM params[2];

	c->mac_ctx = NULL;
	mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (!mac)
		return FUOTA_ERR_CRYPTO;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context keeps its own reference */
	if (!ctx)
		return FUOTA_ERR_CRYPTO;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, LW_KEY_LEN, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return FUOTA_ERR_CRYPTO;
	}
	c->mac_ctx = ctx;
	return FUOTA_OK;
}

int lw_cmac_update(struct lw_cmac *c, const uint8_t *data, size_t len)
{
	if (!c->mac_ctx)
		return FUOTA_ERR_CRYPTO;
	if (len == 0)
		return FUOTA_OK;
	return EVP_MAC_update(c->mac_ctx, data, len) == 1 ? FUOTA_OK : FUOTA_ERR_CRYPTO;
}

int lw_cmac_final(struct lw_cmac *c, uint8_t tag[LW_BLOCK_LEN])
{
	size_t n = 0;
	int rc = FUOTA_ERR_CRYPTO;

	if (c->mac_ctx && EVP_MAC_final(c->mac_ctx, tag, &n, LW_BLOCK_LEN) == 1 &&
	    n == LW_BLOCK_LEN)
		rc = FUOTA_OK;
	lw_cmac_abort(c);
	return rc;
}

void lw_cmac_abort(struct lw_cmac *c)
{
	if (!c)
		return;
	EVP_MAC_CTX_free(c->mac_ctx);
	c->mac_ctx = NULL;
}

int lw_aes_cmac(const uint8_t key[LW_KEY_LEN], const uint8_t *msg, size_t len,
                uint8_t tag[LW_BLOCK_LEN])
{
	struct lw_cmac c;
	int rc = lw_cmac_init(&c, key);

	if (rc == FUOTA_OK)
		rc = lw_cmac_update(&c, msg, len);
	if (rc != FUOTA_OK) {
		lw_cmac_abort(&c);
		return rc;
	}
	return lw_cmac_final(&c, tag);
}
