/* The multicast side of a job: DataFragment frames built by fuotad (McAppSKey encryption,
 * McNwkSKey MIC, the group's FCnt taken from the database and committed before the frame leaves),
 * sent as gw.DownlinkFrame to every gateway of the job's cover set, paced by each gateway's duty
 * cycle, and sent again through a gateway that refused one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "engine_int.h"
#include "fuota/bytes.h"
#include "fuota/err.h"
#include "fuota/frag_cmd.h"
#include "fuota/frag_row.h"
#include "fuota/log.h"
#include "fuota/lw_airtime.h"
#include "fuota/lw_frame.h"
#include "fuota/lw_region.h"
#include "fuota/mc_session.h"
#include "fuota/recount.h"
#include "fuota/tx_next.h"

#define FRAMES_PER_TICK 64
#define PROGRESS_EVERY  16
#define ACK_POLL_MS     500

int engine_tx_fragment(struct engine_cache *c, int code_version, int frag_index, uint32_t n,
                       uint8_t *out, size_t cap, size_t *len)
{
	size_t fs = c->frag_size;
	int v = code_version >= 2 ? 1 : 0;

	if (n == 0 || n > FRAG_MAX_N || cap < fs + 3 || frag_index < 0 || frag_index > 3)
		return FUOTA_ERR_INVALID_ARG;
	out[0] = FRAG_CID_DATA_FRAGMENT;
	/* IndexAndN: bits 13..0 N, bits 15..14 FragIndex (the session the fragment belongs to). */
	fuota_put_le16(out + 1, (uint16_t)((n & 0x3FFF) | (uint32_t)frag_index << 14));
	if (n <= c->nb_frag) {
		memcpy(out + 3, c->frags + (size_t)(n - 1) * fs, fs);
	} else {
		/* Parity row n - M of the session's code (frag_enc: the fast encoder, any row on
		 * demand, which adaptive redundancy needs). */
		if (!c->enc_ready[v]) {
			struct frag_code code = {c->nb_frag, v ? FRAG_V2 : FRAG_V1,
			                         FRAG_SEED_RELATIVE};
			size_t need;
			int rc = frag_enc_init(&c->enc[v], &code, c->frag_size, c->frags,
			                       (size_t)c->nb_frag * fs, FRAG_ENC_ISA_AUTO);

			if (rc != FUOTA_OK)
				return rc;
			need = frag_enc_row_scratch_size(&c->enc[v]);
			if (need > c->scratch_len) {
				void *p = realloc(c->scratch, need);

				if (!p)
					return FUOTA_ERR_NO_MEMORY;
				c->scratch = p;
				c->scratch_len = need;
			}
			c->enc_ready[v] = true;
		}
		{
			int rc = frag_enc_row(&c->enc[v], n - c->nb_frag, out + 3, c->scratch,
			                      c->scratch_len);

			if (rc != FUOTA_OK)
				return rc;
		}
	}
	*len = fs + 3;
	return FUOTA_OK;
}

/* The radio settings of the job's frames. */
struct tx_radio {
	const struct lw_region *region;
	const struct lw_dr *dr;
	uint16_t dc_inv;
	char prefix[64];
	uint64_t airtime_us;
};

/* GPS-timed class C frames (engine cfg gps_timing): handed to the gateways up to GPS_LEAD_MS before
 * they are free, on air GPS_GAP_MS after the previous frame ends, and never booked less than
 * GPS_MIN_LEAD_MS ahead (MQTT and the gateway's own scheduling need that long). */
#define GPS_LEAD_MS     1000
#define GPS_GAP_MS      20
#define GPS_MIN_LEAD_MS 500

static int radio(struct engine *e, const struct seng_job *j, struct tx_radio *r)
{
	struct engine_region_cfg rc;
	const struct lw_subband *sb;

	r->region = lw_region_find(j->region);
	if (!r->region || lw_region_dr(r->region, j->dr, &r->dr) != FUOTA_OK)
		return FUOTA_ERR_INVALID_ARG;
	engine_region_cfg(e, r->region->name, &rc);
	snprintf(r->prefix, sizeof(r->prefix), "%s", rc.topic_prefix);
	sb = lw_region_subband(r->region, j->freq_hz);
	r->dc_inv = rc.duty_cycle && sb ? sb->duty_cycle_inv : 1;
	return lw_airtime_lorawan_us(r->dr,
	                             LW_DATA_FRAME_OVERHEAD + LW_FRAG_HEADER_LEN + j->frag_size,
	                             true, &r->airtime_us);
}

