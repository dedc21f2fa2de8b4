/* The Xmodem / Xmodem-1k sender (CELLULAR-NOTES §4; the SARA-R5 FW app note §4.1).
 *
 * The receiver chooses the mode: 'C' asks for CRC-16/XMODEM, NAK for the 8-bit checksum. With
 * XM_1K the sender uses 1024-byte blocks (STX) while more than 896 bytes remain and 128-byte blocks
 * (SOH) for the tail, so no 1K block carries more than 128 bytes of padding. The handshake window
 * defaults to the SARA-R5's: 3 'C' 3 s apart, then 10 NAK 10 s apart, 109 s in all; the sender
 * waits that long (plus the ACK timeout) for the first 'C' or NAK.
 *
 * I/O through a struct cell_io and time through a struct cell_clock, so tests run without waiting.
 * No globals, no allocation. */
#ifndef FUOTA_XMODEM_H
#define FUOTA_XMODEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/cell_serial.h"

enum {
	XM_SOH = 0x01,
	XM_STX = 0x02,
	XM_EOT = 0x04,
	XM_ACK = 0x06,
	XM_NAK = 0x15,
	XM_CAN = 0x18,
	XM_CRC = 0x43 /* 'C' */
};

/* Returns false to cancel the transfer (the sender then sends CAN CAN ... and returns
 * FUOTA_ERR_STATE). sent and total are bytes of the file. */
typedef bool (*xm_progress_fn)(void *ctx, size_t sent, size_t total);

struct xm_config {
	struct cell_io io;              /* required */
	const struct cell_clock *clock; /* NULL: cell_clock_monotonic() */
	bool use_1k;                    /* Xmodem-1k blocks */
	uint8_t pad;                    /* padding byte of the last block; default 0x1A */
	bool pad_set;                   /* pad is meaningful (0x00 is a valid pad) */
	unsigned retries;               /* sends of one block before giving up; 0: 10 */
	uint32_t handshake_ms;          /* wait for the first 'C'/NAK; 0: 109000 + ack_timeout */
	uint32_t ack_timeout_ms;        /* wait for ACK/NAK after a block or EOT; 0: 10000 */
	xm_progress_fn progress;        /* may be NULL */
	void *progress_ctx;
};

struct xm_stats {
	bool crc;              /* the receiver chose CRC-16 */
	unsigned blocks;       /* blocks acknowledged */
	unsigned resends;      /* blocks sent again (NAK, timeout, garbage) */
	uint64_t handshake_ms; /* time spent waiting for the receiver's first 'C'/NAK */
};

/* Sends data[0..len) to the receiver. Returns 0 when every block and the EOT were acknowledged;
 * FUOTA_ERR_TIMEOUT when the handshake window passed or a block ran out of retries;
 * FUOTA_ERR_CONFLICT when the receiver cancelled (CAN CAN); FUOTA_ERR_STATE when the progress
 * callback cancelled; FUOTA_ERR_IO when the stream failed; FUOTA_ERR_INVALID_ARG. stats may be
 * NULL. */
int xm_send(const struct xm_config *cfg, const uint8_t *data, size_t len, struct xm_stats *stats);

/* CRC-16/XMODEM (poly 0x1021, init 0, no reflection). Pure. */
uint16_t xm_crc16(const uint8_t *p, size_t n);

/* Builds block number blk (1-based, taken modulo 256) into out: start byte, number, complement,
 * size bytes of data (src_len ≤ size; padded with pad), then CRC-16 big-endian (crc) or the 8-bit
 * sum. size is 128 or 1024; out must hold size + 5 bytes. Returns the frame length. Pure. */
size_t xm_block(uint8_t *out, unsigned blk, const uint8_t *src, size_t src_len, size_t size,
                bool crc, uint8_t pad);

#endif
