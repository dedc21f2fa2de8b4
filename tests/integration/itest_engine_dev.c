/* The simulated devices and gateway of the itest_engine_* programs (see itest_engine_lib.h):
 * the fake clock and sink; the devices, each fuota-sim's device model (sim_dev.h) with the
 * network around it: what reaches it, when its answers go up; the gateway frames; and pump,
 * which carries everything until nothing moves. */
#include <openssl/evp.h>

#include "itest_engine_lib.h"

int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return T.now_ms;
}

int fake_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, uint64_t *seq)
{
	struct msg *m;

	(void)ctx;
	if (T.outbox_cap && T.n_msgs - T.next_msg >= T.outbox_cap) {
		T.outbox_refused++;
		return FUOTA_ERR_NO_SPACE;
	}
	if (T.n_msgs == T.cap_msgs) {
		size_t cap = T.cap_msgs ? T.cap_msgs * 2 : 256;
		struct msg *p = realloc(T.msgs, cap * sizeof(*p));

		if (!p)
			return FUOTA_ERR_NO_MEMORY;
		T.msgs = p;
		T.cap_msgs = cap;
	}
	m = &T.msgs[T.n_msgs++];
	m->from = ctx;
	snprintf(m->topic, sizeof(m->topic), "%s", topic);
	m->data = malloc(len + 1);
	assert_non_null(m->data);
	memcpy(m->data, payload, len);
	m->data[len] = 0;
	m->len = len;
	if (seq)
		*seq = T.seq_base + T.n_msgs;
	return FUOTA_OK;
}

void msgs_clear(void)
{
	for (size_t i = 0; i < T.n_msgs; i++)
		free(T.msgs[i].data);
	T.seq_base += T.n_msgs;
	T.n_msgs = T.next_msg = 0;
}

int64_t true_gps_ms(void)
{
	int64_t gps_s = 0;

	assert_int_equal(lw_gps_from_unix(T.now_ms / 1000, &gps_s), FUOTA_OK);
	return gps_s * 1000 + T.now_ms % 1000;
}

/* ---- the simulated devices: fuota-sim's device model ------------------------------------- */

void dev_setup(struct tdev *d, const char *eui, uint8_t key_byte, int ts004)
{
	struct sim_dev_cfg c;
	unsigned md_len = 0;

	memset(d, 0, sizeof(*d));
	memset(&c, 0, sizeof(c));
	snprintf(d->eui, sizeof(d->eui), "%s", eui);
	for (int i = 0; i < 16; i++)
		d->key[i] = (uint8_t)(key_byte + i);
	d->ts004 = ts004;
	d->delete_index = -1;
	c.dev_eui = strtoull(eui, NULL, 16);
	memcpy(c.root_key, d->key, sizeof(c.root_key));
	c.clk_version = c.mc_version = 1;
	c.frag_version = ts004 >= 2 ? 2 : 1;
	c.v2_seed = FRAG_SEED_RELATIVE;
	c.mem_limit = (size_t)1 << 20;
	c.has_expected_sha256 = true;
	assert_int_equal(
	        EVP_Digest(T.firmware, FW_SIZE, c.expected_sha256, &md_len, EVP_sha256(), NULL), 1);
	c.at_once = c.clock_set = c.v1_start_missed = true;
	c.ack_tries = 1;
	assert_int_equal(sim_dev_init(&d->m, &c, true_gps_ms()), FUOTA_OK);
}

struct tdev *dev_by_eui(const char *eui)
{
	for (size_t i = 0; i < T.n_devs; i++)
		if (strcmp(T.devs[i].eui, eui) == 0)
			return &T.devs[i];
	return NULL;
}

void uplink(struct engine *e, const struct tdev *d, uint8_t port, const uint8_t *data, size_t len)
{
	uplink_app(e, d, APP_ID, port, data, len);
}

