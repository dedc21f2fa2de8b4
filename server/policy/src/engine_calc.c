/* The job engine's pure decisions (see fuota/engine_calc.h). */
#include <math.h>
#include <string.h>

#include "fuota/engine_calc.h"
#include "fuota/err.h"
#include "fuota/frag_mic.h"
#include "fuota/frag_row.h"
#include "fuota/lw_airtime.h"
#include "fuota/round_wait.h"

static const char *const step_names[ENGINE_STEP_COUNT] = {
        [ENGINE_STEP_PENDING] = "pending",
        [ENGINE_STEP_PKG_VERSION] = "pkg_version",
        [ENGINE_STEP_MC_SETUP] = "mc_setup",
        [ENGINE_STEP_FRAG_SETUP] = "frag_setup",
        [ENGINE_STEP_READY] = "ready",
        [ENGINE_STEP_MC_SESSION] = "mc_session",
        [ENGINE_STEP_SESSION] = "session",
        [ENGINE_STEP_FRAG_STATUS] = "frag_status",
        [ENGINE_STEP_CONFIRM] = "confirm",
        [ENGINE_STEP_CLEANUP] = "cleanup",
        [ENGINE_STEP_DONE] = "done",
        [ENGINE_STEP_FAILED] = "failed",
        [ENGINE_STEP_UNCONFIRMED] = "unconfirmed",
        [ENGINE_STEP_FW_VERSION] = "fw_version",
        [ENGINE_STEP_REBOOT] = "reboot",
        [ENGINE_STEP_FW_CHECK] = "fw_check",
};

const char *engine_step_name(enum engine_step s)
{
	if ((unsigned)s >= ENGINE_STEP_COUNT)
		return "?";
	return step_names[s];
}

static const char *const phase_names[ENGINE_PHASE_COUNT] = {
        [ENGINE_PHASE_SETUP] = "setup",       [ENGINE_PHASE_SESSION] = "session",
        [ENGINE_PHASE_TRANSMIT] = "transmit", [ENGINE_PHASE_STATUS] = "status",
        [ENGINE_PHASE_CLEANUP] = "cleanup",   [ENGINE_PHASE_DONE] = "done",
};

const char *engine_phase_name(enum engine_phase p)
{
	return (unsigned)p < ENGINE_PHASE_COUNT ? phase_names[p] : "?";
}

int engine_phase_parse(const char *name, enum engine_phase *p)
{
	if (!name)
		return FUOTA_ERR_MALFORMED;
	for (unsigned i = 0; i < ENGINE_PHASE_COUNT; i++) {
		if (strcmp(name, phase_names[i]) == 0) {
			*p = (enum engine_phase)i;
			return FUOTA_OK;
		}
	}
	return FUOTA_ERR_MALFORMED;
}

int engine_step_parse(const char *name, enum engine_step *s)
{
	if (!name)
		return FUOTA_ERR_MALFORMED;
	for (unsigned i = 0; i < ENGINE_STEP_COUNT; i++) {
		if (strcmp(name, step_names[i]) == 0) {
			*s = (enum engine_step)i;
			return FUOTA_OK;
		}
	}
	return FUOTA_ERR_MALFORMED;
}

bool engine_step_is_unicast(enum engine_step s)
{
	switch (s) {
	case ENGINE_STEP_FW_VERSION:
	case ENGINE_STEP_REBOOT:
	case ENGINE_STEP_FW_CHECK:
	case ENGINE_STEP_PKG_VERSION:
	case ENGINE_STEP_MC_SETUP:
	case ENGINE_STEP_FRAG_SETUP:
	case ENGINE_STEP_MC_SESSION:
	case ENGINE_STEP_FRAG_STATUS:
	case ENGINE_STEP_CONFIRM:
	case ENGINE_STEP_CLEANUP: return true;
	default: return false;
	}
}

