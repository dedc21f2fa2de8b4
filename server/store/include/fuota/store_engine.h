/* The job engine's SQL (store_job_engine.c, store_dev_engine.c, store_tx.c): every read and
 * every transition of the engine, one function each, so that engine*.c never sees libpq.
 * Return codes as in fuota/store.h; a conditional update that matched no row returns
 * FUOTA_ERR_STATE (another engine or an uplink got there first). Times are Unix milliseconds
 * from the engine's clock. */
#ifndef FUOTA_STORE_ENGINE_H
#define FUOTA_STORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/engine_calc.h"
#include "fuota/mc_reuse.h"
#include "fuota/store.h"

#define SENG_EUI_LEN 17
#define SENG_BOX_MAX 96

/* A job as the engine sees it: the job row, its engine_job row (has_engine) and its group. */
struct seng_job {
	int64_t id, tenant;
	char state[16];
	char region[16];
	unsigned dr;
	uint32_t freq_hz;
	char mc_class; /* 'B' or 'C' */
	int ping_periodicity;
	bool has_tx_power; /* the job's tx_power_dbm (else: the sub-band's maximum) */
	int tx_power_dbm;
	unsigned unicast_timeout_s, unicast_attempts;
	int64_t firmware_id;
	int64_t firmware_size;
	/* From the job row and its plan, for starting. -1 / 0 when not given. */
	int fragment_size, redundancy_frames, redundancy_percent, multicast_timeout_s;
	int plan_fragment_size, plan_fragments, plan_padding, plan_parity, plan_timeout_exp;
	/* engine_job */
	bool has_engine;
	enum engine_phase phase; /* ENGINE_PHASE_SETUP when !has_engine */
	int64_t mc_group_id;
	uint32_t mc_addr;
	uint8_t mc_key_box[SENG_BOX_MAX];
	size_t mc_key_box_len;
	uint32_t frag_size, nb_frag, padding, redundancy, redundancy_cap;
	bool adaptive;
	uint8_t session_timeout;
	bool has_session_start;
	int64_t session_start_ms;
	uint32_t next_n;
	bool has_next_tx;
	int64_t next_tx_ms;
	char (*gateways)[SENG_EUI_LEN]; /* malloc'd, seng_job_free */
	size_t n_gateways;
	bool has_tx_end;
	int64_t tx_end_ms;
	uint32_t frames_sent, frames_resent;
	unsigned session_moves; /* times the session start was moved (engine.c phase_session) */
	/* Multicast group reuse (fuota/mc_reuse.h, store_mc_keep.c) */
	bool keep_mc_group;    /* job.keep_multicast_group: no McGroupDeleteReq to the verified */
	bool mc_reused;        /* the group came from an earlier job */
	int64_t mc_key_job_id; /* the job id the McKey box was sealed with (its associated data) */
	uint32_t mc_fcnt;      /* the group's next FCnt */
	/* job.target_version: TS006 devices are asked DevVersionReq first (engine_fmp.c) */
	bool has_target_version;
	uint32_t target_version;
	uint32_t reboot_in_s; /* job.reboot_in_s: DevRebootCountdownReq's countdown (0: none) */
	int64_t reboot_at_ms; /* job.reboot_at (Unix ms): DevRebootTimeReq's time (0: none) */
	uint64_t estimated_s; /* plan.estimated_duration_s (0: none) */
	/* The image in parts (fuota/plan_parts.h): plan.parts (1: the whole image in one
	 * session), plan.part_fragments (F) and job.part, the part under way (0-based). The engine
	 * row's nb_frag, padding, redundancy and redundancy_cap are that part's. */
	unsigned parts, part_frags, part;
};

void seng_job_free(struct seng_job *j);

/* ---- leases (store_lease.c) ------------------------------------------------------------- */

/* Who acts for a job: the lease owner (the engine's instance id) and, when the engine holds an
 * instance lock (fuota/store_lock.h), the server process of the lock's session, store_lock_pid
 * (0: no instance lock, not checked). A fenced write goes through only while that session still
 * holds the lock, so that an instance whose lock was lost (another process with the same id may
 * hold it now) cannot claim, write a frame or a phase, whatever its own state says. */
