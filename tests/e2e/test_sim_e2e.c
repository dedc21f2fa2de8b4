/* fuota-sim's own end-to-end test: a real mosquitto (the e2e_broker fixture), fuota-sim as a child
 * process, and this program playing a minimal FUOTA server with fuota_mqtt and the protocol
 * libraries. It answers AppTimeReq, sends McGroupSetupReq, FragSessionSetupReq and
 * McClassCSessionReq as unicast downlinks, then the multicast frames (uncoded and parity
 * DataFragments built with lw_frame and the group keys) as gw.DownlinkFrame with GPS timing to
 * the gateways, answers v2 FragDataBlockReceivedReq, and finally checks fuota-sim's JSON report:
 * every honest device rebuilt and verified the image, the device with a wrong key failed for that
 * reason (MIC), lost frames were reported; and the gateways' acks (OK, TOO_LATE, COLLISION).
 * After the last frame it deletes every device's fragmentation session and multicast group, as
 * fuotad's cleanup does: fuota-sim --until-done exits once all are answered, before the session
 * would have ended.
 *
 * argv: FUOTA_SIM BROKER_ENV_FILE WORKDIR */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "fuota/clk.h"
#include "fuota/cs_msg.h"
#include "fuota/err.h"
#include "fuota/frag_cmd.h"
#include "fuota/frag_mic.h"
#include "fuota/frag_ref.h"
#include "fuota/lw_frame.h"
#include "fuota/lw_gps.h"
#include "fuota/mc.h"
#include "fuota/mc_keys.h"
#include "fuota/mqtt.h"

#define N_DEV       6
#define WRONG_KEY   2 /* index of the device provisioned with another key */
#define IMAGE_LEN   900
#define FRAG_SIZE   48
#define REDUNDANCY  20
#define SPACING_MS  200
#define APP_ID      "e2e-app"
#define GW_PREFIX   "eu868"
#define MC_FREQ_HZ  869525000u
#define MC_DR       5
#define ID_TOO_LATE 9001
#define ID_COLLIDE  9002

static const char *g_sim;
static char g_uri[128];
static char g_work[512];

struct dev {
	char eui[17];
	uint8_t key[16];
	bool lw11;
	int version;
	bool wrong_key;
	char gw[17];
	int state;  /* 0 group setup sent, 1 frag setup sent, 2 ready, 3 session sent, 4 answered,
	             * 5 deletes sent */
	bool rx_ok; /* an uplink came with the expected gateway and its GPS time */
	bool block_req;
	bool block_mic_error;
	bool frag_deleted; /* FragSessionDeleteAns for its session */
	bool mc_deleted;   /* McGroupDeleteAns for its group */
};

struct group {
	uint32_t mc_addr;
	uint8_t mc_key[16], app[16], nwk[16];
	uint8_t mic[4];
	int version;
	uint32_t fcnt;
};

struct server {
	struct mqtt_client *c;
	struct mqtt_queue *q;
	struct dev dev[N_DEV];
	struct group grp[3]; /* indexed by version */
	uint8_t image[((IMAGE_LEN + FRAG_SIZE - 1) / FRAG_SIZE) * FRAG_SIZE];
	uint32_t m;
	uint32_t padding;
	uint32_t acks[12];
	int ack_of_late, ack_of_collide;
	char gw_ids[2][17];
	uint32_t time_answers;
};

static int64_t gps_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t gps = 0;
	lw_gps_from_unix(ts.tv_sec, &gps);
	return gps * 1000 + ts.tv_nsec / 1000000;
}

static int read_uri(const char *env_file)
{
	FILE *f = fopen(env_file, "r");
	if (!f)
		return -1;
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "MQTT_URI=", 9) == 0)
			snprintf(g_uri, sizeof(g_uri), "%s", strtok(line + 9, "\r\n"));
	fclose(f);
	return g_uri[0] ? 0 : -1;
}

