/* fuota-modem-sim's pure parts: the AT line reader (msim_at.c), the Xmodem receiver
 * (msim_xmodem.c) with its handshake window, and the NVM state file (msim_state.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msim.h"
#include "msim_at.h"
#include "msim_wire.h"
#include "msim_xmodem.h"

static int parse(const char *line, struct msim_cmd *c, size_t *cur)
{
	if (msim_at_begin(line, strlen(line), cur) != 0)
		return -1;
	return msim_at_next(line, strlen(line), cur, c);
}

static void test_at_parse(void **state)
{
	struct msim_cmd c;
	size_t cur;
	long v;
	char s[32];
	const char *l = "at+usost=0,\"1.2.3.4\",7,2;E0;+CEREG?;+CMEE=?;I9";

	(void)state;
	assert_int_equal(parse(l, &c, &cur), 1);
	assert_string_equal(c.name, "+USOST");
	assert_int_equal(c.kind, MSIM_AT_SET);
	assert_int_equal(c.nparam, 4);
	assert_int_equal(msim_at_str(&c, 1, s, sizeof(s)), 0);
	assert_string_equal(s, "1.2.3.4");
	assert_int_equal(msim_at_int(&c, 2, 0, 65535, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(msim_at_int(&c, 1, 0, 65535, &v), -1); /* quoted */
	assert_int_equal(msim_at_int(&c, 3, 0, 1, &v), -1);     /* out of range */
	assert_int_equal(msim_at_next(l, strlen(l), &cur, &c), 1);
	assert_string_equal(c.name, "E");
	assert_int_equal(msim_at_int(&c, 0, 0, 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(msim_at_next(l, strlen(l), &cur, &c), 1);
	assert_int_equal(c.kind, MSIM_AT_READ);
	assert_int_equal(msim_at_next(l, strlen(l), &cur, &c), 1);
	assert_int_equal(c.kind, MSIM_AT_TEST);
	assert_int_equal(msim_at_next(l, strlen(l), &cur, &c), 1);
	assert_string_equal(c.name, "I");
	assert_int_equal(msim_at_next(l, strlen(l), &cur, &c), 0);
	/* a bare AT is one empty command */
	assert_int_equal(parse("AT", &c, &cur), 1);
	assert_string_equal(c.name, "");
	assert_int_equal(msim_at_next("AT", 2, &cur, &c), 0);
	/* malformed */
	assert_int_equal(parse("AT+X=\"open", &c, &cur), -1);
	assert_int_equal(parse("AT+X=\"a\"b", &c, &cur), -1);
	assert_int_equal(parse("AT;", &c, &cur), -1);
	assert_int_equal(parse("AT+=1", &c, &cur), -1);
	assert_int_equal(parse("AT+X=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", &c, &cur), -1);
	assert_int_equal(parse("XT", &c, &cur), -1);
	/* an empty parameter is there, but has no value */
	assert_int_equal(parse("AT+X=1,,3", &c, &cur), 1);
	assert_int_equal(c.nparam, 3);
	assert_false(msim_at_has(&c, 1));
	assert_int_equal(msim_at_int(&c, 1, 0, 9, &v), -1);
}

struct xr_rig {
	uint8_t out[64];
	size_t out_n;
	uint8_t data[8192];
	size_t data_n;
	bool refuse;
};

static void rig_out(void *ctx, uint8_t b)
{
	struct xr_rig *r = ctx;

	if (r->out_n < sizeof(r->out))
		r->out[r->out_n++] = b;
}

static int rig_data(void *ctx, const uint8_t *d, size_t n)
{
	struct xr_rig *r = ctx;

	if (r->refuse || r->data_n + n > sizeof(r->data))
		return -1;
	memcpy(r->data + r->data_n, d, n);
	r->data_n += n;
	return 0;
}

/* A block as a sender builds it. */
static size_t block(uint8_t *out, uint8_t num, const uint8_t *d, size_t size, bool crc)
{
	out[0] = size == 1024 ? MSIM_XR_STX : MSIM_XR_SOH;
	out[1] = num;
	out[2] = (uint8_t)(255 - num);
	memcpy(out + 3, d, size);
	if (crc) {
		uint16_t c = msim_xr_crc16(d, size);
		out[3 + size] = (uint8_t)(c >> 8);
		out[4 + size] = (uint8_t)c;
		return size + 5;
	}
	uint8_t sum = 0;
	for (size_t i = 0; i < size; i++)
		sum = (uint8_t)(sum + d[i]);
	out[3 + size] = sum;
	return size + 4;
}

static uint8_t last(const struct xr_rig *r)
{
	return r->out_n ? r->out[r->out_n - 1] : 0;
}

/* The app note's window: 'C' at 0, 3, 6 s, then NAK at 9, 19, ... 99 s, given up at 109 s. */
static void test_xr_window(void **state)
{
	struct msim_xrecv x;
	struct xr_rig r = {0};
	uint64_t t = 0;

	(void)state;
	msim_xr_start(&x, 0, 1, rig_out, rig_data, &r);
	while (x.state == MSIM_XR_HANDSHAKE) {
		t = msim_xr_deadline(&x);
		msim_xr_tick(&x, t);
	}
	assert_int_equal(x.result, MSIM_XR_TIMEOUT);
	assert_int_equal(t, 109000);
	assert_int_equal(r.out_n, 13);
	assert_memory_equal(r.out, "CCC", 3);
	for (int i = 3; i < 13; i++)
		assert_int_equal(r.out[i], MSIM_XR_NAK);
	assert_int_equal(msim_xr_deadline(&x), UINT64_MAX);
}

/* CRC mode: a good 1k block, its repeat (our ACK lost), a corrupted 128 block NAKed, then good,
 * then EOT. */
static void test_xr_crc(void **state)
{
	struct msim_xrecv x;
	struct xr_rig r = {0};
	uint8_t d[1024], b[1100];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 31);
	msim_xr_start(&x, 0, 1, rig_out, rig_data, &r);
	n = block(b, 1, d, 1024, true);
	msim_xr_input(&x, b, n, 10);
	assert_int_equal(last(&r), MSIM_XR_ACK);
	msim_xr_input(&x, b, n, 20); /* the same block again */
	assert_int_equal(last(&r), MSIM_XR_ACK);
	assert_int_equal(r.data_n, 1024);
	n = block(b, 2, d, 128, true);
	b[50] ^= 1;
	msim_xr_input(&x, b, n, 30);
	assert_int_equal(last(&r), MSIM_XR_NAK);
	b[50] ^= 1;
	for (size_t i = 0; i < n; i++)
		msim_xr_input(&x, b + i, 1, 40); /* a byte at a time */
	assert_int_equal(last(&r), MSIM_XR_ACK);
	msim_xr_input(&x, (const uint8_t *)"\x04", 1, 50);
	assert_int_equal(x.state, MSIM_XR_DONE);
	assert_int_equal(x.blocks, 2);
	assert_int_equal(x.errors, 1);
	assert_int_equal(r.data_n, 1152);
	assert_memory_equal(r.data + 1024, d, 128);
}

