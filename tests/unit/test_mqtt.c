/* fuota_mqtt pieces that need no broker: topic-filter matching, topic levels, the inbound queue
 * (order, bound, timeout, threads) and replacing the client through its function table. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/mqtt.h"

static void test_topic_match(void **state)
{
	(void)state;
	static const struct {
		const char *filter;
		const char *topic;
		bool match;
	} cases[] = {
	        {"a/b/c", "a/b/c", true},
	        {"a/b/c", "a/b", false},
	        {"a/b", "a/b/c", false},
	        {"a/+/c", "a/x/c", true},
	        {"a/+/c", "a//c", true}, /* '+' matches an empty level */
	        {"a/+/c", "a/x/y/c", false},
	        {"a/#", "a", true}, /* '#' includes the parent level */
	        {"a/#", "a/b/c/d", true},
	        {"a/#", "ab", false},
	        {"#", "a/b", true},
	        {"#", "$SYS/x", false},
	        {"+/x", "$SYS/x", false},
	        {"$SYS/#", "$SYS/x", true},
	        {"+", "a", true},
	        {"+", "a/b", false},
	        {"+/+", "/a", true},
	        {"a/#/c", "a/b/c", false}, /* '#' not last: malformed */
	        {"a/b#", "a/b#", false},   /* wildcard inside a level: malformed */
	        {"a/b+", "a/b+", false},
	        {"application/+/device/+/event/up",
	         "application/1/device/0102030405060708/event/up", true},
	        {"application/+/device/+/event/up", "application/1/device/01/event/ack", false},
	        {"$share/fuotad/application/+/device/+/event/up",
	         "application/1/device/01/event/up", true},
	        {"$share/g/eu868/gateway/+/event/ack", "eu868/gateway/0016c001ff10d3f6/event/ack",
	         true},
	        {"$share//a", "a", false}, /* no group: taken literally */
	        {"$share/g", "g", false},
	        {"", "", true},
	        {"a", "", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = mqtt_topic_match(cases[i].filter, cases[i].topic);
		if (got != cases[i].match)
			fail_msg("filter '%s' topic '%s': expected %d", cases[i].filter,
			         cases[i].topic, cases[i].match);
	}
	assert_false(mqtt_topic_match(NULL, "a"));
	assert_false(mqtt_topic_match("a", NULL));
}

static void test_topic_level(void **state)
{
	(void)state;
	char out[32];
	const char *t = "application/7/device/0102030405060708/event/up";
	assert_int_equal(mqtt_topic_level(t, 0, out, sizeof(out)), FUOTA_OK);
	assert_string_equal(out, "application");
	assert_int_equal(mqtt_topic_level(t, 3, out, sizeof(out)), FUOTA_OK);
	assert_string_equal(out, "0102030405060708");
	assert_int_equal(mqtt_topic_level(t, 5, out, sizeof(out)), FUOTA_OK);
	assert_string_equal(out, "up");
	assert_int_equal(mqtt_topic_level(t, 6, out, sizeof(out)), FUOTA_ERR_NOT_FOUND);
	assert_int_equal(mqtt_topic_level(t, 3, out, 16), FUOTA_ERR_NO_SPACE);
	assert_int_equal(mqtt_topic_level("a//b", 1, out, sizeof(out)), FUOTA_OK);
	assert_string_equal(out, "");
}

static void test_queue_order_bound_timeout(void **state)
{
	(void)state;
	struct mqtt_queue *q = NULL;
	assert_int_equal(mqtt_queue_create(3, &q), FUOTA_OK);
	struct mqtt_msg *m = NULL;
	assert_int_equal(mqtt_queue_pop(q, 0, &m), FUOTA_ERR_TIMEOUT);
	assert_null(m);
	assert_int_equal(mqtt_queue_pop(q, 30, &m), FUOTA_ERR_TIMEOUT);
	const uint8_t bin[] = {1, 0, 2};
	assert_int_equal(mqtt_queue_push(q, "t/1", bin, sizeof(bin)), FUOTA_OK);
	assert_int_equal(mqtt_queue_on_message(q, "t/2", NULL, 0), FUOTA_OK);
	assert_int_equal(mqtt_queue_push(q, "t/3", (const uint8_t *)"x", 1), FUOTA_OK);
	assert_int_equal(mqtt_queue_push(q, "t/4", (const uint8_t *)"y", 1), FUOTA_ERR_NO_SPACE);
	assert_int_equal(mqtt_queue_len(q), 3);
	assert_int_equal(mqtt_queue_pop(q, 0, &m), FUOTA_OK);
	assert_string_equal(m->topic, "t/1");
	assert_int_equal(m->len, 3);
	assert_memory_equal(m->payload, bin, 3);
	assert_int_equal(m->payload[3], 0); /* NUL after the payload */
	mqtt_msg_free(m);
	assert_int_equal(mqtt_queue_pop(q, 0, &m), FUOTA_OK);
	assert_string_equal(m->topic, "t/2");
	assert_int_equal(m->len, 0);
	mqtt_msg_free(m);
	mqtt_queue_destroy(q); /* frees t/3 */
	mqtt_queue_destroy(NULL);
}