static void hex_decode(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void downlink(struct server *s, const struct dev *d, uint8_t port, const uint8_t *data,
                     size_t len)
{
	struct cs_downlink dl;
	memset(&dl, 0, sizeof(dl));
	snprintf(dl.dev_eui, sizeof(dl.dev_eui), "%s", d->eui);
	dl.f_port = port;
	memcpy(dl.data, data, len);
	dl.data_len = len;
	char *json = NULL;
	size_t jlen = 0;
	assert_int_equal(cs_downlink_to_json(&dl, &json, &jlen), FUOTA_OK);
	char topic[160];
	snprintf(topic, sizeof(topic), "application/%s/device/%s/command/down", APP_ID, d->eui);
	assert_int_equal(mqtt_publish(s->c, topic, json, jlen, 1), FUOTA_OK);
	free(json);
}

static void send_group_setup(struct server *s, struct dev *d)
{
	struct group *g = &s->grp[d->version];
	uint8_t rk[16], kek[16], buf[64];
	if (d->lw11)
		assert_int_equal(mc_root_key_from_app_key(d->key, rk), FUOTA_OK);
	else
		assert_int_equal(mc_root_key_from_gen_app_key(d->key, rk), FUOTA_OK);
	assert_int_equal(mc_ke_key_from_root(rk, kek), FUOTA_OK);
	struct mc_cmd cmd = {.cid = MC_CID_GROUP_SETUP};
	cmd.u.setup_req.group_id = 0;
	cmd.u.setup_req.mc_addr = g->mc_addr;
	assert_int_equal(mc_key_encrypt(kek, g->mc_key, cmd.u.setup_req.mc_key_encrypted),
	                 FUOTA_OK);
	cmd.u.setup_req.min_fcnt = 0;
	cmd.u.setup_req.max_fcnt = 0xffffffffu;
	size_t len = 0;
	assert_int_equal(mc_encode(&cmd, buf, sizeof(buf), &len), FUOTA_OK);
	downlink(s, d, MC_FPORT, buf, len);
	d->state = 0;
}

static void send_frag_setup(struct server *s, struct dev *d)
{
	struct frag_cmd cmd = {.type = FRAG_CMD_SESSION_SETUP_REQ};
	struct frag_setup_req *r = &cmd.u.setup_req;
	r->frag_index = 0;
	r->mc_group_mask = 0x01;
	r->nb_frag = (uint16_t)s->m;
	r->frag_size = FRAG_SIZE;
	r->padding = (uint8_t)s->padding;
	memset(r->descriptor, 0, 4); /* the whole image (fuota/frag_part.h) */
	if (d->version == 2) {
		r->session_cnt = 1;
		r->ack_reception = true;
		/* The data-block MIC with the REGISTERED key: what the server knows. */
		uint8_t key[16];
		struct frag_mic_params p = {.session_cnt = 1, .frag_index = 0};
		memcpy(p.descriptor, r->descriptor, 4);
		assert_int_equal(frag_mic_key(d->key, key), FUOTA_OK);
		assert_int_equal(frag_mic_compute(key, &p, s->image, IMAGE_LEN, r->mic), FUOTA_OK);
	}
	uint8_t buf[32];
	size_t len = 0;
	assert_int_equal(
	        frag_cmd_encode(&cmd, d->version == 2 ? FRAG_V2 : FRAG_V1, buf, sizeof(buf), &len),
	        FUOTA_OK);
	downlink(s, d, FRAG_PORT, buf, len);
	d->state = 1;
}

static void send_session(struct server *s, struct dev *d, uint32_t session_time)
{
	struct mc_cmd cmd = {.cid = MC_CID_CLASS_C_SESSION};
	cmd.u.session_req.group_id = 0;
	cmd.u.session_req.session_time = session_time;
	cmd.u.session_req.timeout = 6; /* 64 s */
	cmd.u.session_req.dl_freq_hz = MC_FREQ_HZ;
	cmd.u.session_req.dr = MC_DR;
	uint8_t buf[16];
	size_t len = 0;
	assert_int_equal(mc_encode(&cmd, buf, sizeof(buf), &len), FUOTA_OK);
	downlink(s, d, MC_FPORT, buf, len);
	d->state = 3;
}

static void gw_frame(struct server *s, const char *gw, uint32_t id, const uint8_t *phy, size_t len,
                     int64_t at_gps_ms)
{
	struct cs_gw_downlink d;
	memset(&d, 0, sizeof(d));
	d.downlink_id = id;
	snprintf(d.gateway_id, sizeof(d.gateway_id), "%s", gw);
	memcpy(d.phy, phy, len);
	d.phy_len = len;
	d.frequency = MC_FREQ_HZ;
	d.power = 27;
	d.bandwidth = 125000;
	d.spreading_factor = 7; /* DR5 */
	d.polarization_inversion = 1;
	d.timing = CS_TIMING_GPS_EPOCH;
	d.timing_ns = at_gps_ms * 1000000;
	uint8_t *buf = NULL;
	size_t blen = 0;
	assert_int_equal(cs_gw_downlink_to_proto(&d, &buf, &blen), FUOTA_OK);
	char topic[128];
	snprintf(topic, sizeof(topic), "%s/gateway/%s/command/down", GW_PREFIX, gw);
	assert_int_equal(mqtt_publish(s->c, topic, buf, blen, 1), FUOTA_OK);
	free(buf);
}

/* DataFragment N of group g as a multicast PHYPayload. */
static size_t mc_frame(struct server *s, struct group *g, uint32_t n, uint8_t *phy)
{
	uint8_t payload[3 + FRAG_SIZE];
	payload[0] = FRAG_CID_DATA_FRAGMENT;
	payload[1] = (uint8_t)n;
	payload[2] = (uint8_t)((n >> 8) & 0x3f);
	if (n <= s->m) {
		memcpy(payload + 3, s->image + (n - 1) * FRAG_SIZE, FRAG_SIZE);
	} else {
		struct frag_code code = {.nb_frag = s->m,
		                         .version = g->version == 2 ? FRAG_V2 : FRAG_V1,
		                         .seed = FRAG_SEED_RELATIVE};
		uint64_t line[8];
		assert_int_equal(frag_ref_encode(&code, FRAG_SIZE, s->image, sizeof(s->image),
		                                 n - s->m, 1, payload + 3, line, 8),
		                 FUOTA_OK);
	}
	struct lw_frame_tx tx = {.mtype = LW_MTYPE_UNCONF_DATA_DOWN,
	                         .dev_addr = g->mc_addr,
	                         .fcnt = g->fcnt++,
	                         .has_fport = true,
	                         .fport = FRAG_PORT,
	                         .payload = payload,
	                         .payload_len = sizeof(payload)};
	size_t len = 0;
	assert_int_equal(lw_frame_build(&tx, g->app, g->nwk, phy, LW_PHY_MAX_LEN, &len), FUOTA_OK);
	return len;
}

/* Every frame of both groups, interleaved (v1 then v2), to both gateways, by GPS time. Returns
 * the time of the last one. */
static int64_t send_multicast(struct server *s, int64_t first_ms)
{
	uint32_t id = 1;
	int64_t t = first_ms;
	for (uint32_t n = 1; n <= s->m + REDUNDANCY; n++) {
		for (int v = 1; v <= 2; v++, t += SPACING_MS) {
			uint8_t phy[256];
			size_t len = mc_frame(s, &s->grp[v], n, phy);
			for (int g = 0; g < 2; g++)
				gw_frame(s, s->gw_ids[g], id++, phy, len, t);
			if (n == 1 && v == 1) {
				/* The same slot again on gateway 0: the gateway is busy then. */
				gw_frame(s, s->gw_ids[0], ID_COLLIDE, phy, len, t + 10);
				/* And a frame for a time already past. */
				gw_frame(s, s->gw_ids[1], ID_TOO_LATE, phy, len,
				         gps_now_ms() - 5000);
			}
		}
	}
	return t - SPACING_MS;
}

/* fuotad's cleanup step: FragSessionDeleteReq (FragIndex 0), then McGroupDeleteReq (group 0). */
static void send_deletes(struct server *s, struct dev *d)
{
	const uint8_t frag_del[] = {FRAG_CID_SESSION_DELETE, 0x00};
	const uint8_t mc_del[] = {MC_CID_GROUP_DELETE, 0x00};
	downlink(s, d, FRAG_PORT, frag_del, sizeof(frag_del));
	downlink(s, d, MC_FPORT, mc_del, sizeof(mc_del));
	d->state = 5;
}

static struct dev *find_dev(struct server *s, const char *eui)
{
	for (int i = 0; i < N_DEV; i++)
		if (strcmp(s->dev[i].eui, eui) == 0)
			return &s->dev[i];
	return NULL;
}

static void on_uplink(struct server *s, const struct mqtt_msg *m)
{
	struct cs_uplink *u = calloc(1, sizeof(*u));
	assert_non_null(u);
	char err[128];
	assert_int_equal(cs_uplink_from_json((const char *)m->payload, m->len, u, err, sizeof(err)),
	                 FUOTA_OK);
	struct dev *d = find_dev(s, u->dev_eui);
	assert_non_null(d);
	assert_true(u->n_rx >= 1);
	/* rx_info: the gateway that covers the device, with its GPS time. */
	if (u->n_rx == 1 && strcmp(u->rx[0].gateway_id, d->gw) == 0 &&
	    u->rx[0].time_since_gps_epoch.set && u->rx[0].ns_time.set)
		d->rx_ok = true;
	int64_t rx_gps_ms = u->rx[0].time_since_gps_epoch.sec * 1000 +
	                    u->rx[0].time_since_gps_epoch.nsec / 1000000;
	if (u->f_port == CLK_FPORT) {
		size_t pos = 0;
		struct clk_cmd req, ans;
		bool send = false;
		assert_int_equal(clk_decode(u->data, u->data_len, &pos, true, &req, NULL),
		                 FUOTA_OK);
		assert_int_equal(req.cid, CLK_CID_APP_TIME);
		assert_int_equal(clk_server_answer(&req, rx_gps_ms, &ans, &send), FUOTA_OK);
		uint8_t buf[8];
		pos = 0;
		assert_int_equal(clk_encode(&ans, buf, sizeof(buf), &pos), FUOTA_OK);
		if (send)
			downlink(s, d, CLK_FPORT, buf, pos);
		s->time_answers++;
	} else if (u->f_port == MC_FPORT) {
		size_t pos = 0;
		struct mc_cmd ans;
		while (pos < u->data_len) {
			assert_int_equal(
			        mc_decode(u->data, u->data_len, &pos, true, d->version, &ans, NULL),
			        FUOTA_OK);
			if (ans.cid == MC_CID_GROUP_SETUP) {
				assert_false(ans.u.setup_ans.id_error);
				if (d->state == 0)
					send_frag_setup(s, d);
			} else if (ans.cid == MC_CID_CLASS_C_SESSION) {
				assert_false(ans.u.session_ans.start_missed);
				assert_false(ans.u.session_ans.group_undefined);
				d->state = 4;
			} else if (ans.cid == MC_CID_GROUP_DELETE) {
				assert_int_equal(ans.u.delete_ans.group_id, 0);
				assert_false(ans.u.delete_ans.group_undefined);
				d->mc_deleted = true;
			}
		}
	} else if (u->f_port == FRAG_PORT) {
		struct frag_cmd_iter it;
		struct frag_cmd ans;
		frag_cmd_iter_init(&it, u->data, u->data_len, d->version == 2 ? FRAG_V2 : FRAG_V1,
		                   FRAG_UP, 0);
		while (frag_cmd_iter_more(&it)) {
			assert_int_equal(frag_cmd_iter_next(&it, &ans), FUOTA_OK);
			if (ans.type == FRAG_CMD_SESSION_SETUP_ANS) {
				assert_false(ans.u.setup_ans.not_enough_memory);
				assert_false(ans.u.setup_ans.session_cnt_replay);
				if (d->state == 1)
					d->state = 2;
			} else if (ans.type == FRAG_CMD_DATA_BLOCK_RECEIVED_REQ) {
				d->block_req = true;
				d->block_mic_error = ans.u.block_received_req.mic_error;
				const uint8_t ack[] = {0x04, 0x00};
				downlink(s, d, FRAG_PORT, ack, sizeof(ack));
			} else if (ans.type == FRAG_CMD_SESSION_DELETE_ANS) {
				assert_int_equal(ans.u.delete_ans.frag_index, 0);
				assert_false(ans.u.delete_ans.session_not_exist);
				d->frag_deleted = true;
			}
		}
	}
	free(u);
}

static void on_ack(struct server *s, const struct mqtt_msg *m)
{
	struct cs_gw_ack a;
	char err[128];
	assert_int_equal(cs_gw_ack_from_proto(m->payload, m->len, &a, err, sizeof(err)), FUOTA_OK);
	if (a.status < 12)
		s->acks[a.status]++;
	if (a.downlink_id == ID_TOO_LATE)
		s->ack_of_late = (int)a.status;
	if (a.downlink_id == ID_COLLIDE)
		s->ack_of_collide = (int)a.status;
}

static void load_fleet(struct server *s, const char *path)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	json_t *devs = json_object_get(root, "devices");
	json_t *sims = json_object_get(root, "sim");
	assert_int_equal(json_array_size(devs), N_DEV);
	for (int i = 0; i < N_DEV; i++) {
		json_t *d = json_array_get(devs, (size_t)i);
		json_t *x = json_array_get(sims, (size_t)i);
		struct dev *v = &s->dev[i];
		snprintf(v->eui, sizeof(v->eui), "%s",
		         json_string_value(json_object_get(d, "dev_eui")));
		v->lw11 = strcmp(json_string_value(json_object_get(d, "lorawan_version")),
		                 "1.1.0") == 0;
		const char *key =
		        json_string_value(json_object_get(d, v->lw11 ? "app_key" : "gen_app_key"));
		assert_non_null(key);
		hex_decode(key, v->key, 16);
		v->version = (int)json_integer_value(
		        json_object_get(json_object_get(d, "packages"), "ts004"));
		assert_true(v->version == 1 || v->version == 2);
		json_t *mb = json_object_get(x, "misbehave");
		v->wrong_key = json_array_size(mb) == 1 &&
		               strcmp(json_string_value(json_array_get(mb, 0)), "wrong-key") == 0;
		snprintf(v->gw, sizeof(v->gw), "%s",
		         json_string_value(json_array_get(json_object_get(x, "gateways"), 0)));
	}
	json_t *gws = json_object_get(root, "gateways");
	assert_int_equal(json_array_size(gws), 2);
	for (int g = 0; g < 2; g++)
		snprintf(s->gw_ids[g], sizeof(s->gw_ids[g]), "%s",
		         json_string_value(
		                 json_object_get(json_array_get(gws, (size_t)g), "gateway_id")));
	json_decref(root);
}

