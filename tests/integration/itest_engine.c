/* The job engine against a real PostgreSQL, with a fake clock, a fake outbound sink and
 * simulated devices that answer with the protocol libraries (clocksync/, multicast/,
 * fragmentation/ frag_cmd + frag_dec, lorawan/ lw_frame): every message fuotad publishes is
 * decoded as a device or a gateway would, every answer is a hand-made uplink.
 *
 *   class C v1 job, no loss        every device rebuilds the exact image; FCnts strictly increase
 *   loss + parity + a refusal      a device that loses frames rebuilds them from parity rows; a
 *                                  frame a gateway refuses goes out again with a new FCnt
 *   a silent device                fails with its reason, the others complete
 *   restart mid-transmission       a second engine (the first one's lease expires) finishes the
 *                                  job; no FCnt is reused
 *   clock sync                     AppTimeReq of a device in no job is answered; a device whose
 *                                  clock is off is resynchronised before its session starts
 *   v2 device                      FragSessionSetupReq v2 with SessionCnt and a MIC the device
 *                                  checks over the rebuilt image; SessionCnt grows across jobs
 *   cancel                         a cancelled job stops and deletes the groups it set up
 *   mixed TS004 v1 and v2          one fragmentation session per version on the one group
 *                                  (own FragIndex, one FCnt sequence): every device rebuilds
 *                                  the exact image; adaptive redundancy stops each session on
 *                                  its own; a restart in the middle continues both sessions
 *   adaptive rounds                parity in batches; after each one multicast
 *                                  FragSessionStatusReq (Participants = 0) that only devices
 *                                  still missing fragments answer, a wait, and the next batch
 *                                  the answers call for (checked frame by frame against
 *                                  engine_round_next over the answers the devices gave);
 *                                  v1, v2 and mixed jobs; an engine restarted in the wait, a job
 *                                  paused or cancelled in it; stream mode sends parity back to
 *                                  back
 *
 *   tenants                        the gateways that heard a device are stored under the
 *                                  tenant holding its DevEUI; a DevEUI changing hands starts
 *                                  with none of its former holder's
 *   another application           an uplink of the same DevEUI under another application
 *                                  answers nothing of the job's device
 *   stale session answers          a StartMissed to the request before the start moved, and
 *                                  an answer the broker kept while fuotad was dead, move
 *                                  nothing: the device meets the moved start
 *   crash in the session phase     the engine dies right after fixing the session time and
 *                                  comes back after it: the start moves, every device updated
 *   resync before the session      a device that sends its AppTimeReq 8 s after
 *                                  ForceDeviceResyncReq (LoRa Basics Modem) is asked again only
 *                                  after it, and meets the session
 *   a frame without ack            sent again (new FCnt) after the ack timeout
 *   instance restart               fuotad killed with SIGKILL and restarted with the same
 *                                  configuration renews its own lease at once; a second fuotad
 *                                  with a running one's instance id is refused
 *   instance lock lost             the session holding fuotad A's instance lock ends and another
 *                                  takes the id: A stops sending at once and exits with an
 *                                  error; B with that id finishes the job, no FCnt twice
 *
 *   end to end                     fuotad's engine on the broker, the job made through the REST
 *                                  API, devices and gateway answering over MQTT
 *   database outage               PostgreSQL cut between fuotad's McGroupSetupReq and the
 *                                  devices' answers: every answer is kept, handled once it is
 *                                  back, and nobody is asked twice
 *   a JSON gateway                 the same with gateway B speaking JSON (its stats and acks):
 *                                  its DownlinkFrames come in JSON, gateway A's in protobuf, and
 *                                  the REST gateway list shows each one's encoding
 *
 * usage: itest_engine FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "fuota/bytes.h"
#include "fuota/cbox.h"
#include "fuota/clk.h"
#include "fuota/cs_msg.h"
#include "fuota/engine.h"
#include "fuota/engine_calc.h"
#include "fuota/err.h"
#include "fuota/fmp.h"
#include "fuota/frag_cmd.h"
#include "fuota/frag_dec.h"
#include "fuota/lw_frame.h"
#include "fuota/lw_gps.h"
#include "fuota/mc.h"
#include "fuota/mc_keys.h"
#include "fuota/mc_session.h"
#include "fuota/mqtt.h"
#include "fuota/plan.h"
#include "fuota/store.h"
#include "itest.h"

#define MAX_DEVS  4096
#define MAX_FCNT  4096
#define GW_A      "a0a0a0a0a0a0a0a1"
#define GW_B      "b0b0b0b0b0b0b0b2"
#define APP_ID    "app-1"
#define FW_SIZE   1000
#define FRAG_SIZE 50

/* The master key fuotad gets from itest_fuotad_start (TEST_MASTER_KEY of itest.c), so that the
 * key boxes this test seals open in fuotad too. */
static const uint8_t master_key[32] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                       0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
                                       0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                       0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

struct sim_dev {
	char eui[17];
	uint8_t key[16];         /* GenAppKey */
	int ts004;               /* TS004 version the device speaks */
	bool mute;               /* never answers */
	bool in_range_b;         /* heard (and served) by gateway B instead of A */
	uint32_t drop_mask;      /* DataFragment N (1..32) in the mask are lost */
	int64_t clock_offset_ms; /* device GPS clock - true GPS */
	struct clk_dev clk;
	/* TS005 */
	bool has_group;
	uint32_t mc_addr;
	uint8_t app_s_key[16], nwk_s_key[16];
	uint32_t next_fcnt; /* lowest FCnt still acceptable */
	uint32_t session_time;
	uint8_t session_timeout; /* TimeOut of McClassX SessionReq */
	/* TS004 */
	bool has_session;
	struct frag_setup_req setup;
	struct frag_dec dec;
	void *mem;
	bool mic_ok;
	uint16_t last_cnt; /* v2: the last SessionCnt accepted */
	unsigned frames, deletes, resyncs, time_answers;
	unsigned setup_reqs;  /* McGroupSetupReq received */
	unsigned foreign;     /* DataFragments of another session (FragIndex), ignored */
	unsigned status_reqs; /* FragSessionStatusReq received */
	int delete_index;     /* FragIndex of the last FragSessionDeleteReq (-1: none) */
	/* Adaptive rounds: multicast FragSessionStatusReq of its session, and of another one. */
	unsigned mc_status_reqs, mc_status_other;
	size_t done_at;        /* gateway frames seen when its decoder finished (0: not yet) */
	unsigned lost_reports; /* v2: its next FragDataBlockReceivedReq are lost on the air */
	bool bad_mic;          /* v2: its rebuilt image fails the data-block MIC check */
	/* TS006: answers DevUpgradeImageReq (Valid once its decoder rebuilt the image, else
	 * NoFirmwarePresent); upgrade_reqs counts the requests it got. */
	bool ts006;
	unsigned upgrade_reqs;
	unsigned block_acks;   /* FragDataBlockReceivedAns received */
	int64_t reported_ms;   /* v2: when its FragDataBlockReceivedReq reached fuotad (0: not) */
	unsigned lost_answers; /* its next answers to a multicast status request are lost */
	/* How it answers FragSessionStatusReq (issue 16): as TS004 reads it, as LoRaMac-node's
	 * FragDecoder (the last counter seen, the uncoded fragments lost so far), or as LoRa
	 * Basics Modem after a lossless session (MissingFrag stays 1). */
	enum { ANS_TS004, ANS_LORAMAC_NODE, ANS_LBM } answers_as;
	uint32_t lmn_counter, lmn_uncoded; /* LoRaMac-node: its counter, uncoded frames taken */
	/* v2: its FragDataBlockReceivedReq reaches fuotad only after the session, just before its
	 * answer to the unicast FragSessionStatusReq (BlockAckDelay and class A timing). */
	uint32_t max_frags; /* refuses a longer session with NotEnoughMemory (0: no limit) */
	bool report_late;
	bool report_after_status; /* with report_late: after that answer rather than before */
	uint8_t held_report[2];
	bool holds_report;
	/* After ForceDeviceResyncReq its AppTimeReq leaves this much later (LoRa Basics Modem
	 * waits at least 6 s); 0: at once. time_req_ms: when the one waiting leaves (0: none). */
	int64_t resync_delay_ms, time_req_ms;
	/* Its TS005 downlinks are kept, not received (the first one in held_dl), to be delivered
	 * late by the test. */
	bool hold_down;
	uint8_t held_dl[64];
	size_t held_dl_len;
};

/* What a gateway frame carried (decoded with the group's keys as a device would). */
enum frame_kind { FRAME_OTHER, FRAME_DATA, FRAME_STATUS };
struct frame_info {
	enum frame_kind kind;
	int frag_index;
	uint32_t n;        /* DataFragment N */
	bool participants; /* FragSessionStatusReq: Participants bit */
};

/* A FragSessionStatusAns a device gave to the multicast request number `req` (1, 2, ...) of its
 * session, and when it reaches fuotad: a device answers after a delay within
 * 2^(BlockAckDelay + 4) s (TS004), in its next class A uplink. */
struct status_answer {
	size_t dev;
	int frag_index; /* the session asked about */
	bool not_exist; /* SessionDoesNotExist (a v2 device asked about another session) */
	unsigned req;
	uint32_t received, missing;
	int64_t due_ms;
};
#define MAX_ANSWERS 256

struct msg {
	const char *from; /* the publishing engine's tag */
	char topic[256];
	uint8_t *data;
	size_t len;
};

static struct {
	struct itest_env env;
	char dsn[512];
	struct store *store;
	int64_t now_ms;
	struct msg *msgs;
	size_t n_msgs, cap_msgs, next_msg;
	struct sim_dev devs[MAX_DEVS];
	size_t n_devs;
	uint32_t fcnts[MAX_FCNT];
	uint32_t frame_addr[MAX_FCNT];    /* McAddr of each gateway frame */
	const char *frame_from[MAX_FCNT]; /* which engine published it */
	int64_t frame_ms[MAX_FCNT];       /* when it reached the gateway */
	size_t n_fcnts;
	unsigned refuse_every, acks; /* refuse every k-th gateway frame (0: never) */
	unsigned vanish_at;          /* the gateway frame number k (1, 2, ...) never arrives: no
	                              * ack, not on air (lost on its way; 0: none) */
	unsigned refused;
	unsigned events_state, events_device, events_progress;
	int64_t watch_job;      /* state events of this job are counted apart (0: none) */
	unsigned watch_states;  /* how many */
	char watch_last_to[16]; /* the last one's "to" */
	json_t *last_progress;  /* the last progress event */
	bool class_b, gps_timing;
	bool adaptive_stream; /* adaptive parity back to back (else in rounds) */
	unsigned class_b_frames;
	int64_t last_gps_at_ms[2]; /* GPS time of the last class C frame booked per gateway */
	uint8_t firmware[FW_SIZE];
	int64_t firmware_id;
	int db_seq;
	/* End-to-end mode: fuotad runs the engine, the devices talk to it through the broker. */
	struct mqtt_client *mqtt;
	struct mqtt_queue *mq;
	struct itest_fuotad fd; /* running when fd.pid > 0 */
	bool gw_b_json;         /* gateway B speaks JSON (end-to-end mode) */
	unsigned gw_frames[2], gw_json_frames;
	/* Adaptive rounds. */
	struct frame_info frame_info[MAX_FCNT];
	unsigned mc_status[4]; /* multicast status requests seen per FragIndex */
	struct status_answer answers[MAX_ANSWERS];
	size_t n_answers, next_answer; /* answers[next_answer..] not delivered yet */
	size_t stop_after_answers;     /* run() returns once that many were delivered (0: no) */
	unsigned unicast_timeout_s;    /* of the jobs the rounds are checked for (5) */
	int tx_power_dbm; /* the jobs' tx_power_dbm (0: none, the frames carry 29 dBm) */
	/* Uplinks kept at the network server (their time set), not given to fuotad: read late
	 * by the test (feed_held). */
	bool hold_uplinks;
	struct cs_uplink held[8];
	size_t n_held;
} T;

static const char *argv_bin, *argv_env, *argv_dir;

/* ---- fakes ---------------------------------------------------------------------------------- */

static int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return T.now_ms;
}

static int fake_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len)
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

static void msgs_clear(void)
{
	for (size_t i = 0; i < T.n_msgs; i++)
		free(T.msgs[i].data);
	T.n_msgs = T.next_msg = 0;
}

static int64_t true_gps_ms(void)
{
	int64_t gps_s = 0;

	assert_int_equal(lw_gps_from_unix(T.now_ms / 1000, &gps_s), FUOTA_OK);
	return gps_s * 1000 + T.now_ms % 1000;
}

static uint32_t dev_time_s(const struct sim_dev *d)
{
	return lw_gps_wrap32((true_gps_ms() + d->clock_offset_ms) / 1000);
}

/* ---- the simulated devices -------------------------------------------------------------- */

static struct sim_dev *dev_by_eui(const char *eui)
{
	for (size_t i = 0; i < T.n_devs; i++)
		if (strcmp(T.devs[i].eui, eui) == 0)
			return &T.devs[i];
	return NULL;
}

static void uplink(struct engine *e, const struct sim_dev *d, uint8_t port, const uint8_t *data,
                   size_t len)
{
	struct cs_uplink u;

	memset(&u, 0, sizeof(u));
	snprintf(u.dev_eui, sizeof(u.dev_eui), "%s", d->eui);
	snprintf(u.application_id, sizeof(u.application_id), APP_ID);
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

		snprintf(topic, sizeof(topic), "application/%s/device/%s/event/up", APP_ID, d->eui);
		assert_int_equal(cs_uplink_to_json(&u, &json, &n), FUOTA_OK);
		assert_int_equal(mqtt_publish(T.mqtt, topic, json, n, 1), FUOTA_OK);
		free(json);
		return;
	}
	assert_int_equal(engine_on_uplink(e, &u), FUOTA_OK);
}

static void send_ack(struct engine *e, const struct cs_gw_ack *a)
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

static void dev_app_time_req(struct engine *e, struct sim_dev *d)
{
	struct clk_cmd req;
	uint8_t buf[8];
	size_t pos = 0;

	clk_dev_app_time_req(&d->clk, dev_time_s(d), true, &req);
	assert_int_equal(clk_encode(&req, buf, sizeof(buf), &pos), FUOTA_OK);
	uplink(e, d, CLK_FPORT, buf, pos);
}

static void dev_port202(struct engine *e, struct sim_dev *d, const uint8_t *p, size_t len)
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
static void dev_port203(struct engine *e, struct sim_dev *d, const uint8_t *p, size_t len)
{
	uint8_t ans[6] = {FMP_CID_DEV_UPGRADE_IMAGE, FMP_IMAGE_NONE, 0x04, 0x03, 0x02, 0x01};
	bool valid = d->has_session && frag_dec_state(&d->dec) == FRAG_DEC_DONE;

	if (len < 1 || p[0] != FMP_CID_DEV_UPGRADE_IMAGE)
		fail_msg("port 203: unexpected command");
	d->upgrade_reqs++;
	if (!d->ts006)
		return;
	if (valid)
		ans[1] = FMP_IMAGE_VALID;
	uplink(e, d, FMP_FPORT, ans, valid ? 6 : 2);
}

static void dev_port200(struct engine *e, struct sim_dev *d, const uint8_t *p, size_t len)
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

static void dev_session_setup(struct sim_dev *d, const struct frag_setup_req *s)
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
static bool dev_mic_ok(const struct sim_dev *d)
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
static void dev_status_ans(const struct sim_dev *d, struct frag_cmd *ans)
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

static void dev_port201(struct engine *e, struct sim_dev *d, const uint8_t *p, size_t len)
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
static void dev_multicast_status(struct sim_dev *d, const struct frag_status_req *r)
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
static void deliver_answers(struct engine *e)
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
static int64_t answer_due(void)
{
	int64_t due = T.next_answer < T.n_answers ? T.answers[T.next_answer].due_ms : INT64_MAX;

	for (size_t i = 0; i < T.n_devs; i++)
		if (T.devs[i].time_req_ms != 0 && T.devs[i].time_req_ms < due)
			due = T.devs[i].time_req_ms;
	return due;
}

/* What gateway frame i carries, decoded with the keys of a device of its group. */
static void classify_frame(size_t i, const uint8_t *phy, size_t len)
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
static void dev_multicast(struct engine *e, struct sim_dev *d, const uint8_t *phy, size_t len)
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

