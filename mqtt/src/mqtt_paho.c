/* struct mqtt_client on top of the Eclipse Paho asynchronous client (MQTTAsync).
 *
 * Why our own outbox and reconnect loop instead of Paho's sendWhileDisconnected and
 * automaticReconnect: Paho's automatic reconnection starts only after a first successful
 * connection, and what happens to QoS 1 messages that were in flight when a clean-session
 * connection dropped depends on the session flag. Keeping every message here until its PUBACK
 * makes the guarantee the same in all cases: a message leaves the outbox only when the broker has
 * acknowledged it, and after every reconnection whatever is left is sent again in publish order.
 *
 * Locking: one mutex per client protects the outbox, the subscription list and the state. It is
 * never held while calling into Paho (Paho calls back into us from its own threads). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <MQTTAsync.h>

#include "fuota/err.h"
#include "fuota/mqtt.h"
#include "mqtt_outbox.h"

#define MAX_MATCHES  16  /* callbacks one message can reach */
#define MAX_INFLIGHT 32  /* QoS >= 1 messages handed to Paho and not yet acknowledged */
#define KICK_MS      200 /* the reconnect thread retries a stalled flush this often */

struct sub {
	struct sub *next;
	char *filter;
	int qos;
	mqtt_msg_cb cb;
	void *ctx;
	uint64_t acked_gen; /* connection generation of its last SUBACK */
};

struct paho_client;

/* The context of one Paho request (publish or subscribe), so a late callback finds its target. */
struct ticket {
	struct ticket *prev, *next;
	struct paho_client *c;
	struct mqtt_out_msg *msg; /* publish */
	struct sub *sub;          /* subscribe */
	uint64_t gen;             /* connection generation when the request was made */
};

struct paho_client {
	struct mqtt_client base;
	MQTTAsync h;
	bool created;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC; wakes the reconnect thread and waiters */

	char *uri;
	char *client_id;
	char *username;
	char *password;
	char *will_topic;
	void *will_payload;
	struct mqtt_options opt;

	bool connected;
	bool need_connect; /* the reconnect thread should start an attempt */
	bool stopping;     /* destroy/disconnect: no more attempts */
	bool disconnected; /* disconnect's request completed */
	uint64_t gen;      /* incremented on every successful connection */
	uint32_t backoff_ms;
	bool thread_started;
	pthread_t thread;

	struct mqtt_outbox ob; /* mqtt_outbox.h */
	bool flushing;

	struct sub *subs, *subs_tail;
	struct ticket *tickets;

	struct mqtt_status st;
};

