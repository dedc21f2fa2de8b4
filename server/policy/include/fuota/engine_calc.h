/* The job engine's pure decisions, apart from its I/O so that they can be unit-tested: the
 * per-device step machine, the smallest gateway set that covers a group, duty-cycle pacing,
 * redundancy (fixed or adaptive), session timing and the TS004 v2 data-block MIC.
 *
 * No I/O, no globals, no allocation: the caller owns every buffer. Functions return FUOTA_OK or a
 * negative enum fuota_err unless they say otherwise. Times are Unix or GPS milliseconds as their
 * names say. */
#ifndef FUOTA_ENGINE_CALC_H
#define FUOTA_ENGINE_CALC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- per-device steps ----------------------------------------------------------------------
 * What job_device.step holds. A device walks them in this order; every unicast step is retried
 * up to the job's attempts, each waiting the job's unicast timeout; a device that fails a step
 * goes to ENGINE_STEP_FAILED with its reason and the job goes on with the others. */
enum engine_step {
	ENGINE_STEP_PENDING = 0, /* job not started for this device */
	ENGINE_STEP_PKG_VERSION, /* PackageVersionReq on the ports whose version is unknown */
	ENGINE_STEP_MC_SETUP,    /* McGroupSetupReq */
	ENGINE_STEP_FRAG_SETUP,  /* FragSessionSetupReq */
	ENGINE_STEP_READY,       /* set up; waits for the job to fix the session time */
	ENGINE_STEP_MC_SESSION,  /* McClassCSessionReq / McClassBSessionReq */
	ENGINE_STEP_SESSION,     /* in the multicast session: receiving fragments */
	ENGINE_STEP_FRAG_STATUS, /* FragSessionStatusReq after the last fragment */
	/* TS006 DevUpgradeImageReq: a device whose status answer could not prove the image
	 * (ENGINE_VERDICT_UNCONFIRMED) and that has TS006 is asked whether its image is valid */
	ENGINE_STEP_CONFIRM,
	ENGINE_STEP_CLEANUP, /* FragSessionDeleteReq + McGroupDeleteReq */
	ENGINE_STEP_DONE,    /* has the exact image (final) */
	ENGINE_STEP_FAILED,  /* failed with a reason (final) */
	/* cleaned up, but its answers cannot prove it has the image (a LoRaMac-node device that
	 * lost uncoded fragments; failure_reason says why) (final) */
	ENGINE_STEP_UNCONFIRMED,
	/* TS006 DevVersionReq before the set-up, when the job names a target_version (after
	 * PENDING; last in the enum only so that the numbers of the others stay). */
	ENGINE_STEP_FW_VERSION,
	/* After the clean-up of a device with its image, when the job sets reboot_in_s: TS006
	 * DevRebootCountdownReq (reboot), then DevVersionReq once it rebooted (fw_check). */
	ENGINE_STEP_REBOOT,
	ENGINE_STEP_FW_CHECK,
	ENGINE_STEP_COUNT,
	/* Not steps (engine_step_name gives "?"): NONE where a step is optional and not given
	 * (seng_dev_update's `to`: unchanged; no request in flight), UNKNOWN for a job_device.step
	 * text that names no step (the store reads it so; the engine fails such a device). */
	ENGINE_STEP_NONE,
	ENGINE_STEP_UNKNOWN
};

/* "pending", "pkg_version", ... (the job_device.step text); "?" out of range. */
const char *engine_step_name(enum engine_step s);
/* The step of a name; FUOTA_ERR_MALFORMED for an unknown name. */
int engine_step_parse(const char *name, enum engine_step *s);
/* true for the steps that send a unicast request and wait for its answer. */
bool engine_step_is_unicast(enum engine_step s);
/* true for DONE, FAILED and UNCONFIRMED. */
bool engine_step_is_final(enum engine_step s);
/* true for the steps before READY (the device is still being set up). */
bool engine_step_is_setup(enum engine_step s);

/* ---- job phases ----------------------------------------------------------------------------
 * What engine_job.phase holds: a job goes setup -> session -> transmit -> status -> cleanup ->
 * done (setup may go to cleanup directly when no device is left). Text only in the database. */
enum engine_phase {
	ENGINE_PHASE_SETUP = 0, /* devices are being set up */
	ENGINE_PHASE_SESSION,   /* the session time is fixed; McClass*SessionReq to the devices */
	ENGINE_PHASE_TRANSMIT,  /* the multicast session: fragments and parity */
	ENGINE_PHASE_STATUS,    /* FragSessionStatusReq to each device */
	ENGINE_PHASE_CLEANUP,   /* FragSessionDeleteReq + McGroupDeleteReq */
	ENGINE_PHASE_DONE,      /* finished */
	ENGINE_PHASE_COUNT
};