struct seng_lease {
	const char *owner;
	int lock_pid;
};

/* Claims (or renews) up to max jobs that need the engine: pending whose start_at has come by
 * now_ms (the engine's clock), running, or cancelled with engine state not yet done; free,
 * ours, or with a lease expired by the database's clock. Our lease then runs lease_ms from the
 * database's now(): two hosts whose clocks disagree cannot both hold it. ids: max entries. */
STORE_MUST_CHECK int seng_claim(struct store *s, const struct seng_lease *who, int64_t now_ms,
                                int64_t lease_ms, unsigned max, int64_t *ids, size_t *n);
/* Drops our lease on one job (job_id > 0) or on all of them (job_id 0); fenced as seng_claim
 * (after the lock was lost, the leases may be another process's with the same id). */
STORE_MUST_CHECK int seng_release(struct store *s, const struct seng_lease *who, int64_t job_id);

STORE_MUST_CHECK int seng_job_load(struct store *s, int64_t id, struct seng_job *j);

/* Starting a job: one transaction inserts the multicast group (McAddr, sealed McKey, FCnt 0) and
 * the engine_job row, sets the job running (started_at) and every device to `first_step` due
 * now, and logs the state event. McAddr is re-drawn by the caller on CONFLICT (in use by a
 * group of an unfinished job). */
struct seng_start {
	int64_t job_id, tenant;
	uint32_t mc_addr;
	const uint8_t *mc_key_box;
	size_t mc_key_box_len;
	uint32_t frag_size, nb_frag, padding, redundancy, redundancy_cap;
	bool adaptive;
	uint8_t session_timeout;
	int64_t now_ms;
	/* > 0: the job reuses this group of the tenant instead (mc_addr and the box unused); its
	 * devices in skip (n_skip DevEUIs) hold it and skip McGroupSetupReq (job_device.mc_reused).
	 * FUOTA_ERR_CONFLICT when a pending, running or paused job uses the group. */
	int64_t reuse_group_id;
	const char (*skip)[SENG_EUI_LEN];
	size_t n_skip;
	uint64_t frames_saved; /* with reuse: the plan's multicast_reuse.frames_saved */
};
STORE_MUST_CHECK int seng_job_start(struct store *s, const struct seng_start *st);

/* A job the engine started that is back in 'pending' (paused before its start was recorded,
 * then resumed to where it was): running again. */
STORE_MUST_CHECK int seng_job_set_running(struct store *s, int64_t job_id);

/* A phase change with its bulk device moves, in one transaction. Devices in step `from` go to
 * `to` (attempts 0, due at deadline_ms); with reason set they fail with it. Both are steps
 * (below ENGINE_STEP_COUNT), else FUOTA_ERR_INVALID_ARG and nothing is written. */
struct seng_move {
	enum engine_step from;
	enum engine_step to;
	const char *reason;
	int frag_version; /* > 0: only the devices whose TS004 session has this version */
	bool by_index;    /* only the devices set up on FragIndex frag_index */
	int frag_index;
	/* > 0: only the devices that reported their block (block_reported: a round's "done" is
	 * no report), < 0: the others */
	int block;
};
struct seng_next_part {
	unsigned part; /* the new part, 0-based */
	uint32_t nb_frag, padding, redundancy, redundancy_cap;
};
struct seng_phase {
	struct seng_lease lease;      /* the change applies only while we hold the job's lease */
	enum engine_phase from_phase; /* the change applies only from this phase */
	enum engine_phase to_phase;
	bool set_session_start;
	int64_t session_start_ms;
	bool set_next_tx;
	int64_t next_tx_ms;
	const char (*gateways)[SENG_EUI_LEN]; /* NULL: unchanged */
	size_t n_gateways;
	int64_t deadline_ms; /* for moved devices */
	const struct seng_move *moves;
	size_t n_moves;
	/* After the moves: one engine_session per (FragIndex, version) of the devices then in
	 * mc_session (the job's fragmentation sessions). */
	bool create_sessions;
	bool set_session_timeout;
	uint8_t session_timeout;
	/* A JSON object merged into job.plan (NULL: none): the sessions the engine runs when they
	 * differ from the plan's one (sessions, total_frames, total_airtime_s,
	 * multicast_timeout_exp, multicast_timeout_s); multicast_duration_s is scaled by the
	 * sessions and estimated_duration_s follows the TimeOut. */
	const char *plan_patch;
	/* The session start moved (session_moves + 1). */
	bool session_moved;
	/* The job goes on with its next part (NULL: no): job.part and the moved devices' part
	 * become part, the engine row takes the part's counts, its session start, next frame,
	 * gateways and session moves are cleared, its fragmentation sessions and sent frames are
	 * dropped (the next setup makes new ones) and the devices' session answers forgotten. */
	const struct seng_next_part *next_part;
	/* The failed devices with the group set get job_device.deletes_pending (their deletes
	 * are owed: seng_devs_deletes_pending reads them back after a crash). */
	bool mark_deletes;
};
/* FUOTA_ERR_STATE: not in from_phase, or the lease is not ours any more (nothing written). */
STORE_MUST_CHECK int seng_job_phase(struct store *s, int64_t job_id, const struct seng_phase *p);

