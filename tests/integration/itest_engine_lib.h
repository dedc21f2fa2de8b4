/* What the itest_engine_* programs share: the state they work on, the job, database and engine
 * helpers (itest_engine_lib.c), the simulated devices and gateway with the fake clock and sink
 * (itest_engine_dev.c), and fuotad over the broker (itest_engine_e2e.c). */
#ifndef ITEST_ENGINE_LIB_H
#define ITEST_ENGINE_LIB_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "fuota/bytes.h"
#include "fuota/cbox.h"
#include "fuota/clk.h"
#include "fuota/cs_msg.h"
#include "fuota/engine.h"
#include "fuota/engine_calc.h"
#include "fuota/err.h"
#include "fuota/fmp.h"
#include "fuota/frag_cmd.h"
#include "fuota/frag_dec.h"
#include "fuota/lw_frame.h"
#include "fuota/lw_gps.h"
#include "fuota/mc.h"
#include "fuota/mc_keys.h"
#include "fuota/mc_session.h"
#include "fuota/mqtt.h"
#include "fuota/plan.h"
#include "fuota/store.h"
#include "itest.h"
#include "sim_dev.h"

#define MAX_DEVS  4096
#define MAX_FCNT  4096
#define GW_A      "a0a0a0a0a0a0a0a1"
#define GW_B      "b0b0b0b0b0b0b0b2"
#define APP_ID    "app-1"
#define FW_SIZE   1000
#define FRAG_SIZE 50

/* A device of the simulated world: fuota-sim's device model (m: tools/fuota-sim/sim_dev.h, the
 * same code fuota-sim plays its devices with; its knobs in m.cfg, see dev_setup), what the network
 * around it does (range, lost or held frames), and the model's state as last seen (dev_view),
 * which stays after fuotad deleted the session or group it describes. */
struct tdev {
	char eui[17];
	uint8_t key[16]; /* GenAppKey */
	int ts004;       /* TS004 version the device speaks */
	struct sim_dev m;
	struct sim_dev *impostor; /* dev_impostor: its DevEUI in "app-2" (NULL: none) */
	/* The network. */
	bool mute;             /* out of range: no downlink reaches it */
	bool in_range_b;       /* heard (and served) by gateway B instead of A */
	unsigned lost_reports; /* v2: its next FragDataBlockReceivedReq are lost on the air */
	unsigned lost_answers; /* its next answers to a multicast status request are lost */
	/* v2: its FragDataBlockReceivedReq reaches fuotad only after the session, just before its
	 * answer to the unicast FragSessionStatusReq (BlockAckDelay and class A timing). */
	bool report_late;
	bool report_after_status; /* with report_late: after that answer rather than before */
	uint8_t held_report[SIM_UL_MAX];
	size_t held_report_len;
	/* Its TS005 downlinks are kept, not received (the first one in held_dl), to be delivered
	 * late by the test (dev_downlink). */
	bool hold_down;
	uint8_t held_dl[64];
	size_t held_dl_len;
	int64_t reported_ms; /* v2: when its FragDataBlockReceivedReq reached fuotad (0: not) */
	size_t done_at;      /* gateway frames seen when its decoder finished (0: not yet) */
	/* The model as last seen: TS005 */
	bool has_group;
	uint32_t mc_addr;
	uint32_t session_time;
	uint8_t session_timeout; /* TimeOut of McClassX SessionReq */
	/* TS004 */
	bool has_session, had_session;
	struct frag_setup_req setup; /* of the last session set up */
	bool decoded;                /* it rebuilt the image of that session */
	bool mic_ok;                 /* v2: its rebuilt image passed the data-block MIC check */
	uint32_t lmn_counter;        /* LoRaMac-node's counter (SIM_MB_LORAMAC_NODE) */
	unsigned seen_setups, seen_images;
	/* What it got (struct sim_dev_counts). */
	unsigned frames, foreign, deletes, resyncs, time_answers, setup_reqs, status_reqs;
	unsigned mc_status_reqs, mc_status_other, upgrade_reqs, block_acks, version_reqs;
	int delete_index; /* FragIndex of the last FragSessionDeleteReq (-1: none) */
};

