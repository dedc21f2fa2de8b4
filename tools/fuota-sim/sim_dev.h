/* One simulated LoRaWAN device's application layer: TS003 clock sync (port 202), TS005 remote
 * multicast setup (port 200), TS004 fragmentation (port 201) and the multicast receiver, on top
 * of the project's codec libraries (clk, mc, frag_cmd, frag_lean, frag_mic, lw_frame).
 *
 * Pure logic: bytes in, bytes out, no MQTT, no clock reads, no threads. Time is passed in as
 * now_ms, the true GPS time in milliseconds; the device derives its own clock from it with its
 * offset and drift, and that clock is what it reports (DeviceTime) and what it schedules
 * multicast sessions by. The network side (sim_net.c) decides when a device transmits and
 * which downlinks reach it.
 *
 * Allocation: sim_dev_init allocates nothing; a FragSessionSetupReq allocates the image's flash
 * and the decoder's RAM (together bounded by the device's memory limit) and sim_dev_free
 * releases them.
 *
 * The decoder is a device's: the lean one (fuota/frag_lean.h), frames taken in order, the image
 * in a flash buffer behind read/write callbacks (and mapped in place, as a memory-mapped flash
 * is), RAM for as many lost fragments as the memory left after the image holds (all M, rows
 * batched by SIM_LEAN_BATCH, when it holds that). A
 * device that lost more uncoded fragments than that behaves as LoRaMac-node's FragDecoder
 * (PROTOCOL-NOTES §4.9 step 1 and §4.10): at the first coded frame its session ends with
 * MatrixError, which its FragSessionStatusAns reports (MemoryError), and it rebuilds nothing.
 *
 * An image in parts (fuota/frag_part.h: a FragSessionSetupReq whose Descriptor names part k of
 * P) is assembled in one image store, the device's flash for the whole image: each part's
 * session decodes into its place at frag_part_offset, its v2 MIC is checked over the part's
 * bytes, and once every part is rebuilt the whole image's SHA-256 is checked. A device holds at
 * most the image and the decoder RAM of the parts being decoded (a part's RAM is released when
 * its decoding ends). A Descriptor that is not a part, or a part whose NbFrag or Padding
 * contradicts it, is refused with WrongDescriptor; the all-zero Descriptor is a whole image. */
#ifndef FUOTA_SIM_DEV_H
#define FUOTA_SIM_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/clk.h"
#include "fuota/frag_cmd.h"
#include "fuota/frag_dec.h"
#include "fuota/frag_lean.h"
#include "fuota/frag_part.h"
#include "fuota/lw_region.h"
#include "fuota/mc.h"

#define SIM_UL_MAX        242 /* largest uplink FRMPayload the device builds */
#define SIM_UL_QUEUE      8   /* answers waiting for an uplink */
#define SIM_MAX_FAILURES  8
#define SIM_FAILURE_LEN   112
#define SIM_FRAG_SESSIONS 4
#define SIM_APP_PORT      2 /* FPort of the periodic status uplink (not an application package) */
#define SIM_MAX_FCNT_GAP  16384 /* LoRaWAN MAX_FCNT_GAP: larger jumps of McFCnt are refused */
/* How far from a ping slot's start a class B frame may begin on air and still be received: the
 * device opens its receive window at the slot start and needs the preamble within a few symbols
 * (LoRaMac-node: CLASSB_PING_SLOT_WINDOW 30 ms is the whole slot). */
#define SIM_PING_SLOT_TOL_MS 5
/* Coded rows a device's lean decoder batches when its memory holds all M columns and the table */
#define SIM_LEAN_BATCH 6u

/* Misbehaviour switches (struct sim_dev_cfg.misbehave). A wrong root key is not a switch here:
 * the device simply holds a key that differs from the one registered (sim_net.c does that). */