bool engine_step_is_final(enum engine_step s)
{
	return s == ENGINE_STEP_DONE || s == ENGINE_STEP_FAILED || s == ENGINE_STEP_UNCONFIRMED;
}

bool engine_step_is_setup(enum engine_step s)
{
	return s == ENGINE_STEP_PENDING || s == ENGINE_STEP_FW_VERSION ||
	       s == ENGINE_STEP_PKG_VERSION || s == ENGINE_STEP_MC_SETUP ||
	       s == ENGINE_STEP_FRAG_SETUP;
}

enum engine_step engine_step_next(enum engine_step done, const struct engine_versions *v)
{
	switch (done) {
	case ENGINE_STEP_PENDING:
		if (v && v->fw_check && v->ts006 >= 1)
			return ENGINE_STEP_FW_VERSION;
		/* fall through */
	case ENGINE_STEP_FW_VERSION:
		if (!v || v->ts004 == 0 || v->ts005 == 0)
			return ENGINE_STEP_PKG_VERSION;
		return ENGINE_STEP_MC_SETUP;
	case ENGINE_STEP_PKG_VERSION: return ENGINE_STEP_MC_SETUP;
	case ENGINE_STEP_MC_SETUP: return ENGINE_STEP_FRAG_SETUP;
	case ENGINE_STEP_FRAG_SETUP: return ENGINE_STEP_READY;
	case ENGINE_STEP_READY: return ENGINE_STEP_MC_SESSION;
	case ENGINE_STEP_MC_SESSION: return ENGINE_STEP_SESSION;
	case ENGINE_STEP_SESSION: return ENGINE_STEP_FRAG_STATUS;
	case ENGINE_STEP_FRAG_STATUS:
	case ENGINE_STEP_CONFIRM: return ENGINE_STEP_CLEANUP;
	case ENGINE_STEP_CLEANUP: return ENGINE_STEP_DONE;
	default: return done;
	}
}

enum engine_step engine_fw_version_next(uint32_t target, uint32_t fw,
                                        const struct engine_versions *v)
{
	if (fw == target)
		return ENGINE_STEP_DONE;
	return engine_step_next(ENGINE_STEP_FW_VERSION, v);
}

enum engine_step engine_after_cleanup(bool unconfirmed, bool reboot, int ts006)
{
	if (unconfirmed)
		return ENGINE_STEP_UNCONFIRMED;
	return reboot && ts006 >= 1 ? ENGINE_STEP_REBOOT : ENGINE_STEP_DONE;
}

enum engine_step engine_after_part(unsigned part, unsigned parts, bool unconfirmed)
{
	return part + 1 < parts && !unconfirmed ? ENGINE_STEP_READY : ENGINE_STEP_CLEANUP;
}

uint32_t engine_reboot_countdown_s(int64_t reboot_at_ms, uint32_t reboot_in_s, int64_t now_ms,
                                   bool *by_time)
{
	*by_time = reboot_at_ms > 0 && reboot_at_ms > now_ms;
	if (*by_time)
		return 0;
	return reboot_at_ms > 0 || reboot_in_s == 0 ? 1 : reboot_in_s;
}

bool engine_reboot_late(int64_t reboot_at_ms, int64_t now_ms)
{
	return reboot_at_ms > 0 && reboot_at_ms <= now_ms;
}

enum engine_step engine_fw_check_next(uint32_t target, uint32_t fw)
{
	return fw == target ? ENGINE_STEP_DONE : ENGINE_STEP_FAILED;
}

enum engine_timeout_action engine_on_timeout(enum engine_step s, unsigned attempts,
                                             unsigned max_attempts)
{
	if (max_attempts == 0)
		max_attempts = 1;
	if (attempts < max_attempts)
		return ENGINE_RETRY;
	/* The session is over by then: an unanswered delete leaves nothing behind that the
	 * session timeout does not close, so it is not worth failing a device that has its image.
	 */
	if (s == ENGINE_STEP_CLEANUP || s == ENGINE_STEP_CONFIRM)
		return ENGINE_SKIP;
	return ENGINE_FAIL;
}

