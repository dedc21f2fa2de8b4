/* The simulated devices and gateway of the itest_engine_* programs (see itest_engine_lib.h):
 * the fake clock and sink, the uplinks the devices send and what they make of each downlink,
 * the gateway frames, and pump, which carries everything until nothing moves. */
#include "itest_engine_lib.h"

int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return T.now_ms;
}

int fake_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len)
{
	struct msg *m;

	(void)ctx;
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
	return FUOTA_OK;
}

void msgs_clear(void)
{
	for (size_t i = 0; i < T.n_msgs; i++)
		free(T.msgs[i].data);
	T.n_msgs = T.next_msg = 0;
}

int64_t true_gps_ms(void)
{
	int64_t gps_s = 0;

	assert_int_equal(lw_gps_from_unix(T.now_ms / 1000, &gps_s), FUOTA_OK);
	return gps_s * 1000 + T.now_ms % 1000;
}

uint32_t dev_time_s(const struct sim_dev *d)
{
	return lw_gps_wrap32((true_gps_ms() + d->clock_offset_ms) / 1000);
}

/* ---- the simulated devices -------------------------------------------------------------- */

struct sim_dev *dev_by_eui(const char *eui)
{
	for (size_t i = 0; i < T.n_devs; i++)
		if (strcmp(T.devs[i].eui, eui) == 0)
			return &T.devs[i];
	return NULL;
}

void uplink(struct engine *e, const struct sim_dev *d, uint8_t port, const uint8_t *data,
            size_t len)
{
	uplink_app(e, d, APP_ID, port, data, len);
}

void uplink_app(struct engine *e, const struct sim_dev *d, const char *app, uint8_t port,
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

void dev_app_time_req(struct engine *e, struct sim_dev *d)
{
	struct clk_cmd req;
	uint8_t buf[8];
	size_t pos = 0;

	clk_dev_app_time_req(&d->clk, dev_time_s(d), true, &req);
	assert_int_equal(clk_encode(&req, buf, sizeof(buf), &pos), FUOTA_OK);
	uplink(e, d, CLK_FPORT, buf, pos);
}

void dev_port202(struct engine *e, struct sim_dev *d, const uint8_t *p, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		struct clk_cmd cmd;
		uint32_t new_time = 0;
		bool resync = false;

		assert_int_equal(clk_decode(p, len, &pos, false, &cmd, NULL), FUOTA_OK);
		if (cmd.cid == CLK_CID_PACKAGE_VERSION) {
			uint8_t ans[3] = {0x00, CLK_PACKAGE_ID, 1};

			uplink(e, d, CLK_FPORT, ans, sizeof(ans));
		} else if (cmd.cid == CLK_CID_APP_TIME) {
			uint32_t before = dev_time_s(d);

			assert_int_equal(
			        clk_dev_on_app_time_ans(&d->clk, &cmd, before, &new_time, &resync),
			        FUOTA_OK);
			d->clock_offset_ms += ((int64_t)new_time - (int64_t)before) * 1000;
			d->time_answers++;
		} else if (cmd.cid == CLK_CID_FORCE_RESYNC) {
			assert_int_equal(clk_dev_on_request(&d->clk, &cmd), FUOTA_OK);
			d->resyncs++;
			if (d->resync_delay_ms > 0)
				d->time_req_ms = T.now_ms + d->resync_delay_ms;
			else
				dev_app_time_req(e, d);
		}
	}
}

/* TS006 DevUpgradeImageReq (CID 0x04, no payload): DevUpgradeImageAns `04 03` + version 4 LE
 * once its decoder rebuilt the image, `04 00` (NoFirmwarePresent) before. */