/* The devices a job's end failed (seng_job_finish): DevEUI and failure_reason of each, n rows;
 * malloc'd, seng_failed_free. */
struct seng_failed {
	size_t n;
	char (*dev_euis)[SENG_EUI_LEN];
	char **reasons;
};
void seng_failed_free(struct seng_failed *f);

/* Ends a job: state succeeded / failed, error (may be NULL), finished_at, phase done, lease
 * dropped, state event. Devices not final fail with final_reason (kept when they have one),
 * each with its device event in the job's event log, and come back in *failed (may be NULL;
 * the caller frees it with seng_failed_free, also on error). */
STORE_MUST_CHECK int seng_job_finish(struct store *s, int64_t job_id, const char *state,
                                     const char *error, const char *final_reason, int64_t now_ms,
                                     struct seng_failed *failed);

/* The job's fragmentation sessions (engine_session), by FragIndex, with the devices of each in
 * step session (devices) and those of them that have not reported their block (pending). */
struct seng_session {
	int frag_index, frag_version;
	uint32_t next_n, frames_sent;
	bool done;
	unsigned devices, pending;
	/* Adaptive rounds: round = multicast status requests sent, round_end = N of the last frame
	 * of the batch under way (0: the first batch is not sized yet), asked_at = the round_end at
	 * which the last request went out (0: none), unanswered = its devices in step session that
	 * have neither reported their block nor answered request number `round` (0 during the wait
	 * after that request: no answer is left to come, the wait buys nothing). */
	uint32_t round, round_end, asked_at;
	unsigned unanswered;
};
STORE_MUST_CHECK int seng_sessions(struct store *s, int64_t job_id, struct seng_session *out,
                                   size_t max, size_t *n);
/* The same rows without counting the devices (devices, pending and unanswered 0): the
 * engine_session rows alone, not the join over job_device. */
STORE_MUST_CHECK int seng_sessions_rows(struct store *s, int64_t job_id, struct seng_session *out,
                                        size_t max, size_t *n);
/* Marks a session done: none of its frames is left to send. */
STORE_MUST_CHECK int seng_session_done(struct store *s, int64_t job_id, int frag_index);
/* The FragIndex of TS004 `version` in the job: fixed by the first call for that version (the
 * first version gets 0, the other 1) and the same ever after, from any engine. */
STORE_MUST_CHECK int seng_session_index(struct store *s, int64_t job_id, int version,
                                        int *frag_index);
/* The job's devices in `step` grouped by (FragIndex, TS004 version): up to max groups.
 * FUOTA_ERR_INVALID_ARG when step is not one (ENGINE_STEP_COUNT and above). */
struct seng_group {
	int frag_index, frag_version;
	unsigned count;
};
STORE_MUST_CHECK int seng_step_groups(struct store *s, int64_t job_id, enum engine_step step,
                                      struct seng_group *out, size_t max, size_t *n);

/* Counts of the job's devices per step name index (enum engine_step), and of SESSION devices that
 * have not reported their block (v2 FragDataBlockReceivedReq). */
STORE_MUST_CHECK int seng_dev_counts(struct store *s, int64_t job_id, unsigned counts[],
                                     size_t n_counts, unsigned *session_pending);

