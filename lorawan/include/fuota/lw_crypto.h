/* AES-128 block operations and AES-CMAC (RFC 4493) through OpenSSL libcrypto (EVP).
 *
 * Keys are 16 raw bytes in display/transmission order (LoRaWAN keys are never byte-reversed).
 * Every function returns FUOTA_OK or FUOTA_ERR_CRYPTO (libcrypto failed, e.g. out of memory). */
#ifndef FUOTA_LW_CRYPTO_H
#define FUOTA_LW_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define LW_KEY_LEN   16
#define LW_BLOCK_LEN 16

/* out = AES128_encrypt(key, in); in and out may alias. */
int lw_aes128_encrypt(const uint8_t key[LW_KEY_LEN], const uint8_t in[LW_BLOCK_LEN],
                      uint8_t out[LW_BLOCK_LEN]);

/* out = AES128_decrypt(key, in); in and out may alias. */
int lw_aes128_decrypt(const uint8_t key[LW_KEY_LEN], const uint8_t in[LW_BLOCK_LEN],
                      uint8_t out[LW_BLOCK_LEN]);

/* Streaming AES-CMAC, for inputs made of several pieces (B0 | message) or too large to copy.
 * init allocates libcrypto state that final or abort releases; a context is used by one thread. */
struct lw_cmac {
	void *mac_ctx; /* EVP_MAC_CTX *, owned */
};

int lw_cmac_init(struct lw_cmac *c, const uint8_t key[LW_KEY_LEN]);
int lw_cmac_update(struct lw_cmac *c, const uint8_t *data, size_t len);
/* Writes the full 16-byte tag (LoRaWAN MICs are its first 4 bytes) and releases the context. */
int lw_cmac_final(struct lw_cmac *c, uint8_t tag[LW_BLOCK_LEN]);
/* Releases a context without producing a tag; accepts a context that failed or was never used. */
void lw_cmac_abort(struct lw_cmac *c);

/* One-shot AES-CMAC over msg[0..len). */
int lw_aes_cmac(const uint8_t key[LW_KEY_LEN], const uint8_t *msg, size_t len,
                uint8_t tag[LW_BLOCK_LEN]);

#endif