#define SIM_MB_SILENT      0x01u /* never answer any application-layer command */
#define SIM_MB_LATE        0x02u /* answer late_s seconds late */
#define SIM_MB_REJECT_FRAG 0x04u /* refuse every FragSessionSetupReq with NotEnoughMemory */
#define SIM_MB_WRONG_MCKEY 0x08u /* McKey = AES DECRYPT(McKEKey, ...): the P13 direction bug */
/* Answers FragSessionStatusReq as Semtech LoRaMac-node's FragDecoder does (PROTOCOL-NOTES §4.10):
 * NbFragReceived the last fragment counter seen while decoding, MissingFrag the uncoded
 * fragments lost so far (never lowered once parity rebuilt them); to Participants = 0 whenever
 * that count is above 0, finished or not. */
#define SIM_MB_LORAMAC_NODE 0x10u
/* LoRa Basics Modem v2 after a lossless session: MissingFrag stays 1 (NbFragReceived M). */
#define SIM_MB_LBM_MISSING 0x20u
/* LoRa Basics Modem's clock: synchronised only when the server asks (its application did not
 * start the clock-sync service at join), and after ForceDeviceResyncReq its AppTimeReq leaves
 * SIM_LBM_RESYNC_MIN_MS to SIM_LBM_RESYNC_MAX_MS later, not at once (issue 16: LBM waits at
 * least 6 s). Until then it answers a session request with its unsynchronised clock. */
#define SIM_MB_LBM_RESYNC     0x40u
#define SIM_LBM_RESYNC_MIN_MS 6000
#define SIM_LBM_RESYNC_MAX_MS 10000
/* Has TS006 Firmware Management (port 203): answers DevVersionReq with cfg.fw_version and
 * cfg.hw_version, DevRebootCountdownReq with its countdown (then reboots: see
 * cfg.image_fw_version), DevUpgradeImageReq with Valid once its image is verified,
 * CorruptOrInvalidSignature when rebuilt but not verified, else NoFirmwarePresent; the fleet JSON
 * registers it with packages.ts006 = 1. */
#define SIM_MB_TS006 0x80u
/* Its rebuilt image fails the TS004 v2 data-block MIC check whatever the image (a flash that
 * corrupts what it stores): MICError in its answers, CorruptOrInvalidSignature to TS006. */
#define SIM_MB_BAD_MIC 0x100u
/* With SIM_MB_TS006: answers DevUpgradeImageReq with Valid whatever it holds (an impostor, for
 * example the same DevEUI in another application). */
#define SIM_MB_CLAIM_VALID 0x200u

/* Steps a device went through (struct sim_dev_report.steps). */
#define SIM_STEP_PKG_VERSION  0x0001u /* answered a PackageVersionReq */
#define SIM_STEP_TIME_SYNC    0x0002u /* applied an AppTimeAns */
#define SIM_STEP_MC_SETUP     0x0004u /* accepted McGroupSetupReq */
#define SIM_STEP_FRAG_SETUP   0x0008u /* accepted FragSessionSetupReq */
#define SIM_STEP_MC_SESSION   0x0010u /* accepted McClassC/BSessionReq */
#define SIM_STEP_SESSION_OPEN 0x0020u /* its multicast session window opened */
#define SIM_STEP_DECODED      0x0040u /* rebuilt the image */
#define SIM_STEP_VERIFIED     0x0080u /* SHA-256 (and v2 MIC) matched */
#define SIM_STEP_BLOCK_ACKED  0x0100u /* received FragDataBlockReceivedAns */
#define SIM_STEP_STATUS       0x0200u /* answered FragSessionStatusReq */
#define SIM_STEP_FRAG_DELETE  0x0400u /* deleted a fragmentation session on request */
#define SIM_STEP_MC_DELETE    0x0800u /* deleted a multicast group on request */
#define SIM_STEP_SESSION_END  0x1000u /* its multicast session window closed */

/* Names of the step bits, for reports: sim_step_name(SIM_STEP_DECODED) = "decoded". */
const char *sim_step_name(uint32_t step);