static struct paho_client *from_base(struct mqtt_client *c)
{
	return (struct paho_client *)c;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
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

/* ---- Outbox (lock held) -------------------------------------------------------------------- */

/* A message was just acknowledged (unlinked by the outbox): counted, and the waiters woken. */
static void out_counted(struct paho_client *c)
{
	c->st.published++;
	pthread_cond_broadcast(&c->cond);
}

static struct ticket *ticket_new(struct paho_client *c, struct mqtt_out_msg *m, struct sub *s)
{
	struct ticket *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->c = c;
	t->msg = m;
	t->sub = s;
	t->gen = c->gen;
	t->next = c->tickets;
	if (c->tickets)
		c->tickets->prev = t;
	c->tickets = t;
	if (m)
		m->tickets++;
	return t;
}

static void ticket_free(struct paho_client *c, struct ticket *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		c->tickets = t->next;
	if (t->next)
		t->next->prev = t->prev;
	if (t->msg)
		mqtt_outbox_unref(t->msg);
	free(t);
}

/* ---- Publishing ---------------------------------------------------------------------------- */

static void flush(struct paho_client *c);

static void on_publish_success(void *context, MQTTAsync_successData *resp)
{
	(void)resp;
	struct ticket *t = context;
	struct paho_client *c = t->c;
	pthread_mutex_lock(&c->lock);
	/* Any PUBACK means the broker has the message, whichever send it answers. The ticket's
	 * reference goes with the acknowledgement, after it: m may be freed then. */
	struct mqtt_out_msg *m = t->msg;

	t->msg = NULL;
	ticket_free(c, t);
	if (mqtt_outbox_puback(&c->ob, m))
		out_counted(c);
	pthread_mutex_unlock(&c->lock);
	flush(c); /* the in-flight window has room again */
}

static void on_publish_failure(void *context, MQTTAsync_failureData *resp)
{
	(void)resp;
	struct ticket *t = context;
	struct paho_client *c = t->c;
	pthread_mutex_lock(&c->lock);
	struct mqtt_out_msg *m = t->msg;
	if (!m->done && m->state == MQTT_OUT_INFLIGHT && t->gen == c->gen) {
		/* Sent on the current connection and refused: send it again with the others at the
		 * next flush, in order. */
		mqtt_outbox_retry(&c->ob, m);
	}
	ticket_free(c, t);
	pthread_mutex_unlock(&c->lock);
}

/* Sends the waiting messages in order while connected. Only one thread flushes at a time; the
 * others leave their messages to it. */
static void flush(struct paho_client *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->flushing || !c->connected) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->flushing = true;
	struct mqtt_out_msg *m;
	while (c->connected && (m = mqtt_outbox_take(&c->ob, MAX_INFLIGHT)) != NULL) {
		struct ticket *t = NULL;
		if (m->qos > 0) {
			t = ticket_new(c, m, NULL);
			if (!t) {
				mqtt_outbox_retry(&c->ob, m);
				break;
			}
		}
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		if (t) {
			ro.onSuccess = on_publish_success;
			ro.onFailure = on_publish_failure;
			ro.context = t;
		}
		MQTTAsync_message pm = MQTTAsync_message_initializer;
		pm.payload = m->payload;
		pm.payloadlen = (int)m->len;
		pm.qos = m->qos;
		pm.retained = m->retained;
		m->tickets++; /* keep m alive while the lock is released */
		pthread_mutex_unlock(&c->lock);
		int rc = MQTTAsync_sendMessage(c->h, m->topic, &pm, &ro);
		pthread_mutex_lock(&c->lock);
		if (rc != MQTTASYNC_SUCCESS) {
			if (t)
				ticket_free(c, t);
			if (!m->done)
				mqtt_outbox_retry(&c->ob, m);
			mqtt_outbox_unref(m); /* last: m may be freed */
			break; /* Paho's queue is full or the connection is gone: retried later */
		}
		if (!t && !m->done) {
			/* QoS 0: handed to Paho, nothing more to wait for. */
			mqtt_outbox_acked(&c->ob, m);
			out_counted(c);
		}
		mqtt_outbox_unref(m); /* last: m may be freed */
	}
	c->flushing = false;
	pthread_mutex_unlock(&c->lock);
}

static int p_publish(struct mqtt_client *base, const char *topic, const void *payload, size_t len,
                     int qos, uint64_t *seq)
{
	struct paho_client *c = from_base(base);
	bool retained = (qos & MQTT_RETAIN) != 0;

	qos &= ~MQTT_RETAIN;
	if (!topic || !topic[0] || (!payload && len) || qos < 0 || qos > 2 || len > INT32_MAX)
		return FUOTA_ERR_INVALID_ARG;
	struct mqtt_out_msg *m = calloc(1, sizeof(*m));
	if (!m)
		return FUOTA_ERR_NO_MEMORY;
	m->topic = strdup(topic);
	m->payload = malloc(len ? len : 1);
	if (!m->topic || !m->payload) {
		mqtt_out_msg_free(m);
		return FUOTA_ERR_NO_MEMORY;
	}
	if (len)
		memcpy(m->payload, payload, len);
	m->len = len;
	m->qos = qos;
	m->retained = retained;

	pthread_mutex_lock(&c->lock);
	if (c->stopping) {
		pthread_mutex_unlock(&c->lock);
		mqtt_out_msg_free(m);
		return FUOTA_ERR_STATE;
	}
	if (mqtt_outbox_add(&c->ob, m) != FUOTA_OK) {
		c->st.rejected++;
		pthread_mutex_unlock(&c->lock);
		mqtt_out_msg_free(m);
		return FUOTA_ERR_NO_SPACE;
	}
	if (seq)
		*seq = m->seq;
	pthread_mutex_unlock(&c->lock);
	flush(c);
	return FUOTA_OK;
}

