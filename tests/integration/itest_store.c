/* The store's pool against a real PostgreSQL: batches (store_batch_begin ... _end), the
 * transaction the job engine runs a drained batch of inbound messages in.
 *
 *   items              a failing statement undoes its item only; the others commit together,
 *                      and nothing is visible to another connection before the commit
 *   inner transaction  a store function's own BEGIN ... COMMIT is a savepoint of the batch (its
 *                      COMMIT does not commit the batch); one that returns without its COMMIT
 *                      is undone, its item goes on
 *   prepared           statements run many times, in and out of batches, on both connections
 *   failed item        an item whose statement failed is undone whole at its end, work it did
 *                      after the failure included (its caller does not act on it)
 *   inner rollback     a store function's own ROLLBACK undoes its work only, not the batch's
 *   savepoints         a batch stops taking items before it holds more subtransactions than
 *                      PostgreSQL caches (64)
 *   gateway encoding   seng_gw_encoding_set keeps the latest observation, whatever the order
 *                      of the writes
 *   reset              the batch's connection killed mid-batch: the batch reports it, takes
 *                      no more, runs nothing more, and the pool's next call works again
 *   gateway learning   the engine runner learns a gateway's encoding from its stats or acks
 *                      only when they parse and name that gateway (over the broker): garbage,
 *                      another gateway's message, "\n{" protobuf change nothing
 *   unnamed            [database] prepared_statements = off (FUOTA_DATABASE_PREPARED_STATEMENTS):
 *                      the same work, in and out of batches, prepares nothing on the session;
 *                      on prepares; fuotad runs with it off (token, readiness, API)
 *
 * usage: itest_store FUOTAD SERVICES_ENV WORKDIR */
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
#include <jansson.h>
#include <libpq-fe.h>

#include "fuota/cfg.h"
#include "fuota/cs_msg.h"
#include "fuota/engine.h"
#include "fuota/engine_mqtt.h"
#include "fuota/err.h"
#include "fuota/mqtt.h"
#include "fuota/plan.h"
#include "fuota/store.h"
#include "itest.h"
/* store_acquire / store_run: a store function's own BEGIN ... ROLLBACK, written out. */
#include "../../server/store/src/store_int.h"
/* seng_gw_encoding_set / _get (fuota_store, the engine's queries). */
#include "fuota/store_engine.h"
/* The migrations, to build a database as an older fuotad left it. */
#include "../../server/store/src/embedded.h"

static const char *argv_bin, *argv_env, *argv_dir;

static struct {
	struct itest_env env;
	char dsn[512];
	struct store *s;
	PGconn *raw; /* another session: sees committed rows only */
} T;

/* count(*) of a query on the raw connection. */
static long raw_count(const char *sql)
{
	PGresult *r = PQexec(T.raw, sql);
	long n;

	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return n;
}

static int64_t tenant(const char *name)
{
	char *json = NULL;
	int rc = store_tenant_create(T.s, name, &json);
	int64_t id = -1;

	if (rc == FUOTA_OK) {
		json_t *o = json_loads(json, 0, NULL);

		assert_non_null(o);
		id = json_integer_value(json_object_get(o, "id"));
		json_decref(o);
	}
	free(json);
	return id;
}

static void test_items(void **state)
{
	char *json = NULL;
	uint8_t hash[32] = {1, 2, 3};

	(void)state;
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	assert_int_equal(store_batch_begin(T.s), FUOTA_ERR_STATE);

	store_batch_item(T.s);
	assert_true(tenant("batch-a") > 0);
	assert_false(store_batch_item_failed(T.s));

	/* The name's CHECK fails: this item is undone, the batch goes on. */
	store_batch_item(T.s);
	assert_true(tenant("batch-b") > 0);
	assert_int_equal(tenant(""), -1);
	assert_true(store_batch_item_failed(T.s));

	store_batch_item(T.s);
	assert_false(store_batch_item_failed(T.s));
	assert_true(tenant("batch-c") > 0);
	assert_false(store_batch_item_failed(T.s));

	/* A foreign key violation (no such tenant). */
	store_batch_item(T.s);
	assert_int_not_equal(store_token_create(T.s, 999999, "t", false, hash, &json), FUOTA_OK);
	assert_true(store_batch_item_failed(T.s));

	/* An item without database work costs nothing and fails nothing. */
	store_batch_item(T.s);
	assert_false(store_batch_item_failed(T.s));

	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name LIKE 'batch-%'"), 0);
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name LIKE 'batch-%'"), 2);
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name = 'batch-a'"), 1);
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name = 'batch-b'"), 0);
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name = 'batch-c'"), 1);
	assert_int_equal(store_batch_end(T.s), FUOTA_ERR_STATE);

	/* Outside a batch, every call commits on its own again. */
	assert_true(tenant("batch-d") > 0);
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name = 'batch-d'"), 1);
}