static void on_gateway_frame(struct engine *e, const char *topic, const uint8_t *data, size_t len,
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
static void pump(struct engine *e)
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

static void add_dev(const char *eui, uint8_t key_byte, int ts004)
{
	struct sim_dev *d = &T.devs[T.n_devs++];
	struct store_device sd;
	uint8_t box[16 + CBOX_OVERHEAD];
	char aad[64], *json = NULL;
	int n;

	memset(d, 0, sizeof(*d));
	snprintf(d->eui, sizeof(d->eui), "%s", eui);
	for (int i = 0; i < 16; i++)
		d->key[i] = (uint8_t)(key_byte + i);
	d->ts004 = ts004;
	d->delete_index = -1;
	assert_int_equal(clk_dev_init(&d->clk, 1), FUOTA_OK);
	n = snprintf(aad, sizeof(aad), "device:1:%s", eui);
	assert_int_equal(cbox_seal(master_key, d->key, 16, (const uint8_t *)aad, (size_t)n, box,
	                           sizeof(box)),
	                 FUOTA_OK);
	memset(&sd, 0, sizeof(sd));
	snprintf(sd.dev_eui, sizeof(sd.dev_eui), "%s", eui);
	sd.application_id = APP_ID;
	sd.lorawan_version = "1.0.3";
	sd.dev_class = 'C';
	sd.region = "EU868";
	sd.key_kind = "gen_app_key";
	sd.key_box = box;
	sd.key_box_len = sizeof(box);
	assert_int_equal(store_device_create(T.store, 1, &sd, &json), FUOTA_OK);
	free(json);
}

static int64_t json_id(const char *json)
{
	json_t *j = json_loads(json, 0, NULL);
	int64_t id;

	assert_non_null(j);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

static int64_t add_job_ex(size_t first, size_t count, int redundancy, char mc_class,
                          int periodicity)
{
	struct job_params p;
	struct store_job_create jc;
	char bad[17], why[64], *json = NULL;
	char(*euis)[PLAN_DEVEUI_LEN + 1] = calloc(count, PLAN_DEVEUI_LEN + 1);
	int64_t id;

	assert_non_null(euis);
	for (size_t i = 0; i < count; i++)
		snprintf(euis[i], PLAN_DEVEUI_LEN + 1, "%s", T.devs[first + i].eui);
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "engine test");
	snprintf(p.region, sizeof(p.region), "EU868");
	p.firmware_id = T.firmware_id;
	p.data_rate = 5;
	p.frequency_hz = 869525000;
	p.fragment_size = FRAG_SIZE;
	p.redundancy_frames = redundancy;
	p.redundancy_percent = -1;
	p.unicast_timeout_s = 5;
	p.unicast_attempts = 3;
	p.multicast_class = mc_class;
	p.multicast_timeout_s = 0;
	p.ping_slot_periodicity = periodicity;
	p.n_devices = count;
	p.dev_euis = euis;
	jc.params = &p;
	jc.plan_json = "{}";
	jc.firmware_id = T.firmware_id;
	assert_int_equal(store_job_create(T.store, 1, &jc, &json, bad, why), FUOTA_OK);
	id = json_id(json);
	free(json);
	free(euis);
	return id;
}

static int64_t add_job(size_t first, size_t count, int redundancy)
{
	return add_job_ex(first, count, redundancy, 'C', -1);
}

/* The API's pause, resume or cancel of job. */
static void job_action(int64_t job, const char *action)
{
	char *json = NULL;

	assert_int_equal(store_job_action(T.store, 1, job, action, &json), FUOTA_OK);
	free(json);
}

/* A new database with the firmware and no device. */
static void fresh_db(void)
{
	char name[64], *json = NULL;
	int applied = 0;
	char err[256];

	store_close(T.store);
	T.store = NULL;
	msgs_clear();
	for (size_t i = 0; i < T.n_devs; i++)
		free(T.devs[i].mem);
	T.n_devs = 0;
	T.n_fcnts = 0;
	T.refuse_every = T.acks = T.refused = T.vanish_at = 0;
	T.events_state = T.events_device = T.events_progress = 0;
	T.watch_job = 0;
	T.watch_states = 0;
	T.watch_last_to[0] = 0;
	json_decref(T.last_progress);
	T.last_progress = NULL;
	T.class_b = T.gps_timing = T.adaptive_stream = false;
	T.class_b_frames = 0;
	T.tx_power_dbm = 0;
	memset(T.mc_status, 0, sizeof(T.mc_status));
	T.n_answers = T.next_answer = T.stop_after_answers = 0;
	T.hold_uplinks = false;
	T.n_held = 0;
	/* The pid keeps a fuotad left over by a crashed run away from this run's databases. */
	snprintf(name, sizeof(name), "fuota_itest_engine_%ld_%d", (long)getpid(), T.db_seq++);
	assert_int_equal(itest_db_create(&T.env, name, T.dsn, sizeof(T.dsn)), 0);
	assert_int_equal(store_open(T.dsn, 2, &T.store, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(store_migrate(T.store, &applied), FUOTA_OK);
	for (size_t i = 0; i < FW_SIZE; i++)
		T.firmware[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
	assert_int_equal(store_firmware_create(T.store, 1, "fw", T.firmware, FW_SIZE, &json),
	                 FUOTA_OK);
	T.firmware_id = json_id(json);
	free(json);
	T.now_ms = 1763700000000; /* 2025-11-21 */
}

static struct engine *new_engine_tag(const char *instance, bool duty_cycle, bool adaptive,
                                     unsigned max_jobs)
{
	struct engine_cfg cfg;
	struct engine *e = NULL;

	engine_cfg_defaults(&cfg);
	cfg.adaptive = adaptive;
	snprintf(cfg.instance_id, sizeof(cfg.instance_id), "%s", instance);
	memcpy(cfg.master_key, master_key, sizeof(master_key));
	cfg.lease_ms = 5000;
	cfg.n_regions = 1;
	snprintf(cfg.regions[0].name, sizeof(cfg.regions[0].name), "EU868");
	cfg.regions[0].duty_cycle = duty_cycle;
	if (max_jobs)
		cfg.max_jobs_per_tick = max_jobs;
	cfg.gps_timing = T.gps_timing;
	cfg.adaptive_stream = T.adaptive_stream;
	assert_int_equal(engine_create(T.store, &cfg, fake_clock, NULL, fake_publish,
	                               (void *)(uintptr_t)instance, &e),
	                 FUOTA_OK);
	return e;
}

static struct engine *new_engine_ex(const char *instance, bool duty_cycle, bool adaptive)
{
	return new_engine_tag(instance, duty_cycle, adaptive, 0);
}

static struct engine *new_engine(const char *instance, bool duty_cycle)
{
	return new_engine_ex(instance, duty_cycle, false);
}

static char *job_get(int64_t id)
{
	char *json = NULL;

	assert_int_equal(store_job_get(T.store, 1, id, &json), FUOTA_OK);
	return json;
}

static const char *job_state(int64_t id, char *out, size_t cap)
{
	char *json = job_get(id);
	json_t *j = json_loads(json, 0, NULL);

	assert_non_null(j);
	snprintf(out, cap, "%s", json_string_value(json_object_get(j, "state")));
	json_decref(j);
	free(json);
	return out;
}

static bool job_finished(int64_t id)
{
	char st[32];

	job_state(id, st, sizeof(st));
	return strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0 ||
	       strcmp(st, "cancelled") == 0;
}

/* Runs the engine and the simulated world until the job ends or max_steps ticks passed.
 * stop_after_frames > 0: returns early once that many gateway frames were seen. */
static void run(struct engine *e, int64_t job, unsigned max_steps, size_t stop_after_frames)
{
	for (unsigned i = 0; i < max_steps; i++) {
		int64_t next = 0;

		deliver_answers(e);
		pump(e);
		if (T.stop_after_answers && T.next_answer >= T.stop_after_answers)
			return;
		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		if (job_finished(job))
			return;
		if (stop_after_frames && T.n_fcnts >= stop_after_frames)
			return;
		next = next > T.now_ms ? next : T.now_ms + 100;
		/* A device's answer is due before: it reaches fuotad on time. */
		T.now_ms = answer_due() > T.now_ms && answer_due() < next ? answer_due() : next;
	}
	fail_msg("job %lld did not finish", (long long)job);
}

/* Ticks e for `seconds` of fake time, the devices' answers arriving meanwhile. */
static void idle(struct engine *e, int seconds)
{
	for (int i = 0; i < seconds; i++) {
		int64_t next = 0;

		deliver_answers(e);
		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		T.now_ms += 1000;
	}
}

static json_t *job_devices(int64_t id)
{
	char *json = NULL;
	json_t *j;

	assert_int_equal(store_job_devices(T.store, 1, id, 100, 0, &json), FUOTA_OK);
	j = json_loads(json, 0, NULL);
	assert_non_null(j);
	free(json);
	return j;
}

static const char *dev_field(json_t *devs, const char *eui, const char *field)
{
	size_t i;
	json_t *d;

	json_array_foreach(devs, i, d)
	{
		if (strcmp(json_string_value(json_object_get(d, "dev_eui")), eui) == 0)
			return json_string_value(json_object_get(d, field));
	}
	return NULL;
}

static void assert_image(const struct sim_dev *d)
{
	const uint8_t *image;
	size_t len;

	assert_int_equal(frag_dec_state(&d->dec), FRAG_DEC_DONE);
	assert_int_equal(frag_dec_image(&d->dec, &image, &len), FUOTA_OK);
	assert_int_equal(len, FW_SIZE);
	assert_memory_equal(image, T.firmware, FW_SIZE);
}

/* FCnts of the gateway frames (one gateway per frame here): strictly increasing, so none is
 * reused and they went out in order (P15). */
static void assert_fcnts_increase(void)
{
	for (size_t i = 1; i < T.n_fcnts; i++)
		assert_true(T.fcnts[i] > T.fcnts[i - 1]);
}

static long long db_count(const char *sql)
{
	PGconn *c = PQconnectdb(T.dsn);
	PGresult *r = PQexec(c, sql);
	long long v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

/* A dead engine's lease runs out: by the database's clock, which the fake clock does not move. */
static void lease_runs_out(void)
{
	db_count("UPDATE job SET lease_until = now() - interval '1 second' "
	         "WHERE lease_owner IS NOT NULL");
}

/* The job's plan as the API shows it (n_sessions 0: as it was made, "{}" here). A mixed job's
 * plan says what the engine runs: its sessions, their frames in all, and the TimeOut. */
static void assert_plan_sessions(int64_t job, int n_sessions, int frames)
{
	char *json = job_get(job);
	json_t *j = json_loads(json, 0, NULL), *plan;

	assert_non_null(j);
	plan = json_object_get(j, "plan");
	assert_non_null(plan);
	if (n_sessions == 0) {
		assert_int_equal(json_object_size(plan), 0);
	} else {
		assert_int_equal(json_integer_value(json_object_get(plan, "sessions")), n_sessions);
		assert_int_equal(json_integer_value(json_object_get(plan, "total_frames")), frames);
		assert_true(json_real_value(json_object_get(plan, "total_airtime_s")) >
		            0.05 * frames);
		assert_int_equal(json_integer_value(json_object_get(plan, "multicast_timeout_s")),
		                 128);
		assert_int_equal(json_integer_value(json_object_get(plan, "multicast_timeout_exp")),
		                 7);
		/* unicast_setup_s + the TimeOut; the frames' duration grows with the sessions. */
		assert_int_equal(json_integer_value(json_object_get(plan, "estimated_duration_s")),
		                 45 + 128);
		assert_int_equal(json_integer_value(json_object_get(plan, "multicast_duration_s")),
		                 30 * n_sessions);
		assert_int_equal(json_integer_value(json_object_get(plan, "unicast_setup_s")), 45);
	}
	json_decref(j);
	free(json);
}

/* When the last answer of a device to multicast status request `req` of session frag_index
 * reached fuotad (0: none). */
static int64_t last_answer_ms(int frag_index, unsigned req)
{
	int64_t last = 0;

	for (size_t k = 0; k < T.n_answers; k++) {
		const struct status_answer *x = &T.answers[k];

		if (x->frag_index == frag_index && x->req == req && !x->not_exist &&
		    x->due_ms > last)
			last = x->due_ms;
	}
	return last;
}

/* Whether, at at_ms, every device of session frag_index had told fuotad what request `req`
 * asks: it answered it (it still misses fragments) or it reported its block (v2). A device that
 * has the image but could not say so (v1, or its report lost) leaves an answer to come. */
static bool no_answer_left(int frag_index, unsigned req, int64_t at_ms)
{
	for (size_t d = 0; d < T.n_devs; d++) {
		const struct sim_dev *dev = &T.devs[d];
		bool told = dev->reported_ms > 0 && dev->reported_ms <= at_ms;

		/* Set up for the session (its decoder stays after the session's deletion). */
		if (!dev->mem || dev->setup.frag_index != frag_index)
			continue;
		for (size_t k = 0; k < T.n_answers && !told; k++) {
			const struct status_answer *x = &T.answers[k];

			told = x->dev == d && x->frag_index == frag_index && x->req == req &&
			       !x->not_exist && x->due_ms <= at_ms;
		}
		if (!told)
			return false;
	}
	return true;
}

/* Adaptive rounds of session frag_index (TS004 version `version`, the job's own parity
 * `redundancy`), checked frame by frame against what the devices said: the uncoded fragments
 * and the first batch (engine_round_first at the engine's expected loss), then, after each
 * multicast FragSessionStatusReq (Participants = 0) and a wait of one feedback window (shorter
 * only when every device of the session answered it or reported its block), the batch
 * that the answers to that request call for (engine_round_next over exactly those answers; with
 * no answer a v1 session stops and a v2 one takes a small step; after ENGINE_ROUNDS_MAX requests
 * the rest up to the cap). A batch may end early only once every device of the session
 * reported its block (v2): then the session stops. Returns the status requests sent. */
static unsigned check_rounds(int frag_index, int version, uint32_t redundancy)
{
	struct engine_cfg cfg;
	const uint32_t m = FW_SIZE / FRAG_SIZE;
	uint32_t cap, expect, sent = 0;
	uint64_t pause_ms;
	size_t work_len = engine_round_work_len(m), last_data = 0;
	double *work = malloc(work_len * sizeof(double));
	unsigned req = 0;
	int64_t status_ms = -1, prev_ms = -1;

	assert_non_null(work);
	engine_cfg_defaults(&cfg);
	cap = m * cfg.adaptive_cap_percent / 100;
	cap = cap > redundancy ? cap : redundancy;
	pause_ms = engine_round_pause_ms(cfg.block_ack_delay,
	                                 T.unicast_timeout_s ? T.unicast_timeout_s : 5);
	expect = m + engine_round_first(m, redundancy, cfg.adaptive_loss_percent, work, work_len);
	expect = expect < m + cap ? expect : m + cap;
	for (size_t i = 0; i < T.n_fcnts; i++) {
		const struct frame_info *f = &T.frame_info[i];

		if (f->kind == FRAME_OTHER || f->frag_index != frag_index)
			continue;
		if (f->kind == FRAME_STATUS) {
			struct engine_status a[MAX_ANSWERS];
			uint32_t need[MAX_ANSWERS];
			struct engine_round_next nx;
			size_t n = 0;
			uint32_t batch;

			/* Only at the end of a whole batch, and only devices missing fragments. */
			assert_int_equal(sent, expect);
			assert_false(f->participants);
			req++;
			status_ms = T.frame_ms[i];
			for (size_t k = 0; k < T.n_answers; k++) {
				const struct status_answer *x = &T.answers[k];

				if (x->frag_index != frag_index || x->req != req || x->not_exist)
					continue;
				assert_true(x->missing > 0);
				a[n].received = x->received;
				a[n].missing = x->missing;
				n++;
			}
			engine_round_next(m, sent, a, need, n, cfg.adaptive_loss_percent, work,
			                  work_len, &nx);
			batch = nx.batch;
			if (n == 0)
				batch = version < 2 ? 0
				                    : (m * cfg.adaptive_step_percent + 99) / 100;
			if (req >= ENGINE_ROUNDS_MAX || sent + batch > m + cap)
				batch = m + cap - sent;
			print_message(
			        "session %d: request %u after %u frames: %zu answers, largest "
			        "need %u, loss %.3f: %u more\n",
			        frag_index, req, sent, n, nx.need, nx.loss, batch);
			expect = sent + batch;
			continue;
		}
		/* In order, one N after the other. */
		assert_int_equal(f->n, sent + 1);
		if (status_ms >= 0) {
			/* The first frame after a request waits for the answers: never goes before
			 * one of them, and before the end of the feedback window only when none was
			 * left to come. */
			assert_true(T.frame_ms[i] >= last_answer_ms(frag_index, req));
			if (T.frame_ms[i] - status_ms < (int64_t)pause_ms)
				assert_true(no_answer_left(frag_index, req, T.frame_ms[i]));
			status_ms = -1;
		} else if (prev_ms >= 0) {
			assert_true(T.frame_ms[i] - prev_ms < (int64_t)pause_ms);
		}
		prev_ms = T.frame_ms[i];
		sent++;
		last_data = i + 1;
		assert_true(sent <= expect);
	}
	if (sent < expect) {
		/* Stopped inside a batch: every v2 device of the session had reported its block. */
		assert_int_equal(version, 2);
		for (size_t k = 0; k < T.n_devs; k++)
			if (T.devs[k].setup.frag_index == frag_index)
				assert_true(T.devs[k].done_at > 0 &&
				            T.devs[k].done_at <= last_data);
	}
	assert_int_equal(req, T.mc_status[frag_index & 3]);
	free(work);
	return req;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* Registers eui under tenant with a key sealed for that row; the store's answer. */
static int register_eui(const char *eui, int64_t tenant)
{
	static const uint8_t key[16] = {1};
	struct store_device sd;
	uint8_t box[16 + CBOX_OVERHEAD];
	char aad[64], *json = NULL;
	int n = snprintf(aad, sizeof(aad), "device:%lld:%s", (long long)tenant, eui), rc;

	assert_int_equal(
	        cbox_seal(master_key, key, 16, (const uint8_t *)aad, (size_t)n, box, sizeof(box)),
	        FUOTA_OK);
	memset(&sd, 0, sizeof(sd));
	snprintf(sd.dev_eui, sizeof(sd.dev_eui), "%s", eui);
	sd.application_id = APP_ID;
	sd.lorawan_version = "1.0.3";
	sd.dev_class = 'C';
	sd.region = "EU868";
	sd.key_kind = "gen_app_key";
	sd.key_box = box;
	sd.key_box_len = sizeof(box);
	rc = store_device_create(T.store, tenant, &sd, &json);
	free(json);
	return rc;
}

/* The gateway ids GET /api/v1/gateways shows tenant, comma-separated, into out. */
static const char *tenant_gateways(int64_t tenant, char *out, size_t cap)
{
	struct store_page page;
	json_t *items;
	size_t pos = 0;

	out[0] = 0;
	assert_int_equal(store_gateway_list(T.store, tenant, 100, 0, &page), FUOTA_OK);
	items = json_loads(page.items, 0, NULL);
	assert_non_null(items);
	for (size_t i = 0; i < json_array_size(items); i++)
		pos += (size_t)snprintf(
		        out + pos, cap - pos, "%s%s", i ? "," : "",
		        json_string_value(json_object_get(json_array_get(items, i), "gateway_id")));
	json_decref(items);
	free(page.items);
	return out;
}

/* Issue 15: what the engine learns from uplinks is the DevEUI's holder's. The gateways that heard
 * a device are stored under the tenant that holds its DevEUI (0 for a DevEUI no tenant holds);
 * another tenant cannot register a held DevEUI; a DevEUI that changes hands starts with nothing
 * of what the former holder's uplinks taught. */
static void test_tenant_keyed_gateways(void **state)
{
	struct engine *e;
	struct sim_dev *held, *loose;
	char *json = NULL, gws[256];
	int64_t t2;

	(void)state;
	fresh_db();
	assert_int_equal(store_tenant_create(T.store, "second", &json), FUOTA_OK);
	t2 = json_id(json);
	free(json);
	add_dev("00000000000000a1", 0x10, 1); /* tenant 1's */
	held = &T.devs[0];
	loose = &T.devs[T.n_devs++]; /* heard, registered nowhere */
	memset(loose, 0, sizeof(*loose));
	snprintf(loose->eui, sizeof(loose->eui), "00000000000000a2");
	loose->delete_index = -1;
	loose->in_range_b = true;
	assert_int_equal(clk_dev_init(&loose->clk, 1), FUOTA_OK);
	e = new_engine("itest-tenant", false);
	dev_app_time_req(e, held);  /* through GW_A */
	dev_app_time_req(e, loose); /* through GW_B */
	idle(e, 3);
	assert_int_equal(db_count("SELECT count(*) FROM engine_device_gateway WHERE tenant_id = 1 "
	                          "AND dev_eui = '00000000000000a1' AND gateway_id = '" GW_A "'"),
	                 1);
	assert_int_equal(db_count("SELECT count(*) FROM engine_device_gateway WHERE tenant_id = 0 "
	                          "AND dev_eui = '00000000000000a2' AND gateway_id = '" GW_B "'"),
	                 1);
	assert_string_equal(tenant_gateways(1, gws, sizeof(gws)), GW_A);
	/* Tenant 2 cannot take tenant 1's DevEUI. */
	assert_int_equal(register_eui("00000000000000a1", t2), FUOTA_ERR_CONFLICT);
	assert_string_equal(tenant_gateways(t2, gws, sizeof(gws)), "");
	/* The DevEUI changes hands: tenant 2 sees none of tenant 1's gateway, then the one its
	 * own uplinks are heard through. */
	assert_int_equal(store_device_delete(T.store, 1, "00000000000000a1"), FUOTA_OK);
	assert_int_equal(register_eui("00000000000000a1", t2), FUOTA_OK);
	assert_string_equal(tenant_gateways(t2, gws, sizeof(gws)), "");
	T.now_ms += 120 * 1000;
	held->in_range_b = true;
	dev_app_time_req(e, held);
	idle(e, 3);
	assert_string_equal(tenant_gateways(t2, gws, sizeof(gws)), GW_B);
	assert_string_equal(tenant_gateways(1, gws, sizeof(gws)), "");
	assert_int_equal(db_count("SELECT count(*) FROM engine_device_gateway "
	                          "WHERE dev_eui = '00000000000000a1' AND tenant_id <> 1"),
	                 1);
	engine_destroy(e);
}

static void test_class_c_v1_no_loss(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("0000000000000001", 0x10, 1);
	add_dev("0000000000000002", 0x20, 1);
	add_dev("0000000000000003", 0x30, 1);
	job = add_job(0, 3, 4);
	e = new_engine("itest-a", true);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	for (size_t i = 0; i < 3; i++) {
		assert_image(&T.devs[i]);
		assert_string_equal(dev_field(devs, T.devs[i].eui, "step"), "done");
		assert_null(dev_field(devs, T.devs[i].eui, "failure_reason"));
		/* FragSessionDelete and McGroupDelete, after the last fragment. */
		assert_int_equal(T.devs[i].deletes, 2);
		assert_false(T.devs[i].has_group);
	}
	json_decref(devs);
	/* 20 uncoded fragments + 4 parity rows through the one gateway, no frame refused. */
	assert_int_equal(T.n_fcnts, 24);
	assert_int_equal(T.fcnts[0], 0);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT fcnt FROM multicast_group"), 24);
	assert_plan_sessions(job, 0, 0);  /* one session: the plan stays as it was made */
	assert_true(T.events_state >= 2); /* running, succeeded */
	assert_true(T.events_device >= 3 * 6);
	assert_true(T.events_progress >= 1);
	/* The versions learnt from PackageVersionAns are the device's. */
	assert_int_equal(db_count("SELECT count(*) FROM device WHERE ts004_version = 1 AND "
	                          "ts005_version = 1 AND ts003_version = 1"),
	                 3);
	engine_destroy(e);
}

static void test_loss_parity_refusal_and_silent_device(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;
	const char *why;

	(void)state;
	fresh_db();
	add_dev("0000000000000011", 0x40, 1);
	add_dev("0000000000000012", 0x50, 1);
	add_dev("0000000000000013", 0x60, 1);
	add_dev("0000000000000014", 0x70, 1);
	T.devs[1].drop_mask = (1u << 2) | (1u << 9) | (1u << 16); /* loses N = 3, 10, 17 */
	T.devs[2].mute = true;
	T.devs[3].in_range_b = true; /* only gateway B hears it */
	T.refuse_every = 7;
	job = add_job(0, 4, 8);
	e = new_engine("itest-a", true);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]); /* rebuilt three lost fragments from parity */
	assert_image(&T.devs[3]);
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	assert_string_equal(dev_field(devs, T.devs[3].eui, "step"), "done");
	assert_string_equal(dev_field(devs, T.devs[2].eui, "step"), "failed");
	why = dev_field(devs, T.devs[2].eui, "failure_reason");
	assert_non_null(why);
	assert_non_null(strstr(why, "no answer after 3 attempts"));
	json_decref(devs);
	/* Two gateways were needed; each refused frame went out again. */
	assert_true(T.refused > 0);
	assert_int_equal(
	        db_count("SELECT count(*) FROM engine_tx WHERE ack <> 'OK' AND resend <> 2"), 0);
	assert_int_equal(db_count("SELECT count(DISTINCT gateway_id) FROM engine_tx"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM (SELECT fcnt FROM engine_tx GROUP BY fcnt, "
	                          "gateway_id HAVING count(*) > 1) x"),
	                 0);
	{
		char *json = job_get(job);

		assert_non_null(strstr(json, "1 of 4 devices failed"));
		free(json);
	}
	engine_destroy(e);
}

/* Retry the failed (issue 14): the device that was silent in a finished job gets the image from
 * the retry job, which the engine runs like any other job, with its MQTT state events. */
static void test_retry_failed(void **state)
{
	enum job_retry_verdict v;
	struct engine *e;
	int64_t job, retry = 0;
	char st[32], why[160];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("0000000000000021", 0x40, 1);
	add_dev("0000000000000022", 0x50, 1);
	add_dev("0000000000000023", 0x60, 1);
	T.devs[1].mute = true;
	job = add_job(0, 3, 4);
	e = new_engine("itest-a", true);
	/* Running: not yet. */
	assert_int_equal(store_job_retry(T.store, 1, job, &retry, &v, why, sizeof(why)),
	                 FUOTA_ERR_STATE);
	assert_int_equal(v, JOB_RETRY_NOT_FINISHED);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	/* Another tenant's job is not found. */
	assert_int_equal(store_job_retry(T.store, 2, job, &retry, &v, why, sizeof(why)),
	                 FUOTA_ERR_NOT_FOUND);
	T.devs[1].mute = false; /* back in range */
	assert_int_equal(store_job_retry(T.store, 1, job, &retry, &v, why, sizeof(why)), FUOTA_OK);
	assert_true(retry > job);
	T.watch_job = retry;
	run(e, retry, 4000, 0);
	assert_string_equal(job_state(retry, st, sizeof(st)), "succeeded");
	devs = job_devices(retry);
	assert_int_equal(json_array_size(devs), 1);
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	json_decref(devs);
	assert_image(&T.devs[1]);
	/* The usual MQTT state events: pending -> running, then running -> succeeded. */
	assert_true(T.watch_states >= 2);
	assert_string_equal(T.watch_last_to, "succeeded");
	/* Every device of the first job now has the image through one job or the other. */
	assert_int_equal(store_job_retry(T.store, 1, retry, &job, &v, why, sizeof(why)),
	                 FUOTA_ERR_STATE);
	assert_int_equal(v, JOB_RETRY_NOTHING);
	engine_destroy(e);
}

static void test_restart_mid_transmission(void **state)
{
	struct engine *a, *b;
	int64_t job;
	char st[32];
	size_t before;

	(void)state;
	fresh_db();
	add_dev("0000000000000021", 0x11, 1);
	add_dev("0000000000000022", 0x22, 1);
	job = add_job(0, 2, 4);
	T.gps_timing = true; /* class C frames timed at a GPS instant, this time */
	a = new_engine("itest-a", true);
	run(a, job, 2000, 9);
	before = T.n_fcnts;
	assert_true(before >= 9);
	/* Engine a "dies" holding its lease: b takes the job over once the lease has expired,
	 * and the FCnt goes on from the database. */
	lease_runs_out();
	b = new_engine("itest-b", true);
	run(b, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_true(T.n_fcnts > before);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT count(*) FROM job WHERE lease_owner IS NOT NULL"), 0);
	engine_destroy(a);
	engine_destroy(b);
}

static void test_clock_sync_and_resync(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("0000000000000031", 0x12, 1);
	add_dev("0000000000000032", 0x13, 1);
	add_dev("0000000000000033", 0x14, 1); /* in no job */
	e = new_engine("itest-a", false);
	/* AppTimeReq of a device 100 s late, in no job: answered with the correction. */
	T.devs[2].clock_offset_ms = -100000;
	dev_app_time_req(e, &T.devs[2]);
	pump(e);
	assert_int_equal(T.devs[2].time_answers, 1);
	assert_true(T.devs[2].clock_offset_ms > -1000 && T.devs[2].clock_offset_ms < 1000);
	/* A device 40 s ahead in a job: its TimeToStart disagrees, the engine forces a resync,
	 * and the session goes on with the corrected clock. */
	T.devs[1].clock_offset_ms = 40000;
	job = add_job(0, 2, 2);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_int_equal(T.devs[1].resyncs, 1);
	assert_int_equal(T.devs[0].resyncs, 0);
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	engine_destroy(e);
}

/* Ticks e until the job is in `phase` (the tick that changes it included). */
static void run_to_phase(struct engine *e, int64_t job, const char *phase)
{
	char q[160];

	snprintf(q, sizeof(q),
	         "SELECT count(*) FROM engine_job WHERE job_id = %lld AND phase = '%s'",
	         (long long)job, phase);
	for (unsigned i = 0; i < 2000; i++) {
		int64_t next = 0;

		deliver_answers(e);
		pump(e);
		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		if (db_count(q) == 1)
			return;
		pump(e);
		T.now_ms = next > T.now_ms ? next : T.now_ms + 100;
	}
	fail_msg("job %lld never reached phase %s", (long long)job, phase);
}

static void assert_all_done(int64_t job, size_t count)
{
	char st[32];
	json_t *devs = job_devices(job);

	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < count; i++) {
		assert_image(&T.devs[i]);
		assert_string_equal(dev_field(devs, T.devs[i].eui, "step"), "done");
	}
	json_decref(devs);
}

/* fuotad dies right after fixing the session time, its first McClassCSessionReq lost with it,
 * and comes back after the session start: the start moves (a later time, announced again to
 * every device, said in the event log) instead of failing every device as late. */
static void test_crash_in_session_phase(void **state)
{
	struct engine *a, *b;
	int64_t job, start_was;

	(void)state;
	fresh_db();
	for (int i = 0; i < 4; i++) {
		char eui[17];

		snprintf(eui, sizeof(eui), "00000000000000c%d", i);
		add_dev(eui, (uint8_t)(0x80 + i), 1);
	}
	job = add_job(0, 4, 4);
	a = new_engine("itest-a", true);
	run_to_phase(a, job, "session");
	start_was = db_count("SELECT session_start_ms FROM engine_job");
	/* Its next tick sends the session requests; it dies before any reaches a device. */
	T.now_ms += 100;
	assert_int_equal(engine_tick(a, T.now_ms, NULL), FUOTA_OK);
	assert_true(T.n_msgs > T.next_msg);
	T.next_msg = T.n_msgs;
	/* Back 10 s after the session start (the dead instance's lease long expired). */
	T.now_ms = start_was + 10000;
	lease_runs_out();
	b = new_engine("itest-b", true);
	run(b, job, 4000, 0);
	assert_all_done(job, 4);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
	assert_true(db_count("SELECT session_start_ms FROM engine_job") > start_was + 10000);
	assert_int_equal(db_count("SELECT count(*) FROM event WHERE kind = 'log' "
	                          "AND data ? 'session_moved'"),
	                 1);
	/* The devices' session time is the moved one. */
	{
		int64_t gps_s = 0;

		assert_int_equal(
		        lw_gps_from_unix(db_count("SELECT session_start_ms FROM engine_job") / 1000,
		                         &gps_s),
		        FUOTA_OK);
		for (size_t i = 0; i < 4; i++)
			assert_int_equal(T.devs[i].session_time, lw_gps_wrap32(gps_s));
	}
	engine_destroy(a);
	engine_destroy(b);
}

/* Runs one statement that returns no rows on a connection of its own. */
static void db_exec(const char *sql)
{
	PGconn *c = PQconnectdb(T.dsn);
	PGresult *r = PQexec(c, sql);

	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
}

/* At the session start a device no gateway has heard fails; when that failure cannot be stored
 * (here a trigger refuses it), the tick reports the database error and the job stays in its
 * session phase, to fail the device at a later tick, instead of transmitting to a device still
 * counted in the session. */
static void test_unheard_device_failure_not_stored(void **state)
{
	static const char *const refuse =
	        "CREATE FUNCTION itest_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
	        "RAISE EXCEPTION 'itest: refused'; END $$; "
	        "CREATE TRIGGER itest_refuse BEFORE UPDATE ON job_device FOR EACH ROW WHEN "
	        "(NEW.failure_reason = 'no gateway has heard the device') "
	        "EXECUTE FUNCTION itest_refuse()";
	struct engine *a, *b;
	int64_t job, start;
	json_t *devs;
	char q[160];

	(void)state;
	fresh_db();
	add_dev("00000000000000d0", 0x90, 1);
	add_dev("00000000000000d1", 0x91, 1);
	job = add_job(0, 2, 4);
	a = new_engine("itest-a", true);
	run_to_phase(a, job, "session");
	start = db_count("SELECT session_start_ms FROM engine_job");
	snprintf(q, sizeof(q),
	         "SELECT count(*) FROM job_device WHERE job_id = %lld AND step = "
	         "'session'",
	         (long long)job);
	while (db_count(q) < 2 && T.now_ms < start - 1000) {
		deliver_answers(a);
		pump(a);
		assert_int_equal(engine_tick(a, T.now_ms, NULL), FUOTA_OK);
		pump(a);
		T.now_ms += 100;
	}
	assert_int_equal(db_count(q), 2);
	/* a writes what it heard as it goes; then d1 is forgotten by every gateway. */
	engine_destroy(a);
	db_exec("DELETE FROM engine_device_gateway WHERE dev_eui = '00000000000000d1'");
	db_exec(refuse);
	T.now_ms = start;
	b = new_engine("itest-b", true);
	assert_int_equal(engine_tick(b, T.now_ms, NULL), FUOTA_ERR_IO);
	assert_int_equal(db_count("SELECT count(*) FROM engine_job WHERE phase = 'session'"), 1);
	assert_int_equal(db_count(q), 2);
	db_exec("DROP TRIGGER itest_refuse ON job_device; DROP FUNCTION itest_refuse()");
	run(b, job, 4000, 0);
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, "00000000000000d0", "step"), "done");
	assert_string_equal(dev_field(devs, "00000000000000d1", "step"), "failed");
	assert_string_equal(dev_field(devs, "00000000000000d1", "failure_reason"),
	                    "no gateway has heard the device");
	json_decref(devs);
	assert_image(&T.devs[0]);
	engine_destroy(b);
}

/* The uplinks the network server kept (T.hold_uplinks) reach fuotad now, as of application
 * app; then forgotten. */
static void feed_held(struct engine *e, const char *app)
{
	for (size_t i = 0; i < T.n_held; i++) {
		snprintf(T.held[i].application_id, sizeof(T.held[i].application_id), "%s", app);
		assert_int_equal(engine_on_uplink(e, &T.held[i]), FUOTA_OK);
	}
	T.n_held = 0;
}

static const char *dev_step(int64_t job, const char *eui, char *out, size_t cap)
{
	json_t *devs = job_devices(job);

	snprintf(out, cap, "%s", dev_field(devs, eui, "step"));
	json_decref(devs);
	return out;
}

/* Issue 15: the same DevEUI in another application (another network server's device, or a
 * forged uplink) answers nothing of a job's device: its PackageVersionAns, McGroupSetupAns and
 * AppTimeReq move nothing; the device's own answers then do. */
static void test_uplink_other_application(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("00000000000000f1", 0xb1, 1);
	job = add_job(0, 1, 2);
	e = new_engine("itest-a", false);
	T.hold_uplinks = true;
	for (int i = 0; i < 3 && T.n_held < 3; i++) {
		assert_int_equal(engine_tick(e, T.now_ms, NULL), FUOTA_OK);
		pump(e);
		T.now_ms += 100;
	}
	/* PackageVersionAns on the three ports. */
	assert_int_equal(T.n_held, 3);
	{
		struct cs_uplink keep[3];

		memcpy(keep, T.held, sizeof(keep));
		feed_held(e, "app-2");
		assert_string_equal(dev_step(job, T.devs[0].eui, st, sizeof(st)), "pkg_version");
		assert_int_equal(db_count("SELECT count(*) FROM device WHERE ts004_version > 0 "
		                          "OR ts005_version > 0 OR ts003_version > 0"),
		                 0);
		memcpy(T.held, keep, sizeof(keep));
		T.n_held = 3;
	}
	feed_held(e, APP_ID);
	assert_string_equal(dev_step(job, T.devs[0].eui, st, sizeof(st)), "mc_setup");
	pump(e); /* McGroupSetupReq, sent at once; its answer kept */
	assert_int_equal(T.n_held, 1);
	T.held[1] = T.held[0];
	feed_held(e, "app-2");
	assert_string_equal(dev_step(job, T.devs[0].eui, st, sizeof(st)), "mc_setup");
	T.held[0] = T.held[1];
	T.n_held = 1;
	feed_held(e, APP_ID);
	assert_string_equal(dev_step(job, T.devs[0].eui, st, sizeof(st)), "frag_setup");
	T.hold_uplinks = false;
	run(e, job, 4000, 0);
	assert_all_done(job, 1);
	engine_destroy(e);
}

/* Issue 15: the session start moved (fuotad was down when it came) while a device's copy of the
 * first McClassCSessionReq was still on its way; it reaches the device after the old start,
 * which answers StartMissed, and that answer reaches fuotad after the request with the moved
 * start went out. It answers the old request: the device (resynchronised once already in this
 * job, so that a StartMissed believed fails it) is not failed, and meets the moved start. */
static void test_late_start_missed_after_move(void **state)
{
	struct engine *a, *b;
	int64_t job, start_was;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("00000000000000f2", 0xb2, 1);
	add_dev("00000000000000f3", 0xb3, 1);
	job = add_job(0, 2, 2);
	a = new_engine("itest-a", true);
	run_to_phase(a, job, "session");
	start_was = db_count("SELECT session_start_ms FROM engine_job");
	T.devs[1].hold_down = true;
	T.now_ms += 100;
	assert_int_equal(engine_tick(a, T.now_ms, NULL), FUOTA_OK);
	pump(a);
	assert_true(T.devs[1].held_dl_len > 0);
	assert_int_equal(db_count("UPDATE job_device SET resync_sent = true "
	                          "WHERE dev_eui = '00000000000000f3' RETURNING 1"),
	                 1);
	/* fuotad dies; back 10 s after the start: the start moves, both devices asked again
	 * (device 1's copy kept too: lost). */
	T.now_ms = start_was + 10000;
	lease_runs_out();
	b = new_engine("itest-b", true);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_tick(b, T.now_ms, NULL), FUOTA_OK);
		pump(b);
		T.now_ms += 100;
	}
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
	/* The old request reaches device 1 now: StartMissed. */
	T.now_ms += 2000;
	T.devs[1].hold_down = false;
	dev_port200(b, &T.devs[1], T.devs[1].held_dl, T.devs[1].held_dl_len);
	assert_string_equal(dev_step(job, T.devs[1].eui, st, sizeof(st)), "mc_session");
	run(b, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.devs[1].resyncs, 0);
	engine_destroy(a);
	engine_destroy(b);
}

/* Issue 15: a device's McClassCSessionAns reached the network server while fuotad was dead; the
 * restarted fuotad moved the session start and asked again, and reads the old answer only now
 * (kept by the broker). Its TimeToStart fits the old start, and read against the new one at
 * the wrong moment it fits that too: it must not count as the answer (the device would wait
 * for the old start and miss the session). */
static void test_replayed_session_ans(void **state)
{
	struct engine *a, *b;
	int64_t job, start_was, start_now, t_ans, gps_s = 0;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("00000000000000f4", 0xb4, 1);
	add_dev("00000000000000f5", 0xb5, 1);
	job = add_job(0, 2, 2);
	a = new_engine("itest-a", true);
	run_to_phase(a, job, "session");
	start_was = db_count("SELECT session_start_ms FROM engine_job");
	T.now_ms += 100;
	assert_int_equal(engine_tick(a, T.now_ms, NULL), FUOTA_OK);
	/* Device 1 answers at once; fuotad dies before it reads the answer. */
	T.hold_uplinks = true;
	pump(a);
	T.hold_uplinks = false;
	t_ans = T.now_ms;
	assert_int_equal(T.n_held, 2);
	T.held[0] = strcmp(T.held[0].dev_eui, T.devs[1].eui) == 0 ? T.held[0] : T.held[1];
	T.n_held = 1;
	/* Back after the start: moved, asked again (device 1 does not get it yet). */
	T.now_ms = start_was + 10000;
	lease_runs_out();
	b = new_engine("itest-b", true);
	T.devs[1].hold_down = true;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_tick(b, T.now_ms, NULL), FUOTA_OK);
		pump(b);
		T.now_ms += 100;
	}
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
	start_now = db_count("SELECT session_start_ms FROM engine_job");
	/* Read when the new start is as far ahead as the old one was when the device answered. */
	if (start_now - (start_was - t_ans) > T.now_ms)
		T.now_ms = start_now - (start_was - t_ans);
	feed_held(b, APP_ID);
	assert_string_equal(dev_step(job, T.devs[1].eui, st, sizeof(st)), "mc_session");
	T.devs[1].hold_down = false;
	T.devs[1].held_dl_len = 0;
	run(b, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(lw_gps_from_unix(start_now / 1000, &gps_s), FUOTA_OK);
	assert_int_equal(T.devs[1].session_time, lw_gps_wrap32(gps_s));
	engine_destroy(a);
	engine_destroy(b);
}