static int publish_frame(struct engine *e, const struct seng_job *j, const struct tx_radio *r,
                         const char *gw, uint32_t downlink_id, const uint8_t *phy, size_t phy_len,
                         int64_t at_gps_ms, uint32_t freq_hz)
{
	struct cs_gw_downlink d;
	char topic[160];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	memset(&d, 0, sizeof(d));
	d.downlink_id = downlink_id;
	snprintf(d.gateway_id, sizeof(d.gateway_id), "%s", gw);
	memcpy(d.phy, phy, phy_len);
	d.phy_len = phy_len;
	d.frequency = freq_hz;
	/* The job's power, capped by the sub-band of this frame's frequency (class B may hop). */
	d.power = lw_region_tx_power_dbm(r->region, freq_hz, j->has_tx_power, j->tx_power_dbm);
	d.fsk = r->dr->modulation == LW_MOD_FSK;
	d.bandwidth = r->dr->bandwidth_hz;
	d.spreading_factor = r->dr->sf;
	d.fsk_datarate = r->dr->fsk_bitrate_bps;
	d.fsk_fdev = r->dr->fsk_fdev_hz;
	d.polarization_inversion = 1; /* downlinks are sent with inverted IQ */
	if (at_gps_ms > 0) {
		d.timing = CS_TIMING_GPS_EPOCH;
		d.timing_ns = at_gps_ms * 1000000;
	} else {
		d.timing = CS_TIMING_IMMEDIATELY;
	}
	rc = cs_gw_downlink_to_proto(&d, &buf, &len);
	if (rc != FUOTA_OK)
		return rc;
	snprintf(topic, sizeof(topic), "%s/gateway/%s/command/down", r->prefix, gw);
	rc = engine_pub(e, topic, buf, len);
	free(buf);
	return rc;
}

static uint32_t random_id(void)
{
	uint8_t b[4];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return 0;
	return fuota_get_le32(b) & 0x7FFFFFFFu;
}

/* n fresh downlink ids (one per gateway of a frame), calloc'd; NULL without memory. */
static uint32_t *downlink_ids(size_t n)
{
	uint32_t *ids = calloc(n ? n : 1, sizeof(uint32_t));

	for (size_t i = 0; ids && i < n; i++)
		ids[i] = random_id();
	return ids;
}

/* The group's frame with FCnt fcnt (taken and committed by the caller) carrying payload on the
 * fragmentation port, encrypted with the group's keys, through each gateway gws[i] as downlink
 * ids[i]. */
static int publish_mc(struct engine *e, const struct seng_job *j, const struct engine_cache *c,
                      const struct tx_radio *r, const uint8_t *payload, size_t plen, uint32_t fcnt,
                      const char (*gws)[SENG_EUI_LEN], const uint32_t *ids, size_t n_gws,
                      int64_t at_gps_ms, uint32_t freq_hz)
{
	uint8_t phy[LW_PHY_MAX_LEN];
	size_t phy_len = 0;
	struct lw_frame_tx tx;
	int rc;

	memset(&tx, 0, sizeof(tx));
	tx.mtype = LW_MTYPE_UNCONF_DATA_DOWN;
	tx.dev_addr = c->mc_addr;
	tx.fcnt = fcnt;
	tx.has_fport = true;
	tx.fport = e->cfg.port_frag;
	tx.payload = payload;
	tx.payload_len = plen;
	rc = lw_frame_build(&tx, c->app_s_key, c->nwk_s_key, phy, sizeof(phy), &phy_len);
	for (size_t i = 0; rc == FUOTA_OK && i < n_gws; i++)
		publish_frame(e, j, r, gws[i], ids[i], phy, phy_len, at_gps_ms, freq_hz);
	return rc;
}

/* Class B: the first ping slot of the session at or after after_unix_ms. */
static int classb_slot(const struct seng_job *j, const struct tx_radio *r, int64_t after_unix_ms,
                       struct mc_slot *slot)
{
	struct mc_classb_session s;

	memset(&s, 0, sizeof(s));
	s.mc_addr = j->mc_addr;
	s.start_s = engine_unix_to_gps_ms(j->session_start_ms) / 1000;
	s.timeout = j->session_timeout;
	s.periodicity =
	        (uint8_t)(j->ping_periodicity >= 0 && j->ping_periodicity <= 7 ? j->ping_periodicity
	                                                                       : 0);
	s.dl_freq_hz = j->freq_hz;
	s.plan.nb_channels = r->region->classb_channels ? r->region->classb_channels : 1;
	s.plan.base_hz = r->region->ping_slot_freq_hz;
	s.plan.step_hz = r->region->classb_step_hz;
	return mc_classb_next_slot(&s, engine_unix_to_gps_ms(after_unix_ms), slot);
}

/* The multicast FragSessionStatusReq of a round for session frag_index of TS004 code_version:
 * Participants = 0, only the devices still missing fragments answer. */
