/* Private parts of the job engine. Its files call one another downwards only (the ctest
 * layering.engine-acyclic fails on a circle):
 *
 *   engine.c            life cycle: create, tick, uplinks and acks in (fuota/engine.h)
 *   engine_phase.c      a running job's phases          engine_start.c   starting a job
 *   engine_tx.c         multicast frames                engine_rounds.c  adaptive rounds
 *   engine_fmp.c        TS006 answers (step confirm)
 *   engine_dev.c        unicast requests and the TS004 answers
 *   engine_status.c     FragSessionStatusAns and block reports, judged
 *   engine_ans.c        TS005 answers                   csr_clocksync.c  the clock-sync responder
 *   engine_step.c       a device's step moves and unicast downlinks
 *   engine_seen.c       what uplinks tell of each device
 *   engine_core.c       publishing, events, the job table and cache, gateway slots, GPS time
 */
#ifndef FUOTA_ENGINE_INT_H
#define FUOTA_ENGINE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "fuota/cs_msg.h"
#include "fuota/engine.h"
#include "fuota/dev_stack.h"
#include "fuota/engine_calc.h"
#include "fuota/frag_cmd.h"
#include "fuota/frag_enc.h"
#include "fuota/recount.h"
#include "fuota/store_engine.h"

/* When a gateway is free again (duty cycle), shared by every job of this engine. */
struct engine_gw {
	char id[SENG_EUI_LEN];
	int64_t free_ms;
};

/* What a job needs in memory and can rebuild from the database at any time: the padded
 * fragments and the multicast keys. */
struct engine_cache {
	int64_t job_id;
	uint8_t *frags; /* nb_frag * frag_size bytes, the last fragment padded with zeros */
	size_t image_len;
	unsigned part; /* the part of the image frags holds (job in parts), else 0 */
	uint32_t frag_size, nb_frag;
	uint8_t mc_key[16], app_s_key[16], nwk_s_key[16];
	uint32_t mc_addr;
	/* Parity encoders over frags, one per TS004 code version, built on first use. */
	struct frag_enc enc[2];
	bool enc_ready[2];
	/* The FragIndex of each TS004 version (1, 2) once the store fixed it (it never changes). */
	int frag_index[3];
	bool frag_index_known[3];
	void *scratch;
	size_t scratch_len;
	struct engine_cache *next;
};

/* What the engine remembers of one device from its uplinks (engine_seen.c): the gateways that
 * heard it (written to engine_device_gateway in batches), its uplink period, and the delivery of
 * its outstanding unicast request (class A: one queued downlink per uplink). */
#define ENGINE_SEEN_GWS 4
struct engine_seen_gw {
	char id[SENG_EUI_LEN];
	int quality;
	int64_t seen_ms, written_ms; /* written_ms: what engine_device_gateway holds (0: nothing) */
};
struct engine_seen {
	char dev_eui[SENG_EUI_LEN]; /* "" : free slot */
	int64_t last_up_ms;
	uint32_t period_ms; /* decaying maximum of the gaps between its uplinks; 0: unknown */
	struct engine_seen_gw gw[ENGINE_SEEN_GWS];
	size_t n_gw;
	/* The request of step `step` of job job_id last sent (attempt `attempts`), `queued`
	 * downlinks of it not yet delivered; first_rx_ms: the first uplink that delivered one of
	 * this step's requests. ahead: downlinks queued for the device before them (a replaced
	 * request's copies, clock sync answers) not yet delivered, since ahead_ms: a class A
	 * device takes its queue in order, one downlink per uplink. */
	int64_t job_id;
	enum engine_step step; /* ENGINE_STEP_NONE: nothing asked */
	unsigned attempts, queued, ahead;
	uint64_t timeout_ms;
	int64_t sent_ms, first_rx_ms, deadline_ms; /* deadline_ms: as stored */
	int64_t ahead_ms;
};