/* Issue 16 after the merge with issue 15: a device resynchronised once already gets the
 * McClassCSessionReq 2 s before the session start, and its answer (TimeToStart 2 s, right)
 * leaves in the uplink after the start passed and moved, the request with the moved start
 * already out. Read against the moved start it disagrees, but it answers the old request: the
 * device is not failed, and meets the moved start. */
static void test_session_ans_in_flight_at_move(void **state)
{
	struct engine *e;
	int64_t job, start_was;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("00000000000000f6", 0xb6, 1);
	add_dev("00000000000000f7", 0xb7, 1);
	job = add_job(0, 2, 2);
	e = new_engine("itest-a", true);
	run_to_phase(e, job, "session");
	start_was = db_count("SELECT session_start_ms FROM engine_job");
	assert_int_equal(db_count("UPDATE job_device SET resync_sent = true "
	                          "WHERE dev_eui = '00000000000000f7' RETURNING 1"),
	                 1);
	T.devs[1].hold_down = true;
	T.now_ms += 100;
	assert_int_equal(engine_tick(e, T.now_ms, NULL), FUOTA_OK);
	pump(e);
	assert_true(T.devs[1].held_dl_len > 0);
	/* The request reaches device 1 2 s before the start; its answer waits for an uplink. */
	T.now_ms = start_was - 2000;
	T.hold_uplinks = true;
	dev_port200(e, &T.devs[1], T.devs[1].held_dl, T.devs[1].held_dl_len);
	T.hold_uplinks = false;
	assert_int_equal(T.n_held, 1);
	T.devs[1].held_dl_len = 0;
	/* The start passes: moved, device 1 asked again (that copy still on its way). */
	T.now_ms = start_was + 100;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_tick(e, T.now_ms, NULL), FUOTA_OK);
		pump(e);
		T.now_ms += 100;
	}
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
	/* The uplink with the old answer leaves now. */
	T.held[0].time.sec = T.now_ms / 1000;
	T.held[0].time.nsec = (int32_t)(T.now_ms % 1000) * 1000000;
	feed_held(e, APP_ID);
	assert_string_equal(dev_step(job, T.devs[1].eui, st, sizeof(st)), "mc_session");
	T.devs[1].hold_down = false;
	T.devs[1].held_dl_len = 0;
	run(e, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.devs[1].resyncs, 0);
	engine_destroy(e);
}

