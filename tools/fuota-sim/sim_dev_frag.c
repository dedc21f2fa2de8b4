/* The device side of TS004 fragmentation (port 201) for fuota-sim (see sim_dev.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fuota/err.h"
#include "fuota/frag_mic.h"
#include "sim_dev.h"
#include "sim_dev_int.h"

/* The device's flash: the session's image slot, M x FragSize bytes (a part's place in the image
 * store for an image in parts). */
static uint8_t *slot(struct sim_flash *f)
{
	return f->store ? f->store->bytes + f->off : f->bytes;
}

/* Whether [offset, offset + len) lies in the slot, and in the store for a part: a store cut to
 * another last part's size leaves a session of the old one outside it (its access fails). */
static bool in_slot(const struct sim_flash *f, uint32_t offset, uint32_t len)
{
	size_t end = (size_t)offset + len;
	return end <= f->len && (!f->store || f->off + end <= f->store->cap);
}

static int flash_read(void *ctx, uint32_t offset, uint8_t *buf, uint32_t len)
{
	struct sim_flash *f = ctx;
	if (!in_slot(f, offset, len))
		return -1;
	memcpy(buf, slot(f) + offset, len);
	return 0;
}

/* The simulated flash is RAM: mapped in place, as a device's memory-mapped flash is. */
static const uint8_t *flash_map(void *ctx, uint32_t offset, uint32_t len)
{
	struct sim_flash *f = ctx;
	return in_slot(f, offset, len) ? slot(f) + offset : NULL;
}

static int flash_write(void *ctx, uint32_t offset, const uint8_t *buf, uint32_t len)
{
	struct sim_flash *f = ctx;
	if (!in_slot(f, offset, len))
		return -1;
	memcpy(slot(f) + offset, buf, len);
	return 0;
}

size_t sim_dev_frag_mem(uint32_t nb_frag, uint32_t frag_size)
{
	size_t ram = frag_lean_mem_size(nb_frag, frag_size, 0);
	return ram ? ram + (size_t)nb_frag * frag_size : 0;
}

int sim_lean_init(const struct sim_dev *d, struct sim_frag *s, const struct frag_setup_req *r,
                  size_t budget)
{
	uint32_t m = r->nb_frag, fs = r->frag_size, batch = SIM_LEAN_BATCH;
	size_t len = frag_lean_mem_size(m, fs, m) + frag_lean_batch_mem(m, fs, m, batch);
	if (len > budget) {
		batch = 0;
		len = frag_lean_mem_size(m, fs, m);
		len = len < budget ? len : budget;
	}
	struct frag_code code = {.nb_frag = m,
	                         .version = d->cfg.frag_version >= 2 ? FRAG_V2 : FRAG_V1,
	                         .seed = d->cfg.frag_version >= 2 ? d->cfg.v2_seed
	                                                          : FRAG_SEED_RELATIVE};
	s->mem = malloc(len);
	if (!s->mem || !s->flash)
		return FUOTA_ERR_NO_SPACE;
	s->mem_len = len;
	struct frag_lean_io io = {
	        .read = flash_read, .write = flash_write, .ctx = s->flash, .map = flash_map};
	return frag_lean_init_batch(&s->dec, &code, fs, r->padding, &io, batch, s->mem, len);
}

/* Starts the lean decoder of a whole-image session s for r: its flash slot, and the RAM the
 * device's memory leaves after the image (sim_lean_init). */
static int lean_start(const struct sim_dev *d, struct sim_frag *s, const struct frag_setup_req *r)
{
	size_t img = (size_t)r->nb_frag * r->frag_size;
	s->flash = malloc(sizeof(*s->flash) + img);
	if (!s->flash)
		return FUOTA_ERR_NO_SPACE;
	s->flash->len = img;
	s->flash->store = NULL;
	s->flash->off = 0;
	memset(s->flash->bytes, 0xff, img); /* erased */
	return sim_lean_init(d, s, r, d->cfg.mem_limit - img);
}