/* More messages waiting than this (engine_set_backlog: inbound ones, and outbound ones the MQTT
 * client has not handed to the broker; SIZE_MAX while the broker is away): no unicast request is
 * sent, nor a device's timeout judged, by a tick or right after an answer, until they have
 * drained below it. */
#define ENGINE_BACKLOG_PAUSE 2000

/* engine_delq.c: at most this many devices' deletes per tick, and the wait before trying again
 * when the backlog or the MQTT client held them back. */
#define ENGINE_DELQ_PER_TICK 256
#define ENGINE_DELQ_RETRY_MS 250

/* A device's FragSessionDeleteReq and McGroupDeleteReq waiting to go (engine_delq.c). */
struct engine_del {
	int64_t job_id;
	char application_id[64];
	char dev_eui[SENG_EUI_LEN];
	uint8_t frag_index;
	uint8_t sent; /* bit 0: FragSessionDeleteReq published, bit 1: McGroupDeleteReq */
	uint64_t seq; /* the sink's number of the last one published (engine_publish_fn) */
};

struct engine_delq {
	/* v[done..head) published, their rows still set until the MQTT client acknowledged them
	 * (engine_outbox_acked); v[head..n) wait, in the order asked */
	struct engine_del *v;
	size_t done, head, n, cap;
	bool reloaded; /* the owed deletes of the database queued (engine_delq_reload) */
};

/* When counts kept in memory were read (fuota/recount.h): in part `part`, at ms, in took_ms. */
struct engine_recount {
	bool counted;
	unsigned part;
	int64_t ms, took_ms;
};

/* Whether counts read as r says may still stand in part `part` at now_ms. */
static inline bool engine_recount_fresh(const struct engine_recount *r, unsigned part,
                                        int64_t now_ms)
{
	return r->counted && r->part == part && !policy_recount_due(now_ms, r->ms, r->took_ms);
}

/* Counts of part `part` were read from t0_ms until now_ms. */
static inline void engine_recount_stamp(struct engine_recount *r, unsigned part, int64_t t0_ms,
                                        int64_t now_ms)
{
	*r = (struct engine_recount){
	        .counted = true, .part = part, .ms = t0_ms, .took_ms = now_ms - t0_ms};
}

/* A job row read for an uplink's answers, kept for JOB_CACHE_MS (engine.c). */
#define ENGINE_JOB_CACHE 4
struct engine_job_cached {
	struct seng_job j; /* gateways not kept */
	int64_t loaded_ms;
	/* Its devices counted by step (engine_phase.c) in phase counted_phase. */
	struct engine_recount counts_rc;
	enum engine_phase counted_phase;
	unsigned counts[ENGINE_STEP_COUNT], pending;
	/* Its sessions with their devices counted (engine_tx.c); n_ss of them. */
	struct engine_recount ss_rc;
	struct seng_session ss[ENGINE_MAX_SESSIONS];
	size_t n_ss;
};

struct engine {
	pthread_mutex_t lock;
	struct store *store;
	struct engine_cfg cfg;
	engine_clock_unix_ms_fn clock;
	void *clock_ctx;
	engine_publish_fn publish;
	void *publish_ctx;
	struct engine_gw *gws;
	size_t n_gws, cap_gws;
	struct engine_cache *cache;
	struct engine_seen *seen; /* open addressing, seen_cap a power of two */
	size_t seen_cap, seen_n;
	int64_t seen_flushed_ms;
	int64_t heard_since_ms; /* engine_uplinks_resumed: since when no uplink can have been missed
	                         */
	struct engine_job_cached jobs[ENGINE_JOB_CACHE];
	size_t backlog; /* engine_set_backlog */
	int lock_pid;   /* engine_set_lock_pid: the fence of every lease write (seng_lease) */
	/* engine_seen.c, engine_batch_*: the records' states before the open batch changed them. */
	struct engine_seen_undo *undo;
	size_t n_undo, cap_undo;
	bool batch, undo_lost; /* undo_lost: a change could not be noted (out of memory) */
	/* csr_clocksync.c: whether a device of a running job may wait for its resync (any
	 * instance's), as the database said at resync_checked_ms or this engine forced since. */
	bool resync_any;
	int64_t resync_checked_ms;
	struct engine_delq delq; /* deletes not sent yet (engine_delq.c) */
	uint64_t pub_seq; /* the sink's number of the last message engine_pub published: read on the
	                   * tick thread right after a successful engine_pub (engine_delq.c) */
};

