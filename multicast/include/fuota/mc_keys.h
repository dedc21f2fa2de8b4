/* TS005 multicast key hierarchy (PROTOCOL-NOTES §5.3, vectors §5.4).
 *
 *   LoRaWAN 1.0.x: McRootKey = aes128_encrypt(GenAppKey, 0x00 | 15 x 00)
 *   LoRaWAN 1.1.x: McRootKey = aes128_encrypt(AppKey,    0x20 | 15 x 00)
 *                  McKEKey   = aes128_encrypt(McRootKey, 0x00 | 15 x 00)
 *   server:        McKey_encrypted = aes128_DECRYPT(McKEKey, McKey)
 *   device:        McKey           = aes128_ENCRYPT(McKEKey, McKey_encrypted)
 *                  McAppSKey = aes128_encrypt(McKey, 0x01 | McAddr (4, LE) | 11 x 00)
 *                  McNwkSKey = aes128_encrypt(McKey, 0x02 | McAddr (4, LE) | 11 x 00)
 *
 * Keys are 16 raw bytes in display order and are never reversed. McAddr is a number: 0x01020304
 * goes into the block as 04 03 02 01. Every function returns FUOTA_OK or FUOTA_ERR_CRYPTO; out may
 * alias the input key. */
#ifndef FUOTA_MC_KEYS_H
#define FUOTA_MC_KEYS_H

#include <stdint.h>

#define MC_KEY_LEN 16

/* McRootKey of a LoRaWAN 1.0.x device, from its GenAppKey (not its AppKey: P13). */
int mc_root_key_from_gen_app_key(const uint8_t gen_app_key[MC_KEY_LEN],
                                 uint8_t mc_root_key[MC_KEY_LEN]);
/* McRootKey of a LoRaWAN 1.1 device, from its AppKey. */
int mc_root_key_from_app_key(const uint8_t app_key[MC_KEY_LEN], uint8_t mc_root_key[MC_KEY_LEN]);
int mc_ke_key_from_root(const uint8_t mc_root_key[MC_KEY_LEN], uint8_t mc_ke_key[MC_KEY_LEN]);
/* Server side: the McKey_encrypted field of McGroupSetupReq for one device. */
int mc_key_encrypt(const uint8_t mc_ke_key[MC_KEY_LEN], const uint8_t mc_key[MC_KEY_LEN],
                   uint8_t mc_key_encrypted[MC_KEY_LEN]);
/* Device side: McKey from the received McKey_encrypted. */
int mc_key_decrypt(const uint8_t mc_ke_key[MC_KEY_LEN], const uint8_t mc_key_encrypted[MC_KEY_LEN],
                   uint8_t mc_key[MC_KEY_LEN]);
/* McAppSKey and McNwkSKey of the group McAddr. */
int mc_session_keys(const uint8_t mc_key[MC_KEY_LEN], uint32_t mc_addr,
                    uint8_t mc_app_s_key[MC_KEY_LEN], uint8_t mc_nwk_s_key[MC_KEY_LEN]);

#endif