void sim_frag_ack_arm(struct sim_dev *d, int64_t now_ms, struct sim_frag *s)
{
	if (s->req.ack_reception && !(d->cfg.misbehave & SIM_MB_SILENT)) {
		/* LBM repeats FragDataBlockReceivedReq up to 3 times */
		s->ack_tries = d->cfg.ack_tries ? d->cfg.ack_tries : 3;
		s->ack_next_ms = now_ms + sim_ack_delay_ms(d, s->req.block_ack_delay);
	}
}

static void image_done(struct sim_dev *d, int64_t now_ms, struct sim_frag *s)
{
	const uint8_t *img = s->flash->bytes;
	size_t img_len = s->flash->len - s->req.padding;
	s->done = true;
	if (frag_lean_state(&s->dec) != FRAG_DEC_DONE)
		return;
	d->rep.steps |= SIM_STEP_DECODED;
	d->rep.decoded = true;
	d->rep.counts.images++;
	bool ok = true;
	if (d->cfg.has_expected_sha256) {
		uint8_t md[32];
		unsigned md_len = 0;
		d->rep.sha_checked = true;
		d->rep.sha_ok = EVP_Digest(img, img_len, md, &md_len, EVP_sha256(), NULL) == 1 &&
		                md_len == 32 && memcmp(md, d->cfg.expected_sha256, 32) == 0;
		if (!d->rep.sha_ok) {
			sim_fail(d, "rebuilt image (%zu bytes) differs from the original (SHA-256)",
			         img_len);
			ok = false;
		}
	}
	if (d->cfg.frag_version >= 2) {
		uint8_t key[16], mic[4];
		struct frag_mic_params p = {.session_cnt = s->req.session_cnt,
		                            .frag_index = s->req.frag_index};
		memcpy(p.descriptor, s->req.descriptor, 4);
		d->rep.mic_checked = true;
		d->rep.mic_ok = !(d->cfg.misbehave & SIM_MB_BAD_MIC) &&
		                frag_mic_key(d->cfg.root_key, key) == FUOTA_OK &&
		                frag_mic_compute(key, &p, img, img_len, mic) == FUOTA_OK &&
		                memcmp(mic, s->req.mic, 4) == 0;
		memset(key, 0, sizeof(key));
		s->mic_error = !d->rep.mic_ok;
		if (!d->rep.mic_ok) {
			sim_fail(d, "data-block MIC of the rebuilt image does not match "
			            "FragSessionSetupReq");
			ok = false;
		}
		sim_frag_ack_arm(d, now_ms, s);
	}
	if (ok && (d->rep.sha_checked || d->rep.mic_checked)) {
		d->rep.verified = true;
		d->rep.steps |= SIM_STEP_VERIFIED;
	}
}

/* The memory a session of r (part p) needs: its image (store) and its smallest decoder. */
static uint64_t setup_need(const struct sim_dev *d, uint8_t idx, const struct frag_part *p,
                           const struct frag_setup_req *r)
{
	if (p->count)
		return sim_part_need(d, idx, p, r);
	size_t need = sim_dev_frag_mem(r->nb_frag, r->frag_size);
	return need ? need : UINT64_MAX;
}

/* Starts fresh's decoder for r: a whole image in its own slot, or part p in the image store. */
static int setup_start(struct sim_dev *d, uint8_t idx, const struct frag_part *p,
                       const struct frag_setup_req *r, struct sim_frag *fresh)
{
	if (p->count)
		return sim_part_start(d, idx, p, r, fresh);
	sim_image_drop(d); /* a whole image: the device has one image slot */
	return lean_start(d, fresh, r);
}

