/* fuota-sim's radio: the frames the gateways accepted (sim_gw_schedule) go on air at their start
 * time, and each device in range of the gateway gets it, or not, per its loss model.
 *
 * One frame to 100,000 devices over 8 gateways is about 200,000 deliveries (each a loss draw,
 * the device's checks and a decoder step): tens of milliseconds of the loop's one thread, more
 * on a loaded machine. Done in one go, the gateways' next DownlinkFrames waited in the inbound
 * queue meanwhile and were judged after their GPS time (TOO_LATE). So the deliveries are sliced:
 * one cursor walks the frames due in start-time then gateway order (a device given frame k + 1
 * before k would refuse k on its FCnt), at most a budget of deliveries per sim_air_step, and the
 * loop reads the broker between two slices. The cursor names its frame by gateway and start
 * time, never by pointer: handling a DownlinkFrame may grow (reallocate) a gateway's tx array,
 * and the pruning compacts it. A device's radio time is the frame's, not the wall clock's, so a
 * slice delivered late gives the device what it would have heard. */
#include "fuota/lw_frame.h"
#include "sim.h"

/* Whether the loss model takes this frame. burst_len <= 1: independent losses with the device's
 * rate p. Otherwise Gilbert-Elliott: from the good state to the bad one with p_gb, back with
 * p_bg = 1 / L, so the bad state (every frame lost) lasts L frames on average and the long-run
 * loss rate is still p: p_gb = p p_bg / (1 - p). */
static bool frame_lost(struct sim_node *n, double burst_len)
{
	if (n->loss <= 0)
		return false;
	if (n->loss >= 1)
		return true;
	double r = sim_rand01(&n->rng);
	if (burst_len <= 1.0)
		return r < n->loss;
	double p_bg = 1.0 / burst_len;
	double p_gb = n->loss * p_bg / (1.0 - n->loss);
	n->burst_bad = n->burst_bad ? r >= p_bg : r < p_gb;
	return n->burst_bad;
}

static bool for_device(const struct sim_node *n, const uint8_t *phy, size_t len)
{
	if (len < LW_DATA_MIN_LEN)
		return false;
	uint32_t addr = (uint32_t)phy[1] | (uint32_t)phy[2] << 8 | (uint32_t)phy[3] << 16 |
	                (uint32_t)phy[4] << 24;
	for (int i = 0; i < MC_MAX_GROUPS; i++)
		if (n->dev.groups[i].defined && n->dev.groups[i].mc_addr == addr)
			return true;
	return false;
}

/* The frame reaches g's devices [from, to). */
static void deliver(struct sim *s, const struct sim_gw *g, const struct sim_tx *tx, size_t from,
                    size_t to)
{
	for (size_t k = from; k < to; k++) {
		struct sim_node *n = &s->nodes[g->devs[k]];
		bool mine = for_device(n, tx->phy, tx->phy_len);
		if (frame_lost(n, s->o.burst_len)) {
			if (mine)
				n->frames_lost++;
			continue;
		}
		if (mine)
			n->frames_heard++;
		sim_dev_multicast_air(&n->dev, tx->start_ms, tx->end_ms, tx->freq_hz, tx->phy,
		                      tx->phy_len);
	}
	s->air.deliveries += to - from;
}

/* Gateway g's frame not sent yet that starts at start_ms (frames on one gateway never overlap, so
 * there is at most one). */
static struct sim_tx *tx_at(struct sim_gw *g, int64_t start_ms)
{
	for (size_t i = 0; i < g->n_tx; i++)
		if (!g->tx[i].sent && g->tx[i].start_ms == start_ms)
			return &g->tx[i];
	return NULL;
}

/* Points the cursor at the earliest frame due by now_ms (the lower gateway first at a tie);
 * false when none is. */
static bool air_next(struct sim *s, int64_t now_ms)
{
	bool found = false;
	for (uint32_t gi = 0; gi < s->n_gws; gi++) {
		const struct sim_gw *g = &s->gws[gi];
		for (size_t i = 0; i < g->n_tx; i++) {
			const struct sim_tx *t = &g->tx[i];
			if (t->sent || t->start_ms > now_ms)
				continue;
			if (!found || t->start_ms < s->air.start_ms) {
				s->air.gi = gi;
				s->air.start_ms = t->start_ms;
				found = true;
			}
		}
	}
	if (found) {
		s->air.busy = true;
		s->air.next_dev = 0;
		s->gws[s->air.gi].frames_sent++;
	}
	return found;
}

/* Drops sent frames older than the duty-cycle window. */
static void gw_prune(struct sim *s, struct sim_gw *g, int64_t now_ms)
{
	int64_t keep_after = now_ms - (int64_t)(s->o.duty_window_s * 1000);
	size_t w = 0;
	for (size_t i = 0; i < g->n_tx; i++)
		if (!g->tx[i].sent || g->tx[i].end_ms >= keep_after)
			g->tx[w++] = g->tx[i];
	g->n_tx = w;
}

void sim_air_step(struct sim *s, int64_t now_ms, int64_t *next)
{
	size_t budget = s->air.budget ? s->air.budget : SIM_AIR_BUDGET;

	while (budget > 0 && (s->air.busy || air_next(s, now_ms))) {
		struct sim_gw *g = &s->gws[s->air.gi];
		struct sim_tx *t = tx_at(g, s->air.start_ms);
		if (!t) { /* cannot happen: a frame not sent is never pruned */
			s->air.busy = false;
			continue;
		}
		size_t to =
		        g->n_devs - s->air.next_dev > budget ? s->air.next_dev + budget : g->n_devs;
		deliver(s, g, t, s->air.next_dev, to);
		budget -= to - s->air.next_dev;
		s->air.next_dev = to;
		if (to == g->n_devs) {
			t->sent = true;
			s->air.busy = false;
		}
	}
	/* Slices left: back at once, after the broker's messages. */
	if (budget == 0 && (s->air.busy || air_next(s, now_ms)))
		*next = now_ms;
	for (uint32_t gi = 0; gi < s->n_gws; gi++) {
		struct sim_gw *g = &s->gws[gi];
		gw_prune(s, g, now_ms);
		for (size_t i = 0; i < g->n_tx; i++)
			if (!g->tx[i].sent && g->tx[i].start_ms > now_ms &&
			    g->tx[i].start_ms < *next)
				*next = g->tx[i].start_ms;
	}
}