/* engine_instance.c */
/* Who the engine writes as: its instance id, fenced by its instance lock's session. */
struct seng_lease engine_lease(const struct engine *e);

/* engine_delq.c */
/* How many devices' deletes a tick may send with `backlog` messages waiting and `pending`
 * devices in the queue: none at or above ENGINE_BACKLOG_PAUSE, else at most the room below it
 * and ENGINE_DELQ_PER_TICK. */
size_t engine_delq_budget(size_t backlog, size_t pending);
/* Queues a device's FragSessionDeleteReq (on frag_index) and McGroupDeleteReq for job_id's
 * row, whose deletes_pending is cleared once both were acknowledged (engine_delq_acked). */
int engine_delq_push(struct engine *e, int64_t job_id, const char *application_id,
                     const char *dev_eui, int frag_index);
/* Queues the deletes the database says are owed (a fuotad stopped before its queue drained),
 * once: the first tick does it, and again after a failure. */
void engine_delq_reload(struct engine *e);
size_t engine_delq_pending(const struct engine *e);
/* Sends the budget's worth of the queue, in order; a refused publish stays first. Lowers
 * *next_due when some are left. */
void engine_delq_run(struct engine *e, int64_t now_ms, int64_t *next_due);
/* Of the n published devices v[0..n) (in the order published), how many from the first have
 * both deletes acknowledged when every message numbered up to acked_seq is: the rows that may
 * be cleared. A device whose number is above acked_seq stops the count, so a later one is never
 * cleared before it. */
size_t engine_delq_clearable(const struct engine_del *v, size_t n, uint64_t acked_seq);
/* Every message through acked_seq was acknowledged: the devices whose deletes were are cleared
 * (their rows no longer owe them). Returns how many devices that was. */
size_t engine_delq_acked(struct engine *e, uint64_t acked_seq);
/* Devices whose deletes were published but are not yet known to be acknowledged. */
size_t engine_delq_unconfirmed(const struct engine *e);
/* The number acked_seq must reach to clear every published device (0: none waits). */
uint64_t engine_delq_owed_seq(const struct engine *e);
/* Frees the queue, logging how many devices it still held. */
void engine_delq_free(struct engine *e);

/* engine_core.c */
int engine_pub(struct engine *e, const char *topic, const uint8_t *payload, size_t len);
/* Publishes {"job_id":..., <fields>} as an event, and logs it in the job's event log when
 * `store` is set. fields: a jansson object, consumed. */
void engine_job_event(struct engine *e, const struct seng_job *j, const char *kind, json_t *fields,
                      bool store);
/* Associated data of a job's McKey box (the group belongs to that job): into out, its length. */
size_t engine_mc_key_aad(int64_t job_id, char *out, size_t cap);
/* Publishes an integration event fuota/{tenant}/job/{job}/event/{kind} (JSON text). */
void engine_event(struct engine *e, int64_t tenant, int64_t job_id, const char *kind,
                  const char *json);
/* Publishes fuota/{tenant}/job/{job}/event/device: {"job_id","dev_eui","step","reason"} (reason
 * left out when NULL). */
void engine_device_event(struct engine *e, int64_t tenant, int64_t job_id, const char *dev_eui,
                         enum engine_step step, const char *reason);
/* After job_id (of tenant) changed state: its parent's state follows when it is a region's
 * child job (seng_job_parent_sync), and the parent's state event is published. */
int engine_parent_sync(struct engine *e, int64_t tenant, int64_t job_id);
/* Ends job j (seng_job_finish) and publishes the device event of each device it failed. */
int engine_job_end(struct engine *e, const struct seng_job *j, const char *state, const char *error,
                   const char *final_reason, int64_t now_ms);