static void frag_setup(struct sim_dev *d, const struct frag_setup_req *r, struct frag_setup_ans *a)
{
	uint8_t idx = r->frag_index & 3;
	struct sim_frag *s = &d->frag[idx];
	struct frag_part part = {0};
	char why[64] = "";
	a->frag_index = idx;
	a->algo_unsupported = r->frag_algo != 0;
	d->rep.counts.frag_setup++;
	a->wrong_descriptor = sim_part_check(r, &part, why, sizeof(why)) != FUOTA_OK;
	a->not_enough_memory = (d->cfg.misbehave & SIM_MB_REJECT_FRAG) ||
	                       setup_need(d, idx, &part, r) > d->cfg.mem_limit;
	if (d->cfg.frag_version >= 2 && s->has_cnt && r->session_cnt <= s->last_cnt) {
		a->session_cnt_replay = true;
		d->rep.counts.cnt_replay++;
	}
	if (a->algo_unsupported || a->not_enough_memory || a->session_cnt_replay ||
	    a->wrong_descriptor) {
		sim_fail(d, "FragSessionSetupReq refused:%s%s%s%s%s%s",
		         a->algo_unsupported ? " FragAlgo" : "",
		         a->not_enough_memory ? " NotEnoughMemory" : "",
		         a->session_cnt_replay ? " SessionCnt replay" : "",
		         a->wrong_descriptor ? " WrongDescriptor (" : "", why,
		         a->wrong_descriptor ? ")" : "");
		return;
	}
	struct sim_frag fresh = {0};
	if (setup_start(d, idx, &part, r, &fresh) != FUOTA_OK) {
		sim_frag_drop(&fresh);
		a->not_enough_memory = true;
		sim_fail(d, "FragSessionSetupReq refused: NotEnoughMemory (decoder init)");
		return;
	}
	sim_frag_drop(s); /* the decoder points into its heap memory only: it may move */
	s->dec = fresh.dec;
	s->mem = fresh.mem;
	s->mem_len = fresh.mem_len;
	s->flash = fresh.flash;
	s->part = part;
	s->active = true;
	s->req = *r;
	if (d->cfg.frag_version >= 2) {
		s->has_cnt = true;
		s->last_cnt = r->session_cnt;
	}
	if ((r->block_ack_delay & 7u) > d->max_bad)
		d->max_bad = r->block_ack_delay & 7u;
	d->rep.nb_frag = r->nb_frag;
	d->rep.frag_missing = r->nb_frag;
	d->rep.steps |= SIM_STEP_FRAG_SETUP;
}

static void data_fragment(struct sim_dev *d, int64_t now_ms, const struct frag_data_fragment *f,
                          int group)
{
	struct sim_frag *s = &d->frag[f->frag_index & 3];
	if (!s->active) {
		/* Another fragmentation session on the same multicast group (a job that runs one
		 * session per TS004 version): LoRaMac-node and LBM ignore such fragments. */
		d->rep.other_session++;
		return;
	}
	if (group >= 0 && !(s->req.mc_group_mask & (1u << group)))
		return; /* not from a group this session listens to */
	if (f->n >= 1 && f->n <= 32 && (d->cfg.lose_frags >> (f->n - 1) & 1u)) {
		d->rep.counts.lost_frags++;
		return;
	}
	d->rep.counts.session_frags++;
	if (s->done)
		return;
	/* LoRaMac-node's status: updated for each frame while decoding (frozen once done). */
	if (f->n > s->lmn_counter) {
		s->lmn_counter = f->n;
		s->lmn_uncoded += f->n <= s->req.nb_frag;
	}
	enum frag_dec_state st;
	int rc = frag_lean_process(&s->dec, f->n, f->payload, f->payload_len, &st);
	if (rc == FUOTA_ERR_MALFORMED || rc == FUOTA_ERR_INVALID_ARG) {
		sim_fail(d, "DataFragment N=%u refused by the decoder (size %zu)", f->n,
		         f->payload_len);
		return;
	}
	d->rep.fragments++;
	struct frag_dec_stats stats;
	frag_lean_get_stats(&s->dec, &stats);
	d->rep.frag_missing = stats.missing;
	d->rep.frag_recovered = stats.recovered;
	if (st == FRAG_DEC_DONE) {
		d->rep.done_n = f->n;
		if (s->part.count) {
			s->done = true;
			sim_part_done(d, now_ms, s);
		} else {
			image_done(d, now_ms, s);
		}
	} else if (st == FRAG_DEC_FAILED) {
		s->done = true;
		if (s->part.count)
			sim_part_done(d, now_ms, s);
		if (stats.not_enough_memory) /* LoRaMac-node's MatrixError (§4.9 step 1) */
			sim_fail(d,
			         "decoder out of matrix memory (NotEnoughMatrixMemory), %u "
			         "fragments missing, memory for %u",
			         stats.missing, stats.max_lost);
		else
			sim_fail(d, "decoder failed: flash access error");
	}
}