static int status_req(int code_version, int frag_index, uint8_t *out, size_t cap, size_t *len)
{
	struct frag_cmd fc;

	memset(&fc, 0, sizeof(fc));
	fc.type = FRAG_CMD_SESSION_STATUS_REQ;
	fc.u.status_req.frag_index = (uint8_t)(frag_index & 0x03);
	return frag_cmd_encode(&fc, code_version >= 2 ? FRAG_V2 : FRAG_V1, out, cap, len);
}

/* Sends frame n of session frag_index (new_frame) or resends it through one gateway (n = 0: a
 * round's status request). */
static int send_frame(struct engine *e, struct seng_job *j, struct engine_cache *c,
                      const struct tx_radio *r, int code_version, int frag_index, uint32_t n,
                      bool new_frame, int64_t resend_of, const char (*gws)[SENG_EUI_LEN],
                      size_t n_gws, int64_t at_gps_ms, uint32_t freq_hz, int64_t now_ms,
                      int64_t next_tx_ms, int64_t gateway_free_ms)
{
	uint8_t payload[FRAG_CMD_MAX_LEN];
	size_t plen = 0;
	uint32_t *ids = downlink_ids(n_gws);
	struct seng_frame f;
	uint32_t fcnt = 0;
	int rc;

	if (!ids)
		return FUOTA_ERR_NO_MEMORY;
	if (n == 0) /* A refused multicast FragSessionStatusReq of a round (send_status), again. */
		rc = status_req(code_version, frag_index, payload, sizeof(payload), &plen);
	else
		rc = engine_tx_fragment(c, code_version, frag_index, n, payload, sizeof(payload),
		                        &plen);
	if (rc != FUOTA_OK)
		goto out;
	memset(&f, 0, sizeof(f));
	f.lease = engine_lease(e);
	f.job_id = j->id;
	f.group_id = j->mc_group_id;
	f.frag_index = frag_index;
	f.n = n;
	f.new_frame = new_frame;
	f.resend_of = resend_of;
	f.gateways = gws;
	f.downlink_ids = ids;
	f.n_gateways = n_gws;
	f.now_ms = now_ms;
	f.next_tx_ms = next_tx_ms;
	f.gateway_free_ms = gateway_free_ms;
	/* The FCnt is taken and committed first: whatever happens next, it is never used again. */
	rc = seng_frame(e->store, &f, &fcnt);
	if (rc == FUOTA_OK)
		rc = publish_mc(e, j, c, r, payload, plen, fcnt, gws, ids, n_gws, at_gps_ms,
		                freq_hz);
	if (rc != FUOTA_OK)
		goto out;
	if (new_frame) {
		j->next_n = n + 1;
		j->frames_sent++;
	} else {
		j->frames_resent++;
	}
	j->next_tx_ms = next_tx_ms;
	j->has_next_tx = true;
out:
	free(ids);
	return rc;
}

/* Merges what the database knows of the gateways' duty cycle (another instance, or this one
 * before a restart) into the pacing table. */
static int gws_refresh(struct engine *e, const char (*gws)[SENG_EUI_LEN], size_t n)
{
	int64_t *free_ms = calloc(n ? n : 1, sizeof(int64_t));
	int rc;

	if (!free_ms)
		return FUOTA_ERR_NO_MEMORY;
	rc = seng_gateways_free(e->store, gws, n, free_ms);
	for (size_t i = 0; rc == FUOTA_OK && i < n; i++) {
		struct engine_gw *g = engine_gw_slot(e, gws[i]);

		if (g && free_ms[i] > g->free_ms)
			g->free_ms = free_ms[i];
	}
	free(free_ms);
	return rc;
}

/* The latest instant at which one of the gateways is free again. */
static int64_t gws_free(struct engine *e, const char (*gws)[SENG_EUI_LEN], size_t n)
{
	int64_t t = 0;

	for (size_t i = 0; i < n; i++) {
		struct engine_gw *g = engine_gw_slot(e, gws[i]);

		if (g && g->free_ms > t)
			t = g->free_ms;
	}
	return t;
}

static void gws_busy(struct engine *e, const char (*gws)[SENG_EUI_LEN], size_t n, int64_t at_ms,
                     const struct tx_radio *r)
{
	int64_t free_ms[1];

	for (size_t i = 0; i < n; i++) {
		struct engine_gw *g = engine_gw_slot(e, gws[i]);

		if (!g)
			continue;
		free_ms[0] = g->free_ms;
		engine_pace(at_ms, free_ms, 1, r->airtime_us, r->dc_inv);
		g->free_ms = free_ms[0];
	}
}