/* One device of a job. */
struct seng_dev {
	int64_t job_id, tenant;
	char dev_eui[SENG_EUI_LEN];
	char application_id[64];
	char lorawan_version[16];
	char key_kind[16]; /* "gen_app_key" or "app_key" */
	uint8_t key_box[SENG_BOX_MAX];
	size_t key_box_len;
	int ts003, ts004, ts005;
	/* job_device.step; ENGINE_STEP_UNKNOWN for a text that names no step */
	enum engine_step step;
	unsigned attempts;
	bool has_deadline;
	int64_t deadline_ms;
	int frag_version, mc_version;
	int frag_index; /* the FragIndex of its session (0 until set up) */
	int session_cnt;
	bool mc_group_set, block_received, resync_sent;
	unsigned cleanup_mask;
	bool failed;      /* failure_reason is set */
	char stack[16];   /* device.stack: how it reads TS004 (fuota/dev_stack.h) */
	int max_frags;    /* device.max_frags, 0 unknown */
	int64_t asked_ms; /* when the first request of its step went out (0: unknown) */
	/* v2 FragDataBlockReceivedReq without MICError (block_received is also set by a round
	 * that judged it done, provisionally) */
	bool block_reported;
	int ts006;         /* device.ts006_version: 1 when it has TS006 Firmware Management */
	bool mc_reused;    /* held the job's group from an earlier job: no McGroupSetupReq */
	bool mc_fell_back; /* said McGroupUndefined after a reuse: set up in full since */
	bool reboot; /* its job sets reboot_in_s or reboot_at: TS006 reboot after the clean-up */
	unsigned part, parts; /* job_device.part (0-based) of its job's plan.parts (1: one) */
};

/* Devices whose deadline is due (or unset) in a non-final step; *devs malloc'd (free()). */
STORE_MUST_CHECK int seng_devs_due(struct store *s, int64_t job_id, int64_t now_ms, unsigned max,
                                   struct seng_dev **devs, size_t *n);
/* Devices with the group set that failed (and with active_too, those not final either), for a
 * one-shot clean-up; *devs malloc'd. The same statement sets their deletes_pending: their
 * FragSessionDeleteReq and McGroupDeleteReq are owed until seng_deletes_sent. */
STORE_MUST_CHECK int seng_devs_with_group(struct store *s, int64_t job_id, bool active_too,
                                          struct seng_dev **devs, size_t *n);
/* Every job's devices whose deletes are still owed (deletes_pending), by job and DevEUI;
 * *devs malloc'd. */
STORE_MUST_CHECK int seng_devs_deletes_pending(struct store *s, struct seng_dev **devs, size_t *n);
/* Both deletes of these n devices (job_ids[i], dev_euis[i]) are published: deletes_pending
 * cleared. */
STORE_MUST_CHECK int seng_deletes_sent(struct store *s, const int64_t *job_ids,
                                       const char (*dev_euis)[SENG_EUI_LEN], size_t n);
/* TS004 v1 devices of the session on frag_index that have not reported completion (adaptive
 * status rounds); *devs malloc'd. */
STORE_MUST_CHECK int seng_devs_session_pending_v1(struct store *s, int64_t job_id, int frag_index,
                                                  struct seng_dev **devs, size_t *n);
STORE_MUST_CHECK int seng_dev_load(struct store *s, int64_t job_id, const char *dev_eui,
                                   struct seng_dev *d);
/* dev_eui in the running job (state running, engine phase not done) in which it is in a
 * non-final step (the latest such job). FUOTA_ERR_NOT_FOUND if none. */
STORE_MUST_CHECK int seng_dev_active(struct store *s, const char *dev_eui, struct seng_dev *d);

/* A conditional update of one device: applies only while its step is `from` (a step, or
 * ENGINE_STEP_UNKNOWN: while its step text names none). Fields with a set_ flag are written;
 * attempts_inc adds 1 to attempts. FUOTA_ERR_INVALID_ARG for another `from` or `to`. */
