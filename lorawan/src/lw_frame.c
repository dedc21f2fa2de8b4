/* LoRaWAN data frames: build, parse, MIC, FRMPayload crypto (see lw_frame.h). */
#include <string.h>

#include "fuota/bytes.h"
#include "fuota/err.h"
#include "fuota/lw_crypto.h"
#include "fuota/lw_frame.h"

#define BLOCK_A_TAG 0x01u
#define BLOCK_B_TAG 0x49u

static bool mtype_is_data(unsigned mtype)
{
	return mtype >= LW_MTYPE_UNCONF_DATA_UP && mtype <= LW_MTYPE_CONF_DATA_DOWN;
}

static bool mtype_is_down(unsigned mtype)
{
	return mtype == LW_MTYPE_UNCONF_DATA_DOWN || mtype == LW_MTYPE_CONF_DATA_DOWN;
}

/* The A_i / B0 block layout shared by encryption and MIC: tag | 4 x 00 | Dir | DevAddr | FCnt32
 * | 00 | last. */
static void crypto_block(uint8_t b[LW_BLOCK_LEN], uint8_t tag, bool down, uint32_t dev_addr,
                         uint32_t fcnt32, uint8_t last)
{
	memset(b, 0, LW_BLOCK_LEN);
	b[0] = tag;
	b[5] = down ? 1 : 0;
	fuota_put_le32(b + 6, dev_addr);
	fuota_put_le32(b + 10, fcnt32);
	b[15] = last;
}

/* out = in XOR S_1 | S_2 ...; in and out may alias. len <= 255, so i fits the one-byte counter. */
static int payload_crypt(const uint8_t key[LW_KEY_LEN], bool down, uint32_t dev_addr,
                         uint32_t fcnt32, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t a[LW_BLOCK_LEN], s[LW_BLOCK_LEN];
	int rc = FUOTA_OK;

	for (size_t off = 0, i = 1; off < len; off += LW_BLOCK_LEN, i++) {
		size_t n = len - off < LW_BLOCK_LEN ? len - off : LW_BLOCK_LEN;

		crypto_block(a, BLOCK_A_TAG, down, dev_addr, fcnt32, (uint8_t)i);
		rc = lw_aes128_encrypt(key, a, s);
		if (rc != FUOTA_OK)
			break;
		for (size_t k = 0; k < n; k++)
			out[off + k] = (uint8_t)(in[off + k] ^ s[k]);
	}
	memset(s, 0, sizeof(s)); /* keystream */
	return rc;
}

static int compute_mic(const uint8_t nwk_s_key[LW_KEY_LEN], bool down, uint32_t dev_addr,
                       uint32_t fcnt32, const uint8_t *msg, size_t msg_len, uint8_t mic[LW_MIC_LEN])
{
	uint8_t b0[LW_BLOCK_LEN], tag[LW_BLOCK_LEN];
	struct lw_cmac c;
	int rc;

	crypto_block(b0, BLOCK_B_TAG, down, dev_addr, fcnt32, (uint8_t)msg_len);
	rc = lw_cmac_init(&c, nwk_s_key);
	if (rc != FUOTA_OK)
		return rc;
	rc = lw_cmac_update(&c, b0, sizeof(b0));
	if (rc == FUOTA_OK)
		rc = lw_cmac_update(&c, msg, msg_len);
	if (rc != FUOTA_OK) {
		lw_cmac_abort(&c);
		return rc;
	}
	rc = lw_cmac_final(&c, tag);
	if (rc == FUOTA_OK)
		memcpy(mic, tag, LW_MIC_LEN);
	return rc;
}