/* Parity rows between two status rounds of adaptive redundancy (TS004 v1 devices). */
static uint32_t status_every(const struct seng_job *j)
{
	return j->nb_frag / 10 > 4 ? j->nb_frag / 10 : 4;
}

/* Adaptive redundancy in rounds (engine_calc.h "adaptive rounds"): the batches of the job's
 * sessions, sized from the devices' answers. */
static bool rounds_on(const struct engine *e, const struct seng_job *j)
{
	return j->adaptive && !e->cfg.adaptive_stream;
}

void engine_tx_progress(struct engine *e, const struct seng_job *j, bool done)
{
	struct seng_session ss[ENGINE_MAX_SESSIONS];
	size_t n = 0;
	struct tx_radio r;
	uint64_t airtime_us = 0, frames = (uint64_t)j->frames_sent + j->frames_resent;
	json_t *o, *a = json_array();
	char *text = NULL;

	if (radio(e, j, &r) == FUOTA_OK)
		airtime_us = r.airtime_us;
	if (seng_sessions_rows(e->store, j->id, ss, ENGINE_MAX_SESSIONS, &n) != FUOTA_OK)
		n = 0;
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:i, s:i, s:I, s:I, s:b}", "frag_index",
		                                   ss[i].frag_index, "ts004", ss[i].frag_version,
		                                   "frames_sent", (json_int_t)ss[i].frames_sent,
		                                   "next_n", (json_int_t)ss[i].next_n, "done",
		                                   ss[i].done));
	/* airtime_ms: every frame once on the air (new and sent again), whatever the gateways. */
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "job_id", (json_int_t)j->id,
	              "frames_sent", (json_int_t)j->frames_sent, "frames_resent",
	              (json_int_t)j->frames_resent, "nb_frag", (json_int_t)j->nb_frag, "next_n",
	              (json_int_t)j->next_n, "airtime_ms", (json_int_t)(frames * airtime_us / 1000),
	              "done", done);
	if (o && a) {
		json_object_set(o, "sessions", a);
		text = json_dumps(o, JSON_COMPACT);
	}
	if (text)
		engine_event(e, j->tenant, j->id, "progress", text);
	free(text);
	json_decref(o);
	json_decref(a);
}

static int version_of(const struct seng_session *ss, size_t n, int frag_index)
{
	for (size_t i = 0; i < n; i++)
		if (ss[i].frag_index == frag_index)
			return ss[i].frag_version;
	return 1;
}

/* The policy's view of the job's sessions (v, at most ENGINE_MAX_SESSIONS) and of the job. */
static void tx_view(const struct seng_job *j, const struct seng_session *ss, size_t n, bool rounds,
                    size_t n_gws, struct tx_session *v, struct tx_state *st)
{
	memset(st, 0, sizeof(*st));
	st->rounds = rounds;
	st->n_gateways = n_gws;
	st->red = (struct engine_redundancy){j->nb_frag, j->redundancy, j->adaptive,
	                                     j->redundancy_cap};
	st->ss = v;
	st->n_ss = n < ENGINE_MAX_SESSIONS ? n : ENGINE_MAX_SESSIONS;
	for (size_t i = 0; i < st->n_ss; i++)
		v[i] = (struct tx_session){(uint8_t)ss[i].frag_index,
		                           ss[i].done,
		                           ss[i].devices,
		                           ss[i].pending,
		                           ss[i].next_n,
		                           ss[i].round_end,
		                           ss[i].asked_at};
}

/* Marks done the sessions the policy found without a frame left (bit i: ss[i]), each on its own:
 * a v2 group that reported its block stops while a v1 group still needs parity rows. */
static void sessions_stop(struct engine *e, const struct seng_job *j, struct seng_session *ss,
                          size_t n, uint32_t stop)
{
	for (size_t i = 0; i < n && i < ENGINE_MAX_SESSIONS; i++) {
		if (!(stop & (UINT32_C(1) << i)) ||
		    seng_session_done(e->store, j->id, ss[i].frag_index) != FUOTA_OK)
			continue;
		ss[i].done = true;
		log_msg(LOG_LVL_INFO, "job %lld: session %d (TS004 v%d) stops after %u frames",
		        (long long)j->id, ss[i].frag_index, ss[i].frag_version, ss[i].frames_sent);
	}
}

/* The session whose new frame goes next (its position in ss), or -1 when none has one left
 * (policy_tx_pick); the sessions with nothing left are marked done then. */
static int next_session(struct engine *e, const struct seng_job *j, struct seng_session *ss,
                        size_t n, bool rounds)
{
	struct tx_session v[ENGINE_MAX_SESSIONS];
	struct tx_state st;
	uint32_t stop;
	int pick;

	tx_view(j, ss, n, rounds, 1, v, &st);
	pick = policy_tx_pick(&st, &stop);
	sessions_stop(e, j, ss, n, stop);
	return pick;
}