struct seng_dev_update {
	enum engine_step to; /* new step, ENGINE_STEP_NONE: unchanged */
	bool reset_attempts; /* attempts = 0 (with a new step) */
	bool attempts_inc;
	bool set_deadline;
	int64_t deadline_ms;
	/* Only with set_deadline: only while the device's attempts equal `attempts` (the request
	 * whose delivery moves the deadline is still the one out). */
	bool if_attempts;
	unsigned attempts;
	const char *failure_reason;   /* non-NULL: set */
	const char *last_answer;      /* JSON text, non-NULL: set */
	int frag_version, mc_version; /* > 0: set */
	int frag_index;               /* >= 0: set; -1 unchanged */
	int session_cnt;              /* >= 0: set; -1 unchanged */
	bool set_mc_group;
	bool fall_back;      /* mc_reused off, mc_fell_back on: the device is set up in full */
	unsigned cleanup_or; /* OR into cleanup_mask */
	bool set_block_received;
	bool set_block_reported; /* the device's own block report (implies nothing else) */
	bool set_resync_sent;
	bool set_time_to_start;
	int64_t time_to_start_s;
	bool set_asked; /* asked_ms: when the step's first request goes out */
	int64_t asked_ms;
};
void seng_dev_update_init(struct seng_dev_update *u);
STORE_MUST_CHECK int seng_dev_update(struct store *s, int64_t job_id, const char *dev_eui,
                                     enum engine_step from, const struct seng_dev_update *u);

/* Next v2 SessionCnt of a device (stored +1, committed before it is returned). CONFLICT once
 * 65535 was used. */
STORE_MUST_CHECK int seng_session_cnt_next(struct store *s, const char *dev_eui, int *cnt);
/* A PackageVersionAns: package 1 (TS003), 2 (TS005) or 3 (TS004) of dev_eui speaks version.
 * Only the device of that DevEUI in application_id (the uplink's) is written. */
STORE_MUST_CHECK int seng_dev_version(struct store *s, const char *dev_eui,
                                      const char *application_id, int package_id, int version);
/* Gateway gw heard dev_eui at seen_ms with quality, for n (device, gateway) pairs, each at most
 * once in the batch, in one statement. Each pair is stored under the tenant that holds the
 * DevEUI when it is written (0: none); seng_job_edges reads a job's tenant's and no one's. */
struct seng_gw_obs {
	char dev_eui[SENG_EUI_LEN];
	char gw[SENG_EUI_LEN];
	int quality;
	int64_t seen_ms;
};
STORE_MUST_CHECK int seng_gw_seen_batch(struct store *s, const struct seng_gw_obs *obs, size_t n);

/* The (device, gateway, quality) triples of the job's devices in step `step` (a step, else
 * FUOTA_ERR_INVALID_ARG), from uplinks heard at or after since_ms: parallel arrays,
 * malloc'd (one free() per array). Devices are numbered by their order in dev_euis. */
struct seng_edges {
	char (*dev_euis)[SENG_EUI_LEN];
	size_t n_dev;
	char (*gw_ids)[SENG_EUI_LEN];
	size_t n_gw;
	uint32_t *edge_dev, *edge_gw;
	int32_t *edge_q;
	size_t n_edges;
};
STORE_MUST_CHECK int seng_job_edges(struct store *s, int64_t job_id, enum engine_step step,
                                    int64_t since_ms, struct seng_edges *e);
void seng_edges_free(struct seng_edges *e);

/* One multicast frame: in one transaction takes the group's FCnt (stored +1 before anything is
 * sent), records one engine_tx row per gateway, and moves the counters: for a new frame the
 * session's (frag_index) next_n becomes n + 1 and its frames_sent and the job's grow by one; for
 * a frame sent again, the resent row (resend_of, 0 = none) is marked sent again.
 * next_tx_ms: when the next frame may go. *fcnt receives the frame's FCnt. */
struct seng_frame {
	struct seng_lease lease; /* nothing is written unless we hold the job's lease */
	int64_t job_id, group_id;
	int frag_index;
	uint32_t n;
	bool new_frame;
	int64_t resend_of;
	const char (*gateways)[SENG_EUI_LEN];
	const uint32_t *downlink_ids;
	size_t n_gateways;
	int64_t now_ms, next_tx_ms;
	int64_t gateway_free_ms; /* > 0: the gateways are busy until then (engine_gateway) */
};
/* FUOTA_ERR_STATE: the lease is not ours any more (no FCnt taken, nothing written). */
STORE_MUST_CHECK int seng_frame(struct store *s, const struct seng_frame *f, uint32_t *fcnt);
/* The oldest refused frame waiting to go again: its downlink id, gateway, FragIndex and N.
 * NOT_FOUND if none. */
