/* TS005 session timing (PROTOCOL-NOTES §5.2, §7; the class B constants are in mc_session.h). */
#include "fuota/bytes.h"
#include "fuota/err.h"
#include "fuota/lw_crypto.h"
#include "fuota/mc.h"
#include "fuota/mc_session.h"

#define BEACON_PERIOD_MS ((int64_t)MC_BEACON_PERIOD_S * 1000)

int mc_classc_end(int64_t session_start_s, uint8_t timeout, int64_t *end_s)
{
	if (timeout > 15)
		return FUOTA_ERR_INVALID_ARG;
	*end_s = session_start_s + ((int64_t)1 << timeout);
	return FUOTA_OK;
}

uint32_t mc_classb_align(uint32_t session_time)
{
	return session_time - session_time % MC_BEACON_PERIOD_S;
}

int mc_classb_end(int64_t session_start_s, uint8_t timeout, int64_t *end_s)
{
	if (timeout > 15)
		return FUOTA_ERR_INVALID_ARG;
	*end_s = session_start_s + ((int64_t)MC_BEACON_PERIOD_S << timeout);
	return FUOTA_OK;
}

int mc_ping_nb(uint8_t periodicity, uint32_t *ping_nb)
{
	if (periodicity > 7)
		return FUOTA_ERR_INVALID_ARG;
	*ping_nb = 1u << (7 - periodicity);
	return FUOTA_OK;
}

int mc_ping_period_slots(uint8_t periodicity, uint32_t *slots)
{
	if (periodicity > 7)
		return FUOTA_ERR_INVALID_ARG;
	*slots = 1u << (5 + periodicity);
	return FUOTA_OK;
}

int mc_ping_offset(int64_t beacon_time_s, uint32_t mc_addr, uint8_t periodicity, uint32_t *offset)
{
	static const uint8_t zero_key[LW_KEY_LEN] = {0};
	uint8_t block[LW_BLOCK_LEN] = {0};
	uint32_t period;
	int rc;

	rc = mc_ping_period_slots(periodicity, &period);
	if (rc != FUOTA_OK)
		return rc;
	fuota_put_le32(block, (uint32_t)((uint64_t)beacon_time_s & 0xFFFFFFFFu));
	fuota_put_le32(block + 4, mc_addr);
	rc = lw_aes128_encrypt(zero_key, block, block);
	if (rc != FUOTA_OK)
		return rc;
	*offset = ((uint32_t)block[0] + 256u * block[1]) % period;
	return FUOTA_OK;
}

int mc_ping_slot_freq(const struct mc_classb_channels *plan, uint32_t mc_addr,
                      int64_t beacon_time_s, uint32_t *freq_hz)
{
	uint64_t k, f;

	if (plan->nb_channels == 0 || beacon_time_s < 0)
		return FUOTA_ERR_INVALID_ARG;
	k = ((uint64_t)mc_addr + (uint64_t)beacon_time_s / MC_BEACON_PERIOD_S) % plan->nb_channels;
	f = plan->base_hz + k * plan->step_hz;
	if (f > UINT32_MAX)
		return FUOTA_ERR_INVALID_ARG;
	*freq_hz = (uint32_t)f;
	return FUOTA_OK;
}

/* First slot of the period starting at bp_ms that starts after `after_ms` and at or after
 * `from_ms`; returns 0 when the period has none. */
static int slot_in_period(int64_t bp_ms, uint32_t offset, uint32_t period, uint32_t ping_nb,
                          int64_t after_ms, int64_t from_ms, int64_t *start_ms, uint32_t *n)
{
	for (uint32_t i = 0; i < ping_nb; i++) {
		int64_t t = bp_ms + MC_BEACON_RESERVED_MS +
		            ((int64_t)offset + (int64_t)i * period) * MC_PING_SLOT_MS;

		if (t > after_ms && t >= from_ms) {
			*start_ms = t;
			*n = i;
			return 1;
		}
	}
	return 0;
}

int mc_classb_next_slot(const struct mc_classb_session *s, int64_t after_ms, struct mc_slot *slot)
{
	uint32_t ping_nb, period, offset;
	int64_t start_ms, end_s, end_ms, from, bp_ms;
	int rc;

	/* start_s beyond 2^40 s (35,000 years) would overflow the millisecond arithmetic. */
	if (s->start_s < 0 || s->start_s > ((int64_t)1 << 40) ||
	    mc_ping_nb(s->periodicity, &ping_nb) != FUOTA_OK ||
	    mc_classb_end(s->start_s, s->timeout, &end_s) != FUOTA_OK ||
	    (s->dl_freq_hz == 0 && s->plan.nb_channels == 0))
		return FUOTA_ERR_INVALID_ARG;
	period = MC_BEACON_WINDOW_SLOTS / ping_nb;
	start_ms = s->start_s * 1000;
	end_ms = end_s * 1000;
	from = after_ms > start_ms ? after_ms : start_ms;
	bp_ms = from - from % BEACON_PERIOD_MS;
	for (; bp_ms < end_ms; bp_ms += BEACON_PERIOD_MS) {
		int64_t t;
		uint32_t n;

		rc = mc_ping_offset(bp_ms / 1000, s->mc_addr, s->periodicity, &offset);
		if (rc != FUOTA_OK)
			return rc;
		if (!slot_in_period(bp_ms, offset, period, ping_nb, after_ms, start_ms, &t, &n))
			continue;
		if (t >= end_ms)
			break;
		slot->start_ms = t;
		slot->n = n;
		slot->beacon_time_s = bp_ms / 1000;
		if (s->dl_freq_hz != 0) {
			slot->freq_hz = s->dl_freq_hz;
			return FUOTA_OK;
		}
		return mc_ping_slot_freq(&s->plan, s->mc_addr, slot->beacon_time_s, &slot->freq_hz);
	}
	return FUOTA_ERR_NOT_FOUND;
}

void mc_time_to_start(uint32_t session_time, uint32_t now_s, bool clock_synced,
                      uint32_t *time_to_start, bool *start_missed)
{
	uint32_t d = session_time - now_s; /* modulo 2^32 */

	*start_missed = false;
	*time_to_start = 0;
	if (!clock_synced) {
		*time_to_start = MC_TIME_TO_START_MAX;
		return;
	}
	if (d >= 0x80000000u) { /* negative as a signed 32-bit difference */
		*start_missed = true;
		return;
	}
	*time_to_start = d > MC_TIME_TO_START_MAX ? MC_TIME_TO_START_MAX : d;
}
