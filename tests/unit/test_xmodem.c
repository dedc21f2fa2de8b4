/* The Xmodem sender against a receiver written here, on a fake clock: CRC and checksum modes,
 * 128-byte and 1k blocks, the handshake window, a lost ACK, a NAK storm, cancel both ways, the
 * EOT handshake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/xmodem.h"

struct rcv {
	uint64_t now;
	/* handshake: bytes the receiver sends at given times before the first block */
	uint8_t hs[16];
	uint64_t hs_at[16];
	size_t n_hs, hs_pos;
	bool crc;
	/* out: the answer waiting for the sender */
	uint8_t out[4];
	size_t n_out;
	/* file */
	uint8_t file[70000];
	size_t len;
	unsigned expect;
	unsigned eots;
	bool started;
	/* faults */
	unsigned lose_ack_of; /* block whose first ACK is lost */
	bool nak_always;
	unsigned cancel_at; /* answer this block with CAN CAN */
	unsigned frames, resent_dups;
	bool got_can;
	struct cell_clock clock;
};

static uint64_t now_ms(void *ctx)
{
	return ((struct rcv *)ctx)->now;
}

static int rcv_read(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms, size_t *got)
{
	struct rcv *r = ctx;

	*got = 0;
	if (r->n_out > 0) {
		buf[0] = r->out[0];
		memmove(r->out, r->out + 1, --r->n_out);
		*got = 1;
		return FUOTA_OK;
	}
	if (!r->started && r->hs_pos < r->n_hs && cap > 0) {
		if (r->hs_at[r->hs_pos] <= r->now + timeout_ms) {
			if (r->hs_at[r->hs_pos] > r->now)
				r->now = r->hs_at[r->hs_pos];
			r->crc = r->hs[r->hs_pos] == XM_CRC;
			buf[0] = r->hs[r->hs_pos++];
			*got = 1;
			return FUOTA_OK;
		}
	}
	r->now += timeout_ms;
	return FUOTA_ERR_TIMEOUT;
}

static void answer(struct rcv *r, uint8_t b)
{
	r->out[r->n_out++] = b;
}

static bool frame_ok(const struct rcv *r, const uint8_t *p, size_t len, size_t *size)
{
	size_t i;

	*size = p[0] == XM_STX ? 1024 : 128;
	if (len != *size + (r->crc ? 5u : 4u) || (uint8_t)(p[1] + p[2]) != 0xff)
		return false;
	if (r->crc) {
		uint16_t c = xm_crc16(p + 3, *size);

		return p[3 + *size] == (c >> 8) && p[4 + *size] == (c & 0xff);
	}
	uint8_t sum = 0;

	for (i = 0; i < *size; i++)
		sum = (uint8_t)(sum + p[3 + i]);
	return p[3 + *size] == sum;
}

static int rcv_write(void *ctx, const uint8_t *p, size_t len)
{
	struct rcv *r = ctx;
	size_t size;

	r->now += 1; /* the line takes time */
	if (p[0] == XM_CAN) {
		r->got_can = true;
		return FUOTA_OK;
	}
	if (p[0] == XM_EOT) {
		answer(r, ++r->eots == 1 ? XM_NAK : XM_ACK); /* NAK the first EOT (XMODEM1K.TXT) */
		return FUOTA_OK;
	}
	r->started = true;
	r->frames++;
	if (r->nak_always || !frame_ok(r, p, len, &size)) {
		answer(r, XM_NAK);
		return FUOTA_OK;
	}
	if (p[1] == (uint8_t)(r->expect - 1)) {
		r->resent_dups++; /* our ACK was lost: ACK again, keep the data once */
		answer(r, XM_ACK);
		return FUOTA_OK;
	}
	if (p[1] != (uint8_t)r->expect) {
		answer(r, XM_CAN);
		answer(r, XM_CAN);
		return FUOTA_OK;
	}
	if (r->cancel_at == r->expect) {
		answer(r, XM_CAN);
		answer(r, XM_CAN);
		return FUOTA_OK;
	}
	memcpy(r->file + r->len, p + 3, size);
	r->len += size;
	if (r->lose_ack_of == r->expect) {
		r->lose_ack_of = 0;
		r->expect++;
		return FUOTA_OK; /* the ACK never reaches the sender */
	}
	r->expect++;
	answer(r, XM_ACK);
	return FUOTA_OK;
}

