/* What the store keeps of gateways, against a real PostgreSQL: their encoding and the gateways
 * the engine chooses for a job.
 *
 *   gateway encoding   seng_gw_encoding_set keeps the latest observation, whatever the order
 *                      of the writes
 *   gateway learning   the engine runner learns a gateway's encoding from its stats or acks
 *                      only when they parse and name that gateway (over the broker): garbage,
 *                      another gateway's message, "\n{" protobuf change nothing
 *   job edges          a job's device-gateway pairs come from its tenant's uplinks and those of
 *                      no tenant, never from a former holder of the DevEUI
 *
 * usage: itest_store_gateways FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "fuota/cs_msg.h"
#include "fuota/engine.h"
#include "fuota/engine_mqtt.h"
#include "fuota/err.h"
#include "fuota/mqtt.h"
#include "fuota/store.h"
/* seng_gw_encoding_set / _get, seng_job_edges (fuota_store, the engine's queries). */
#include "fuota/store_engine.h"
#include "itest.h"

#define GW_1 "00800000a0000001"
#define GW_2 "00800000a0000002"
#define GW_S "00800000a00000ff" /* the sentinel: once it is stored, what came before is done */

static struct itest_store T;

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

/* The gateways the engine chooses for a job (seng_job_edges) come from what the job's tenant's
 * uplinks taught and what no tenant's did, never from a former holder of the DevEUI; a pair known
 * both ways counts once, with its latest quality. */
static void test_job_edges_tenant(void **state)
{
	struct seng_edges e;
	long long t2 = itest_tenant(T.s, "edges-b");
	char sql[512];
	long long job;

	(void)state;
	assert_true(t2 > 0);
	assert_int_equal(itest_device_row(T.raw, t2, "00000000000000e1"), 0);
	job = itest_job_row(T.raw, t2, "edges", 1);
	assert_true(job > 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job_device (job_id, tenant_id, dev_eui) VALUES (%lld, %lld, "
	         "'00000000000000e1'); "
	         "INSERT INTO engine_device_gateway (tenant_id, dev_eui, gateway_id, quality, "
	         "seen_ms) "
	         "VALUES (%lld, '00000000000000e1', '" GW_1 "', -40, 10), "
	         "(%lld, '00000000000000e1', '" GW_2 "', -90, 10), "
	         "(0, '00000000000000e1', '" GW_2 "', -30, 20), "
	         "(1, '00000000000000e1', '" GW_S "', -10, 30)",
	         job, t2, t2, t2);
	assert_int_equal(itest_exec(T.raw, sql), 0);
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

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gw_encoding),
	        cmocka_unit_test(test_gw_learning),
	        cmocka_unit_test(test_job_edges_tenant),
	};
	static const struct itest_store_prog p = {"itest_store_gateways", 2, tests,
	                                          sizeof(tests) / sizeof(tests[0]), NULL};

	return itest_store_main(argc, argv, &T, &p);
}
