/* The wait for the devices' reports (see fuota/round_wait.h). */
#include "fuota/round_wait.h"

uint64_t policy_feedback_window_s(uint8_t block_ack_delay)
{
	return UINT64_C(1) << ((block_ack_delay & 0x07) + 4);
}

uint64_t policy_round_wait_s(uint8_t block_ack_delay, unsigned unicast_timeout_s)
{
	return policy_feedback_window_s(block_ack_delay) + unicast_timeout_s;
}

bool policy_round_silence_proves(int64_t asked_ms, int64_t heard_since_ms, unsigned silent_requests)
{
	return heard_since_ms <= asked_ms && silent_requests >= POLICY_SILENT_REQUESTS;
}