/* "setup", "session", ... (the engine_job.phase text); "?" out of range. */
const char *engine_phase_name(enum engine_phase p);
/* The phase of a name; FUOTA_ERR_MALFORMED for an unknown name. */
int engine_phase_parse(const char *name, enum engine_phase *p);

/* Package versions a device is known to speak (0 = unknown). */
struct engine_versions {
	int ts003, ts004, ts005;
	int ts006;     /* TS006 Firmware Management version (0: not declared) */
	bool fw_check; /* the job has a target_version: ask TS006 devices DevVersionReq first */
};

/* The step a device goes to after `done` succeeded: PENDING goes to FW_VERSION when v->fw_check
 * and the device has TS006, else (and FW_VERSION) to PKG_VERSION when TS004 or TS005 is unknown,
 * else straight to MC_SETUP; PKG_VERSION to MC_SETUP; MC_SETUP to FRAG_SETUP;
 * FRAG_SETUP to READY; MC_SESSION to SESSION; SESSION to FRAG_STATUS; FRAG_STATUS and CONFIRM to
 * CLEANUP (in a job in parts, engine_after_part); CLEANUP to DONE. READY moves only when the job
 * fixes the session (to MC_SESSION). Final steps stay. */
enum engine_step engine_step_next(enum engine_step done, const struct engine_versions *v);

/* After a DevVersionAns (step FW_VERSION) reporting FW_version fw: DONE when fw is the job's
 * target (the device already runs it: it is not sent the image), else the next set-up step
 * (engine_step_next(FW_VERSION, v)). */
enum engine_step engine_fw_version_next(uint32_t target, uint32_t fw,
                                        const struct engine_versions *v);

/* The step a device whose clean-up is over goes to: UNCONFIRMED when its status answer could
 * not prove the image (unconfirmed), else REBOOT when the job orders a reboot (reboot) and the
 * device has TS006 (ts006 >= 1), else DONE. */
enum engine_step engine_after_cleanup(bool unconfirmed, bool reboot, int ts006);

/* The step a device goes to once its status answer, block report or TS006 confirmation has
 * judged its part of the image (part, 0-based, of parts; 1 part: the whole image): CLEANUP for the
 * last part, and for any part when its answers cannot prove the image (unconfirmed: the clean-up
 * ends it in UNCONFIRMED); READY for a part before the last: the device keeps its multicast group
 * and FragIndex and waits for the next part's FragSessionSetupReq. */
enum engine_step engine_after_part(unsigned part, unsigned parts, bool unconfirmed);

/* The reboot request of a job at now_ms: with reboot_at_ms (> 0) still ahead, DevRebootTimeReq at
 * that time (*by_time true, returns 0); otherwise DevRebootCountdownReq, returning its seconds:
 * reboot_in_s, or 1 when reboot_at_ms has already passed (the reboot the operator asked for, at
 * once but with an answer: a countdown of 0 gets none). */
uint32_t engine_reboot_countdown_s(int64_t reboot_at_ms, uint32_t reboot_in_s, int64_t now_ms,
                                   bool *by_time);

/* Whether a job's reboot_at (reboot_at_ms > 0) has passed at now_ms, when a device is ready to
 * be told to reboot (after its clean-up: a download that took longer than planned, or a device
 * that answered late). The API refuses a reboot_at already past at creation
 * (job_reboot_at_check); one that passes during the job still gets the reboot, as soon as
 * possible (engine_reboot_countdown_s: a 1 s countdown): the operator asked for it, and a device
 * holding an image it has not booted gains nothing by waiting. The device's last answer says
 * that reboot_at had passed, so that an operator who chose a quiet hour sees why it rebooted
 * outside it. */
bool engine_reboot_late(int64_t reboot_at_ms, int64_t now_ms);

/* DevVersionAns after the reboot (step FW_CHECK): DONE when it reports the target, else FAILED
 * (it came back on another version: the old one, or a fallback). */
enum engine_step engine_fw_check_next(uint32_t target, uint32_t fw);

/* What to do when a unicast step's deadline passes without an answer. */
enum engine_timeout_action {
	ENGINE_RETRY = 0, /* send the request again (attempts < max_attempts) */
	ENGINE_FAIL = 1,  /* give up: the device fails with "<step>: no answer after N attempts" */
	ENGINE_SKIP = 2   /* give up on the step but carry on (clean-up is best effort; an
	                   * unanswered CONFIRM leaves the device unconfirmed) */
};