void dev_port203(struct engine *e, struct sim_dev *d, const uint8_t *p, size_t len)
{
	uint8_t ans[6] = {FMP_CID_DEV_UPGRADE_IMAGE, FMP_IMAGE_NONE, 0x04, 0x03, 0x02, 0x01};
	bool valid = d->has_session && frag_dec_state(&d->dec) == FRAG_DEC_DONE;

	if (len < 1 || p[0] != FMP_CID_DEV_UPGRADE_IMAGE)
		fail_msg("port 203: unexpected command");
	d->upgrade_reqs++;
	if (d->ts006_forged) {
		/* The same DevEUI in another application claims a valid image. */
		ans[1] = FMP_IMAGE_VALID;
		uplink_app(e, d, "app-2", FMP_FPORT, ans, 6);
		ans[1] = FMP_IMAGE_NONE;
	}
	if (!d->ts006)
		return;
	if (valid)
		ans[1] = FMP_IMAGE_VALID;
	uplink(e, d, FMP_FPORT, ans, valid ? 6 : 2);
}

void dev_port200(struct engine *e, struct sim_dev *d, const uint8_t *p, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		struct mc_cmd cmd, ans;
		uint8_t out[16];
		size_t olen = 0;

		assert_int_equal(mc_decode(p, len, &pos, false, 1, &cmd, NULL), FUOTA_OK);
		memset(&ans, 0, sizeof(ans));
		ans.cid = cmd.cid;
		ans.up = true;
		switch (cmd.cid) {
		case MC_CID_PACKAGE_VERSION:
			ans.u.pkg_ans.package_id = MC_PACKAGE_ID;
			ans.u.pkg_ans.version = 1;
			break;
		case MC_CID_GROUP_SETUP: {
			uint8_t root[16], kek[16], mc_key[16];

			/* The device side of the key hierarchy: McKey = encrypt(McKEKey, ...). */
			assert_int_equal(mc_root_key_from_gen_app_key(d->key, root), FUOTA_OK);
			assert_int_equal(mc_ke_key_from_root(root, kek), FUOTA_OK);
			assert_int_equal(
			        mc_key_decrypt(kek, cmd.u.setup_req.mc_key_encrypted, mc_key),
			        FUOTA_OK);
			d->mc_addr = cmd.u.setup_req.mc_addr;
			assert_int_equal(
			        mc_session_keys(mc_key, d->mc_addr, d->app_s_key, d->nwk_s_key),
			        FUOTA_OK);
			d->next_fcnt = cmd.u.setup_req.min_fcnt;
			d->has_group = true;
			d->setup_reqs++;
			ans.u.setup_ans.group_id = cmd.u.setup_req.group_id;
			break;
		}
		case MC_CID_CLASS_B_SESSION:
			/* Class B sessions start on a beacon period (ChirpStack aligns them). */
			assert_int_equal(cmd.u.session_req.session_time % 128, 0);
			/* fall through */
		case MC_CID_CLASS_C_SESSION: {
			uint32_t tts = 0;
			bool missed = false;

			d->session_time = cmd.u.session_req.session_time;
			d->session_timeout = cmd.u.session_req.timeout;
			mc_time_to_start(d->session_time, dev_time_s(d), true, &tts, &missed);
			ans.u.session_ans.group_id = cmd.u.session_req.group_id;
			ans.u.session_ans.start_missed = missed;
			ans.u.session_ans.has_time_to_start = !missed;
			ans.u.session_ans.time_to_start = tts;
			break;
		}
		case MC_CID_GROUP_DELETE:
			d->has_group = false;
			d->deletes++;
			ans.u.delete_ans.group_id = cmd.u.delete_req.group_id;
			break;
		default: fail_msg("unexpected TS005 command %u", cmd.cid);
		}
		assert_int_equal(mc_encode(&ans, out, sizeof(out), &olen), FUOTA_OK);
		uplink(e, d, MC_FPORT, out, olen);
	}
}

void dev_session_setup(struct sim_dev *d, const struct frag_setup_req *s)
{
	struct frag_code code = {s->nb_frag, d->ts004 >= 2 ? FRAG_V2 : FRAG_V1, FRAG_SEED_RELATIVE};
	size_t need = frag_dec_mem_size(s->nb_frag, s->frag_size, s->nb_frag);

	free(d->mem);
	d->mem = malloc(need);
	assert_non_null(d->mem);
	assert_int_equal(frag_dec_init(&d->dec, &code, s->frag_size, s->padding, d->mem, need),
	                 FUOTA_OK);
	d->setup = *s;
	d->has_session = true;
	d->mic_ok = false;
}