static struct rcv *rcv_new(uint8_t first, uint64_t at)
{
	struct rcv *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->expect = 1;
	r->clock = (struct cell_clock){now_ms, NULL, r};
	if (first) {
		r->hs[0] = first;
		r->hs_at[0] = at;
		r->n_hs = 1;
	}
	return r;
}

/* The SARA-R5's handshake: 'C' at 0, 3, 6 s, then NAK at 16 ... 106 s. */
static void sara_schedule(struct rcv *r, uint64_t t0)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		r->hs[i] = XM_CRC;
		r->hs_at[i] = t0 + 3000 * i;
	}
	for (i = 0; i < 10; i++) {
		r->hs[3 + i] = XM_NAK;
		r->hs_at[3 + i] = t0 + 16000 + 10000 * i;
	}
	r->n_hs = 13;
}

static struct xm_config cfg_for(struct rcv *r, bool use_1k)
{
	struct xm_config c = {.io = {rcv_read, rcv_write, r}, .clock = &r->clock, .use_1k = use_1k};

	return c;
}

static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len + 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + (i >> 8));
	return p;
}

static void check_file(const struct rcv *r, const uint8_t *data, size_t len, uint8_t pad)
{
	size_t i;

	assert_true(r->len >= len);
	assert_memory_equal(r->file, data, len);
	for (i = len; i < r->len; i++)
		assert_int_equal(r->file[i], pad);
}

struct prog {
	size_t calls, last, total;
	bool backwards;
};

static bool on_progress(void *ctx, size_t sent, size_t total)
{
	struct prog *p = ctx;

	p->backwards |= sent <= p->last || sent > total;
	p->calls++;
	p->last = sent;
	p->total = total;
	return true;
}

static void test_modes(void **state)
{
	static const size_t sizes[] = {0, 1, 128, 1000, 1024, 4097, 65536};
	size_t s;
	int mode;

	(void)state;
	for (mode = 0; mode < 4; mode++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			struct rcv *r = rcv_new((mode & 1) ? XM_CRC : XM_NAK, 1500);
			struct xm_config c = cfg_for(r, mode & 2);
			uint8_t *d = pattern(sizes[s]);
			struct xm_stats st;
			struct prog pg = {0};

			c.progress = on_progress;
			c.progress_ctx = &pg;
			assert_int_equal(xm_send(&c, d, sizes[s], &st), FUOTA_OK);
			/* the progress: once a block, forward only, ending at the file's size */
			assert_int_equal(pg.calls, st.blocks);
			assert_false(pg.backwards);
			assert_int_equal(pg.last, sizes[s]);
			assert_true(pg.calls == 0 || pg.total == sizes[s]);
			assert_int_equal(st.crc, (mode & 1) != 0);
			assert_int_equal(st.handshake_ms, 1500);
			check_file(r, d, sizes[s], 0x1a);
			/* 1k: no 1k block carries more than 128 bytes of padding */
			assert_true(r->len - sizes[s] < 128);
			assert_int_equal(r->eots, 2);
			assert_int_equal(st.resends, 0);
			free(d);
			free(r);
		}
	}
}

static void test_block_layout(void **state)
{
	uint8_t out[1029], src[3] = {1, 2, 3};

	(void)state;
	/* CRC-16/XMODEM check value of "123456789" is 0x31C3 */
	assert_int_equal(xm_crc16((const uint8_t *)"123456789", 9), 0x31c3);
	assert_int_equal(xm_block(out, 257, src, 3, 128, false, 0), 132);
	assert_int_equal(out[0], XM_SOH);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 0xfe);
	assert_int_equal(out[131], 6);
	assert_int_equal(xm_block(out, 2, src, 3, 1024, true, 0x1a), 1029);
	assert_int_equal(out[0], XM_STX);
	assert_int_equal(out[3 + 1023], 0x1a);
}

