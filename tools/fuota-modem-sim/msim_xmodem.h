/* The simulator's Xmodem receiver (the module's FOAT receiver): 128-byte (SOH) and 1024-byte
 * (STX) blocks, CRC-16/XMODEM or the 8-bit checksum. Pure: bytes and the time in, control bytes
 * and block data out through callbacks.
 *
 * The handshake follows the SARA-R5 FW app note §4.1: up to 3 'C' 3 s apart, then up to 10 NAK
 * 10 s apart, 109 s in all; data that starts while 'C's are being sent makes it a CRC-16 transfer,
 * after the first NAK an 8-bit checksum one. Every time is divided by `scale` so tests can run
 * the window in a second. */
#ifndef MSIM_XMODEM_H
#define MSIM_XMODEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSIM_XR_SOH 0x01
#define MSIM_XR_STX 0x02
#define MSIM_XR_EOT 0x04
#define MSIM_XR_ACK 0x06
#define MSIM_XR_NAK 0x15
#define MSIM_XR_CAN 0x18
#define MSIM_XR_C   0x43

enum msim_xr_state {
	MSIM_XR_HANDSHAKE,
	MSIM_XR_DATA,
	MSIM_XR_DONE,   /* EOT acknowledged: every block delivered */
	MSIM_XR_FAILED, /* see result */
};

enum msim_xr_result {
	MSIM_XR_OK = 0,
	MSIM_XR_TIMEOUT = -1,   /* the handshake window or the line went quiet too long */
	MSIM_XR_CANCELLED = -2, /* the sender sent CAN CAN */
	MSIM_XR_ERRORS = -3,    /* too many bad blocks in a row */
	MSIM_XR_SEQUENCE = -4,  /* a block out of sequence: the transfer cannot go on */
	MSIM_XR_REFUSED = -5, /* the data callback refused a block (e.g. the file system is full) */
};

struct msim_xrecv {
	enum msim_xr_state state;
	enum msim_xr_result result;
	bool crc;
	unsigned handshakes; /* 'C's and NAKs sent before the first block */
	unsigned scale;
	uint64_t deadline_ms;
	uint8_t expect; /* the next block number */
	uint8_t blk[3 + 1024 + 2];
	size_t blk_n, blk_want;
	unsigned bad_in_row, cans;
	unsigned long blocks, errors;
	void (*out)(void *ctx, uint8_t byte);
	int (*data)(void *ctx, const uint8_t *d, size_t n); /* 0, or refuse with -1 */
	void *ctx;
};

/* Starts a receiver: sends the first 'C' now. scale >= 1 divides the timings. */
void msim_xr_start(struct msim_xrecv *x, uint64_t now_ms, unsigned scale,
                   void (*out)(void *, uint8_t), int (*data)(void *, const uint8_t *, size_t),
                   void *ctx);
/* Feeds bytes from the sender. */
void msim_xr_input(struct msim_xrecv *x, const uint8_t *d, size_t n, uint64_t now_ms);
/* Runs the timers (handshake repeats, silence); call at msim_xr_deadline() or later. */
void msim_xr_tick(struct msim_xrecv *x, uint64_t now_ms);
/* When msim_xr_tick wants to run next; UINT64_MAX once done or failed. */
uint64_t msim_xr_deadline(const struct msim_xrecv *x);
/* CRC-16/XMODEM (poly 0x1021, init 0, no reflection). */
uint16_t msim_xr_crc16(const uint8_t *d, size_t n);

#endif
