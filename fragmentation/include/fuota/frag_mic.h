/* TS004 v2 data-block integrity code (MIC) and its key (PROTOCOL-NOTES §4.6; SWL2001 v2
 * compute_data_block_integrity_ckeck, ChirpStack lrwn v2.rs get_data_block_int_key /
 * calculate_mic):
 *
 *     DataBlockIntKey = AES128_encrypt(K, 0x30 | 15 zero bytes)
 *                       K = GenAppKey (LoRaWAN 1.0.x devices) or AppKey (1.1.x)
 *     B0  = 0x49 | SessionCnt (LE16) | FragIndex | Descriptor (4, as transmitted)
 *           | 4 zero bytes | DataLen (LE32)
 *     MIC = first 4 bytes of AES-CMAC(DataBlockIntKey, B0 | data)
 *
 * data is the UNPADDED image (NbFrag * FragSize - Padding bytes). The MIC travels in CMAC output
 * order (FragSessionSetupReq carries cmac[0..3]). The data is streamed through the CMAC, never
 * copied. */
#ifndef FUOTA_FRAG_MIC_H
#define FUOTA_FRAG_MIC_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/lw_crypto.h"

#define FRAG_MIC_B0_LEN 16

/* The parameters that go into B0 besides the length. */
struct frag_mic_params {
	uint16_t session_cnt;  /* FragSessionSetupReq.SessionCnt */
	uint8_t frag_index;    /* 0..3 */
	uint8_t descriptor[4]; /* FragSessionSetupReq.Descriptor, as transmitted */
};

/* key = DataBlockIntKey derived from root (the GenAppKey or the AppKey, see above).
 * Returns FUOTA_OK, FUOTA_ERR_INVALID_ARG (NULL) or FUOTA_ERR_CRYPTO. */
int frag_mic_key(const uint8_t root[LW_KEY_LEN], uint8_t key[LW_KEY_LEN]);

/* Writes B0 for data_len bytes. Returns FUOTA_OK or FUOTA_ERR_INVALID_ARG (frag_index > 3,
 * data_len >= 2^32). */
int frag_mic_b0(const struct frag_mic_params *p, size_t data_len, uint8_t b0[FRAG_MIC_B0_LEN]);

/* Streaming MIC for data that arrives in pieces (a server reading the image from storage).
 * begin takes the total length up front (it is in B0); update may be called any number of
 * times; end checks that exactly data_len bytes went through and writes the 4-byte MIC. begin
 * allocates libcrypto state that end or abort releases (abort accepts a context in any state). */
struct frag_mic_ctx {
	struct lw_cmac cmac;
	size_t want; /* data_len announced in B0 */
	size_t got;
};

int frag_mic_begin(struct frag_mic_ctx *c, const uint8_t key[LW_KEY_LEN],
                   const struct frag_mic_params *p, size_t data_len);
int frag_mic_update(struct frag_mic_ctx *c, const uint8_t *data, size_t len);
/* Returns FUOTA_OK, FUOTA_ERR_STATE (not exactly data_len bytes were fed; nothing written) or
 * FUOTA_ERR_CRYPTO. The context is released in every case. */
int frag_mic_end(struct frag_mic_ctx *c, uint8_t mic[4]);
void frag_mic_abort(struct frag_mic_ctx *c);

/* One call: MIC over data[0..data_len) with key = DataBlockIntKey. Returns FUOTA_OK,
 * FUOTA_ERR_INVALID_ARG or FUOTA_ERR_CRYPTO. */
int frag_mic_compute(const uint8_t key[LW_KEY_LEN], const struct frag_mic_params *p,
                     const uint8_t *data, size_t data_len, uint8_t mic[4]);

#endif