static void test_sara_window(void **state)
{
	struct rcv *r = rcv_new(0, 0);
	struct xm_config c = cfg_for(r, true);
	uint8_t *d = pattern(3000);
	struct xm_stats st;

	(void)state;
	/* the sender starts 7 s late: the 3 'C' are gone, the first NAK (16 s) picks checksum */
	sara_schedule(r, 0);
	r->now = 7000;
	r->hs_pos = 3;
	assert_int_equal(xm_send(&c, d, 3000, &st), FUOTA_OK);
	assert_false(st.crc);
	assert_int_equal(st.handshake_ms, 9000);
	check_file(r, d, 3000, 0x1a);
	free(r);

	/* nobody answers: the sender gives up after 109 s plus one ACK timeout, not before */
	r = rcv_new(0, 0);
	c = cfg_for(r, true);
	assert_int_equal(xm_send(&c, d, 3000, &st), FUOTA_ERR_TIMEOUT);
	assert_true(r->now >= 109000 + 10000);
	assert_true(r->now <= 109000 + 10000 + 100);
	assert_int_equal(r->frames, 0);
	free(r);
	free(d);
}

static void test_lost_ack(void **state)
{
	struct rcv *r = rcv_new(XM_CRC, 0);
	struct xm_config c = cfg_for(r, false);
	uint8_t *d = pattern(1000);
	struct xm_stats st;

	(void)state;
	r->lose_ack_of = 3;
	c.ack_timeout_ms = 2000;
	assert_int_equal(xm_send(&c, d, 1000, &st), FUOTA_OK);
	assert_int_equal(st.resends, 1);
	assert_int_equal(r->resent_dups, 1);
	check_file(r, d, 1000, 0x1a); /* block 3 stored once */
	assert_int_equal(r->len, 1024);
	assert_true(r->now >= 2000);
	free(r);
	free(d);
}

static void test_nak_storm(void **state)
{
	struct rcv *r = rcv_new(XM_NAK, 0);
	struct xm_config c = cfg_for(r, true);
	uint8_t *d = pattern(5000);
	struct xm_stats st;

	(void)state;
	r->nak_always = true;
	c.retries = 6;
	assert_int_equal(xm_send(&c, d, 5000, &st), FUOTA_ERR_TIMEOUT);
	assert_int_equal(r->frames, 6);
	assert_int_equal(st.resends, 5);
	assert_int_equal(st.blocks, 0);
	free(r);
	free(d);
}

static void test_receiver_cancels(void **state)
{
	struct rcv *r = rcv_new(XM_CRC, 0);
	struct xm_config c = cfg_for(r, false);
	uint8_t *d = pattern(1000);
	struct xm_stats st;

	(void)state;
	r->cancel_at = 4;
	assert_int_equal(xm_send(&c, d, 1000, &st), FUOTA_ERR_CONFLICT);
	assert_int_equal(st.blocks, 3);
	free(r);
	free(d);
}

static bool stop_after_two(void *ctx, size_t sent, size_t total)
{
	unsigned *calls = ctx;

	assert_true(sent <= total);
	return ++*calls < 2;
}

static void test_sender_cancels(void **state)
{
	struct rcv *r = rcv_new(XM_CRC, 0);
	struct xm_config c = cfg_for(r, false);
	uint8_t *d = pattern(1000);
	unsigned calls = 0;

	(void)state;
	c.progress = stop_after_two;
	c.progress_ctx = &calls;
	assert_int_equal(xm_send(&c, d, 1000, NULL), FUOTA_ERR_STATE);
	assert_int_equal(calls, 2);
	assert_true(r->got_can);
	assert_int_equal(r->eots, 0);
	free(r);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_block_layout),   cmocka_unit_test(test_modes),
	        cmocka_unit_test(test_sara_window),    cmocka_unit_test(test_lost_ack),
	        cmocka_unit_test(test_nak_storm),      cmocka_unit_test(test_receiver_cancels),
	        cmocka_unit_test(test_sender_cancels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