/* attempts: requests sent so far for this step (>= 1 once the first was sent);
 * max_attempts: the job's unicast attempts (>= 1). */
enum engine_timeout_action engine_on_timeout(enum engine_step s, unsigned attempts,
                                             unsigned max_attempts);

/* ---- gateway selection --------------------------------------------------------------------- */

/* "device dev was heard by gateway gw with quality q" (higher is better, e.g. RSSI + SNR). */
struct engine_edge {
	uint32_t dev;
	uint32_t gw;
	int32_t quality;
};

/* Greedy set cover: picks gateways until every device heard by any gateway is covered, each time
 * the gateway covering the most uncovered devices (ties: higher summed quality over those
 * devices, then lower index). chosen[0..n_gw) receives 1 for a picked gateway; *n_chosen the
 * count; *n_uncovered the devices no edge mentions. work: n_dev bytes of scratch. Returns
 * FUOTA_OK, or FUOTA_ERR_INVALID_ARG for an edge whose dev >= n_dev or gw >= n_gw. Greedy is
 * within ln(n_dev) + 1 of the optimum, which exact cover (NP-hard) would not beat by much on real
 * coverage maps. */
int engine_gw_cover(const struct engine_edge *edges, size_t n_edges, size_t n_dev, size_t n_gw,
                    uint8_t *chosen, size_t *n_chosen, size_t *n_uncovered, uint8_t *work);

/* ---- pacing -------------------------------------------------------------------------------- */

/* One multicast frame goes out through every gateway of gw_free_ms[0..n) at the same instant:
 * the earliest instant >= now_ms at which each of them is free. Each gateway is then busy for the
 * frame's airtime and, when duty_cycle_inv > 1, its off time (airtime * duty_cycle_inv in all,
 * lw_duty_cycle_interval_us): gw_free_ms[i] is updated. Returns that send instant. */
int64_t engine_pace(int64_t now_ms, int64_t *gw_free_ms, size_t n, uint64_t airtime_us,
                    uint16_t duty_cycle_inv);

/* ---- redundancy ---------------------------------------------------------------------------- */

struct engine_redundancy {
	uint32_t nb_frag;    /* M */
	uint32_t redundancy; /* fixed: parity frames to send; adaptive: the minimum before stopping
	                      */
	bool adaptive;       /* keep sending fresh parity until every device reported completion */
	uint32_t cap;        /* adaptive: at most this many parity frames in all */
};

/* Whether DataFragment N = sent + 1 should go out, given the `sent` frames already sent and the
 * devices of the session still missing the image (pending; 0 = every one reported completion).
 * Uncoded fragments always go out. Fixed: parity rows up to `redundancy`. Adaptive: parity up to
 * `redundancy` always, then more while pending > 0 and below `cap`; never beyond the 14-bit
 * index of one session (M + parity <= 16383). */
bool engine_redundancy_more(const struct engine_redundancy *r, uint32_t sent, uint32_t pending);

/* ---- adaptive rounds -----------------------------------------------------------------------
 * A device reports its block one feedback delay after it has it (a random BlockAckDelay wait,
 * then its next uplink), so parity sent back to back until every report is in overshoots by that
 * delay. In rounds, the sender sends a batch of parity rows, asks the devices still missing the
 * image how far they are (one multicast FragSessionStatusReq, Participants = 0: only those answer),
 * waits one feedback window, and sizes the next batch from the answers: the largest need among
 * them, the loss they saw and a statistical margin, so that the worst of them most likely finishes
 * in that batch. The first batch has no answers to go by: it is sized from an expected loss so
 * that most devices (all but about ENGINE_ROUND_FIRST_LEFT of them) finish in it. */

#define ENGINE_ROUNDS_MAX       6   /* status waits at most; the last batch takes the rest */
#define ENGINE_ROUND_FIRST_LEFT 0.1 /* first batch: share of devices expected to need more */
#define ENGINE_ROUND_MISS       0.2 /* later batches: chance that one more round is needed */

/* Rows beyond the need that the sizing counts with: a device that needs r more independent rows
 * of a dense random code is still short after r + x rows with probability
 * 1 - prod_{i > x} (1 - 2^-i), about 2^-x; beyond ENGINE_DEP_ROWS that is below 1e-12. */
#define ENGINE_DEP_ROWS 40

/* The doubles of work memory engine_round_batch needs when the largest need is max_need. */
size_t engine_round_work_len(uint32_t max_need);

