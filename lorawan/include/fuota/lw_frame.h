/* LoRaWAN 1.0.x data frames (and 1.1 multicast downlinks, whose crypto is the same): build one
 * into a caller buffer, parse one from outside bytes, check its MIC and decrypt its FRMPayload.
 *
 *   PHYPayload = MHDR (1) | DevAddr (4, LE) | FCtrl (1) | FCnt (2, LE) | FOpts (0..15)
 *                | [FPort (1) | FRMPayload] | MIC (4)
 *   FRMPayload = payload XOR S_1 | S_2 ..., S_i = AES128(K, A_i), K = AppSKey for FPort > 0 and
 *                NwkSKey for FPort 0;
 *   A_i        = 01 | 00 00 00 00 | Dir | DevAddr (LE) | FCnt32 (LE) | 00 | i        (i from 1)
 *   MIC        = AES-CMAC(NwkSKey, B0 | msg)[0..3], msg = PHYPayload without the MIC;
 *   B0         = 49 | 00 00 00 00 | Dir | DevAddr (LE) | FCnt32 (LE) | 00 | len(msg)
 * Dir is 0 for uplinks and 1 for downlinks; FCnt32 is the full 32-bit frame counter, of which only
 * the low 16 bits travel in the frame. FOpts are sent and read in clear (LoRaWAN 1.0.x).
 * Sources: PROTOCOL-NOTES §6 (LoRaMac-node LoRaMacCrypto.c, brocaar/lorawan phypayload.go).
 *
 * Keys are 16 raw bytes in display order. Nothing here allocates; struct lw_frame points into
 * the caller's buffer. */
#ifndef FUOTA_LW_FRAME_H
#define FUOTA_LW_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/lw_crypto.h"

/* MHDR MType values (bits 7..5). */
enum lw_mtype {
	LW_MTYPE_JOIN_REQUEST = 0,
	LW_MTYPE_JOIN_ACCEPT = 1,
	LW_MTYPE_UNCONF_DATA_UP = 2,
	LW_MTYPE_UNCONF_DATA_DOWN = 3,
	LW_MTYPE_CONF_DATA_UP = 4,
	LW_MTYPE_CONF_DATA_DOWN = 5,
	LW_MTYPE_REJOIN_REQUEST = 6, /* RFU in LoRaWAN 1.0 */
	LW_MTYPE_PROPRIETARY = 7
};

/* FCtrl bits. Downlink: ADR, ACK, FPending; uplink: ADR, ADRACKReq, ACK, ClassB. */
#define LW_FCTRL_ADR           0x80u
#define LW_FCTRL_ADR_ACK_REQ   0x40u /* uplink */
#define LW_FCTRL_ACK           0x20u
#define LW_FCTRL_FPENDING      0x10u /* downlink */
#define LW_FCTRL_CLASS_B       0x10u /* uplink */
#define LW_FCTRL_FOPTS_LEN_MSK 0x0fu

#define LW_PHY_MAX_LEN  255u /* a LoRa PHYPayload carries at most 255 bytes */
#define LW_MIC_LEN      4u
#define LW_FHDR_MIN_LEN 7u /* DevAddr + FCtrl + FCnt */
#define LW_FOPTS_MAX    15u
/* MHDR + FHDR (no FOpts) + MIC: the shortest data frame (no FPort, no payload). */
#define LW_DATA_MIN_LEN (1u + LW_FHDR_MIN_LEN + LW_MIC_LEN)

/* What lw_frame_build sends. */
struct lw_frame_tx {
	enum lw_mtype mtype;  /* a data MType (2..5); multicast: LW_MTYPE_UNCONF_DATA_DOWN */
	uint32_t dev_addr;    /* DevAddr / McAddr as a number (01020304 = 0x01020304) */
	uint8_t fctrl;        /* ADR/ACK/FPending bits; FOptsLen (bits 3..0) comes from fopts_len */
	uint32_t fcnt;        /* 32-bit frame counter; the low 16 bits go on air */
	const uint8_t *fopts; /* clear MAC commands, NULL if fopts_len == 0 */
	size_t fopts_len;     /* 0..15 */
	bool has_fport;       /* false: no FPort and no payload */
	uint8_t fport;        /* 0 = MAC commands (encrypted with NwkSKey), 1..255 application */
	const uint8_t *payload; /* clear FRMPayload, NULL if payload_len == 0 */
	size_t payload_len;
};