static void test_inner_transaction(void **state)
{
	static const uint8_t fw[4] = {1, 2, 3, 4};
	char *json = NULL;
	int64_t t;

	(void)state;
	t = tenant("inner");
	assert_true(t > 0);
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	store_batch_item(T.s);
	assert_int_equal(store_firmware_create(T.s, t, "fw-1", fw, sizeof(fw), &json), FUOTA_OK);
	free(json);
	json = NULL;
	/* BEGIN, a row lookup that finds nothing, and a return without COMMIT. */
	assert_int_equal(store_firmware_delete(T.s, t, 987654), FUOTA_ERR_NOT_FOUND);
	assert_false(store_batch_item_failed(T.s));
	assert_int_equal(raw_count("SELECT count(*) FROM firmware WHERE name = 'fw-1'"), 0);
	store_batch_item(T.s);
	assert_int_equal(store_firmware_create(T.s, t, "fw-2", fw, sizeof(fw), &json), FUOTA_OK);
	free(json);
	assert_int_equal(raw_count("SELECT count(*) FROM firmware WHERE name LIKE 'fw-%'"), 0);
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	assert_int_equal(raw_count("SELECT count(*) FROM firmware WHERE name LIKE 'fw-%'"), 2);
}

static long name_count(const char *name)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tenant WHERE name = '%s'", name);
	return raw_count(sql);
}

static void test_failed_item_undone(void **state)
{
	(void)state;
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	store_batch_item(T.s);
	assert_true(tenant("undo-a") > 0);

	/* The CHECK fails first; the item's caller goes on and writes more, but the item is not
	 * acted on, so nothing of it may be committed. */
	store_batch_item(T.s);
	assert_int_equal(tenant(""), -1);
	assert_true(tenant("undo-b") > 0);
	assert_true(store_batch_item_failed(T.s));

	store_batch_item(T.s);
	assert_true(tenant("undo-c") > 0);
	assert_false(store_batch_item_failed(T.s));

	/* The batch's last item fails the same way. */
	store_batch_item(T.s);
	assert_int_equal(tenant(""), -1);
	assert_true(tenant("undo-d") > 0);
	assert_true(store_batch_item_failed(T.s));
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);

	assert_int_equal(name_count("undo-a"), 1);
	assert_int_equal(name_count("undo-b"), 0);
	assert_int_equal(name_count("undo-c"), 1);
	assert_int_equal(name_count("undo-d"), 0);
}

/* What a store function does in its own transaction: BEGIN, a write, then last (COMMIT, or ROLLBACK
 * as store_rounds.c's seng_status_frame does when it gives up). */
static void own_transaction(const char *name, const char *last)
{
	PGconn *c = store_acquire(T.s);
	const char *vals[1] = {name};

	assert_int_equal(store_run(c, "BEGIN", 0, NULL, NULL), FUOTA_OK);
	assert_int_equal(store_run(c, "INSERT INTO tenant (name) VALUES ($1)", 1, vals, NULL),
	                 FUOTA_OK);
	assert_int_equal(store_run(c, last, 0, NULL, NULL), FUOTA_OK);
	store_release(T.s, c);
}

static void test_inner_rollback(void **state)
{
	(void)state;
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	store_batch_item(T.s);
	assert_true(tenant("rb-a") > 0);
	store_batch_item(T.s);
	assert_true(tenant("rb-b") > 0);
	own_transaction("rb-gone", "ROLLBACK");
	assert_false(store_batch_item_failed(T.s));
	store_batch_item(T.s);
	assert_true(tenant("rb-c") > 0);
	/* Still one uncommitted transaction: a ROLLBACK that ended it would have let rb-c
	 * commit on its own. */
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name LIKE 'rb-%'"), 0);
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	assert_int_equal(name_count("rb-a"), 1);
	assert_int_equal(name_count("rb-b"), 1);
	assert_int_equal(name_count("rb-c"), 1);
	assert_int_equal(name_count("rb-gone"), 0);
}