/* The smallest batch B such that, with each frame lost with probability `loss` (clamped to
 * [0, 0.9]) and the rows that bring nothing new, the expected number of devices still short
 * after B frames, sum over i of P(Bin(B, 1 - loss) < need[i] + D) with D the dependent rows, is
 * at most `alpha` (for one device: the chance that it is still short). At most 16383. Returns 0
 * when n is 0, every need is 0, or work (work_len doubles) is too small. */
uint32_t engine_round_batch(const uint32_t *need, size_t n, double loss, double alpha, double *work,
                            size_t work_len);

/* The parity rows of the first batch of a session of nb_frag (M) fragments: the frames beyond M
 * after which a device losing loss_percent % of them (above 90 counts as 90) is still short with
 * probability ENGINE_ROUND_FIRST_LEFT (most devices finish in the first round, not all), or
 * `redundancy` (the job's own parity) when larger. work: engine_round_work_len(nb_frag) doubles
 * (too small: `redundancy`). */
uint32_t engine_round_first(uint32_t nb_frag, uint32_t redundancy, uint32_t loss_percent,
                            double *work, size_t work_len);

/* One FragSessionStatusAns of a round: NbFragReceived and MissingFrag as the device sent them. */
struct engine_status {
	uint32_t received; /* 14 bits: fragments received in the session (uncoded and parity) */
	uint32_t missing;  /* 8 bits, saturating at 255: uncoded fragments not yet known */
};

/* The useful rows the device still needs, at least 1 (it answered Participants = 0, so it misses
 * something). MissingFrag is not that number (a device that lost 30 uncoded fragments and got 28
 * useful parity rows since needs about 2), but it bounds it; NbFragReceived gives M - received,
 * which stacks that subtract their lost uncoded fragments from it (LoRa Basics Modem) overstate:
 * the smaller of the two (MissingFrag only below 255). A device that received M or more frames
 * and still misses something needs rows its dependent ones did not bring: 1 (the margin of
 * engine_round_batch covers the rest). */
uint32_t engine_status_need(uint32_t nb_frag, const struct engine_status *s);

/* The next batch of a round, from the answers of the status request sent after `sent` frames
 * of the session (n answers; a[] may be NULL when n is 0): the batch after which the expected
 * number of answering devices still short is ENGINE_ROUND_MISS (engine_round_batch), at the loss
 * they saw. need: n entries, receives each device's need. work: engine_round_work_len(M)
 * doubles. */
struct engine_round_next {
	uint32_t batch;   /* parity rows to send; 0 when nobody answered */
	uint32_t need;    /* the largest need among the answers */
	double loss;      /* the loss the answers saw (default_loss_percent without answers) */
	unsigned answers; /* n */
};
void engine_round_next(uint32_t nb_frag, uint32_t sent, const struct engine_status *a,
                       uint32_t *need, size_t n, uint32_t default_loss_percent, double *work,
                       size_t work_len, struct engine_round_next *out);

/* The feedback window after a batch when the configuration does not set one: a TS004 device
 * waits up to 2^(BlockAckDelay + 4) s before it reports (v2 FragDataBlockReceivedReq, v1
 * FragSessionStatusAns), then its report goes out with its next uplink, which the job's unicast
 * timeout covers. block_ack_delay is masked to its 3 bits. */
uint64_t engine_round_pause_ms(uint8_t block_ack_delay, unsigned unicast_timeout_s);

/* ---- fragmentation sessions ---------------------------------------------------------------
 * TS004 v1 and v2 parity rows differ, so a job whose devices speak both versions runs one
 * fragmentation session per version on its one multicast group: each session's frames carry its
 * own FragIndex (a device accepts only those of its session), the group's FCnt is one sequence. */

#define ENGINE_MAX_SESSIONS 4 /* FragIndex 0..3 */

/* One session as the sender sees it. */
struct engine_session_tx {
	uint8_t frag_index;
	uint32_t sent; /* new frames of the session so far (its next N - 1) */
	bool more;     /* another frame of it should go (engine_redundancy_more) */
};

/* The session whose new frame goes next. The sessions' frames are interleaved so that each group
 * progresses at the same pace: the fewest sent first, ties to the lower FragIndex. Returns the
 * position in s[0..n), or -1 when no session wants more. */
int engine_session_pick(const struct engine_session_tx *s, size_t n);

/* How long a multicast session carrying `frames` frames lasts, in seconds. Class C: one frame
 * every interval_us (time on air paced by the duty cycle) plus 60 s of margin. Class B: one frame
 * per ping slot, 2^(7 - periodicity) slots per 128 s beacon period (fewer when the duty cycle
 * allows fewer in 128 s), plus one period to start; periodicity outside 0..7 counts as 0. */
