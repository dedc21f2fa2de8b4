/* The adapter's too-late rule, pure: a downlink whose emission time has passed, or will have
 * passed by the time it can reach the concentrator, is acked TOO_LATE and never sent late.
 *
 * The adapter does not read the concentrator's clock. It keeps a reference: the tmst of the last
 * rxpk and the host's monotonic time when that PUSH_DATA arrived (loopback, so the gap is well
 * under a millisecond); the counter now is tmst + elapsed. For GPS-timed frames it needs the host's
 * GPS time (offset from the monotonic clock), known when the host clock is synchronised. */
#ifndef FUOTA_GW_SCHED_H
#define FUOTA_GW_SCHED_H

#include <stdint.h>

#include "fuota/sudp.h"

struct gw_timeref {
	int has_tmst;              /* a counter reading is known */
	uint32_t tmst;             /* the concentrator counter, us */
	int64_t tmst_mono_us;      /* host monotonic time of that reading */
	int has_gps;               /* the host knows GPS time */
	int64_t gps_minus_mono_us; /* GPS time since the GPS epoch - host monotonic time, us */
};

/* The lead the packet forwarder's just-in-time queue needs before a timed emission; a txpk
 * arriving with less is refused by the forwarder itself. Callers add the time the rest of the
 * path takes (the modem read of the message, the decode) to form carry_us. */
#define GW_FWD_LEAD_US 40000

/* Whether tx, about to be handed on at now_mono_us and needing carry_us more to reach the
 * concentrator, is too late: 1 too late, 0 send it. Immediate frames are never too late. A timed
 * frame whose reference is unknown (no uplink seen yet, no GPS time) is passed on: the forwarder
 * judges it and acks TOO_LATE itself. tmst differences are taken modulo 2^32 as signed, so a
 * target up to 35 min ahead or behind is told apart. */
int gw_too_late(const struct sudp_txpk *tx, const struct gw_timeref *ref, int64_t now_mono_us,
                int64_t carry_us);

#endif