STORE_MUST_CHECK int seng_resend_next(struct store *s, int64_t job_id, int64_t *downlink_id,
                                      char gw[SENG_EUI_LEN], int *frag_index, uint32_t *n);
/* Frames still waiting: refused ones not yet resent, plus those without an ack sent after
 * unacked_since_ms. */
STORE_MUST_CHECK int seng_tx_waiting(struct store *s, int64_t job_id, int64_t unacked_since_ms,
                                     unsigned *n);
/* A gateway's ack: status "OK" or the refusal's name; a refusal queues the frame again.
 * *job_id receives the frame's job; NOT_FOUND for an unknown downlink id. */
STORE_MUST_CHECK int seng_tx_ack(struct store *s, uint32_t downlink_id, const char *status, bool ok,
                                 int64_t *job_id);
/* When each of gws[0..n) is free again per engine_gateway (0: no record), into free_ms[0..n). */
STORE_MUST_CHECK int seng_gateways_free(struct store *s, const char (*gws)[SENG_EUI_LEN], size_t n,
                                        int64_t *free_ms);
/* The modem state gateway gw published (state/modem), read at now_ms: state_json is the JSON
 * object fuotad re-wrote from the fields it checked (store_gwmodem.c). An older read than the one
 * stored changes nothing. */
STORE_MUST_CHECK int seng_gw_modem_set(struct store *s, const char *gw, const char *state_json,
                                       int64_t now_ms);
/* The encoding gateway gw speaks (json, else protobuf), learnt at now_ms from a message it
 * published (engine_mqtt.c); _get: NOT_FOUND when never learnt. */
STORE_MUST_CHECK int seng_gw_encoding_set(struct store *s, const char *gw, bool json,
                                          int64_t now_ms);
STORE_MUST_CHECK int seng_gw_encoding_get(struct store *s, const char *gw, bool *json);
/* Data fragments of the job sent before sent_before_ms that no gateway ack answered: queued to
 * go again (ack 'NO_ACK', resend 1), each (gateway, FragIndex, N) once at most. A frame lost
 * on its way (fuotad killed between storing and publishing it, a broker restart before the
 * gateway subscribed again) would otherwise count as sent. *rows: how many. */
STORE_MUST_CHECK int seng_tx_unacked_resend(struct store *s, int64_t job_id, int64_t sent_before_ms,
                                            long *rows);
/* Sets next_tx_ms of the job. */
STORE_MUST_CHECK int seng_job_next_tx(struct store *s, int64_t job_id, int64_t next_tx_ms);

/* The job's firmware bytes, malloc'd. */
STORE_MUST_CHECK int seng_firmware(struct store *s, int64_t job_id, uint8_t **data, size_t *len);

/* Appends an event (kind: state, device, progress, log) to the job's event log. */
STORE_MUST_CHECK int seng_event(struct store *s, int64_t tenant, int64_t job_id,
                                const char *dev_eui, const char *kind, const char *json);

/* Devices of the job still in mc_session with fewer than max_attempts requests sent: those
 * that may still answer once the session start is moved. */
STORE_MUST_CHECK int seng_session_waiting(struct store *s, int64_t job_id, unsigned max_attempts,
                                          unsigned *n);
/* dev_eui of application_id sent an AppTimeReq at now_ms: a session request of a running job
 * that waits for the device's clock resync (mc_session, resync_sent, attempts 0) is due now
 * (*due). The same DevEUI under another application changes nothing. */
STORE_MUST_CHECK int seng_dev_resynced(struct store *s, const char *dev_eui,
                                       const char *application_id, int64_t now_ms, bool *due);
/* Whether any device of a running job waits for its clock resync (*any): what makes
 * seng_dev_resynced worth asking at an AppTimeReq. */
STORE_MUST_CHECK int seng_resync_waiting(struct store *s, bool *any);

/* ---- adaptive rounds (store_rounds.c) ---------------------------------------------------- */