static void test_savepoints(void **state)
{
	char name[32];
	int items = 0;

	(void)state;
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	/* Items with no database work take none. */
	for (int i = 0; i < 100; i++)
		store_batch_item(T.s);
	assert_true(store_batch_more(T.s));
	/* Each of these takes two (its item's and its function's). */
	while (store_batch_more(T.s) && items < 64) {
		store_batch_item(T.s);
		snprintf(name, sizeof(name), "sp-%d", items++);
		own_transaction(name, "COMMIT");
		assert_false(store_batch_item_failed(T.s));
	}
	assert_int_equal(items, 24);
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name LIKE 'sp-%'"), 24);
}

static void test_gw_encoding(void **state)
{
	const char *gw = "00800000a0001234";
	bool json = false;

	(void)state;
	assert_int_equal(seng_gw_encoding_get(T.s, gw, &json), FUOTA_ERR_NOT_FOUND);
	assert_int_equal(seng_gw_encoding_set(T.s, gw, false, 1000), FUOTA_OK);
	assert_int_equal(seng_gw_encoding_get(T.s, gw, &json), FUOTA_OK);
	assert_false(json);
	/* The gateway switches to JSON at 3000 (heard by one instance); another instance's
	 * write of what it heard at 2000 commits after it. */
	assert_int_equal(seng_gw_encoding_set(T.s, gw, true, 3000), FUOTA_OK);
	assert_int_equal(seng_gw_encoding_set(T.s, gw, false, 2000), FUOTA_OK);
	assert_int_equal(seng_gw_encoding_get(T.s, gw, &json), FUOTA_OK);
	assert_true(json);
	/* And back to protobuf, heard later. */
	assert_int_equal(seng_gw_encoding_set(T.s, gw, false, 4000), FUOTA_OK);
	assert_int_equal(seng_gw_encoding_get(T.s, gw, &json), FUOTA_OK);
	assert_false(json);
}

#define GW_1 "00800000a0000001"
#define GW_2 "00800000a0000002"
#define GW_S "00800000a00000ff" /* the sentinel: once it is stored, what came before is done */

