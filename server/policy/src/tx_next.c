/* What a job's multicast transmission does next (see fuota/tx_next.h). */
#include "fuota/tx_next.h"

#include <string.h>

enum tx_action policy_tx_gate(int64_t now_ms, int64_t next_tx_ms, int64_t session_end_ms,
                              int64_t airtime_ms, int64_t *until_ms)
{
	if (now_ms < next_tx_ms) {
		*until_ms = next_tx_ms;
		return TX_WAIT;
	}
	if (now_ms + airtime_ms >= session_end_ms)
		return TX_END;
	return TX_SEND;
}

uint32_t policy_tx_sent(const struct tx_session *s)
{
	return s->next_n > 0 ? s->next_n - 1 : 0;
}

/* Not stopped, with devices that have not reported their block. */
static bool live(const struct tx_session *s)
{
	return !s->done && s->devices > 0 && s->pending > 0;
}

int policy_tx_pick(const struct tx_state *s, uint32_t *stop)
{
	struct engine_session_tx tx[ENGINE_MAX_SESSIONS];
	size_t n = s->n_ss < ENGINE_MAX_SESSIONS ? s->n_ss : ENGINE_MAX_SESSIONS;

	*stop = 0;
	for (size_t i = 0; i < n; i++) {
		const struct tx_session *ss = &s->ss[i];
		uint32_t sent = policy_tx_sent(ss);

		tx[i].frag_index = ss->frag_index;
		tx[i].sent = sent;
		tx[i].more = !ss->done && ss->devices > 0 &&
		             engine_redundancy_more(&s->red, sent, ss->pending);
		if (tx[i].more && s->rounds && ss->round_end > 0 && sent >= ss->round_end) {
			tx[i].more = false; /* the end of its batch: not stopped */
			continue;
		}
		if (!tx[i].more && !ss->done)
			*stop |= UINT32_C(1) << i;
	}
	return engine_session_pick(tx, n);
}

int policy_tx_status_due(const struct tx_session *ss, size_t n_ss, bool *last)
{
	int due = -1, count = 0;

	for (size_t i = 0; i < n_ss; i++) {
		const struct tx_session *s = &ss[i];

		if (!live(s))
			continue;
		if (s->round_end == 0 || policy_tx_sent(s) < s->round_end)
			return -1; /* a batch is still under way */
		if (s->asked_at != s->round_end) {
			if (due < 0)
				due = (int)i;
			count++;
		}
	}
	*last = count == 1;
	return due;
}

void policy_tx_next(const struct tx_state *s, struct tx_decision *d)
{
	int i;

	memset(d, 0, sizeof(*d));
	d->session = -1;
	if (s->resend) {
		d->action = TX_RESEND;
		return;
	}
	if (s->rounds) {
		i = policy_tx_status_due(s->ss, s->n_ss, &d->last_status);
		if (i >= 0) {
			d->action = TX_STATUS;
			d->session = i;
			return;
		}
		d->last_status = false;
	}
	if (s->n_gateways == 0) {
		d->action = TX_IDLE;
		return;
	}
	i = policy_tx_pick(s, &d->stop);
	if (i < 0) {
		d->action = TX_IDLE;
		return;
	}
	d->action = TX_FRAGMENT;
	d->session = i;
	d->n = s->ss[i].next_n;
}

int64_t policy_gps_on_air(int64_t free_ms, int64_t handed_ms, int64_t gap_ms, int64_t min_lead_ms)
{
	int64_t at = free_ms + gap_ms;

	return at < handed_ms + min_lead_ms ? handed_ms + min_lead_ms : at;
}