/* What a gateway frame carried (decoded with the group's keys as a device would). */
enum frame_kind { FRAME_OTHER, FRAME_DATA, FRAME_STATUS };
struct frame_info {
	enum frame_kind kind;
	int frag_index;
	uint32_t n;        /* DataFragment N */
	bool participants; /* FragSessionStatusReq: Participants bit */
};

/* A FragSessionStatusAns a device gave to the multicast request number `req` (1, 2, ...) of its
 * session, and when it reaches fuotad: a device answers after a delay within
 * 2^(BlockAckDelay + 4) s (TS004), in its next class A uplink. */
struct status_answer {
	size_t dev;
	int frag_index; /* the session asked about */
	bool not_exist; /* SessionDoesNotExist (a v2 device asked about another session) */
	unsigned req;
	uint32_t received, missing;
	int64_t due_ms;
	uint8_t data[16]; /* the uplink */
	size_t len;
	uint32_t frags_at; /* the device's session_frags when it answered */
};

#define MAX_ANSWERS 256

struct msg {
	const char *from; /* the publishing engine's tag */
	char topic[256];
	uint8_t *data;
	size_t len;
};

struct itest_engine_state {
	struct itest_env env;
	char dsn[512];
	struct store *store;
	int64_t now_ms;
	struct msg *msgs;
	size_t n_msgs, cap_msgs, next_msg;
	/* The sink's sequence numbers (fake_publish's *seq): msgs[i] has seq_base + i + 1, and
	 * the messages pumped (next_msg) count as acknowledged. */
	uint64_t seq_base;
	/* An MQTT client's outbox: with more than outbox_cap messages not pumped yet, a publish is
	 * refused (FUOTA_ERR_NO_SPACE, counted in outbox_refused); 0: no limit. */
	size_t outbox_cap;
	unsigned outbox_refused;
	struct tdev devs[MAX_DEVS];
	size_t n_devs;
	/* The target_version add_job_ex gives its jobs (has_target_version false: none). */
	bool has_target_version;
	uint32_t target_version;
	uint32_t reboot_in_s; /* its reboot_in_s (0: none) */
	char reboot_at[40];   /* its reboot_at ("": none) */
	uint32_t fcnts[MAX_FCNT];
	uint32_t frame_addr[MAX_FCNT];    /* McAddr of each gateway frame */
	const char *frame_from[MAX_FCNT]; /* which engine published it */
	int64_t frame_ms[MAX_FCNT];       /* when it reached the gateway */
	size_t n_fcnts;
	unsigned refuse_every, acks; /* refuse every k-th gateway frame (0: never) */
	unsigned vanish_at;          /* the gateway frame number k (1, 2, ...) never arrives: no
	                              * ack, not on air (lost on its way; 0: none) */
	unsigned refused;
	unsigned events_state, events_device, events_progress;
	int64_t watch_job;      /* state events of this job are counted apart (0: none) */
	unsigned watch_states;  /* how many */
	char watch_last_to[16]; /* the last one's "to" */
	json_t *last_progress;  /* the last progress event */
	bool class_b, gps_timing;
	bool adaptive_stream; /* adaptive parity back to back (else in rounds) */
	unsigned class_b_frames;
	int64_t last_gps_at_ms[2]; /* GPS time of the last class C frame booked per gateway */
	uint8_t firmware[FW_SIZE];
	int64_t firmware_id;
	int db_seq;
	/* End-to-end mode: fuotad runs the engine, the devices talk to it through the broker. */
	struct mqtt_client *mqtt;
	struct mqtt_queue *mq;
	struct itest_fuotad fd; /* running when fd.pid > 0 */
	bool gw_b_json;         /* gateway B speaks JSON (end-to-end mode) */
	unsigned gw_frames[2], gw_json_frames;
	/* Adaptive rounds. */
	struct frame_info frame_info[MAX_FCNT];
	unsigned mc_status[4]; /* multicast status requests seen per FragIndex */
	struct status_answer answers[MAX_ANSWERS];
	size_t n_answers, next_answer; /* answers[next_answer..] not delivered yet */
	size_t stop_after_answers;     /* run() returns once that many were delivered (0: no) */
	unsigned unicast_timeout_s;    /* of the jobs the rounds are checked for (5) */
	int tx_power_dbm; /* the jobs' tx_power_dbm (0: none, the frames carry 29 dBm) */
	/* Uplinks kept at the network server (their time set), not given to fuotad: read late
	 * by the test (feed_held). */
	bool hold_uplinks;
	struct cs_uplink held[8];
	size_t n_held;
};