/* The gateway-side settings of a region (defaults when not configured). */
void engine_region_cfg(const struct engine *e, const char *region, struct engine_region_cfg *out);
/* The cache of job j, built on first use. NULL when the firmware or the McKey cannot be read. */
struct engine_cache *engine_cache_get(struct engine *e, const struct seng_job *j);
void engine_cache_drop(struct engine *e, int64_t job_id);
/* The slot of gateway id in the pacing table (added when new); NULL when out of memory. */
struct engine_gw *engine_gw_slot(struct engine *e, const char *id);
/* Unix ms <-> GPS ms. */
int64_t engine_unix_to_gps_ms(int64_t unix_ms);
int64_t engine_gps_to_unix_ms(int64_t gps_ms);

/* The job row of id for an uplink: the one job_run or an uplink read less than a second ago,
 * else read now. *j needs seng_job_free. */
int engine_job_get(struct engine *e, int64_t id, int64_t now_ms, struct seng_job *j);
/* Forgets the cached row of job id (a phase change, the end of the job). */
void engine_job_forget(struct engine *e, int64_t id);
/* Keeps a copy of the job row j read at now_ms for the uplinks that follow. */
void engine_job_remember(struct engine *e, const struct seng_job *j, int64_t now_ms);
/* The job's slot in the job table (its counts), NULL when it has none. */
struct engine_job_cached *engine_job_slot(struct engine *e, int64_t id);
/* Frees what a cache entry owns (not the entry). */
void engine_cache_free(struct engine_cache *c);

/* engine_start.c */
/* One DataFragment frame's time on air and the interval the sub-band's duty cycle sets between
 * two of them. */
int engine_frame_timing(const struct seng_job *j, uint32_t frag_size, uint64_t *airtime_us,
                        uint64_t *interval_us);
/* What a part of job j sends (the whole image when the job has one part): fragment size,
 * fragments, padding, parity, adaptive cap and the session TimeOut. */
struct engine_counts {
	uint32_t frag_size, nb_frag, padding, redundancy, cap;
	uint8_t timeout;
};
/* The counts of part `part` (0-based) of job j from its plan or fields and the region's
 * tables into *p. NULL, or why the job cannot run. */
const char *engine_counts(const struct engine *e, const struct seng_job *j, unsigned part,
                          struct engine_counts *p);
/* Starts a pending job the engine has not started yet (seng_job_start). */
int engine_job_start(struct engine *e, const struct seng_job *j, int64_t now_ms);

/* engine_phase.c */
/* One tick of a running job: its due devices, then what its phase calls for (a phase change,
 * frames, the end of the job). *next_due: when the job wants the next tick. */
int engine_phase_run(struct engine *e, struct seng_job *j, int64_t now_ms, int64_t *next_due);

/* engine_seen.c */
/* The record of dev_eui (created when create and new); NULL when unknown or out of memory. */
struct engine_seen *engine_seen_get(struct engine *e, const char *dev_eui, bool create);
/* Frees the records and the batch's notes. */
void engine_seen_free(struct engine *e);
/* Notes an uplink: its gateways and the device's uplink period. Returns the device's record. */
struct engine_seen *engine_seen_uplink(struct engine *e, const struct cs_uplink *u, int64_t now_ms);
/* Writes the device -> gateway pairs not yet stored, and those stored a minute ago or more
 * (all: every change), in batches; at most once a second unless all. */
int engine_seen_flush(struct engine *e, int64_t now_ms, bool all);
/* Whether a device-gateway pair heard at seen_ms, last written with seen_ms written_ms (0:
 * never), goes to the database at a flush (all: the final one, every change). */
bool engine_seen_gw_due(int64_t seen_ms, int64_t written_ms, bool all);
/* The deadline of a request sent at from_ms with `queued` downlinks waiting for the device:
 * the unicast timeout plus one uplink period of the device per downlink queued. */