/* No session has a new frame left: the job's transmission is done once every frame sent is
 * acked (or its ack timed out); until then, come back in ACK_POLL_MS. */
static int tx_idle(struct engine *e, const struct seng_job *j, int64_t now_ms, bool *done,
                   int64_t *next_due_ms)
{
	unsigned waiting = 0;
	int rc = seng_tx_waiting(e->store, j->id, now_ms - e->cfg.ack_timeout_ms, &waiting);

	if (rc != FUOTA_OK)
		return rc;
	if (waiting == 0) {
		*done = true;
		return FUOTA_OK;
	}
	if (now_ms + ACK_POLL_MS < *next_due_ms)
		*next_due_ms = now_ms + ACK_POLL_MS;
	return FUOTA_OK;
}

/* Sends the multicast FragSessionStatusReq (Participants = 0: only the devices still missing
 * fragments answer) of session s through the job's gateways, as a frame of the group (McAppSKey,
 * the group's FCnt committed first). next_tx_ms: when the next frame may go (after the last
 * request, the end of the wait for the answers). */
static int send_status(struct engine *e, struct seng_job *j, struct engine_cache *c,
                       const struct tx_radio *r, const struct seng_session *s,
                       const char (*gws)[SENG_EUI_LEN], size_t n_gws, int64_t at_gps_ms,
                       uint32_t freq_hz, int64_t now_ms, int64_t next_tx_ms)
{
	uint8_t payload[2];
	size_t plen = 0;
	uint32_t *ids = downlink_ids(n_gws), fcnt = 0;
	struct seng_status_frame f;
	int rc;

	if (!ids)
		return FUOTA_ERR_NO_MEMORY;
	rc = status_req(s->frag_version, s->frag_index, payload, sizeof(payload), &plen);
	if (rc != FUOTA_OK)
		goto out;
	memset(&f, 0, sizeof(f));
	f.lease = engine_lease(e);
	f.job_id = j->id;
	f.group_id = j->mc_group_id;
	f.frag_index = s->frag_index;
	f.asked_at = sent_of(s);
	f.gateways = gws;
	f.downlink_ids = ids;
	f.n_gateways = n_gws;
	f.now_ms = now_ms;
	f.next_tx_ms = next_tx_ms;
	f.gateway_free_ms = gws_free(e, gws, n_gws);
	rc = seng_status_frame(e->store, &f, &fcnt);
	if (rc == FUOTA_OK)
		rc = publish_mc(e, j, c, r, payload, plen, fcnt, gws, ids, n_gws, at_gps_ms,
		                freq_hz);
	if (rc != FUOTA_OK)
		goto out;
	j->next_tx_ms = next_tx_ms;
	j->has_next_tx = true;
out:
	free(ids);
	return rc;
}

/* Frames no ack answered within ack_timeout_ms go again once (seng_tx_unacked_resend). */
static int unacked_resend(struct engine *e, const struct seng_job *j, int64_t now_ms)
{
	long rows = 0;
	int rc = seng_tx_unacked_resend(e->store, j->id, now_ms - e->cfg.ack_timeout_ms, &rows);

	if (rc == FUOTA_OK && rows > 0)
		log_msg(LOG_LVL_INFO, "job %lld: %ld frame(s) without a gateway ack: sent again",
		        (long long)j->id, rows);
	return rc;
}

/* The devices counted in c's sessions put in ss (n rows read without them): false when the
 * rows are not the ones counted (another session, another round). */
static bool sessions_counted(const struct engine_job_cached *c, struct seng_session *ss, size_t n)
{
	if (n != c->n_ss)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ss[i].frag_index != c->ss[i].frag_index || ss[i].round != c->ss[i].round)
			return false;
	for (size_t i = 0; i < n; i++) {
		ss[i].devices = c->ss[i].devices;
		ss[i].pending = c->ss[i].pending;
		ss[i].unanswered = c->ss[i].unanswered;
	}
	return true;
}

/* The job's sessions (at most ENGINE_MAX_SESSIONS). With fixed redundancy their devices'
 * counts only tell whether anyone is left to send to, and only fall during the transmission:
 * kept in memory while young enough (fuota/recount.h), the rows alone read at every tick.
 * Adaptive redundancy sizes its frames from them: counted every time. */
