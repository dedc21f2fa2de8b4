/* The Paho client's outbox (mqtt/src/mqtt_outbox.c) without a broker: sequence numbers in
 * publish order, and the low watermark of the acknowledged ones (mqtt_status.acked_seq) when
 * acknowledgements come out of order, after a reconnection that sends everything again, with a
 * full outbox, and for QoS 0 (acknowledged once accepted by Paho); and a message
 * acknowledged twice, freed once and never read after (run under ASan to see the latter). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "mqtt_outbox.h"

#define N 8

static void add_all(struct mqtt_outbox *o, struct mqtt_out_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].qos = 1;
		assert_int_equal(mqtt_outbox_add(o, &m[i]), FUOTA_OK);
		assert_int_equal(m[i].seq, o->seq);
	}
}

/* Sequences 1..N in publish order; nothing acknowledged yet; acknowledgements in publish order
 * raise the watermark one by one, to the last sequence once the outbox is empty. */
static void test_in_order(void **state)
{
	struct mqtt_outbox o = {.cap = N};
	struct mqtt_out_msg m[N];

	(void)state;
	assert_int_equal(mqtt_outbox_acked_through(&o), 0);
	add_all(&o, m, N);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(m[i].seq, i + 1);
	assert_int_equal(mqtt_outbox_acked_through(&o), 0);
	for (size_t i = 0; i < N; i++) {
		assert_ptr_equal(mqtt_outbox_take(&o, N), &m[i]);
		mqtt_outbox_acked(&o, &m[i]);
		assert_true(m[i].done);
		assert_int_equal(mqtt_outbox_acked_through(&o), i + 1);
	}
	assert_int_equal(o.len, 0);
	assert_null(o.head);
}

/* Acknowledgements out of order: the later ones do not raise the watermark past an older one
 * still waiting for its own. */
static void test_out_of_order(void **state)
{
	struct mqtt_outbox o = {.cap = N};
	struct mqtt_out_msg m[N];
	static const struct {
		size_t acked;       /* index acknowledged */
		uint64_t watermark; /* then */
	} steps[] = {{2, 0}, {1, 0}, {5, 0}, {0, 3}, {3, 4}, {7, 4}, {4, 6}, {6, N}};

	(void)state;
	add_all(&o, m, N);
	while (mqtt_outbox_take(&o, N))
		;
	assert_int_equal(o.inflight, N);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		mqtt_outbox_acked(&o, &m[steps[i].acked]);
		if (mqtt_outbox_acked_through(&o) != steps[i].watermark)
			fail_msg("step %zu: watermark %llu, expected %llu", i,
			         (unsigned long long)mqtt_outbox_acked_through(&o),
			         (unsigned long long)steps[i].watermark);
	}
	assert_int_equal(o.inflight, 0);
	assert_int_equal(o.len, 0);
}

/* The connection broke with messages in flight: all of them are sent again, oldest first, the
 * watermark does not move until they are acknowledged, and a message refused on its way goes
 * back to its place in publish order. */
static void test_reconnect_resends(void **state)
{
	struct mqtt_outbox o = {.cap = N};
	struct mqtt_out_msg m[N];

	(void)state;
	add_all(&o, m, 4);
	for (size_t i = 0; i < 3; i++)
		assert_ptr_equal(mqtt_outbox_take(&o, 3), &m[i]);
	assert_null(mqtt_outbox_take(&o, 3)); /* the in-flight window is full */
	mqtt_outbox_acked(&o, &m[1]);         /* acknowledged before the break */
	mqtt_outbox_resend_all(&o);
	assert_int_equal(o.inflight, 0);
	assert_int_equal(mqtt_outbox_acked_through(&o), 0);
	assert_ptr_equal(mqtt_outbox_take(&o, N), &m[0]);
	assert_ptr_equal(mqtt_outbox_take(&o, N), &m[2]); /* m[1] is not sent again */
	mqtt_outbox_retry(&o, &m[0]);                     /* refused on its way */
	assert_ptr_equal(o.next_send, &m[0]);
	assert_ptr_equal(mqtt_outbox_take(&o, N), &m[0]);
	assert_ptr_equal(mqtt_outbox_take(&o, N), &m[3]);
	assert_null(mqtt_outbox_take(&o, N));
	mqtt_outbox_acked(&o, &m[0]);
	assert_int_equal(mqtt_outbox_acked_through(&o), 2); /* m[0] and m[1] */
	mqtt_outbox_acked(&o, &m[2]);
	mqtt_outbox_acked(&o, &m[3]);
	assert_int_equal(mqtt_outbox_acked_through(&o), 4);
}

/* A full outbox refuses a message without linking it or using up a sequence number; once room
 * is made, the next one gets the number after the last accepted. */