/* ---- Subscriptions ------------------------------------------------------------------------- */

static void update_subscribed(struct paho_client *c)
{
	bool all = c->connected;
	for (struct sub *s = c->subs; s && all; s = s->next)
		if (s->acked_gen != c->gen)
			all = false;
	c->st.subscribed = all;
}

static void on_sub_success(void *context, MQTTAsync_successData *resp)
{
	(void)resp;
	struct ticket *t = context;
	struct paho_client *c = t->c;
	pthread_mutex_lock(&c->lock);
	if (t->gen == c->gen) {
		t->sub->acked_gen = t->gen;
		update_subscribed(c);
	}
	ticket_free(c, t);
	pthread_mutex_unlock(&c->lock);
}

static void on_sub_failure(void *context, MQTTAsync_failureData *resp)
{
	(void)resp;
	struct ticket *t = context;
	struct paho_client *c = t->c;
	pthread_mutex_lock(&c->lock);
	ticket_free(c, t);
	pthread_mutex_unlock(&c->lock);
}

/* Sends SUBSCRIBE for s on the current connection (lock not held). */
static void send_subscribe(struct paho_client *c, struct sub *s)
{
	pthread_mutex_lock(&c->lock);
	if (!c->connected) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	struct ticket *t = ticket_new(c, NULL, s);
	pthread_mutex_unlock(&c->lock);
	if (!t)
		return;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	ro.onSuccess = on_sub_success;
	ro.onFailure = on_sub_failure;
	ro.context = t;
	if (MQTTAsync_subscribe(c->h, s->filter, s->qos, &ro) != MQTTASYNC_SUCCESS) {
		pthread_mutex_lock(&c->lock);
		ticket_free(c, t);
		pthread_mutex_unlock(&c->lock);
	}
}

static int p_subscribe(struct mqtt_client *base, const char *filter, int qos, mqtt_msg_cb cb,
                       void *ctx)
{
	struct paho_client *c = from_base(base);
	if (!filter || !filter[0] || !cb || qos < 0 || qos > 2)
		return FUOTA_ERR_INVALID_ARG;
	struct sub *s = calloc(1, sizeof(*s));
	if (!s)
		return FUOTA_ERR_NO_MEMORY;
	s->filter = strdup(filter);
	if (!s->filter) {
		free(s);
		return FUOTA_ERR_NO_MEMORY;
	}
	s->qos = qos;
	s->cb = cb;
	s->ctx = ctx;
	s->acked_gen = UINT64_MAX;
	pthread_mutex_lock(&c->lock);
	if (c->subs_tail)
		c->subs_tail->next = s;
	else
		c->subs = s;
	c->subs_tail = s;
	update_subscribed(c);
	pthread_mutex_unlock(&c->lock);
	send_subscribe(c, s);
	return FUOTA_OK;
}

