/* The job plan: what a job will send and how long it will take, from the regional tables of
 * lorawan/ (lw_region.h, lw_airtime.h). The rules follow TS004/TS005 and ChirpStack's automatic
 * parameters (CHIRPSTACK-NOTES §3.3): FragSize = N - 3; parity = ceil(fragments * percent / 100);
 * class C TimeOut t: 2^t s covers the session; class B: 128 * 2^t s (beacon periods). */
#include "fuota/plan.h"

#include <stdlib.h>
#include <string.h>

#include "fuota/dev_stack.h"
#include "fuota/err.h"
#include "fuota/lw_airtime.h"
#include "fuota/lw_region.h"
#include "fuota/plan_parts.h"
#include "fuota/round_wait.h"

#define MAX_TIMEOUT_EXP 15u
#define BEACON_PERIOD_S 128u

void job_params_init(struct job_params *p)
{
	memset(p, 0, sizeof(*p));
	p->redundancy_frames = -1;
	p->redundancy_percent = -1;
	p->ping_slot_periodicity = -1;
}

uint32_t plan_frag_limit_exceeded(unsigned nb_frag, const char *stack, int64_t max_frags)
{
	enum dev_stack st = DEV_STACK_TS004;
	uint32_t limit;

	if (dev_stack_parse(stack, &st) != 0)
		st = DEV_STACK_TS004;
	limit = dev_stack_frag_limit(st, max_frags);
	return limit > 0 && nb_frag > limit ? limit : 0;
}

void job_params_free(struct job_params *p)
{
	if (!p)
		return;
	free(p->dev_euis);
	p->dev_euis = NULL;
	p->n_devices = 0;
}

