/* engine_delq.c: the deletes a job sends without waiting for answers go out paced, in the order
 * they were asked for, and none is lost to a full MQTT outbox. No database: the queue and its
 * budget are the engine's memory only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine_int.h"
#include "fuota/err.h"

#define N_DEVS 1000

/* An MQTT client: up to `cap` messages in its outbox, refused beyond; the accepted ones are
 * numbered 1, 2, 3 ... (total). */
struct outbox {
	size_t n, cap, refused, total;
	unsigned frag_del[N_DEVS], mc_del[N_DEVS];
	unsigned last_dev; /* devices come in order */
	bool in_order;
};

static int publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, uint64_t *seq)
{
	struct outbox *o = ctx;
	unsigned dev = 0;

	if (o->n >= o->cap) {
		o->refused++;
		return FUOTA_ERR_NO_SPACE;
	}
	assert_int_equal(sscanf(topic, "application/app/device/70b3d5%10x/command/down", &dev), 1);
	assert_true(dev < N_DEVS);
	assert_non_null(strstr((const char *)payload, "\"fPort\""));
	(void)len;
	if (dev < o->last_dev)
		o->in_order = false;
	o->last_dev = dev;
	if (strstr((const char *)payload, "\"fPort\":201"))
		o->frag_del[dev]++;
	else
		o->mc_del[dev]++;
	o->n++;
	o->total++;
	*seq = o->total;
	return FUOTA_OK;
}

static void engine_init(struct engine *e, struct outbox *o)
{
	memset(e, 0, sizeof(*e));
	memset(o, 0, sizeof(*o));
	o->in_order = true;
	e->cfg.json = true;
	e->cfg.port_frag = 201;
	e->cfg.port_mc = 200;
	snprintf(e->cfg.app_topic, sizeof(e->cfg.app_topic), "application");
	e->publish = publish;
	e->publish_ctx = o;
}

static void push(struct engine *e, unsigned dev)
{
	char eui[SENG_EUI_LEN];

	snprintf(eui, sizeof(eui), "70b3d5%010x", dev);
	assert_int_equal(engine_delq_push(e, 1, "app", eui, 1), FUOTA_OK);
}

static void test_budget(void **state)
{
	(void)state;
	assert_int_equal(engine_delq_budget(0, 0), 0);
	assert_int_equal(engine_delq_budget(0, 10), 10);
	assert_int_equal(engine_delq_budget(0, 100000), ENGINE_DELQ_PER_TICK);
	assert_int_equal(engine_delq_budget(ENGINE_BACKLOG_PAUSE - 5, 100000), 5);
	assert_int_equal(engine_delq_budget(ENGINE_BACKLOG_PAUSE, 100000), 0);
	assert_int_equal(engine_delq_budget(SIZE_MAX, 100000), 0); /* the broker away */
}

/* 1,000 devices' deletes through an outbox of 100 messages that the broker takes 60 of between
 * ticks: every device gets both once, in order (the budget alone: test_cleared_once_acked). */
static void test_paced_none_lost(void **state)
{
	struct engine e;
	struct outbox o;
	int64_t now = 1800000000000LL;
	unsigned ticks = 0;

	(void)state;
	engine_init(&e, &o);
	o.cap = 100;
	for (unsigned i = 0; i < N_DEVS; i++)
		push(&e, i);
	assert_int_equal(engine_delq_pending(&e), N_DEVS);
	while (engine_delq_pending(&e) > 0 && ticks++ < 1000) {
		int64_t next = now + 1000;
		e.backlog = o.n;
		engine_delq_run(&e, now, &next);
		if (engine_delq_pending(&e) > 0)
			assert_true(next <= now + ENGINE_DELQ_RETRY_MS);
		o.n = o.n > 60 ? o.n - 60 : 0;
		now += 10;
	}
	assert_int_equal(engine_delq_pending(&e), 0);
	assert_true(o.refused > 0);
	assert_true(o.in_order);
	for (unsigned i = 0; i < N_DEVS; i++) {
		assert_int_equal(o.frag_del[i], 1);
		assert_int_equal(o.mc_del[i], 1);
	}
	engine_delq_free(&e);
}

/* Above the backlog pause nothing goes, and the engine comes back later, not at once. */
static void test_backlog_holds(void **state)
{
	struct engine e;
	struct outbox o;
	int64_t now = 1800000000000LL, next = now + 1000;

	(void)state;
	engine_init(&e, &o);
	o.cap = 1000000;
	push(&e, 1);
	push(&e, 2);
	e.backlog = ENGINE_BACKLOG_PAUSE + 1;
	engine_delq_run(&e, now, &next);
	assert_int_equal(o.total, 0);
	assert_int_equal(next, now + ENGINE_DELQ_RETRY_MS);
	e.backlog = 0;
	engine_delq_run(&e, now, &next);
	assert_int_equal(o.total, 4);
	assert_int_equal(engine_delq_pending(&e), 0);
	/* The queue's room is used again once the broker acknowledged them. */
	assert_int_equal(engine_delq_owed_seq(&e), 4);
	assert_int_equal(engine_delq_acked(&e, o.total), 2);
	assert_int_equal(engine_delq_owed_seq(&e), 0);
	push(&e, 3);
	assert_int_equal(engine_delq_pending(&e), 1);
	assert_int_equal(e.delq.n, 1);
	engine_delq_free(&e);
}