/* The encoding engine_gateway holds for gw: "json", "protobuf", or "" (no row). */
static void stored_encoding(const char *gw, char out[16])
{
	char sql[160];
	PGresult *r;

	snprintf(sql, sizeof(sql), "SELECT encoding FROM engine_gateway WHERE gateway_id = '%s'",
	         gw);
	r = PQexec(T.raw, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	snprintf(out, 16, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
}

static void publish(struct mqtt_client *m, const char *gw, const char *kind, const void *payload,
                    size_t len)
{
	char topic[96];

	snprintf(topic, sizeof(topic), "eu868/gateway/%s/event/%s", gw, kind);
	assert_int_equal(mqtt_publish(m, topic, payload, len, 1), FUOTA_OK);
}

/* Stats of gateway id in JSON or protobuf, published on gateway on's topic. */
static void publish_stats(struct mqtt_client *m, const char *on, const char *id, bool json)
{
	struct cs_gw_stats st;
	void *buf = NULL;
	size_t len = 0;

	memset(&st, 0, sizeof(st));
	snprintf(st.gateway_id, sizeof(st.gateway_id), "%s", id);
	st.rx_received = 3;
	assert_int_equal(json ? cs_gw_stats_to_json(&st, (char **)&buf, &len)
	                      : cs_gw_stats_to_proto(&st, (uint8_t **)&buf, &len),
	                 FUOTA_OK);
	publish(m, on, "stats", buf, len);
	free(buf);
}

/* Sends the sentinel's stats in encoding json and waits until the runner stored them: every
 * message published before has been handled. */
static void sync_runner(struct mqtt_client *m, bool json)
{
	char enc[16];

	publish_stats(m, GW_S, GW_S, json);
	for (int i = 0; i < 200; i++) {
		stored_encoding(GW_S, enc);
		if (strcmp(enc, json ? "json" : "protobuf") == 0)
			return;
		usleep(50 * 1000);
	}
	fail_msg("the runner did not store gateway %s", GW_S);
}

static void test_gw_learning(void **state)
{
	static const char truncated[] = "{\"gatewayId\":\"" GW_1 "\",\"rxPacketsRec";
	static const char no_items[] = "{\"gatewayId\":\"" GW_1 "\",\"downlinkId\":77}";
	struct engine_cfg ecfg;
	struct engine_runner *r = NULL;
	struct mqtt_client *m = NULL;
	struct mqtt_options opt;
	struct cs_gw_ack a;
	uint8_t field1[2 + 123];
	char enc[16], *text = NULL;
	size_t len = 0;

	(void)state;
	engine_cfg_defaults(&ecfg);
	snprintf(ecfg.instance_id, sizeof(ecfg.instance_id), "itest-store-runner");
	assert_int_equal(mqtt_paho_create(&m), FUOTA_OK);
	memset(&opt, 0, sizeof(opt));
	opt.client_id = "itest-store-runner";
	opt.clean_session = true;
	assert_int_equal(mqtt_connect(m, T.env.mqtt_url, &opt), FUOTA_OK);
	assert_int_equal(engine_runner_start_with(T.s, m, &ecfg, "itest-store", &r), FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(m, 10000), FUOTA_OK);
	sync_runner(m, true);

	/* Garbage on GW_1's topics: not JSON, JSON of no message, cut short, a protobuf message
	 * whose field 1 is 123 bytes long ("\n{..."), stats and an ack naming GW_2. */
	publish(m, GW_1, "stats", "{not json", 9);
	publish(m, GW_1, "stats", "{}", 2);
	publish(m, GW_1, "stats", truncated, strlen(truncated));
	field1[0] = 0x0a;
	field1[1] = 0x7b;
	memset(field1 + 2, '"', 123);
	publish(m, GW_1, "stats", field1, sizeof(field1));
	publish(m, GW_1, "ack", field1, sizeof(field1));
	publish_stats(m, GW_1, GW_2, true);
	publish_stats(m, GW_1, GW_2, false);
	memset(&a, 0, sizeof(a));
	snprintf(a.gateway_id, sizeof(a.gateway_id), "%s", GW_2);
	a.downlink_id = 77;
	a.status = CS_ACK_OK;
	assert_int_equal(cs_gw_ack_to_json(&a, &text, &len), FUOTA_OK);
	publish(m, GW_1, "ack", text, len);
	free(text);
	sync_runner(m, false);
	stored_encoding(GW_1, enc);
	assert_string_equal(enc, "");
	stored_encoding(GW_2, enc);
	assert_string_equal(enc, "");

	/* GW_1's own stats in protobuf, then garbage in JSON: it stays protobuf. */
	publish_stats(m, GW_1, GW_1, false);
	sync_runner(m, true);
	stored_encoding(GW_1, enc);
	assert_string_equal(enc, "protobuf");
	publish(m, GW_1, "stats", truncated, strlen(truncated));
	publish(m, GW_1, "ack", no_items, strlen(no_items));
	publish_stats(m, GW_1, GW_2, true);
	sync_runner(m, false);
	stored_encoding(GW_1, enc);
	assert_string_equal(enc, "protobuf");

	/* And its own JSON ack teaches JSON. */
	snprintf(a.gateway_id, sizeof(a.gateway_id), "%s", GW_1);
	assert_int_equal(cs_gw_ack_to_json(&a, &text, &len), FUOTA_OK);
	publish(m, GW_1, "ack", text, len);
	free(text);
	sync_runner(m, true);
	stored_encoding(GW_1, enc);
	assert_string_equal(enc, "json");
	stored_encoding(GW_2, enc);
	assert_string_equal(enc, "");

	engine_runner_stop(r);
	mqtt_disconnect(m, 1000);
	mqtt_destroy(m);
}

static void test_reset(void **state)
{
	char sql[128];
	PGconn *c;
	int pid;

	(void)state;
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	store_batch_item(T.s);
	assert_true(tenant("reset-a") > 0);
	c = store_acquire(T.s);
	pid = PQbackendPID(c);
	store_release(T.s, c);
	assert_true(store_batch_more(T.s));

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_terminate_backend(%d)", pid);
	assert_int_equal(raw_count(sql), 1);
	store_batch_item(T.s);
	assert_int_equal(tenant("reset-b"), -1);
	assert_true(store_batch_item_failed(T.s));
	assert_false(store_batch_more(T.s));
	store_batch_item(T.s);
	assert_int_equal(tenant("reset-c"), -1);
	assert_true(store_batch_item_failed(T.s));
	assert_int_equal(store_batch_end(T.s), FUOTA_ERR_IO);
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name LIKE 'reset-%'"), 0);

	/* The connection is back (reset when the batch gave it back), its statements prepared
	 * again on the new server session: in a batch and out of one. */
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	store_batch_item(T.s);
	assert_true(tenant("reset-d") > 0);
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	for (int i = 0; i < 3; i++) {
		snprintf(sql, sizeof(sql), "reset-e%d", i);
		assert_true(tenant(sql) > 0);
	}
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name LIKE 'reset-%'"), 4);
}

static void test_prepared(void **state)
{
	char name[32];

	(void)state;
	/* The same statements many times on both pooled connections, inside and outside batches:
	 * each text is prepared once per connection and runs with new parameters every time. */
	for (int round = 0; round < 3; round++) {
		if (round == 1)
			assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "prep-%d-%d", round, i);
			if (round == 1)
				store_batch_item(T.s);
			assert_true(tenant(name) > 0);
		}
		if (round == 1)
			assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	}
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name LIKE 'prep-%'"), 60);
	assert_int_equal(raw_count("SELECT count(*) FROM tenant WHERE name = 'prep-1-7'"), 1);
}

