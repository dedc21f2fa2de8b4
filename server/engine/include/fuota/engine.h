/* fuotad's job engine: what makes a firmware image reach every device of a job over multicast and
 * every device prove it has the exact image (ARCHITECTURE.md "The job engine").
 *
 * A state machine over the store (PostgreSQL), with no MQTT inside: it reads a clock, writes its
 * messages to an outbound sink publish(topic, payload, len), and is driven by three calls:
 *   engine_on_uplink  an application uplink (cs_uplink): TS003 clock sync answered for every
 *                     device, TS005/TS004 answers applied to the device's job;
 *   engine_on_ack     a gateway's DownlinkTxAck: a refused multicast frame is sent again later;
 *   engine_tick       acts on every stored deadline that is due: unicast retries, session start,
 *                     multicast frames paced by duty cycle, status rounds, clean-up.
 * Every transition is written to the database before the message it causes is published, and
 * every wait is a stored deadline, so an engine destroyed at any instant and created again on the
 * same database (in this process or another) continues every job without reusing an FCnt, a McKey
 * or a SessionCnt. Several engines share the jobs through a lease on the job row
 * (lease_owner/lease_until, claimed with FOR UPDATE SKIP LOCKED); uplinks and acks may arrive at
 * any of them.
 *
 * Thread safety: every entry point takes the engine's mutex, so the MQTT callback thread and a
 * ticker thread may call in at the same time. */
#ifndef FUOTA_ENGINE_H
#define FUOTA_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct cs_uplink;
struct cs_gw_ack;
struct engine;

/* Publishes one message; returns FUOTA_OK or a negative enum fuota_err (the engine logs it and
 * relies on its stored deadlines to try again). The payload is only borrowed for the call. On
 * FUOTA_OK *seq receives the message's place in the sink's outbox (mqtt_publish_seq: ascending,
 * compared with what engine_outbox_acked is told), UINT64_MAX when the sink cannot say yet. */
typedef int (*engine_publish_fn)(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                                 uint64_t *seq);
/* Wall-clock time in Unix milliseconds (the engine turns it into GPS time for the devices). */
typedef int64_t (*engine_clock_unix_ms_fn)(void *ctx);

#define ENGINE_MAX_REGIONS 8

/* Per-region settings of the gateway side. */
struct engine_region_cfg {
	char name[16];         /* "EU868" ... (case-insensitive match with job.region) */
	char topic_prefix[64]; /* "{prefix}/gateway/{id}/command/down"; default: lowercase name */
	bool duty_cycle;       /* enforce the sub-band duty cycle (off: a fast simulated demo) */
};

struct engine_cfg {
	char instance_id[64];   /* lease owner name, unique per running engine */
	uint8_t master_key[32]; /* opens device key boxes and seals McKeys (cbox.h) */
	bool json;              /* unicast downlinks as JSON (default) or binary protobuf */
	char event_prefix[64];  /* "fuota": fuota/{tenant}/job/{id}/event/{kind} */
	char app_topic[64];     /* "application": {app_topic}/{app}/device/{eui}/command/down */
	struct engine_region_cfg regions[ENGINE_MAX_REGIONS];
	size_t n_regions; /* a region not listed: prefix = lowercase name, duty cycle on */
	bool gps_timing;  /* class C frames timed at their GPS instant (else immediately) */
	uint8_t port_mc, port_frag, port_clk; /* 200, 201, 202 */
	uint8_t port_fmp;                     /* 203: TS006, the check of an unconfirmed device */
	uint32_t lease_ms;                    /* 30000 */
	uint32_t session_margin_ms;           /* added to the session start: 5000 */
	uint32_t frame_margin_ms;             /* gap between frames beyond the duty cycle: 250 */
	uint32_t ack_timeout_ms;              /* a frame without ack is taken as sent: 10000 */
	uint32_t clock_tolerance_s;           /* TimeToStart agreement: 3 */
	uint8_t block_ack_delay;              /* TS004 BlockAckDelay: 0 */
	bool adaptive;                        /* adaptive redundancy for every job */
	uint32_t adaptive_cap_percent;        /* parity cap, % of M: 100 */
	/* Adaptive: false (default) sends parity in rounds, a batch then a wait for the devices'
	 * reports (engine_round_first / engine_round_next in fuota/engine_calc.h): fewer frames,
	 * more wall time; true streams parity back to back until every device reported (overshoots
	 * by one feedback delay of frames). */
	bool adaptive_stream;
	uint32_t adaptive_loss_percent; /* rounds: expected loss sizing the first batch: 10 */
	uint32_t adaptive_step_percent; /* rounds: the batch of a v2 session whose waiting
	                                 * devices did not answer, % of M: 3 */
	uint32_t adaptive_pause_ms; /* rounds: the wait after a batch; 0: 2^(BlockAckDelay + 4) s
	                             * plus the job's unicast timeout */
	uint32_t max_jobs_per_tick; /* 32 */
	/* A group kept on a device (keep_multicast_group) is reused for at most this long after
	 * it was kept (mc_reuse_kept_after_ms): 30 days, MC_REUSE_MAX_AGE_S */
	uint32_t keep_group_max_age_s;
	/* DownlinkFrames to a gateway never heard from in JSON (else protobuf, the default); a
	 * gateway heard from gets them in its own encoding (engine_mqtt.c). */
	bool gw_json;
};

