/* What a job's multicast transmission does next (the engine's engine_tx_run): given the clock and
 * the job's fragmentation sessions as read from the store, send a refused frame again, a round's
 * status request, the next fragment of one session, wait, or nothing (idle). Pure: the engine
 * fetches, asks these functions, then sends and stores. */
#ifndef FUOTA_TX_NEXT_H
#define FUOTA_TX_NEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/engine_calc.h"

enum tx_action {
	TX_SEND,     /* policy_tx_gate: a frame may go now; ask policy_tx_next which */
	TX_WAIT,     /* nothing before until_ms */
	TX_END,      /* the multicast session ends before a frame would be on the air */
	TX_RESEND,   /* the oldest frame a gateway refused goes again */
	TX_STATUS,   /* the multicast FragSessionStatusReq of session `session` */
	TX_FRAGMENT, /* DataFragment `n` of session `session` */
	TX_IDLE,     /* no new frame is left: wait for the gateways' acks */
};

/* One fragmentation session as the sender sees it (the store's seng_session). */
struct tx_session {
	uint8_t frag_index;
	bool done;                    /* stopped: none of its frames is left */
	unsigned devices;             /* its devices */
	unsigned pending;             /* of those, the ones that have not reported their block */
	uint32_t next_n;              /* the N of its next new frame (sent so far: next_n - 1) */
	uint32_t round_end, asked_at; /* adaptive rounds: see seng_session */
};

struct tx_state {
	bool resend;       /* a refused frame waits to go again */
	bool rounds;       /* adaptive redundancy in rounds (a status request after each batch) */
	size_t n_gateways; /* the job's gateways; none: no new frame can go */
	struct engine_redundancy red;
	const struct tx_session *ss;
	size_t n_ss; /* at most ENGINE_MAX_SESSIONS */
};

struct tx_decision {
	enum tx_action action;
	int session;      /* TX_STATUS, TX_FRAGMENT: the position in ss */
	uint32_t n;       /* TX_FRAGMENT: the frame's N */
	bool last_status; /* TX_STATUS: the last request of the round (its wait starts after it) */
	uint32_t stop;    /* TX_FRAGMENT, TX_IDLE: bit i set: session i has no frame left and is not
	                     marked done yet; the caller marks it done */
};

/* Before anything is read: a frame may go at next_tx_ms, and only while it is on the air before
 * the multicast session ends. Returns TX_WAIT (*until_ms = next_tx_ms), TX_END or TX_SEND. */
enum tx_action policy_tx_gate(int64_t now_ms, int64_t next_tx_ms, int64_t session_end_ms,
                              int64_t airtime_ms, int64_t *until_ms);

/* A GPS-timed frame's time on the air: gap_ms after its gateways are free (free_ms), and never
 * sooner than min_lead_ms after handed_ms, the engine's clock read when the frame is handed over
 * (not when the tick began: the tick's own database work may have used up the lead). */
int64_t policy_gps_on_air(int64_t free_ms, int64_t handed_ms, int64_t gap_ms, int64_t min_lead_ms);

/* The sessions' sent frames: next_n - 1 (0 before the first). */
uint32_t policy_tx_sent(const struct tx_session *s);

/* The session whose new frame goes next (its position in s->ss), or -1 when none has one left.
 * *stop: the sessions with no frame left that are not done yet (bit i for ss[i]). With rounds, a
 * session at the end of its batch has no frame left either, but it is not stopped: its next batch
 * is sized after the status request and its wait. */
int policy_tx_pick(const struct tx_state *s, uint32_t *stop);

/* With rounds: the session whose status request is due (its position, -1 when none): every live
 * session stands at the end of its batch (the sessions of a mixed job wait together) and this one
 * has not asked yet. *last: no other one is due after it. */
int policy_tx_status_due(const struct tx_session *ss, size_t n_ss, bool *last);

/* Once policy_tx_gate said TX_SEND: a refused frame first, then a due status request, then the
 * next new frame, else idle. */
void policy_tx_next(const struct tx_state *s, struct tx_decision *d);

#endif