uint64_t engine_multicast_need_s(bool class_b, int periodicity, uint64_t frames,
                                 uint64_t interval_us);

/* ---- session timing ------------------------------------------------------------------------ */

/* Smallest TS005 TimeOut t (0..15) whose session is at least duration_s long: 2^t s for class C,
 * 128 * 2^t s for class B. FUOTA_ERR_INVALID_ARG when even t = 15 is too short. */
int engine_session_timeout(bool class_b, uint64_t duration_s, uint8_t *timeout);

/* The session start the job announces when it fixes the session at now_unix_ms: far enough ahead
 * for every device still to be reached to receive McClass{B,C}SessionReq through all its
 * attempts (attempts * timeout_ms) plus margin_ms, rounded up to a whole second (SessionTime is
 * in seconds). Class B: rounded up further to a beacon-period boundary in GPS time (the caller
 * converts; see engine_classb_align_gps_s). */
int64_t engine_session_start_ms(int64_t now_unix_ms, unsigned attempts, uint64_t timeout_ms,
                                uint64_t margin_ms);

/* A GPS second rounded UP to the next multiple of 128 (a beacon-period start). */
int64_t engine_classb_align_gps_s(int64_t gps_s);

/* Does a device's TimeToStart agree with the server's clock? The device counts from the moment
 * it RECEIVED the McClassC/BSessionReq, which the server does not know: a class A device gets a
 * unicast downlink at its next uplink after the server sent it, and answers one uplink later. So
 * TimeToStart must lie in [SessionTime - answer time, SessionTime - send time], widened by
 * tolerance_s on both sides: min_expected_s = SessionTime - GPS time the answer arrived,
 * max_expected_s = SessionTime - GPS time the (first) request was sent. */
bool engine_time_to_start_ok(int64_t min_expected_s, int64_t max_expected_s, uint32_t time_to_start,
                             uint32_t tolerance_s);

/* A session start a job could not keep: fuotad was down when it passed, or a device still owed
 * its McClass{B,C}SessionReq answer (a clock resync took longer). The start is moved to a later
 * time, announced again to every device of the session (no frame has gone out yet, so the
 * group's FCnt, McKey and the devices' SessionCnt stay as they are), at most this many times a
 * job: devices that never answer stop moving it. */
#define ENGINE_SESSION_MOVES_MAX 3

/* What to do once the session start has come with devices still in MC_SESSION: can_answer of
 * them have attempts left, moves = times the start already moved. true: move the start; false:
 * they fail as late and the transmission begins. */
bool engine_session_move(unsigned can_answer, unsigned moves);

/* Whether a McClass{B,C}SessionReq sent at now_ms can still be met: the start is more than
 * tolerance_s ahead (a device whose clock is that far ahead would answer StartMissed). */
bool engine_session_reachable(int64_t start_ms, int64_t now_ms, uint32_t tolerance_s);

/* How long a device forced to resynchronise its clock (ForceDeviceResyncReq) may take before its
 * AppTimeReq reaches fuotad, after which its session request is asked again anyway: two unicast
 * timeouts (the request's delivery at the next uplink, the AppTimeReq's own) plus 10 s (LoRa
 * Basics Modem waits at least 6 s before it sends AppTimeReq). */
uint64_t engine_resync_wait_ms(uint64_t unicast_timeout_ms);

/* ---- TS004 v2 data-block MIC (PROTOCOL-NOTES §4.6) ----------------------------------------- */

/* DataBlockIntKey = aes128_encrypt(K, 0x30 | 15 zero bytes), K = GenAppKey (1.0.x) or AppKey (1.1).
 * Returns FUOTA_OK or FUOTA_ERR_CRYPTO. */
int engine_data_block_int_key(const uint8_t root_key[16], uint8_t key[16]);

/* MIC = first 4 bytes of AES-CMAC(DataBlockIntKey, B0 | data), B0 = 0x49 | SessionCnt (2, LE) |
 * FragIndex | Descriptor (4) | 00 00 00 00 | len (4, LE); data is the UNPADDED image. Both are
 * computed by fragmentation/'s frag_mic (the device side's code too). Returns FUOTA_OK,
 * FUOTA_ERR_INVALID_ARG (len over 32 bits, NULL data with len > 0, frag_index over 3),
 * FUOTA_ERR_CRYPTO. */
int engine_data_block_mic(const uint8_t int_key[16], uint16_t session_cnt, uint8_t frag_index,
                          const uint8_t descriptor[4], const uint8_t *data, size_t len,
                          uint8_t mic[4]);

#endif