/* The same with the old copy still queued when the start moved: the device's next uplink
 * delivers that copy, not the request with the moved start, and the StartMissed it answers
 * one uplink later is the old request's. Counted as the new request's delivery, it failed a
 * device resynchronised once already. */
static void test_start_missed_behind_old_copy(void **state)
{
	static const uint8_t status[1] = {0x01};
	struct engine *e;
	int64_t job, start_was;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("00000000000000f8", 0xb8, 1);
	add_dev("00000000000000f9", 0xb9, 1);
	job = add_job(0, 2, 2);
	e = new_engine("itest-a", true);
	run_to_phase(e, job, "session");
	start_was = db_count("SELECT session_start_ms FROM engine_job");
	assert_int_equal(db_count("UPDATE job_device SET resync_sent = true "
	                          "WHERE dev_eui = '00000000000000f9' RETURNING 1"),
	                 1);
	T.devs[1].hold_down = true;
	T.now_ms += 100;
	assert_int_equal(engine_tick(e, T.now_ms, NULL), FUOTA_OK);
	pump(e);
	assert_true(T.devs[1].held_dl_len > 0);
	/* The start passes before device 1 sends an uplink: moved, asked again. */
	T.now_ms = start_was + 100;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_tick(e, T.now_ms, NULL), FUOTA_OK);
		pump(e);
		T.now_ms += 100;
	}
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
	/* Its next uplink delivers the old copy (StartMissed), answered in the uplink after. */
	uplink(e, &T.devs[1], 2, status, sizeof(status));
	T.now_ms += 1000;
	dev_port200(e, &T.devs[1], T.devs[1].held_dl, T.devs[1].held_dl_len);
	assert_string_equal(dev_step(job, T.devs[1].eui, st, sizeof(st)), "mc_session");
	T.devs[1].hold_down = false;
	T.devs[1].held_dl_len = 0;
	run(e, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.devs[1].resyncs, 0);
	engine_destroy(e);
}

/* A device whose clock ran 60 s ahead answers StartMissed; it is forced to resync and, as LoRa
 * Basics Modem does, sends its AppTimeReq 8 s later (more than the unicast timeout): the session
 * request is asked again only after that exchange, with a start it can meet. */
static void test_resync_waits_for_app_time(void **state)
{
	struct engine *e;
	int64_t job;

	(void)state;
	fresh_db();
	add_dev("00000000000000d1", 0x91, 1);
	add_dev("00000000000000d2", 0x92, 1);
	T.devs[1].clock_offset_ms = 60000;
	T.devs[1].resync_delay_ms = 8000;
	job = add_job(0, 2, 2);
	e = new_engine("itest-a", false);
	run(e, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.devs[1].resyncs, 1);
	assert_int_equal(T.devs[1].time_answers, 1);
	assert_int_equal(T.devs[0].resyncs, 0);
	engine_destroy(e);
}

/* A frame that never reached the gateway (fuotad killed between storing it and publishing it,
 * or the broker restarted before the gateway subscribed again): no ack comes, and it goes out
 * again with a new FCnt after the ack timeout instead of counting as sent. Fixed redundancy 0:
 * without it both devices would miss that fragment. */
static void test_unacked_frame_sent_again(void **state)
{
	struct engine *e;
	int64_t job;

	(void)state;
	fresh_db();
	add_dev("00000000000000f1", 0xb1, 1);
	add_dev("00000000000000f2", 0xb2, 1);
	T.vanish_at = 5;
	job = add_job(0, 2, 0);
	e = new_engine("itest-a", false);
	run(e, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.n_fcnts, 21); /* 20 fragments, one of them twice */
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT count(*) FROM engine_tx WHERE ack = 'NO_ACK'"), 1);
	engine_destroy(e);
}

static void test_v2_session_cnt_and_mic(void **state)
{
	struct engine *e;
	int64_t job1, job2;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("0000000000000041", 0x15, 2);
	add_dev("0000000000000042", 0x16, 2);
	T.devs[0].drop_mask = 1u << 4;
	e = new_engine("itest-a", false);
	job1 = add_job(0, 2, 3);
	run(e, job1, 2000, 0);
	assert_string_equal(job_state(job1, st, sizeof(st)), "succeeded");
	assert_true(T.devs[0].mic_ok);
	assert_true(T.devs[1].mic_ok);
	assert_image(&T.devs[0]);
	assert_int_equal(T.devs[0].setup.session_cnt, 1);
	/* A second job: SessionCnt continues from the database (the device refuses a replay). */
	job2 = add_job(0, 2, 3);
	run(e, job2, 2000, 0);
	assert_string_equal(job_state(job2, st, sizeof(st)), "succeeded");
	assert_int_equal(T.devs[0].setup.session_cnt, 2);
	assert_int_equal(db_count("SELECT min(session_cnt) FROM engine_device"), 2);
	/* Each job had its own group: a new McAddr. */
	assert_int_equal(db_count("SELECT count(DISTINCT mc_addr) FROM multicast_group"), 2);
	engine_destroy(e);
}

/* Sets a registered device's stack (device.stack, as the REST API stores it). */
static void set_stack(const char *eui, const char *stack)
{
	char sql[192];

	snprintf(sql, sizeof(sql),
	         "WITH u AS (UPDATE device SET stack = '%s' WHERE dev_eui = '%s' RETURNING 1) "
	         "SELECT count(*) FROM u",
	         stack, eui);
	assert_int_equal(db_count(sql), 1);
}

/* Issue 16: LoRaMac-node answers FragSessionStatusReq with the last counter it saw and the
 * uncoded fragments it lost, never lowered once parity rebuilt them, and counts lost parity
 * nowhere. Device 1 lost nothing: its answer proves the image (done). Device 0 lost fragment 2
 * and rebuilt the image; device 3 lost fragments 2 and 3 and parity 21, heard 22 and left
 * coverage: it holds 19 of 20 frames. Both answer a stopped counter with c - L >= M, which
 * cannot tell them apart: both end "unconfirmed", with the reason, and are cleaned up. The
 * same answers from a device registered with the TS004 reading still fail it. */
static void test_loramac_node_status(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;
	const char *why;

	(void)state;
	fresh_db();
	add_dev("0000000000000061", 0x61, 1);
	add_dev("0000000000000062", 0x62, 1);
	add_dev("0000000000000063", 0x63, 1);
	add_dev("0000000000000064", 0x64, 1);
	for (size_t i = 0; i < 4; i++)
		T.devs[i].answers_as = ANS_LORAMAC_NODE;
	T.devs[0].drop_mask = 1u << 1; /* fragment 2 */
	T.devs[2].drop_mask = 1u << 1;
	/* 2, 3, 21, then nothing after 22 (of 24 frames) */
	T.devs[3].drop_mask = (3u << 1) | (1u << 20) | (3u << 22);
	set_stack(T.devs[0].eui, "loramac-node");
	set_stack(T.devs[1].eui, "loramac-node");
	set_stack(T.devs[3].eui, "loramac-node");
	job = add_job(0, 4, 4);
	e = new_engine("itest-a", false);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	for (size_t i = 0; i < 3; i++)
		assert_image(&T.devs[i]);
	assert_int_not_equal(frag_dec_state(&T.devs[3].dec), FRAG_DEC_DONE);
	assert_int_equal(T.devs[3].lmn_counter, 22);
	for (size_t i = 0; i < 4; i += 3) {
		assert_string_equal(dev_field(devs, T.devs[i].eui, "step"), "unconfirmed");
		why = dev_field(devs, T.devs[i].eui, "failure_reason");
		assert_non_null(why);
		assert_non_null(strstr(why, "unconfirmed: FragSessionStatusAns (loramac-node)"));
		assert_false(T.devs[i].has_group); /* cleaned up like a done device */
	}
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	assert_null(dev_field(devs, T.devs[1].eui, "failure_reason"));
	assert_string_equal(dev_field(devs, T.devs[2].eui, "step"), "failed");
	why = dev_field(devs, T.devs[2].eui, "failure_reason");
	assert_non_null(why);
	assert_non_null(strstr(why, "1 fragments missing"));
	json_decref(devs);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE last_answer->>'judged' "
	                          "LIKE 'probably done, unconfirmed%'"),
	                 2);
	assert_int_equal(db_count("SELECT count(*) FROM job WHERE error LIKE '%1 of 4 devices "
	                          "failed, 2 of 4 devices unconfirmed%'"),
	                 1);
	engine_destroy(e);
}

/* Issue 16: a LoRaMac-node device whose answer cannot prove the image and that has TS006 is
 * asked DevUpgradeImageReq. Device 0 lost fragment 2 and rebuilt the image: Valid, done. Device
 * 1 lost 2, 3 and 21, heard 22 and left: NoFirmwarePresent, failed. Device 2 is registered with
 * TS006 but never answers it: unconfirmed after its attempts, and cleaned up. */
static void test_loramac_node_ts006(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32], sql[192];
	json_t *devs;
	const char *why;

	(void)state;
	fresh_db();
	add_dev("00000000000000a1", 0xa1, 1);
	add_dev("00000000000000a2", 0xa2, 1);
	add_dev("00000000000000a3", 0xa3, 1);
	for (size_t i = 0; i < 3; i++) {
		T.devs[i].answers_as = ANS_LORAMAC_NODE;
		T.devs[i].drop_mask = 1u << 1;
		T.devs[i].ts006 = i < 2;
		set_stack(T.devs[i].eui, "loramac-node");
		snprintf(sql, sizeof(sql),
		         "WITH u AS (UPDATE device SET ts006_version = 1 WHERE dev_eui = '%s' "
		         "RETURNING 1) SELECT count(*) FROM u",
		         T.devs[i].eui);
		assert_int_equal(db_count(sql), 1);
	}
	T.devs[1].drop_mask = (3u << 1) | (1u << 20) | (3u << 22);
	job = add_job(0, 3, 4);
	e = new_engine("itest-a", false);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	assert_image(&T.devs[0]);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "done");
	assert_null(dev_field(devs, T.devs[0].eui, "failure_reason"));
	assert_int_equal(T.devs[0].upgrade_reqs, 1);
	assert_false(T.devs[0].has_group);
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "failed");
	assert_string_equal(dev_field(devs, T.devs[1].eui, "failure_reason"),
	                    "DevUpgradeImageAns: NoFirmwarePresent");
	assert_string_equal(dev_field(devs, T.devs[2].eui, "step"), "unconfirmed");
	why = dev_field(devs, T.devs[2].eui, "failure_reason");
	assert_non_null(why);
	assert_non_null(strstr(why, "DevUpgradeImageReq had no answer after 3 attempts"));
	assert_int_equal(T.devs[2].upgrade_reqs, 3);
	assert_false(T.devs[2].has_group);
	json_decref(devs);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE last_answer->>'judged' "
	                          "= 'done (TS006: its image is valid)'"),
	                 1);
	engine_destroy(e);
}

