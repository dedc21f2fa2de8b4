/* How long fuotad waits for the devices' reports after a request: the one formula the job plan
 * (plan.c) and the engine (engine_calc.c, engine_dev.c) share, so that what a plan announces is
 * what the engine does. Pure. */
#ifndef FUOTA_ROUND_WAIT_H
#define FUOTA_ROUND_WAIT_H

#include <stdint.h>

/* A TS004 device delays its report (v1 FragSessionStatusAns, v2 FragDataBlockReceivedReq) by a
 * random time of up to 2^(BlockAckDelay + 4) seconds (PROTOCOL-NOTES §4.2). block_ack_delay is
 * masked to its 3 bits. */
uint64_t policy_feedback_window_s(uint8_t block_ack_delay);

/* The wait after a round's status request: the feedback window, then the report goes out with the
 * device's next uplink, which the job's unicast timeout covers. */
uint64_t policy_round_wait_s(uint8_t block_ack_delay, unsigned unicast_timeout_s);

#endif