struct sim_dev_cfg {
	uint64_t dev_eui;
	bool lorawan11;       /* true: root_key is the LoRaWAN 1.1 AppKey; false: 1.0.x GenAppKey */
	uint8_t root_key[16]; /* the key the device holds */
	int clk_version;      /* TS003 package version, 1 or 2 */
	int mc_version;       /* TS005, 1 or 2 */
	int frag_version;     /* TS004, 1 or 2 */
	enum frag_seed v2_seed; /* TS004 v2 seed reading (PROTOCOL-NOTES §4.5) */
	const struct lw_region
	        *region;           /* for DR / frequency checks of session requests; NULL: none */
	size_t mem_limit;          /* memory the device has for a session, bytes: the image's flash
	                            * (M x FragSize) and the decoder's RAM (sim_dev_frag_mem) */
	int64_t clock_offset_ms;   /* device clock - true GPS time at now_ms of sim_dev_init */
	int32_t drift_ppm;         /* device clock rate error */
	uint32_t misbehave;        /* SIM_MB_* */
	uint32_t fw_version;       /* TS006 DevVersionAns FW_version (with SIM_MB_TS006); the
	                            * running firmware: a reboot changes it (image_fw_version) */
	uint32_t image_fw_version; /* the FW_version of the image it receives: after
	                            * DevRebootCountdownReq's countdown a device that verified the
	                            * image runs it (0: it boots its old firmware again) */
	uint32_t hw_version;       /* TS006 DevVersionAns HW_version */
	uint32_t late_s;           /* answer delay with SIM_MB_LATE */
	uint32_t resync_s;         /* AppTimeReq period once synchronised; 0: never again */
	uint32_t sync_retry_s;     /* AppTimeReq retry while unanswered; 0: 10 s */
	bool has_expected_sha256;
	uint8_t expected_sha256[32]; /* SHA-256 of the original image */
	uint64_t seed;               /* the device's own randomness (BlockAckDelay) */
	uint32_t uplink_period_ms;   /* how often it transmits (for the default done grace) */
	int64_t done_grace_ms; /* quiet time before a device whose part is over is finished (see
	                        * sim_dev_finished); < 0: 2 uplink periods + 2^(BlockAckDelay + 4) s
	                        * of the largest BlockAckDelay it was given */
	/* Knobs for a caller that times the uplinks itself (the engine itests); all off when 0. */
	bool at_once;      /* answers and FragDataBlockReceivedReq are due at once, not spread
	                    * over BlockAckDelay */
	uint8_t ack_tries; /* FragDataBlockReceivedReq sent at most this often (0: 3, as LBM) */
	bool clock_set;    /* its clock counts as synchronised from the start (clock_offset_ms
	                    * is its error): no AppTimeReq until ForceDeviceResyncReq or
	                    * sim_dev_ask_time */
	uint32_t resync_delay_ms; /* AppTimeReq this long after ForceDeviceResyncReq (0: at once,
	                           * or 6 to 10 s at random with SIM_MB_LBM_RESYNC) */
	bool v1_start_missed;     /* TS005 v1 answers StartMissed as SWL2001 does (else
	                           * McGroupUndefined, as LoRaMac-node; PROTOCOL-NOTES P11) */
	uint32_t lose_frags;      /* DataFragment N (1..32) of its session with bit N-1 set never
	                           * reaches its decoder (the frame and its FCnt are taken) */
};

/* How often the device got each request (struct sim_dev_report.counts). */
struct sim_dev_counts {
	uint32_t time_ans;      /* AppTimeAns applied */
	uint32_t force_resync;  /* ForceDeviceResyncReq */
	uint32_t mc_setup;      /* McGroupSetupReq */
	uint32_t mc_delete;     /* McGroupDeleteReq */
	uint32_t mc_status;     /* McGroupStatusReq */
	uint32_t frag_setup;    /* FragSessionSetupReq */
	uint32_t cnt_replay;    /* ... refused for a SessionCnt it had seen */
	uint32_t frag_delete;   /* FragSessionDeleteReq */
	int last_delete_index;  /* FragIndex of the last one (-1: none) */
	uint32_t status_uc;     /* unicast FragSessionStatusReq of a session it has */
	uint32_t status_mc;     /* multicast FragSessionStatusReq of a session it has */
	uint32_t status_other;  /* FragSessionStatusReq of a session it does not have */
	uint32_t block_acked;   /* FragDataBlockReceivedAns */
	uint32_t upgrade_image; /* DevUpgradeImageReq (answered only with SIM_MB_TS006) */
	uint32_t dev_version;   /* DevVersionReq answered (SIM_MB_TS006) */
	uint32_t reboots;       /* TS006 reboots done (after DevReboot*Req) */
	uint32_t reboot_times;  /* DevRebootTimeReq that scheduled a reboot */
	uint32_t session_frags; /* DataFragments of one of its sessions, after the image too */
	uint32_t lost_frags;    /* ... lost by cfg.lose_frags */
	uint32_t images;        /* images rebuilt (an image in parts: once every part is) */
	uint32_t parts;         /* parts of an image rebuilt, a part taken again included */
	uint32_t malformed;     /* downlinks that did not decode */
};