int engine_gw_cover(const struct engine_edge *edges, size_t n_edges, size_t n_dev, size_t n_gw,
                    uint8_t *chosen, size_t *n_chosen, size_t *n_uncovered, uint8_t *work)
{
	size_t left = 0, picked = 0;

	for (size_t i = 0; i < n_edges; i++)
		if (edges[i].dev >= n_dev || edges[i].gw >= n_gw)
			return FUOTA_ERR_INVALID_ARG;
	/* work[d]: 0 = no gateway hears d, 1 = heard but uncovered, 2 = covered. */
	memset(work, 0, n_dev);
	memset(chosen, 0, n_gw);
	for (size_t i = 0; i < n_edges; i++)
		work[edges[i].dev] = 1;
	for (size_t d = 0; d < n_dev; d++)
		left += work[d] == 1;
	*n_uncovered = n_dev - left;
	while (left > 0) {
		size_t best = n_gw, best_count = 0;
		int64_t best_q = INT64_MIN;

		/* O(gateways * edges) per pick: fine for the thousands of edges of one job. */
		for (size_t g = 0; g < n_gw; g++) {
			size_t count = 0;
			int64_t q = 0;

			if (chosen[g])
				continue;
			for (size_t i = 0; i < n_edges; i++) {
				if (edges[i].gw != g || work[edges[i].dev] != 1)
					continue;
				count++;
				q += edges[i].quality;
			}
			if (count > best_count ||
			    (count == best_count && count > 0 && q > best_q)) {
				best = g;
				best_count = count;
				best_q = q;
			}
		}
		if (best == n_gw)
			break; /* cannot happen: every device left is on some edge */
		chosen[best] = 1;
		picked++;
		for (size_t i = 0; i < n_edges; i++) {
			if (edges[i].gw == best && work[edges[i].dev] == 1) {
				work[edges[i].dev] = 2;
				left--;
			}
		}
	}
	*n_chosen = picked;
	return FUOTA_OK;
}

int64_t engine_pace(int64_t now_ms, int64_t *gw_free_ms, size_t n, uint64_t airtime_us,
                    uint16_t duty_cycle_inv)
{
	int64_t at = now_ms;
	uint64_t busy_us = lw_duty_cycle_interval_us(airtime_us, duty_cycle_inv);
	int64_t busy_ms = (int64_t)((busy_us + 999) / 1000);

	for (size_t i = 0; i < n; i++)
		if (gw_free_ms[i] > at)
			at = gw_free_ms[i];
	for (size_t i = 0; i < n; i++)
		gw_free_ms[i] = at + busy_ms;
	return at;
}

bool engine_redundancy_more(const struct engine_redundancy *r, uint32_t sent, uint32_t pending)
{
	uint32_t parity;

	if (sent < r->nb_frag)
		return true;
	if (r->nb_frag >= FRAG_MAX_N || sent >= FRAG_MAX_N)
		return false;
	parity = sent - r->nb_frag;
	if (parity < r->redundancy)
		return true;
	if (!r->adaptive)
		return false;
	return pending > 0 && parity < r->cap;
}

size_t engine_round_work_len(uint32_t max_need)
{
	return (size_t)max_need + ENGINE_DEP_ROWS + 2;
}

/* dep[x] = P(D = x), x = 0..ENGINE_DEP_ROWS: D the rows beyond the need a device takes (see
 * ENGINE_DEP_ROWS). */
static void dep_rows(double dep[ENGINE_DEP_ROWS + 1])
{
	double below = 0.0;

	for (unsigned x = 0; x <= ENGINE_DEP_ROWS; x++) {
		double at_most = 1.0;

		for (unsigned i = x + 1; i < x + 64; i++)
			at_most *= 1.0 - ldexp(1.0, -(int)i);
		dep[x] = at_most - below;
		below = at_most;
	}
}

