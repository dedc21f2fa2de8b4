/* What the sim_device tests share: keys, a device configuration, the exchanges that set a
 * device up, and a whole session's image and frames (fixture). */
#ifndef TEST_SIM_DEVICE_FIXTURE_H
#define TEST_SIM_DEVICE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/mc.h"
#include "sim_dev.h"

#define MC_ADDR    0x01020304u
#define T0_MS      (INT64_C(1436486418) * 1000) /* 2025-07-14T00:00:00Z in GPS ms */
#define GRACE_MS   36000                        /* the default done grace of base_cfg */
#define SESSION_MS 256000                       /* the class C session of setup_all: TimeOut 8 */

extern const uint8_t GEN_APP_KEY[16];
extern const uint8_t MC_KEY[16];
extern const uint8_t MC_APP_S_KEY[16];
extern const uint8_t MC_NWK_S_KEY[16];

struct session {
	uint8_t *image; /* padded to M * S */
	size_t image_len;
	uint32_t m, s, padding;
	uint8_t mic[4];
	uint16_t session_cnt;
	uint8_t sha[32];
};

/* A device of one TS004 version and an image of image_len bytes in 48-byte fragments, which the
 * device knows the SHA-256 of. */
struct fixture {
	int version;
	struct sim_dev_cfg c;
	struct session ss;
	struct sim_dev d;
	int64_t start; /* the session start of fixture_session (true GPS ms) */
};

struct sim_dev_cfg base_cfg(int version);

void dev_init(struct sim_dev *d, const struct sim_dev_cfg *c);

bool exchange(struct sim_dev *d, int64_t now_ms, uint8_t port, const uint8_t *data, size_t len,
              struct sim_uplink *ul);

size_t mc_cmd_bytes(const struct mc_cmd *cmd, uint8_t *buf);

void group_setup(struct sim_dev *d, int64_t now_ms, const uint8_t root[16], bool lw11, uint8_t id,
                 uint32_t min_fcnt, uint32_t max_fcnt);

void sync_clock(struct sim_dev *d, int64_t now_ms);

void make_image(struct session *ss, size_t len, uint32_t frag_size);

size_t setup_req_bytes(const struct session *ss, int version, uint16_t cnt, bool ack,
                       const uint8_t root[16], uint8_t *buf, uint8_t *mic_out);

size_t mc_frame(const struct session *ss, int version, uint32_t n, uint32_t fcnt,
                const uint8_t app[16], const uint8_t nwk[16], uint8_t *phy);

int64_t setup_all(struct sim_dev *d, struct session *ss, int version, bool ack);

void fixture_init(struct fixture *f, int version, size_t image_len);

void fixture_session(struct fixture *f, int version, size_t image_len, bool ack);

void fixture_free(struct fixture *f);

int fixture_frame(struct fixture *f, uint32_t n, uint32_t fcnt, int64_t t);

/* The shared multicast work (memo.c). */
void test_memo_three_gateways(void **state);
void test_memo_other_keys(void **state);

/* The knob tests (knobs.c). */
void test_knob_at_once(void **state);
void test_knob_lose_frags_and_counts(void **state);
void test_knob_lost_beyond_memory(void **state);
void test_knob_bad_mic_claim_valid(void **state);
void test_knob_clock_set(void **state);

#endif