/* A one-connection store opened as fuotad would with FUOTA_DATABASE_PREPARED_STATEMENTS = env
 * (NULL: unset), put through a batch, a store function's own transaction and plain calls;
 * returns how many statements its server session holds prepared afterwards. */
static long session_prepared(const char *env, const char *prefix)
{
	struct cfg c;
	struct store *s = NULL;
	struct store *keep = T.s;
	char err[256], name[48], sql[128], *json = NULL;
	long n;

	if (env)
		setenv("FUOTA_DATABASE_PREPARED_STATEMENTS", env, 1);
	else
		unsetenv("FUOTA_DATABASE_PREPARED_STATEMENTS");
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), FUOTA_OK);
	unsetenv("FUOTA_DATABASE_PREPARED_STATEMENTS");
	assert_int_equal(store_open(T.dsn, 1, &s, err, sizeof(err)), FUOTA_OK);
	store_set_prepared(s, c.db_prepared);
	T.s = s; /* for tenant() and own_transaction() */
	assert_int_equal(store_batch_begin(s), FUOTA_OK);
	for (int i = 0; i < 3; i++) {
		store_batch_item(s);
		snprintf(name, sizeof(name), "%s-batch-%d", prefix, i);
		assert_true(tenant(name) > 0);
	}
	store_batch_item(s);
	snprintf(name, sizeof(name), "%s-own", prefix);
	own_transaction(name, "COMMIT");
	assert_false(store_batch_item_failed(s));
	assert_int_equal(store_batch_end(s), FUOTA_OK);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%s-plain-%d", prefix, i);
		assert_true(tenant(name) > 0);
	}
	assert_int_equal(store_ready(s), FUOTA_OK);
	/* Without parameters: never prepared itself. */
	assert_int_equal(
	        store_json(s, "SELECT count(*)::text FROM pg_prepared_statements", 0, NULL, &json),
	        FUOTA_OK);
	n = strtol(json, NULL, 10);
	free(json);
	T.s = keep;
	store_close(s);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tenant WHERE name LIKE '%s-%%'", prefix);
	assert_int_equal(raw_count(sql), 7);
	return n;
}

static void test_unnamed(void **state)
{
	struct cfg c;
	struct itest_fuotad fd;
	char err[256], token[80];

	(void)state;
	assert_int_equal(session_prepared("off", "unnamed"), 0);
	assert_true(session_prepared(NULL, "named") >= 2);
	assert_true(session_prepared("on", "named-on") >= 2);
	setenv("FUOTA_DATABASE_PREPARED_STATEMENTS", "maybe", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	assert_non_null(strstr(err, "prepared_statements"));

	/* fuotad itself with it off: migrations, a token, readiness and authenticated calls. */
	setenv("FUOTA_DATABASE_PREPARED_STATEMENTS", "off", 1);
	setenv("FUOTA_ENGINE_ENABLED", "0", 1);
	memset(&fd, 0, sizeof(fd));
	snprintf(fd.bin, sizeof(fd.bin), "%s", argv_bin);
	snprintf(fd.dsn, sizeof(fd.dsn), "%s", T.dsn);
	snprintf(fd.log, sizeof(fd.log), "%s/itest_store_fuotad.log", argv_dir);
	assert_int_equal(itest_token(argv_bin, T.dsn, true, 1, token), 0);
	assert_int_equal(itest_fuotad_start(&fd), 0);
	assert_int_equal(api_call(fd.port, "GET", "/readyz", NULL, NULL, NULL), 200);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		        api_call(fd.port, "GET", "/api/v1/jobs?limit=1", token, NULL, NULL), 200);
	assert_int_equal(itest_fuotad_stop(&fd), 0);
	unsetenv("FUOTA_DATABASE_PREPARED_STATEMENTS");
	unsetenv("FUOTA_ENGINE_ENABLED");
}

/* The gateways the engine chooses for a job (seng_job_edges) come from what the job's tenant's
 * uplinks taught and what no tenant's did, never from a former holder of the DevEUI; a pair known
 * both ways counts once, with its latest quality. */
