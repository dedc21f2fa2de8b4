/* fuota_mqtt against a real mosquitto: round trip, QoS 1 order, shared subscriptions, the bounded
 * outbox, a first connection before the broker exists, and a broker restart in the middle (messages
 * published while it is down arrive afterwards, subscriptions work again).
 *
 * The test owns its brokers: it starts them with tests/e2e/mosquitto.sh in private directories
 * (argv[1] = the script, argv[2] = a work directory) and stops them at the end, also on failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/mqtt.h"

static const char *g_script;
static char g_dir_a[512]; /* the broker of most tests */
static char g_dir_b[512]; /* a broker started late */
static char g_uri_a[128];

static int run(const char *cmd, const char *dir, const char *port)
{
	char line[1400];
	snprintf(line, sizeof(line), "'%s' %s '%s' %s", g_script, cmd, dir, port ? port : "");
	return system(line);
}

static int read_port(const char *dir)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/port", dir);
	FILE *f = fopen(path, "r");
	int port = -1;
	if (f) {
		if (fscanf(f, "%d", &port) != 1)
			port = -1;
		fclose(f);
	}
	return port;
}

static void stop_all(void)
{
	run("stop", g_dir_a, NULL);
	run("stop", g_dir_b, NULL);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static struct mqtt_client *client(const char *uri, const char *id, bool clean, size_t max_buffered)
{
	struct mqtt_client *c = NULL;
	assert_int_equal(mqtt_paho_create(&c), FUOTA_OK);
	struct mqtt_options o = {
	        .client_id = id,
	        .clean_session = clean,
	        .reconnect_min_ms = 100,
	        .reconnect_max_ms = 400,
	        .max_buffered = max_buffered,
	};
	assert_int_equal(mqtt_connect(c, uri, &o), FUOTA_OK);
	return c;
}

/* Pops messages until `want` arrived or timeout; returns how many came. Records payload numbers
 * ("%u") in seen[] (counts per number). */
static unsigned drain(struct mqtt_queue *q, unsigned want, unsigned timeout_ms, unsigned *seen,
                      unsigned n_seen, unsigned *order_errors)
{
	unsigned got = 0;
	int last = -1;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < want) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= (long)timeout_ms)
			break;
		struct mqtt_msg *m = NULL;
		if (mqtt_queue_pop(q, 100, &m) != FUOTA_OK)
			continue;
		unsigned v = (unsigned)strtoul((const char *)m->payload, NULL, 10);
		if (seen && v < n_seen) {
			if (seen[v] == 0)
				got++;
			seen[v]++;
		} else {
			got++;
		}
		if (order_errors && (int)v < last)
			(*order_errors)++;
		last = (int)v;
		mqtt_msg_free(m);
	}
	return got;
}

static void publish_n(struct mqtt_client *c, const char *topic, unsigned from, unsigned n, int qos)
{
	for (unsigned i = from; i < from + n; i++) {
		char buf[16];
		int len = snprintf(buf, sizeof(buf), "%u", i);
		assert_int_equal(mqtt_publish(c, topic, buf, (size_t)len, qos), FUOTA_OK);
	}
}

static int wait_outbox_empty(struct mqtt_client *c, unsigned timeout_ms)
{
	for (unsigned el = 0; el < timeout_ms; el += 20) {
		struct mqtt_status st;
		mqtt_get_status(c, &st);
		if (st.connected && st.outbox == 0)
			return 0;
		sleep_ms(20);
	}
	return -1;
}