/* A v2 device checks the data-block MIC over the rebuilt image (PROTOCOL-NOTES §4.6). */
bool dev_mic_ok(const struct sim_dev *d)
{
	const uint8_t *image;
	size_t len;
	uint8_t key[16], mic[4];

	if (d->bad_mic || frag_dec_image(&d->dec, &image, &len) != FUOTA_OK)
		return false;
	assert_int_equal(engine_data_block_int_key(d->key, key), FUOTA_OK);
	assert_int_equal(engine_data_block_mic(key, d->setup.session_cnt, d->setup.frag_index,
	                                       d->setup.descriptor, image, len, mic),
	                 FUOTA_OK);
	return memcmp(mic, d->setup.mic, 4) == 0;
}

/* FragSessionStatusAns of the device's session, as its decoder stands: NbFragReceived counts
 * every frame the decoder took (uncoded and parity), MissingFrag the uncoded fragments it does
 * not know yet (0 once it has the image), saturating at 255. */
void dev_status_ans(const struct sim_dev *d, struct frag_cmd *ans)
{
	struct frag_dec_stats st;

	frag_dec_get_stats(&d->dec, &st);
	memset(ans, 0, sizeof(*ans));
	ans->type = FRAG_CMD_SESSION_STATUS_ANS;
	ans->u.status_ans.frag_index = d->setup.frag_index;
	ans->u.status_ans.nb_received = (uint16_t)st.received;
	ans->u.status_ans.missing_frag = (uint8_t)(frag_dec_state(&d->dec) == FRAG_DEC_DONE
	                                                   ? 0
	                                                   : (st.missing > 255 ? 255 : st.missing));
	ans->u.status_ans.memory_error = st.not_enough_memory;
	if (d->answers_as == ANS_LORAMAC_NODE) {
		uint32_t c = d->lmn_counter, m = d->setup.nb_frag;
		uint32_t before = (c > 0 ? c - 1 : 0) < m ? (c > 0 ? c - 1 : 0) : m;
		uint32_t taken = d->lmn_uncoded - (c >= 1 && c <= m ? 1u : 0u);
		uint32_t lost = before - taken;

		ans->u.status_ans.nb_received = (uint16_t)c;
		ans->u.status_ans.missing_frag = (uint8_t)(lost > 255 ? 255 : lost);
	}
	if (d->answers_as == ANS_LBM && frag_dec_state(&d->dec) == FRAG_DEC_DONE &&
	    st.recovered == 0) {
		ans->u.status_ans.nb_received = d->setup.nb_frag;
		ans->u.status_ans.missing_frag = 1;
	}
	/* v2 MICError: the rebuilt image failed its check (only once it is rebuilt). */
	ans->u.status_ans.mic_error =
	        d->ts004 >= 2 && frag_dec_state(&d->dec) == FRAG_DEC_DONE && !d->mic_ok;
}