static uint64_t div_ceil(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* Fragment size, counts and parity, the image split into parts (fuota/plan_parts.h) when one
 * session cannot carry it or the devices' limit asks for it. */
static int plan_fragments(const struct job_params *p, size_t size, const struct lw_dr *dr,
                          struct job_plan *out, struct api_error *e)
{
	const char *img = p->image_field[0] ? p->image_field : "firmware_id";
	unsigned max_fs = dr->max_payload - LW_FRAG_HEADER_LEN;
	struct plan_split_in in;
	struct plan_split sp;
	uint64_t nb;
	int rc;

	out->max_payload = dr->max_payload;
	if (p->fragment_size > max_fs)
		return api_error_field(
		        e, "fragment_size",
		        "%s DR%u carries at most %u bytes per fragment (N = %u - 3), "
		        "not %u",
		        p->region, p->data_rate, max_fs, dr->max_payload, p->fragment_size);
	if (size == 0)
		return api_error_field(e, img, "the firmware image is empty");
	out->fragment_size = p->fragment_size ? p->fragment_size : max_fs;
	if (out->fragment_size > size)
		out->fragment_size = (unsigned)size;
	nb = div_ceil(size, out->fragment_size);
	in = (struct plan_split_in){nb, p->redundancy_frames, p->redundancy_percent,
	                            p->part_frag_limit, img};
	rc = plan_split(&in, &sp, e);
	if (rc != FUOTA_OK)
		return rc;
	out->nb_frag = (unsigned)nb;
	out->padding = (unsigned)(nb * out->fragment_size - size);
	out->redundancy = (unsigned)sp.parity;
	out->total_frames = (unsigned)(nb + sp.parity);
	out->sessions = 1;
	out->parts = sp.parts;
	out->part_frags = sp.part_frags;
	out->last_part_frags = sp.last_frags;
	out->part_parity = sp.part_parity;
	out->last_part_parity = sp.last_parity;
	return FUOTA_OK;
}

/* The time `frames` frames take on the session's class (ping slots or duty cycle), plus wait_s
 * of waiting (class B: whole beacon periods). */
static uint64_t session_need_s(const struct job_params *p, uint64_t interval_us, uint64_t frames,
                               uint64_t wait_s)
{
	if (p->multicast_class == 'B') {
		/* pingNb = 2^(7 - periodicity) slots per beacon period, one frame per slot, as many
		 * as the duty cycle allows in 128 s; one more period to start. */
		uint64_t per_period = 1ull << (7 - p->ping_slot_periodicity);
		uint64_t dc_cap = BEACON_PERIOD_S * 1000000ull / (interval_us ? interval_us : 1);

		if (dc_cap < per_period)
			per_period = dc_cap ? dc_cap : 1;
		return (div_ceil(frames, per_period) + 1 + div_ceil(wait_s, BEACON_PERIOD_S)) *
		       BEACON_PERIOD_S;
	}
	return div_ceil(frames * interval_us, 1000000) + 1 + wait_s;
}

/* The smallest TimeOut exponent t with unit_s << t >= want_s; MAX_TIMEOUT_EXP + 1 if none. */
static unsigned timeout_exp(uint64_t unit_s, uint64_t want_s)
{
	unsigned t;

	for (t = 0; t <= MAX_TIMEOUT_EXP; t++)
		if ((unit_s << t) >= want_s)
			break;
	return t;
}

/* Multicast session length and the TS005 TimeOut exponent. */
static int plan_session(const struct job_params *p, uint64_t interval_us, struct job_plan *out,
                        struct api_error *e)
{
	uint64_t need_s, want_s, unit_s = p->multicast_class == 'B' ? BEACON_PERIOD_S : 1;
	unsigned t;

	/* Every part has a session of its own; the TimeOut covers the largest (a part of F). */
	need_s = session_need_s(p, interval_us, (uint64_t)out->part_frags + out->part_parity, 0);
	out->multicast_s =
	        need_s * (out->parts - 1) +
	        session_need_s(p, interval_us,
	                       (uint64_t)out->last_part_frags + out->last_part_parity, 0);
	if (p->multicast_timeout_s && p->multicast_timeout_s < need_s)
		return api_error_field(e, "multicast_timeout_s",
		                       "%u s is too short: %u frames at %s DR%u need about %llu s",
		                       p->multicast_timeout_s, out->part_frags + out->part_parity,
		                       p->region, p->data_rate, (unsigned long long)need_s);
	want_s = p->multicast_timeout_s ? p->multicast_timeout_s : need_s;
	t = timeout_exp(unit_s, want_s);
	if (t > MAX_TIMEOUT_EXP)
		return api_error_field(
		        e, p->multicast_timeout_s ? "multicast_timeout_s" : "data_rate",
		        "the session would last %llu s, more than the longest TS005 "
		        "timeout (%llu s): use a faster data rate or less redundancy",
		        (unsigned long long)want_s,
		        (unsigned long long)(unit_s << MAX_TIMEOUT_EXP));
	out->mc_timeout_exp = t;
	out->mc_timeout_s = unit_s << t;
	return FUOTA_OK;
}

int plan_compute(const struct job_params *p, size_t firmware_size, struct job_plan *out,
                 struct api_error *e)
{
	const struct lw_region *r = lw_region_find(p->region);
	const struct lw_subband *sb;
	const struct lw_dr *dr;
	uint64_t interval_us;
	unsigned inv;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!r)
		return api_error_field(e, "region", "unknown region \"%s\"", p->region);
	if (lw_region_dr(r, p->data_rate, &dr) != FUOTA_OK)
		return api_error_field(e, "data_rate", "DR%u is not a downlink data rate of %s",
		                       p->data_rate, r->name);
	if (p->frequency_hz > UINT32_MAX || !lw_region_dl_freq_ok(r, (uint32_t)p->frequency_hz))
		return api_error_field(e, "frequency_hz",
		                       "%llu Hz is not a downlink frequency of %s (%u..%u Hz%s)",
		                       (unsigned long long)p->frequency_hz, r->name, r->min_hz,
		                       r->max_hz, r->dl_channels ? ", on its channel grid" : "");
	/* Refused rather than capped: asking for more than the band allows is a mistake (ERP
	 * taken for EIRP, the wrong frequency) the operator should see, not a silent 29. */
	if (p->has_tx_power &&
	    p->tx_power_dbm > lw_region_max_eirp_dbm(r, (uint32_t)p->frequency_hz))
		return api_error_field(
		        e, "tx_power_dbm", "%d dBm is above the %d dBm EIRP %s allows on %llu Hz",
		        p->tx_power_dbm, lw_region_max_eirp_dbm(r, (uint32_t)p->frequency_hz),
		        r->name, (unsigned long long)p->frequency_hz);
	out->tx_power_dbm = lw_region_tx_power_dbm(r, (uint32_t)p->frequency_hz, p->has_tx_power,
	                                           p->tx_power_dbm);
	if (p->multicast_class == 'B' &&
	    (p->ping_slot_periodicity < 0 || p->ping_slot_periodicity > 7))
		return api_error_field(e, "ping_slot_periodicity",
		                       "class B needs ping_slot_periodicity 0..7");
	rc = plan_fragments(p, firmware_size, dr, out, e);
	if (rc != FUOTA_OK)
		return rc;
	if (lw_airtime_lorawan_us(dr,
	                          out->fragment_size + LW_FRAG_HEADER_LEN + LW_DATA_FRAME_OVERHEAD,
	                          true, &out->frame_airtime_us) != FUOTA_OK)
		return api_error_field(e, "data_rate", "no time on air for DR%u of %s",
		                       p->data_rate, r->name);
	sb = lw_region_subband(r, (uint32_t)p->frequency_hz);
	inv = sb ? sb->duty_cycle_inv : 1;
	out->duty_cycle = 1.0 / (inv ? inv : 1);
	interval_us = lw_duty_cycle_interval_us(out->frame_airtime_us, (uint16_t)inv);
	out->frame_interval_us = interval_us;
	out->total_airtime_ms = div_ceil(out->frame_airtime_us * out->total_frames, 1000);
	rc = plan_session(p, interval_us, out, e);
	if (rc != FUOTA_OK)
		return rc;
	/* McGroupSetup, FragSessionSetup, McClassX/SessionSetup (and TS006 DevVersionReq first
	 * with a target_version, DevReboot*Req and DevVersionReq after a reboot): each unicast step
	 * may take every attempt's timeout before the job moves on. */
	out->unicast_s = (3ull + (p->has_target_version ? 1 : 0) + (plan_reboots(p) ? 2 : 0) +
	                  2ull * (out->parts - 1)) *
	                 p->unicast_attempts * p->unicast_timeout_s;
	out->duration_s = out->unicast_s + out->parts * out->mc_timeout_s + p->reboot_in_s;
	return FUOTA_OK;
}