/* Which published devices may be cleared: those from the first on whose last delete is at or
 * below the watermark; one above it stops the count (a later device is not cleared before it),
 * and a device none of whose deletes could be published (0) waits for nothing. */
static void test_clearable(void **state)
{
	static const struct {
		uint64_t seqs[5];
		size_t n;
		uint64_t acked;
		size_t want;
	} cases[] = {
	        {{0}, 0, 100, 0},
	        {{2, 4, 6}, 3, 0, 0},
	        {{2, 4, 6}, 3, 3, 1},
	        {{2, 4, 6}, 3, 4, 2},
	        {{2, 4, 6}, 3, 6, 3},
	        {{2, 4, 6}, 3, 1000, 3},
	        {{2, 0, 9, 7}, 4, 8, 2},          /* 9 stops it: 7 after it waits too */
	        {{3, UINT64_MAX, 5}, 3, 1000, 1}, /* held by the runner: never by a number */
	        {{10, 11, 12, 13, 14}, 5, 12, 3},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct engine_del v[5];

		memset(v, 0, sizeof(v));
		for (size_t k = 0; k < cases[i].n; k++)
			v[k].seq = cases[i].seqs[k];
		if (engine_delq_clearable(v, cases[i].n, cases[i].acked) != cases[i].want)
			fail_msg("case %zu: %zu, expected %zu", i,
			         engine_delq_clearable(v, cases[i].n, cases[i].acked),
			         cases[i].want);
	}
}

/* A device's row is cleared once the broker acknowledged every message up to its last delete,
 * not when the client accepted them, and with more messages still in the outbox; the queue's
 * room is not reused before. */
static void test_cleared_once_acked(void **state)
{
	struct engine e;
	struct outbox o;
	int64_t now = 1800000000000LL, next = now + 1000;

	(void)state;
	engine_init(&e, &o);
	o.cap = 1000000;
	for (unsigned i = 0; i < 300; i++)
		push(&e, i);
	engine_delq_run(&e, now, &next); /* 256 out (messages 1..512), 44 wait */
	assert_int_equal(engine_delq_pending(&e), 300 - ENGINE_DELQ_PER_TICK);
	assert_int_equal(engine_delq_unconfirmed(&e), ENGINE_DELQ_PER_TICK);
	assert_int_equal(engine_delq_acked(&e, 0), 0);
	/* Device k's deletes are messages 2k + 1 and 2k + 2. */
	assert_int_equal(engine_delq_acked(&e, 99), 49); /* device 49's second not yet */
	assert_int_equal(engine_delq_acked(&e, 100), 1);
	assert_int_equal(engine_delq_acked(&e, 100), 0); /* each once */
	assert_int_equal(engine_delq_unconfirmed(&e), ENGINE_DELQ_PER_TICK - 50);
	assert_int_equal(engine_delq_acked(&e, 2 * ENGINE_DELQ_PER_TICK),
	                 ENGINE_DELQ_PER_TICK - 50);
	assert_int_equal(engine_delq_unconfirmed(&e), 0);
	engine_delq_run(&e, now, &next);
	assert_int_equal(engine_delq_pending(&e), 0);
	assert_int_equal(engine_delq_unconfirmed(&e), 300 - ENGINE_DELQ_PER_TICK);
	/* Pushed while those are unconfirmed: they are kept, the new one waits behind. */
	for (unsigned i = 300; i < 700; i++)
		push(&e, i);
	assert_int_equal(engine_delq_unconfirmed(&e), 300 - ENGINE_DELQ_PER_TICK);
	assert_int_equal(engine_delq_pending(&e), 400);
	assert_int_equal(engine_delq_acked(&e, o.total), 300 - ENGINE_DELQ_PER_TICK);
	while (engine_delq_pending(&e) > 0)
		engine_delq_run(&e, now, &next);
	assert_int_equal(engine_delq_owed_seq(&e), o.total);
	assert_int_equal(engine_delq_acked(&e, o.total), 400);
	assert_int_equal(e.delq.n, 0); /* all cleared: the queue starts over */
	for (unsigned i = 0; i < 700; i++) {
		assert_int_equal(o.frag_del[i], 1);
		assert_int_equal(o.mc_del[i], 1);
	}
	assert_true(o.in_order);
	engine_delq_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_budget),
	        cmocka_unit_test(test_paced_none_lost),
	        cmocka_unit_test(test_backlog_holds),
	        cmocka_unit_test(test_clearable),
	        cmocka_unit_test(test_cleared_once_acked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