static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *msg)
{
	struct paho_client *c = context;
	char *name = topic;
	char *copy = NULL;
	if (topic_len > 0) {
		/* Paho passes a length only for a topic with an embedded NUL; cut at the first one.
		 */
		copy = strndup(topic, (size_t)topic_len);
		if (!copy)
			return 0;
		name = copy;
	}
	mqtt_msg_cb cbs[MAX_MATCHES];
	void *ctxs[MAX_MATCHES];
	size_t n = 0;
	pthread_mutex_lock(&c->lock);
	for (struct sub *s = c->subs; s && n < MAX_MATCHES; s = s->next) {
		if (mqtt_topic_match(s->filter, name)) {
			cbs[n] = s->cb;
			ctxs[n] = s->ctx;
			n++;
		}
	}
	pthread_mutex_unlock(&c->lock);

	int retry = 0;
	size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	for (size_t i = 0; i < n; i++)
		if (cbs[i](ctxs[i], name, len ? msg->payload : NULL, len) != FUOTA_OK)
			retry = 1;
	free(copy);
	if (retry)
		return 0; /* Paho keeps the message and offers it again */
	pthread_mutex_lock(&c->lock);
	c->st.received++;
	pthread_mutex_unlock(&c->lock);
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

/* ---- Connection ---------------------------------------------------------------------------- */

static void schedule_reconnect(struct paho_client *c)
{
	c->need_connect = true;
	pthread_cond_broadcast(&c->cond);
}

static void on_connect_success(void *context, MQTTAsync_successData *resp)
{
	(void)resp;
	struct paho_client *c = context;
	pthread_mutex_lock(&c->lock);
	c->connected = true;
	c->gen++;
	c->st.connects++;
	c->backoff_ms = 0;
	mqtt_outbox_resend_all(&c->ob);
	update_subscribed(c);
	struct sub *first = c->subs;
	pthread_mutex_unlock(&c->lock);
	/* Subscriptions are never removed before destroy, so walking them unlocked is safe; a
	 * subscription added meanwhile sends its own SUBSCRIBE. */
	for (struct sub *s = first; s; s = s->next)
		send_subscribe(c, s);
	flush(c);
}

static void on_connect_failure(void *context, MQTTAsync_failureData *resp)
{
	(void)resp;
	struct paho_client *c = context;
	pthread_mutex_lock(&c->lock);
	c->connected = false;
	if (!c->stopping)
		schedule_reconnect(c);
	pthread_mutex_unlock(&c->lock);
}

static void on_connection_lost(void *context, char *cause)
{
	struct paho_client *c = context;
	pthread_mutex_lock(&c->lock);
	c->connected = false;
	c->st.subscribed = false;
	mqtt_outbox_resend_all(&c->ob);
	if (!c->stopping)
		schedule_reconnect(c);
	pthread_mutex_unlock(&c->lock);
	if (cause)
		MQTTAsync_free(cause);
}

static void start_attempt(struct paho_client *c)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	co.keepAliveInterval = (int)c->opt.keepalive_s;
	co.cleansession = c->opt.clean_session ? 1 : 0;
	co.connectTimeout = (int)c->opt.connect_timeout_s;
	co.username = c->username;
	co.password = c->password;
	co.onSuccess = on_connect_success;
	co.onFailure = on_connect_failure;
	co.context = c;
	co.automaticReconnect = 0;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	if (c->will_topic) {
		will.struct_version = 1; /* binary payload */
		will.topicName = c->will_topic;
		will.message = NULL;
		will.payload.data = c->will_payload;
		will.payload.len = (int)c->opt.will_len;
		will.qos = c->opt.will_qos;
		will.retained = c->opt.will_retained;
		co.will = &will;
	}
	/* A fixed protocol version: with the default (3.1.1, then 3.1 on failure) Paho 1.3 got
	 * stuck in failed attempts after a broker restart when several clients reconnected. */
	co.MQTTVersion = MQTTVERSION_3_1_1;
	if (MQTTAsync_connect(c->h, &co) != MQTTASYNC_SUCCESS) {
		pthread_mutex_lock(&c->lock);
		if (!c->stopping)
			schedule_reconnect(c);
		pthread_mutex_unlock(&c->lock);
	}
}

/* The reconnect thread: waits for a request, sleeps the backoff (0 before the first attempt),
 * starts an attempt. Paho reports the outcome through on_connect_success/failure. */