/* Builds the PHYPayload of f into out[0..cap) and its length into *out_len. app_s_key may be
 * NULL when FPort is 0 or absent. Returns FUOTA_OK; FUOTA_ERR_INVALID_ARG for a NULL key or
 * buffer that is needed, a non-data MType, fopts_len > 15, a payload without FPort, FOpts with
 * FPort 0, or a frame longer than LW_PHY_MAX_LEN; FUOTA_ERR_NO_SPACE if cap is too small;
 * FUOTA_ERR_CRYPTO if libcrypto fails. */
int lw_frame_build(const struct lw_frame_tx *f, const uint8_t app_s_key[LW_KEY_LEN],
                   const uint8_t nwk_s_key[LW_KEY_LEN], uint8_t *out, size_t cap, size_t *out_len);

/* A parsed data frame. The pointers point into the buffer given to lw_frame_parse. */
struct lw_frame {
	enum lw_mtype mtype;
	uint8_t major; /* MHDR bits 1..0; 0 = LoRaWAN R1 */
	bool downlink; /* mtype is UNCONF/CONF_DATA_DOWN: Dir = 1 in the crypto blocks */
	uint32_t dev_addr;
	uint8_t fctrl;   /* as received, FOptsLen included */
	uint16_t fcnt16; /* the low 16 bits of the frame counter, as on air */
	const uint8_t *fopts;
	size_t fopts_len;
	bool has_fport;
	uint8_t fport;
	const uint8_t *frm_payload; /* still encrypted */
	size_t frm_payload_len;
	const uint8_t *msg; /* MHDR .. end of FRMPayload: what the MIC covers */
	size_t msg_len;
	uint8_t mic[LW_MIC_LEN];
};

/* Parses the header of a data frame from outside bytes; no key needed, no crypto done.
 * Returns FUOTA_OK; FUOTA_ERR_MALFORMED if phy is shorter than its fields say, longer than
 * LW_PHY_MAX_LEN, or carries FOpts together with FPort 0; FUOTA_ERR_UNSUPPORTED for a non-data
 * MType or a Major other than 0; FUOTA_ERR_INVALID_ARG for NULL pointers. */
int lw_frame_parse(const uint8_t *phy, size_t len, struct lw_frame *f);

/* Full 32-bit counter from the 16 high bits the receiver tracks and the 16 bits on air. */
uint32_t lw_fcnt32(uint16_t fcnt_high, uint16_t fcnt16);

/* The smallest 32-bit counter >= fcnt_min whose low 16 bits are fcnt16 (a receiver that expects
 * at least fcnt_min, e.g. the last counter + 1). Returns FUOTA_OK, or FUOTA_ERR_MALFORMED if that
 * counter would exceed 2^32 - 1. */
int lw_fcnt_next(uint32_t fcnt_min, uint16_t fcnt16, uint32_t *fcnt32);

/* Computes the MIC of a parsed frame for counter fcnt32 and compares it with the received one:
 * *ok = true if they match. fcnt32's low 16 bits must equal f->fcnt16 (else *ok = false).
 * Returns FUOTA_OK (whatever *ok), FUOTA_ERR_INVALID_ARG for NULL pointers, FUOTA_ERR_CRYPTO. */
int lw_frame_mic_check(const struct lw_frame *f, uint32_t fcnt32,
                       const uint8_t nwk_s_key[LW_KEY_LEN], bool *ok);

/* Decrypts f's FRMPayload with AppSKey (FPort > 0) or NwkSKey (FPort 0) into out[0..cap);
 * *out_len = f->frm_payload_len. Does not check the MIC. Returns FUOTA_OK,
 * FUOTA_ERR_INVALID_ARG (NULL pointer or key needed), FUOTA_ERR_NO_SPACE, FUOTA_ERR_CRYPTO. */
int lw_frame_decrypt(const struct lw_frame *f, uint32_t fcnt32, const uint8_t app_s_key[LW_KEY_LEN],
                     const uint8_t nwk_s_key[LW_KEY_LEN], uint8_t *out, size_t cap,
                     size_t *out_len);

/* Receiver in one call: parse, rebuild the 32-bit counter from fcnt_high, check the MIC and, only
 * if it matches, decrypt into out. *fcnt32 (may be NULL) receives the counter used. Returns the
 * errors of the three steps, and FUOTA_ERR_MALFORMED when the MIC does not match (wrong key,
 * wrong counter or altered bytes: the frame is not authentic and nothing is written to out). */
int lw_frame_open(const uint8_t *phy, size_t len, const uint8_t app_s_key[LW_KEY_LEN],
                  const uint8_t nwk_s_key[LW_KEY_LEN], uint16_t fcnt_high, struct lw_frame *f,
                  uint32_t *fcnt32, uint8_t *out, size_t cap, size_t *out_len);

#endif
