/* The Paho client's outbox (mqtt_paho.c), apart so that a test can drive it without a broker:
 * the messages not yet acknowledged, in publish order, each with its sequence number, and the
 * low watermark of the acknowledged ones (struct mqtt_status.acked_seq).
 *
 * Not thread-safe: the client calls it with its lock held. Memory: the caller allocates each
 * message (the struct, its topic and its payload, with malloc) and the outbox links it; once a
 * message is acknowledged, mqtt_outbox_unref and mqtt_outbox_puback free it when its last
 * reference goes. */
#ifndef FUOTA_MQTT_OUTBOX_H
#define FUOTA_MQTT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mqtt_out_state { MQTT_OUT_WAITING = 0, MQTT_OUT_INFLIGHT = 1 };

struct mqtt_out_msg {
	struct mqtt_out_msg *prev, *next;
	uint64_t seq; /* 1, 2, 3 ... in publish order (mqtt_outbox_add) */
	char *topic;
	void *payload;
	size_t len;
	int qos;
	bool retained;
	enum mqtt_out_state state;
	bool done;        /* acknowledged and unlinked; freed when tickets reaches 0 */
	unsigned tickets; /* references: Paho requests, or a call made without the lock */
};

struct mqtt_outbox {
	struct mqtt_out_msg *head, *tail; /* publish order, so ascending seq */
	struct mqtt_out_msg *next_send;   /* the first waiting one (NULL: none) */
	size_t len, cap;                  /* cap: at most this many linked */
	unsigned inflight;                /* linked ones in MQTT_OUT_INFLIGHT */
	uint64_t seq;                     /* the last sequence handed out (0: none yet) */
};

/* Links m (waiting) after the others with the next sequence number, into m->seq. Returns
 * FUOTA_OK, or FUOTA_ERR_NO_SPACE when cap messages are linked already: m is not linked and no
 * sequence number is used up. */
int mqtt_outbox_add(struct mqtt_outbox *o, struct mqtt_out_msg *m);

/* The oldest waiting message, now in flight; NULL when none waits or max_inflight are in
 * flight. */
struct mqtt_out_msg *mqtt_outbox_take(struct mqtt_outbox *o, unsigned max_inflight);

/* m (linked) was acknowledged by the broker (QoS 0: accepted by Paho): unlinked and marked
 * done. The caller frees it once nothing points at it. */
void mqtt_outbox_acked(struct mqtt_outbox *o, struct mqtt_out_msg *m);

/* m (linked, in flight) was refused on its way: it waits again, in its place in publish order.
 */
void mqtt_outbox_retry(struct mqtt_outbox *o, struct mqtt_out_msg *m);

/* The connection broke: every linked message waits again, to be sent in publish order. */
void mqtt_outbox_resend_all(struct mqtt_outbox *o);

/* Frees m, its topic and its payload. NULL: nothing. */
void mqtt_out_msg_free(struct mqtt_out_msg *m);

/* Drops one of m's references (m->tickets); frees m when it is done and that was the last one,
 * so the caller reads nothing of m afterwards. */
void mqtt_outbox_unref(struct mqtt_out_msg *m);

/* A PUBACK for m came back through one of its requests, which held a reference. Any PUBACK
 * means the broker has m, whichever send it answers: the first one acknowledges m
 * (mqtt_outbox_acked) and returns true; a later one (m sent again after a reconnection and both
 * sends answered) returns false. Either way the request's reference is then dropped as
 * mqtt_outbox_unref does, last, so m may be freed: the caller reads nothing of it afterwards. */
bool mqtt_outbox_puback(struct mqtt_outbox *o, struct mqtt_out_msg *m);

/* The low watermark: every message with a sequence at or below it was acknowledged (the
 * sequence before the oldest linked one, or the last handed out when none is linked).
 * Acknowledgements out of order raise it only once the older ones are acknowledged too. */
uint64_t mqtt_outbox_acked_through(const struct mqtt_outbox *o);

#endif
