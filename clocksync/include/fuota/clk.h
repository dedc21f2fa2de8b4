/* TS003 Application Layer Clock Synchronization, v1.0.0 and v2.0.0 (FPort 202, package id 1).
 *
 * Byte layouts: PROTOCOL-NOTES §3 (brocaar applayer/clocksync, LoRaMac-node LmhpClockSync.c,
 * SWL2001 lorawan_alcsync_v{1,2}.0.0.c, ChirpStack lrwn applayer/clocksync). v2 keeps every v1
 * layout; it renames CID 0x03 (ForceDeviceResyncCmd) and adds the saturation rule of AppTimeAns.
 *
 * Pure codec and time arithmetic: no I/O, no globals, caller-owned memory. Every function returns
 * FUOTA_OK or a negative enum fuota_err; data comes back through out-parameters. */
#ifndef FUOTA_CLK_H
#define FUOTA_CLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/reader.h"

#define CLK_FPORT      202
#define CLK_PACKAGE_ID 1

/* Command identifiers; the direction tells a request from its answer. */
enum clk_cid {
	CLK_CID_PACKAGE_VERSION = 0x00, /* down: PackageVersionReq, up: PackageVersionAns */
	CLK_CID_APP_TIME = 0x01,        /* up: AppTimeReq, down: AppTimeAns */
	CLK_CID_PERIODICITY = 0x02,     /* down: DeviceAppTimePeriodicityReq, up: ...Ans */
	CLK_CID_FORCE_RESYNC = 0x03,    /* down only: ForceDeviceResyncReq (v1) / ...Cmd (v2) */
};

/* One command. `up` is the direction (true: device to server). The member of `u` that is valid
 * follows from (cid, up); PackageVersionReq and ForceDeviceResync use no member / `force`. */
struct clk_cmd {
	uint8_t cid;
	bool up;
	union {
		struct {
			uint8_t package_id; /* 1 for TS003 */
			uint8_t version;    /* 1 or 2 */
		} pkg_ans;
		struct {
			uint32_t device_time; /* GPS seconds mod 2^32 */
			uint8_t token_req;    /* 0..15 (Param bits 3..0) */
			bool ans_required;    /* Param bit 4 */
		} time_req;
		struct {
			int32_t time_correction; /* seconds, added by the device */
			uint8_t token_ans;       /* 0..15 (Param bits 3..0) */
		} time_ans;
		struct {
			uint8_t period; /* 0..15: periodicity = 128 * 2^period seconds */
		} period_req;
		struct {
			bool not_supported; /* Status bit 0 */
			uint32_t time;      /* device clock, GPS seconds mod 2^32 */
		} period_ans;
		struct {
			uint8_t nb_transmissions; /* 0..7 (ForceConf bits 2..0) */
		} force;
	} u;
};

/* The spec name of a command, e.g. "AppTimeReq"; version 2 names CID 0x03 ForceDeviceResyncCmd.
 * Returns NULL for a CID the package does not define in that direction. */
const char *clk_cmd_name(uint8_t cid, bool up, int version);

/* Decodes the command that starts at buf[*pos] of a payload received in direction `up`, and
 * advances *pos past it. Walk a chained payload with `while (pos < len) clk_decode(...)`.
 * RFU bits are ignored. Returns FUOTA_OK; FUOTA_ERR_MALFORMED when a field is cut short;
 * FUOTA_ERR_UNSUPPORTED for a CID not defined in that direction (the rest of the payload cannot be
 * walked). On error *pos is unchanged and *err (may be NULL) says where and why (fuota/reader.h:
 * the name of the command, the first missing field, the bytes it needs and the bytes left). */
int clk_decode(const uint8_t *buf, size_t len, size_t *pos, bool up, struct clk_cmd *cmd,
               struct fuota_parse_err *err);

/* Appends cmd at buf[*pos] (capacity cap) and advances *pos. Returns FUOTA_OK,
 * FUOTA_ERR_NO_SPACE (nothing written), or FUOTA_ERR_INVALID_ARG for a field out of its range
 * (token > 15, period > 15, nb_transmissions > 7) or a CID not defined in that direction. */
int clk_encode(const struct clk_cmd *cmd, uint8_t *buf, size_t cap, size_t *pos);

/* Size in bytes (CID included) of the command once encoded; 0 for an undefined (cid, up). */
size_t clk_cmd_size(uint8_t cid, bool up);

/* ---- Server side ------------------------------------------------------------------------- */