static pid_t start_sim(const char *fleet, const char *report, const char *image)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char client_id[64];
		snprintf(client_id, sizeof(client_id), "e2e-sim-%d", (int)getppid());
		execl(g_sim, g_sim, "--mqtt", g_uri, "--client-id", client_id, "--devices", "6",
		      "--gateways", "2", "--coverage", "1", "--uplink-period", "1", "--v2-fraction",
		      "0.5", "--lorawan11-fraction", "0.3", "--seed", "15", "--loss", "0.05:0.2",
		      "--clock-offset", "20", "--misbehave", "wrong-key@2", "--image", image,
		      "--app-id", APP_ID, "--fleet-out", fleet, "--report", report, "--until-done",
		      "--timeout", "150", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void test_campaign(void **state)
{
	(void)state;
	static struct server srv;
	struct server *s = &srv;
	memset(s, 0, sizeof(*s));
	char fleet[600], report[600], image_path[600];
	snprintf(fleet, sizeof(fleet), "%s/fleet.json", g_work);
	snprintf(report, sizeof(report), "%s/report.json", g_work);
	snprintf(image_path, sizeof(image_path), "%s/image.bin", g_work);
	unlink(fleet);
	unlink(report);

	/* The image, and its fragments (the last one padded). */
	assert_int_equal(RAND_bytes(s->image, IMAGE_LEN), 1);
	s->m = (IMAGE_LEN + FRAG_SIZE - 1) / FRAG_SIZE;
	s->padding = s->m * FRAG_SIZE - IMAGE_LEN;
	FILE *f = fopen(image_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(s->image, 1, IMAGE_LEN, f), IMAGE_LEN);
	fclose(f);

	/* One multicast group per package version (their parity codes differ). */
	for (int v = 1; v <= 2; v++) {
		struct group *g = &s->grp[v];
		g->version = v;
		g->mc_addr = 0x01abcd00u + (uint32_t)v;
		assert_int_equal(RAND_bytes(g->mc_key, 16), 1);
		assert_int_equal(mc_session_keys(g->mc_key, g->mc_addr, g->app, g->nwk), FUOTA_OK);
	}

	assert_int_equal(mqtt_queue_create(0, &s->q), FUOTA_OK);
	assert_int_equal(mqtt_paho_create(&s->c), FUOTA_OK);
	char id[64];
	snprintf(id, sizeof(id), "e2e-server-%d", (int)getpid());
	struct mqtt_options o = {.client_id = id, .clean_session = true};
	assert_int_equal(mqtt_connect(s->c, g_uri, &o), FUOTA_OK);
	assert_int_equal(mqtt_subscribe(s->c, "application/" APP_ID "/device/+/event/up", 1,
	                                mqtt_queue_on_message, s->q),
	                 FUOTA_OK);
	assert_int_equal(mqtt_subscribe(s->c, GW_PREFIX "/gateway/+/event/ack", 1,
	                                mqtt_queue_on_message, s->q),
	                 FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(s->c, 10000), FUOTA_OK);

	pid_t sim = start_sim(fleet, report, image_path);
	struct stat st;
	for (int i = 0; i < 300 && stat(fleet, &st) != 0; i++)
		usleep(100000);
	assert_int_equal(stat(fleet, &st), 0);
	load_fleet(s, fleet);
	assert_true(s->dev[WRONG_KEY].wrong_key);
	/* The seed gives honest devices of both TS004 versions and both LoRaWAN versions. */
	int mix = 0;
	for (int i = 0; i < N_DEV; i++)
		if (i != WRONG_KEY)
			mix |= (s->dev[i].version == 1 ? 1 : 2) | (s->dev[i].lw11 ? 4 : 8);
	assert_int_equal(mix, 15);
	for (int i = 0; i < N_DEV; i++)
		send_group_setup(s, &s->dev[i]);

	int64_t t0 = gps_now_ms(), last_frame_ms = 0, session_end_ms = 0;
	bool session_sent = false;
	int status = -1;
	while (gps_now_ms() - t0 < 140000) {
		struct mqtt_msg *m = NULL;
		if (mqtt_queue_pop(s->q, 50, &m) == FUOTA_OK) {
			if (mqtt_topic_match("application/+/device/+/event/up", m->topic))
				on_uplink(s, m);
			else
				on_ack(s, m);
			mqtt_msg_free(m);
		}
		if (!session_sent) {
			bool ready = true;
			for (int i = 0; i < N_DEV; i++)
				ready = ready && s->dev[i].state >= 2;
			if (ready) {
				/* Every device gets the session request within a few uplinks (1 s).
				 */
				int64_t now = gps_now_ms();
				uint32_t session_time = (uint32_t)(now / 1000 + 8);
				for (int i = 0; i < N_DEV; i++)
					send_session(s, &s->dev[i], session_time);
				last_frame_ms =
				        send_multicast(s, (int64_t)session_time * 1000 + 1500);
				session_end_ms = ((int64_t)session_time + 64) * 1000;
				session_sent = true;
			}
		}
		/* The cleanup, 3 s after the last frame; for an honest v2 device once it sent
		 * FragDataBlockReceivedReq (within BlockAckDelay 0's 16 s), which a delete would
		 * stop. */
		for (int i = 0; session_sent && gps_now_ms() > last_frame_ms + 3000 && i < N_DEV;
		     i++) {
			struct dev *d = &s->dev[i];
			if (d->state == 4 && (d->version == 1 || d->wrong_key || d->block_req))
				send_deletes(s, d);
		}
		if (waitpid(sim, &status, WNOHANG) == sim)
			break;
		status = -1;
	}
	if (status == -1) {
		kill(sim, SIGTERM);
		waitpid(sim, &status, 0);
		fail_msg("fuota-sim did not finish (--until-done)");
	}
	int64_t exit_ms = gps_now_ms();
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(session_sent);
	/* Finished by the deletes, not by the end of the session and the grace after it. */
	assert_true(exit_ms < session_end_ms);

	/* What the server saw. */
	assert_true(s->time_answers >= N_DEV);
	for (int i = 0; i < N_DEV; i++) {
		struct dev *d = &s->dev[i];
		assert_true(d->rx_ok);
		assert_int_equal(d->state, 5);
		assert_true(d->frag_deleted && d->mc_deleted); /* answered before the sim left */
		if (d->version == 2 && !d->wrong_key) {
			assert_true(d->block_req);
			assert_false(d->block_mic_error);
		}
	}
	assert_int_equal(s->ack_of_late, CS_ACK_TOO_LATE);
	assert_int_equal(s->ack_of_collide, CS_ACK_COLLISION_PACKET);
	assert_int_equal(s->acks[CS_ACK_OK], 2 * 2 * (s->m + REDUNDANCY));

	/* What fuota-sim reports. */
	json_error_t jerr;
	json_t *root = json_load_file(report, 0, &jerr);
	assert_non_null(root);
	json_t *sum = json_object_get(root, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum, "devices")), N_DEV);
	assert_int_equal(json_integer_value(json_object_get(sum, "in_campaign")), N_DEV);
	assert_int_equal(json_integer_value(json_object_get(sum, "finished")), N_DEV);
	assert_int_equal(json_integer_value(json_object_get(sum, "verified")), N_DEV - 1);
	json_t *devs = json_object_get(root, "devices");
	int lost_total = 0;
	for (int i = 0; i < N_DEV; i++) {
		json_t *d = json_array_get(devs, (size_t)i);
		json_t *frames = json_object_get(d, "frames");
		lost_total += (int)json_integer_value(json_object_get(frames, "lost"));
		/* a whole image (all-zero Descriptor): no parts */
		json_t *parts = json_object_get(d, "parts");
		assert_true(json_is_integer(json_object_get(parts, "expected")));
		assert_int_equal(json_integer_value(json_object_get(parts, "expected")), 0);
		assert_int_equal(json_integer_value(json_object_get(parts, "received")), 0);
		assert_true(json_is_true(json_object_get(d, "in_campaign")));
		assert_true(json_is_true(json_object_get(d, "finished")));
		if (i == WRONG_KEY) {
			assert_false(json_is_true(json_object_get(d, "decoded")));
			assert_true(json_is_true(json_object_get(d, "failed")));
			assert_true(json_integer_value(json_object_get(frames, "mic_failures")) >
			            0);
			json_t *reason = json_object_get(
			        json_array_get(json_object_get(d, "failures"), 0), "reason");
			assert_non_null(strstr(json_string_value(reason), "MIC"));
			continue;
		}
		assert_true(json_is_true(json_object_get(d, "decoded")));
		assert_true(json_is_true(json_object_get(d, "verified")));
		assert_true(json_is_true(json_object_get(d, "sha256_ok")));
		assert_false(json_is_true(json_object_get(d, "failed")));
		assert_int_equal(json_integer_value(json_object_get(frames, "mic_failures")), 0);
		if (s->dev[i].version == 2)
			assert_true(json_is_true(json_object_get(d, "mic_ok")));
		else
			assert_true(json_is_null(json_object_get(d, "mic_ok")));
	}
	assert_true(lost_total > 0); /* 5-20 % loss over ~80 frames per device */
	json_decref(root);
	mqtt_destroy(s->c);
	mqtt_queue_destroy(s->q);
}

