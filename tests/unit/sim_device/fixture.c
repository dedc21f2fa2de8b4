/* The sim_device tests' shared fixture (fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "fuota/bytes.h"
#include "fuota/clk.h"
#include "fuota/err.h"
#include "fuota/frag_cmd.h"
#include "fuota/frag_mic.h"
#include "fuota/frag_ref.h"
#include "fuota/lw_frame.h"
#include "fuota/mc.h"
#include "fuota/mc_keys.h"
#include "fuota/mc_session.h"
#include "sim_dev.h"
#include "fixture.h"

/* PROTOCOL-NOTES §5.4. */
const uint8_t GEN_APP_KEY[16] = {0x03, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
const uint8_t MC_KEY[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                            0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
const uint8_t MC_APP_S_KEY[16] = {0x95, 0xcb, 0x45, 0x18, 0xee, 0x37, 0x56, 0x06,
                                  0x73, 0x5b, 0xba, 0xcb, 0xdc, 0xe8, 0x37, 0xfa};
const uint8_t MC_NWK_S_KEY[16] = {0xc3, 0xf6, 0xb3, 0x88, 0xba, 0xd6, 0xc0, 0x00,
                                  0xb2, 0x32, 0x91, 0xad, 0x52, 0xc1, 0x1c, 0x7b};

struct sim_dev_cfg base_cfg(int version)
{
	struct sim_dev_cfg c;
	memset(&c, 0, sizeof(c));
	c.dev_eui = 0x70b3d57ed0000001ull;
	memcpy(c.root_key, GEN_APP_KEY, 16);
	c.clk_version = c.mc_version = c.frag_version = version;
	c.region = lw_region_find("EU868");
	c.mem_limit = 1 << 20;
	c.seed = 42;
	c.uplink_period_ms = 10000;
	c.done_grace_ms = -1; /* 2 x 10 s + 16 s (BlockAckDelay 0) */
	return c;
}

void dev_init(struct sim_dev *d, const struct sim_dev_cfg *c)
{
	assert_int_equal(sim_dev_init(d, c, T0_MS), FUOTA_OK);
}

/* Sends one unicast downlink and returns the answer uplink (port and bytes) if one is due at
 * now_ms + 10 min (answers may be delayed by BlockAckDelay). */
bool exchange(struct sim_dev *d, int64_t now_ms, uint8_t port, const uint8_t *data, size_t len,
              struct sim_uplink *ul)
{
	sim_dev_downlink(d, now_ms, port, data, len);
	return sim_dev_uplink(d, now_ms + 600000, false, ul);
}

size_t mc_cmd_bytes(const struct mc_cmd *cmd, uint8_t *buf)
{
	size_t pos = 0;
	assert_int_equal(mc_encode(cmd, buf, 64, &pos), FUOTA_OK);
	return pos;
}

void group_setup(struct sim_dev *d, int64_t now_ms, const uint8_t root[16], bool lw11, uint8_t id,
                 uint32_t min_fcnt, uint32_t max_fcnt)
{
	uint8_t rk[16], kek[16];
	if (lw11)
		assert_int_equal(mc_root_key_from_app_key(root, rk), FUOTA_OK);
	else
		assert_int_equal(mc_root_key_from_gen_app_key(root, rk), FUOTA_OK);
	assert_int_equal(mc_ke_key_from_root(rk, kek), FUOTA_OK);
	struct mc_cmd cmd = {.cid = MC_CID_GROUP_SETUP, .up = false};
	cmd.u.setup_req.group_id = id;
	cmd.u.setup_req.mc_addr = MC_ADDR;
	assert_int_equal(mc_key_encrypt(kek, MC_KEY, cmd.u.setup_req.mc_key_encrypted), FUOTA_OK);
	cmd.u.setup_req.min_fcnt = min_fcnt;
	cmd.u.setup_req.max_fcnt = max_fcnt;
	uint8_t buf[64];
	size_t len = mc_cmd_bytes(&cmd, buf);
	struct sim_uplink ul;
	assert_true(exchange(d, now_ms, MC_FPORT, buf, len, &ul));
	assert_int_equal(ul.port, MC_FPORT);
	assert_int_equal(ul.len, 2);
	assert_int_equal(ul.data[0], 0x02);
	assert_int_equal(ul.data[1], id); /* no IDError */
}

void sync_clock(struct sim_dev *d, int64_t now_ms)
{
	struct sim_uplink ul;
	assert_true(sim_dev_uplink(d, now_ms, false, &ul));
	assert_int_equal(ul.port, CLK_FPORT);
	struct clk_cmd req, ans;
	size_t pos = 0;
	assert_int_equal(clk_decode(ul.data, ul.len, &pos, true, &req, NULL), FUOTA_OK);
	assert_int_equal(req.cid, CLK_CID_APP_TIME);
	bool send = false;
	assert_int_equal(clk_server_answer(&req, now_ms, &ans, &send), FUOTA_OK);
	assert_true(send);
	uint8_t buf[8];
	pos = 0;
	assert_int_equal(clk_encode(&ans, buf, sizeof(buf), &pos), FUOTA_OK);
	assert_int_equal(sim_dev_downlink(d, now_ms, CLK_FPORT, buf, pos), FUOTA_OK);
	int64_t err = sim_dev_clock_ms(d, now_ms) - now_ms;
	assert_true(err > -1000 && err < 1000);
}

void make_image(struct session *ss, size_t len, uint32_t frag_size)
{
	ss->s = frag_size;
	ss->m = (uint32_t)((len + frag_size - 1) / frag_size);
	ss->padding = ss->m * frag_size - (uint32_t)len;
	ss->image_len = len;
	ss->image = calloc(ss->m, frag_size);
	assert_non_null(ss->image);
	uint32_t x = 12345;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		ss->image[i] = (uint8_t)(x >> 16);
	}
	unsigned md_len = 0;
	assert_int_equal(EVP_Digest(ss->image, len, ss->sha, &md_len, EVP_sha256(), NULL), 1);
}

size_t setup_req_bytes(const struct session *ss, int version, uint16_t cnt, bool ack,
                       const uint8_t root[16], uint8_t *buf, uint8_t *mic_out)
{
	struct frag_cmd cmd = {.type = FRAG_CMD_SESSION_SETUP_REQ};
	struct frag_setup_req *r = &cmd.u.setup_req;
	r->frag_index = 0;
	r->mc_group_mask = 0x01;
	r->nb_frag = (uint16_t)ss->m;
	r->frag_size = (uint8_t)ss->s;
	r->padding = (uint8_t)ss->padding;
	r->block_ack_delay = 0;
	memset(r->descriptor, 0, 4); /* the whole image (fuota/frag_part.h) */
	if (version == 2) {
		r->session_cnt = cnt;
		r->ack_reception = ack;
		uint8_t key[16];
		struct frag_mic_params p = {.session_cnt = cnt, .frag_index = 0};
		memcpy(p.descriptor, r->descriptor, 4);
		assert_int_equal(frag_mic_key(root, key), FUOTA_OK);
		assert_int_equal(frag_mic_compute(key, &p, ss->image, ss->image_len, r->mic),
		                 FUOTA_OK);
		if (mic_out)
			memcpy(mic_out, r->mic, 4);
	}
	size_t len = 0;
	assert_int_equal(frag_cmd_encode(&cmd, version == 2 ? FRAG_V2 : FRAG_V1, buf, 64, &len),
	                 FUOTA_OK);
	return len;
}

/* DataFragment N of the session as a multicast frame with FCnt fcnt. */
size_t mc_frame(const struct session *ss, int version, uint32_t n, uint32_t fcnt,
                const uint8_t app[16], const uint8_t nwk[16], uint8_t *phy)
{
	uint8_t payload[3 + 255];
	payload[0] = FRAG_CID_DATA_FRAGMENT;
	payload[1] = (uint8_t)n;
	payload[2] = (uint8_t)((n >> 8) & 0x3f);
	if (n <= ss->m) {
		memcpy(payload + 3, ss->image + (n - 1) * ss->s, ss->s);
	} else {
		struct frag_code code = {.nb_frag = ss->m,
		                         .version = version == 2 ? FRAG_V2 : FRAG_V1,
		                         .seed = FRAG_SEED_RELATIVE};
		uint64_t line[64];
		assert_int_equal(frag_ref_encode(&code, ss->s, ss->image, (size_t)ss->m * ss->s,
		                                 n - ss->m, 1, payload + 3, line, 64),
		                 FUOTA_OK);
	}
	struct lw_frame_tx tx = {.mtype = LW_MTYPE_UNCONF_DATA_DOWN,
	                         .dev_addr = MC_ADDR,
	                         .fcnt = fcnt,
	                         .has_fport = true,
	                         .fport = FRAG_PORT,
	                         .payload = payload,
	                         .payload_len = 3 + ss->s};
	size_t len = 0;
	assert_int_equal(lw_frame_build(&tx, app, nwk, phy, LW_PHY_MAX_LEN, &len), FUOTA_OK);
	return len;
}

/* Setup (group, fragmentation, clock, class C session) of device d for session ss; returns the
 * session start (true GPS ms). */
int64_t setup_all(struct sim_dev *d, struct session *ss, int version, bool ack)
{
	int64_t now = T0_MS;
	sync_clock(d, now);
	group_setup(d, now, GEN_APP_KEY, false, 0, 0, 0xffffffffu);
	uint8_t buf[64];
	size_t len = setup_req_bytes(ss, version, 7, ack, GEN_APP_KEY, buf, ss->mic);
	struct sim_uplink ul;
	assert_true(exchange(d, now, FRAG_PORT, buf, len, &ul));
	assert_int_equal(ul.port, FRAG_PORT);
	assert_int_equal(ul.len, 2);
	assert_memory_equal(ul.data, ((uint8_t[]){0x02, 0x00}), 2); /* accepted, FragIndex 0 */

	struct mc_cmd cmd = {.cid = MC_CID_CLASS_C_SESSION};
	cmd.u.session_req.group_id = 0;
	cmd.u.session_req.session_time = (uint32_t)(now / 1000 + 20);
	cmd.u.session_req.timeout = 8; /* 256 s */
	cmd.u.session_req.dl_freq_hz = 869525000;
	cmd.u.session_req.dr = 5;
	len = mc_cmd_bytes(&cmd, buf);
	assert_true(exchange(d, now, MC_FPORT, buf, len, &ul));
	struct mc_cmd ans;
	size_t pos = 0;
	assert_int_equal(mc_decode(ul.data, ul.len, &pos, true, version, &ans, NULL), FUOTA_OK);
	assert_int_equal(ans.cid, MC_CID_CLASS_C_SESSION);
	assert_true(ans.u.session_ans.has_time_to_start);
	/* The device clock is within a second of true time after the sync. */
	assert_in_range(ans.u.session_ans.time_to_start, 19, 21);
	return (now / 1000 + 20) * 1000;
}

void fixture_init(struct fixture *f, int version, size_t image_len)
{
	memset(f, 0, sizeof(*f));
	f->version = version;
	f->c = base_cfg(version);
	make_image(&f->ss, image_len, 48);
	f->c.has_expected_sha256 = true;
	memcpy(f->c.expected_sha256, f->ss.sha, 32);
	dev_init(&f->d, &f->c);
}

/* fixture_init, then the device set up for a class C session 20 s on (setup_all). */
void fixture_session(struct fixture *f, int version, size_t image_len, bool ack)
{
	fixture_init(f, version, image_len);
	f->start = setup_all(&f->d, &f->ss, version, ack);
}

void fixture_free(struct fixture *f)
{
	sim_dev_free(&f->d);
	free(f->ss.image);
}

/* DataFragment n with FCnt fcnt, on air at t on the session's channel with the right keys;
 * returns what sim_dev_multicast says. */
int fixture_frame(struct fixture *f, uint32_t n, uint32_t fcnt, int64_t t)
{
	uint8_t phy[256];
	size_t len = mc_frame(&f->ss, f->version, n, fcnt, MC_APP_S_KEY, MC_NWK_S_KEY, phy);
	return sim_dev_multicast(&f->d, t, 869525000, phy, len);
}