/* f[k] = P(Bin(b, 1 - p) < k), k = 0..kmax. */
static void binom_below(uint32_t b, double p, uint32_t kmax, double *f)
{
	double q = 1.0 - p, acc = 0.0;

	for (uint32_t k = 0; k <= kmax; k++) {
		f[k] = acc < 1.0 ? acc : 1.0;
		if (k > b) {
			f[k] = 1.0;
			continue;
		}
		if (p <= 0.0) {
			acc = k == b ? 1.0 : 0.0;
			continue;
		}
		acc += exp(lgamma(b + 1.0) - lgamma(k + 1.0) - lgamma((double)(b - k) + 1.0) +
		           k * log(q) + (double)(b - k) * log(p));
	}
}

/* The expected number of devices still short after b frames. */
static double short_after(const uint32_t *need, size_t n, double p, uint32_t b, uint32_t kmax,
                          const double *dep, double *f)
{
	double sum = 0.0;

	binom_below(b, p, kmax, f);
	for (size_t i = 0; i < n; i++)
		for (unsigned x = 0; x <= ENGINE_DEP_ROWS; x++)
			sum += dep[x] * f[need[i] + x];
	return sum;
}

uint32_t engine_round_batch(const uint32_t *need, size_t n, double loss, double alpha, double *work,
                            size_t work_len)
{
	double p = loss > 0.0 ? (loss < 0.9 ? loss : 0.9) : 0.0, dep[ENGINE_DEP_ROWS + 1];
	uint32_t max_need = 0, lo, hi, kmax;

	for (size_t i = 0; i < n; i++)
		if (need[i] > max_need)
			max_need = need[i];
	if (n == 0 || max_need == 0 || max_need >= FRAG_MAX_N ||
	    work_len < engine_round_work_len(max_need))
		return 0;
	kmax = max_need + ENGINE_DEP_ROWS;
	dep_rows(dep);
	/* The expected number short falls as b grows: the smallest b at or below alpha. */
	lo = max_need;
	hi = FRAG_MAX_N;
	if (short_after(need, n, p, hi, kmax, dep, work) > alpha)
		return hi;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (short_after(need, n, p, mid, kmax, dep, work) <= alpha)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

uint32_t engine_round_first(uint32_t nb_frag, uint32_t redundancy, uint32_t loss_percent,
                            double *work, size_t work_len)
{
	double loss = (loss_percent > 90 ? 90 : loss_percent) / 100.0;
	uint32_t total =
	        engine_round_batch(&nb_frag, 1, loss, ENGINE_ROUND_FIRST_LEFT, work, work_len);
	uint32_t first = total > nb_frag ? total - nb_frag : 0;

	return first > redundancy ? first : redundancy;
}

uint32_t engine_status_need(uint32_t nb_frag, const struct engine_status *s)
{
	uint32_t need;

	if (s->received >= nb_frag)
		return 1;
	need = nb_frag - s->received;
	if (s->missing < 255 && s->missing < need)
		need = s->missing;
	return need > 0 ? need : 1;
}

void engine_round_next(uint32_t nb_frag, uint32_t sent, const struct engine_status *a,
                       uint32_t *need, size_t n, uint32_t default_loss_percent, double *work,
                       size_t work_len, struct engine_round_next *out)
{
	uint64_t lost = 0;

	memset(out, 0, sizeof(*out));
	out->loss = (default_loss_percent > 90 ? 90 : default_loss_percent) / 100.0;
	out->answers = (unsigned)n;
	if (n == 0 || !a || !need)
		return;
	for (size_t i = 0; i < n; i++) {
		need[i] = engine_status_need(nb_frag, &a[i]);
		if (need[i] > out->need)
			out->need = need[i];
		lost += a[i].received < sent ? sent - a[i].received : 0;
	}
	/* The devices that answer are the unlucky ones: their loss is on the safe side. */
	if (sent > 0)
		out->loss = (double)lost / ((double)sent * (double)n);
	out->batch = engine_round_batch(need, n, out->loss, ENGINE_ROUND_MISS, work, work_len);
}

uint64_t engine_round_pause_ms(uint8_t block_ack_delay, unsigned unicast_timeout_s)
{
	return policy_round_wait_s(block_ack_delay, unicast_timeout_s) * 1000u;
}

int engine_session_pick(const struct engine_session_tx *s, size_t n)
{
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		if (!s[i].more)
			continue;
		if (best < 0 || s[i].sent < s[best].sent ||
		    (s[i].sent == s[best].sent && s[i].frag_index < s[best].frag_index))
			best = (int)i;
	}
	return best;
}