static void *reconnect_main(void *arg)
{
	struct paho_client *c = arg;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->need_connect && !c->stopping) {
			struct timespec kick;
			deadline_after(&kick, KICK_MS);
			if (pthread_cond_timedwait(&c->cond, &c->lock, &kick) == ETIMEDOUT &&
			    c->connected && c->ob.next_send && !c->flushing) {
				/* A flush that stopped on a Paho error resumes here. */
				pthread_mutex_unlock(&c->lock);
				flush(c);
				pthread_mutex_lock(&c->lock);
			}
		}
		if (c->stopping)
			break;
		c->need_connect = false;
		uint32_t wait_ms = c->backoff_ms;
		/* The next failure waits longer: min, 2 min, 4 min ... max. */
		if (c->backoff_ms == 0)
			c->backoff_ms = c->opt.reconnect_min_ms;
		else if (c->backoff_ms < c->opt.reconnect_max_ms / 2)
			c->backoff_ms *= 2;
		else
			c->backoff_ms = c->opt.reconnect_max_ms;
		if (wait_ms) {
			struct timespec dl;
			deadline_after(&dl, wait_ms);
			while (!c->stopping &&
			       pthread_cond_timedwait(&c->cond, &c->lock, &dl) != ETIMEDOUT)
				;
			if (c->stopping)
				break;
		}
		pthread_mutex_unlock(&c->lock);
		start_attempt(c);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static int p_connect(struct mqtt_client *base, const char *uri, const struct mqtt_options *opt)
{
	struct paho_client *c = from_base(base);
	if (!uri || !opt || !opt->client_id || !opt->client_id[0])
		return FUOTA_ERR_INVALID_ARG;
	if (c->created)
		return FUOTA_ERR_STATE;
	c->opt = *opt;
	if (!c->opt.keepalive_s)
		c->opt.keepalive_s = 30;
	if (!c->opt.connect_timeout_s)
		c->opt.connect_timeout_s = 5;
	if (!c->opt.reconnect_min_ms)
		c->opt.reconnect_min_ms = 250;
	if (!c->opt.reconnect_max_ms)
		c->opt.reconnect_max_ms = 10000;
	if (c->opt.reconnect_max_ms < c->opt.reconnect_min_ms)
		c->opt.reconnect_max_ms = c->opt.reconnect_min_ms;
	if (!c->opt.max_buffered)
		c->opt.max_buffered = 10000;
	c->ob.cap = c->opt.max_buffered;
	c->uri = strdup(uri);
	c->client_id = strdup(opt->client_id);
	c->username = dup_or_null(opt->username);
	c->password = dup_or_null(opt->password);
	if (!c->uri || !c->client_id || (opt->username && !c->username) ||
	    (opt->password && !c->password))
		return FUOTA_ERR_NO_MEMORY;
	c->opt.client_id = c->client_id;
	c->opt.username = c->username;
	c->opt.password = c->password;
	if (opt->will_topic) {
		if (opt->will_qos < 0 || opt->will_qos > 2 || opt->will_len > INT32_MAX ||
		    (!opt->will_payload && opt->will_len))
			return FUOTA_ERR_INVALID_ARG;
		c->will_topic = strdup(opt->will_topic);
		c->will_payload = malloc(opt->will_len ? opt->will_len : 1);
		if (!c->will_topic || !c->will_payload)
			return FUOTA_ERR_NO_MEMORY;
		if (opt->will_len)
			memcpy(c->will_payload, opt->will_payload, opt->will_len);
	}
	c->opt.will_topic = c->will_topic;
	c->opt.will_payload = c->will_payload;

	MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
	cro.MQTTVersion = MQTTVERSION_3_1_1;
	cro.maxBufferedMessages = 4 * MAX_INFLIGHT; /* Paho's own command queue */
	if (MQTTAsync_createWithOptions(&c->h, c->uri, c->client_id, MQTTCLIENT_PERSISTENCE_NONE,
	                                NULL, &cro) != MQTTASYNC_SUCCESS)
		return FUOTA_ERR_INVALID_ARG; /* Paho refuses a malformed URI here */
	c->created = true;
	if (MQTTAsync_setCallbacks(c->h, c, on_connection_lost, on_message, NULL) !=
	    MQTTASYNC_SUCCESS)
		return FUOTA_ERR_IO;

	pthread_mutex_lock(&c->lock);
	c->need_connect = true;
	c->backoff_ms = 0;
	pthread_mutex_unlock(&c->lock);
	if (pthread_create(&c->thread, NULL, reconnect_main, c) != 0)
		return FUOTA_ERR_NO_MEMORY;
	c->thread_started = true;
	return FUOTA_OK;
}

static void p_status(struct mqtt_client *base, struct mqtt_status *st)
{
	struct paho_client *c = from_base(base);
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	st->connected = c->connected;
	st->outbox = c->ob.len;
	st->last_seq = c->ob.seq;
	st->acked_seq = mqtt_outbox_acked_through(&c->ob);
	pthread_mutex_unlock(&c->lock);
}