static int check_tx(const struct lw_frame_tx *f, const uint8_t *app_s_key, const uint8_t *nwk_s_key,
                    size_t *total)
{
	if (!nwk_s_key || !mtype_is_data(f->mtype) || f->fopts_len > LW_FOPTS_MAX)
		return FUOTA_ERR_INVALID_ARG;
	if ((f->fopts_len && !f->fopts) || (f->payload_len && !f->payload))
		return FUOTA_ERR_INVALID_ARG;
	if (!f->has_fport && f->payload_len)
		return FUOTA_ERR_INVALID_ARG;
	if (f->has_fport && f->fport == 0 && f->fopts_len)
		return FUOTA_ERR_INVALID_ARG;
	if (f->has_fport && f->fport > 0 && f->payload_len && !app_s_key)
		return FUOTA_ERR_INVALID_ARG;
	if (f->payload_len > LW_PHY_MAX_LEN)
		return FUOTA_ERR_INVALID_ARG;
	*total = LW_DATA_MIN_LEN + f->fopts_len + (f->has_fport ? 1u : 0u) + f->payload_len;
	return *total <= LW_PHY_MAX_LEN ? FUOTA_OK : FUOTA_ERR_INVALID_ARG;
}

int lw_frame_build(const struct lw_frame_tx *f, const uint8_t app_s_key[LW_KEY_LEN],
                   const uint8_t nwk_s_key[LW_KEY_LEN], uint8_t *out, size_t cap, size_t *out_len)
{
	bool down;
	size_t total = 0, pos = 0;
	int rc;

	if (!f || !out || !out_len)
		return FUOTA_ERR_INVALID_ARG;
	rc = check_tx(f, app_s_key, nwk_s_key, &total);
	if (rc != FUOTA_OK)
		return rc;
	if (cap < total)
		return FUOTA_ERR_NO_SPACE;
	down = mtype_is_down(f->mtype);

	out[pos++] = (uint8_t)((unsigned)f->mtype << 5); /* Major 0 = LoRaWAN R1 */
	fuota_put_le32(out + pos, f->dev_addr);
	pos += 4;
	out[pos++] = (uint8_t)((f->fctrl & ~LW_FCTRL_FOPTS_LEN_MSK) | f->fopts_len);
	fuota_put_le16(out + pos, (uint16_t)f->fcnt);
	pos += 2;
	if (f->fopts_len)
		memcpy(out + pos, f->fopts, f->fopts_len);
	pos += f->fopts_len;
	if (f->has_fport) {
		const uint8_t *key = f->fport == 0 ? nwk_s_key : app_s_key;

		out[pos++] = f->fport;
		if (f->payload_len) {
			rc = payload_crypt(key, down, f->dev_addr, f->fcnt, f->payload,
			                   f->payload_len, out + pos);
			if (rc != FUOTA_OK)
				return rc;
		}
		pos += f->payload_len;
	}
	rc = compute_mic(nwk_s_key, down, f->dev_addr, f->fcnt, out, pos, out + pos);
	if (rc != FUOTA_OK)
		return rc;
	*out_len = pos + LW_MIC_LEN;
	return FUOTA_OK;
}

int lw_frame_parse(const uint8_t *phy, size_t len, struct lw_frame *f)
{
	size_t pos = 0, body;
	unsigned mtype;

	if (!phy || !f)
		return FUOTA_ERR_INVALID_ARG;
	memset(f, 0, sizeof(*f));
	if (len < 1 || len > LW_PHY_MAX_LEN)
		return FUOTA_ERR_MALFORMED;
	mtype = (unsigned)phy[0] >> 5;
	f->major = phy[0] & 0x03u; /* bits 4..2 are RFU: ignored */
	if (!mtype_is_data(mtype) || f->major != 0)
		return FUOTA_ERR_UNSUPPORTED;
	f->mtype = (enum lw_mtype)mtype;
	f->downlink = mtype_is_down(mtype);
	pos = 1;

	if (len < LW_DATA_MIN_LEN)
		return FUOTA_ERR_MALFORMED;
	f->dev_addr = fuota_get_le32(phy + pos);
	f->fctrl = phy[pos + 4];
	f->fcnt16 = fuota_get_le16(phy + pos + 5);
	pos += LW_FHDR_MIN_LEN;

	f->fopts_len = f->fctrl & LW_FCTRL_FOPTS_LEN_MSK;
	if (pos + f->fopts_len + LW_MIC_LEN > len)
		return FUOTA_ERR_MALFORMED;
	f->fopts = f->fopts_len ? phy + pos : NULL;
	pos += f->fopts_len;

	body = len - LW_MIC_LEN - pos; /* FPort + FRMPayload */
	if (body > 0) {
		f->has_fport = true;
		f->fport = phy[pos++];
		f->frm_payload_len = body - 1;
		f->frm_payload = f->frm_payload_len ? phy + pos : NULL;
		pos += f->frm_payload_len;
		if (f->fport == 0 && f->fopts_len)
			return FUOTA_ERR_MALFORMED; /* MAC commands in FOpts and in FPort 0 at once
			                             */
	}
	f->msg = phy;
	f->msg_len = pos;
	memcpy(f->mic, phy + pos, LW_MIC_LEN);
	return FUOTA_OK;
}

