/* The device side of TS003/TS004/TS005 for fuota-sim (see sim_dev.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fuota/bytes.h"
#include "fuota/err.h"
#include "fuota/fmp.h"
#include "fuota/frag_mic.h"
#include "fuota/lw_crypto.h"
#include "fuota/lw_frame.h"
#include "fuota/mc_keys.h"
#include "fuota/mc_session.h"
#include "sim_dev.h"
#include "sim_dev_int.h"

#define NEVER INT64_MAX

const char *sim_step_name(uint32_t step)
{
	switch (step) {
	case SIM_STEP_PKG_VERSION: return "package_version";
	case SIM_STEP_TIME_SYNC: return "time_sync";
	case SIM_STEP_MC_SETUP: return "mc_group_setup";
	case SIM_STEP_FRAG_SETUP: return "frag_session_setup";
	case SIM_STEP_MC_SESSION: return "mc_session_setup";
	case SIM_STEP_SESSION_OPEN: return "session_open";
	case SIM_STEP_DECODED: return "decoded";
	case SIM_STEP_VERIFIED: return "verified";
	case SIM_STEP_BLOCK_ACKED: return "block_acked";
	case SIM_STEP_STATUS: return "frag_status";
	case SIM_STEP_FRAG_DELETE: return "frag_session_delete";
	case SIM_STEP_MC_DELETE: return "mc_group_delete";
	case SIM_STEP_SESSION_END: return "session_end";
	default: return "?";
	}
}

/* splitmix64: the device's own reproducible randomness. */
uint64_t sim_rnd(struct sim_dev *d)
{
	uint64_t z = (d->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A random delay in [0, 2^(BlockAckDelay + 4)] seconds, in ms (LoRaMac-node's formula). */
int64_t sim_ack_delay_ms(struct sim_dev *d, uint8_t block_ack_delay)
{
	if (d->cfg.at_once)
		return 0;
	uint64_t span_ms = (1000ull << ((block_ack_delay & 7u) + 4u)) + 1;
	return (int64_t)(sim_rnd(d) % span_ms);
}

void sim_fail(struct sim_dev *d, const char *fmt, ...)
{
	char text[SIM_FAILURE_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	d->fail_events++;
	for (size_t i = 0; i < d->rep.n_failures; i++) {
		if (strcmp(d->rep.failures[i].text, text) == 0) {
			d->rep.failures[i].count++;
			return;
		}
	}
	size_t i = d->rep.n_failures;
	if (i == SIM_MAX_FAILURES)
		i--; /* the last slot keeps the latest reason */
	else
		d->rep.n_failures++;
	snprintf(d->rep.failures[i].text, sizeof(d->rep.failures[i].text), "%s", text);
	d->rep.failures[i].count = 1;
}

/* Something happened at now_ms that restarts the done grace (sim_dev_finished). */
void sim_touch(struct sim_dev *d, int64_t now_ms)
{
	if (now_ms > d->quiet_ms)
		d->quiet_ms = now_ms;
}

int64_t sim_dev_clock_ms(const struct sim_dev *d, int64_t now_ms)
{
	int64_t drift = (now_ms - d->t0_ms) * (int64_t)d->cfg.drift_ppm / 1000000;
	return now_ms + d->offset_ms + drift;
}

uint32_t sim_dev_seconds(const struct sim_dev *d, int64_t now_ms)
{
	int64_t ms = sim_dev_clock_ms(d, now_ms);
	int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	return (uint32_t)s; /* GPS seconds modulo 2^32, as on the air */
}

int sim_dev_init(struct sim_dev *d, const struct sim_dev_cfg *cfg, int64_t now_ms)
{
	memset(d, 0, sizeof(*d));
	if ((cfg->clk_version != 1 && cfg->clk_version != 2) ||
	    (cfg->mc_version != 1 && cfg->mc_version != 2) ||
	    (cfg->frag_version != 1 && cfg->frag_version != 2))
		return FUOTA_ERR_INVALID_ARG;
	d->cfg = *cfg;
	if (!d->cfg.sync_retry_s)
		d->cfg.sync_retry_s = 10;
	d->t0_ms = now_ms;
	d->quiet_ms = now_ms;
	d->offset_ms = cfg->clock_offset_ms;
	d->rng = cfg->seed ^ cfg->dev_eui;
	d->rep.counts.last_delete_index = -1;
	clk_dev_init(&d->clk, cfg->clk_version);
	/* LBM's clock waits for the server to ask (SIM_MB_LBM_RESYNC); a set clock too. */
	d->synced = cfg->clock_set;
	d->need_sync = !(cfg->misbehave & SIM_MB_LBM_RESYNC) && !cfg->clock_set;
	d->next_sync_ms = cfg->clock_set ? NEVER : now_ms;
	return FUOTA_OK;
}

void sim_frag_drop(struct sim_frag *s)
{
	free(s->mem);
	free(s->flash);
	memset(s, 0, offsetof(struct sim_frag, has_cnt));
}

void sim_dev_free(struct sim_dev *d)
{
	if (!d)
		return;
	sim_image_drop(d);
	for (int i = 0; i < SIM_FRAG_SESSIONS; i++) {
		free(d->frag[i].mem);
		free(d->frag[i].flash);
		d->frag[i].mem = NULL;
		d->frag[i].flash = NULL;
		d->frag[i].active = false;
	}
}

/* ---- Answers --------------------------------------------------------------------------------- */

void sim_queue_uplink(struct sim_dev *d, int64_t now_ms, uint8_t port, const uint8_t *data,
                      size_t len, int64_t delay_ms)
{
	if (len == 0 || (d->cfg.misbehave & SIM_MB_SILENT))
		return;
	if (d->cfg.misbehave & SIM_MB_LATE)
		delay_ms += (int64_t)d->cfg.late_s * 1000;
	if (d->n_ul == SIM_UL_QUEUE) {
		sim_fail(d, "uplink queue full: an answer on port %u was dropped", port);
		return;
	}
	struct sim_pending_ul *p = &d->ul[d->n_ul++];
	p->port = port;
	memcpy(p->data, data, len);
	p->len = len;
	p->not_before_ms = now_ms + delay_ms;
}

/* ---- TS003 (port 202) ------------------------------------------------------------------------ */

static void clk_downlink(struct sim_dev *d, int64_t now_ms, const uint8_t *data, size_t len,
                         struct answer *a)
{
	size_t pos = 0;
	while (pos < len) {
		struct clk_cmd cmd, ans;
		struct fuota_parse_err err;
		if (clk_decode(data, len, &pos, false, &cmd, &err) != FUOTA_OK) {
			d->rep.counts.malformed++;
			sim_fail(d, "port 202: undecodable %s (%s)",
			         err.command ? err.command : "command",
			         err.field ? err.field : "unknown CID");
			return;
		}
		memset(&ans, 0, sizeof(ans));
		ans.cid = cmd.cid;
		ans.up = true;
		bool answer = false;
		switch (cmd.cid) {
		case CLK_CID_PACKAGE_VERSION:
			sim_touch(d, now_ms);
			ans.u.pkg_ans.package_id = CLK_PACKAGE_ID;
			ans.u.pkg_ans.version = (uint8_t)d->cfg.clk_version;
			d->rep.steps |= SIM_STEP_PKG_VERSION;
			answer = true;
			break;
		case CLK_CID_APP_TIME: {
			uint32_t now_s = sim_dev_seconds(d, now_ms), new_s;
			bool resync = false;
			if (clk_dev_on_app_time_ans(&d->clk, &cmd, now_s, &new_s, &resync) !=
			    FUOTA_OK)
				break; /* token mismatch: not the answer to our request */
			d->offset_ms += (int64_t)(int32_t)(new_s - now_s) * 1000;
			d->rep.counts.time_ans++;
			d->synced = true;
			d->need_sync = resync;
			d->next_sync_ms =
			        resync ? now_ms
			               : (d->cfg.resync_s ? now_ms + d->cfg.resync_s * 1000ll
			                                  : NEVER);
			d->rep.steps |= SIM_STEP_TIME_SYNC;
			break;
		}
		case CLK_CID_PERIODICITY:
			sim_touch(d, now_ms);
			clk_dev_on_request(&d->clk, &cmd);
			d->cfg.resync_s = d->clk.periodicity_s;
			ans.u.period_ans.not_supported = false;
			ans.u.period_ans.time = sim_dev_seconds(d, now_ms);
			answer = true;
			break;
		case CLK_CID_FORCE_RESYNC:
			sim_touch(d, now_ms);
			clk_dev_on_request(&d->clk, &cmd);
			d->rep.counts.force_resync++;
			if (d->clk.nb_transmissions > 0) {
				d->need_sync = true;
				d->next_sync_ms = now_ms + d->cfg.resync_delay_ms;
				if ((d->cfg.misbehave & SIM_MB_LBM_RESYNC) &&
				    !d->cfg.resync_delay_ms)
					d->next_sync_ms +=
					        SIM_LBM_RESYNC_MIN_MS +
					        (int64_t)(sim_rnd(d) % (SIM_LBM_RESYNC_MAX_MS -
					                                SIM_LBM_RESYNC_MIN_MS + 1));
			}
			break;
		default: break;
		}
		if (answer && clk_encode(&ans, a->data, sizeof(a->data), &a->len) != FUOTA_OK)
			sim_fail(d, "port 202: answers do not fit one uplink");
	}
}

/* ---- TS005 (port 200) ------------------------------------------------------------------------ */

static int derive_group_keys(struct sim_dev *d, const uint8_t enc_key[16], uint32_t mc_addr,
                             struct sim_group *g)
{
	uint8_t root[16], kek[16], mc_key[16];
	int rc = d->cfg.lorawan11 ? mc_root_key_from_app_key(d->cfg.root_key, root)
	                          : mc_root_key_from_gen_app_key(d->cfg.root_key, root);
	if (rc == FUOTA_OK)
		rc = mc_ke_key_from_root(root, kek);
	if (rc == FUOTA_OK) {
		if (d->cfg.misbehave & SIM_MB_WRONG_MCKEY)
			rc = lw_aes128_decrypt(kek, enc_key,
			                       mc_key); /* the wrong direction (P13) */
		else
			rc = mc_key_decrypt(kek, enc_key, mc_key);
	}
	if (rc == FUOTA_OK)
		rc = mc_session_keys(mc_key, mc_addr, g->app_s_key, g->nwk_s_key);
	memset(root, 0, sizeof(root));
	memset(kek, 0, sizeof(kek));
	memset(mc_key, 0, sizeof(mc_key));
	return rc;
}

static void session_req(struct sim_dev *d, int64_t now_ms, const struct mc_cmd *cmd,
                        struct mc_cmd *ans)
{
	const struct mc_session_req *r = &cmd->u.session_req;
	struct mc_session_ans *s = &ans->u.session_ans;
	struct sim_group *g = &d->groups[r->group_id & 3];
	const struct lw_dr *dr = NULL;
	s->group_id = r->group_id & 3;
	s->group_undefined = !g->defined;
	if (d->cfg.region) {
		s->freq_error = !lw_region_dl_freq_ok(d->cfg.region, r->dl_freq_hz) &&
		                !(cmd->cid == MC_CID_CLASS_B_SESSION && r->dl_freq_hz == 0);
		s->dr_error = lw_region_dr(d->cfg.region, r->dr, &dr) != FUOTA_OK;
	}
	if (s->group_undefined || s->freq_error || s->dr_error) {
		sim_fail(d, "%s refused:%s%s%s", mc_cmd_name(cmd->cid, false),
		         s->group_undefined ? " McGroupUndefined" : "",
		         s->freq_error ? " FreqError" : "", s->dr_error ? " DRError" : "");
		return;
	}
	uint32_t tts = 0;
	bool missed = false;
	mc_time_to_start(r->session_time, sim_dev_seconds(d, now_ms), d->synced, &tts, &missed);
	if (missed) {
		/* v2 (and SWL2001 v1) answer StartMissed; LoRaMac-node v1 says McGroupUndefined
		 * (PROTOCOL-NOTES P11). */
		if (d->cfg.mc_version >= 2 || d->cfg.v1_start_missed)
			s->start_missed = true;
		else
			s->group_undefined = true;
		sim_fail(d, "%s: session start %u is in the past of the device clock",
		         mc_cmd_name(cmd->cid, false), r->session_time);
		return;
	}
	s->has_time_to_start = true;
	s->time_to_start = tts;
	bool class_b = cmd->cid == MC_CID_CLASS_B_SESSION;
	g->has_session = true;
	g->class_b = class_b;
	g->start = r->session_time;
	g->duration_s = (1u << (r->timeout & 0x0F)) * (class_b ? 128u : 1u);
	g->freq_hz = r->dl_freq_hz;
	g->dr = r->dr;
	g->periodicity = class_b ? (uint8_t)(r->periodicity & 7) : 0;
	g->opened = g->closed = false;
	d->rep.steps |= SIM_STEP_MC_SESSION;
}

static void mc_downlink(struct sim_dev *d, int64_t now_ms, const uint8_t *data, size_t len,
                        struct answer *a)
{
	size_t pos = 0;
	while (pos < len) {
		struct mc_cmd cmd, ans;
		struct fuota_parse_err err;
		if (mc_decode(data, len, &pos, false, d->cfg.mc_version, &cmd, &err) != FUOTA_OK) {
			d->rep.counts.malformed++;
			sim_fail(d, "port 200: undecodable %s (%s)",
			         err.command ? err.command : "command",
			         err.field ? err.field : "unknown CID");
			return;
		}
		memset(&ans, 0, sizeof(ans));
		ans.cid = cmd.cid;
		ans.up = true;
		switch (cmd.cid) {
		case MC_CID_PACKAGE_VERSION:
			ans.u.pkg_ans.package_id = MC_PACKAGE_ID;
			ans.u.pkg_ans.version = (uint8_t)d->cfg.mc_version;
			d->rep.steps |= SIM_STEP_PKG_VERSION;
			break;
		case MC_CID_GROUP_STATUS: {
			uint8_t mask = 0, total = 0, n = 0;
			d->rep.counts.mc_status++;
			for (uint8_t i = 0; i < MC_MAX_GROUPS; i++) {
				if (!d->groups[i].defined)
					continue;
				total++;
				if (!(cmd.u.status_req.reg_group_mask & (1u << i)))
					continue;
				mask |= (uint8_t)(1u << i);
				ans.u.status_ans.items[n].group_id = i;
				ans.u.status_ans.items[n].mc_addr = d->groups[i].mc_addr;
				n++;
			}
			ans.u.status_ans.ans_group_mask = mask;
			ans.u.status_ans.nb_total_groups = total;
			ans.u.status_ans.nb_items = n;
			break;
		}
		case MC_CID_GROUP_SETUP: {
			uint8_t id = cmd.u.setup_req.group_id & 3;
			struct sim_group g = {0};
			ans.u.setup_ans.group_id = id;
			d->rep.counts.mc_setup++;
			if (derive_group_keys(d, cmd.u.setup_req.mc_key_encrypted,
			                      cmd.u.setup_req.mc_addr, &g) != FUOTA_OK) {
				ans.u.setup_ans.id_error = true;
				sim_fail(d, "McGroupSetupReq: key derivation failed");
				break;
			}
			g.defined = true;
			g.mc_addr = cmd.u.setup_req.mc_addr;
			g.min_fcnt = cmd.u.setup_req.min_fcnt;
			g.max_fcnt = cmd.u.setup_req.max_fcnt;
			d->groups[id] = g;
			d->rep.steps |= SIM_STEP_MC_SETUP;
			break;
		}
		case MC_CID_GROUP_DELETE: {
			uint8_t id = cmd.u.delete_req.group_id & 3;
			ans.u.delete_ans.group_id = id;
			ans.u.delete_ans.group_undefined = !d->groups[id].defined;
			d->rep.counts.mc_delete++;
			d->ended |= d->groups[id].defined;
			memset(&d->groups[id], 0, sizeof(d->groups[id]));
			d->rep.steps |= SIM_STEP_MC_DELETE;
			break;
		}
		case MC_CID_CLASS_C_SESSION:
		case MC_CID_CLASS_B_SESSION: session_req(d, now_ms, &cmd, &ans); break;
		default: continue;
		}
		if (mc_encode(&ans, a->data, sizeof(a->data), &a->len) != FUOTA_OK)
			sim_fail(d, "port 200: answers do not fit one uplink");
	}
}

/* ---- TS006 (port 203) ------------------------------------------------------------------------ */

/* A TS006 reboot whose countdown ran out by now_ms: a device that verified the image runs it
 * (cfg.image_fw_version; 0: its old firmware again). Its FUOTA sessions are gone with the reboot
 * on a real device; the simulator's are over by then. */
static void fmp_reboot(struct sim_dev *d, int64_t now_ms)
{
	if (d->reboot_ms == 0 || now_ms < d->reboot_ms)
		return;
	d->reboot_ms = 0;
	d->rep.counts.reboots++;
	if (d->rep.verified && d->cfg.image_fw_version)
		d->cfg.fw_version = d->cfg.image_fw_version;
}

/* DevRebootTimeReq for GPS second `at` (its clock's): the answer, the time echoed (TS006 v1.0.0)
 * with the reboot scheduled, or 0 when its clock is not synchronised or the time has passed
 * (nothing scheduled, as LoRa Basics Modem answers); 0xFFFFFFFF cancels. */
static uint32_t fmp_reboot_at(struct sim_dev *d, int64_t now_ms, uint32_t at)
{
	int32_t ahead_s = (int32_t)(at - sim_dev_seconds(d, now_ms)); /* modulo 2^32, as on air */

	if (at == FMP_REBOOT_TIME_CANCEL) {
		d->reboot_ms = 0;
		return at;
	}
	if (!d->synced || ahead_s <= 0)
		return 0;
	d->reboot_ms = now_ms + (int64_t)ahead_s * 1000;
	d->rep.counts.reboot_times++;
	return at;
}

/* PackageVersionReq, DevVersionReq, DevReboot*Req and DevUpgradeImageReq of a device
 * with TS006; the other commands are not played (their answers would need a firmware the
 * simulator does not run). */
static void fmp_downlink(struct sim_dev *d, int64_t now_ms, const uint8_t *data, size_t len,
                         struct answer *a)
{
	size_t pos = 0;
	sim_touch(d, now_ms);
	while (pos < len) {
		struct fmp_cmd cmd, ans = {.up = true};
		if (fmp_decode(data, len, &pos, false, &cmd, NULL) != FUOTA_OK) {
			d->rep.counts.malformed++;
			sim_fail(d, "port 203: malformed downlink");
			return;
		}
		ans.cid = cmd.cid;
		if (cmd.cid == FMP_CID_PACKAGE_VERSION) {
			ans.u.pkg_ans.package_id = FMP_PACKAGE_ID;
			ans.u.pkg_ans.version = 1;
		} else if (cmd.cid == FMP_CID_DEV_REBOOT_COUNTDOWN) {
			if (cmd.u.countdown == FMP_REBOOT_NOW ||
			    cmd.u.countdown == FMP_COUNTDOWN_CANCEL)
				d->reboot_ms = 0; /* now: not played; cancel */
			else
				d->reboot_ms = now_ms + (int64_t)cmd.u.countdown * 1000;
			ans.u.countdown = cmd.u.countdown;
		} else if (cmd.cid == FMP_CID_DEV_REBOOT_TIME) {
			ans.u.reboot_time = fmp_reboot_at(d, now_ms, cmd.u.reboot_time);
		} else if (cmd.cid == FMP_CID_DEV_VERSION) {
			fmp_reboot(d, now_ms);
			d->rep.counts.dev_version++;
			ans.u.version_ans.fw_version = d->cfg.fw_version;
			ans.u.version_ans.hw_version = d->cfg.hw_version;
		} else if (cmd.cid == FMP_CID_DEV_UPGRADE_IMAGE) {
			bool valid = d->rep.verified || (d->cfg.misbehave & SIM_MB_CLAIM_VALID);
			ans.u.upgrade_ans.status = valid            ? FMP_IMAGE_VALID
			                           : d->rep.decoded ? FMP_IMAGE_CORRUPT
			                                            : FMP_IMAGE_NONE;
			ans.u.upgrade_ans.next_fw_version =
			        d->cfg.image_fw_version ? d->cfg.image_fw_version : 1;
		} else {
			continue;
		}
		if (fmp_encode(&ans, a->data, sizeof(a->data), &a->len) != FUOTA_OK)
			sim_fail(d, "port 203: answers do not fit one uplink");
	}
}

/* ---- Entry points ---------------------------------------------------------------------------- */

int sim_dev_downlink(struct sim_dev *d, int64_t now_ms, uint8_t port, const uint8_t *data,
                     size_t len)
{
	struct answer a = {.len = 0};
	uint32_t fails = d->fail_events;
	d->rep.downlinks++;
	if (port == MC_FPORT || port == FRAG_PORT) {
		d->in_campaign = true;
		sim_touch(d, now_ms);
	}
	switch (port) {
	case CLK_FPORT: clk_downlink(d, now_ms, data, len, &a); break;
	case MC_FPORT: mc_downlink(d, now_ms, data, len, &a); break;
	case FRAG_PORT: sim_frag_payload(d, now_ms, data, len, -1, &a); break;
	case FMP_FPORT:
		if (len > 0 && data[0] == FMP_CID_DEV_UPGRADE_IMAGE)
			d->rep.counts.upgrade_image++;
		if (!(d->cfg.misbehave & SIM_MB_TS006))
			return FUOTA_OK;
		fmp_downlink(d, now_ms, data, len, &a);
		break;
	default: return FUOTA_OK;
	}
	if (a.len) {
		sim_queue_uplink(d, now_ms, port, a.data, a.len, 0);
		d->rep.answers++;
	}
	if (d->fail_events != fails) {
		sim_touch(d, now_ms);
		return FUOTA_ERR_MALFORMED;
	}
	return FUOTA_OK;
}

static bool in_session(const struct sim_dev *d, const struct sim_group *g, int64_t now_ms)
{
	if (!g->has_session)
		return false;
	int64_t since = (int32_t)(sim_dev_seconds(d, now_ms) - g->start);
	return since >= 0 && since < (int64_t)g->duration_s;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

bool sim_dev_on_ping_slot(uint32_t mc_addr, uint8_t periodicity, int64_t start_ms, int64_t tol_ms)
{
	uint32_t ping_nb, period;
	if (mc_ping_nb(periodicity, &ping_nb) != FUOTA_OK ||
	    mc_ping_period_slots(periodicity, &period) != FUOTA_OK || tol_ms < 0)
		return false;
	const int64_t bp_ms = MC_BEACON_PERIOD_S * 1000,
	              slot_ms = (int64_t)period * MC_PING_SLOT_MS;
	/* The slot may lie in the beacon period of start_ms - tol or of start_ms + tol. */
	int64_t first = floor_div(start_ms - tol_ms, bp_ms),
	        last = floor_div(start_ms + tol_ms, bp_ms);
	for (int64_t k = first; k <= last; k++) {
		uint32_t offset;
		if (mc_ping_offset(k * MC_BEACON_PERIOD_S, mc_addr, periodicity, &offset) !=
		    FUOTA_OK)
			return false;
		/* Slot n starts at BeaconTime + 2.120 s + (pingOffset + n pingPeriod) 30 ms. */
		int64_t x = start_ms - k * bp_ms - MC_BEACON_RESERVED_MS -
		            (int64_t)offset * MC_PING_SLOT_MS;
		if (x + tol_ms < 0)
			continue;
		int64_t n = (x + tol_ms) / slot_ms;
		int64_t diff = x - n * slot_ms;
		if (n < (int64_t)ping_nb && diff <= tol_ms && diff >= -tol_ms)
			return true;
	}
	return false;
}

static bool mic_ok(const struct lw_frame *f, uint32_t fcnt, const struct sim_group *g)
{
	bool ok = false;
	return lw_frame_mic_check(f, fcnt, g->nwk_s_key, &ok) == FUOTA_OK && ok;
}

static bool memo_is(const struct sim_mc_memo *m, const uint8_t *phy, size_t len, uint32_t fcnt,
                    const struct sim_group *g)
{
	return m->used && m->phy_len == len && m->fcnt == fcnt && !memcmp(m->phy, phy, len) &&
	       !memcmp(m->nwk_s_key, g->nwk_s_key, 16) && !memcmp(m->app_s_key, g->app_s_key, 16);
}

/* The memo of frame phy (parsed: f) at full FCnt fcnt under g's keys in c, made (its MIC
 * checked, in place of the least recently found one) if it is not there; NULL without a cache. */
static struct sim_mc_memo *mc_memo(struct sim_mc_cache *c, const uint8_t *phy, size_t len,
                                   const struct lw_frame *f, uint32_t fcnt,
                                   const struct sim_group *g)
{
	if (!c || len > sizeof(c->m[0].phy))
		return NULL;
	c->clock++;
	struct sim_mc_memo *old = &c->m[0];
	for (size_t i = 0; i < SIM_MC_MEMOS; i++) {
		if (memo_is(&c->m[i], phy, len, fcnt, g)) {
			c->m[i].used = c->clock;
			c->hits++;
			return &c->m[i];
		}
		if (c->m[i].used < old->used)
			old = &c->m[i];
	}
	memcpy(old->phy, phy, len);
	old->phy_len = len;
	old->fcnt = fcnt;
	memcpy(old->nwk_s_key, g->nwk_s_key, 16);
	memcpy(old->app_s_key, g->app_s_key, 16);
	old->mic_ok = mic_ok(f, fcnt, g);
	old->decrypted = false;
	old->used = c->clock;
	c->mic_checks++;
	return old;
}

int sim_dev_multicast(struct sim_dev *d, int64_t now_ms, uint32_t freq_hz, const uint8_t *phy,
                      size_t len)
{
	return sim_dev_multicast_air(d, now_ms, now_ms, freq_hz, phy, len);
}

int sim_dev_multicast_air(struct sim_dev *d, int64_t start_ms, int64_t now_ms, uint32_t freq_hz,
                          const uint8_t *phy, size_t len)
{
	struct lw_frame f;
	if (lw_frame_parse(phy, len, &f) != FUOTA_OK || f.mtype != LW_MTYPE_UNCONF_DATA_DOWN)
		return FUOTA_ERR_NOT_FOUND; /* not a multicast data frame at all */
	int gi = -1;
	for (int i = 0; i < MC_MAX_GROUPS; i++)
		if (d->groups[i].defined && d->groups[i].mc_addr == f.dev_addr)
			gi = i;
	if (gi < 0)
		return FUOTA_ERR_NOT_FOUND;
	struct sim_group *g = &d->groups[gi];
	d->rep.mc_frames++;
	sim_touch(d, now_ms); /* the server is still sending to its group */
	if (!in_session(d, g, now_ms) || (g->freq_hz && freq_hz != g->freq_hz)) {
		d->rep.outside_session++;
		return FUOTA_ERR_STATE; /* the device is not listening there and then */
	}
	if (g->class_b &&
	    !sim_dev_on_ping_slot(g->mc_addr, g->periodicity, start_ms, SIM_PING_SLOT_TOL_MS)) {
		d->rep.off_slot++;
		return FUOTA_ERR_STATE; /* its receiver is off between ping slots */
	}
	if (g->has_last && f.fcnt16 == (uint16_t)g->last_fcnt) {
		d->rep.duplicates++;
		return FUOTA_OK;
	}
	uint32_t min = g->has_last ? g->last_fcnt + 1 : g->min_fcnt;
	uint32_t fcnt = 0;
	if ((g->has_last && g->last_fcnt == UINT32_MAX) ||
	    lw_fcnt_next(min, f.fcnt16, &fcnt) != FUOTA_OK || fcnt > g->max_fcnt ||
	    fcnt - min >= SIM_MAX_FCNT_GAP) {
		d->rep.fcnt_rejected++;
		sim_fail(d, "multicast FCnt refused (low 16 bits %u; window [%u, %u], next %u)",
		         f.fcnt16, g->min_fcnt, g->max_fcnt, min);
		return FUOTA_ERR_MALFORMED;
	}
	struct sim_mc_memo *m = mc_memo(d->mc_cache, phy, len, &f, fcnt, g);
	if (!(m ? m->mic_ok : mic_ok(&f, fcnt, g))) {
		d->rep.mic_failures++;
		sim_fail(d,
		         "multicast MIC check failed (McNwkSKey differs: wrong root key or McKey)");
		return FUOTA_ERR_MALFORMED;
	}
	g->has_last = true;
	g->last_fcnt = fcnt;
	d->rep.mc_accepted++;
	if (!f.has_fport || f.fport != FRAG_PORT)
		return FUOTA_OK; /* ports 200 and 202 are unicast only */
	uint8_t own[LW_PHY_MAX_LEN];
	const uint8_t *clear = own;
	size_t clear_len = 0;
	if (m) {
		if (!m->decrypted) {
			m->dec_rc = lw_frame_decrypt(&f, fcnt, g->app_s_key, NULL, m->clear,
			                             sizeof(m->clear), &m->clear_len);
			m->decrypted = true;
			d->mc_cache->decryptions++;
		}
		if (m->dec_rc != FUOTA_OK)
			return FUOTA_ERR_MALFORMED;
		clear = m->clear;
		clear_len = m->clear_len;
	} else if (lw_frame_decrypt(&f, fcnt, g->app_s_key, NULL, own, sizeof(own), &clear_len) !=
	           FUOTA_OK) {
		return FUOTA_ERR_MALFORMED;
	}
	struct answer a = {.len = 0};
	sim_frag_payload(d, now_ms, clear, clear_len, gi, &a);
	return FUOTA_OK;
}

void sim_dev_tick(struct sim_dev *d, int64_t now_ms)
{
	uint32_t now_s = sim_dev_seconds(d, now_ms);
	for (int i = 0; i < MC_MAX_GROUPS; i++) {
		struct sim_group *g = &d->groups[i];
		if (!g->defined || !g->has_session)
			continue;
		int64_t since = (int32_t)(now_s - g->start);
		if (!g->opened && since >= 0) {
			g->opened = true;
			d->rep.steps |= SIM_STEP_SESSION_OPEN;
		}
		if (!g->closed && since >= (int64_t)g->duration_s) {
			g->closed = true;
			sim_touch(d, now_ms);
			d->rep.steps |= SIM_STEP_SESSION_END;
			for (int k = 0; k < SIM_FRAG_SESSIONS; k++) {
				struct sim_frag *s = &d->frag[k];
				if (!s->active || s->done || !(s->req.mc_group_mask & (1u << i)))
					continue;
				frag_lean_finish(&s->dec);
				s->done = true;
				if (s->part.count) {
					sim_part_done(d, now_ms, s);
					sim_fail(d,
					         "multicast session ended before part k=%u of %u "
					         "was "
					         "rebuilt (%u of %u fragments missing)",
					         s->part.index, s->part.count, d->rep.frag_missing,
					         s->req.nb_frag);
					continue;
				}
				sim_fail(d,
				         "multicast session ended before the image was rebuilt (%u "
				         "of "
				         "%u fragments missing)",
				         d->rep.frag_missing, s->req.nb_frag);
			}
		}
	}
	if (d->synced && !d->need_sync && now_ms >= d->next_sync_ms)
		d->need_sync = true;
}

bool sim_dev_uplink(struct sim_dev *d, int64_t now_ms, bool status, struct sim_uplink *ul)
{
	bool silent = d->cfg.misbehave & SIM_MB_SILENT;
	memset(ul, 0, sizeof(*ul));
	for (size_t i = 0; i < d->n_ul; i++) {
		if (d->ul[i].not_before_ms > now_ms)
			continue;
		ul->port = d->ul[i].port;
		memcpy(ul->data, d->ul[i].data, d->ul[i].len);
		ul->len = d->ul[i].len;
		memmove(&d->ul[i], &d->ul[i + 1], (d->n_ul - i - 1) * sizeof(d->ul[0]));
		d->n_ul--;
		goto send;
	}
	for (int i = 0; i < SIM_FRAG_SESSIONS && !silent; i++) {
		struct sim_frag *s = &d->frag[i];
		if (!s->ack_tries || now_ms < s->ack_next_ms)
			continue;
		struct frag_cmd req = {.type = FRAG_CMD_DATA_BLOCK_RECEIVED_REQ};
		req.u.block_received_req.frag_index = (uint8_t)i;
		req.u.block_received_req.mic_error = s->mic_error;
		if (frag_cmd_encode(&req, FRAG_V2, ul->data, sizeof(ul->data), &ul->len) !=
		    FUOTA_OK)
			continue;
		ul->port = FRAG_PORT;
		s->ack_tries--;
		s->ack_next_ms = now_ms + 1000 + sim_ack_delay_ms(d, s->req.block_ack_delay);
		goto send;
	}
	if (d->need_sync && !silent && now_ms >= d->next_sync_ms) {
		struct clk_cmd req;
		size_t pos = 0;
		clk_dev_app_time_req(&d->clk, sim_dev_seconds(d, now_ms),
		                     !d->synced || d->ans_required, &req);
		if (clk_encode(&req, ul->data, sizeof(ul->data), &pos) == FUOTA_OK) {
			ul->port = CLK_FPORT;
			ul->len = pos;
			d->ans_required = false;
			d->next_sync_ms = now_ms + d->cfg.sync_retry_s * 1000ll;
			if (d->clk.nb_transmissions > 0 && --d->clk.nb_transmissions == 0 &&
			    d->synced)
				d->need_sync = false;
			goto send;
		}
	}
	if (!status)
		return false;
	ul->port = SIM_APP_PORT;
	ul->data[0] = (uint8_t)d->rep.steps;
	ul->len = 1;
send:
	ul->fcnt = d->fcnt_up++;
	d->rep.uplinks++;
	return true;
}

void sim_dev_ask_time(struct sim_dev *d, int64_t now_ms, bool ans_required)
{
	d->need_sync = true;
	d->next_sync_ms = now_ms;
	d->ans_required = ans_required;
}

int64_t sim_dev_next_uplink_ms(const struct sim_dev *d)
{
	bool silent = d->cfg.misbehave & SIM_MB_SILENT;
	int64_t next = INT64_MAX;
	for (size_t i = 0; i < d->n_ul; i++)
		if (d->ul[i].not_before_ms < next)
			next = d->ul[i].not_before_ms;
	for (int i = 0; i < SIM_FRAG_SESSIONS && !silent; i++)
		if (d->frag[i].ack_tries && d->frag[i].ack_next_ms < next)
			next = d->frag[i].ack_next_ms;
	if (d->need_sync && !silent && d->next_sync_ms < next)
		next = d->next_sync_ms;
	return next;
}

static int64_t done_grace_ms(const struct sim_dev *d)
{
	if (d->cfg.done_grace_ms >= 0)
		return d->cfg.done_grace_ms;
	/* The server's next request comes at one of the next uplinks; a FragSessionStatusReq
	 * round waits for answers spread over 2^(BlockAckDelay + 4) s first. */
	return 2 * (int64_t)d->cfg.uplink_period_ms + (INT64_C(1000) << (d->max_bad + 4));
}

bool sim_dev_in_campaign(const struct sim_dev *d)
{
	return d->in_campaign;
}

bool sim_dev_finished(const struct sim_dev *d, int64_t now_ms)
{
	if (!d->in_campaign || d->n_ul > 0)
		return false;
	bool left = false, open = false, had_session = false;
	for (int i = 0; i < SIM_FRAG_SESSIONS; i++) {
		if (d->frag[i].ack_tries > 0)
			return false;
		left |= d->frag[i].active;
	}
	for (int i = 0; i < MC_MAX_GROUPS; i++) {
		const struct sim_group *g = &d->groups[i];
		left |= g->defined;
		had_session |= g->defined && g->has_session;
		open |= g->defined && g->has_session && !g->closed;
	}
	if (d->ended && !left && !sim_image_incomplete(d))
		return true; /* the server deleted everything it had set up */
	bool failed = d->rep.n_failures > 0 || (d->cfg.misbehave & SIM_MB_SILENT);
	bool over = !open && (had_session || failed || d->ended);
	return over && now_ms - d->quiet_ms >= done_grace_ms(d);
}

void sim_dev_get_report(const struct sim_dev *d, int64_t now_ms, struct sim_dev_report *rep)
{
	*rep = d->rep;
	rep->in_campaign = d->in_campaign;
	rep->finished = sim_dev_finished(d, now_ms);
	rep->clock_error_ms = sim_dev_clock_ms(d, now_ms) - now_ms;
}