/* The rounds of a session are read with it (seng_sessions, struct seng_session). */
/* The batch of session frag_index ends at N = round_end. */
STORE_MUST_CHECK int seng_round_end_set(struct store *s, int64_t job_id, int frag_index,
                                        uint32_t round_end);

/* A multicast FragSessionStatusReq of session frag_index after its frame `asked_at`
 * (store_tx.c, beside seng_frame): in one transaction the group's FCnt (as seng_frame), one
 * engine_tx row per gateway with n = 0 (a refused one is built again as a status request), the
 * session's round + 1 and asked_at, the job's next_tx_ms (the wait for the answers) and the
 * gateways' busy time. */
struct seng_status_frame {
	struct seng_lease lease; /* as seng_frame */
	int64_t job_id, group_id;
	int frag_index;
	uint32_t asked_at;
	const char (*gateways)[SENG_EUI_LEN];
	const uint32_t *downlink_ids;
	size_t n_gateways;
	int64_t now_ms, next_tx_ms, gateway_free_ms;
};
STORE_MUST_CHECK int seng_status_frame(struct store *s, const struct seng_status_frame *f,
                                       uint32_t *fcnt);

/* A FragSessionStatusAns of dev_eui during the session on frag_index: stored as an answer to the
 * session's current round. */
STORE_MUST_CHECK int seng_dev_status(struct store *s, int64_t job_id, const char *dev_eui,
                                     int frag_index, uint32_t received, uint32_t missing);
/* The answers to round `round` of session frag_index from devices still in step session that have
 * not reported their block: *received and *missing malloc'd (free() each), *n entries. */
STORE_MUST_CHECK int seng_round_answers(struct store *s, int64_t job_id, int frag_index,
                                        uint32_t round, uint32_t **received, uint32_t **missing,
                                        size_t *n);
/* dev_eui's session in a paused job (answers to a round's status request still count while the
 * job is paused). FUOTA_ERR_NOT_FOUND when it has none. */
struct seng_paused {
	int64_t job_id;
	int frag_index, frag_version;
	uint32_t nb_frag; /* the job's uncoded fragments */
	char stack[16];   /* device.stack */
	char application_id[64];
};
STORE_MUST_CHECK int seng_dev_paused_session(struct store *s, const char *dev_eui,
                                             struct seng_paused *out);

/* ---- multicast groups kept across jobs (store_mc_keep.c) --------------------------------- */

/* A device of a job that holds a multicast group of the job's tenant from an earlier job. */
struct seng_mc_held {
	char dev_eui[SENG_EUI_LEN];
	int64_t group_id;
};
/* The devices of job_id that hold a group kept after kept_after_ms (mc_reuse_kept_after_ms:
 * older records have expired and do not count) (*devs) and those groups, with their holders
 * among the job's devices, busy (a live job other than job_id uses it), key_ok, fcnt (*groups):
 * the facts mc_reuse_pick decides on. Both malloc'd (free()), NULL when none. */
STORE_MUST_CHECK int seng_mc_held(struct store *s, int64_t job_id, int64_t kept_after_ms,
                                  struct seng_mc_held **devs, size_t *n_devs,
                                  struct mc_reuse_group **groups, size_t *n_groups);
/* dev_eui now holds group_id under McGroupID 0, kept at now_ms (group_id > 0), or holds no
 * group the engine knows of (0: after a McGroupSetupReq or McGroupDeleteReq it answered;
 * now_ms unused). */
STORE_MUST_CHECK int seng_mc_keep(struct store *s, const char *dev_eui, int64_t group_id,
                                  int64_t now_ms);

/* A parent job's state change (parent_id 0: none). */
struct seng_parent_change {
	int64_t parent_id;
	char from[16], to[16];
};
/* After a state change of job job_id: its parent's state (one job across regions,
 * fuota/job_regions.h) made what its children's derive, in a transaction of its own, with the
 * parent's state event in its log; *out says the change, for the engine to publish. A job
 * without parent: nothing. FUOTA_OK, or a store error. (store_job_regions.c) */
STORE_MUST_CHECK int seng_job_parent_sync(struct store *s, int64_t job_id,
                                          struct seng_parent_change *out);

#endif