/* The devices a session still waits for (as seng_sessions counts them). */
#define PENDING_SQL "SELECT count(*) FROM job_device WHERE step = 'session' AND NOT block_received"

extern const uint8_t master_key[32];
extern struct itest_engine_state T;
extern const char *argv_bin, *argv_env, *argv_dir;

int64_t fake_clock(void *ctx);

int fake_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, uint64_t *seq);

void msgs_clear(void);

int64_t true_gps_ms(void);

/* Sets d up as a registered-or-not device eui with GenAppKey key_byte, key_byte + 1, ...:
 * TS003 and TS005 v1, TS004 `ts004`, its clock set (clock_set), its answers due at once (the
 * world times them), one FragDataBlockReceivedReq, StartMissed in TS005 v1 as SWL2001, memory for
 * any session, the image's SHA-256 known. */
void dev_setup(struct tdev *d, const char *eui, uint8_t key_byte, int ts004);

struct tdev *dev_by_eui(const char *eui);

/* The device clock's error (device - true GPS), ms; and setting it. */
int64_t dev_offset_ms(const struct tdev *d);
void dev_set_offset(struct tdev *d, int64_t ms);

/* The state of the device's decoder (of its last session, after its deletion too). */
enum frag_dec_state dev_dec_state(const struct tdev *d);

/* Frees the devices' models; no device left. */
void devs_free(void);

/* The device takes sessions of at most max_frags fragments of FRAG_SIZE bytes. */
void dev_max_frags(struct tdev *d, uint32_t max_frags);

/* Every DevUpgradeImageReq to d is answered Valid by its DevEUI in application "app-2" too (an
 * impostor: the model with SIM_MB_TS006 | SIM_MB_CLAIM_VALID), before d itself. */
void dev_impostor(struct tdev *d);

void uplink(struct engine *e, const struct tdev *d, uint8_t port, const uint8_t *data, size_t len);
/* The same, as an uplink of application app (another application's device of that DevEUI). */
void uplink_app(struct engine *e, const struct tdev *d, const char *app, uint8_t port,
                const uint8_t *data, size_t len);

void send_ack(struct engine *e, const struct cs_gw_ack *a);

/* The device's application asks for the time (AppTimeReq, AnsRequired). */
void dev_app_time_req(struct engine *e, struct tdev *d);

/* A unicast downlink reaches the device: the model takes it, and what it answers goes up. */
void dev_downlink(struct engine *e, struct tdev *d, uint8_t port, const uint8_t *p, size_t len);

/* Delivers the status answers due by now (in the order given; their delays only spread them),
 * and what the devices send by themselves (the delayed AppTimeReq of a forced resync). A
 * device answers a multicast FragSessionStatusReq in its next uplink, 1 to 15 s later by its
 * place in the fleet (within 2^(BlockAckDelay + 4) s, TS004). */
void deliver_answers(struct engine *e);

/* The first answer not delivered yet is due at (INT64_MAX: none). */
int64_t answer_due(void);

/* What gateway frame i carries, decoded with the keys of a device of its group. */
void classify_frame(size_t i, const uint8_t *phy, size_t len);

void on_gateway_frame(struct engine *e, const char *topic, const uint8_t *data, size_t len,
                      const char *from);

/* Delivers every message published so far (and those the answers cause). */
void pump(struct engine *e);

void add_dev(const char *eui, uint8_t key_byte, int ts004);
/* The same, registered in region (add_dev: EU868). */
void add_dev_in(const char *eui, uint8_t key_byte, int ts004, const char *region);