static int tx_sessions(struct engine *e, const struct seng_job *j, struct seng_session *ss,
                       size_t *n)
{
	struct engine_job_cached *c = j->adaptive ? NULL : engine_job_slot(e, j->id);
	int64_t t0 = e->clock(e->clock_ctx);
	int rc;

	if (c && engine_recount_fresh(&c->ss_rc, j->part, t0)) {
		rc = seng_sessions_rows(e->store, j->id, ss, ENGINE_MAX_SESSIONS, n);
		if (rc != FUOTA_OK || sessions_counted(c, ss, *n))
			return rc;
	}
	rc = seng_sessions(e->store, j->id, ss, ENGINE_MAX_SESSIONS, n);
	if (rc != FUOTA_OK || !c)
		return rc;
	memcpy(c->ss, ss, *n * sizeof(ss[0]));
	c->n_ss = *n;
	engine_recount_stamp(&c->ss_rc, j->part, t0, e->clock(e->clock_ctx));
	return FUOTA_OK;
}

/* One tick of a job's transmission: what engine_tx_run reads once and its steps share. */
struct tx_tick {
	struct engine *e;
	struct seng_job *j;
	struct engine_cache *c;
	struct tx_radio r;
	struct seng_session ss[ENGINE_MAX_SESSIONS];
	size_t n_ss;
	bool rounds;
	int64_t now_ms, session_end_ms;
	bool *done;
	int64_t *next_due_ms;
};

/* One frame of the tick: what the policy chose, and through which gateways and when it goes. */
struct tx_frame {
	struct tx_decision d;
	char one[1][SENG_EUI_LEN];
	const char (*gws)[SENG_EUI_LEN];
	size_t n_gws;
	int64_t resend_of, at_gps, busy_until, lead_ms;
	uint32_t n, freq;
	int frag_index, version;
};

/* After a step: go on with this frame, with the next frame, or return from the tick. */
enum tx_flow { TX_FLOW_GO, TX_FLOW_NEXT, TX_FLOW_RETURN };

/* Reads what the tick needs once: the radio, the sessions; sends unacked frames again; ends a
 * round's wait early when it buys nothing. */
static int tx_start(struct tx_tick *t, enum tx_flow *flow)
{
	struct seng_job *j = t->j;
	int rc = radio(t->e, j, &t->r);

	if (rc == FUOTA_OK)
		rc = unacked_resend(t->e, j, t->now_ms);
	/* One fragmentation session per TS004 version among the devices (engine_session). */
	if (rc == FUOTA_OK)
		rc = tx_sessions(t->e, j, t->ss, &t->n_ss);
	if (rc != FUOTA_OK)
		return rc;
	*flow = TX_FLOW_RETURN;
	if (t->n_ss == 0) {
		log_msg(LOG_LVL_WARN, "job %lld: no fragmentation session recorded",
		        (long long)j->id);
		*t->done = true;
		return FUOTA_OK;
	}
	t->session_end_ms = j->session_start_ms + (int64_t)(UINT64_C(1) << j->session_timeout) *
	                                                  1000 * (j->mc_class == 'B' ? 128 : 1);
	if (!j->has_next_tx) {
		j->next_tx_ms = j->session_start_ms;
		j->has_next_tx = true;
	}
	if (t->rounds && t->now_ms < j->next_tx_ms) {
		/* Rounds: every device may have reported during the wait after a round, or every
		 * one still missing the image may have answered: the wait ends then. */
		next_session(t->e, j, t->ss, t->n_ss, true);
		if (engine_sessions_over(t->ss, t->n_ss))
			return tx_idle(t->e, j, t->now_ms, t->done, t->next_due_ms);
		rc = engine_rounds_wait_answered(t->e, j, t->ss, t->n_ss, t->now_ms);
		if (rc != FUOTA_OK)
			return rc;
	}
	if (t->now_ms >= j->next_tx_ms) {
		rc = gws_refresh(t->e, (const char(*)[SENG_EUI_LEN])j->gateways, j->n_gateways);
		if (rc != FUOTA_OK)
			return rc;
	}
	*flow = TX_FLOW_GO;
	return FUOTA_OK;
}

/* Fetches what the next frame depends on (a refused frame, the sessions, the rounds' batches)
 * and asks the policy which frame it is. */
