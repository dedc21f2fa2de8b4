/* Xmodem receiver; see msim_xmodem.h. */
#include "msim_xmodem.h"

#include <string.h>

#define HS_C       3     /* 'C's before the NAKs */
#define HS_NAK     10    /* NAKs before giving up */
#define HS_C_MS    3000  /* between 'C's */
#define HS_NAK_MS  10000 /* between NAKs */
#define SILENCE_MS 10000 /* no byte in a transfer: NAK and wait again */
#define BAD_MAX    10    /* bad blocks or silences in a row before cancelling */

uint16_t msim_xr_crc16(const uint8_t *d, size_t n)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(d[i] << 8);
		for (int b = 0; b < 8; b++) {
			unsigned next = (unsigned)crc << 1;

			if (crc & 0x8000)
				next ^= 0x1021;
			crc = (uint16_t)next;
		}
	}
	return crc;
}

static uint64_t scaled(const struct msim_xrecv *x, unsigned ms)
{
	return ms / x->scale ? ms / x->scale : 1;
}

static void fail(struct msim_xrecv *x, enum msim_xr_result r)
{
	x->state = MSIM_XR_FAILED;
	x->result = r;
	/* the receiver cancels with CAN CAN: the sender stops at once */
	if (r != MSIM_XR_CANCELLED && r != MSIM_XR_TIMEOUT) {
		x->out(x->ctx, MSIM_XR_CAN);
		x->out(x->ctx, MSIM_XR_CAN);
	}
}

/* One handshake byte: 'C' for the first HS_C, then NAK. */
static void handshake(struct msim_xrecv *x, uint64_t now_ms)
{
	bool c = x->handshakes < HS_C;

	x->out(x->ctx, c ? MSIM_XR_C : MSIM_XR_NAK);
	x->crc = c;
	x->handshakes++;
	x->deadline_ms = now_ms + scaled(x, c ? HS_C_MS : HS_NAK_MS);
}

void msim_xr_start(struct msim_xrecv *x, uint64_t now_ms, unsigned scale,
                   void (*out)(void *, uint8_t), int (*data)(void *, const uint8_t *, size_t),
                   void *ctx)
{
	memset(x, 0, sizeof(*x));
	x->scale = scale ? scale : 1;
	x->out = out;
	x->data = data;
	x->ctx = ctx;
	x->expect = 1;
	x->state = MSIM_XR_HANDSHAKE;
	handshake(x, now_ms);
}

static void nak_block(struct msim_xrecv *x)
{
	x->errors++;
	x->blk_n = 0;
	x->blk_want = 0;
	if (++x->bad_in_row >= BAD_MAX) {
		fail(x, MSIM_XR_ERRORS);
		return;
	}
	x->out(x->ctx, MSIM_XR_NAK);
}

/* A whole block is in x->blk: check it, deliver it, answer. */
static void end_block(struct msim_xrecv *x)
{
	size_t size = x->blk[0] == MSIM_XR_STX ? 1024 : 128;
	const uint8_t *data = x->blk + 3;
	uint8_t num = x->blk[1];
	bool good;

	if (x->crc) {
		uint16_t want = (uint16_t)(x->blk[3 + size] << 8 | x->blk[4 + size]);
		good = msim_xr_crc16(data, size) == want;
	} else {
		uint8_t sum = 0;
		for (size_t i = 0; i < size; i++)
			sum = (uint8_t)(sum + data[i]);
		good = sum == x->blk[3 + size];
	}
	if (!good || x->blk[2] + num != 255) {
		nak_block(x);
		return;
	}
	x->blk_n = 0;
	x->blk_want = 0;
	x->bad_in_row = 0;
	if (num == (uint8_t)(x->expect - 1)) {
		x->out(x->ctx, MSIM_XR_ACK); /* our ACK was lost: the sender repeats the block */
		return;
	}
	if (num != x->expect) {
		fail(x, MSIM_XR_SEQUENCE);
		return;
	}
	if (x->data(x->ctx, data, size) != 0) {
		fail(x, MSIM_XR_REFUSED);
		return;
	}
	x->blocks++;
	x->expect++;
	x->out(x->ctx, MSIM_XR_ACK);
}

/* The first byte of a block (or EOT, CAN, noise). */
static void start_byte(struct msim_xrecv *x, uint8_t b)
{
	if (b == MSIM_XR_CAN) {
		if (++x->cans >= 2)
			fail(x, MSIM_XR_CANCELLED);
		return;
	}
	x->cans = 0;
	if (b == MSIM_XR_EOT && x->state == MSIM_XR_DATA) {
		x->out(x->ctx, MSIM_XR_ACK);
		x->state = MSIM_XR_DONE;
		x->result = MSIM_XR_OK;
		return;
	}
	if (b != MSIM_XR_SOH && b != MSIM_XR_STX)
		return; /* noise between blocks */
	x->state = MSIM_XR_DATA;
	x->blk[0] = b;
	x->blk_n = 1;
	x->blk_want = 3 + (b == MSIM_XR_STX ? 1024u : 128u) + (x->crc ? 2u : 1u);
}

void msim_xr_input(struct msim_xrecv *x, const uint8_t *d, size_t n, uint64_t now_ms)
{
	for (size_t i = 0; i < n; i++) {
		if (x->state == MSIM_XR_DONE || x->state == MSIM_XR_FAILED)
			return;
		x->deadline_ms = now_ms + scaled(x, SILENCE_MS);
		if (x->blk_n == 0) {
			start_byte(x, d[i]);
			continue;
		}
		x->blk[x->blk_n++] = d[i];
		if (x->blk_n == x->blk_want)
			end_block(x);
	}
}

void msim_xr_tick(struct msim_xrecv *x, uint64_t now_ms)
{
	if (now_ms < x->deadline_ms)
		return;
	if (x->state == MSIM_XR_HANDSHAKE) {
		if (x->handshakes >= HS_C + HS_NAK)
			fail(x, MSIM_XR_TIMEOUT);
		else
			handshake(x, now_ms);
		return;
	}
	if (x->state == MSIM_XR_DATA) {
		x->deadline_ms = now_ms + scaled(x, SILENCE_MS);
		nak_block(x);
	}
}

uint64_t msim_xr_deadline(const struct msim_xrecv *x)
{
	if (x->state == MSIM_XR_DONE || x->state == MSIM_XR_FAILED)
		return UINT64_MAX;
	return x->deadline_ms;
}
