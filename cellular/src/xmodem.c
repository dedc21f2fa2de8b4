/* The Xmodem / Xmodem-1k sender (xmodem.h). */
#include "fuota/xmodem.h"

#include <string.h>

#include "fuota/err.h"

enum { XM_1K_THRESHOLD = 896 };

uint16_t xm_crc16(const uint8_t *p, size_t n)
{
	unsigned crc = 0;
	size_t i;
	int b;

	for (i = 0; i < n; i++) {
		crc ^= (unsigned)p[i] << 8;
		for (b = 0; b < 8; b++)
			crc = (crc & 0x8000u) ? ((crc << 1) ^ 0x1021u) & 0xffffu
			                      : (crc << 1) & 0xffffu;
	}
	return (uint16_t)crc;
}

size_t xm_block(uint8_t *out, unsigned blk, const uint8_t *src, size_t src_len, size_t size,
                bool crc, uint8_t pad)
{
	uint8_t *d = out + 3;
	size_t i;

	out[0] = size == 1024 ? XM_STX : XM_SOH;
	out[1] = (uint8_t)(blk & 0xffu);
	out[2] = (uint8_t)(~blk & 0xffu);
	memcpy(d, src, src_len);
	memset(d + src_len, pad, size - src_len);
	if (crc) {
		uint16_t c = xm_crc16(d, size);

		d[size] = (uint8_t)(c >> 8);
		d[size + 1] = (uint8_t)(c & 0xffu);
		return size + 5;
	}
	d[size] = 0;
	for (i = 0; i < size; i++)
		d[size] = (uint8_t)(d[size] + d[i]);
	return size + 4;
}

struct xm_run {
	const struct xm_config *cfg;
	const struct cell_clock *clk;
	unsigned retries;
	uint32_t ack_ms;
	bool crc;
	struct xm_stats st;
};

/* One byte from the receiver before deadline_ms. */
static int get_byte(struct xm_run *r, uint64_t deadline_ms, uint8_t *b)
{
	size_t got = 0;
	uint32_t left = cell_ms_left(r->clk, deadline_ms);
	int err;

	if (left == 0)
		return FUOTA_ERR_TIMEOUT;
	err = r->cfg->io.read(r->cfg->io.ctx, b, 1, left, &got);
	if (err == FUOTA_OK && got == 0)
		err = FUOTA_ERR_TIMEOUT;
	return err;
}

static void send_cancel(struct xm_run *r)
{
	static const uint8_t can[] = {XM_CAN, XM_CAN};

	(void)r->cfg->io.write(r->cfg->io.ctx, can, sizeof(can));
}

/* After one CAN: a second within the ACK timeout means cancel (CONFLICT), else 0. */
static int second_can(struct xm_run *r)
{
	uint8_t b;
	int err = get_byte(r, r->clk->now_ms(r->clk->ctx) + r->ack_ms, &b);

	return err == FUOTA_OK && b == XM_CAN ? FUOTA_ERR_CONFLICT : FUOTA_OK;
}

/* The receiver's 'C' (CRC) or NAK (checksum) within the handshake window. */
static int handshake(struct xm_run *r, uint32_t window_ms)
{
	uint64_t t0 = r->clk->now_ms(r->clk->ctx), deadline = t0 + window_ms;
	uint8_t b;
	int err;

	for (;;) {
		err = get_byte(r, deadline, &b);
		if (err != FUOTA_OK)
			break;
		if (b == XM_CRC || b == XM_NAK) {
			r->crc = b == XM_CRC;
			break;
		}
		if (b == XM_CAN && second_can(r) != FUOTA_OK) {
			err = FUOTA_ERR_CONFLICT;
			break;
		}
	}
	r->st.handshake_ms = r->clk->now_ms(r->clk->ctx) - t0;
	r->st.crc = r->crc;
	return err;
}

/* Sends frame until ACKed: NAK, timeout and (for the first block) a repeated 'C' resend it. */
static int send_frame(struct xm_run *r, const uint8_t *frame, size_t len, bool first)
{
	unsigned tries;

	for (tries = 0; tries < r->retries; tries++) {
		uint64_t deadline = r->clk->now_ms(r->clk->ctx) + r->ack_ms;
		int err;
		uint8_t b;

		if (tries > 0 && len > 1)
			r->st.resends++; /* blocks only; an EOT is NAKed once by design */
		err = r->cfg->io.write(r->cfg->io.ctx, frame, len);
		if (err != FUOTA_OK)
			return err;
		for (;;) {
			err = get_byte(r, deadline, &b);
			if (err != FUOTA_OK)
				break;
			if (b == XM_ACK)
				return FUOTA_OK;
			if (b == XM_NAK || (first && b == XM_CRC))
				break;
			if (b == XM_CAN && second_can(r) != FUOTA_OK)
				return FUOTA_ERR_CONFLICT;
			/* anything else is line noise: keep waiting for this block's answer */
		}
		if (err != FUOTA_OK && err != FUOTA_ERR_TIMEOUT)
			return err;
	}
	return FUOTA_ERR_TIMEOUT;
}

static int send_blocks(struct xm_run *r, const uint8_t *data, size_t len)
{
	const struct xm_config *cfg = r->cfg;
	uint8_t frame[1024 + 5];
	uint8_t pad = cfg->pad_set ? cfg->pad : 0x1a;
	size_t off = 0;
	unsigned blk = 1;

	while (off < len) {
		size_t left = len - off;
		size_t size = cfg->use_1k && left > XM_1K_THRESHOLD ? 1024 : 128;
		size_t n = left < size ? left : size;
		size_t flen = xm_block(frame, blk, data + off, n, size, r->crc, pad);
		int err = send_frame(r, frame, flen, blk == 1);

		if (err != FUOTA_OK)
			return err;
		r->st.blocks++;
		off += n;
		blk++;
		if (cfg->progress && !cfg->progress(cfg->progress_ctx, off, len)) {
			send_cancel(r);
			return FUOTA_ERR_STATE;
		}
	}
	return FUOTA_OK;
}

int xm_send(const struct xm_config *cfg, const uint8_t *data, size_t len, struct xm_stats *stats)
{
	static const uint8_t eot = XM_EOT;
	struct xm_run r = {.cfg = cfg};
	int err;

	if (!cfg || !cfg->io.read || !cfg->io.write || (!data && len))
		return FUOTA_ERR_INVALID_ARG;
	r.clk = cfg->clock ? cfg->clock : cell_clock_monotonic();
	r.retries = cfg->retries ? cfg->retries : 10u;
	r.ack_ms = cfg->ack_timeout_ms ? cfg->ack_timeout_ms : 10000u;
	err = handshake(&r, cfg->handshake_ms ? cfg->handshake_ms : 109000u + r.ack_ms);
	if (err == FUOTA_OK)
		err = send_blocks(&r, data, len);
	if (err == FUOTA_OK)
		err = send_frame(&r, &eot, 1, false);
	if (err == FUOTA_ERR_TIMEOUT && r.st.blocks > 0)
		send_cancel(&r);
	if (stats)
		*stats = r.st;
	return err;
}