/* The gateway answers of a second, small simulator: a GNSS gateway and one without, a 1 %
 * duty cycle over a 20 s window, protobuf uplinks. */
static void test_gateway_acks(void **state)
{
	(void)state;
	char fleet[600];
	snprintf(fleet, sizeof(fleet), "%s/fleet-gw.json", g_work);
	unlink(fleet);
	struct mqtt_queue *q = NULL;
	struct mqtt_client *c = NULL;
	assert_int_equal(mqtt_queue_create(0, &q), FUOTA_OK);
	assert_int_equal(mqtt_paho_create(&c), FUOTA_OK);
	char id[64];
	snprintf(id, sizeof(id), "e2e-gw-%d", (int)getpid());
	struct mqtt_options o = {.client_id = id, .clean_session = true};
	assert_int_equal(mqtt_connect(c, g_uri, &o), FUOTA_OK);
	assert_int_equal(
	        mqtt_subscribe(c, "gwtest/gateway/+/event/ack", 1, mqtt_queue_on_message, q),
	        FUOTA_OK);
	assert_int_equal(mqtt_subscribe(c, "application/gw-app/device/+/event/up", 1,
	                                mqtt_queue_on_message, q),
	                 FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(c, 10000), FUOTA_OK);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(g_sim, g_sim, "--mqtt", g_uri, "--devices", "2", "--gateways", "2",
		      "--gnss-fraction", "0.5", "--gw-prefix", "gwtest", "--app-id", "gw-app",
		      "--proto", "--uplink-period", "0.5", "--gw-duty-cycle", "1", "--duty-window",
		      "20", "--max-ahead", "60", "--fleet-out", fleet, "--timeout", "60",
		      (char *)NULL);
		_exit(127);
	}
	struct stat st;
	for (int i = 0; i < 300 && stat(fleet, &st) != 0; i++)
		usleep(100000);
	assert_int_equal(stat(fleet, &st), 0);
	const char *gnss = "0016c001ff000000", *plain = "0016c001ff000001";

	/* 1 % of a 20 s window is 200 ms of air per gateway: a 51-byte frame at SF7 (about 100 ms)
	 * fits, one at SF12 (about 2.5 s) never does. */
	uint8_t phy[64];
	memset(phy, 0x60, sizeof(phy));
	struct {
		const char *gw;
		uint32_t id;
		enum cs_timing timing;
		int64_t at_ms; /* relative to now, for GPS timing */
		uint32_t sf;   /* 0: FSK 50 kbit/s */
		int want;      /* a TxAckStatus, or -1: no ack */
	} cases[] = {
	        {gnss, 1, CS_TIMING_GPS_EPOCH, 3000, 7, CS_ACK_OK},
	        {gnss, 2, CS_TIMING_GPS_EPOCH, 3050, 7, CS_ACK_COLLISION_PACKET},
	        {gnss, 3, CS_TIMING_GPS_EPOCH, 5000, 12, CS_ACK_DUTY_CYCLE_OVERFLOW},
	        {gnss, 4, CS_TIMING_GPS_EPOCH, 120000, 7, CS_ACK_TOO_EARLY},
	        {gnss, 5, CS_TIMING_GPS_EPOCH, -1000, 7, CS_ACK_TOO_LATE},
	        {plain, 6, CS_TIMING_GPS_EPOCH, 3000, 7, CS_ACK_GPS_UNLOCKED},
	        {plain, 7, CS_TIMING_IMMEDIATELY, 0, 7, CS_ACK_OK},
	        {plain, 8, CS_TIMING_IMMEDIATELY, 0, 7, CS_ACK_TOO_EARLY}, /* still on air */
	        /* FSK (EU868 DR7) without a frequency deviation: never sent, never acked, as a
	         * packet forwarder aborts it; the same with one (sent after it, on the same
	         * topic, so its ack tells the first was handled). */
	        {gnss, 10, CS_TIMING_GPS_EPOCH, 8000, 0, -1},
	        {gnss, 9, CS_TIMING_GPS_EPOCH, 8000, 0, CS_ACK_OK},
	};
	int64_t now = gps_now_ms();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cs_gw_downlink d;
		memset(&d, 0, sizeof(d));
		d.downlink_id = cases[i].id;
		snprintf(d.gateway_id, sizeof(d.gateway_id), "%s", cases[i].gw);
		memcpy(d.phy, phy, 51);
		d.phy_len = 51;
		d.frequency = MC_FREQ_HZ;
		d.bandwidth = cases[i].sf ? 125000 : 0;
		d.spreading_factor = cases[i].sf;
		d.fsk = cases[i].sf == 0;
		d.fsk_datarate = d.fsk ? 50000 : 0;
		d.fsk_fdev = cases[i].id == 9 ? 25000 : 0;
		d.timing = cases[i].timing;
		d.timing_ns = (now + cases[i].at_ms) * 1000000;
		uint8_t *buf = NULL;
		size_t len = 0;
		assert_int_equal(cs_gw_downlink_to_proto(&d, &buf, &len), FUOTA_OK);
		char topic[128];
		snprintf(topic, sizeof(topic), "gwtest/gateway/%s/command/down", cases[i].gw);
		assert_int_equal(mqtt_publish(c, topic, buf, len, 1), FUOTA_OK);
		free(buf);
	}
	int got[16];
	for (int i = 0; i < 16; i++)
		got[i] = -1;
	unsigned acks = 0, proto_uplinks = 0;
	int64_t t0 = gps_now_ms();
	while ((acks < 9 || proto_uplinks < 2) && gps_now_ms() - t0 < 15000) {
		struct mqtt_msg *m = NULL;
		if (mqtt_queue_pop(q, 100, &m) != FUOTA_OK)
			continue;
		char err[128];
		if (strstr(m->topic, "/event/ack")) {
			struct cs_gw_ack a;
			assert_int_equal(
			        cs_gw_ack_from_proto(m->payload, m->len, &a, err, sizeof(err)),
			        FUOTA_OK);
			assert_true(a.downlink_id >= 1 && a.downlink_id <= 10);
			got[a.downlink_id] = (int)a.status;
			acks++;
		} else {
			/* --proto: binary integration.UplinkEvent, with the GNSS time only from the
			 * gateway that has GNSS. */
			struct cs_uplink *u = calloc(1, sizeof(*u));
			assert_non_null(u);
			assert_int_equal(
			        cs_uplink_from_proto(m->payload, m->len, u, err, sizeof(err)),
			        FUOTA_OK);
			assert_int_equal(u->n_rx, 1);
			assert_int_equal(u->rx[0].time_since_gps_epoch.set,
			                 strcmp(u->rx[0].gateway_id, gnss) == 0);
			proto_uplinks++;
			free(u);
		}
		mqtt_msg_free(m);
	}
	kill(pid, SIGTERM);
	int status = 0;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(proto_uplinks >= 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (got[cases[i].id] != cases[i].want)
			fail_msg("downlink %u: ack %d, expected %d", cases[i].id, got[cases[i].id],
			         cases[i].want);
	mqtt_destroy(c);
	mqtt_queue_destroy(q);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s FUOTA_SIM BROKER_ENV WORKDIR\n", argv[0]);
		return 2;
	}
	g_sim = argv[1];
	if (read_uri(argv[2]) != 0) {
		fprintf(stderr, "no MQTT_URI in %s (is the e2e_broker fixture running?)\n",
		        argv[2]);
		return 1;
	}
	snprintf(g_work, sizeof(g_work), "%s", argv[3]);
	mkdir(g_work, 0755);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gateway_acks),
	        cmocka_unit_test(test_campaign),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