void dev_port201(struct engine *e, struct sim_dev *d, const uint8_t *p, size_t len)
{
	enum frag_version v = d->ts004 >= 2 ? FRAG_V2 : FRAG_V1;
	struct frag_cmd_iter it;

	frag_cmd_iter_init(&it, p, len, v, FRAG_DOWN, 0);
	while (frag_cmd_iter_more(&it)) {
		struct frag_cmd cmd, ans;
		uint8_t out[16];
		size_t olen = 0;

		assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
		memset(&ans, 0, sizeof(ans));
		switch (cmd.type) {
		case FRAG_CMD_PACKAGE_VERSION_REQ:
			ans.type = FRAG_CMD_PACKAGE_VERSION_ANS;
			ans.u.version_ans.package_id = FRAG_PACKAGE_ID;
			ans.u.version_ans.package_version = (uint8_t)d->ts004;
			break;
		case FRAG_CMD_SESSION_SETUP_REQ:
			if (d->ts004 >= 2) {
				/* The device refuses a SessionCnt it has seen (replay). */
				assert_true(cmd.u.setup_req.session_cnt > d->last_cnt);
				d->last_cnt = cmd.u.setup_req.session_cnt;
			}
			ans.type = FRAG_CMD_SESSION_SETUP_ANS;
			ans.u.setup_ans.frag_index = cmd.u.setup_req.frag_index;
			if (d->max_frags && cmd.u.setup_req.nb_frag > d->max_frags) {
				ans.u.setup_ans.not_enough_memory = true;
				break;
			}
			dev_session_setup(d, &cmd.u.setup_req);
			break;
		case FRAG_CMD_SESSION_STATUS_REQ:
			/* fuotad asks each device about its own session only. */
			assert_int_equal(cmd.u.status_req.frag_index, d->setup.frag_index);
			d->status_reqs++;
			if (d->holds_report && !d->report_after_status) {
				d->holds_report = false;
				uplink(e, d, FRAG_PORT, d->held_report, sizeof(d->held_report));
				d->reported_ms = T.now_ms;
			}
			dev_status_ans(d, &ans);
			break;
		case FRAG_CMD_SESSION_DELETE_REQ:
			d->has_session = false;
			d->deletes++;
			d->delete_index = cmd.u.delete_req.frag_index;
			ans.type = FRAG_CMD_SESSION_DELETE_ANS;
			ans.u.delete_ans.frag_index = cmd.u.delete_req.frag_index;
			break;
		case FRAG_CMD_DATA_BLOCK_RECEIVED_ANS:
			assert_int_equal(cmd.u.block_received_ans.frag_index, d->setup.frag_index);
			d->block_acks++;
			continue;
		default: fail_msg("unexpected TS004 command %d", cmd.type);
		}
		assert_int_equal(frag_cmd_encode(&ans, v, out, sizeof(out), &olen), FUOTA_OK);
		uplink(e, d, FRAG_PORT, out, olen);
		if (ans.type == FRAG_CMD_SESSION_STATUS_ANS && d->holds_report) {
			d->holds_report = false;
			uplink(e, d, FRAG_PORT, d->held_report, sizeof(d->held_report));
			d->reported_ms = T.now_ms;
		}
	}
}

/* A multicast FragSessionStatusReq (adaptive rounds). With Participants = 0 only a device still
 * missing fragments of that session answers; it answers after a delay within
 * 2^(BlockAckDelay + 4) s, here 1 to 15 s by its place in the fleet, in its next uplink
 * (delivered by run()). A v2 device asked about a session it does not have says
 * SessionDoesNotExist (as fuota-sim's devices do), a v1 device cannot say it and keeps quiet. */
void dev_multicast_status(struct sim_dev *d, const struct frag_status_req *r)
{
	struct status_answer *a;
	struct frag_cmd ans;
	size_t i = (size_t)(d - T.devs);

	if (r->frag_index != d->setup.frag_index) {
		d->mc_status_other++;
		if (d->ts004 < 2)
			return;
		memset(&ans, 0, sizeof(ans));
		ans.type = FRAG_CMD_SESSION_STATUS_ANS;
		ans.u.status_ans.frag_index = r->frag_index;
		ans.u.status_ans.session_not_exist = true;
	} else {
		d->mc_status_reqs++;
		if (!r->participants && frag_dec_state(&d->dec) == FRAG_DEC_DONE)
			return;
		if (d->lost_answers > 0) {
			d->lost_answers--;
			return;
		}
		dev_status_ans(d, &ans);
	}
	assert_true(T.n_answers < MAX_ANSWERS);
	a = &T.answers[T.n_answers++];
	memset(a, 0, sizeof(*a));
	a->dev = i;
	a->frag_index = r->frag_index;
	a->not_exist = ans.u.status_ans.session_not_exist;
	a->req = T.mc_status[r->frag_index & 3];
	a->received = ans.u.status_ans.nb_received;
	a->missing = ans.u.status_ans.missing_frag;
	a->due_ms = T.now_ms + 1000 + (int64_t)(i * 4000 % 15000);
}

/* Delivers the status answers due by now (in the order given; their delays only spread them),
 * and the delayed AppTimeReq of devices forced to resynchronise. */
