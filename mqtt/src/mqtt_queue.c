/* The thread-safe inbound queue: Paho's thread pushes, the application's loop pops. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuota/err.h"
#include "fuota/mqtt.h"

struct mqtt_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled on push and on wake; CLOCK_MONOTONIC */
	struct mqtt_msg *head;
	struct mqtt_msg *tail;
	size_t len;
	size_t max;
	uint64_t wake_gen; /* mqtt_queue_wake bumps it; waiters return when it changes */
};

void mqtt_msg_free(struct mqtt_msg *m)
{
	if (!m)
		return;
	free(m->topic);
	free(m->payload);
	free(m);
}

int mqtt_queue_create(size_t max_msgs, struct mqtt_queue **out)
{
	*out = NULL;
	struct mqtt_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return FUOTA_ERR_NO_MEMORY;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&q->lock, NULL);
	q->max = max_msgs ? max_msgs : 100000;
	*out = q;
	return FUOTA_OK;
}

void mqtt_queue_destroy(struct mqtt_queue *q)
{
	if (!q)
		return;
	struct mqtt_msg *m = q->head;
	while (m) {
		struct mqtt_msg *next = m->next;
		mqtt_msg_free(m);
		m = next;
	}
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

int mqtt_queue_push(struct mqtt_queue *q, const char *topic, const uint8_t *payload, size_t len)
{
	if (!q || !topic || (!payload && len))
		return FUOTA_ERR_INVALID_ARG;
	struct mqtt_msg *m = calloc(1, sizeof(*m));
	if (!m)
		return FUOTA_ERR_NO_MEMORY;
	m->topic = strdup(topic);
	m->payload = malloc(len + 1);
	if (!m->topic || !m->payload) {
		mqtt_msg_free(m);
		return FUOTA_ERR_NO_MEMORY;
	}
	if (len)
		memcpy(m->payload, payload, len);
	m->payload[len] = '\0';
	m->len = len;

	int rc = FUOTA_OK;
	pthread_mutex_lock(&q->lock);
	if (q->len >= q->max) {
		rc = FUOTA_ERR_NO_SPACE;
	} else {
		if (q->tail)
			q->tail->next = m;
		else
			q->head = m;
		q->tail = m;
		q->len++;
		pthread_cond_signal(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
	if (rc != FUOTA_OK)
		mqtt_msg_free(m);
	return rc;
}

int mqtt_queue_on_message(void *ctx, const char *topic, const uint8_t *payload, size_t len)
{
	return mqtt_queue_push(ctx, topic, payload, len);
}

static void deadline_after(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int mqtt_queue_pop(struct mqtt_queue *q, uint32_t timeout_ms, struct mqtt_msg **out)
{
	*out = NULL;
	if (!q)
		return FUOTA_ERR_INVALID_ARG;
	struct timespec deadline;
	deadline_after(&deadline, timeout_ms);
	pthread_mutex_lock(&q->lock);
	uint64_t gen = q->wake_gen;
	while (!q->head && timeout_ms > 0 && gen == q->wake_gen) {
		if (pthread_cond_timedwait(&q->cond, &q->lock, &deadline) == ETIMEDOUT)
			break;
	}
	struct mqtt_msg *m = q->head;
	if (m) {
		q->head = m->next;
		if (!q->head)
			q->tail = NULL;
		q->len--;
		m->next = NULL;
	}
	pthread_mutex_unlock(&q->lock);
	*out = m;
	return m ? FUOTA_OK : FUOTA_ERR_TIMEOUT;
}

size_t mqtt_queue_len(struct mqtt_queue *q)
{
	pthread_mutex_lock(&q->lock);
	size_t n = q->len;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void mqtt_queue_wake(struct mqtt_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->wake_gen++;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}