/* What the device wants to transmit. */
struct sim_uplink {
	uint8_t port;
	uint8_t data[SIM_UL_MAX];
	size_t len;
	uint32_t fcnt;
};

struct sim_failure {
	char text[SIM_FAILURE_LEN];
	uint32_t count;
};

/* Everything a report says about a device. */
struct sim_dev_report {
	uint32_t steps;
	uint32_t uplinks;
	uint32_t downlinks;       /* unicast downlinks processed */
	uint32_t answers;         /* application-layer answers sent */
	uint32_t mc_frames;       /* multicast frames that reached the device's radio */
	uint32_t mc_accepted;     /* ... of them authentic, in the FCnt window, for its session */
	uint32_t mic_failures;    /* multicast frames whose MIC did not verify */
	uint32_t fcnt_rejected;   /* multicast frames outside [min, max] or replayed */
	uint32_t duplicates;      /* the same frame again (e.g. heard through two gateways) */
	uint32_t outside_session; /* for its group but outside its session window or channel */
	uint32_t other_session;   /* DataFragments of a FragIndex it has no session on (ignored) */
	uint32_t off_slot;        /* class B: frames that did not start at one of its ping slots */
	uint32_t fragments;       /* DataFragments given to the decoder */
	uint32_t done_n;          /* N of the frame that completed the decoder (0: none) */
	uint32_t frag_missing;    /* uncoded fragments still unknown */
	uint32_t frag_recovered;  /* rebuilt by the FEC */
	uint32_t nb_frag;         /* M of the last session */
	uint32_t parts_received;  /* parts of the image in parts rebuilt (each counted once) */
	uint32_t parts_expected;  /* P of that image; 0 for a whole image (all-zero Descriptor) */
	bool decoded;
	bool verified; /* SHA-256 (when known) and the v2 MIC (when v2) both matched */
	bool sha_checked;
	bool sha_ok;
	bool mic_checked; /* v2 data-block MIC computed */
	bool mic_ok;
	bool in_campaign;       /* it got a FUOTA request (a downlink on port 200 or 201) */
	bool finished;          /* nothing more will happen (see sim_dev_finished) */
	int64_t clock_error_ms; /* device clock - true time, at the last call */
	size_t n_failures;
	struct sim_failure failures[SIM_MAX_FAILURES];
	struct sim_dev_counts counts;
};

struct sim_pending_ul {
	uint8_t port;
	uint8_t data[SIM_UL_MAX];
	size_t len;
	int64_t not_before_ms;
};

struct sim_group {
	bool defined;
	uint32_t mc_addr;
	uint8_t app_s_key[16];
	uint8_t nwk_s_key[16];
	uint32_t min_fcnt, max_fcnt;
	bool has_last;
	uint32_t last_fcnt;
	/* the session */
	bool has_session;
	bool class_b;
	uint32_t start;      /* SessionTime, device clock GPS seconds mod 2^32 */
	uint32_t duration_s; /* 2^TimeOut s (C) or 2^TimeOut * 128 s (B) */
	uint32_t freq_hz;
	uint8_t dr;
	uint8_t periodicity; /* class B: ping slots every 2^(5+p) x 30 ms */
	bool opened, closed;
};

struct sim_image;

/* A device's flash slot for a session's image (the decoder's callbacks' context): its own bytes
 * for a whole image, or the part's place (off) in the image store of an image in parts. */
struct sim_flash {
	size_t len;              /* M x FragSize */
	struct sim_image *store; /* NULL: bytes[] is the slot */
	size_t off;              /* the slot's first byte in store */
	uint8_t bytes[];
};

