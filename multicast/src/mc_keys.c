/* TS005 key derivations: brocaar applayer/multicastsetup/keys.go, LoRaMac-node LoRaMacCrypto.c
 * (LoRaMacCryptoDeriveMcRootKey / McKEKey / McSessionKeyPair), ChirpStack v2.rs encrypt_mc_key. */
#include <string.h>

#include "fuota/bytes.h"
#include "fuota/err.h"
#include "fuota/lw_crypto.h"
#include "fuota/mc_keys.h"

/* aes128_encrypt(key, first | 15 zero bytes) */
static int derive(const uint8_t key[MC_KEY_LEN], uint8_t first, uint8_t out[MC_KEY_LEN])
{
	uint8_t block[LW_BLOCK_LEN] = {0};

	block[0] = first;
	return lw_aes128_encrypt(key, block, out);
}

int mc_root_key_from_gen_app_key(const uint8_t gen_app_key[MC_KEY_LEN],
                                 uint8_t mc_root_key[MC_KEY_LEN])
{
	return derive(gen_app_key, 0x00, mc_root_key);
}

int mc_root_key_from_app_key(const uint8_t app_key[MC_KEY_LEN], uint8_t mc_root_key[MC_KEY_LEN])
{
	return derive(app_key, 0x20, mc_root_key);
}

int mc_ke_key_from_root(const uint8_t mc_root_key[MC_KEY_LEN], uint8_t mc_ke_key[MC_KEY_LEN])
{
	return derive(mc_root_key, 0x00, mc_ke_key);
}

int mc_key_encrypt(const uint8_t mc_ke_key[MC_KEY_LEN], const uint8_t mc_key[MC_KEY_LEN],
                   uint8_t mc_key_encrypted[MC_KEY_LEN])
{
	/* The device recovers McKey with an AES *encryption* (LoRaMac-node soft-se.c stores
	 * MC_KEY_x as the encryption of the received value), so the server applies the inverse. */
	return lw_aes128_decrypt(mc_ke_key, mc_key, mc_key_encrypted);
}

int mc_key_decrypt(const uint8_t mc_ke_key[MC_KEY_LEN], const uint8_t mc_key_encrypted[MC_KEY_LEN],
                   uint8_t mc_key[MC_KEY_LEN])
{
	return lw_aes128_encrypt(mc_ke_key, mc_key_encrypted, mc_key);
}

int mc_session_keys(const uint8_t mc_key[MC_KEY_LEN], uint32_t mc_addr,
                    uint8_t mc_app_s_key[MC_KEY_LEN], uint8_t mc_nwk_s_key[MC_KEY_LEN])
{
	uint8_t block[LW_BLOCK_LEN] = {0};
	uint8_t key[MC_KEY_LEN];
	int rc;

	memcpy(key, mc_key, MC_KEY_LEN); /* the outputs may alias mc_key */
	fuota_put_le32(block + 1, mc_addr);
	block[0] = 0x01;
	rc = lw_aes128_encrypt(key, block, mc_app_s_key);
	if (rc == FUOTA_OK) {
		block[0] = 0x02;
		rc = lw_aes128_encrypt(key, block, mc_nwk_s_key);
	}
	memset(key, 0, sizeof(key));
	return rc;
}
