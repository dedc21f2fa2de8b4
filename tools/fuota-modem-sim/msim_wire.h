/* A UART wire in one direction, for pacing (pure): bytes queued for it complete one every
 * byte_ns, back to back while the queue holds some. Idle time is no credit: after a pause the
 * next byte still takes its full time, as on a real line (a token bucket would let a burst
 * through after every ACK wait and overstate an Xmodem transfer's rate). */
#ifndef MSIM_WIRE_H
#define MSIM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct msim_wire {
	uint64_t start_ns; /* when the byte now on the wire started */
	uint64_t free_ns;  /* when the wire fell idle */
	bool busy;
};

/* The time one byte takes at baud, 8N1 (10 bits). */
uint64_t msim_wire_byte_ns(unsigned baud);

/* How many of the `queued` bytes have completed by now_ns; the wire moves past them. */
size_t msim_wire_due(struct msim_wire *w, uint64_t now_ns, uint64_t byte_ns, size_t queued);

/* When the last of `queued` bytes will have completed (UINT64_MAX when none is queued). */
uint64_t msim_wire_done_ns(const struct msim_wire *w, uint64_t now_ns, uint64_t byte_ns,
                           size_t queued);

#endif