void uplink_app(struct engine *e, const struct tdev *d, const char *app, uint8_t port,
                const uint8_t *data, size_t len)
{
	struct cs_uplink u;

	memset(&u, 0, sizeof(u));
	snprintf(u.dev_eui, sizeof(u.dev_eui), "%s", d->eui);
	snprintf(u.application_id, sizeof(u.application_id), "%s", app);
	u.f_port = port;
	memcpy(u.data, data, len);
	u.data_len = len;
	u.n_rx = 1;
	snprintf(u.rx[0].gateway_id, sizeof(u.rx[0].gateway_id), "%s", d->in_range_b ? GW_B : GW_A);
	u.rx[0].rssi = -90;
	u.rx[0].snr = 7.5f;
	if (T.hold_uplinks) {
		assert_true(T.n_held < sizeof(T.held) / sizeof(T.held[0]));
		u.time.set = 1;
		u.time.sec = T.now_ms / 1000;
		u.time.nsec = (int32_t)(T.now_ms % 1000) * 1000000;
		T.held[T.n_held++] = u;
		return;
	}
	if (T.mqtt) {
		char topic[128], *json = NULL;
		size_t n = 0;

		snprintf(topic, sizeof(topic), "application/%s/device/%s/event/up", app, d->eui);
		assert_int_equal(cs_uplink_to_json(&u, &json, &n), FUOTA_OK);
		assert_int_equal(mqtt_publish(T.mqtt, topic, json, n, 1), FUOTA_OK);
		free(json);
		return;
	}
	assert_int_equal(engine_on_uplink(e, &u), FUOTA_OK);
}

void send_ack(struct engine *e, const struct cs_gw_ack *a)
{
	if (T.mqtt) {
		char topic[128];
		uint8_t *buf = NULL;
		size_t n = 0;

		snprintf(topic, sizeof(topic), "eu868/gateway/%s/event/ack", a->gateway_id);
		if (T.gw_b_json && strcmp(a->gateway_id, GW_B) == 0)
			assert_int_equal(cs_gw_ack_to_json(a, (char **)&buf, &n), FUOTA_OK);
		else
			assert_int_equal(cs_gw_ack_to_proto(a, &buf, &n), FUOTA_OK);
		assert_int_equal(mqtt_publish(T.mqtt, topic, buf, n, 1), FUOTA_OK);
		free(buf);
		return;
	}
	assert_int_equal(engine_on_ack(e, a), FUOTA_OK);
}

int64_t dev_offset_ms(const struct tdev *d)
{
	int64_t now = true_gps_ms();

	return sim_dev_clock_ms(&d->m, now) - now;
}

void dev_set_offset(struct tdev *d, int64_t ms)
{
	d->m.offset_ms += ms - dev_offset_ms(d);
}

void dev_max_frags(struct tdev *d, uint32_t max_frags)
{
	d->m.cfg.mem_limit = sim_dev_frag_mem(max_frags, FRAG_SIZE);
}

void dev_impostor(struct tdev *d)
{
	struct sim_dev_cfg c = d->m.cfg;

	c.misbehave = SIM_MB_TS006 | SIM_MB_CLAIM_VALID;
	d->impostor = calloc(1, sizeof(*d->impostor));
	assert_non_null(d->impostor);
	assert_int_equal(sim_dev_init(d->impostor, &c, true_gps_ms()), FUOTA_OK);
}

enum frag_dec_state dev_dec_state(const struct tdev *d)
{
	const struct sim_frag *s = &d->m.frag[d->setup.frag_index & 3];

	if (d->has_session && s->active)
		return frag_lean_state(&s->dec);
	return d->decoded ? FRAG_DEC_DONE : FRAG_DEC_ONGOING;
}

void devs_free(void)
{
	for (size_t i = 0; i < T.n_devs; i++) {
		sim_dev_free(&T.devs[i].m);
		sim_dev_free(T.devs[i].impostor);
		free(T.devs[i].impostor);
	}
	T.n_devs = 0;
}

/* The view of the model (struct tdev) after it took something. */
static void dev_view_ts005(struct tdev *d)
{
	d->has_group = false;
	for (int i = 0; i < MC_MAX_GROUPS; i++) {
		const struct sim_group *g = &d->m.groups[i];
		uint32_t unit = g->class_b ? 128 : 1;
		uint8_t t = 0;

		if (!g->defined)
			continue;
		d->has_group = true;
		d->mc_addr = g->mc_addr;
		if (!g->has_session)
			continue;
		/* Class B sessions start on a beacon period (ChirpStack aligns them). */
		if (g->class_b)
			assert_int_equal(g->start % 128, 0);
		while (t < 15 && (unit << t) < g->duration_s)
			t++;
		d->session_time = g->start;
		d->session_timeout = t;
	}
}