int64_t json_id(const char *json);

int64_t add_job_ex(size_t first, size_t count, int redundancy, char mc_class, int periodicity);

int64_t add_job(size_t first, size_t count, int redundancy);

/* The API's pause, resume or cancel of job. */
void job_action(int64_t job, const char *action);

/* A new database with the firmware and no device. */
void fresh_db(void);

struct engine *new_engine_tag(const char *instance, bool duty_cycle, bool adaptive,
                              unsigned max_jobs);

struct engine *new_engine_ex(const char *instance, bool duty_cycle, bool adaptive);

struct engine *new_engine(const char *instance, bool duty_cycle);

char *job_get(int64_t id);

const char *job_state(int64_t id, char *out, size_t cap);

bool job_finished(int64_t id);

/* Runs the engine and the simulated world until the job ends or max_steps ticks passed.
 * stop_after_frames > 0: returns early once that many gateway frames were seen. */
void run(struct engine *e, int64_t job, unsigned max_steps, size_t stop_after_frames);

/* Ticks e for `seconds` of fake time, the devices' answers arriving meanwhile. */
void idle(struct engine *e, int seconds);

json_t *job_devices(int64_t id);

const char *dev_field(json_t *devs, const char *eui, const char *field);

void assert_image(const struct tdev *d);

/* FCnts of the gateway frames (one gateway per frame here): strictly increasing, so none is
 * reused and they went out in order (P15). */
void assert_fcnts_increase(void);

long long db_count(const char *sql);

/* A dead engine's lease runs out: by the database's clock, which the fake clock does not move. */
void lease_runs_out(void);

/* The job's plan as the API shows it (n_sessions 0: as it was made, "{}" here). A mixed job's
 * plan says what the engine runs: its sessions, their frames in all, and the TimeOut. */
void assert_plan_sessions(int64_t job, int n_sessions, int frames);

/* When the last answer of a device to multicast status request `req` of session frag_index
 * reached fuotad (0: none). */
int64_t last_answer_ms(int frag_index, unsigned req);

/* Whether, at at_ms, every device of session frag_index had told fuotad what request `req`
 * asks: it answered it (it still misses fragments) or it reported its block (v2). A device that
 * has the image but could not say so (v1, or its report lost) leaves an answer to come. */
bool no_answer_left(int frag_index, unsigned req, int64_t at_ms);

/* Adaptive rounds of session frag_index (TS004 version `version`, the job's own parity
 * `redundancy`), checked frame by frame against what the devices said: the uncoded fragments
 * and the first batch (engine_round_first at the engine's expected loss), then, after each
 * multicast FragSessionStatusReq (Participants = 0) and a wait of one feedback window (shorter
 * only when every device of the session answered it or reported its block), the batch
 * that the answers to that request call for (engine_round_next over exactly those answers; with
 * no answer a v1 session stops and a v2 one takes a small step; after ENGINE_ROUNDS_MAX requests
 * the rest up to the cap). A batch may end early only once every device of the session
 * reported its block (v2): then the session stops. Returns the status requests sent. */
unsigned check_rounds(int frag_index, int version, uint32_t redundancy);

/* Registers eui under tenant with a key sealed for that row; the store's answer. */
int register_eui(const char *eui, int64_t tenant);

/* The gateway ids GET /api/v1/gateways shows tenant, comma-separated, into out. */
const char *tenant_gateways(int64_t tenant, char *out, size_t cap);

/* Ticks e until the job is in part `part` (0-based; -1: any) and in `phase` (the tick that
 * changes it included), the devices' answers arriving on time. */
void run_to_part(struct engine *e, int64_t job, int part, const char *phase);
/* run_to_part in any part. */
void run_to_phase(struct engine *e, int64_t job, const char *phase);

void assert_all_done(int64_t job, size_t count);

/* Runs one statement that returns no rows on a connection of its own. */
void db_exec(const char *sql);

/* The uplinks the network server kept (T.hold_uplinks) reach fuotad now, as of application
 * app; then forgotten. */
void feed_held(struct engine *e, const char *app);