uint64_t engine_multicast_need_s(bool class_b, int periodicity, uint64_t frames,
                                 uint64_t interval_us)
{
	uint64_t per_period, dc_cap;

	if (!class_b)
		return frames * interval_us / 1000000u + 60u;
	if (periodicity < 0 || periodicity > 7)
		periodicity = 0;
	per_period = UINT64_C(1) << (7 - periodicity);
	dc_cap = 128u * UINT64_C(1000000) / (interval_us ? interval_us : 1);
	if (dc_cap < per_period)
		per_period = dc_cap ? dc_cap : 1;
	return ((frames + per_period - 1) / per_period + 1) * 128u;
}

int engine_session_timeout(bool class_b, uint64_t duration_s, uint8_t *timeout)
{
	for (uint8_t t = 0; t <= 15; t++) {
		uint64_t len = (UINT64_C(1) << t) * (class_b ? 128u : 1u);

		if (len >= duration_s) {
			*timeout = t;
			return FUOTA_OK;
		}
	}
	return FUOTA_ERR_INVALID_ARG;
}

int64_t engine_session_start_ms(int64_t now_unix_ms, unsigned attempts, uint64_t timeout_ms,
                                uint64_t margin_ms)
{
	int64_t start = now_unix_ms + (int64_t)((uint64_t)attempts * timeout_ms + margin_ms);

	return (start + 999) / 1000 * 1000;
}

int64_t engine_classb_align_gps_s(int64_t gps_s)
{
	return (gps_s + 127) / 128 * 128;
}

bool engine_time_to_start_ok(int64_t min_expected_s, int64_t max_expected_s, uint32_t time_to_start,
                             uint32_t tolerance_s)
{
	int64_t t = (int64_t)time_to_start;

	if (max_expected_s < min_expected_s)
		max_expected_s = min_expected_s;
	return t >= min_expected_s - (int64_t)tolerance_s &&
	       t <= max_expected_s + (int64_t)tolerance_s;
}

bool engine_session_move(unsigned can_answer, unsigned moves)
{
	return can_answer > 0 && moves < ENGINE_SESSION_MOVES_MAX;
}

bool engine_session_reachable(int64_t start_ms, int64_t now_ms, uint32_t tolerance_s)
{
	return start_ms - now_ms > (int64_t)tolerance_s * 1000;
}

uint64_t engine_resync_wait_ms(uint64_t unicast_timeout_ms)
{
	return 2 * unicast_timeout_ms + 10000u;
}

int engine_data_block_int_key(const uint8_t root_key[16], uint8_t key[16])
{
	return frag_mic_key(root_key, key);
}

int engine_data_block_mic(const uint8_t int_key[16], uint16_t session_cnt, uint8_t frag_index,
                          const uint8_t descriptor[4], const uint8_t *data, size_t len,
                          uint8_t mic[4])
{
	struct frag_mic_params p = {.session_cnt = session_cnt, .frag_index = frag_index};

	memcpy(p.descriptor, descriptor, sizeof(p.descriptor));
	return frag_mic_compute(int_key, &p, data, len, mic);
}