struct producer {
	struct mqtt_queue *q;
	int id;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (int i = 0; i < 1000; i++) {
		char buf[32];
		int len = snprintf(buf, sizeof(buf), "%d:%d", p->id, i);
		while (mqtt_queue_push(p->q, "t", (const uint8_t *)buf, (size_t)len) != FUOTA_OK)
			;
	}
	return NULL;
}

/* Two producers, one consumer: every message arrives once, each producer's in its order. */
static void test_queue_threads(void **state)
{
	(void)state;
	struct mqtt_queue *q = NULL;
	assert_int_equal(mqtt_queue_create(64, &q), FUOTA_OK);
	struct producer p[2] = {{q, 0}, {q, 1}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	int next[2] = {0, 0};
	for (int n = 0; n < 2000; n++) {
		struct mqtt_msg *m = NULL;
		assert_int_equal(mqtt_queue_pop(q, 5000, &m), FUOTA_OK);
		int id = -1, seq = -1;
		assert_int_equal(sscanf((const char *)m->payload, "%d:%d", &id, &seq), 2);
		assert_true(id == 0 || id == 1);
		assert_int_equal(seq, next[id]);
		next[id]++;
		mqtt_msg_free(m);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(mqtt_queue_len(q), 0);
	mqtt_queue_destroy(q);
}

static void *waker(void *arg)
{
	struct timespec ts = {0, 100 * 1000000L}; /* let the consumer block first */
	nanosleep(&ts, NULL);
	mqtt_queue_wake(arg);
	return NULL;
}

static void test_queue_wake(void **state)
{
	(void)state;
	struct mqtt_queue *q = NULL;
	assert_int_equal(mqtt_queue_create(0, &q), FUOTA_OK);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, waker, q), 0);
	struct mqtt_msg *m = NULL;
	/* Without the wake this would block for 60 s and the test would time out. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mqtt_queue_pop(q, 60000, &m), FUOTA_ERR_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(th, NULL);
	assert_null(m);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	mqtt_queue_destroy(q);
}

/* A fake client behind the function table: what a test of fuotad or the simulator does. */
struct fake {
	struct mqtt_client base;
	int status_calls;
	char last_topic[64];
	uint64_t seq;
};

static int f_connect(struct mqtt_client *c, const char *uri, const struct mqtt_options *o)
{
	(void)c;
	(void)uri;
	(void)o;
	return FUOTA_OK;
}

static int f_subscribe(struct mqtt_client *c, const char *f, int qos, mqtt_msg_cb cb, void *ctx)
{
	(void)c;
	(void)qos;
	/* A fake broker delivers a retained message at once. */
	return cb(ctx, f, (const uint8_t *)"hi", 2);
}

static int f_publish(struct mqtt_client *c, const char *topic, const void *p, size_t len, int qos,
                     uint64_t *seq)
{
	(void)p;
	(void)len;
	(void)qos;
	struct fake *f = (struct fake *)c;
	snprintf(f->last_topic, sizeof(f->last_topic), "%s", topic);
	f->seq++;
	if (seq)
		*seq = f->seq;
	return FUOTA_OK;
}

static void f_status(struct mqtt_client *c, struct mqtt_status *st)
{
	struct fake *f = (struct fake *)c;
	memset(st, 0, sizeof(*st));
	f->status_calls++;
	st->connected = true;
	st->subscribed = f->status_calls >= 3; /* acknowledged on the third look */
}

static int f_disconnect(struct mqtt_client *c, uint32_t t)
{
	(void)c;
	(void)t;
	return FUOTA_OK;
}

static void f_destroy(struct mqtt_client *c)
{
	(void)c;
}

static void test_fake_client(void **state)
{
	(void)state;
	static const struct mqtt_ops ops = {f_connect, f_subscribe,  f_publish,
	                                    f_status,  f_disconnect, f_destroy};
	struct fake f = {.base = {.ops = &ops}};
	struct mqtt_client *c = &f.base;
	struct mqtt_queue *q = NULL;
	assert_int_equal(mqtt_queue_create(0, &q), FUOTA_OK);
	struct mqtt_options o = {.client_id = "x"};
	assert_int_equal(mqtt_connect(c, "tcp://fake:1", &o), FUOTA_OK);
	assert_int_equal(mqtt_subscribe(c, "a/b", 1, mqtt_queue_on_message, q), FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(c, 2000), FUOTA_OK);
	assert_int_equal(f.status_calls, 3);
	assert_int_equal(mqtt_publish(c, "x/y", "1", 1, 1), FUOTA_OK);
	assert_string_equal(f.last_topic, "x/y");
	uint64_t seq = 0;
	assert_int_equal(mqtt_publish_seq(c, "x/z", "2", 1, 1, &seq), FUOTA_OK);
	assert_int_equal(seq, 2); /* the table's own numbering comes through */
	struct mqtt_msg *m = NULL;
	assert_int_equal(mqtt_queue_pop(q, 0, &m), FUOTA_OK);
	assert_string_equal(m->topic, "a/b");
	mqtt_msg_free(m);
	mqtt_destroy(c);
	mqtt_queue_destroy(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_topic_match),
	        cmocka_unit_test(test_topic_level),
	        cmocka_unit_test(test_queue_order_bound_timeout),
	        cmocka_unit_test(test_queue_threads),
	        cmocka_unit_test(test_queue_wake),
	        cmocka_unit_test(test_fake_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