void deliver_answers(struct engine *e)
{
	for (size_t i = 0; i < T.n_devs; i++) {
		struct sim_dev *d = &T.devs[i];

		if (d->time_req_ms != 0 && d->time_req_ms <= T.now_ms) {
			d->time_req_ms = 0;
			dev_app_time_req(e, d);
		}
	}
	while (T.next_answer < T.n_answers && T.answers[T.next_answer].due_ms <= T.now_ms) {
		struct status_answer *a = &T.answers[T.next_answer++];
		struct sim_dev *d = &T.devs[a->dev];
		struct frag_cmd ans;
		uint8_t out[16];
		size_t olen = 0;

		if (a->not_exist) {
			memset(&ans, 0, sizeof(ans));
			ans.type = FRAG_CMD_SESSION_STATUS_ANS;
			ans.u.status_ans.frag_index = (uint8_t)a->frag_index;
			ans.u.status_ans.session_not_exist = true;
		} else {
			dev_status_ans(d, &ans);
			/* Nothing reached it during the wait. */
			assert_int_equal(ans.u.status_ans.nb_received, a->received);
			assert_int_equal(ans.u.status_ans.missing_frag, a->missing);
		}
		assert_int_equal(frag_cmd_encode(&ans, d->ts004 >= 2 ? FRAG_V2 : FRAG_V1, out,
		                                 sizeof(out), &olen),
		                 FUOTA_OK);
		uplink(e, d, FRAG_PORT, out, olen);
	}
}

/* The first answer not delivered yet is due at (INT64_MAX: none). */
int64_t answer_due(void)
{
	int64_t due = T.next_answer < T.n_answers ? T.answers[T.next_answer].due_ms : INT64_MAX;

	for (size_t i = 0; i < T.n_devs; i++)
		if (T.devs[i].time_req_ms != 0 && T.devs[i].time_req_ms < due)
			due = T.devs[i].time_req_ms;
	return due;
}