const char *dev_step(int64_t job, const char *eui, char *out, size_t cap);

/* Sets a registered device's stack (device.stack, as the REST API stores it). */
void set_stack(const char *eui, const char *stack);

/* Gateway frames of one kind (FRAME_DATA, FRAME_STATUS) so far. */
size_t frames_of(enum frame_kind kind);

/* The status answers device i gave so far. */
unsigned answers_of(size_t i);

/* The parity rows of the first batch, as the engine sizes it (default settings). */
uint32_t first_batch(uint32_t redundancy);

/* A fresh database with three v2 devices of one session, two of them losing frames (one of them
 * parity rows of the first batch too), in a job of parity 2 that an adaptive engine (*e) runs:
 * the frames sent follow the rounds the devices' answers call for. Returns the job. */
int64_t rounds_job(const char *eui_prefix, struct engine **e);

/* Runs job (rounds_job, 3 devices) until its first status request is on the air. */
void run_to_first_request(struct engine *e, int64_t job);

/* Runs job (rounds_job) to its first status request and pauses or cancels it (action) during the
 * wait: a minute passes, the answers come in, and nothing goes on the air. */
void action_in_wait(struct engine *e, int64_t job, const char *action);

/* Resumes the paused job (rounds_job) and runs it: it completes, every device has the image,
 * and the batches after the resume are those the answers call for. */
void resume_to_end(struct engine *e, int64_t job);

/* rounds_job with two devices missing fragments after the first batch (device 1's answer to the
 * status request comes 4 s after device 0's) and one that reported its block: runs to the first
 * frame after the request; *wait_ms: from the request to that frame, *answers_ms: from the
 * request to the last answer. lost: device 1's answer is lost on the air. */
void wait_after_request(const char *eui_prefix, bool lost, int64_t *wait_ms, int64_t *answers_ms);

/* The session a mixed job's devices were set up on: the v1 devices share one FragIndex, the v2
 * devices another. Returns the v1 index. */
int assert_two_sessions(size_t first, size_t count);

unsigned bits_set(uint32_t v);

long long session_frames(int frag_index);

int64_t realtime_ms(void);

/* Gateway B tells it speaks JSON with a stats message (as one does every 30 s), until fuotad
 * stored it: its first frame is JSON already. */
void gw_b_says_json(void);

/* The plan of an adaptive job made through the API: what the engine may do at most, and a
 * TimeOut that covers it, which is the one the devices were given. */
void assert_adaptive_plan(unsigned port, const char *token, int64_t job);

bool log_has(const char *path, const char *what);

/* Waits up to ms for db_count(sql) to return want. */
bool db_wait(const char *sql, long long want, int ms);

/* Plays the network and the gateways for a fuotad over the broker: every message it publishes,
 * tagged `tag`, until done() or the deadline (realtime ms) passes. */
void world_run(const char *tag, bool (*done)(int64_t), int64_t job, int64_t deadline);

bool four_frames(int64_t job);

/* The same for ms, whatever happens. */
void world_for(const char *tag, int64_t ms);

/* Starts fuotad (T.fd) with instance id `id` for the world of this test, logging to log. */
void lock_fuotad_start(const char *id, const char *log);

/* The test's own MQTT client: it is the network server and the gateway. */
void world_connect(void);

void mqtt_end_to_end(bool gw_b_json, bool adaptive);

/* An outage of this test's database, as fuotad sees a PostgreSQL restart: no connection
 * allowed and every one cut (down), or connections allowed again. */
void db_outage(bool down);

/* The messages fuotad's log says it handled again once the database was back. */
size_t replayed(const char *log);

/* McGroupSetupReq published by fuotad and not yet given to the devices. */
size_t setup_reqs_waiting(void);

/* Takes what the broker brought for `ms` (not given to the devices). */
void world_take(long ms);

/* The main of each itest_engine_* program: FUOTAD SERVICES_ENV [WORKDIR], ITEST_ONLY, the tests
 * run as the group `name`, then what they shared freed. */
int itest_engine_main(int argc, char **argv, const char *name, const struct CMUnitTest *tests,
                      size_t n);

#endif