/* The defaults listed above, instance_id "fuotad-<pid>", master key zero. */
void engine_cfg_defaults(struct engine_cfg *c);

/* Creates an engine over store (borrowed, must outlive it). clock and publish are called with
 * their ctx. Returns FUOTA_OK, FUOTA_ERR_INVALID_ARG (NULL pointer) or FUOTA_ERR_NO_MEMORY. */
int engine_create(struct store *store, const struct engine_cfg *cfg, engine_clock_unix_ms_fn clock,
                  void *clock_ctx, engine_publish_fn publish, void *publish_ctx,
                  struct engine **out);

/* Stops using the store and frees the engine; NULL accepted. Leases are released so another
 * engine continues at once. */
void engine_destroy(struct engine *e);

/* An application uplink. Port 202: every AppTimeReq is answered (devices in a job or not) and a
 * PackageVersionAns recorded; ports 200 and 201: answers applied to the device's running job.
 * Every uplink's rx_info updates the device -> gateway table. Returns FUOTA_OK (also for
 * uplinks fuotad has nothing to do with), FUOTA_ERR_MALFORMED for a payload that does not
 * decode (logged; nothing changes), FUOTA_ERR_IO when the database failed (FUOTA_ERR_UNAVAILABLE
 * when it could not be reached). */
int engine_on_uplink(struct engine *e, const struct cs_uplink *u);

/* The caller hears uplinks again after it could not (a reconnection to the broker): answers sent
 * before now_unix_ms may be lost. engine_create counts as such a moment. A TS004 v1 round that
 * nobody answered is then not taken as "every device has the image" (fuota/round_wait.h): the
 * session sends a small batch and asks again. NULL e accepted. */
void engine_uplinks_resumed(struct engine *e, int64_t now_unix_ms);

/* How many messages wait: inbound ones for the engine (the caller's queue) and outbound ones not
 * yet handed to the broker (the MQTT client's outbox). While more than 2,000 wait, no unicast
 * request is sent (by a tick or right after an answer): their answers would only queue behind
 * the ones waiting, a full outbox refuses them, and a class A device takes a request at its next
 * uplink anyway (the deadline counts from the delivery). Multicast frames are not held back. */
void engine_set_backlog(struct engine *e, size_t waiting);

/* Every message of the sink numbered at or below acked_seq (engine_publish_fn's *seq) has
 * reached the broker (mqtt_status.acked_seq). A cancelled job's deletes (FragSessionDeleteReq,
 * McGroupDeleteReq) are owed in the database until then, not only until the client accepted
 * them: a fuotad killed with them in its outbox sends them again after its restart. Each
 * device's row is cleared once acked_seq reaches its last delete, however busy the outbox.
 * NULL e accepted. */
void engine_outbox_acked(struct engine *e, uint64_t acked_seq);

/* The number acked_seq must reach for every delete published so far to be acknowledged (0:
 * none is waiting), e.g. for a clean stop to wait for before engine_destroy. NULL e: 0. */
uint64_t engine_outbox_owed_seq(struct engine *e);

/* The server process id of the session holding the engine's instance lock (store_lock_pid):
 * every claim, lease release, frame and phase change is written only while that session holds
 * it (struct seng_lease). 0, the default: no instance lock, not checked (tests); -1: the lock
 * is lost, nothing goes through. */
void engine_set_lock_pid(struct engine *e, int pid);

/* A gateway's DownlinkTxAck for a multicast frame fuotad sent. Not OK: the frame is queued to go
 * again through that gateway (with a new FCnt). Unknown downlink ids are ignored. */
int engine_on_ack(struct engine *e, const struct cs_gw_ack *a);

/* Acts on every due deadline of the jobs this engine leases (claiming free or expired ones) at
 * now_unix_ms. *next_due_ms (may be NULL) receives when to call again at the latest. Returns
 * FUOTA_OK, FUOTA_ERR_IO (the database failed) or FUOTA_ERR_UNAVAILABLE (it cannot be reached). */
int engine_tick(struct engine *e, int64_t now_unix_ms, int64_t *next_due_ms);

/* Inbound messages handled in one database transaction (engine_mqtt.c's batches; engine_seen.c):
 * between engine_batch_begin and engine_batch_end the engine notes what each message changes in
 * its memory. engine_batch_mark is where a message starts; engine_batch_undo(e, mark) takes back
 * what was changed since (the message's database work was undone; mark 0: the whole batch,
 * whose commit failed), so that nothing the database does not hold stays in memory: the
 * requests it sent (not published after all) and the deadlines it stored, and the job rows and
 * FragIndexes read while it was open are read again. What the radio did (an uplink heard, its
 * gateways, a queued downlink delivered) stays. NULL e accepted. */
void engine_batch_begin(struct engine *e);
size_t engine_batch_mark(struct engine *e);
void engine_batch_undo(struct engine *e, size_t mark);
void engine_batch_end(struct engine *e);

#endif