/* What gateway frame i carries, decoded with the keys of a device of its group. */
void classify_frame(size_t i, const uint8_t *phy, size_t len)
{
	struct frame_info *fi = &T.frame_info[i];

	memset(fi, 0, sizeof(*fi));
	for (size_t k = 0; k < T.n_devs; k++) {
		const struct sim_dev *d = &T.devs[k];
		struct lw_frame f;
		uint32_t fcnt = 0;
		uint8_t clear[LW_PHY_MAX_LEN];
		size_t clen = 0, used = 0;
		struct frag_cmd cmd;

		if (!d->has_group || d->mc_addr != T.frame_addr[i])
			continue;
		assert_int_equal(lw_frame_open(phy, len, d->app_s_key, d->nwk_s_key,
		                               (uint16_t)(d->next_fcnt >> 16), &f, &fcnt, clear,
		                               sizeof(clear), &clen),
		                 FUOTA_OK);
		assert_int_equal(frag_cmd_decode(clear, clen, FRAG_V2, FRAG_DOWN, FRAG_SIZE, &cmd,
		                                 &used, NULL),
		                 FUOTA_OK);
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

/* A multicast frame reaches every device of the group in the gateway's range. */
void dev_multicast(struct engine *e, struct sim_dev *d, const uint8_t *phy, size_t len)
{
	struct lw_frame f;
	uint32_t fcnt = 0;
	uint8_t clear[LW_PHY_MAX_LEN];
	size_t clen = 0, used = 0;
	struct frag_cmd cmd;
	enum frag_dec_state st;

	/* Without McClass{B,C}SessionReq the device never opens a multicast window. */
	if (!d->has_group || !d->has_session || d->session_time == 0)
		return;
	/* The device opens the class C window at SessionTime by its own clock. */
	if ((int32_t)(dev_time_s(d) - d->session_time) < 0)
		return;
	/* Another group's frame (another job on the same gateway) is not for this device. */
	assert_int_equal(lw_frame_parse(phy, len, &f), FUOTA_OK);
	if (f.dev_addr != d->mc_addr)
		return;
	assert_int_equal(lw_frame_open(phy, len, d->app_s_key, d->nwk_s_key,
	                               (uint16_t)(d->next_fcnt >> 16), &f, &fcnt, clear,
	                               sizeof(clear), &clen),
	                 FUOTA_OK);
	assert_int_equal(f.dev_addr, d->mc_addr);
	assert_true(fcnt >= d->next_fcnt); /* never a replayed counter */
	d->next_fcnt = fcnt + 1;
	assert_int_equal(f.fport, FRAG_PORT);
	assert_int_equal(frag_cmd_decode(clear, clen, d->ts004 >= 2 ? FRAG_V2 : FRAG_V1, FRAG_DOWN,
	                                 d->setup.frag_size, &cmd, &used, NULL),
	                 FUOTA_OK);
	assert_int_equal(used, clen);
	if (cmd.type == FRAG_CMD_SESSION_STATUS_REQ) {
		dev_multicast_status(d, &cmd.u.status_req);
		return;
	}
	assert_int_equal(cmd.type, FRAG_CMD_DATA_FRAGMENT);
	/* IndexAndN bits 15..14: a fragment of another session is not for this device. */
	if (cmd.u.data_fragment.frag_index != d->setup.frag_index) {
		d->foreign++;
		return;
	}
	if (cmd.u.data_fragment.n <= 32 && (d->drop_mask >> (cmd.u.data_fragment.n - 1) & 1))
		return;
	d->frames++;
	/* LoRaMac-node updates its status only while the session is ongoing. */
	if (frag_dec_state(&d->dec) != FRAG_DEC_DONE && cmd.u.data_fragment.n > d->lmn_counter) {
		d->lmn_counter = cmd.u.data_fragment.n;
		d->lmn_uncoded += cmd.u.data_fragment.n <= d->setup.nb_frag;
	}
	assert_int_equal(frag_dec_process(&d->dec, cmd.u.data_fragment.n,
	                                  cmd.u.data_fragment.payload,
	                                  cmd.u.data_fragment.payload_len, &st),
	                 FUOTA_OK);
	if (st == FRAG_DEC_DONE && d->done_at == 0)
		d->done_at = T.n_fcnts;
	if (st == FRAG_DEC_DONE && d->ts004 >= 2 && !d->mic_ok) {
		uint8_t req[2];

		d->mic_ok = dev_mic_ok(d);
		req[0] = FRAG_CID_DATA_BLOCK_RECEIVED;
		/* bits 1..0 FragIndex, bit 2 MICError */
		req[1] = (uint8_t)((d->mic_ok ? 0x00 : 0x04) | d->setup.frag_index);
		if (d->lost_reports > 0) {
			d->lost_reports--;
		} else if (d->report_late) {
			memcpy(d->held_report, req, sizeof(req));
			d->holds_report = true;
		} else {
			uplink(e, d, FRAG_PORT, req, sizeof(req));
			d->reported_ms = T.now_ms;
		}
	}
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
	assert_int_equal(g.frequency, 869525000);
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
		for (size_t i = 0; i < T.n_devs; i++)
			if (T.devs[i].in_range_b == is_b)
				dev_multicast(e, &T.devs[i], g.phy, g.phy_len);
	}
	send_ack(e, &ack);
}

/* Delivers every message published so far (and those the answers cause). */
void pump(struct engine *e)
{
	while (T.next_msg < T.n_msgs) {
		struct msg m = T.msgs[T.next_msg++];
		char app[64], eui[17];

		if (sscanf(m.topic, "application/%63[^/]/device/%16[^/]/command/down", app, eui) ==
		    2) {
			struct cs_downlink dl;
			struct sim_dev *d = dev_by_eui(eui);

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
			if (dl.f_port == 200)
				dev_port200(e, d, dl.data, dl.data_len);
			else if (dl.f_port == 201)
				dev_port201(e, d, dl.data, dl.data_len);
			else if (dl.f_port == 202)
				dev_port202(e, d, dl.data, dl.data_len);
			else if (dl.f_port == FMP_FPORT)
				dev_port203(e, d, dl.data, dl.data_len);
			else
				fail_msg("downlink on port %u", dl.f_port);
		} else if (strstr(m.topic, "/gateway/") && strstr(m.topic, "/command/down")) {
			assert_true(strncmp(m.topic, "eu868/gateway/", 14) == 0);
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
}

/* ---- fixtures ------------------------------------------------------------------------------- */