int64_t engine_seen_deadline(struct engine *e, const char *dev_eui, int64_t from_ms,
                             uint64_t timeout_ms, unsigned queued);
/* A request of `step` (attempt `attempts`, n_requests downlinks) was sent at now_ms. */
void engine_seen_sent(struct engine *e, int64_t job_id, const char *dev_eui, enum engine_step step,
                      unsigned attempts, unsigned n_requests, uint64_t timeout_ms, int64_t now_ms,
                      int64_t deadline_ms);
/* The device moved to another step: nothing of its old step is waiting any more. */
void engine_seen_moved(struct engine *e, const char *dev_eui);
/* A downlink other than a step's request (a clock sync command or answer) was queued for the
 * device at now_ms: the next uplink delivers it, not the request queued after it. */
void engine_seen_other(struct engine *e, const char *dev_eui, int64_t now_ms);
/* An uplink of the device: when a request of its is queued, this uplink delivered one and the
 * step's deadline counts from now (a conditional update). */
int engine_seen_delivered(struct engine *e, struct engine_seen *r, int64_t now_ms);
/* When the device first received a request of `step` of the job (as far as this engine saw). */
bool engine_seen_first_rx(struct engine *e, int64_t job_id, const char *dev_eui,
                          enum engine_step step, int64_t *rx_ms);
/* The longest uplink period among the devices this engine sent requests of job_id to. */
uint64_t engine_seen_period_max(const struct engine *e, int64_t job_id);

/* engine_dev.c */
/* Acts on one device whose deadline is due: enters the first step, sends (or re-sends) the
 * request of a unicast step, or fails it after its last attempt. */
int engine_dev_due(struct engine *e, const struct seng_job *j, struct seng_dev *d, int64_t now_ms);
/* Applies the TS005 / TS004 answers of an uplink on port_mc / port_frag. */
int engine_dev_uplink(struct engine *e, const struct cs_uplink *u, int64_t now_ms);
/* Queues FragSessionDeleteReq and McGroupDeleteReq, sent once without waiting for answers
 * (engine_delq.c: a cancelled job, or a device that failed after its group was set up). */
void engine_dev_cleanup_once(struct engine *e, const struct seng_dev *d);
/* The device's McKEKey-encrypted McKey / DataBlockIntKey need its root key out of its box. */
int engine_dev_root_key(struct engine *e, const struct seng_dev *d, uint8_t key[16]);

/* engine_status.c */
/* The frames of session frag_index of job_id sent so far (0: unknown). Only LoRaMac-node's
 * answers need it (engine_status_judge): 0 for other stacks. */
uint32_t engine_status_sent(struct engine *e, int64_t job_id, int frag_index, enum dev_stack st);
/* A FragSessionStatusAns of d: judged by its stack, in a status round (step session) or after
 * the session (step frag_status); moves the device by the verdict. */
int engine_status_ans(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                      const struct frag_status_ans *a);
/* FragDataBlockReceivedReq (v2): the device rebuilt the block of session FragIndex. It repeats
 * the request until a FragDataBlockReceivedAns echoes that FragIndex, so the answer goes whatever
 * the session (and in a paused job too); only this job's session moves the device. */
int engine_block_received(struct engine *e, struct seng_dev *d,
                          const struct frag_block_received_req *req);
/* A device in step confirm whose DevUpgradeImageReq went unanswered through its attempts: it is
 * cleaned up and ends unconfirmed. */
int engine_confirm_unanswered(struct engine *e, struct seng_dev *d);

/* engine_fmp.c */
/* A TS006 uplink (port_fmp): the DevUpgradeImageAns of a device in step confirm, the
 * DevVersionAns of one in fw_version or fw_check, the DevReboot*Ans of one in reboot. */
int engine_fmp_uplink(struct engine *e, const struct cs_uplink *u, int64_t now_ms);

/* engine_step.c */
/* Adaptive redundancy, TS004 v1: asks every v1 device of the session on frag_index that has not
 * reported completion for its FragSessionStatusAns (Participants = 1); an answer with nothing
 * missing counts as completion. */