/* Data after the first NAK: the 8-bit checksum. */
static void test_xr_checksum(void **state)
{
	struct msim_xrecv x;
	struct xr_rig r = {0};
	uint8_t d[128], b[200];
	size_t n;

	(void)state;
	memset(d, 0x5a, sizeof(d));
	msim_xr_start(&x, 0, 1000, rig_out, rig_data, &r);
	for (int i = 0; i < 3; i++)
		msim_xr_tick(&x, msim_xr_deadline(&x));
	assert_int_equal(last(&r), MSIM_XR_NAK);
	assert_false(x.crc);
	n = block(b, 1, d, 128, false);
	msim_xr_input(&x, b, n, 100);
	assert_int_equal(last(&r), MSIM_XR_ACK);
	assert_int_equal(r.data_n, 128);
}

static void test_xr_failures(void **state)
{
	struct msim_xrecv x;
	struct xr_rig r = {0};
	uint8_t d[128] = {0}, b[200];
	size_t n;

	(void)state;
	/* the sender cancels */
	msim_xr_start(&x, 0, 1, rig_out, rig_data, &r);
	msim_xr_input(&x, (const uint8_t *)"\x18\x18", 2, 1);
	assert_int_equal(x.result, MSIM_XR_CANCELLED);
	/* a block from the future: the receiver cancels with CAN CAN */
	memset(&r, 0, sizeof(r));
	msim_xr_start(&x, 0, 1, rig_out, rig_data, &r);
	n = block(b, 3, d, 128, true);
	msim_xr_input(&x, b, n, 1);
	assert_int_equal(x.result, MSIM_XR_SEQUENCE);
	assert_memory_equal(r.out + r.out_n - 2, "\x18\x18", 2);
	/* ten bad blocks in a row */
	memset(&r, 0, sizeof(r));
	msim_xr_start(&x, 0, 1, rig_out, rig_data, &r);
	n = block(b, 1, d, 128, true);
	b[2] = 0; /* a wrong complement */
	for (int i = 0; i < 10; i++)
		msim_xr_input(&x, b, n, 1);
	assert_int_equal(x.result, MSIM_XR_ERRORS);
	/* the storage refuses */
	memset(&r, 0, sizeof(r));
	r.refuse = true;
	msim_xr_start(&x, 0, 1, rig_out, rig_data, &r);
	n = block(b, 1, d, 128, true);
	msim_xr_input(&x, b, n, 1);
	assert_int_equal(x.result, MSIM_XR_REFUSED);
	/* silence in the middle of a block: NAK after 10 s, then the block again is fine */
	memset(&r, 0, sizeof(r));
	msim_xr_start(&x, 0, 1, rig_out, rig_data, &r);
	msim_xr_input(&x, b, 40, 1);
	msim_xr_tick(&x, 10001);
	assert_int_equal(last(&r), MSIM_XR_NAK);
	assert_int_equal(x.state, MSIM_XR_DATA);
}