struct sim_frag {
	bool active;
	bool done; /* DONE or FAILED handled */
	struct frag_setup_req req;
	struct frag_lean dec;
	void *mem;               /* the decoder's RAM */
	struct sim_flash *flash; /* the image */
	size_t mem_len;          /* bytes of mem */
	struct frag_part part;   /* the Descriptor's part (count 0: a whole image) */
	bool mic_error;
	uint8_t ack_tries;    /* FragDataBlockReceivedReq still to send */
	uint32_t lmn_counter; /* the last fragment counter seen while decoding */
	uint32_t lmn_uncoded; /* uncoded fragments taken while decoding */
	int64_t ack_next_ms;  /* when the next one may go */
	bool has_cnt;         /* v2: a SessionCnt was accepted for this index */
	uint16_t last_cnt;
};

/* The fleet's shared multicast work. A frame's MIC and decryption depend only on its bytes, its
 * full FCnt and the group's keys, the same for every device of the group: the first device of a
 * group that takes a frame checks and decrypts it, the others find the result here. */
#define SIM_MC_MEMOS 8
struct sim_mc_memo {
	uint64_t used; /* 0: empty; else the cache's clock when last found */
	uint8_t phy[255];
	size_t phy_len;
	uint32_t fcnt;
	uint8_t nwk_s_key[16], app_s_key[16];
	bool mic_ok;
	bool decrypted; /* clear[] and dec_rc are set */
	int dec_rc;
	uint8_t clear[255];
	size_t clear_len;
};

struct sim_mc_cache {
	struct sim_mc_memo m[SIM_MC_MEMOS];
	uint64_t clock;
	uint64_t mic_checks;  /* MICs computed */
	uint64_t decryptions; /* FRMPayloads decrypted */
	uint64_t hits;        /* frames found already checked */
};

struct sim_dev {
	struct sim_dev_cfg cfg;
	struct sim_mc_cache
	        *mc_cache; /* shared by the fleet (set after sim_dev_init); NULL: none */
	int64_t t0_ms;     /* now_ms at init: the drift reference */
	int64_t offset_ms;
	struct clk_dev clk;
	bool synced;
	bool need_sync;
	bool ans_required; /* the next AppTimeReq asks for an answer (sim_dev_ask_time) */
	int64_t next_sync_ms;
	uint32_t fcnt_up;
	uint64_t rng;
	struct sim_group groups[MC_MAX_GROUPS];
	struct sim_frag frag[SIM_FRAG_SESSIONS];
	struct sim_pending_ul ul[SIM_UL_QUEUE];
	size_t n_ul;
	bool ended; /* the server deleted a session or group it had set up: its part is over */
	bool in_campaign;      /* a unicast downlink came on port 200 or 201 */
	int64_t quiet_ms;      /* the last FUOTA downlink, failure or session end (true GPS ms) */
	uint8_t max_bad;       /* the largest BlockAckDelay of an accepted FragSessionSetupReq */
	uint32_t fail_events;  /* failures recorded so far (repeats included) */
	int64_t reboot_ms;     /* TS006: when it reboots (true GPS ms; 0: none pending) */
	struct sim_image *img; /* the image in parts being assembled (NULL: none) */
	struct sim_dev_report rep;
};

/* Initialises d at true GPS time now_ms. Returns FUOTA_OK or FUOTA_ERR_INVALID_ARG (a package
 * version other than 1 or 2). */
int sim_dev_init(struct sim_dev *d, const struct sim_dev_cfg *cfg, int64_t now_ms);
/* The smallest mem_limit with which a device accepts a session of nb_frag fragments of
 * frag_size bytes (the image and a decoder for no loss); 0 for sizes out of range. */
size_t sim_dev_frag_mem(uint32_t nb_frag, uint32_t frag_size);
/* Releases decoder memory. Accepts NULL. */
void sim_dev_free(struct sim_dev *d);

/* The device clock at now_ms: GPS milliseconds as the device believes them. */
int64_t sim_dev_clock_ms(const struct sim_dev *d, int64_t now_ms);

/* A unicast downlink FRMPayload (clear, as the network server hands it over) on port. Unknown
 * ports are ignored. Returns FUOTA_OK, or FUOTA_ERR_MALFORMED when the payload did not decode
 * (recorded as a failure; commands before the bad one were executed, as on a real device). */