void engine_dev_status_round(struct engine *e, const struct seng_job *j, int frag_index);
/* Publishes a unicast downlink to application/{app}/device/{dev_eui}/command/down. */
int engine_unicast(struct engine *e, const char *application_id, const char *dev_eui, uint8_t port,
                   const uint8_t *data, size_t len);
/* The stack the device's answers are read by (dev_stack.h); an unknown name reads as TS004. */
enum dev_stack engine_dev_stack(const struct seng_dev *d);
/* The step of a device whose clean-up is over: "unconfirmed" when its status answer could not
 * prove the image (its failure_reason says why), "reboot" when its job orders a TS006 reboot,
 * else "done" (engine_after_cleanup). */
enum engine_step engine_cleanup_end(const struct seng_dev *d);
/* Device moves: the update of u (only while in `from`) with the device event
 * when its step changes; a failure with its reason; a new step with fresh attempts, due now. */
int engine_dev_move(struct engine *e, struct seng_dev *d, enum engine_step from,
                    const struct seng_dev_update *u);
int engine_dev_fail(struct engine *e, struct seng_dev *d, enum engine_step from,
                    const char *reason);
int engine_dev_enter(struct engine *e, struct seng_dev *d, enum engine_step from,
                     enum engine_step to, int64_t now_ms, struct seng_dev_update *extra);
/* A clean-up answer of d, bit 1 FragSessionDeleteAns, bit 2 McGroupDeleteAns; its_own: it names
 * the device's session (FragIndex) or group (McGroupID 0). Ignored (FUOTA_OK) unless the device
 * is in step cleanup and the answer is its own; else recorded, and with the other one in too the
 * device ends its clean-up (engine_cleanup_end). */
int engine_dev_cleanup_ans(struct engine *e, struct seng_dev *d, unsigned bit, bool its_own);
/* A device whose package versions are known leaves `from` (pending or pkg_version): to
 * mc_setup, or to frag_setup when it holds the group the job reuses (job_device.mc_reused).
 * *to (may be NULL): the step. */
int engine_dev_to_mc(struct engine *e, struct seng_dev *d, enum engine_step from, int64_t now_ms,
                     enum engine_step *to);
/* At the clean-up of a job that keeps its group (keep_multicast_group), a device that verified
 * the image: its group recorded as held, bit 2 of the clean-up set in u (no McGroupDeleteReq).
 * false: the group is deleted as usual. */
bool engine_dev_keeps_group(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                            struct seng_dev_update *u);
/* A device that skipped McGroupSetupReq answered the session request with McGroupUndefined:
 * back to mc_setup, set up in full (then straight to mc_session). */
int engine_dev_mc_fall_back(struct engine *e, struct seng_dev *d, int64_t now_ms);
/* A PackageVersionAns: package_id speaks version; a device waiting for its versions moves on. */
int engine_dev_pkg_version(struct engine *e, struct seng_dev *d, int package_id, int version,
                           int64_t now_ms);

/* engine_ans.c */
/* Applies the TS005 answers of an uplink on port_mc. */
int engine_ans_mc(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                  const struct cs_uplink *u, int64_t now_ms);
/* Checks an uplink's topic (under up_filter, {prefix}/+/device/+/event/up) against its
 * payload: the same DevEUI, the same application when the payload names one; u's application
 * is then the topic's. FUOTA_ERR_MALFORMED when they disagree. */
int engine_ans_topic(const char *up_filter, const char *topic, struct cs_uplink *u);
/* Whether uplink u comes from application_id (the device's own); said when not. */
bool engine_ans_app_ok(const struct cs_uplink *u, const char *application_id);
/* Whether an answer (`what`, for the log) of device d in its current step must be ignored:
 * it cannot answer the request in flight (fuota/ans_match.h; disagrees: a session answer
 * that does not fit the session start). Said when so. */
