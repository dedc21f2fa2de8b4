/* fuota-gw end to end: fuota-sim's gateway speaks Semtech UDP to fuota-gw, fuota-gw drives
 * fuota-modem-sim on a pty, and the simulator's TCP socket carries MQTT to a real mosquitto,
 * where this test watches {prefix}/gateway/# and publishes downlinks. One ctest per case,
 * e2e.gw-<case>:
 *   protobuf  uplinks, stats, state/conn and state/modem arrive; an immediate downlink is
 *             acked OK by the forwarder's TX_ACK, a GPS-timed one in the past TOO_LATE
 *   json      the same in the JSON mapping
 *   outage    the modem socket reset, the signal changes (a new state/modem), the PDP context
 *             drops, fuota-gw is killed with SIGKILL and restarted: its last will (OFFLINE) is
 *             published, and every uplink it acked to the forwarder reaches the broker once */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chirpstack/gw.pb-c.h"
#include "fuota/cs_msg.h"
#include "fuota/gw_state.h"
#include "fuota/mqtt.h"
#include "gw_rig.h"

#define PREFIX RIG_PREFIX
#define GW_ID  RIG_GW_ID

struct obs {
	bool json;
	uint8_t seen[16][4096]; /* per device index: fcnt seen (count) */
	unsigned ups, dups, stats, online, offline, modem_msgs;
	struct gw_modem_state modem;
	struct cs_gw_ack acks[16];
	size_t n_acks;
};

struct rig {
	struct gw_rig g;
	struct obs o;
};

/* ---- What the broker shows ---- */

static void on_up(struct obs *o, const uint8_t *phy, size_t len)
{
	unsigned dev, fcnt;

	if (len < 8)
		return;
	dev = phy[1]; /* DevAddr 0x26000000 | index, little-endian on air */
	fcnt = (unsigned)phy[6] | (unsigned)phy[7] << 8;
	if (dev >= 16 || fcnt >= 4096)
		return;
	if (o->seen[dev][fcnt]++)
		o->dups++;
	else
		o->ups++;
}

static void up_msg(struct obs *o, const struct mqtt_msg *m)
{
	if (o->json) {
		json_t *j = json_loadb((const char *)m->payload, m->len, 0, NULL);
		const char *b64 = json_string_value(json_object_get(j, "phyPayload"));
		uint8_t phy[256];
		size_t n = 0;

		assert_non_null(b64);
		assert_int_equal(cs_base64_decode(b64, strlen(b64), phy, sizeof(phy), &n), 0);
		assert_string_equal(json_string_value(json_object_get(json_object_get(j, "rxInfo"),
		                                                      "gatewayId")),
		                    GW_ID);
		on_up(o, phy, n);
		json_decref(j);
	} else {
		Gw__UplinkFrame *f = gw__uplink_frame__unpack(NULL, m->len, m->payload);

		assert_non_null(f);
		assert_non_null(f->rx_info);
		assert_string_equal(f->rx_info->gateway_id, GW_ID);
		on_up(o, f->phy_payload.data, f->phy_payload.len);
		gw__uplink_frame__free_unpacked(f, NULL);
	}
}

static void conn_msg(struct obs *o, const struct mqtt_msg *m)
{
	uint8_t *on, *off;
	size_t on_len, off_len;

	assert_int_equal(gw_conn_state(GW_ID, true, o->json, &on, &on_len), 0);
	assert_int_equal(gw_conn_state(GW_ID, false, o->json, &off, &off_len), 0);
	if (m->len == on_len && !memcmp(m->payload, on, on_len))
		o->online++;
	else if (m->len == off_len && !memcmp(m->payload, off, off_len))
		o->offline++;
	else
		fail_msg("state/conn: unexpected payload of %zu bytes", m->len);
	free(on);
	free(off);
}