static void on_disconnect_done(void *context, MQTTAsync_successData *resp)
{
	(void)resp;
	struct paho_client *c = context;
	pthread_mutex_lock(&c->lock);
	c->disconnected = true;
	c->connected = false;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void on_disconnect_failed(void *context, MQTTAsync_failureData *resp)
{
	(void)resp;
	on_disconnect_done(context, NULL);
}

/* Stops the reconnect thread (lock not held). */
static void stop_thread(struct paho_client *c)
{
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (c->thread_started) {
		pthread_join(c->thread, NULL);
		c->thread_started = false;
	}
}

static int p_disconnect(struct mqtt_client *base, uint32_t timeout_ms)
{
	struct paho_client *c = from_base(base);
	if (!c->created)
		return FUOTA_ERR_STATE;
	struct timespec dl;
	deadline_after(&dl, timeout_ms);
	int rc = FUOTA_OK;
	pthread_mutex_lock(&c->lock);
	while (c->ob.len > 0) {
		if (pthread_cond_timedwait(&c->cond, &c->lock, &dl) == ETIMEDOUT) {
			rc = c->ob.len > 0 ? FUOTA_ERR_TIMEOUT : FUOTA_OK;
			break;
		}
	}
	bool was_connected = c->connected;
	pthread_mutex_unlock(&c->lock);
	stop_thread(c);
	if (!was_connected)
		return rc;

	MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
	dopt.timeout = 1000;
	dopt.onSuccess = on_disconnect_done;
	dopt.onFailure = on_disconnect_failed;
	dopt.context = c;
	pthread_mutex_lock(&c->lock);
	c->disconnected = false;
	pthread_mutex_unlock(&c->lock);
	if (MQTTAsync_disconnect(c->h, &dopt) == MQTTASYNC_SUCCESS) {
		deadline_after(&dl, 2000);
		pthread_mutex_lock(&c->lock);
		while (!c->disconnected)
			if (pthread_cond_timedwait(&c->cond, &c->lock, &dl) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&c->lock);
	}
	return rc;
}

static void p_destroy(struct mqtt_client *base)
{
	struct paho_client *c = from_base(base);
	stop_thread(c);
	if (c->created) {
		/* Paho runs no callback once destroy has returned. */
		MQTTAsync_destroy(&c->h);
	}
	while (c->tickets) {
		struct ticket *t = c->tickets;
		c->tickets = t->next;
		if (t->msg)
			mqtt_outbox_unref(t->msg); /* frees the acknowledged ones */
		free(t);
	}
	struct mqtt_out_msg *m = c->ob.head;
	while (m) {
		struct mqtt_out_msg *n = m->next;
		mqtt_out_msg_free(m);
		m = n;
	}
	struct sub *s = c->subs;
	while (s) {
		struct sub *n = s->next;
		free(s->filter);
		free(s);
		s = n;
	}
	free(c->uri);
	free(c->will_topic);
	free(c->will_payload);
	free(c->client_id);
	free(c->username);
	if (c->password) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static const struct mqtt_ops paho_ops = {
        .connect = p_connect,
        .subscribe = p_subscribe,
        .publish = p_publish,
        .status = p_status,
        .disconnect = p_disconnect,
        .destroy = p_destroy,
};

int mqtt_paho_create(struct mqtt_client **out)
{
	*out = NULL;
	struct paho_client *c = calloc(1, sizeof(*c));
	if (!c)
		return FUOTA_ERR_NO_MEMORY;
	c->base.ops = &paho_ops;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = &c->base;
	return FUOTA_OK;
}

int mqtt_wait_subscribed(struct mqtt_client *c, uint32_t timeout_ms)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct mqtt_status st;
		mqtt_get_status(c, &st);
		if (st.connected && st.subscribed)
			return FUOTA_OK;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t el = (int64_t)(now.tv_sec - start.tv_sec) * 1000 +
		             (now.tv_nsec - start.tv_nsec) / 1000000;
		if (el >= (int64_t)timeout_ms)
			return FUOTA_ERR_TIMEOUT;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
}