bool engine_ans_stale(struct engine *e, const struct seng_job *j, const struct seng_dev *d,
                      const struct cs_uplink *u, const char *what, bool disagrees, int64_t now_ms);

/* engine_tx.c */
/* Sends the multicast frames of job j that are due. *done: every frame is out and acked (or its
 * ack timed out); *next_due_ms lowered to when to come back. */
int engine_tx_run(struct engine *e, struct seng_job *j, int64_t now_ms, bool *done,
                  int64_t *next_due_ms);
/* Builds the DataFragment of N = n (uncoded or parity row n - M of the code_version code) of
 * session frag_index into out (frag_size + 3). */
int engine_tx_fragment(struct engine_cache *c, int code_version, int frag_index, uint32_t n,
                       uint8_t *out, size_t cap, size_t *len);
/* Publishes a progress event of job j: frames sent (new, again) in all and per session, their
 * time on air in all; done marks the last one. */
void engine_tx_progress(struct engine *e, const struct seng_job *j, bool done);

/* engine_rounds.c: adaptive redundancy in rounds (engine_calc.h "adaptive rounds"). */
/* The frames of session s sent so far (its next N - 1). */
static inline uint32_t sent_of(const struct seng_session *s)
{
	return s->next_n > 0 ? s->next_n - 1 : 0;
}

/* A session still sending: not stopped, with devices that have not reported their block. */
static inline bool session_live(const struct seng_session *s)
{
	return !s->done && s->devices > 0 && s->pending > 0;
}

/* The wait for the answers after a round's status request, [engine] adaptive_wait_s or else the
 * feedback window of the job's devices (engine_round_pause_ms). */
uint64_t engine_round_wait_ms(const struct engine *e, const struct seng_job *j);
/* Whether every session is stopped (or has no device): nothing is left to send or to size. */
bool engine_sessions_over(const struct seng_session *ss, size_t n);
/* Sizes the first batch of each live session, and the next one after a round's wait (stored). */
int engine_rounds_size(struct engine *e, const struct seng_job *j, struct seng_session *ss,
                       size_t n_ss);
/* The end of the wait after the last status request of a round, or 0 when the session would end
 * before it is over. */
int64_t engine_round_wait_end(struct engine *e, const struct seng_job *j, int64_t on_air_end_ms,
                              int64_t session_end_ms);
/* No more status requests: each live session takes every row up to the cap. */
int engine_rounds_give_up(struct engine *e, const struct seng_job *j, struct seng_session *ss,
                          size_t n_ss);
/* Ends a round's wait now when no answer is left to come (stored). */
int engine_rounds_wait_answered(struct engine *e, struct seng_job *j, const struct seng_session *ss,
                                size_t n_ss, int64_t now_ms);

/* csr.c: the TS003 clock-sync responder. Answers every AppTimeReq of an uplink on port_clk. */
int csr_on_uplink(struct engine *e, const struct cs_uplink *u, int64_t now_ms);
/* ForceDeviceResyncReq with nb_transmissions to a device. */
int csr_force_resync(struct engine *e, const char *application_id, const char *dev_eui,
                     uint8_t nb_transmissions);
/* The reception time of an uplink in GPS ms: gateway GPS time, gateway time, then the network
 * server's time (u->time) or server_unix_ms. */
int64_t csr_rx_gps_ms(const struct cs_uplink *u, int64_t server_unix_ms);
/* How long the database's "no device waits for a resync" holds for the AppTimeReqs after it. */
#define CSR_RESYNC_CHECK_MS 1000
/* Whether an AppTimeReq at now_ms must look for a session request waiting for its resync
 * (seng_dev_resynced): when a resync may be waiting (any, as the database said at checked_ms or
 * since this engine forced one), or the database's word is older than CSR_RESYNC_CHECK_MS (or
 * from the future: the clock went back), or was never asked (checked_ms 0). *recheck: ask the
 * database first (seng_resync_waiting) and use its answer instead of any. */
bool csr_resync_lookup(bool any, int64_t checked_ms, int64_t now_ms, bool *recheck);

#endif