/* Back to back while bytes are queued; a pause earns nothing. */
static void test_wire(void **state)
{
	struct msim_wire w = {0};
	uint64_t b = msim_wire_byte_ns(115200); /* 86805 ns */

	(void)state;
	assert_int_equal(b, 86805);
	assert_int_equal(msim_wire_due(&w, 1000000, b, 10), 0); /* starts now */
	assert_int_equal(msim_wire_done_ns(&w, 1000000, b, 10), 1000000 + 10 * b);
	assert_int_equal(msim_wire_due(&w, 1000000 + 3 * b + 5, b, 10), 3);
	assert_int_equal(msim_wire_due(&w, 1000000 + 10 * b, b, 7), 7);
	/* idle for a second: the next bytes still take their time from now */
	assert_int_equal(msim_wire_due(&w, 2000000000, b, 0), 0);
	assert_int_equal(msim_wire_due(&w, 3000000000, b, 100), 0);
	assert_int_equal(msim_wire_due(&w, 3000000000 + 50 * b, b, 100), 50);
	/* the queue emptied: bytes queued later start when they come, not at the last byte */
	assert_int_equal(msim_wire_due(&w, 3000000000 + 100 * b, b, 50), 50);
	assert_int_equal(msim_wire_due(&w, 3000000000 + 100 * b + 1, b, 5), 0);
	assert_int_equal(msim_wire_done_ns(&w, 0, b, 0), UINT64_MAX);
}

/* What NVM holds survives a save and a load; a broken line is refused. */
static void test_state_file(void **state)
{
	struct msim_nvm a, b;
	char path[] = "/tmp/test_msim_nvm_XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	msim_nvm_defaults(&a);
	a.ipr = 921600;
	a.mnoprof = 100;
	a.cfun4 = 1;
	snprintf(a.greeting_text, sizeof(a.greeting_text), "HELLO THERE");
	snprintf(a.pdp_type[0], sizeof(a.pdp_type[0]), "IP");
	snprintf(a.apn[0], sizeof(a.apn[0]), "fuota.apn");
	snprintf(a.pdp_type[7], sizeof(a.pdp_type[7]), "IPV4V6");
	a.upsd_cid = 1;
	assert_int_equal(msim_nvm_save(&a, path), 0);
	msim_nvm_defaults(&b);
	assert_int_equal(msim_nvm_load(&b, path), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("mnoprof 999\n", f);
	fclose(f);
	assert_int_equal(msim_nvm_load(&b, path), -1);
	unlink(path);
	assert_int_equal(msim_nvm_load(&b, path), 0); /* no file: a new module */
}

int main(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(test_at_parse),    cmocka_unit_test(test_xr_window),
	        cmocka_unit_test(test_xr_crc),      cmocka_unit_test(test_xr_checksum),
	        cmocka_unit_test(test_xr_failures), cmocka_unit_test(test_state_file),
	        cmocka_unit_test(test_wire),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