/* Issue 16: a status round that judged a v2 device done only stops the rows for it
 * (block_received); it is no block report. Device 0's image fails its MIC check and its
 * FragDataBlockReceivedReq (MICError) is lost; a round marked it received. Its answer after the
 * session says MICError: it fails. Before, the round's mark made every later answer unheard and
 * the device was done. */
static void test_round_done_then_mic_error(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("0000000000000091", 0x91, 2);
	add_dev("0000000000000092", 0x92, 2);
	T.devs[0].bad_mic = true;
	T.devs[0].lost_reports = 1000;
	job = add_job(0, 2, 2);
	e = new_engine("itest-a", false);
	run(e, job, 2000, 3);
	/* What a status round's "done" writes (engine_status.c on_round_status). */
	assert_int_equal(db_count("WITH u AS (UPDATE job_device SET block_received = true "
	                          "WHERE dev_eui = '0000000000000091' RETURNING 1) "
	                          "SELECT count(*) FROM u"),
	                 1);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_true(T.devs[0].status_reqs > 0);
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "failed");
	assert_string_equal(dev_field(devs, T.devs[0].eui, "failure_reason"),
	                    "FragSessionStatusAns: MICError");
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	json_decref(devs);
	engine_destroy(e);
}

/* Issue 16: a device that cannot hold the session's fragments. One whose limit fuotad knows
 * (max_frags 10, the session has 20) is not sent FragSessionSetupReq: it fails at once, the
 * numbers in its reason. One whose limit fuotad does not know refuses it with NotEnoughMemory;
 * its reason says what the session asked. */
static void test_setup_not_enough_memory(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32], sql[256];
	json_t *devs;
	const char *why;

	(void)state;
	fresh_db();
	add_dev("0000000000000081", 0x81, 2);
	add_dev("0000000000000082", 0x82, 2);
	add_dev("0000000000000083", 0x83, 2);
	T.devs[0].max_frags = 10; /* the session has 20 */
	T.devs[2].max_frags = 10;
	snprintf(sql, sizeof(sql),
	         "WITH u AS (UPDATE device SET stack = 'lbm', max_frags = 10 WHERE dev_eui = '%s' "
	         "RETURNING 1) SELECT count(*) FROM u",
	         T.devs[0].eui);
	assert_int_equal(db_count(sql), 1);
	job = add_job(0, 3, 2);
	e = new_engine("itest-a", false);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "failed");
	why = dev_field(devs, T.devs[0].eui, "failure_reason");
	assert_non_null(why);
	assert_string_equal(why, "FragSessionSetupReq not sent: the session's 20 fragments are "
	                         "more than the device takes (10: its max_frags, or its stack's "
	                         "default build)");
	assert_false(T.devs[0].has_session); /* never asked */
	assert_string_equal(dev_field(devs, T.devs[2].eui, "step"), "failed");
	assert_string_equal(dev_field(devs, T.devs[2].eui, "failure_reason"),
	                    "FragSessionSetupAns: NotEnoughMemory: the device cannot hold the "
	                    "session's 20 fragments of 50 bytes");
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	json_decref(devs);
	engine_destroy(e);
}

/* Issue 16: LoRa Basics Modem v2 after a lossless session reports its block (no MICError),
 * then answers FragSessionStatusReq with MissingFrag 1 (`0100120001` in an 18-fragment
 * session): it has the image, and that answer does not fail it. Device 1 answers first and
 * reports after: it is asked again rather than failed, and its report moves it on. */
static void test_lbm_block_then_status(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("0000000000000071", 0x71, 2);
	add_dev("0000000000000072", 0x72, 2);
	for (size_t i = 0; i < 2; i++) {
		T.devs[i].answers_as = ANS_LBM;
		T.devs[i].report_late = true;
	}
	T.devs[1].report_after_status = true;
	set_stack(T.devs[0].eui, "lbm");
	job = add_job(0, 2, 2);
	e = new_engine("itest-a", false);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_true(T.devs[0].mic_ok);
	assert_true(T.devs[0].reported_ms > 0);
	assert_true(T.devs[0].status_reqs > 0); /* it was asked, and answered MissingFrag 1 */
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "done");
	assert_null(dev_field(devs, T.devs[0].eui, "failure_reason"));
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	assert_null(dev_field(devs, T.devs[1].eui, "failure_reason"));
	assert_true(T.devs[1].reported_ms > 0);
	json_decref(devs);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE "
	                          "last_answer->>'judged' = 'done (block reported)'"),
	                 2);
	engine_destroy(e);
}

static void test_cancel(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("0000000000000051", 0x17, 1);
	add_dev("0000000000000052", 0x18, 1);
	e = new_engine("itest-a", true);
	job = add_job(0, 2, 2);
	run(e, job, 2000, 3);
	job_action(job, "cancel");
	T.n_fcnts = 0;
	run(e, job, 50, 0);
	/* Once the engine saw the cancel, nothing more goes on the air. */
	for (int i = 0; i < 20; i++) {
		int64_t next = 0;

		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		T.now_ms += 5000;
	}
	assert_int_equal(T.n_fcnts, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "cancelled");
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "failed");
	assert_string_equal(dev_field(devs, T.devs[0].eui, "failure_reason"), "job cancelled");
	json_decref(devs);
	assert_false(T.devs[0].has_group);
	assert_false(T.devs[1].has_group);
	engine_destroy(e);
}

static void test_pause_resume(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	size_t before;

	(void)state;
	fresh_db();
	add_dev("0000000000000071", 0x31, 1);
	add_dev("0000000000000072", 0x32, 1);
	e = new_engine("itest-a", true);
	job = add_job(0, 2, 2);
	run(e, job, 2000, 5);
	job_action(job, "pause");
	/* Paused: a minute passes and nothing goes out. */
	before = T.n_msgs;
	idle(e, 60);
	assert_int_equal(T.n_msgs, before);
	assert_string_equal(job_state(job, st, sizeof(st)), "paused");
	job_action(job, "resume");
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_fcnts_increase();
	engine_destroy(e);
}

/* Gateway frames of one kind (FRAME_DATA, FRAME_STATUS) so far. */
static size_t frames_of(enum frame_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < T.n_fcnts; i++)
		n += T.frame_info[i].kind == kind;
	return n;
}

/* The status answers device i gave so far. */
static unsigned answers_of(size_t i)
{
	unsigned n = 0;

	for (size_t k = 0; k < T.n_answers; k++)
		n += T.answers[k].dev == i;
	return n;
}

/* The parity rows of the first batch, as the engine sizes it (default settings). */
static uint32_t first_batch(uint32_t redundancy)
{
	struct engine_cfg cfg;
	size_t work_len = engine_round_work_len(FW_SIZE / FRAG_SIZE);
	double *work = malloc(work_len * sizeof(double));
	uint32_t first;

	assert_non_null(work);
	engine_cfg_defaults(&cfg);
	first = engine_round_first(FW_SIZE / FRAG_SIZE, redundancy, cfg.adaptive_loss_percent, work,
	                           work_len);
	free(work);
	return first;
}

/* A fresh database with three v2 devices of one session, two of them losing frames (one of them
 * parity rows of the first batch too), in a job of parity 2 that an adaptive engine (*e) runs:
 * the frames sent follow the rounds the devices' answers call for. Returns the job. */
static int64_t rounds_job(const char *eui_prefix, struct engine **e)
{
	char eui[17];

	fresh_db();
	for (int i = 0; i < 3; i++) {
		snprintf(eui, sizeof(eui), "%s%02d", eui_prefix, i);
		add_dev(eui, (uint8_t)(0x41 + i), 2);
	}
	/* Loses N = 4..9 (6 of the 20 fragments) and N = 21, 22 (parity of the first batch). */
	T.devs[0].drop_mask = (0x3Fu << 3) | (3u << 20);
	T.devs[1].drop_mask = (1u << 1) | (1u << 11); /* N = 2, 12 */
	*e = new_engine_ex("itest-a", true, true);
	return add_job(0, 3, 2);
}

static void test_adaptive_v2(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	unsigned reqs;

	(void)state;
	job = rounds_job("00000000000081", &e);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 3; i++) {
		assert_image(&T.devs[i]);
		assert_true(T.devs[i].mic_ok);
	}
	reqs = check_rounds(T.devs[0].setup.frag_index, 2, 2);
	print_message("adaptive v2: %zu frames sent for 20 fragments, %u status requests, %zu "
	              "answers\n",
	              frames_of(FRAME_DATA), reqs, T.n_answers);
	/* The first batch cannot be enough for the device that lost 8 frames: at least one
	 * request, which it answered; the device that lost nothing never answered. */
	assert_true(first_batch(2) < 8);
	assert_true(reqs >= 1);
	assert_true(answers_of(0) >= 1);
	assert_int_equal(answers_of(2), 0);
	assert_int_equal(T.devs[2].mc_status_reqs, reqs);
	assert_int_equal(db_count("SELECT frames_sent FROM engine_job"),
	                 (long long)frames_of(FRAME_DATA));
	assert_int_equal(db_count("SELECT round FROM engine_session"), reqs);
	/* Each request took an FCnt of the group: one sequence for frames and requests. */
	assert_int_equal(db_count("SELECT fcnt FROM multicast_group"), (long long)T.n_fcnts);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE block_received"), 3);
	/* Each reported its block: no unicast FragSessionStatusReq, straight to the deletes. */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(T.devs[i].status_reqs, 0);
		assert_int_equal(T.devs[i].deletes, 2); /* FragSessionDelete, McGroupDelete */
		assert_false(T.devs[i].has_group);
	}
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'done'"), 3);
	assert_fcnts_increase();
	engine_destroy(e);
}

/* The same in stream mode: parity back to back until the lossy device reports, no wait. */
static void test_adaptive_stream(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	long long sent;

	(void)state;
	fresh_db();
	add_dev("0000000000000081", 0x41, 2);
	add_dev("0000000000000082", 0x42, 2);
	T.devs[0].drop_mask = 0x3Fu << 3;
	T.adaptive_stream = true;
	e = new_engine_ex("itest-a", true, true);
	job = add_job(0, 2, 2);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	sent = db_count("SELECT frames_sent FROM engine_job");
	assert_true(sent >= 20 + 6);
	assert_true(sent <= 20 + 6 + 4);
	for (size_t i = 1; i < T.n_fcnts; i++)
		assert_true(T.frame_ms[i] - T.frame_ms[i - 1] < 5000);
	engine_destroy(e);
}

/* An engine dies during the wait after a status request, one device's answer stored and the
 * other's still on its way: the engine that takes the job over waits the round out, takes the
 * second answer, reads both from the database and sends the batch they call for, with the
 * group's FCnt going on (none reused). */
static void test_adaptive_rounds_restart(void **state)
{
	struct engine *a, *b;
	int64_t job;
	char st[32];
	size_t before;
	unsigned reqs;

	(void)state;
	job = rounds_job("00000000000082", &a);
	T.devs[1].drop_mask = 0x1Fu << 2; /* N = 3..7: this one answers too (4 s later) */
	T.stop_after_answers = 1;
	run(a, job, 4000, 0);
	T.stop_after_answers = 0;
	before = T.n_fcnts;
	assert_int_equal(T.mc_status[T.devs[0].setup.frag_index], 1);
	assert_int_equal(T.frame_info[before - 1].kind, FRAME_STATUS);
	assert_int_equal(T.next_answer, 1);
	assert_true(T.n_answers >= 2); /* the second one not delivered yet */
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE status_round = 1"), 1);
	engine_destroy(a);
	b = new_engine_ex("itest-b", true, true);
	run(b, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 3; i++)
		assert_image(&T.devs[i]);
	assert_true(T.n_fcnts > before);
	for (size_t i = before; i < T.n_fcnts; i++)
		assert_string_equal(T.frame_from[i], "itest-b");
	/* The batch after the restart is the one both answers call for, after the wait. */
	reqs = check_rounds(T.devs[0].setup.frag_index, 2, 2);
	assert_true(reqs >= 1);
	assert_true(answers_of(0) >= 1 && answers_of(1) >= 1);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT fcnt FROM multicast_group"), (long long)T.n_fcnts);
	assert_int_equal(db_count("SELECT count(*) FROM (SELECT fcnt FROM engine_tx GROUP BY fcnt "
	                          "HAVING count(*) > 1) x"),
	                 0);
	engine_destroy(b);
}

/* Runs job (rounds_job, 3 devices) until its first status request is on the air. */
static void run_to_first_request(struct engine *e, int64_t job)
{
	size_t upto = FW_SIZE / FRAG_SIZE + first_batch(2) + 1;

	run(e, job, 4000, upto);
	assert_int_equal(T.n_fcnts, upto);
	assert_int_equal(T.frame_info[upto - 1].kind, FRAME_STATUS);
}

/* Runs job (rounds_job) to its first status request and pauses or cancels it (action) during the
 * wait: a minute passes, the answers come in, and nothing goes on the air. */
static void action_in_wait(struct engine *e, int64_t job, const char *action)
{
	size_t before;

	run_to_first_request(e, job);
	job_action(job, action);
	before = T.n_fcnts;
	idle(e, 60);
	assert_int_equal(T.n_fcnts, before);
}

/* Resumes the paused job (rounds_job) and runs it: it completes, every device has the image,
 * and the batches after the resume are those the answers call for. */
static void resume_to_end(struct engine *e, int64_t job)
{
	char st[32];

	assert_string_equal(job_state(job, st, sizeof(st)), "paused");
	job_action(job, "resume");
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 3; i++)
		assert_image(&T.devs[i]);
	assert_true(check_rounds(T.devs[0].setup.frag_index, 2, 2) >= 1);
	assert_fcnts_increase();
}

/* Paused during the wait after a status request: nothing goes out while paused (the answers
 * still arrive); resumed, the job sends the batch the answers call for and completes. */
static void test_adaptive_pause_in_wait(void **state)
{
	struct engine *e;
	int64_t job;

	(void)state;
	job = rounds_job("00000000000083", &e);
	action_in_wait(e, job, "pause");
	assert_int_equal(T.next_answer, T.n_answers); /* every answer in */
	resume_to_end(e, job);
	engine_destroy(e);
}

/* The devices a session still waits for (as seng_sessions counts them). */
#define PENDING_SQL "SELECT count(*) FROM job_device WHERE step = 'session' AND NOT block_received"

/* A v2 device that rebuilt its image in the first frames but whose FragDataBlockReceivedReq was
 * lost repeats it while the job is paused: the engine answers it and stores it, so the resumed
 * job does not count the device pending (nor sends it rows it no longer needs). */
static void test_adaptive_pause_block_received(void **state)
{
	struct engine *e;
	int64_t job;
	char sql[160];
	struct sim_dev *quiet;
	uint8_t req[2];
	long long pending;

	(void)state;
	job = rounds_job("00000000000085", &e);
	quiet = &T.devs[2]; /* loses nothing */
	quiet->lost_reports = 1;
	run_to_first_request(e, job);
	assert_true(quiet->done_at > 0 && quiet->mic_ok);
	assert_int_equal(quiet->block_acks, 0);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job_device WHERE dev_eui = '%s' AND step = 'session' "
	         "AND NOT block_received",
	         quiet->eui);
	assert_int_equal(db_count(sql), 1);
	pending = db_count(PENDING_SQL);
	assert_true(pending >= 2); /* the lossy device too */
	job_action(job, "pause");
	/* The repeat (FragIndex, MICError 0) reaches the paused job. */
	req[0] = FRAG_CID_DATA_BLOCK_RECEIVED;
	req[1] = (uint8_t)quiet->setup.frag_index;
	uplink(e, quiet, FRAG_PORT, req, sizeof(req));
	pump(e);
	assert_int_equal(quiet->block_acks, 1);
	assert_int_equal(db_count(sql), 0);
	assert_int_equal(db_count(PENDING_SQL), pending - 1);
	idle(e, 30);
	resume_to_end(e, job);
	assert_int_equal(quiet->block_acks, 1);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE block_received"), 3);
	engine_destroy(e);
}

/* rounds_job with two devices missing fragments after the first batch (device 1's answer to the
 * status request comes 4 s after device 0's) and one that reported its block: runs to the first
 * frame after the request; *wait_ms: from the request to that frame, *answers_ms: from the
 * request to the last answer. lost: device 1's answer is lost on the air. */
static void wait_after_request(const char *eui_prefix, bool lost, int64_t *wait_ms,
                               int64_t *answers_ms)
{
	struct engine *e;
	int64_t job, req_ms;
	size_t upto;
	char st[32];

	job = rounds_job(eui_prefix, &e);
	T.devs[1].drop_mask = 0x1Fu << 2; /* N = 3..7 */
	T.devs[1].lost_answers = lost ? 1 : 0;
	run_to_first_request(e, job);
	upto = T.n_fcnts;
	req_ms = T.frame_ms[upto - 1];
	assert_true(T.devs[2].reported_ms > 0 && T.devs[2].reported_ms <= req_ms);
	assert_int_equal(frag_dec_state(&T.devs[0].dec), FRAG_DEC_ONGOING);
	assert_int_equal(frag_dec_state(&T.devs[1].dec), FRAG_DEC_ONGOING);
	run(e, job, 4000, upto + 1);
	assert_int_equal(T.frame_info[upto].kind, FRAME_DATA);
	*wait_ms = T.frame_ms[upto] - req_ms;
	*answers_ms = last_answer_ms(T.devs[0].setup.frag_index, 1) - req_ms;
	assert_int_equal(T.n_answers, lost ? 1 : 2);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 3; i++)
		assert_image(&T.devs[i]);
	assert_true(check_rounds(T.devs[0].setup.frag_index, 2, 2) >= 1);
	assert_fcnts_increase();
	engine_destroy(e);
}

/* The wait after a status request ends as soon as every device still missing the image has
 * answered it (the one that has the image reported its block): the next batch goes right after
 * the last answer, not at the end of the feedback window. With one answer lost, nothing tells
 * the engine that no device is left to hear from: the whole window is waited. */
