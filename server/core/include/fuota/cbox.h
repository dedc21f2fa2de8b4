/* Secrets of fuotad: AES-256-GCM sealing of device keys under the master key, API tokens and hex.
 * Everything goes through libcrypto. */
#ifndef FUOTA_CBOX_H
#define FUOTA_CBOX_H

#include <stddef.h>
#include <stdint.h>

#define CBOX_KEY_LEN      32u
#define CBOX_NONCE_LEN    12u
#define CBOX_TAG_LEN      16u
#define CBOX_OVERHEAD     (CBOX_NONCE_LEN + CBOX_TAG_LEN)
#define CBOX_TOKEN_PREFIX "fuota_"
#define CBOX_TOKEN_LEN    (6u + 64u) /* "fuota_" + hex of 32 random bytes */
#define CBOX_HASH_LEN     32u

/* Seals plain[0..len) under key: out = nonce(12, random) || ciphertext(len) || tag(16); aad (may be
 * NULL when aad_len is 0) is authenticated but not stored, binding the box to its row (tenant and
 * DevEUI) so a box cannot be moved to another device. out_cap must be >= len + CBOX_OVERHEAD.
 * Returns FUOTA_OK, FUOTA_ERR_NO_SPACE or FUOTA_ERR_CRYPTO. */
int cbox_seal(const uint8_t key[CBOX_KEY_LEN], const uint8_t *plain, size_t len, const uint8_t *aad,
              size_t aad_len, uint8_t *out, size_t out_cap);

/* Opens a box written by cbox_seal into plain (box_len - CBOX_OVERHEAD bytes, plain_cap at
 * least that). Returns FUOTA_OK, FUOTA_ERR_MALFORMED (too short), FUOTA_ERR_NO_SPACE or
 * FUOTA_ERR_CRYPTO (wrong key, wrong aad or tampered box). */
int cbox_open(const uint8_t key[CBOX_KEY_LEN], const uint8_t *box, size_t box_len,
              const uint8_t *aad, size_t aad_len, uint8_t *plain, size_t plain_cap);

/* Writes a new random token ("fuota_" + 64 lowercase hex) and its NUL into out (CBOX_TOKEN_LEN +
 * 1 bytes). Returns FUOTA_OK or FUOTA_ERR_CRYPTO. */
int cbox_token_new(char out[CBOX_TOKEN_LEN + 1]);

/* SHA-256 of the token's text: what the database stores. Returns FUOTA_OK or FUOTA_ERR_CRYPTO. */
int cbox_token_hash(const char *token, size_t len, uint8_t out[CBOX_HASH_LEN]);

/* Constant-time equality of two n-byte buffers (1 equal, 0 not). */
int cbox_equal(const uint8_t *a, const uint8_t *b, size_t n);

/* Decodes exactly n bytes from 2n hex digits (either case, nothing else). Returns FUOTA_OK or
 * FUOTA_ERR_MALFORMED. */
int cbox_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t n);

/* Lowercase hex of in[0..n) plus NUL into out (2n + 1 bytes). */
void cbox_hex_encode(const uint8_t *in, size_t n, char *out);

#endif
