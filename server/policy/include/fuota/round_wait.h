/* How long fuotad waits for the devices' reports after a request: the one formula the job plan
 * (plan.c) and the engine (engine_calc.c, engine_dev.c) share, so that what a plan announces is
 * what the engine does. Pure. */
#ifndef FUOTA_ROUND_WAIT_H
#define FUOTA_ROUND_WAIT_H

#include <stdbool.h>
#include <stdint.h>

/* A TS004 device delays its report (v1 FragSessionStatusAns, v2 FragDataBlockReceivedReq) by a
 * random time of up to 2^(BlockAckDelay + 4) seconds (PROTOCOL-NOTES §4.2). block_ack_delay is
 * masked to its 3 bits. */
uint64_t policy_feedback_window_s(uint8_t block_ack_delay);

/* The wait after a round's status request: the feedback window, then the report goes out with the
 * device's next uplink, which the job's unicast timeout covers. */
uint64_t policy_round_wait_s(uint8_t block_ack_delay, unsigned unicast_timeout_s);

/* Multicast status requests in a row that nobody answered before a TS004 v1 session stops. */
#define POLICY_SILENT_REQUESTS 2

/* A TS004 v1 device answers a multicast FragSessionStatusReq (Participants = 0) only while it
 * misses fragments, so a round nobody answered says that every device has the image, but only
 * if every device still missing fragments heard the request, and fuotad heard every uplink
 * since it went out (asked_ms). A device that lost the request (or whose answer was lost on the
 * air) is silent too: one silent request leaves it behind with the loss rate's probability, the
 * second one in a row with its square, hence POLICY_SILENT_REQUESTS. silent_requests: the
 * requests in a row, this one included, that no device answered. heard_since_ms: when the
 * listening fuotad last began to hear uplinks (its start, its reconnection to the broker). A
 * fuotad killed and restarted in the wait, or a broker restarted in it, may have missed answers:
 * the silence then proves nothing. */
bool policy_round_silence_proves(int64_t asked_ms, int64_t heard_since_ms,
                                 unsigned silent_requests);

#endif