static void test_adaptive_wait_answered(void **state)
{
	const uint64_t pause_ms = engine_round_pause_ms(0, 5);
	int64_t wait_ms, answers_ms;

	(void)state;
	wait_after_request("00000000000086", false, &wait_ms, &answers_ms);
	print_message("every answer in %lld ms after the request, next frame after %lld ms (the "
	              "window: %llu ms)\n",
	              (long long)answers_ms, (long long)wait_ms, (unsigned long long)pause_ms);
	assert_true(answers_ms >= 4000); /* device 1 answers last */
	assert_true(wait_ms >= answers_ms);
	assert_true(wait_ms <= answers_ms + 1000); /* the engine's next tick */
	assert_true(wait_ms < (int64_t)pause_ms);

	wait_after_request("00000000000087", true, &wait_ms, &answers_ms);
	print_message("one answer lost: next frame after %lld ms\n", (long long)wait_ms);
	assert_true(answers_ms < 4000); /* only device 0's */
	assert_true(wait_ms >= (int64_t)pause_ms);
}

/* A v2 device whose every FragDataBlockReceivedReq is lost: the engine cannot tell that it has
 * the image, so it keeps the session going to its cap and then asks that device (and only that
 * one: the others reported) with the final FragSessionStatusReq before deleting its session. */
static void test_adaptive_report_lost(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	job = rounds_job("00000000000088", &e);
	T.devs[2].lost_reports = 1000;
	run(e, job, 6000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 3; i++) {
		assert_image(&T.devs[i]);
		assert_int_equal(T.devs[i].status_reqs, i == 2 ? 1 : 0);
		assert_int_equal(T.devs[i].deletes, 2);
	}
	assert_int_equal(T.devs[2].reported_ms, 0);
	assert_true(check_rounds(T.devs[0].setup.frag_index, 2, 2) >= 1);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'done'"), 3);
	engine_destroy(e);
}

/* Cancelled during the wait after a status request: no batch follows, the answers that still
 * come in change nothing, the groups are deleted. */
static void test_adaptive_cancel_in_wait(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;

	(void)state;
	job = rounds_job("00000000000084", &e);
	action_in_wait(e, job, "cancel");
	assert_string_equal(job_state(job, st, sizeof(st)), "cancelled");
	devs = job_devices(job);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(dev_field(devs, T.devs[i].eui, "failure_reason"),
		                    "job cancelled");
		assert_false(T.devs[i].has_group);
	}
	json_decref(devs);
	engine_destroy(e);
}

static void test_adaptive_v1(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	unsigned reqs;

	(void)state;
	fresh_db();
	add_dev("00000000000000a1", 0x43, 1);
	add_dev("00000000000000a2", 0x44, 1);
	T.devs[1].drop_mask = 0x3Fu << 5;
	e = new_engine_ex("itest-a", true, true);
	job = add_job(0, 2, 2);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	reqs = check_rounds(T.devs[0].setup.frag_index, 1, 2);
	print_message("adaptive v1: %zu frames sent for 20 fragments, 6 lost, %u status "
	              "requests\n",
	              frames_of(FRAME_DATA), reqs);
	/* TS004 v1 has no completion report: the session stops after a request nobody
	 * answered (every device has the image), so one more request than answered ones. */
	assert_true(reqs >= 2);
	assert_int_equal(answers_of(0), 0);
	assert_int_equal(answers_of(1), reqs - 1);
	/* The final unicast FragSessionStatusReq (Participants = 1) of each device. */
	assert_int_equal(T.devs[0].status_reqs, 1);
	assert_int_equal(T.devs[1].status_reqs, 1);
	assert_int_equal(db_count("SELECT frames_sent FROM engine_job"),
	                 (long long)frames_of(FRAME_DATA));
	assert_fcnts_increase();
	engine_destroy(e);
}

/* TS004 v1, an engine killed in the wait after a status request, and the lossy device's answer
 * sent while no engine runs (lost: the network server publishes uplinks at QoS 0). The engine
 * that takes over hears nothing in the round, which a v1 session would read as "every device
 * has the image": it must not, since it started after the request. It sends a small batch and
 * asks again; the device answers, gets its parity and the image. */
static void test_adaptive_v1_answer_lost_in_restart(void **state)
{
	struct engine *a, *b;
	int64_t job;
	char st[32];
	size_t upto = FW_SIZE / FRAG_SIZE + first_batch(2) + 1, lost;

	(void)state;
	fresh_db();
	add_dev("00000000000000b1", 0x45, 1);
	add_dev("00000000000000b2", 0x46, 1);
	T.devs[1].drop_mask = 0x3Fu << 5;
	a = new_engine_ex("itest-a", true, true);
	job = add_job(0, 2, 2);
	run(a, job, 4000, upto);
	assert_int_equal(T.frame_info[upto - 1].kind, FRAME_STATUS);
	engine_destroy(a);
	/* The request is on the air; its answers come while no engine runs. */
	lost = T.n_answers - T.next_answer;
	assert_true(lost >= 1);
	T.next_answer = T.n_answers;
	T.now_ms += 1000;
	b = new_engine_ex("itest-b", true, true);
	run(b, job, 4000, 0);
	print_message("v1 answer lost in a restart: %zu answer(s) lost, %zu frames sent in all\n",
	              lost, frames_of(FRAME_DATA));
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'done'"), 2);
	/* After the restart: more parity and another request (the first wait's silence proved
	 * nothing). */
	assert_true(frames_of(FRAME_DATA) > upto - 1);
	assert_true(frames_of(FRAME_STATUS) >= 2);
	assert_fcnts_increase();
	engine_destroy(b);
}

/* Two engines on one database share two jobs through the lease: each job is driven by one of
 * them only, while uplinks reach either (a shared subscription splits them). */
static void test_two_engines(void **state)
{
	struct engine *a, *b;
	int64_t job1, job2;
	char st[32];
	uint32_t addr_a = 0, addr_b = 0;

	(void)state;
	fresh_db();
	add_dev("00000000000000b1", 0x61, 1);
	add_dev("00000000000000b2", 0x62, 1);
	add_dev("00000000000000b3", 0x63, 2);
	add_dev("00000000000000b4", 0x64, 2);
	job1 = add_job(0, 2, 2);
	job2 = add_job(2, 2, 2);
	a = new_engine_tag("itest-a", true, false, 1);
	b = new_engine_tag("itest-b", true, false, 1);
	for (unsigned i = 0; i < 3000 && !(job_finished(job1) && job_finished(job2)); i++) {
		int64_t na = 0, nb = 0;

		assert_int_equal(engine_tick(a, T.now_ms, &na), FUOTA_OK);
		pump(i % 2 ? a : b);
		assert_int_equal(engine_tick(b, T.now_ms, &nb), FUOTA_OK);
		pump(i % 2 ? b : a);
		T.now_ms += 100;
	}
	assert_string_equal(job_state(job1, st, sizeof(st)), "succeeded");
	assert_string_equal(job_state(job2, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < T.n_devs; i++)
		assert_image(&T.devs[i]);
	/* Each group's frames came from one engine, and the two engines each had a job. */
	for (size_t i = 0; i < T.n_fcnts; i++) {
		if (strcmp(T.frame_from[i], "itest-a") == 0) {
			assert_true(addr_a == 0 || addr_a == T.frame_addr[i]);
			addr_a = T.frame_addr[i];
		} else {
			assert_string_equal(T.frame_from[i], "itest-b");
			assert_true(addr_b == 0 || addr_b == T.frame_addr[i]);
			addr_b = T.frame_addr[i];
		}
	}
	assert_true(addr_a != 0 && addr_b != 0 && addr_a != addr_b);
	/* Both jobs go through the one gateway: its duty cycle (10 % at 869.525 MHz, 118 ms on
	 * air) spaces every frame of either engine by 1.18 s, through the shared gateway table. */
	for (size_t i = 1; i < T.n_fcnts; i++)
		assert_true(T.frame_ms[i] - T.frame_ms[i - 1] >= 1180);
	engine_destroy(a);
	engine_destroy(b);
}

/* The session a mixed job's devices were set up on: the v1 devices share one FragIndex, the v2
 * devices another. Returns the v1 index. */
static int assert_two_sessions(size_t first, size_t count)
{
	int idx[3] = {-1, -1, -1};

	for (size_t i = first; i < first + count; i++) {
		struct sim_dev *d = &T.devs[i];
		int v = d->ts004 >= 2 ? 2 : 1;

		if (idx[v] < 0)
			idx[v] = d->setup.frag_index;
		assert_int_equal(d->setup.frag_index, idx[v]);
	}
	assert_true(idx[1] >= 0 && idx[2] >= 0 && idx[1] != idx[2]);
	/* The first version set up gets FragIndex 0, the other 1. */
	assert_int_equal(idx[1] + idx[2], 1);
	return idx[1];
}

static unsigned bits_set(uint32_t v)
{
	unsigned n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

static long long session_frames(int frag_index)
{
	char sql[128];

	snprintf(sql, sizeof(sql),
	         "SELECT frames_sent FROM engine_session WHERE frag_index = %d AND done",
	         frag_index);
	return db_count(sql);
}

/* v1 and v2 parity rows differ: a mixed job runs one fragmentation session per version on its
 * one multicast group, and every device, of either version, rebuilds the exact image. */
static void test_mixed_versions(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs, *sessions;
	int v1_index;

	(void)state;
	fresh_db();
	add_dev("00000000000000c1", 0x71, 1);
	add_dev("00000000000000c2", 0x72, 1);
	add_dev("00000000000000c3", 0x73, 1);
	add_dev("00000000000000c4", 0x74, 2);
	add_dev("00000000000000c5", 0x75, 2);
	T.devs[0].drop_mask = 1u << 2;                /* v1: loses N = 3 of its session */
	T.devs[3].drop_mask = (1u << 4) | (1u << 11); /* v2: loses N = 5 and 12 */
	e = new_engine("itest-a", false);
	job = add_job(0, 5, 3);
	/* The parts of an API plan the engine does not start from, for the update to keep. */
	assert_int_equal(db_count("WITH u AS (UPDATE job SET plan = '{\"sessions\":1,"
	                          "\"total_frames\":23,\"unicast_setup_s\":45,"
	                          "\"multicast_duration_s\":30}' RETURNING 1) "
	                          "SELECT count(*) FROM u"),
	                 1);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	for (size_t i = 0; i < 5; i++) {
		assert_image(&T.devs[i]);
		assert_string_equal(dev_field(devs, T.devs[i].eui, "step"), "done");
		assert_null(dev_field(devs, T.devs[i].eui, "failure_reason"));
		/* Every frame of the group reached it; it took its session's 23 (20 fragments + 3
		 * parity rows) and ignored the other session's 23. */
		assert_int_equal(T.devs[i].foreign, 23);
		assert_int_equal(T.devs[i].frames, 23 - bits_set(T.devs[i].drop_mask));
		/* Clean-up deleted its own session, then the group. */
		assert_int_equal(T.devs[i].deletes, 2);
		assert_int_equal(T.devs[i].delete_index, T.devs[i].setup.frag_index);
		assert_false(T.devs[i].has_group);
	}
	json_decref(devs);
	assert_true(T.devs[3].mic_ok); /* the v2 MIC covers its own FragIndex */
	assert_true(T.devs[4].mic_ok);
	v1_index = assert_two_sessions(0, 5);
	/* Two sessions of 23 frames on one group: one FCnt sequence, 46 frames. */
	assert_int_equal(T.n_fcnts, 46);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT count(*) FROM multicast_group"), 1);
	assert_int_equal(db_count("SELECT fcnt FROM multicast_group"), 46);
	assert_int_equal(db_count("SELECT frames_sent FROM engine_job"), 46);
	assert_int_equal(session_frames(v1_index), 23);
	assert_int_equal(session_frames(1 - v1_index), 23);
	/* What the database says of each device's session matches what it was told. */
	assert_int_equal(db_count("SELECT count(DISTINCT frag_index) FROM job_device"), 2);
	assert_int_equal(db_count("SELECT count(DISTINCT (frag_index, frag_version)) FROM "
	                          "job_device"),
	                 2);
	/* The estimate in the job's event log and the last progress event name both sessions. */
	assert_int_equal(db_count("SELECT count(*) FROM event WHERE kind = 'log' AND "
	                          "jsonb_array_length(data->'sessions') = 2 AND "
	                          "(data->>'frames')::int = 46 AND (data->>'airtime_ms')::int > 0"),
	                 1);
	assert_plan_sessions(job, 2, 46);
	assert_non_null(T.last_progress);
	assert_int_equal(json_integer_value(json_object_get(T.last_progress, "frames_sent")), 46);
	assert_true(json_integer_value(json_object_get(T.last_progress, "airtime_ms")) > 46 * 50);
	sessions = json_object_get(T.last_progress, "sessions");
	assert_int_equal(json_array_size(sessions), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *x = json_array_get(sessions, i);

		assert_int_equal(json_integer_value(json_object_get(x, "frag_index")), (int)i);
		assert_int_equal(json_integer_value(json_object_get(x, "ts004")),
		                 (int)i == v1_index ? 1 : 2);
		assert_int_equal(json_integer_value(json_object_get(x, "frames_sent")), 23);
		assert_true(json_is_true(json_object_get(x, "done")));
	}
	engine_destroy(e);
}

/* Adaptive redundancy in a mixed job: each session (v1 and v2, own FragIndex) gets its own
 * multicast status requests and its batches from its own devices' answers; a v2 device asked
 * about the v1 session says SessionDoesNotExist, which changes nothing. The v2 session stops
 * once its devices reported their block, the v1 one after a request nobody answered. */
static void test_mixed_adaptive(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	long long v1_sent, v2_sent;
	int v1_index;
	unsigned v1_reqs, v2_reqs;

	(void)state;
	fresh_db();
	add_dev("00000000000000d1", 0x81, 1);
	add_dev("00000000000000d2", 0x82, 2);
	add_dev("00000000000000d3", 0x83, 1);
	add_dev("00000000000000d4", 0x84, 2);
	T.devs[2].drop_mask = 0x3Fu << 5;         /* v1: loses 6 of the 20 fragments */
	T.devs[3].drop_mask = 0x3Fu | (7u << 20); /* v2: N = 1..6 and 21..23 */
	e = new_engine_ex("itest-a", true, true);
	job = add_job(0, 4, 2);
	run(e, job, 6000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 4; i++)
		assert_image(&T.devs[i]);
	assert_true(T.devs[1].mic_ok);
	assert_true(T.devs[3].mic_ok);
	v1_index = assert_two_sessions(0, 4);
	v1_sent = session_frames(v1_index);
	v2_sent = session_frames(1 - v1_index);
	v1_reqs = check_rounds(v1_index, 1, 2);
	v2_reqs = check_rounds(1 - v1_index, 2, 2);
	print_message("mixed adaptive: v1 session %lld frames, %u requests; v2 session %lld "
	              "frames, %u requests\n",
	              v1_sent, v1_reqs, v2_sent, v2_reqs);
	assert_true(v1_reqs >= 2);
	assert_true(v2_reqs >= 1);
	/* Each device answered only about its own session (or said it has no such one). */
	for (size_t i = 0; i < T.n_answers; i++) {
		const struct status_answer *x = &T.answers[i];

		assert_int_equal(x->not_exist, x->frag_index != T.devs[x->dev].setup.frag_index);
		if (x->not_exist)
			assert_int_equal(T.devs[x->dev].ts004, 2);
	}
	assert_true(T.devs[1].mc_status_other > 0); /* v2 devices heard the v1 requests */
	assert_int_equal(T.devs[1].mc_status_other, T.devs[0].mc_status_reqs);
	assert_int_equal(T.devs[0].mc_status_other, T.devs[1].mc_status_reqs);
	assert_int_equal(answers_of(0), 0);
	assert_true(answers_of(2) >= 1 && answers_of(3) >= 1);
	assert_int_equal(db_count("SELECT frames_sent FROM engine_job"), v1_sent + v2_sent);
	assert_int_equal((long long)frames_of(FRAME_DATA), v1_sent + v2_sent);
	assert_int_equal((long long)frames_of(FRAME_STATUS), v1_reqs + v2_reqs);
	assert_fcnts_increase();
	/* Unicast status requests: only the final one (Participants = 1) of each v1 device; a v2
	 * device reported its block, which tells what that request would ask: none. */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(T.devs[i].status_reqs, T.devs[i].ts004 < 2 ? 1 : 0);
	/* The v2 devices reported their block; the v1 ones said so at the final status. */
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE block_received"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'done'"), 4);
	{
		char *json = job_get(job);

		assert_null(strstr(json, "failed"));
		free(json);
	}
	engine_destroy(e);
}

/* A mixed job whose engine dies in the middle of the transmission: another one continues both
 * sessions from the database, without a frame of a session sent twice, an FCnt, a McKey or a
 * SessionCnt used again. */
static void test_mixed_restart(void **state)
{
	struct engine *a, *b;
	int64_t job;
	char st[32];
	size_t before;
	int v1_index;

	(void)state;
	fresh_db();
	add_dev("00000000000000e1", 0x91, 2);
	add_dev("00000000000000e2", 0x92, 1);
	add_dev("00000000000000e3", 0x93, 2);
	add_dev("00000000000000e4", 0x94, 1);
	T.devs[1].drop_mask = 1u << 2;  /* v1: N = 3, rebuilt from its parity rows */
	T.devs[2].drop_mask = 1u << 19; /* v2: N = 20 */
	job = add_job(0, 4, 3);
	a = new_engine("itest-a", true);
	run(a, job, 2000, 17);
	before = T.n_fcnts;
	assert_true(before >= 17 && before < 46);
	/* Both sessions are under way. */
	assert_true(db_count("SELECT min(frames_sent) FROM engine_session") > 0);
	lease_runs_out();
	b = new_engine("itest-b", true);
	run(b, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 4; i++) {
		assert_image(&T.devs[i]);
		assert_int_equal(T.devs[i].deletes, 2);
		assert_int_equal(T.devs[i].delete_index, T.devs[i].setup.frag_index);
	}
	assert_true(T.devs[0].mic_ok);
	assert_true(T.devs[2].mic_ok);
	/* The frames of both engines: one FCnt sequence, each session's N once. */
	assert_true(T.n_fcnts > before);
	assert_int_equal(T.n_fcnts, 46);
	assert_fcnts_increase();
	for (size_t i = 0; i < before; i++)
		assert_string_equal(T.frame_from[i], "itest-a");
	for (size_t i = before; i < T.n_fcnts; i++)
		assert_string_equal(T.frame_from[i], "itest-b");
	v1_index = assert_two_sessions(0, 4);
	assert_int_equal(session_frames(v1_index), 23);
	assert_int_equal(session_frames(1 - v1_index), 23);
	assert_int_equal(db_count("SELECT count(DISTINCT (frag_index, n)) FROM engine_tx"), 46);
	assert_int_equal(db_count("SELECT count(*) FROM engine_tx"), 46);
	/* One group, one McKey; each v2 device set up once (its SessionCnt never reused). */
	assert_int_equal(db_count("SELECT count(*) FROM multicast_group"), 1);
	assert_int_equal(T.devs[0].setup.session_cnt, 1);
	assert_int_equal(T.devs[2].setup.session_cnt, 1);
	assert_int_equal(db_count("SELECT max(session_cnt) FROM engine_device"), 1);
	assert_int_equal(db_count("SELECT count(*) FROM job WHERE lease_owner IS NOT NULL"), 0);
	engine_destroy(a);
	engine_destroy(b);
}