/* LoRaMac-node's FragSessionStatusAns fields (FragDecoder.c): NbFragReceived = the last counter
 * seen, MissingFrag = the uncoded fragments skipped before it. */
static void lmn_status(const struct sim_frag *s, uint32_t *counter, uint32_t *lost)
{
	uint32_t c = s->lmn_counter, m = s->req.nb_frag;
	uint32_t before = c > 0 ? (c - 1 < m ? c - 1 : m) : 0;
	uint32_t taken = s->lmn_uncoded - (c >= 1 && c <= m ? 1u : 0u);

	*counter = c;
	*lost = before > taken ? before - taken : 0;
}

/* The status answer of an active session, as the device's stack gives it; false: it keeps quiet
 * (Participants = 0 and nothing to report). */
static bool status_fields(const struct sim_dev *d, const struct sim_frag *s, bool participants,
                          struct frag_status_ans *a)
{
	struct frag_dec_stats st;
	frag_lean_get_stats(&s->dec, &st);
	bool done = frag_lean_state(&s->dec) == FRAG_DEC_DONE;
	uint32_t received = st.received, missing = st.missing;
	if (d->cfg.misbehave & SIM_MB_LORAMAC_NODE)
		lmn_status(s, &received, &missing);
	else if ((d->cfg.misbehave & SIM_MB_LBM_MISSING) && done && st.recovered == 0 &&
	         d->rep.frag_missing == 0 && missing == 0) {
		received = s->req.nb_frag;
		missing = 1;
	}
	if (!participants && missing == 0 && (done || (d->cfg.misbehave & SIM_MB_LORAMAC_NODE)))
		return false; /* only devices still missing fragments answer */
	a->nb_received = (uint16_t)(received > 16383 ? 16383 : received);
	a->missing_frag = (uint8_t)(missing > 255 ? 255 : missing);
	a->memory_error = st.not_enough_memory;
	a->mic_error = d->cfg.frag_version >= 2 && s->mic_error;
	return true;
}

/* group: the multicast group the request came through, or -1 for unicast. */
static void frag_status(struct sim_dev *d, int64_t now_ms, const struct frag_status_req *r,
                        int group)
{
	struct sim_frag *s = &d->frag[r->frag_index & 3];
	struct frag_cmd ans = {.type = FRAG_CMD_SESSION_STATUS_ANS};
	struct frag_status_ans *a = &ans.u.status_ans;
	a->frag_index = r->frag_index & 3;
	if (!s->active)
		d->rep.counts.status_other++;
	else if (group < 0)
		d->rep.counts.status_uc++;
	else
		d->rep.counts.status_mc++;
	if (!s->active) {
		if (d->cfg.frag_version < 2)
			return; /* v1 has no way to say it */
		a->session_not_exist = true;
	} else if (!status_fields(d, s, r->participants, a)) {
		return;
	}
	uint8_t buf[8];
	size_t len = 0;
	if (frag_cmd_encode(&ans, d->cfg.frag_version >= 2 ? FRAG_V2 : FRAG_V1, buf, sizeof(buf),
	                    &len) != FUOTA_OK)
		return;
	/* Answers to FragSessionStatusReq are spread over BlockAckDelay (TS004). */
	uint8_t bad = s->active ? s->req.block_ack_delay : 0;
	sim_queue_uplink(d, now_ms, FRAG_PORT, buf, len, sim_ack_delay_ms(d, bad));
	d->rep.steps |= SIM_STEP_STATUS;
}

/* The FragSize a DataFragment in this payload has: that of the only active session, else unknown
 * (0: the decoder takes the rest of the payload, which is all a v2 DataFragment may carry). */
