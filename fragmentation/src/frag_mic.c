/* TS004 v2 data-block MIC (see frag_mic.h for the layout and sources). */
#include "fuota/frag_mic.h"

#include <string.h>

#include "fuota/bytes.h"
#include "fuota/err.h"

int frag_mic_key(const uint8_t root[LW_KEY_LEN], uint8_t key[LW_KEY_LEN])
{
	uint8_t block[LW_BLOCK_LEN] = {0x30};

	if (!root || !key)
		return FUOTA_ERR_INVALID_ARG;
	return lw_aes128_encrypt(root, block, key);
}

int frag_mic_b0(const struct frag_mic_params *p, size_t data_len, uint8_t b0[FRAG_MIC_B0_LEN])
{
	if (!p || !b0 || p->frag_index > 3 || (uint64_t)data_len > UINT32_MAX)
		return FUOTA_ERR_INVALID_ARG;
	b0[0] = 0x49;
	fuota_put_le16(b0 + 1, p->session_cnt);
	b0[3] = p->frag_index;
	memcpy(b0 + 4, p->descriptor, 4);
	memset(b0 + 8, 0, 4);
	fuota_put_le32(b0 + 12, (uint32_t)data_len);
	return FUOTA_OK;
}

int frag_mic_begin(struct frag_mic_ctx *c, const uint8_t key[LW_KEY_LEN],
                   const struct frag_mic_params *p, size_t data_len)
{
	uint8_t b0[FRAG_MIC_B0_LEN];
	int rc;

	if (!c || !key)
		return FUOTA_ERR_INVALID_ARG;
	memset(c, 0, sizeof(*c));
	rc = frag_mic_b0(p, data_len, b0);
	if (rc != FUOTA_OK)
		return rc;
	rc = lw_cmac_init(&c->cmac, key);
	if (rc == FUOTA_OK)
		rc = lw_cmac_update(&c->cmac, b0, sizeof(b0));
	if (rc != FUOTA_OK) {
		lw_cmac_abort(&c->cmac);
		return rc;
	}
	c->want = data_len;
	return FUOTA_OK;
}

int frag_mic_update(struct frag_mic_ctx *c, const uint8_t *data, size_t len)
{
	if (!c || (!data && len))
		return FUOTA_ERR_INVALID_ARG;
	if (len > c->want - c->got)
		return FUOTA_ERR_STATE; /* more than B0 announced */
	if (len == 0)
		return FUOTA_OK;
	c->got += len;
	return lw_cmac_update(&c->cmac, data, len);
}

int frag_mic_end(struct frag_mic_ctx *c, uint8_t mic[4])
{
	uint8_t tag[LW_BLOCK_LEN];
	int rc;

	if (!c || !mic) {
		if (c)
			lw_cmac_abort(&c->cmac);
		return FUOTA_ERR_INVALID_ARG;
	}
	if (c->got != c->want) {
		lw_cmac_abort(&c->cmac);
		return FUOTA_ERR_STATE;
	}
	rc = lw_cmac_final(&c->cmac, tag);
	if (rc == FUOTA_OK)
		memcpy(mic, tag, 4);
	return rc;
}

void frag_mic_abort(struct frag_mic_ctx *c)
{
	if (c)
		lw_cmac_abort(&c->cmac);
}

int frag_mic_compute(const uint8_t key[LW_KEY_LEN], const struct frag_mic_params *p,
                     const uint8_t *data, size_t data_len, uint8_t mic[4])
{
	struct frag_mic_ctx c;
	int rc;

	if (!mic || (!data && data_len))
		return FUOTA_ERR_INVALID_ARG;
	rc = frag_mic_begin(&c, key, p, data_len);
	if (rc != FUOTA_OK)
		return rc;
	rc = frag_mic_update(&c, data, data_len);
	if (rc != FUOTA_OK) {
		frag_mic_abort(&c);
		return rc;
	}
	return frag_mic_end(&c, mic);
}