static void dev_view(struct tdev *d)
{
	const struct sim_dev_counts *c = &d->m.rep.counts;

	dev_view_ts005(d);
	d->has_session = false;
	for (int i = 0; i < SIM_FRAG_SESSIONS; i++) {
		const struct sim_frag *s = &d->m.frag[i];

		if (!s->active)
			continue;
		if (d->seen_setups != c->frag_setup)
			d->mic_ok = d->decoded = false; /* a new session */
		d->has_session = d->had_session = true;
		d->setup = s->req;
		d->lmn_counter = s->lmn_counter;
	}
	d->seen_setups = c->frag_setup;
	if (d->seen_images != c->images) {
		d->decoded = true;
		d->mic_ok = d->ts004 >= 2 && d->m.rep.mic_checked && d->m.rep.mic_ok;
	}
	d->seen_images = c->images;
	d->frames = c->session_frags;
	d->foreign = d->m.rep.other_session;
	d->deletes = c->frag_delete + c->mc_delete;
	d->delete_index = c->last_delete_index;
	d->resyncs = c->force_resync;
	d->time_answers = c->time_ans;
	d->setup_reqs = c->mc_setup;
	d->status_reqs = c->status_uc;
	d->mc_status_reqs = c->status_mc;
	d->mc_status_other = c->status_other;
	d->upgrade_reqs = c->upgrade_image;
	d->version_reqs = c->dev_version;
	d->block_acks = c->block_acked;
}

/* The device's FragDataBlockReceivedReq: lost, held for later (report_late) or sent. */
static void dev_report(struct engine *e, struct tdev *d, const struct sim_uplink *ul)
{
	if (d->lost_reports > 0) {
		d->lost_reports--;
	} else if (d->report_late) {
		memcpy(d->held_report, ul->data, ul->len);
		d->held_report_len = ul->len;
	} else {
		uplink(e, d, ul->port, ul->data, ul->len);
		d->reported_ms = T.now_ms;
	}
}

static void send_held_report(struct engine *e, struct tdev *d)
{
	if (d->held_report_len == 0)
		return;
	uplink(e, d, FRAG_PORT, d->held_report, d->held_report_len);
	d->held_report_len = 0;
	d->reported_ms = T.now_ms;
}

/* Its answer to a multicast FragSessionStatusReq leaves in a later uplink (deliver_answers). */
static void dev_schedule_answer(struct tdev *d, const struct sim_uplink *ul)
{
	enum frag_version v = d->ts004 >= 2 ? FRAG_V2 : FRAG_V1;
	size_t i = (size_t)(d - T.devs), used = 0;
	struct status_answer *a;
	struct frag_cmd ans;

	assert_int_equal(frag_cmd_decode(ul->data, ul->len, v, FRAG_UP, 0, &ans, &used, NULL),
	                 FUOTA_OK);
	assert_int_equal(ans.type, FRAG_CMD_SESSION_STATUS_ANS);
	if (!ans.u.status_ans.session_not_exist && d->lost_answers > 0) {
		d->lost_answers--;
		return;
	}
	assert_true(T.n_answers < MAX_ANSWERS && ul->len <= sizeof(a->data));
	a = &T.answers[T.n_answers++];
	memset(a, 0, sizeof(*a));
	a->dev = i;
	a->frag_index = ans.u.status_ans.frag_index;
	a->not_exist = ans.u.status_ans.session_not_exist;
	a->req = T.mc_status[a->frag_index & 3];
	a->received = ans.u.status_ans.nb_received;
	a->missing = ans.u.status_ans.missing_frag;
	a->due_ms = T.now_ms + 1000 + (int64_t)(i * 4000 % 15000);
	memcpy(a->data, ul->data, ul->len);
	a->len = ul->len;
	a->frags_at = d->m.rep.counts.session_frags;
}

/* What the device has to send at gps_ms goes up, as the network carries it (struct tdev);
 * after_mc: it answers a multicast frame. */
static void dev_flush(struct engine *e, struct tdev *d, bool after_mc, int64_t gps_ms)
{
	struct sim_uplink ul;

	while (sim_dev_uplink(&d->m, gps_ms, false, &ul)) {
		bool frag = ul.port == FRAG_PORT && ul.len > 0;

		if (frag && ul.data[0] == FRAG_CID_DATA_BLOCK_RECEIVED) {
			dev_report(e, d, &ul);
		} else if (frag && ul.data[0] == FRAG_CID_SESSION_STATUS && after_mc) {
			dev_schedule_answer(d, &ul);
		} else if (frag && ul.data[0] == FRAG_CID_SESSION_STATUS) {
			if (!d->report_after_status)
				send_held_report(e, d);
			uplink(e, d, ul.port, ul.data, ul.len);
			send_held_report(e, d);
		} else {
			uplink(e, d, ul.port, ul.data, ul.len);
		}
	}
}