static void take(struct obs *o, const struct mqtt_msg *m)
{
	const char *kind = m->topic + strlen(PREFIX "/gateway/" GW_ID "/");
	char err[160];

	if (!strcmp(kind, "event/up")) {
		up_msg(o, m);
	} else if (!strcmp(kind, "event/stats")) {
		struct cs_gw_stats st;

		assert_int_equal(
		        o->json ? cs_gw_stats_from_json((const char *)m->payload, m->len, &st, err,
		                                        sizeof(err))
		                : cs_gw_stats_from_proto(m->payload, m->len, &st, err, sizeof(err)),
		        0);
		o->stats++;
	} else if (!strcmp(kind, "event/ack") && o->n_acks < 16) {
		struct cs_gw_ack *a = &o->acks[o->n_acks++];

		assert_int_equal(
		        o->json ? cs_gw_ack_from_json((const char *)m->payload, m->len, a, err,
		                                      sizeof(err))
		                : cs_gw_ack_from_proto(m->payload, m->len, a, err, sizeof(err)),
		        0);
	} else if (!strcmp(kind, "state/conn")) {
		conn_msg(o, m);
	} else if (!strcmp(kind, "state/modem")) {
		assert_int_equal(gw_modem_from_json((const char *)m->payload, m->len, &o->modem,
		                                    err, sizeof(err)),
		                 0);
		o->modem_msgs++;
	}
}

/* Takes messages for up to ms, or until done(o) holds. */
static bool watch(struct rig *r, long ms, bool (*done)(const struct obs *o))
{
	for (long end = rig_now_ms() + ms; rig_now_ms() < end;) {
		struct mqtt_msg *m;

		if (done && done(&r->o))
			return true;
		if (mqtt_queue_pop(r->g.q, 100, &m) == 0) {
			take(&r->o, m);
			mqtt_msg_free(m);
		}
	}
	return done ? done(&r->o) : true;
}

static struct rig rig;

static int setup_mode(void **state, bool json)
{
	static const char *const args[] = {"--boot-ms", "100", "--reg-ms", "100", NULL};
	struct rig *r = &rig;

	memset(r, 0, sizeof(*r));
	r->o.json = json;
	if (rig_setup(&r->g, json, args) != 0)
		return -1;
	*state = r;
	return 0;
}

static int setup_proto(void **state)
{
	return setup_mode(state, false);
}

static int setup_json(void **state)
{
	return setup_mode(state, true);
}

static int teardown(void **state)
{
	struct rig *r = *state;

	rig_teardown(&r->g);
	return 0;
}

/* ---- The cases ---- */

static bool flowing(const struct obs *o)
{
	return o->ups >= 6 && o->stats >= 1 && o->online >= 1 && o->modem_msgs >= 1;
}

static bool one_ack(const struct obs *o)
{
	return o->n_acks >= 1;
}

static bool two_acks(const struct obs *o)
{
	return o->n_acks >= 2;
}

static void send_down(struct rig *r, uint32_t id, enum cs_timing timing, int64_t timing_ns)
{
	struct cs_gw_downlink d = {.downlink_id = id,
	                           .gateway_id = GW_ID,
	                           .phy = {0x60, 1, 2, 3, 4, 0, 0, 0, 1, 2, 3, 4},
	                           .phy_len = 12,
	                           .frequency = 869525000,
	                           .power = 14,
	                           .bandwidth = 125000,
	                           .spreading_factor = 9,
	                           .polarization_inversion = 1,
	                           .timing = timing,
	                           .timing_ns = timing_ns};
	uint8_t *buf = NULL;
	size_t len = 0;

	if (r->o.json)
		assert_int_equal(cs_gw_downlink_to_json(&d, (char **)&buf, &len), 0);
	else
		assert_int_equal(cs_gw_downlink_to_proto(&d, &buf, &len), 0);
	assert_int_equal(
	        mqtt_publish(r->g.mq, PREFIX "/gateway/" GW_ID "/command/down", buf, len, 1), 0);
	free(buf);
}

static const struct cs_gw_ack *ack_of(const struct obs *o, uint32_t id)
{
	for (size_t i = 0; i < o->n_acks; i++)
		if (o->acks[i].downlink_id == id)
			return &o->acks[i];
	return NULL;
}