static uint32_t known_frag_size(const struct sim_dev *d)
{
	uint32_t size = 0;
	int n = 0;
	for (int i = 0; i < SIM_FRAG_SESSIONS; i++)
		if (d->frag[i].active) {
			size = d->frag[i].req.frag_size;
			n++;
		}
	return n == 1 ? size : 0;
}

/* group: the multicast group the payload came through, or -1 for unicast. */
void sim_frag_payload(struct sim_dev *d, int64_t now_ms, const uint8_t *data, size_t len, int group,
                      struct answer *a)
{
	enum frag_version v = d->cfg.frag_version >= 2 ? FRAG_V2 : FRAG_V1;
	struct frag_cmd_iter it;
	frag_cmd_iter_init(&it, data, len, v, FRAG_DOWN, known_frag_size(d));
	while (frag_cmd_iter_more(&it)) {
		struct frag_cmd cmd, ans;
		if (frag_cmd_iter_next(&it, &cmd) != FUOTA_OK) {
			char msg[96];
			fuota_parse_err_format(&it.err, msg, sizeof(msg));
			d->rep.counts.malformed++;
			sim_fail(d, "port 201: %s", msg);
			return;
		}
		bool unicast_only = cmd.type != FRAG_CMD_DATA_FRAGMENT &&
		                    cmd.type != FRAG_CMD_SESSION_STATUS_REQ;
		if (group >= 0 && unicast_only)
			continue; /* ignored on a multicast address (PROTOCOL-NOTES §2) */
		memset(&ans, 0, sizeof(ans));
		bool answer = false;
		switch (cmd.type) {
		case FRAG_CMD_PACKAGE_VERSION_REQ:
			ans.type = FRAG_CMD_PACKAGE_VERSION_ANS;
			ans.u.version_ans.package_id = FRAG_PACKAGE_ID;
			ans.u.version_ans.package_version = (uint8_t)v;
			d->rep.steps |= SIM_STEP_PKG_VERSION;
			answer = true;
			break;
		case FRAG_CMD_SESSION_STATUS_REQ:
			frag_status(d, now_ms, &cmd.u.status_req, group);
			break;
		case FRAG_CMD_SESSION_SETUP_REQ:
			ans.type = FRAG_CMD_SESSION_SETUP_ANS;
			frag_setup(d, &cmd.u.setup_req, &ans.u.setup_ans);
			if (v == FRAG_V1)
				ans.u.setup_ans.session_cnt_replay = false;
			answer = true;
			break;
		case FRAG_CMD_SESSION_DELETE_REQ: {
			struct sim_frag *s = &d->frag[cmd.u.delete_req.frag_index & 3];
			ans.type = FRAG_CMD_SESSION_DELETE_ANS;
			ans.u.delete_ans.frag_index = cmd.u.delete_req.frag_index & 3;
			ans.u.delete_ans.session_not_exist = !s->active;
			d->ended |= s->active;
			d->rep.counts.frag_delete++;
			d->rep.counts.last_delete_index = cmd.u.delete_req.frag_index & 3;
			sim_frag_drop(s);
			d->rep.steps |= SIM_STEP_FRAG_DELETE;
			answer = true;
			break;
		}
		case FRAG_CMD_DATA_FRAGMENT:
			data_fragment(d, now_ms, &cmd.u.data_fragment, group);
			break;
		case FRAG_CMD_DATA_BLOCK_RECEIVED_ANS: {
			struct sim_frag *s = &d->frag[cmd.u.block_received_ans.frag_index & 3];
			s->ack_tries = 0;
			d->rep.counts.block_acked++;
			d->rep.steps |= SIM_STEP_BLOCK_ACKED;
			break;
		}
		default: break;
		}
		if (answer) {
			size_t used = 0;
			if (frag_cmd_encode(&ans, v, a->data + a->len, sizeof(a->data) - a->len,
			                    &used) == FUOTA_OK)
				a->len += used;
			else
				sim_fail(d, "port 201: answers do not fit one uplink");
		}
	}
}