static void test_round_trip_qos1_in_order(void **state)
{
	(void)state;
	struct mqtt_queue *q = NULL;
	assert_int_equal(mqtt_queue_create(0, &q), FUOTA_OK);
	struct mqtt_client *sub = client(g_uri_a, "e2e-rt-sub", true, 0);
	assert_int_equal(mqtt_subscribe(sub, "e2e/rt/+/up", 1, mqtt_queue_on_message, q), FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(sub, 5000), FUOTA_OK);

	struct mqtt_client *pub = client(g_uri_a, "e2e-rt-pub", true, 0);
	publish_n(pub, "e2e/rt/dev1/up", 0, 200, 1);
	publish_n(pub, "e2e/rt/dev1/down", 1000, 5, 1); /* does not match the filter */
	unsigned seen[200] = {0};
	unsigned order_errors = 0;
	assert_int_equal(drain(q, 200, 5000, seen, 200, &order_errors), 200);
	assert_int_equal(order_errors, 0);
	for (unsigned i = 0; i < 200; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(wait_outbox_empty(pub, 3000), 0);
	sleep_ms(200);
	assert_int_equal(mqtt_queue_len(q), 0); /* the non-matching topic never arrived */

	struct mqtt_status st;
	mqtt_get_status(pub, &st);
	assert_int_equal(st.published, 205);
	assert_int_equal(st.connects, 1);
	mqtt_get_status(sub, &st);
	assert_int_equal(st.received, 200);

	/* Binary payload with NUL bytes, and an empty one. */
	const uint8_t bin[] = {0x00, 0xff, 0x00, 0x42};
	assert_int_equal(mqtt_publish(pub, "e2e/rt/bin/up", bin, sizeof(bin), 1), FUOTA_OK);
	assert_int_equal(mqtt_publish(pub, "e2e/rt/empty/up", NULL, 0, 0), FUOTA_OK);
	struct mqtt_msg *m = NULL;
	assert_int_equal(mqtt_queue_pop(q, 3000, &m), FUOTA_OK);
	assert_string_equal(m->topic, "e2e/rt/bin/up");
	assert_int_equal(m->len, sizeof(bin));
	assert_memory_equal(m->payload, bin, sizeof(bin));
	mqtt_msg_free(m);
	assert_int_equal(mqtt_queue_pop(q, 3000, &m), FUOTA_OK);
	assert_string_equal(m->topic, "e2e/rt/empty/up");
	assert_int_equal(m->len, 0);
	mqtt_msg_free(m);

	assert_int_equal(mqtt_disconnect(pub, 2000), FUOTA_OK);
	assert_int_equal(mqtt_publish(pub, "e2e/rt/x/up", "1", 1, 1), FUOTA_ERR_STATE);
	mqtt_destroy(pub);
	mqtt_destroy(sub);
	mqtt_queue_destroy(q);
}

static void test_shared_subscription(void **state)
{
	(void)state;
	struct mqtt_queue *q = NULL;
	assert_int_equal(mqtt_queue_create(0, &q), FUOTA_OK);
	struct mqtt_client *s1 = client(g_uri_a, "e2e-share-1", true, 0);
	struct mqtt_client *s2 = client(g_uri_a, "e2e-share-2", true, 0);
	assert_int_equal(mqtt_subscribe(s1, "$share/e2e/e2e/share/#", 1, mqtt_queue_on_message, q),
	                 FUOTA_OK);
	assert_int_equal(mqtt_subscribe(s2, "$share/e2e/e2e/share/#", 1, mqtt_queue_on_message, q),
	                 FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(s1, 5000), FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(s2, 5000), FUOTA_OK);

	struct mqtt_client *pub = client(g_uri_a, "e2e-share-pub", true, 0);
	publish_n(pub, "e2e/share/a/b", 0, 100, 1);
	unsigned seen[100] = {0};
	assert_int_equal(drain(q, 100, 5000, seen, 100, NULL), 100);
	sleep_ms(300);
	/* Each message went to exactly one member of the group, and both members got some. */
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(mqtt_queue_len(q), 0);
	struct mqtt_status st1, st2;
	mqtt_get_status(s1, &st1);
	mqtt_get_status(s2, &st2);
	assert_int_equal(st1.received + st2.received, 100);
	assert_true(st1.received > 0 && st2.received > 0);
	mqtt_destroy(pub);
	mqtt_destroy(s1);
	mqtt_destroy(s2);
	mqtt_queue_destroy(q);
}

static void test_broker_restart(void **state)
{
	(void)state;
	struct mqtt_queue *qp = NULL, *qc = NULL;
	assert_int_equal(mqtt_queue_create(0, &qp), FUOTA_OK);
	assert_int_equal(mqtt_queue_create(0, &qc), FUOTA_OK);
	/* A persistent-session subscriber (the broker keeps its subscription and queues for it) and
	 * a clean-session one (our client must subscribe again after the restart). */
	struct mqtt_client *persist = client(g_uri_a, "e2e-restart-persist", false, 0);
	struct mqtt_client *clean = client(g_uri_a, "e2e-restart-clean", true, 0);
	struct mqtt_client *pub = client(g_uri_a, "e2e-restart-pub", true, 0);
	assert_int_equal(mqtt_subscribe(persist, "e2e/restart/#", 1, mqtt_queue_on_message, qp),
	                 FUOTA_OK);
	assert_int_equal(mqtt_subscribe(clean, "e2e/restart/#", 1, mqtt_queue_on_message, qc),
	                 FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(persist, 5000), FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(clean, 5000), FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(pub, 5000),
	                 FUOTA_OK); /* no subscriptions: connected */

	publish_n(pub, "e2e/restart/t", 0, 10, 1);
	unsigned seen_p[300] = {0}, seen_c[300] = {0};
	assert_int_equal(drain(qp, 10, 5000, seen_p, 300, NULL), 10);
	assert_int_equal(drain(qc, 10, 5000, seen_c, 300, NULL), 10);

	/* Broker down: the publisher notices, and what it publishes now waits in its outbox. */
	int port = read_port(g_dir_a);
	assert_true(port > 0);
	assert_int_equal(run("stop", g_dir_a, NULL), 0);
	struct mqtt_status st;
	for (int i = 0; i < 200; i++) {
		mqtt_get_status(pub, &st);
		if (!st.connected)
			break;
		sleep_ms(20);
	}
	assert_false(st.connected);
	publish_n(pub, "e2e/restart/t", 10, 100, 1);
	mqtt_get_status(pub, &st);
	assert_int_equal(st.outbox, 100);
	/* Numbered 1..110; the first 10 were acknowledged before the broker went away. */
	assert_int_equal(st.last_seq, 110);
	assert_int_equal(st.acked_seq, 10);
	sleep_ms(600); /* a few failed reconnection attempts */

	char port_s[16];
	snprintf(port_s, sizeof(port_s), "%d", port);
	assert_int_equal(run("start", g_dir_a, port_s), 0);

	/* Every buffered message reaches the persistent subscriber. */
	assert_int_equal(drain(qp, 100, 15000, seen_p, 300, NULL), 100);
	for (unsigned i = 0; i < 110; i++)
		assert_true(seen_p[i] >= 1);
	assert_int_equal(wait_outbox_empty(pub, 5000), 0);
	mqtt_get_status(pub, &st);
	assert_true(st.connects >= 2);
	assert_int_equal(st.acked_seq, 110); /* sent again after the reconnection, acknowledged */

	/* The clean-session subscriber subscribed again by itself: new messages reach it. */
	assert_int_equal(mqtt_wait_subscribed(clean, 10000), FUOTA_OK);
	mqtt_get_status(clean, &st);
	assert_true(st.connects >= 2);
	publish_n(pub, "e2e/restart/t", 200, 20, 1);
	unsigned got = 0;
	for (int tries = 0; tries < 100 && got < 20; tries++) {
		drain(qc, 1000, 50, seen_c, 300, NULL);
		got = 0;
		for (unsigned i = 200; i < 220; i++)
			got += seen_c[i] ? 1 : 0;
	}
	assert_int_equal(got, 20);
	assert_int_equal(drain(qp, 20, 5000, seen_p, 300, NULL), 20);

	mqtt_destroy(pub);
	mqtt_destroy(clean);
	mqtt_destroy(persist);
	mqtt_queue_destroy(qp);
	mqtt_queue_destroy(qc);
}

/* A client started before its broker: it keeps trying, buffers up to max_buffered, refuses more
 * with NO_SPACE, and delivers the buffered ones once the broker is there. */
static void test_outbox_bound_and_late_broker(void **state)
{
	(void)state;
	int port = 0;
	for (int i = 0; i < 50 && port == 0; i++) {
		int p = 20000 + (int)((unsigned)rand() % 40000u);
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "exec 3<>/dev/tcp/127.0.0.1/%d", p);
		char line[128];
		snprintf(line, sizeof(line), "bash -c '%s' 2>/dev/null", cmd);
		if (system(line) != 0)
			port = p; /* nothing listens there */
	}
	assert_true(port > 0);
	char uri[64], port_s[16];
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
	snprintf(port_s, sizeof(port_s), "%d", port);

	struct mqtt_client *pub = client(uri, "e2e-late-pub", true, 5);
	publish_n(pub, "e2e/late/t", 0, 5, 1);
	assert_int_equal(mqtt_publish(pub, "e2e/late/t", "5", 1, 1), FUOTA_ERR_NO_SPACE);
	struct mqtt_status st;
	mqtt_get_status(pub, &st);
	assert_false(st.connected);
	assert_int_equal(st.outbox, 5);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.last_seq, 5); /* the refused one used no number */
	assert_int_equal(st.acked_seq, 0);

	assert_int_equal(run("start", g_dir_b, port_s), 0);
	struct mqtt_queue *q = NULL;
	assert_int_equal(mqtt_queue_create(0, &q), FUOTA_OK);
	/* The subscriber must be there before the publisher's outbox drains: subscribe first with a
	 * persistent session, which the broker keeps even before our publisher connects. */
	struct mqtt_client *sub = client(uri, "e2e-late-sub", true, 0);
	assert_int_equal(mqtt_subscribe(sub, "e2e/late/#", 1, mqtt_queue_on_message, q), FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(sub, 10000), FUOTA_OK);
	/* The publisher may have flushed before the subscription existed; publish a marker after.
	 */
	assert_int_equal(wait_outbox_empty(pub, 10000), 0);
	mqtt_get_status(pub, &st);
	assert_int_equal(st.published, 5);
	assert_int_equal(st.acked_seq, 5);
	publish_n(pub, "e2e/late/t", 100, 1, 1);
	unsigned seen[101] = {0};
	for (int tries = 0; tries < 60 && !seen[100]; tries++)
		drain(q, 1, 50, seen, 101, NULL);
	assert_int_equal(seen[100], 1);
	mqtt_destroy(sub);
	mqtt_destroy(pub);
	mqtt_queue_destroy(q);
	run("stop", g_dir_b, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MOSQUITTO_SH WORKDIR\n", argv[0]);
		return 2;
	}
	g_script = argv[1];
	snprintf(g_dir_a, sizeof(g_dir_a), "%s/broker-a", argv[2]);
	snprintf(g_dir_b, sizeof(g_dir_b), "%s/broker-b", argv[2]);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	stop_all(); /* leftovers of an interrupted run */
	{
		char line[1200];
		snprintf(line, sizeof(line), "rm -rf '%s' '%s'", g_dir_a, g_dir_b);
		if (system(line) != 0)
			return 1;
	}
	if (run("start", g_dir_a, NULL) != 0) {
		fprintf(stderr, "could not start mosquitto\n");
		return 1;
	}
	snprintf(g_uri_a, sizeof(g_uri_a), "tcp://127.0.0.1:%d", read_port(g_dir_a));
	atexit(stop_all);

	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip_qos1_in_order),
	        cmocka_unit_test(test_shared_subscription),
	        cmocka_unit_test(test_outbox_bound_and_late_broker),
	        cmocka_unit_test(test_broker_restart),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	stop_all();
	return rc;
}