/* A job an engine without sessions per version set up: its v1 and v2 devices went out on
 * FragIndex 0 alike (migration 022 records that as both versions on 0). One FragIndex can serve
 * one code only: the larger group keeps it, the other fails with its reason. */
static void test_mixed_one_index(void **state)
{
	struct engine *e;
	int64_t job, next = 0;
	char st[32];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("00000000000000f1", 0xa1, 1);
	add_dev("00000000000000f2", 0xa2, 2);
	add_dev("00000000000000f3", 0xa3, 1);
	e = new_engine("itest-a", false);
	job = add_job(0, 3, 3);
	/* The first tick starts the job; no FragSessionSetupReq is out yet. */
	assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
	assert_int_equal(db_count("WITH u AS (UPDATE engine_job SET frag_index_v1 = 0, "
	                          "frag_index_v2 = 0 RETURNING 1) SELECT count(*) FROM u"),
	                 1);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	assert_image(&T.devs[0]);
	assert_image(&T.devs[2]);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "done");
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "failed");
	assert_string_equal(dev_field(devs, T.devs[1].eui, "failure_reason"),
	                    "TS004 v2 device in a job whose session uses v1");
	json_decref(devs);
	assert_int_equal(T.devs[1].setup.frag_index, 0);
	assert_int_equal(T.devs[1].frames, 0); /* never in the multicast session */
	assert_false(T.devs[1].has_group);     /* its group was deleted after the session */
	assert_int_equal(db_count("SELECT count(*) FROM engine_session"), 1);
	assert_int_equal(T.n_fcnts, 23);
	engine_destroy(e);
}

static void test_class_b(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("0000000000000091", 0x51, 1);
	add_dev("0000000000000092", 0x52, 1);
	T.class_b = true;
	e = new_engine("itest-a", true);
	job = add_job_ex(0, 2, 3, 'B', 2);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_int_equal(T.class_b_frames, 23);
	assert_fcnts_increase();
	engine_destroy(e);
}

static int64_t realtime_ms(void);

/* A bigger job: FUOTA_ITEST_SCALE devices (default 100), all answering, one of them losing
 * frames; reports how long the engine needed in wall-clock time. */
static void test_scale(void **state)
{
	const char *env = getenv("FUOTA_ITEST_SCALE");
	size_t n = env ? strtoul(env, NULL, 10) : 100;
	struct engine *e;
	int64_t job, t0, t1, fake0;
	char st[32], eui[17];
	unsigned ticks = 0;

	(void)state;
	if (n < 2 || n > MAX_DEVS)
		n = 100;
	fresh_db();
	for (size_t i = 0; i < n; i++) {
		snprintf(eui, sizeof(eui), "%016zx", 0x1000 + i);
		add_dev(eui, (uint8_t)i, 1);
	}
	T.devs[1].drop_mask = 1u << 3;
	job = add_job(0, n, 4);
	e = new_engine("itest-a", false);
	t0 = realtime_ms();
	fake0 = T.now_ms;
	for (; ticks < 20000 && !job_finished(job); ticks++) {
		int64_t next = 0;

		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		T.now_ms = next > T.now_ms ? next : T.now_ms + 100;
	}
	t1 = realtime_ms();
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < n; i++)
		assert_image(&T.devs[i]);
	print_message("scale: %zu devices, %zu unicast+multicast messages, %u ticks, %lld ms wall, "
	              "%lld s simulated\n",
	              n, T.n_msgs, ticks, (long long)(t1 - t0),
	              (long long)((T.now_ms - fake0) / 1000));
	engine_destroy(e);
}

static int64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fuotad with its engine on the stack's broker; devices and a gateway played by this test over
 * MQTT (JSON uplinks, protobuf gateway frames and acks); the job created through the REST API. */
/* Whatever the end-to-end test left running, even when an assertion cut it short. */
static int e2e_teardown(void **state)
{
	(void)state;
	T.gw_b_json = false;
	T.unicast_timeout_s = 0;
	unsetenv("FUOTA_ENGINE_ADAPTIVE_REDUNDANCY");
	if (T.fd.pid > 0)
		itest_fuotad_stop(&T.fd);
	T.fd.pid = 0;
	if (T.mqtt) {
		mqtt_disconnect(T.mqtt, 1000);
		mqtt_destroy(T.mqtt);
		T.mqtt = NULL;
	}
	mqtt_queue_destroy(T.mq);
	T.mq = NULL;
	unsetenv("FUOTA_MQTT_URL");
	unsetenv("FUOTA_ENGINE_REGIONS");
	return 0;
}

/* Gateway B tells it speaks JSON with a stats message (as one does every 30 s), until fuotad
 * stored it: its first frame is JSON already. */
static void gw_b_says_json(void)
{
	struct cs_gw_stats st;
	char *json = NULL, topic[96];
	size_t n = 0;
	int64_t deadline = realtime_ms() + 10000;

	memset(&st, 0, sizeof(st));
	snprintf(st.gateway_id, sizeof(st.gateway_id), "%s", GW_B);
	assert_int_equal(cs_gw_stats_to_json(&st, &json, &n), FUOTA_OK);
	snprintf(topic, sizeof(topic), "eu868/gateway/%s/event/stats", GW_B);
	while (db_count("SELECT count(*) FROM engine_gateway WHERE gateway_id = '" GW_B "' "
	                "AND encoding = 'json'") != 1) {
		assert_true(realtime_ms() < deadline);
		assert_int_equal(mqtt_publish(T.mqtt, topic, json, n, 1), FUOTA_OK);
		usleep(200 * 1000);
	}
	free(json);
}

/* The plan of an adaptive job made through the API: what the engine may do at most, and a
 * TimeOut that covers it, which is the one the devices were given. */
static void assert_adaptive_plan(unsigned port, const char *token, int64_t job)
{
	char path[64];
	json_t *out = NULL, *plan, *ad;
	json_int_t exp, worst;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", (long long)job);
	assert_int_equal(api_call(port, "GET", path, token, NULL, &out), 200);
	plan = json_object_get(out, "plan");
	ad = json_object_get(plan, "adaptive");
	assert_non_null(ad);
	assert_string_equal(json_string_value(json_object_get(ad, "mode")), "rounds");
	assert_int_equal(json_integer_value(json_object_get(ad, "max_parity_frames")), 20);
	assert_int_equal(json_integer_value(json_object_get(ad, "max_frames")), 40);
	assert_int_equal(json_integer_value(json_object_get(ad, "max_rounds")), ENGINE_ROUNDS_MAX);
	/* 2^(BlockAckDelay 0 + 4) s + the job's 2 s unicast timeout. */
	assert_int_equal(json_integer_value(json_object_get(ad, "round_wait_s")), 16 + 2);
	worst = json_integer_value(json_object_get(ad, "worst_case_multicast_s"));
	assert_true(worst > ENGINE_ROUNDS_MAX * 18);
	assert_int_equal(json_integer_value(json_object_get(plan, "multicast_duration_s")), worst);
	exp = json_integer_value(json_object_get(plan, "multicast_timeout_exp"));
	assert_true((1ll << exp) >= worst && (1ll << exp) / 2 < worst);
	assert_int_equal(json_integer_value(json_object_get(plan, "multicast_timeout_s")),
	                 1ll << exp);
	for (size_t i = 0; i < T.n_devs; i++)
		assert_int_equal(T.devs[i].session_timeout, exp);
	json_decref(out);
}

static bool log_has(const char *path, const char *what)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* Waits up to ms for db_count(sql) to return want. */
static bool db_wait(const char *sql, long long want, int ms)
{
	for (int i = 0; i < ms / 100; i++) {
		struct timespec ts = {0, 100000000};

		if (db_count(sql) == want)
			return true;
		nanosleep(&ts, NULL);
	}
	return db_count(sql) == want;
}

/* fuotad killed with SIGKILL while it holds a job's lease, restarted with the same
 * configuration: it is the same instance (fuotad-<host>-<port>) and renews the lease at once
 * instead of waiting 30 s for it to expire. A second fuotad configured with an instance id a
 * running one holds is refused. */
static void test_instance_restart(void **state)
{
	struct itest_fuotad *fd = &T.fd, dup;
	char host[32] = "host", id[96], sql[256];
	long long until;
	int st = 0;

	(void)state;
	fresh_db();
	add_dev("00000000000000e1", 0xa1, 1);
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:eu868:off", 1);
	memset(fd, 0, sizeof(*fd));
	snprintf(fd->bin, sizeof(fd->bin), "%s", argv_bin);
	snprintf(fd->dsn, sizeof(fd->dsn), "%s", T.dsn);
	snprintf(fd->log, sizeof(fd->log), "%s/itest_engine_instance.log", argv_dir);
	unlink(fd->log);
	assert_int_equal(itest_fuotad_start(fd), 0);
	gethostname(host, sizeof(host) - 1);
	snprintf(id, sizeof(id), "fuotad-%s-%u", host, fd->port);
	add_job(0, 1, 2);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM job WHERE lease_owner = '%s'", id);
	assert_true(db_wait(sql, 1, 10000));
	kill(fd->pid, SIGKILL);
	waitpid(fd->pid, &st, 0);
	fd->pid = 0;
	until = db_count("SELECT (extract(epoch FROM lease_until) * 1000)::bigint FROM job");
	fd->want_port = fd->port;
	assert_int_equal(itest_fuotad_start(fd), 0);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job WHERE lease_owner = '%s' AND "
	         "(extract(epoch FROM lease_until) * 1000)::bigint > %lld",
	         id, until);
	/* The lease had ~30 s to run: renewed within 5 s, it was taken back, not waited for. */
	assert_true(db_wait(sql, 1, 5000));
	/* Another fuotad with that id, given explicitly: refused at start, and says why. */
	memset(&dup, 0, sizeof(dup));
	snprintf(dup.bin, sizeof(dup.bin), "%s", argv_bin);
	snprintf(dup.dsn, sizeof(dup.dsn), "%s", T.dsn);
	snprintf(dup.log, sizeof(dup.log), "%s/itest_engine_instance_dup.log", argv_dir);
	unlink(dup.log);
	setenv("FUOTA_ENGINE_INSTANCE_ID", id, 1);
	/* Its API may answer /readyz while its engine still waits for the id (a killed
	 * predecessor's session may take a moment to end): it must exit within seconds. */
	if (itest_fuotad_start(&dup) == 0) {
		pid_t done = 0;

		for (int i = 0; i < 100 && done != dup.pid; i++) {
			struct timespec ts = {0, 100000000};

			done = waitpid(dup.pid, &st, WNOHANG);
			if (done != dup.pid)
				nanosleep(&ts, NULL);
		}
		if (done != dup.pid)
			itest_fuotad_stop(&dup);
		assert_int_equal(done, dup.pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
		dup.pid = 0;
	}
	unsetenv("FUOTA_ENGINE_INSTANCE_ID");
	assert_true(log_has(dup.log, "is held by another running fuotad: refused"));
	/* The first one still holds it and goes on. */
	assert_true(db_wait(sql, 1, 1000));
}

/* Plays the network and the gateways for a fuotad over the broker: every message it publishes,
 * tagged `tag`, until done() or the deadline (realtime ms) passes. */
static void world_run(const char *tag, bool (*done)(int64_t), int64_t job, int64_t deadline)
{
	while (!done(job)) {
		struct mqtt_msg *m = NULL;

		assert_true(realtime_ms() < deadline);
		T.now_ms = realtime_ms();
		deliver_answers(NULL);
		if (mqtt_queue_pop(T.mq, 100, &m) != FUOTA_OK)
			continue;
		fake_publish((void *)(uintptr_t)tag, m->topic, m->payload, m->len);
		mqtt_msg_free(m);
		T.now_ms = realtime_ms();
		pump(NULL);
	}
}

static bool four_frames(int64_t job)
{
	(void)job;
	return T.n_fcnts >= 4;
}

/* The same for ms, whatever happens. */
static void world_for(const char *tag, int64_t ms)
{
	int64_t end = realtime_ms() + ms;
	struct mqtt_msg *m = NULL;

	while (realtime_ms() < end) {
		T.now_ms = realtime_ms();
		deliver_answers(NULL);
		if (mqtt_queue_pop(T.mq, 50, &m) != FUOTA_OK)
			continue;
		fake_publish((void *)(uintptr_t)tag, m->topic, m->payload, m->len);
		mqtt_msg_free(m);
		T.now_ms = realtime_ms();
		pump(NULL);
	}
}

/* Starts fuotad (T.fd) with instance id `id` for the world of this test, logging to log. */
static void lock_fuotad_start(const char *id, const char *log)
{
	struct itest_fuotad *fd = &T.fd;

	memset(fd, 0, sizeof(*fd));
	snprintf(fd->bin, sizeof(fd->bin), "%s", argv_bin);
	snprintf(fd->dsn, sizeof(fd->dsn), "%s", T.dsn);
	snprintf(fd->log, sizeof(fd->log), "%s/%s", argv_dir, log);
	unlink(fd->log);
	setenv("FUOTA_ENGINE_INSTANCE_ID", id, 1);
	assert_int_equal(itest_fuotad_start(fd), 0);
	unsetenv("FUOTA_ENGINE_INSTANCE_ID");
}

/* fuotad A sends a job's frames; the session holding its instance lock is ended by the server
 * (pg_terminate_backend, as a database restart or a broken path would) and, before A can take
 * the lock again, another session holds the id: A stops sending at once, says it refuses to go
 * on, and exits with an error. fuotad B, started with the same id, takes the job over and
 * finishes it; no FCnt went out twice, and none A sent was taken after its lock was gone. */
static void test_lock_lost(void **state)
{
	static const char *const filters[] = {"application/+/device/+/command/down",
	                                      "eu868/gateway/+/command/down", "fuota/#"};
	struct mqtt_options opt;
	char token[80], body[1024], st[32], sql[512];
	json_t *out = NULL;
	int64_t job, t_lost, t_exit;
	long long fcnt_fence;
	size_t a_frames;
	PGconn *hold;
	PGresult *r;
	int status = 0;

	(void)state;
	fresh_db();
	add_dev("0000000000000071", 0x31, 1);
	add_dev("0000000000000072", 0x32, 2);
	T.unicast_timeout_s = 2;
	assert_int_equal(mqtt_queue_create(0, &T.mq), FUOTA_OK);
	assert_int_equal(mqtt_paho_create(&T.mqtt), FUOTA_OK);
	memset(&opt, 0, sizeof(opt));
	opt.client_id = "itest-engine-world";
	opt.clean_session = true;
	assert_int_equal(mqtt_connect(T.mqtt, T.env.mqtt_url, &opt), FUOTA_OK);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(mqtt_subscribe(T.mqtt, filters[i], 1, mqtt_queue_on_message, T.mq),
		                 FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(T.mqtt, 10000), FUOTA_OK);
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:eu868:off", 1);
	lock_fuotad_start("itest-lock", "itest_engine_lock_a.log");
	assert_int_equal(itest_token(argv_bin, T.dsn, false, 1, token), 0);
	snprintf(body, sizeof(body),
	         "{\"name\":\"lock\",\"firmware_id\":%lld,\"devices\":[\"%s\",\"%s\"],"
	         "\"redundancy_frames\":6,\"unicast_timeout_s\":2,\"unicast_attempts\":2,"
	         "\"data_rate\":5,\"frequency_hz\":869525000,\"region\":\"EU868\","
	         "\"fragment_size\":%d,\"multicast_class\":\"C\"}",
	         (long long)T.firmware_id, T.devs[0].eui, T.devs[1].eui, FRAG_SIZE);
	assert_int_equal(api_call(T.fd.port, "POST", "/api/v1/jobs", token, body, &out), 201);
	job = json_integer_value(json_object_get(out, "id"));
	json_decref(out);
	world_run("A", four_frames, job, realtime_ms() + 60000);
	/* A's lock session ended; this test's session queues for the lock in the same statement,
	 * so it holds the id before A can take it back. */
	hold = PQconnectdb(T.dsn);
	assert_int_equal(PQstatus(hold), CONNECTION_OK);
	t_lost = realtime_ms();
	/* Only this test's database: the other tests' fuotads, running beside it on the same
	 * PostgreSQL, hold locks of the same class. */
	r = PQexec(hold, "WITH t AS MATERIALIZED (SELECT pg_terminate_backend(pid) FROM pg_locks "
	                 "WHERE locktype = 'advisory' AND classid = 1718972276 AND objsubid = 2 "
	                 "AND database = (SELECT oid FROM pg_database WHERE datname = "
	                 "current_database()) AND granted AND pid <> pg_backend_pid()) "
	                 "SELECT pg_advisory_lock(1718972276, hashtext('itest-lock')) FROM t");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(r), 1);
	PQclear(r);
	/* A frame that passed the fence before the session ended has committed by now. */
	{
		struct timespec ts = {0, 300000000};

		nanosleep(&ts, NULL);
	}
	fcnt_fence = db_count("SELECT fcnt FROM multicast_group");
	/* A stops and exits by itself, with an error and the reason in its log. */
	for (int i = 0; i < 150 && T.fd.pid > 0; i++) {
		if (waitpid(T.fd.pid, &status, WNOHANG) == T.fd.pid)
			T.fd.pid = 0;
		else
			world_for("A", 100);
	}
	t_exit = realtime_ms();
	assert_int_equal(T.fd.pid, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	assert_true(log_has(T.fd.log, "its lock's database session ended"));
	assert_true(log_has(T.fd.log, "refused to continue"));
	print_message("lock lost: fuotad A exited %lld ms after its lock session ended\n",
	              (long long)(t_exit - t_lost));
	/* What A published before it stopped, still on its way. */
	world_for("A", 1000);
	a_frames = T.n_fcnts;
	for (size_t i = 0; i < a_frames; i++)
		assert_true(T.fcnts[i] < (uint32_t)fcnt_fence);
	/* Its leases are left as they were (another process with the id may own them). */
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job WHERE id = %lld AND lease_owner = 'itest-lock'",
	         (long long)job);
	assert_int_equal(db_count(sql), 1);
	/* The other holder of the id lets go; B starts with it and finishes the job. */
	PQfinish(hold);
	lock_fuotad_start("itest-lock", "itest_engine_lock_b.log");
	world_run("B", job_finished, job, realtime_ms() + 90000);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_true(T.n_fcnts > a_frames);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT count(*) - count(DISTINCT fcnt) FROM engine_tx"), 0);
}

