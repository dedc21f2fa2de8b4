/* The Paho client's outbox: see mqtt_outbox.h. */
#include "mqtt_outbox.h"

#include <stdlib.h>

#include "fuota/err.h"

int mqtt_outbox_add(struct mqtt_outbox *o, struct mqtt_out_msg *m)
{
	if (o->len >= o->cap)
		return FUOTA_ERR_NO_SPACE;
	m->seq = ++o->seq;
	m->state = MQTT_OUT_WAITING;
	m->done = false;
	m->next = NULL;
	m->prev = o->tail;
	if (o->tail)
		o->tail->next = m;
	else
		o->head = m;
	o->tail = m;
	o->len++;
	if (!o->next_send)
		o->next_send = m;
	return FUOTA_OK;
}

/* The first waiting message after m (NULL: none). */
static struct mqtt_out_msg *waiting_after(struct mqtt_out_msg *m)
{
	struct mqtt_out_msg *n = m->next;

	while (n && n->state != MQTT_OUT_WAITING)
		n = n->next;
	return n;
}

struct mqtt_out_msg *mqtt_outbox_take(struct mqtt_outbox *o, unsigned max_inflight)
{
	struct mqtt_out_msg *m = o->next_send;

	if (!m || o->inflight >= max_inflight)
		return NULL;
	o->next_send = waiting_after(m);
	m->state = MQTT_OUT_INFLIGHT;
	o->inflight++;
	return m;
}

void mqtt_outbox_acked(struct mqtt_outbox *o, struct mqtt_out_msg *m)
{
	if (o->next_send == m)
		o->next_send = waiting_after(m);
	if (m->prev)
		m->prev->next = m->next;
	else
		o->head = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else
		o->tail = m->prev;
	m->prev = m->next = NULL;
	m->done = true;
	if (m->state == MQTT_OUT_INFLIGHT)
		o->inflight--;
	o->len--;
}

void mqtt_outbox_retry(struct mqtt_outbox *o, struct mqtt_out_msg *m)
{
	if (m->state == MQTT_OUT_INFLIGHT)
		o->inflight--;
	m->state = MQTT_OUT_WAITING;
	if (!o->next_send || m->seq < o->next_send->seq)
		o->next_send = m;
}

void mqtt_outbox_resend_all(struct mqtt_outbox *o)
{
	for (struct mqtt_out_msg *m = o->head; m; m = m->next)
		m->state = MQTT_OUT_WAITING;
	o->inflight = 0;
	o->next_send = o->head;
}

void mqtt_out_msg_free(struct mqtt_out_msg *m)
{
	if (!m)
		return;
	free(m->topic);
	free(m->payload);
	free(m);
}

void mqtt_outbox_unref(struct mqtt_out_msg *m)
{
	m->tickets--;
	if (m->done && m->tickets == 0)
		mqtt_out_msg_free(m);
}

bool mqtt_outbox_puback(struct mqtt_outbox *o, struct mqtt_out_msg *m)
{
	bool first = !m->done;

	/* Acknowledge before dropping the reference: the reference is what keeps m readable. */
	if (first)
		mqtt_outbox_acked(o, m);
	mqtt_outbox_unref(m);
	return first;
}

uint64_t mqtt_outbox_acked_through(const struct mqtt_outbox *o)
{
	return o->head ? o->head->seq - 1 : o->seq;
}