/* Uplinks, stats, state and both downlink outcomes, in the rig's encoding. */
static void test_flow(void **state)
{
	struct rig *r = *state;
	long t0;

	rig_gw_start(&r->g, 0, NULL);
	rig_sim_start(&r->g, "60", "3");
	assert_true(watch(r, 40000, flowing));
	assert_string_equal(r->o.modem.firmware, "03.15");
	assert_string_equal(r->o.modem.oper, "fuota-sim");
	assert_int_equal(r->o.modem.reg_stat, 1);
	assert_true(r->o.modem.link_up);
	assert_int_equal(r->o.modem.csq, 20);
	assert_int_equal(r->o.dups, 0);
	t0 = rig_now_ms();
	send_down(r, 101, CS_TIMING_IMMEDIATELY, 0);
	assert_true(watch(r, 20000, one_ack));
	/* command/down -> relay -> PULL_RESP -> TX_ACK -> event/ack, through the paced line */
	print_message("downlink round trip, command to ack at the broker: %ld ms\n",
	              rig_now_ms() - t0);
	send_down(r, 102, CS_TIMING_GPS_EPOCH, 1000000000); /* 1980: long past */
	assert_true(watch(r, 20000, two_acks));
	assert_non_null(ack_of(&r->o, 101));
	assert_int_equal(ack_of(&r->o, 101)->status, CS_ACK_OK);
	assert_non_null(ack_of(&r->o, 102));
	assert_int_equal(ack_of(&r->o, 102)->status, CS_ACK_TOO_LATE);
}

static bool csq9(const struct obs *o)
{
	return o->modem.csq == 9;
}

static bool offline(const struct obs *o)
{
	return o->offline >= 1;
}

static bool online_again(const struct obs *o)
{
	return o->online >= 2;
}

/* The link's troubles one after the other, then a SIGKILL with uplinks queued. */
static void test_outage(void **state)
{
	struct rig *r = *state;
	unsigned acked, sent;
	int status;

	rig_gw_start(&r->g, 0, NULL);
	rig_sim_start(&r->g, "30", "3");
	assert_true(watch(r, 40000, flowing));
	simh_ctl(&r->g.h, "sock-close 0"); /* the network resets the connection */
	watch(r, 4000, NULL);
	simh_ctl(&r->g.h, "csq 9");
	assert_true(watch(r, 8000, csq9));
	simh_ctl(&r->g.h, "pdp-drop");
	watch(r, 1500, NULL);
	rig_gw_restart(&r->g, NULL); /* the PDP outage's uplinks are on disk */
	/* the new run resets the module's stale socket: the broker sends the old run's will */
	assert_true(watch(r, 20000, offline));
	assert_true(watch(r, 20000, online_again));
	assert_int_equal(waitpid(r->g.sim, &status, 0), r->g.sim);
	r->g.sim = 0;
	acked = rig_report_acked(&r->g, &sent);
	print_message("uplinks sent %u, acked by fuota-gw %u\n", sent, acked);
	for (long end = rig_now_ms() + 30000; rig_now_ms() < end && r->o.ups < acked;)
		watch(r, 500, NULL);
	print_message("uplinks at the broker %u (%u duplicates)\n", r->o.ups, r->o.dups);
	assert_true(acked >= 20);
	assert_true(r->o.ups >= acked); /* every uplink it took */
	assert_true(r->o.ups <= sent);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest all[] = {
	        cmocka_unit_test_setup_teardown(test_flow, setup_proto, teardown),
	        cmocka_unit_test_setup_teardown(test_flow, setup_json, teardown),
	        cmocka_unit_test_setup_teardown(test_outage, setup_proto, teardown),
	};
	static const char *const names[] = {"protobuf", "json", "outage"};

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; argc > 1 && i < 3; i++)
		if (!strcmp(argv[1], names[i]))
			return _cmocka_run_group_tests(names[i], &all[i], 1, NULL, NULL);
	return cmocka_run_group_tests(all, NULL, NULL);
}