/* The test's own MQTT client: it is the network server and the gateway. */
static void world_connect(void)
{
	static const char *const filters[] = {"application/+/device/+/command/down",
	                                      "eu868/gateway/+/command/down", "fuota/#"};
	struct mqtt_options opt;

	assert_int_equal(mqtt_queue_create(0, &T.mq), FUOTA_OK);
	assert_int_equal(mqtt_paho_create(&T.mqtt), FUOTA_OK);
	memset(&opt, 0, sizeof(opt));
	opt.client_id = "itest-engine-world";
	opt.clean_session = true;
	assert_int_equal(mqtt_connect(T.mqtt, T.env.mqtt_url, &opt), FUOTA_OK);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(mqtt_subscribe(T.mqtt, filters[i], 1, mqtt_queue_on_message, T.mq),
		                 FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(T.mqtt, 10000), FUOTA_OK);
}

static void mqtt_end_to_end(bool gw_b_json, bool adaptive)
{
	struct itest_fuotad *fd = &T.fd;
	char token[80], body[1024], path[64], st[32];
	json_t *out = NULL;
	int64_t job, deadline;

	fresh_db();
	add_dev("0000000000000061", 0x21, 2);
	add_dev("0000000000000062", 0x22, 2);
	T.devs[0].drop_mask = 1u << 6;
	if (adaptive) /* more than the first batch brings back: a round */
		T.devs[0].drop_mask = (0x3Fu << 3) | (0xFu << 20);
	T.gw_b_json = gw_b_json;
	T.unicast_timeout_s = 2;
	T.tx_power_dbm = gw_b_json ? 20 : 0; /* a job's own power, in both encodings */
	T.devs[1].in_range_b = gw_b_json;    /* then each gateway serves one device */
	memset(T.gw_frames, 0, sizeof(T.gw_frames));
	T.gw_json_frames = 0;
	world_connect();
	memset(fd, 0, sizeof(*fd));
	snprintf(fd->bin, sizeof(fd->bin), "%s", argv_bin);
	snprintf(fd->dsn, sizeof(fd->dsn), "%s", T.dsn);
	snprintf(fd->log, sizeof(fd->log), "%s/itest_engine.fuotad.log", argv_dir);
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:eu868:off", 1);
	if (adaptive)
		setenv("FUOTA_ENGINE_ADAPTIVE_REDUNDANCY", "1", 1);
	assert_int_equal(itest_fuotad_start(fd), 0);
	assert_int_equal(itest_token(argv_bin, T.dsn, false, 1, token), 0);
	if (gw_b_json)
		gw_b_says_json();
	snprintf(body, sizeof(body),
	         "{\"name\":\"e2e\",\"firmware_id\":%lld,\"devices\":[\"%s\",\"%s\"],"
	         "\"redundancy_frames\":4,\"unicast_timeout_s\":2,\"unicast_attempts\":2,"
	         "\"data_rate\":5,\"frequency_hz\":869525000,\"region\":\"EU868\","
	         "\"fragment_size\":%d,\"multicast_class\":\"C\"%s}",
	         (long long)T.firmware_id, T.devs[0].eui, T.devs[1].eui, FRAG_SIZE,
	         T.tx_power_dbm ? ",\"tx_power_dbm\":20" : "");
	assert_int_equal(api_call(fd->port, "POST", "/api/v1/jobs", token, body, &out), 201);
	job = json_integer_value(json_object_get(out, "id"));
	json_decref(out);
	deadline = realtime_ms() + 90000;
	while (!job_finished(job)) {
		struct mqtt_msg *m = NULL;

		assert_true(realtime_ms() < deadline);
		T.now_ms = realtime_ms();
		deliver_answers(NULL);
		while (mqtt_queue_pop(T.mq, 200, &m) == FUOTA_OK) {
			fake_publish(NULL, m->topic, m->payload, m->len);
			mqtt_msg_free(m);
			T.now_ms = realtime_ms();
			pump(NULL);
			deliver_answers(NULL);
		}
	}
	/* The final state event is published after the state is committed: wait for it. */
	deadline = realtime_ms() + 5000;
	while (T.events_state < 2 && realtime_ms() < deadline) {
		struct mqtt_msg *m = NULL;

		if (mqtt_queue_pop(T.mq, 200, &m) != FUOTA_OK)
			continue;
		fake_publish(NULL, m->topic, m->payload, m->len);
		mqtt_msg_free(m);
		pump(NULL);
	}
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_true(T.devs[0].mic_ok);
	assert_true(T.devs[1].mic_ok);
	if (adaptive) {
		/* Rounds: the batches the devices' answers called for, in a session as long as the
		 * plan said. */
		assert_true(check_rounds(T.devs[0].setup.frag_index, 2, 4) >= 1);
		assert_true(answers_of(0) >= 1);
		assert_adaptive_plan(fd->port, token, job);
		assert_fcnts_increase();
	} else if (!gw_b_json) {
		assert_int_equal(T.n_fcnts, 24);
		assert_fcnts_increase();
	} else {
		/* Every frame through both gateways, with the same FCnt. */
		assert_int_equal(T.n_fcnts, 48);
	}
	assert_true(T.events_state >= 2);
	assert_true(T.events_device >= 2 * 6);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices", (long long)job);
	assert_int_equal(api_call(fd->port, "GET", path, token, NULL, &out), 200);
	{
		char *text = json_dumps(out, JSON_COMPACT);

		assert_non_null(text);
		assert_non_null(strstr(text, "\"step\":\"done\""));
		assert_null(strstr(text, "\"step\":\"failed\""));
		free(text);
	}
	json_decref(out);
	if (gw_b_json) {
		json_t *items, *a, *b;

		assert_int_equal(T.gw_frames[0], 24);
		assert_int_equal(T.gw_frames[1], 24);
		assert_int_equal(T.gw_json_frames, T.gw_frames[1]);
		/* Gateway A was heard too (its protobuf acks). */
		assert_int_equal(api_call(fd->port, "GET", "/api/v1/gateways", token, NULL, &out),
		                 200);
		items = json_object_get(out, "items");
		assert_int_equal(json_array_size(items), 2);
		a = json_array_get(items, 0);
		b = json_array_get(items, 1);
		assert_string_equal(json_string_value(json_object_get(a, "gateway_id")), GW_A);
		assert_string_equal(json_string_value(json_object_get(a, "encoding")), "protobuf");
		assert_string_equal(json_string_value(json_object_get(b, "gateway_id")), GW_B);
		assert_string_equal(json_string_value(json_object_get(b, "encoding")), "json");
		json_decref(out);
	}
	/* A clean shutdown (and, in the ASan build, no sanitizer report). */
	assert_int_equal(itest_fuotad_stop(fd), 0);
	fd->pid = 0;
}

static void test_mqtt_end_to_end(void **state)
{
	(void)state;
	mqtt_end_to_end(false, false);
}

/* The same with [engine] adaptive_redundancy = 1: the job's plan says what rounds may take, its
 * TimeOut covers that, and the engine runs the job with that TimeOut and in rounds. */
static void test_mqtt_adaptive_api_job(void **state)
{
	(void)state;
	mqtt_end_to_end(false, true);
}

static void test_mqtt_json_gateway(void **state)
{
	(void)state;
	mqtt_end_to_end(true, false);
}

/* An outage of this test's database, as fuotad sees a PostgreSQL restart: no connection
 * allowed and every one cut (down), or connections allowed again. */
static void db_outage(bool down)
{
	char admin[640], sql[256], name[128];
	const char *p = strstr(T.dsn, "dbname=");
	PGconn *c;
	PGresult *r;

	assert_non_null(p);
	snprintf(name, sizeof(name), "%s", p + 7);
	name[strcspn(name, " ")] = 0;
	snprintf(admin, sizeof(admin), "host=%s port=%s user=%s password=%s dbname=postgres",
	         T.env.pg_host, T.env.pg_port, T.env.pg_user, T.env.pg_password);
	c = PQconnectdb(admin);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s WITH ALLOW_CONNECTIONS %s", name,
	         down ? "false" : "true");
	r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	if (down) {
		/* The instance lock's session is spared: a lost lock stops the engine altogether
		 * (test_lock_lost), while this is about the messages it reads while its pool is
		 * away. */
		snprintf(sql, sizeof(sql),
		         "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
		         "WHERE datname = '%s' AND application_name <> 'fuotad-instance-lock'",
		         name);
		r = PQexec(c, sql);
		assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
		PQclear(r);
	} else {
		char err[256];

		/* The test's own pool lost its connections with the others. */
		store_close(T.store);
		T.store = NULL;
		assert_int_equal(store_open(T.dsn, 2, &T.store, err, sizeof(err)), FUOTA_OK);
	}
	PQfinish(c);
}

/* The messages fuotad's log says it handled again once the database was back. */
static size_t replayed(const char *log)
{
	FILE *f = fopen(log, "r");
	char line[1024];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "engine: ");
		unsigned long k = 0;

		if (p && strstr(p, "messages handled again now that the database is back") &&
		    sscanf(p, "engine: %lu messages", &k) == 1)
			n += k;
	}
	fclose(f);
	return n;
}

/* McGroupSetupReq published by fuotad and not yet given to the devices. */
static size_t setup_reqs_waiting(void)
{
	size_t n = 0;

	for (size_t i = T.next_msg; i < T.n_msgs; i++) {
		struct cs_downlink dl;

		if (!strstr(T.msgs[i].topic, "/command/down") ||
		    strncmp(T.msgs[i].topic, "application/", 12) != 0 ||
		    cs_downlink_from_json((const char *)T.msgs[i].data, T.msgs[i].len, &dl, NULL,
		                          0) != FUOTA_OK)
			continue;
		n += dl.f_port == 200 && dl.data_len > 0 && dl.data[0] == MC_CID_GROUP_SETUP;
	}
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Takes what the broker brought for `ms` (not given to the devices). */
static void world_take(long ms)
{
	int64_t until = realtime_ms() + ms;
	struct mqtt_msg *m = NULL;

	while (realtime_ms() < until)
		if (mqtt_queue_pop(T.mq, 50, &m) == FUOTA_OK) {
			fake_publish(NULL, m->topic, m->payload, m->len);
			mqtt_msg_free(m);
		}
}

/* The uplinks that reach fuotad while its database is away are kept and handled once it is
 * back: with PostgreSQL cut between the McGroupSetupReq and the devices' answers, every answer
 * given during the outage moves its device on (none is asked twice: a lost answer would be
 * asked again after the unicast timeout), and the job completes. */
static void test_db_outage_replay(void **state)
{
	struct itest_fuotad *fd = &T.fd;
	int64_t job, deadline;
	size_t waiting = 0, n_devs = 3;
	unsigned answers_in_outage = 0;
	bool cut = false;

	(void)state;
	fresh_db();
	for (size_t i = 0; i < n_devs; i++) {
		char eui[17];

		snprintf(eui, sizeof(eui), "00000000000000a%zu", i);
		add_dev(eui, (uint8_t)(0x61 + i), 1);
	}
	world_connect();
	memset(fd, 0, sizeof(*fd));
	snprintf(fd->bin, sizeof(fd->bin), "%s", argv_bin);
	snprintf(fd->dsn, sizeof(fd->dsn), "%s", T.dsn);
	snprintf(fd->log, sizeof(fd->log), "%s/itest_engine_outage.log", argv_dir);
	unlink(fd->log);
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:eu868:off", 1);
	assert_int_equal(itest_fuotad_start(fd), 0);
	job = add_job(0, n_devs, 2);
	deadline = realtime_ms() + 120000;
	while (!cut || !job_finished(job)) {
		assert_true(realtime_ms() < deadline);
		world_take(200);
		T.now_ms = realtime_ms();
		if (!cut && setup_reqs_waiting() > 0) {
			/* Every device's request out (they go within moments of each other). */
			world_take(1000);
			waiting = setup_reqs_waiting();
			db_outage(true);
			sleep_ms(500);
			T.now_ms = realtime_ms();
			pump(NULL); /* the answers go to the broker while the database is away */
			for (size_t i = 0; i < n_devs; i++)
				answers_in_outage += T.devs[i].setup_reqs;
			sleep_ms(2000);
			db_outage(false);
			cut = true;
			continue;
		}
		pump(NULL);
		deliver_answers(NULL);
	}
	assert_int_equal(waiting, n_devs);
	assert_int_equal(answers_in_outage, n_devs);
	assert_all_done(job, n_devs);
	for (size_t i = 0; i < n_devs; i++)
		assert_int_equal(T.devs[i].setup_reqs, 1);
	/* fuotad read them during the outage, kept and handled them again. */
	assert_true(replayed(fd->log) >= n_devs);
	assert_int_equal(itest_fuotad_stop(fd), 0);
	fd->pid = 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_tenant_keyed_gateways),
	        cmocka_unit_test(test_class_c_v1_no_loss),
	        cmocka_unit_test(test_loss_parity_refusal_and_silent_device),
	        cmocka_unit_test(test_retry_failed),
	        cmocka_unit_test(test_restart_mid_transmission),
	        cmocka_unit_test(test_clock_sync_and_resync),
	        cmocka_unit_test(test_crash_in_session_phase),
	        cmocka_unit_test(test_unheard_device_failure_not_stored),
	        cmocka_unit_test(test_resync_waits_for_app_time),
	        cmocka_unit_test(test_uplink_other_application),
	        cmocka_unit_test(test_late_start_missed_after_move),
	        cmocka_unit_test(test_replayed_session_ans),
	        cmocka_unit_test(test_session_ans_in_flight_at_move),
	        cmocka_unit_test(test_start_missed_behind_old_copy),
	        cmocka_unit_test(test_unacked_frame_sent_again),
	        cmocka_unit_test(test_v2_session_cnt_and_mic),
	        cmocka_unit_test(test_loramac_node_status),
	        cmocka_unit_test(test_lbm_block_then_status),
	        cmocka_unit_test(test_setup_not_enough_memory),
	        cmocka_unit_test(test_round_done_then_mic_error),
	        cmocka_unit_test(test_loramac_node_ts006),
	        cmocka_unit_test(test_cancel),
	        cmocka_unit_test(test_pause_resume),
	        cmocka_unit_test(test_adaptive_v2),
	        cmocka_unit_test(test_adaptive_stream),
	        cmocka_unit_test(test_adaptive_rounds_restart),
	        cmocka_unit_test(test_adaptive_pause_in_wait),
	        cmocka_unit_test(test_adaptive_pause_block_received),
	        cmocka_unit_test(test_adaptive_cancel_in_wait),
	        cmocka_unit_test(test_adaptive_wait_answered),
	        cmocka_unit_test(test_adaptive_report_lost),
	        cmocka_unit_test(test_adaptive_v1),
	        cmocka_unit_test(test_adaptive_v1_answer_lost_in_restart),
	        cmocka_unit_test(test_two_engines),
	        cmocka_unit_test(test_mixed_versions),
	        cmocka_unit_test(test_mixed_adaptive),
	        cmocka_unit_test(test_mixed_restart),
	        cmocka_unit_test(test_mixed_one_index),
	        cmocka_unit_test(test_class_b),
	        cmocka_unit_test(test_scale),
	        cmocka_unit_test_teardown(test_instance_restart, e2e_teardown),
	        cmocka_unit_test_teardown(test_lock_lost, e2e_teardown),
	        cmocka_unit_test_teardown(test_mqtt_end_to_end, e2e_teardown),
	        cmocka_unit_test_teardown(test_mqtt_json_gateway, e2e_teardown),
	        cmocka_unit_test_teardown(test_mqtt_adaptive_api_job, e2e_teardown),
	        cmocka_unit_test_teardown(test_db_outage_replay, e2e_teardown),
	};
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: %s FUOTAD SERVICES_ENV [WORKDIR]\n", argv[0]);
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argc > 3 ? argv[3] : "/tmp";
	if (itest_env_load(argv_env, &T.env) != 0) {
		fprintf(stderr, "itest_engine: cannot read %s\n", argv_env);
		return 1;
	}
	/* ITEST_ONLY=pattern (* and ? match) runs the tests of that name only. */
	if (getenv("ITEST_ONLY"))
		cmocka_set_test_filter(getenv("ITEST_ONLY"));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	store_close(T.store);
	msgs_clear();
	free(T.msgs);
	json_decref(T.last_progress);
	for (size_t i = 0; i < T.n_devs; i++)
		free(T.devs[i].mem);
	return rc;
}
