/* TS005 Remote Multicast Setup, v1.0.0 and v2.0.0 (FPort 200, package id 2): the command codec.
 *
 * Layouts: PROTOCOL-NOTES §5.1 (brocaar applayer/multicastsetup, ChirpStack lrwn
 * applayer/multicastsetup v1.rs/v2.rs, LoRaMac-node LmhpRemoteMcastSetup.c, SWL2001). The only
 * v1 -> v2 change on the wire is StartMissed (bit 5) in McClassC/BSessionAns. Keys are in
 * fuota/mc_keys.h, session timing in fuota/mc_session.h.
 *
 * Pure codec: no I/O, no globals, caller-owned memory. Functions return FUOTA_OK or a negative
 * enum fuota_err; data comes back through out-parameters. */
#ifndef FUOTA_MC_H
#define FUOTA_MC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/reader.h"

#define MC_FPORT      200
#define MC_PACKAGE_ID 2
#define MC_MAX_GROUPS 4 /* McGroupID is 2 bits */

enum mc_cid {
	MC_CID_PACKAGE_VERSION = 0x00,
	MC_CID_GROUP_STATUS = 0x01,
	MC_CID_GROUP_SETUP = 0x02,
	MC_CID_GROUP_DELETE = 0x03,
	MC_CID_CLASS_C_SESSION = 0x04,
	MC_CID_CLASS_B_SESSION = 0x05,
};

/* Status bits of McClassCSessionAns / McClassBSessionAns (bits 1..0 are the McGroupID). */
#define MC_SESS_DR_ERROR        0x04
#define MC_SESS_FREQ_ERROR      0x08
#define MC_SESS_GROUP_UNDEFINED 0x10
#define MC_SESS_START_MISSED    0x20 /* v2; SWL2001 sends it from its v1 code too */
#define MC_SESS_ERROR_BITS      0x1C
#define MC_TIME_TO_START_MAX    0xFFFFFFu
#define MC_DL_FREQ_MAX_HZ       (0xFFFFFFu * 100u)

struct mc_group_item {
	uint8_t group_id; /* 0..3 */
	uint32_t mc_addr; /* 0x01FFFFFF is sent as ff ff ff 01 */
};

/* McClassCSessionReq (class_b false) and McClassBSessionReq (class_b true). */
struct mc_session_req {
	uint8_t group_id;      /* 0..3 */
	uint32_t session_time; /* GPS seconds mod 2^32 */
	uint8_t timeout;       /* 0..15: 2^timeout s (class C) or 2^timeout beacon periods (B) */
	uint8_t periodicity;   /* class B only, 0..7 */
	uint32_t dl_freq_hz;   /* a multiple of 100 Hz, at most MC_DL_FREQ_MAX_HZ */
	uint8_t dr;
};

/* McClassCSessionAns / McClassBSessionAns. TimeToStart is on the air only when no error and no
 * StartMissed bit is set (PROTOCOL-NOTES P22). */
struct mc_session_ans {
	uint8_t group_id;
	bool dr_error;
	bool freq_error;
	bool group_undefined;
	bool start_missed;
	bool has_time_to_start;
	uint32_t time_to_start; /* seconds, 0..0xFFFFFF */
};

/* One command; the valid member of `u` follows from (cid, up). */
struct mc_cmd {
	uint8_t cid;
	bool up;
	union {
		struct {
			uint8_t package_id;
			uint8_t version;
		} pkg_ans;
		struct {
			uint8_t reg_group_mask; /* 0..15 */
		} status_req;
		struct {
			uint8_t ans_group_mask;  /* 0..15 */
			uint8_t nb_total_groups; /* 0..7 */
			uint8_t nb_items;        /* = popcount(ans_group_mask) */
			struct mc_group_item items[MC_MAX_GROUPS];
		} status_ans;
		struct {
			uint8_t group_id;
			uint32_t mc_addr;
			uint8_t mc_key_encrypted[16];
			uint32_t min_fcnt;
			uint32_t max_fcnt;
		} setup_req;
		struct {
			uint8_t group_id;
			bool id_error;
		} setup_ans;
		struct {
			uint8_t group_id;
		} delete_req;
		struct {
			uint8_t group_id;
			bool group_undefined;
		} delete_ans;
		struct mc_session_req session_req;
		struct mc_session_ans session_ans;
	} u;
};

/* The spec name of a command, or NULL if the CID is not defined. */
const char *mc_cmd_name(uint8_t cid, bool up);

/* Decodes the command at buf[*pos] of a payload travelling in direction `up` and advances *pos.
 * version (1 or 2) is the package version; both versions read bit 5 of a session answer as
 * StartMissed, because SWL2001's v1.0.0 code sends it with the same meaning. RFU bits are ignored.
 * McGroupStatusAns items are read by count (popcount of AnsGroupMask), each with its own McGroupID.
 * A session answer carries TimeToStart exactly when no error and no StartMissed bit is set; then
 * it is required. Returns FUOTA_OK, FUOTA_ERR_MALFORMED (a field cut short), FUOTA_ERR_UNSUPPORTED
 * (CID undefined in that direction) or FUOTA_ERR_INVALID_ARG (*pos >= len, bad version). On error
 * *pos is unchanged and *err (may be NULL) says where. */
int mc_decode(const uint8_t *buf, size_t len, size_t *pos, bool up, int version, struct mc_cmd *cmd,
              struct fuota_parse_err *err);

/* Appends cmd at buf[*pos] (capacity cap) and advances *pos. Returns FUOTA_OK, FUOTA_ERR_NO_SPACE
 * (nothing written) or FUOTA_ERR_INVALID_ARG: a field out of range (group id > 3, masks > 15,
 * nb_total_groups > 7, timeout > 15, periodicity > 7, a frequency not a multiple of 100 Hz or above
 * MC_DL_FREQ_MAX_HZ, time_to_start > 0xFFFFFF, status items that disagree with ans_group_mask), a
 * session answer with TimeToStart together with an error/StartMissed bit, or an undefined CID. */
int mc_encode(const struct mc_cmd *cmd, uint8_t *buf, size_t cap, size_t *pos);

#endif