static int tx_ask(struct tx_tick *t, int k, struct tx_frame *f, enum tx_flow *flow)
{
	struct seng_job *j = t->j;
	struct tx_session v[ENGINE_MAX_SESSIONS];
	struct tx_state st;
	int64_t until = 0;
	bool resend;
	int rc;

	*flow = TX_FLOW_RETURN;
	switch (policy_tx_gate(t->now_ms, j->next_tx_ms, t->session_end_ms,
	                       (int64_t)(t->r.airtime_us / 1000), &until)) {
	case TX_WAIT:
		if (until < *t->next_due_ms)
			*t->next_due_ms = until;
		return FUOTA_OK;
	case TX_END:
		log_msg(LOG_LVL_WARN, "job %lld: the session ends with frames unsent",
		        (long long)j->id);
		*t->done = true;
		return FUOTA_OK;
	default: break;
	}
	resend = seng_resend_next(t->e->store, j->id, &f->resend_of, f->one[0], &f->frag_index,
	                          &f->n) == FUOTA_OK;
	/* Adaptive: which devices still miss the image changes with their answers. */
	if (!resend && j->adaptive && k > 0) {
		rc = seng_sessions(t->e->store, j->id, t->ss, ENGINE_MAX_SESSIONS, &t->n_ss);
		if (rc != FUOTA_OK)
			return rc;
	}
	if (!resend && t->rounds) {
		rc = engine_rounds_size(t->e, j, t->ss, t->n_ss);
		if (rc != FUOTA_OK)
			return rc;
	}
	tx_view(j, t->ss, t->n_ss, t->rounds, f->n_gws, v, &st);
	st.resend = resend;
	policy_tx_next(&st, &f->d);
	sessions_stop(t->e, j, t->ss, t->n_ss, f->d.stop);
	switch (f->d.action) {
	case TX_RESEND:
		f->gws = (const char(*)[SENG_EUI_LEN])f->one;
		f->n_gws = 1;
		f->version = version_of(t->ss, t->n_ss, f->frag_index);
		break;
	case TX_STATUS:
	case TX_FRAGMENT:
		if (f->d.action == TX_FRAGMENT)
			f->n = f->d.n;
		f->frag_index = t->ss[f->d.session].frag_index;
		f->version = t->ss[f->d.session].frag_version;
		break;
	default: return tx_idle(t->e, j, t->now_ms, t->done, t->next_due_ms);
	}
	*flow = TX_FLOW_GO;
	return FUOTA_OK;
}

/* When the frame goes on the air (busy_until; at_gps and freq for timed frames), or a wait for
 * the gateways. */
static int tx_when(struct tx_tick *t, struct tx_frame *f, enum tx_flow *flow)
{
	struct seng_job *j = t->j;

	/* GPS-timed class C frames are booked on the gateways ahead of time, back to back:
	 * hand a frame over up to GPS_LEAD_MS before the gateways are free. */
	f->lead_ms = (j->mc_class != 'B' && t->e->cfg.gps_timing) ? GPS_LEAD_MS : 0;
	f->busy_until = gws_free(t->e, f->gws, f->n_gws);
	if (f->busy_until > t->now_ms + f->lead_ms) {
		if (f->busy_until - f->lead_ms < *t->next_due_ms)
			*t->next_due_ms = f->busy_until - f->lead_ms;
		*flow = TX_FLOW_RETURN;
		return FUOTA_OK;
	}
	if (j->mc_class == 'B') {
		struct mc_slot slot;

		/* The frame is handed to the gateways a few seconds before its ping slot. */
		if (classb_slot(j, &t->r, t->now_ms + 2000, &slot) != FUOTA_OK) {
			*t->done = true;
			*flow = TX_FLOW_RETURN;
			return FUOTA_OK;
		}
		f->at_gps = slot.start_ms;
		f->freq = slot.freq_hz;
		f->busy_until = engine_gps_to_unix_ms(slot.start_ms);
	} else if (t->e->cfg.gps_timing) {
		/* On air right after the gateways' previous frame (GPS_GAP_MS apart), and never
		 * sooner than GPS_MIN_LEAD_MS from now, so that it reaches them in time: now is
		 * the clock read here, the tick's start may be long past. */
		int64_t now = t->e->clock(t->e->clock_ctx);

		f->busy_until = policy_gps_on_air(gws_free(t->e, f->gws, f->n_gws),
		                                  now > t->now_ms ? now : t->now_ms, GPS_GAP_MS,
		                                  GPS_MIN_LEAD_MS);
		f->at_gps = engine_unix_to_gps_ms(f->busy_until);
	} else {
		f->busy_until = t->now_ms;
	}
	return FUOTA_OK;
}

/* Books the frame on its gateways; returns when the next frame may go. */
static int64_t tx_book(struct tx_tick *t, const struct tx_frame *f)
{
	int64_t next_tx;

	gws_busy(t->e, f->gws, f->n_gws, f->busy_until, &t->r);
	next_tx = gws_free(t->e, f->gws, f->n_gws) +
	          (f->lead_ms ? -(int64_t)f->lead_ms : (int64_t)t->e->cfg.frame_margin_ms);
	if (t->j->mc_class == 'B')
		next_tx = f->busy_until - 2000 + 1;
	return next_tx;
}