void dev_app_time_req(struct engine *e, struct tdev *d)
{
	sim_dev_ask_time(&d->m, true_gps_ms(), true);
	dev_flush(e, d, false, true_gps_ms());
}

/* The impostor's answer goes up as another application's. */
static void impostor_downlink(struct engine *e, struct tdev *d, uint8_t port, const uint8_t *p,
                              size_t len)
{
	struct sim_uplink ul;

	(void)sim_dev_downlink(d->impostor, true_gps_ms(), port, p, len);
	while (sim_dev_uplink(d->impostor, true_gps_ms(), false, &ul))
		uplink_app(e, d, "app-2", ul.port, ul.data, ul.len);
}

void dev_downlink(struct engine *e, struct tdev *d, uint8_t port, const uint8_t *p, size_t len)
{
	struct sim_dev_counts before = d->m.rep.counts;
	const struct sim_dev_counts *c = &d->m.rep.counts;

	if (d->impostor && port == FMP_FPORT)
		impostor_downlink(e, d, port, p, len);
	/* A refusal (NotEnoughMemory, StartMissed) is a failure in the model's report. */
	(void)sim_dev_downlink(&d->m, true_gps_ms(), port, p, len);
	assert_int_equal(c->malformed, before.malformed);       /* every command decodes */
	assert_int_equal(c->cnt_replay, before.cnt_replay);     /* no SessionCnt replayed */
	assert_int_equal(c->mc_status, before.mc_status);       /* no TS005 command unasked */
	assert_int_equal(c->status_other, before.status_other); /* asked about its own session */
	dev_view(d);
	dev_flush(e, d, false, true_gps_ms());
}

/* Delivers the status answers due by now (in the order given; their delays only spread them),
 * and what the devices send by themselves (the delayed AppTimeReq of a forced resync). */
void deliver_answers(struct engine *e)
{
	for (size_t i = 0; i < T.n_devs; i++)
		if (!T.devs[i].mute)
			dev_flush(e, &T.devs[i], false, true_gps_ms());
	while (T.next_answer < T.n_answers && T.answers[T.next_answer].due_ms <= T.now_ms) {
		struct status_answer *a = &T.answers[T.next_answer++];
		struct tdev *d = &T.devs[a->dev];

		/* Nothing reached it during the wait. */
		if (!a->not_exist)
			assert_int_equal(d->m.rep.counts.session_frags, a->frags_at);
		uplink(e, d, FRAG_PORT, a->data, a->len);
	}
}

/* The first answer not delivered yet is due at (INT64_MAX: none). */
int64_t answer_due(void)
{
	int64_t due = T.next_answer < T.n_answers ? T.answers[T.next_answer].due_ms : INT64_MAX;
	int64_t gps_to_unix = T.now_ms - true_gps_ms();

	for (size_t i = 0; i < T.n_devs; i++) {
		int64_t at = sim_dev_next_uplink_ms(&T.devs[i].m);

		if (!T.devs[i].mute && at != INT64_MAX && at + gps_to_unix < due)
			due = at + gps_to_unix;
	}
	return due;
}

/* What gateway frame i carries, decoded with the keys of a device of its group. */
void classify_frame(size_t i, const uint8_t *phy, size_t len)
{
	struct frame_info *fi = &T.frame_info[i];

	memset(fi, 0, sizeof(*fi));
	for (size_t k = 0; k < T.n_devs * MC_MAX_GROUPS; k++) {
		const struct sim_group *g = &T.devs[k / MC_MAX_GROUPS].m.groups[k % MC_MAX_GROUPS];
		uint32_t next = g->has_last ? g->last_fcnt + 1 : g->min_fcnt;
		struct lw_frame f;
		uint32_t fcnt = 0;
		uint8_t clear[LW_PHY_MAX_LEN];
		size_t clen = 0, used = 0;
		struct frag_cmd cmd;

		if (!g->defined || g->mc_addr != T.frame_addr[i])
			continue;
		assert_int_equal(lw_frame_open(phy, len, g->app_s_key, g->nwk_s_key,
		                               (uint16_t)(next >> 16), &f, &fcnt, clear,
		                               sizeof(clear), &clen),
		                 FUOTA_OK);
		assert_int_equal(frag_cmd_decode(clear, clen, FRAG_V2, FRAG_DOWN, FRAG_SIZE, &cmd,
		                                 &used, NULL),
		                 FUOTA_OK);
		/* One TS004 command a frame, on its port. */
		assert_int_equal(f.fport, FRAG_PORT);
		assert_int_equal(used, clen);
		if (cmd.type == FRAG_CMD_SESSION_STATUS_REQ) {
			fi->kind = FRAME_STATUS;
			fi->frag_index = cmd.u.status_req.frag_index;
			fi->participants = cmd.u.status_req.participants;
			T.mc_status[fi->frag_index & 3]++;
		} else {
			assert_int_equal(cmd.type, FRAG_CMD_DATA_FRAGMENT);
			fi->kind = FRAME_DATA;
			fi->frag_index = cmd.u.data_fragment.frag_index;
			fi->n = cmd.u.data_fragment.n;
		}
		return;
	}
}