uint32_t lw_fcnt32(uint16_t fcnt_high, uint16_t fcnt16)
{
	return (uint32_t)fcnt_high << 16 | fcnt16;
}

int lw_fcnt_next(uint32_t fcnt_min, uint16_t fcnt16, uint32_t *fcnt32)
{
	uint64_t v;

	if (!fcnt32)
		return FUOTA_ERR_INVALID_ARG;
	v = ((uint64_t)fcnt_min & ~UINT64_C(0xffff)) | fcnt16;
	if (v < fcnt_min)
		v += 0x10000u;
	if (v > UINT32_MAX)
		return FUOTA_ERR_MALFORMED;
	*fcnt32 = (uint32_t)v;
	return FUOTA_OK;
}

int lw_frame_mic_check(const struct lw_frame *f, uint32_t fcnt32,
                       const uint8_t nwk_s_key[LW_KEY_LEN], bool *ok)
{
	uint8_t mic[LW_MIC_LEN];
	unsigned diff = 0;
	int rc;

	if (!f || !nwk_s_key || !ok || !f->msg)
		return FUOTA_ERR_INVALID_ARG;
	*ok = false;
	if ((uint16_t)fcnt32 != f->fcnt16)
		return FUOTA_OK;
	rc = compute_mic(nwk_s_key, f->downlink, f->dev_addr, fcnt32, f->msg, f->msg_len, mic);
	if (rc != FUOTA_OK)
		return rc;
	for (size_t i = 0; i < LW_MIC_LEN; i++)
		diff |= (unsigned)(mic[i] ^ f->mic[i]);
	*ok = diff == 0;
	return FUOTA_OK;
}

int lw_frame_decrypt(const struct lw_frame *f, uint32_t fcnt32, const uint8_t app_s_key[LW_KEY_LEN],
                     const uint8_t nwk_s_key[LW_KEY_LEN], uint8_t *out, size_t cap, size_t *out_len)
{
	const uint8_t *key;

	if (!f || !out_len || (f->frm_payload_len && !out))
		return FUOTA_ERR_INVALID_ARG;
	if (cap < f->frm_payload_len)
		return FUOTA_ERR_NO_SPACE;
	*out_len = f->frm_payload_len;
	if (f->frm_payload_len == 0)
		return FUOTA_OK;
	key = f->fport == 0 ? nwk_s_key : app_s_key;
	if (!key)
		return FUOTA_ERR_INVALID_ARG;
	return payload_crypt(key, f->downlink, f->dev_addr, fcnt32, f->frm_payload,
	                     f->frm_payload_len, out);
}

int lw_frame_open(const uint8_t *phy, size_t len, const uint8_t app_s_key[LW_KEY_LEN],
                  const uint8_t nwk_s_key[LW_KEY_LEN], uint16_t fcnt_high, struct lw_frame *f,
                  uint32_t *fcnt32, uint8_t *out, size_t cap, size_t *out_len)
{
	uint32_t fc;
	bool ok = false;
	int rc;

	rc = lw_frame_parse(phy, len, f);
	if (rc != FUOTA_OK)
		return rc;
	fc = lw_fcnt32(fcnt_high, f->fcnt16);
	if (fcnt32)
		*fcnt32 = fc;
	rc = lw_frame_mic_check(f, fc, nwk_s_key, &ok);
	if (rc != FUOTA_OK)
		return rc;
	if (!ok)
		return FUOTA_ERR_MALFORMED;
	return lw_frame_decrypt(f, fc, app_s_key, nwk_s_key, out, cap, out_len);
}