/* Where the network time of an uplink's reception came from, best first. */
enum clk_time_source {
	CLK_SRC_GW_GPS = 0, /* rx_info time_since_gps_epoch: the gateway's GPS receiver */
	CLK_SRC_GW_TIME, /* rx_info gw_time (UTC from the gateway), converted to GPS by the caller
	                  */
	CLK_SRC_SERVER,  /* the server's own clock at reception, converted to GPS */
};

/* What one gateway reported about an uplink's reception. Times are GPS milliseconds. */
struct clk_rx_time {
	bool has_gps_time;
	int64_t gps_time_ms;
	bool has_gw_time;
	int64_t gw_time_gps_ms;
};

/* Picks the reception time to trust, as ChirpStack v4 and chirpstack-fuota-server do: a gateway
 * GPS timestamp if any gateway has one, else a gateway time, else server_gps_ms. The first gateway
 * (in array order) with the best source wins. gw may be NULL when n_gw is 0. Returns FUOTA_OK, or
 * FUOTA_ERR_INVALID_ARG for gw == NULL with n_gw > 0. */
int clk_pick_rx_time(const struct clk_rx_time *gw, size_t n_gw, int64_t server_gps_ms,
                     int64_t *gps_ms, enum clk_time_source *src);

/* TimeCorrection = network GPS time at reception - DeviceTime, in whole seconds.
 * DeviceTime is GPS seconds modulo 2^32, so the network time is first reduced modulo 2^32 seconds
 * (keeping its milliseconds); the difference is then truncated toward zero to seconds (ChirpStack
 * v4 chrono num_seconds) and saturated to INT32_MIN / INT32_MAX (ChirpStack v4 clocksync.rs; TS003
 * v2 devices treat those two values as "saturated, resynchronise"). net_gps_ms must be >= 0. */
int clk_time_correction(int64_t net_gps_ms, uint32_t device_time, int32_t *correction);

/* The server's answer to an AppTimeReq received at net_gps_ms: TimeCorrection as above and
 * TokenAns = TokenReq. *send is false when the correction is 0 and AnsRequired is 0 (ChirpStack
 * v4): the device is in sync and did not ask for an answer. req must be an uplink AppTimeReq;
 * returns FUOTA_ERR_INVALID_ARG otherwise. */
int clk_server_answer(const struct clk_cmd *req, int64_t net_gps_ms, struct clk_cmd *ans,
                      bool *send);

/* Periodicity in seconds of DeviceAppTimePeriodicityReq.Period: 128 * 2^(period & 0x0F). */
uint32_t clk_periodicity_s(uint8_t period);

/* ---- Device side ------------------------------------------------------------------------- */

/* A device's clock-sync state (the simulator's devices use it). */
struct clk_dev {
	int version;              /* package version: 1 or 2 */
	uint8_t token_req;        /* token of the next AppTimeReq, 0..15 */
	uint8_t nb_transmissions; /* AppTimeReq still to send after a ForceDeviceResync */
	uint32_t periodicity_s;   /* from DeviceAppTimePeriodicityReq; 0 = device's own choice */
};

/* Initialises *d for package version 1 or 2. Returns FUOTA_ERR_INVALID_ARG for another version. */
int clk_dev_init(struct clk_dev *d, int version);

/* Fills *req with an AppTimeReq for the device clock device_time (GPS s mod 2^32) and the current
 * token. The token advances only when a matching answer arrives. */
void clk_dev_app_time_req(const struct clk_dev *d, uint32_t device_time, bool ans_required,
                          struct clk_cmd *req);

/* Applies a received AppTimeAns. Accepted only if TokenAns equals the pending TokenReq; then the
 * token advances ((t + 1) & 0x0F), any ForceDeviceResync retransmissions stop, *new_time =
 * device_time + TimeCorrection (mod 2^32) and *resync is true when the device must send a new
 * AppTimeReq: v2 and a saturated correction (0x7FFFFFFF or 0x80000000, SWL2001 v2.0.0).
 * Returns FUOTA_OK, FUOTA_ERR_STATE for a token mismatch (the answer is ignored, nothing changes),
 * FUOTA_ERR_INVALID_ARG if ans is not a downlink AppTimeAns. */
int clk_dev_on_app_time_ans(struct clk_dev *d, const struct clk_cmd *ans, uint32_t device_time,
                            uint32_t *new_time, bool *resync);

/* Applies a received DeviceAppTimePeriodicityReq or ForceDeviceResync (other commands:
 * FUOTA_ERR_INVALID_ARG). ForceDeviceResync sets nb_transmissions (0 is kept: Zephyr ignores it,
 * the device simply sends nothing). */
int clk_dev_on_request(struct clk_dev *d, const struct clk_cmd *req);

#endif