static void test_full_refuses(void **state)
{
	struct mqtt_outbox o = {.cap = 2};
	struct mqtt_out_msg m[3];

	(void)state;
	add_all(&o, m, 2);
	memset(&m[2], 0, sizeof(m[2]));
	assert_int_equal(mqtt_outbox_add(&o, &m[2]), FUOTA_ERR_NO_SPACE);
	assert_int_equal(m[2].seq, 0);
	assert_int_equal(o.len, 2);
	assert_int_equal(o.seq, 2);
	mqtt_outbox_acked(&o, mqtt_outbox_take(&o, N));
	assert_int_equal(mqtt_outbox_acked_through(&o), 1);
	assert_int_equal(mqtt_outbox_add(&o, &m[2]), FUOTA_OK);
	assert_int_equal(m[2].seq, 3);
	assert_int_equal(mqtt_outbox_acked_through(&o), 1);
}

/* QoS 0: the client calls a message acknowledged as soon as Paho accepted it (it
 * waits for nothing more), so a QoS 1 message behind it is what holds the watermark. */
static void test_qos0(void **state)
{
	struct mqtt_outbox o = {.cap = N};
	struct mqtt_out_msg m[3];

	(void)state;
	add_all(&o, m, 3);
	m[1].qos = 0;
	assert_ptr_equal(mqtt_outbox_take(&o, N), &m[0]);
	assert_ptr_equal(mqtt_outbox_take(&o, N), &m[1]);
	mqtt_outbox_acked(&o, &m[1]); /* handed over */
	assert_int_equal(mqtt_outbox_acked_through(&o), 0);
	mqtt_outbox_acked(&o, &m[0]);
	assert_int_equal(mqtt_outbox_acked_through(&o), 2);
	assert_ptr_equal(mqtt_outbox_take(&o, N), &m[2]);
	assert_int_equal(mqtt_outbox_acked_through(&o), 2);
}

static struct mqtt_out_msg *heap_msg(void)
{
	struct mqtt_out_msg *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->topic = strdup("t");
	m->payload = malloc(1);
	assert_non_null(m->topic);
	assert_non_null(m->payload);
	m->qos = 1;
	return m;
}

/* M was sent on connection 1 (ticket T1); the connection dropped and M was sent again on
 * connection 2 (T2); both PUBACKs arrive. The first acknowledges M and frees nothing, the second
 * only drops its reference, the last one, and frees M: ASan sees a read of M after that or a
 * second free, LeakSanitizer a message never freed. */
static void test_puback_twice(void **state)
{
	struct mqtt_outbox o = {.cap = N};
	struct mqtt_out_msg *m = heap_msg();
	struct mqtt_out_msg *next = heap_msg();

	(void)state;
	assert_int_equal(mqtt_outbox_add(&o, m), FUOTA_OK);
	assert_int_equal(mqtt_outbox_add(&o, next), FUOTA_OK);
	assert_ptr_equal(mqtt_outbox_take(&o, N), m);
	m->tickets++; /* T1 */
	mqtt_outbox_resend_all(&o);
	assert_ptr_equal(mqtt_outbox_take(&o, N), m);
	m->tickets++; /* T2 */
	assert_true(mqtt_outbox_puback(&o, m));
	assert_true(m->done);
	assert_int_equal(m->tickets, 1);
	assert_int_equal(mqtt_outbox_acked_through(&o), 1);
	assert_false(mqtt_outbox_puback(&o, m)); /* frees m */
	assert_int_equal(o.len, 1);
	assert_int_equal(mqtt_outbox_acked_through(&o), 1);
	assert_ptr_equal(o.head, next);
	mqtt_outbox_acked(&o, next);
	assert_int_equal(mqtt_outbox_acked_through(&o), 2);
	mqtt_out_msg_free(next);
}

/* The same with the PUBACKs' order reversed against the tickets, and a reference the client
 * holds across a call without its lock: M is freed when the last reference goes, not before. */
static void test_puback_held(void **state)
{
	struct mqtt_outbox o = {.cap = N};
	struct mqtt_out_msg *m = heap_msg();

	(void)state;
	assert_int_equal(mqtt_outbox_add(&o, m), FUOTA_OK);
	assert_ptr_equal(mqtt_outbox_take(&o, N), m);
	m->tickets += 3; /* T1, T2 and the client's own */
	assert_true(mqtt_outbox_puback(&o, m));
	assert_false(mqtt_outbox_puback(&o, m));
	assert_int_equal(m->tickets, 1);
	assert_int_equal(o.len, 0);
	assert_int_equal(mqtt_outbox_acked_through(&o), 1);
	mqtt_outbox_unref(m); /* frees m */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_in_order),
	        cmocka_unit_test(test_out_of_order),
	        cmocka_unit_test(test_reconnect_resends),
	        cmocka_unit_test(test_full_refuses),
	        cmocka_unit_test(test_qos0),
	        cmocka_unit_test(test_puback_twice),
	        cmocka_unit_test(test_puback_held),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