/* Sends a round's status request; after the last one of the round, the wait for the answers. */
static int tx_status(struct tx_tick *t, struct tx_frame *f, enum tx_flow *flow)
{
	struct seng_session *s = &t->ss[f->d.session];
	int64_t wait_end = 0, next_tx;
	int rc;

	*flow = TX_FLOW_NEXT;
	if (f->d.last_status) {
		/* The wait for the answers starts once the request is on the air (a data frame's
		 * airtime bounds the short request's). */
		wait_end = engine_round_wait_end(t->e, t->j,
		                                 f->busy_until + (int64_t)(t->r.airtime_us / 1000),
		                                 t->session_end_ms);
		if (wait_end == 0)
			return engine_rounds_give_up(t->e, t->j, t->ss, t->n_ss);
	}
	next_tx = tx_book(t, f);
	if (wait_end > next_tx)
		next_tx = wait_end;
	rc = send_status(t->e, t->j, t->c, &t->r, s, f->gws, f->n_gws, f->at_gps, f->freq,
	                 t->now_ms, next_tx);
	if (rc != FUOTA_OK)
		return rc;
	/* As stored by send_status (the request goes at the end of the batch). */
	s->asked_at = s->round_end;
	s->round++;
	if (f->d.last_status) {
		log_msg(LOG_LVL_INFO,
		        "job %lld: round over; status requests sent, the next batch in %llu ms",
		        (long long)t->j->id, (unsigned long long)engine_round_wait_ms(t->e, t->j));
		engine_tx_progress(t->e, t->j, false);
		if (next_tx < *t->next_due_ms)
			*t->next_due_ms = next_tx;
		*flow = TX_FLOW_RETURN;
	}
	return FUOTA_OK;
}

/* Sends a fragment (new or refused before) and counts it. */
static int tx_fragment(struct tx_tick *t, struct tx_frame *f)
{
	struct seng_job *j = t->j;
	bool new_frame = f->d.action == TX_FRAGMENT;
	int64_t next_tx = tx_book(t, f);
	int rc = send_frame(t->e, j, t->c, &t->r, f->version, f->frag_index, f->n, new_frame,
	                    f->resend_of, f->gws, f->n_gws, f->at_gps, f->freq, t->now_ms, next_tx,
	                    gws_free(t->e, f->gws, f->n_gws));

	if (rc != FUOTA_OK || !new_frame)
		return rc;
	t->ss[f->d.session].next_n = f->n + 1;
	t->ss[f->d.session].frames_sent++;
	if (j->adaptive && t->e->cfg.adaptive_stream && f->version < 2 &&
	    f->n >= j->nb_frag + j->redundancy &&
	    (f->n - j->nb_frag - j->redundancy) % status_every(j) == 0) {
		/* TS004 v1 has no FragDataBlockReceivedReq: ask the devices of this session still
		 * missing the block how far they are, every few parity rows. */
		engine_dev_status_round(t->e, j, f->frag_index);
	}
	if (j->frames_sent % PROGRESS_EVERY == 0 || f->n == j->nb_frag)
		engine_tx_progress(t->e, j, false);
	return FUOTA_OK;
}

int engine_tx_run(struct engine *e, struct seng_job *j, int64_t now_ms, bool *done,
                  int64_t *next_due_ms)
{
	struct tx_tick t = {.e = e,
	                    .j = j,
	                    .c = engine_cache_get(e, j),
	                    .rounds = rounds_on(e, j),
	                    .now_ms = now_ms,
	                    .done = done,
	                    .next_due_ms = next_due_ms};
	enum tx_flow flow = TX_FLOW_GO;
	int rc;

	*done = false;
	if (!t.c)
		return FUOTA_ERR_IO;
	rc = tx_start(&t, &flow);
	if (rc != FUOTA_OK || flow == TX_FLOW_RETURN)
		return rc;
	for (int k = 0; k < FRAMES_PER_TICK; k++) {
		struct tx_frame f = {.gws = (const char(*)[SENG_EUI_LEN])j->gateways,
		                     .n_gws = j->n_gateways,
		                     .freq = j->freq_hz};

		/* Fetch, ask the policy (fuota/tx_next.h), then send. */
		rc = tx_ask(&t, k, &f, &flow);
		if (rc == FUOTA_OK && flow == TX_FLOW_GO)
			rc = tx_when(&t, &f, &flow);
		if (rc == FUOTA_OK && flow == TX_FLOW_GO)
			rc = f.d.action == TX_STATUS ? tx_status(&t, &f, &flow)
			                             : tx_fragment(&t, &f);
		if (rc != FUOTA_OK || flow == TX_FLOW_RETURN)
			return rc;
	}
	*next_due_ms = now_ms;
	return FUOTA_OK;
}