int sim_dev_downlink(struct sim_dev *d, int64_t now_ms, uint8_t port, const uint8_t *data,
                     size_t len);

/* A downlink PHYPayload that reached the device's radio on freq_hz (multicast frames from a
 * gateway): on air from start_ms to end_ms (true GPS ms). Frames for no group of the device are
 * ignored silently. The session window is judged at end_ms by the device clock; a class B group
 * receives only a frame that starts within SIM_PING_SLOT_TOL_MS of one of its ping slots (beacon
 * time, so true time, McAddr and Periodicity; mc_session.h). Returns FUOTA_OK when it was
 * accepted, FUOTA_ERR_NOT_FOUND when not for this device, FUOTA_ERR_MALFORMED (bad frame, MIC,
 * FCnt) or FUOTA_ERR_STATE (outside its session or off its ping slots); the report counts each
 * case. */
int sim_dev_multicast_air(struct sim_dev *d, int64_t start_ms, int64_t end_ms, uint32_t freq_hz,
                          const uint8_t *phy, size_t len);
/* The same for a frame of no length: on air from now_ms to now_ms. */
int sim_dev_multicast(struct sim_dev *d, int64_t now_ms, uint32_t freq_hz, const uint8_t *phy,
                      size_t len);

/* Whether a frame starting at start_ms (true GPS ms) is within tol_ms of a ping slot of McAddr
 * with this periodicity (0..7). */
bool sim_dev_on_ping_slot(uint32_t mc_addr, uint8_t periodicity, int64_t start_ms, int64_t tol_ms);

/* Timers: session windows opening/closing, clock resync. Call it often (every loop turn). */
void sim_dev_tick(struct sim_dev *d, int64_t now_ms);

/* The device's periodic uplink slot at now_ms: fills *ul with the first answer that is due, else
 * an AppTimeReq when the clock needs one, else (when status is true) a 1-byte status frame on
 * SIM_APP_PORT. Returns true if *ul is to be sent. */
bool sim_dev_uplink(struct sim_dev *d, int64_t now_ms, bool status, struct sim_uplink *ul);

/* The device's application asks for the time: AppTimeReq (AnsRequired as given, or when its
 * clock is unsynchronised) is due at its next uplink. */
void sim_dev_ask_time(struct sim_dev *d, int64_t now_ms, bool ans_required);

/* When sim_dev_uplink has something other than the status frame to send: the first queued
 * answer, FragDataBlockReceivedReq or AppTimeReq (true GPS ms; INT64_MAX: nothing). */
int64_t sim_dev_next_uplink_ms(const struct sim_dev *d);

/* true when the server is done with the device, so that --until-done may stop, at now_ms (true
 * GPS ms). Never for a device that got no FUOTA request (sim_dev_in_campaign), nor while an
 * answer or a FragDataBlockReceivedReq is still to be sent. Otherwise when
 *  - the server ended its part: it deleted a session or group the device had set up and nothing
 *    set up is left (fuotad's cleanup sends FragSessionDeleteReq, then McGroupDeleteReq, to v1
 *    and v2 devices alike), unless an image in parts still misses parts (the server may set
 *    up the next part: then only after the done grace, below), or
 *  - its part is over and the server has been quiet since: every multicast session it accepted
 *    has closed, or it failed (or is silent) with no session open or to come, or the server
 *    deleted part of what it had set up; and no FUOTA downlink, failure or session end for the
 *    done grace (struct sim_dev_cfg.done_grace_ms).
 * A verified image alone does not finish a device: the server may still ask its status and
 * delete its session and group. */
bool sim_dev_finished(const struct sim_dev *d, int64_t now_ms);

/* true once the device got a FUOTA request (a unicast downlink on port 200 or 201); a device
 * that only synchronises its clock takes part in no campaign. */
bool sim_dev_in_campaign(const struct sim_dev *d);

/* Copies the report (with clock_error_ms at now_ms). */
void sim_dev_get_report(const struct sim_dev *d, int64_t now_ms, struct sim_dev_report *rep);

#endif