/* A multicast frame on the air from at_ms (true GPS) reaches device d. */
static void dev_air(struct engine *e, struct tdev *d, const struct cs_gw_downlink *g, int64_t at_ms)
{
	struct sim_dev_report before = d->m.rep;
	const struct sim_dev_report *r = &d->m.rep;

	(void)sim_dev_multicast_air(&d->m, at_ms, at_ms, g->frequency, g->phy, g->phy_len);
	/* Never a replayed counter, a frame it cannot read, or one it heard already. */
	assert_int_equal(r->fcnt_rejected, before.fcnt_rejected);
	assert_int_equal(r->mic_failures, before.mic_failures);
	assert_int_equal(r->duplicates, before.duplicates);
	assert_int_equal(r->counts.malformed, before.counts.malformed);
	if (r->counts.images != before.counts.images && d->done_at == 0)
		d->done_at = T.n_fcnts;
	dev_view(d);
	dev_flush(e, d, true, at_ms > true_gps_ms() ? at_ms : true_gps_ms());
}

void on_gateway_frame(struct engine *e, const char *topic, const uint8_t *data, size_t len,
                      const char *from)
{
	struct cs_gw_downlink g;
	struct cs_gw_ack ack;
	struct lw_frame f;
	bool is_b = strstr(topic, GW_B) != NULL;

	/* A gateway gets its frames in the encoding it speaks (a JSON gateway would refuse
	 * protobuf, and the other way round). */
	T.gw_frames[is_b]++;
	if (T.gw_b_json && is_b) {
		assert_true(cs_payload_is_json(data, len));
		assert_int_equal(cs_gw_downlink_from_json((const char *)data, len, &g, NULL, 0),
		                 FUOTA_OK);
		T.gw_json_frames++;
	} else {
		assert_false(cs_payload_is_json(data, len));
		assert_int_equal(cs_gw_downlink_from_proto(data, len, &g, NULL, 0), FUOTA_OK);
	}
	assert_string_equal(g.gateway_id, is_b ? GW_B : GW_A);
	/* The frequency of the job's region (US915: a job across regions). */
	assert_int_equal(g.frequency, strncmp(topic, "us915/", 6) == 0 ? 923300000 : 869525000);
	/* EU868 869.4-869.65 MHz: 27 dBm ERP = 29 dBm EIRP, or the job's own power. */
	assert_int_equal(g.power, T.tx_power_dbm ? T.tx_power_dbm : 29);
	assert_int_equal(g.spreading_factor, 7);
	assert_true(g.polarization_inversion);
	assert_int_equal(lw_frame_parse(g.phy, g.phy_len, &f), FUOTA_OK);
	if (T.class_b) {
		/* A ping slot of the group: GPS-timed, 2.120 s + k * 30 ms into a beacon period,
		 * handed to the gateway ahead of time. */
		int64_t at_ms = g.timing_ns / 1000000;

		assert_int_equal(g.timing, CS_TIMING_GPS_EPOCH);
		assert_int_equal((at_ms % 128000 - 2120) % 30, 0);
		assert_true(at_ms > true_gps_ms());
		assert_true(at_ms / 1000 >= (int64_t)T.devs[0].session_time);
		T.class_b_frames++;
	} else if (T.gps_timing) {
		/* Class C at a GPS instant: booked 0.5 to 1.02 s after it was handed over, back to
		 * back with the previous frame on that gateway but never overlapping it. */
		int64_t at_ms = g.timing_ns / 1000000;

		assert_int_equal(g.timing, CS_TIMING_GPS_EPOCH);
		assert_true(at_ms >= true_gps_ms() + 500);
		assert_true(at_ms <= true_gps_ms() + 1020);
		assert_true(at_ms > T.last_gps_at_ms[is_b]);
		T.last_gps_at_ms[is_b] = at_ms;
	} else {
		assert_int_equal(g.timing, CS_TIMING_IMMEDIATELY);
	}
	assert_true(T.n_fcnts < MAX_FCNT);
	T.frame_addr[T.n_fcnts] = f.dev_addr;
	T.frame_from[T.n_fcnts] = from;
	T.frame_ms[T.n_fcnts] = T.now_ms;
	classify_frame(T.n_fcnts, g.phy, g.phy_len);
	T.fcnts[T.n_fcnts++] = f.fcnt16;
	if (T.vanish_at && T.n_fcnts == T.vanish_at)
		return;
	memset(&ack, 0, sizeof(ack));
	ack.downlink_id = g.downlink_id;
	snprintf(ack.gateway_id, sizeof(ack.gateway_id), "%s", g.gateway_id);
	T.acks++;
	if (T.refuse_every && T.acks % T.refuse_every == 0) {
		/* Refused: never reached the air. */
		ack.status = CS_ACK_COLLISION_PACKET;
		T.refused++;
	} else {
		ack.status = CS_ACK_OK;
		/* On the air now, or at the GPS instant it was booked for. */
		int64_t at_ms = g.timing == CS_TIMING_GPS_EPOCH ? (int64_t)(g.timing_ns / 1000000)
		                                                : true_gps_ms();

		for (size_t i = 0; i < T.n_devs; i++)
			if (T.devs[i].in_range_b == is_b)
				dev_air(e, &T.devs[i], &g, at_ms);
	}
	send_ack(e, &ack);
}