bool plan_reboots(const struct job_params *p)
{
	return p->reboot_in_s > 0 || p->reboot_at[0] != 0;
}

bool plan_reboot_early(int64_t reboot_at_ms, int64_t start_ms, uint64_t duration_s,
                       int64_t *early_s)
{
	int64_t end_ms =
	        start_ms +
	        (int64_t)(duration_s > INT64_MAX / 2000 ? INT64_MAX / 2000 : duration_s) * 1000;

	*early_s = 0;
	if (reboot_at_ms <= 0 || reboot_at_ms >= end_ms)
		return false;
	*early_s = (end_ms - reboot_at_ms + 999) / 1000;
	return true;
}

uint64_t plan_round_wait_s(unsigned wait_s, unsigned unicast_timeout_s)
{
	if (wait_s)
		return wait_s;
	return policy_round_wait_s(PLAN_BLOCK_ACK_DELAY, unicast_timeout_s);
}

/* The engine's parity cap for a part of m fragments and r parity frames:
 * PLAN_ADAPTIVE_CAP_PERCENT of m (rounded down), at least r, within the 16383 frames of a
 * session. */
static uint64_t adaptive_cap(uint64_t m, uint64_t r)
{
	uint64_t cap = m * PLAN_ADAPTIVE_CAP_PERCENT / 100;

	if (cap < r)
		cap = r;
	if (cap > PLAN_MAX_FRAMES - m)
		cap = PLAN_MAX_FRAMES - m;
	return cap;
}

int plan_compute_adaptive(const struct job_params *p, size_t firmware_size,
                          const struct plan_adaptive *a, struct job_plan *out, struct api_error *e)
{
	uint64_t unit_s = p->multicast_class == 'B' ? BEACON_PERIOD_S : 1, waits_s = 0, last_s;
	unsigned t;
	int rc = plan_compute(p, firmware_size, out, e);

	if (rc != FUOTA_OK || !a || !a->on)
		return rc;
	/* Per part: the cap and the rounds of a part of F fragments. */
	out->adaptive = true;
	out->rounds = a->rounds;
	out->max_parity = (unsigned)adaptive_cap(out->part_frags, out->part_parity);
	out->max_frames = out->part_frags + out->max_parity;
	if (a->rounds) {
		out->max_rounds = PLAN_ADAPTIVE_ROUNDS;
		out->round_wait_s = plan_round_wait_s(a->wait_s, p->unicast_timeout_s);
		/* Each round: a status request (a short frame, counted as a whole one) and the
		 * wait for the answers. */
		waits_s = out->max_rounds * out->round_wait_s;
	}
	out->worst_case_s = session_need_s(p, out->frame_interval_us,
	                                   (uint64_t)out->max_frames + out->max_rounds, waits_s);
	last_s = session_need_s(p, out->frame_interval_us,
	                        out->last_part_frags +
	                                adaptive_cap(out->last_part_frags, out->last_part_parity) +
	                                out->max_rounds,
	                        waits_s);
	out->multicast_s = out->worst_case_s * (out->parts - 1) + last_s;
	if (!p->multicast_timeout_s) {
		t = timeout_exp(unit_s, out->worst_case_s);
		if (t > MAX_TIMEOUT_EXP)
			t = MAX_TIMEOUT_EXP; /* the engine sends what fits, rounds give way first */
		if (t > out->mc_timeout_exp) {
			out->mc_timeout_exp = t;
			out->mc_timeout_s = unit_s << t;
		}
	}
	out->duration_s = out->unicast_s + out->parts * out->mc_timeout_s + p->reboot_in_s;
	return FUOTA_OK;
}