static void test_job_edges_tenant(void **state)
{
	struct seng_edges e;
	int64_t t2 = tenant("edges-b");
	char sql[768];
	PGresult *r;
	long long job;

	(void)state;
	assert_true(t2 > 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, "
	         "region, key_kind, key_box) VALUES (%lld, '00000000000000e1', 'a', '1.0.3', 'A', "
	         "'EU868', 'gen_app_key', '\\x00')",
	         (long long)t2);
	r = PQexec(T.raw, sql);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job (tenant_id, name, region, data_rate, frequency_hz, "
	         "unicast_timeout_s, unicast_attempts, multicast_class, multicast_timeout_s, plan, "
	         "device_count) VALUES (%lld, 'edges', 'EU868', 5, 869525000, 5, 1, 'C', 0, '{}', "
	         "1) "
	         "RETURNING id",
	         (long long)t2);
	r = PQexec(T.raw, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	job = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job_device (job_id, tenant_id, dev_eui) VALUES (%lld, %lld, "
	         "'00000000000000e1'); "
	         "INSERT INTO engine_device_gateway (tenant_id, dev_eui, gateway_id, quality, "
	         "seen_ms) "
	         "VALUES (%lld, '00000000000000e1', '" GW_1 "', -40, 10), "
	         "(%lld, '00000000000000e1', '" GW_2 "', -90, 10), "
	         "(0, '00000000000000e1', '" GW_2 "', -30, 20), "
	         "(1, '00000000000000e1', '" GW_S "', -10, 30)",
	         job, (long long)t2, (long long)t2, (long long)t2);
	r = PQexec(T.raw, sql);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	assert_int_equal(seng_job_edges(T.s, job, ENGINE_STEP_PENDING, 0, &e), FUOTA_OK);
	assert_int_equal(e.n_dev, 1);
	assert_int_equal(e.n_edges, 2);
	assert_int_equal(e.n_gw, 2);
	assert_string_equal(e.gw_ids[e.edge_gw[0]], GW_1);
	assert_int_equal(e.edge_q[0], -40);
	assert_string_equal(e.gw_ids[e.edge_gw[1]], GW_2);
	assert_int_equal(e.edge_q[1], -30); /* the later of the two */
	seng_edges_free(&e);
}

/* Runs sql on conn, which must succeed. */
static void raw_ok(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%.60s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

/* Steps are text in job_device only: the store reads a text that names no step (a row another
 * version wrote) as ENGINE_STEP_UNKNOWN, and an update from ENGINE_STEP_UNKNOWN matches such a
 * row and no row in a step, so that the engine can fail the device ("unknown step"). */
static void test_dev_step_text(void **state)
{
	int64_t t = tenant("steps");
	struct seng_dev d;
	struct seng_dev_update u;
	char sql[640];
	PGresult *r;
	long long job;

	(void)state;
	assert_true(t > 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, "
	         "region, key_kind, key_box) VALUES (%lld, '00000000000000f1', 'a', '1.0.3', 'A', "
	         "'EU868', 'gen_app_key', '\\x00'), (%lld, '00000000000000f2', 'a', '1.0.3', 'A', "
	         "'EU868', 'gen_app_key', '\\x00')",
	         (long long)t, (long long)t);
	raw_ok(T.raw, sql);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job (tenant_id, name, region, data_rate, frequency_hz, "
	         "unicast_timeout_s, unicast_attempts, multicast_class, multicast_timeout_s, plan, "
	         "device_count) VALUES (%lld, 'steps', 'EU868', 5, 869525000, 5, 1, 'C', 0, '{}', "
	         "2) RETURNING id",
	         (long long)t);
	r = PQexec(T.raw, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	job = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job_device (job_id, tenant_id, dev_eui, step) VALUES "
	         "(%lld, %lld, '00000000000000f1', 'warp'), "
	         "(%lld, %lld, '00000000000000f2', 'mc_session')",
	         job, (long long)t, job, (long long)t);
	raw_ok(T.raw, sql);

	assert_int_equal(seng_dev_load(T.s, job, "00000000000000f1", &d), FUOTA_OK);
	assert_int_equal(d.step, ENGINE_STEP_UNKNOWN);
	assert_int_equal(seng_dev_load(T.s, job, "00000000000000f2", &d), FUOTA_OK);
	assert_int_equal(d.step, ENGINE_STEP_MC_SESSION);

	seng_dev_update_init(&u);
	u.to = ENGINE_STEP_FAILED;
	u.failure_reason = "unknown step";
	/* Neither a step's device by UNKNOWN, nor the unknown one by a step. */
	assert_int_equal(seng_dev_update(T.s, job, "00000000000000f2", ENGINE_STEP_UNKNOWN, &u),
	                 FUOTA_ERR_STATE);
	assert_int_equal(seng_dev_update(T.s, job, "00000000000000f1", ENGINE_STEP_PENDING, &u),
	                 FUOTA_ERR_STATE);
	/* What is no step is refused before any SQL. */
	assert_int_equal(seng_dev_update(T.s, job, "00000000000000f1", ENGINE_STEP_NONE, &u),
	                 FUOTA_ERR_INVALID_ARG);
	u.to = ENGINE_STEP_UNKNOWN;
	assert_int_equal(seng_dev_update(T.s, job, "00000000000000f1", ENGINE_STEP_UNKNOWN, &u),
	                 FUOTA_ERR_INVALID_ARG);
	u.to = ENGINE_STEP_FAILED;
	assert_int_equal(seng_dev_update(T.s, job, "00000000000000f1", ENGINE_STEP_UNKNOWN, &u),
	                 FUOTA_OK);
	assert_int_equal(seng_dev_load(T.s, job, "00000000000000f1", &d), FUOTA_OK);
	assert_int_equal(d.step, ENGINE_STEP_FAILED);
	assert_true(d.failed);
	/* The step text written is the step's name. */
	snprintf(sql, sizeof(sql),
	         "SELECT step FROM job_device WHERE job_id = %lld AND dev_eui = '00000000000000f1'",
	         job);
	r = PQexec(T.raw, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), "failed");
	PQclear(r);
}

/* Migration 026 on a database made by the migrations before it: a DevEUI registered in two
 * tenants stops it (nothing is deleted, fuotad does not start) and its message names the DevEUI
 * and the tenants; once the operator has removed one registration it applies, moves the device
 * gateway rows under the holder, and the database refuses a second holder from then on. */
static void test_migration_deveui(void **state)
{
	char dsn[512], err[256], sql[256];
	struct store *s = NULL;
	PGconn *c;
	PGresult *r;

	(void)state;
	assert_int_equal(itest_db_create(&T.env, "itest_store_026", dsn, sizeof(dsn)), 0);
	c = PQconnectdb(dsn);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	raw_ok(c,
	       "SET client_min_messages = warning; CREATE TABLE schema_version (version integer "
	       "PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
	for (const struct embedded_migration *m = embedded_migrations; m->version; m++) {
		if (m->version >= 26)
			break;
		raw_ok(c, m->sql);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, '%s')",
		         m->version, m->name);
		raw_ok(c, sql);
	}
	raw_ok(c, "INSERT INTO tenant (name) VALUES ('two'), ('three')");
	raw_ok(c, "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, "
	          "region, key_kind, key_box) SELECT t, e, 'a', '1.0.3', 'A', 'EU868', "
	          "'gen_app_key', '\\x00' FROM (VALUES (1, '00000000000000d1'), "
	          "(3, '00000000000000d1'), (2, '00000000000000d2')) v(t, e)");
	raw_ok(c,
	       "INSERT INTO engine_device_gateway VALUES ('00000000000000d2', '" GW_1 "', -50, 1), "
	       "('00000000000000d9', '" GW_2 "', -50, 1)");
	/* The message fuotad logs names each DevEUI and its tenants. */
	for (const struct embedded_migration *m = embedded_migrations; m->version; m++) {
		if (m->version != 26)
			continue;
		raw_ok(c, "BEGIN");
		r = PQexec(c, m->sql);
		assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
		assert_non_null(strstr(PQresultErrorMessage(r), "00000000000000d1 (tenants 1, 3)"));
		assert_null(strstr(PQresultErrorMessage(r), "00000000000000d2"));
		PQclear(r);
		raw_ok(c, "ROLLBACK");
	}
	assert_int_equal(store_open(dsn, 1, &s, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(store_migrate(s, NULL), FUOTA_ERR_IO);
	/* Refused whole: nothing applied, nothing deleted. */
	assert_int_equal(store_ready(s), FUOTA_ERR_NOT_FOUND);
	r = PQexec(c, "SELECT count(*) FROM device");
	assert_string_equal(PQgetvalue(r, 0, 0), "3");
	PQclear(r);
	/* The operator removes one registration; fuotad starts. */
	raw_ok(c, "DELETE FROM device WHERE tenant_id = 3");
	assert_int_equal(store_migrate(s, NULL), FUOTA_OK);
	assert_int_equal(store_ready(s), FUOTA_OK);
	r = PQexec(c, "SELECT tenant_id, dev_eui FROM engine_device_gateway ORDER BY dev_eui");
	assert_int_equal(PQntuples(r), 2);
	assert_string_equal(PQgetvalue(r, 0, 0), "2"); /* the holder's */
	assert_string_equal(PQgetvalue(r, 1, 0), "0"); /* held by no tenant */
	PQclear(r);
	r = PQexec(c, "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, "
	              "class, region, key_kind, key_box) VALUES (3, '00000000000000d1', 'a', "
	              "'1.0.3', 'A', 'EU868', 'gen_app_key', '\\x00')");
	assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
	assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
	PQclear(r);
	store_close(s);
	PQfinish(c);
}

/* store_job_create takes only DevEUIs of 16 lowercase hex digits, as the API gives them: anything
 * else (upper case, a quote or comma that would end an array element) is refused before the
 * database is asked, naming the DevEUI, and no job is stored. */
static void test_job_create_deveui_checked(void **state)
{
	static const char *const bad[] = {"00000000000000A1", "0000000\"0,00001", "00000000000001"};
	int64_t t = tenant("deveui-check");

	(void)state;
	assert_true(t > 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char euis[2][17] = {"00000000000000a0", ""}, eui_bad[17] = "", why[64] = "";
		struct job_params p;
		struct store_job_create j = {&p, "{}", 1, 0, NULL};
		char *json = NULL;

		job_params_init(&p);
		snprintf(euis[1], sizeof(euis[1]), "%s", bad[i]);
		p.dev_euis = euis;
		p.n_devices = 2;
		snprintf(p.name, sizeof(p.name), "bad-deveui");
		snprintf(p.region, sizeof(p.region), "EU868");
		assert_int_equal(store_job_create(T.s, t, &j, &json, eui_bad, why),
		                 FUOTA_ERR_INVALID_ARG);
		assert_null(json);
		assert_string_equal(eui_bad, bad[i]);
		assert_string_equal(why, "malformed");
	}
	assert_int_equal(raw_count("SELECT count(*) FROM job WHERE name = 'bad-deveui'"), 0);
}

/* Every session of the pool runs without JIT (store.c's session_setup), the database's own
 * setting notwithstanding: the sessions opened at store_open and one opened again after its
 * server process died. */
static void test_no_jit(void **state)
{
	PGconn *c[2];
	char sql[128];
	PGresult *a = PQexec(T.raw, "ALTER DATABASE itest_store SET jit = on");

	(void)state;
	assert_int_equal(PQresultStatus(a), PGRES_COMMAND_OK);
	PQclear(a);
	c[0] = store_acquire(T.s);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_terminate_backend(%d)",
	         PQbackendPID(c[0]));
	assert_int_equal(raw_count(sql), 1);
	PQclear(PQexec(c[0], "SELECT 1"));
	assert_int_not_equal(PQstatus(c[0]), CONNECTION_OK);
	store_release(T.s, c[0]); /* reset: a new session */
	c[0] = store_acquire(T.s);
	c[1] = store_acquire(T.s);
	for (int i = 0; i < 2; i++) {
		PGresult *r = PQexec(c[i], "SHOW jit");

		assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
		assert_string_equal(PQgetvalue(r, 0, 0), "off");
		PQclear(r);
		store_release(T.s, c[i]);
	}
	PQclear(PQexec(T.raw, "ALTER DATABASE itest_store RESET jit"));
}

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_load(argv_env, &T.env) != 0)
		return -1;
	return itest_store_db(&T.env, "itest_store", 2, T.dsn, sizeof(T.dsn), &T.s, &T.raw);
}

static int group_teardown(void **state)
{
	(void)state;
	store_close(T.s);
	PQfinish(T.raw);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_items),
	        cmocka_unit_test(test_inner_transaction),
	        cmocka_unit_test(test_prepared),
	        cmocka_unit_test(test_failed_item_undone),
	        cmocka_unit_test(test_inner_rollback),
	        cmocka_unit_test(test_savepoints),
	        cmocka_unit_test(test_gw_encoding),
	        cmocka_unit_test(test_reset),
	        cmocka_unit_test(test_unnamed),
	        cmocka_unit_test(test_gw_learning),
	        cmocka_unit_test(test_migration_deveui),
	        cmocka_unit_test(test_job_edges_tenant),
	        cmocka_unit_test(test_dev_step_text),
	        cmocka_unit_test(test_job_create_deveui_checked),
	        cmocka_unit_test(test_no_jit),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: itest_store FUOTAD SERVICES_ENV WORKDIR\n");
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argv[3];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