/* Delivers every message published so far (and those the answers cause), then tells e that
 * the broker acknowledged them, as fuotad's MQTT runner does. */
void pump(struct engine *e)
{
	while (T.next_msg < T.n_msgs) {
		struct msg m = T.msgs[T.next_msg++];
		char app[64], eui[17];

		if (sscanf(m.topic, "application/%63[^/]/device/%16[^/]/command/down", app, eui) ==
		    2) {
			struct cs_downlink dl;
			struct tdev *d = dev_by_eui(eui);

			assert_string_equal(app, APP_ID);
			assert_int_equal(
			        cs_downlink_from_json((const char *)m.data, m.len, &dl, NULL, 0),
			        FUOTA_OK);
			assert_string_equal(dl.dev_eui, eui);
			if (!d || d->mute)
				continue;
			if (dl.f_port == 200 && d->hold_down) {
				if (d->held_dl_len == 0 && dl.data_len <= sizeof(d->held_dl)) {
					memcpy(d->held_dl, dl.data, dl.data_len);
					d->held_dl_len = dl.data_len;
				}
				continue;
			}
			if (dl.f_port < MC_FPORT || dl.f_port > FMP_FPORT)
				fail_msg("downlink on port %u", dl.f_port);
			dev_downlink(e, d, (uint8_t)dl.f_port, dl.data, dl.data_len);
		} else if (strstr(m.topic, "/gateway/") && strstr(m.topic, "/command/down")) {
			assert_true(strncmp(m.topic, "eu868/gateway/", 14) == 0 ||
			            strncmp(m.topic, "us915/gateway/", 14) == 0);
			on_gateway_frame(e, m.topic, m.data, m.len, m.from);
		} else if (strncmp(m.topic, "fuota/", 6) == 0) {
			json_t *j = json_loadb((const char *)m.data, m.len, 0, NULL);

			assert_non_null(j); /* every event is JSON */
			long long jid = 0;

			if (strstr(m.topic, "/event/state"))
				T.events_state++;
			if (strstr(m.topic, "/event/state") &&
			    sscanf(m.topic, "fuota/%*[^/]/job/%lld/", &jid) == 1 &&
			    jid == T.watch_job) {
				T.watch_states++;
				snprintf(T.watch_last_to, sizeof(T.watch_last_to), "%s",
				         json_string_value(json_object_get(j, "to")));
			} else if (strstr(m.topic, "/event/device"))
				T.events_device++;
			else if (strstr(m.topic, "/event/progress")) {
				T.events_progress++;
				json_decref(T.last_progress);
				T.last_progress = json_incref(j);
			}
			json_decref(j);
		} else {
			fail_msg("unexpected topic %s", m.topic);
		}
	}
	engine_outbox_acked(e, T.seq_base + T.next_msg);
}

/* ---- fixtures ------------------------------------------------------------------------------- */
