/* Job parameters (as decoded from a request) and the job plan computed from them: fragment size
 * from the data rate's maximum payload, fragment and parity counts, the multicast timeout exponent,
 * time on air and duration. Pure: no I/O, no allocation. */
#ifndef FUOTA_PLAN_H
#define FUOTA_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/api_error.h"

/* TS004: DataFragment's index N is 14 bits, so one session carries at most 16383 frames
 * (uncoded fragments and parity together). */
#define PLAN_MAX_FRAMES 16383u
#define PLAN_DEVEUI_LEN 16u

struct job_params {
	char name[201];
	int64_t firmware_id;  /* 0 when the firmware comes with the request (multipart "file") */
	char image_field[16]; /* the request field errors about the image name: "firmware_id",
	                         "file" or "firmware_size" ("" = "firmware_id") */
	char region[16];
	unsigned data_rate;
	uint64_t frequency_hz;
	unsigned fragment_size; /* 0: the largest the data rate carries */
	int redundancy_frames;  /* -1 unless given */
	int redundancy_percent; /* -1 unless given */
	unsigned unicast_timeout_s;
	unsigned unicast_attempts;
	char multicast_class;         /* 'B' or 'C' */
	unsigned multicast_timeout_s; /* 0: computed */
	int ping_slot_periodicity;    /* class B: 0..7, -1 unless given */
	bool has_tx_power;            /* tx_power_dbm given (else: the sub-band's maximum) */
	int tx_power_dbm;             /* EIRP of the multicast frames, at most the sub-band's */
	char start_at[40];            /* RFC 3339 or "" */
	bool keep_multicast_group;    /* no McGroupDeleteReq to the verified (fuota/mc_reuse.h) */
	bool has_target_version;      /* target_version given: TS006 devices asked DevVersionReq */
	uint32_t target_version;      /* the image's FW_version (TS006 DevVersionAns) */
	uint32_t reboot_in_s; /* TS006 DevRebootCountdownReq after the clean-up (0: no reboot) */
	char reboot_at[40];   /* or DevRebootTimeReq at this RFC 3339 time ("": none) */
	uint32_t part_frag_limit; /* the most fragments a part may have: the smallest max_frags of
	                             the devices that take parts (plan_part_limit), 0: none */
	size_t n_devices;
	char (*dev_euis)[PLAN_DEVEUI_LEN + 1]; /* n_devices lowercase DevEUIs, sorted, owned by
	                                          whoever decoded them (job_params_free) */
};

struct job_plan {
	unsigned max_payload;   /* N of the data rate (FRMPayload bytes) */
	unsigned fragment_size; /* bytes of firmware per DataFragment */
	unsigned nb_frag;       /* uncoded fragments of the whole image */
	unsigned padding;       /* bytes added to the last fragment (of the last part) */
	unsigned redundancy;    /* parity frames, every part's together */
	unsigned total_frames;  /* nb_frag + redundancy */
	unsigned sessions;      /* 1: one session at a time (see parts) */
	/* The image in parts (fuota/plan_parts.h), one fragmentation session and one multicast
	 * session after the other; parts 1: the whole image in one session. */
	unsigned parts;            /* P, 1..255 */
	unsigned part_frags;       /* F: fragments of every part but the last */
	unsigned last_part_frags;  /* fragments of the last part */
	unsigned part_parity;      /* parity frames of a part of F fragments */
	unsigned last_part_parity; /* parity frames of the last part */
	unsigned mc_timeout_exp;   /* the TS005 TimeOut field, of every part's session */
	uint64_t mc_timeout_s;     /* 2^exp s (class C) or 128 * 2^exp s (class B) */
	uint64_t frame_airtime_us; /* one DataFragment frame on air */
	uint64_t total_airtime_ms; /* every frame of every part */
	double duty_cycle;         /* of the sub-band the frequency falls in (1.0 = none) */
	int tx_power_dbm;          /* EIRP the frames go out at (lw_region_tx_power_dbm) */
	uint64_t multicast_s; /* time to send every frame, paced by duty cycle or ping slots, the
	                         parts' sessions summed */
	uint64_t unicast_s;   /* unicast steps: 3 (4 with a target_version, 2 more with a reboot),
	                       * 2 more per part after the first (FragSessionSetupReq and the
	                       * McClassXSessionReq) * attempts * timeout, worst case */
	uint64_t duration_s;  /* unicast steps + parts * multicast TimeOut (+ reboot_in_s) */
	uint64_t frame_interval_us; /* one frame's airtime stretched by the sub-band's duty cycle */
	/* Adaptive redundancy (plan_compute_adaptive; all 0 otherwise). total_frames stays the
	 * minimum (fragments + the job's parity); the session may send up to max_frames. With
	 * parts, max_parity, max_frames, max_rounds and worst_case_s are those of one part of F
	 * fragments (the cap is per part); multicast_s sums every part's worst case. */
	bool adaptive;
	bool rounds;           /* in rounds: a status request and a wait after each batch */
	unsigned max_parity;   /* parity frames at most (the cap) */
	unsigned max_frames;   /* nb_frag + max_parity */
	unsigned max_rounds;   /* status requests (and waits) at most; 0 in stream mode */
	uint64_t round_wait_s; /* the wait for the answers after each request */
	uint64_t worst_case_s; /* every frame up to the cap plus every round's request and wait;
	                          multicast_s and the TimeOut cover it (unless the request set a
	                          shorter multicast_timeout_s, or it exceeds TS005's longest) */
};

/* Adaptive redundancy as fuotad's engine runs it: [engine] adaptive_redundancy, adaptive_mode,
 * adaptive_wait_s. The engine's defaults use the same constants, so that a job's plan and what
 * the engine does agree. */
#define PLAN_ADAPTIVE_CAP_PERCENT 100u /* parity frames at most, % of the fragments */
#define PLAN_ADAPTIVE_ROUNDS      6u   /* multicast status requests (and waits) at most */
#define PLAN_BLOCK_ACK_DELAY      0u   /* TS004 BlockAckDelay of the sessions fuotad sets up */
struct plan_adaptive {
	bool on;
	bool rounds;     /* adaptive_mode = rounds (false: stream, parity back to back) */
	unsigned wait_s; /* the wait after a request; 0: plan_round_wait_s's default */
};

/* The wait for the answers after a round's status request: wait_s, or when 0 the feedback
 * window of a TS004 device, 2^(BlockAckDelay + 4) s, plus the unicast timeout. */
uint64_t plan_round_wait_s(unsigned wait_s, unsigned unicast_timeout_s);

/* plan_compute, then for adaptive redundancy (a->on; a may be NULL: as plan_compute) what the
 * session may send at most and how long that may take: max_frames, max_rounds, round_wait_s,
 * worst_case_s; multicast_duration, TimeOut and duration are those of the worst case, so that a
 * job created from the plan gets a session long enough for its rounds (a TimeOut the request
 * gave is kept: the engine then waits only as long as the session lasts). */
int plan_compute_adaptive(const struct job_params *p, size_t firmware_size,
                          const struct plan_adaptive *a, struct job_plan *out, struct api_error *e);

/* Computes the plan for an image of firmware_size bytes. Returns FUOTA_OK, or
 * FUOTA_ERR_INVALID_ARG with e naming the field (unknown region, data rate not in the region,
 * frequency outside its bands, a fragment size the data rate cannot carry, an image that more
 * than 255 parts could not carry (fuota/plan_parts.h), a multicast timeout too short for a
 * part's frames, class B without periodicity, a tx_power_dbm above what the frequency's
 * sub-band allows ...). */
int plan_compute(const struct job_params *p, size_t firmware_size, struct job_plan *out,
                 struct api_error *e);

void job_params_init(struct job_params *p);
/* true when the job orders a TS006 reboot after the clean-up (reboot_in_s or reboot_at). */
bool plan_reboots(const struct job_params *p);
/* Whether a job's reboot_at (reboot_at_ms, Unix ms; 0: none) falls before its estimated end,
 * start_ms plus duration_s (the plan's estimated_duration_s, the worst case), and by how many
 * seconds (*early_s, rounded up). A device that gets its image after reboot_at is rebooted at
 * once, not at that time (engine_reboot_late): the plan warns the operator (reboot_before_end). */
bool plan_reboot_early(int64_t reboot_at_ms, int64_t start_ms, uint64_t duration_s,
                       int64_t *early_s);
/* The reboot_before_end warning's message (the engine's at start, POST /jobs:plan's before). */
#define PLAN_REBOOT_EARLY_MSG                                                                 \
	"reboot_at falls before the job's estimated end: a device that gets the image after " \
	"reboot_at is rebooted at once, not at that time"
/* A device's memory limit against the plan (issue 16): the most uncoded fragments a device of
 * `stack` ("ts004", "loramac-node", "lbm"; NULL: ts004) with max_frags (0: unknown) takes, when
 * nb_frag (a part's fragments, for a job in parts) is above it, else 0 (no limit known, or within
 * it). LoRa Basics Modem's default build takes 100 and refuses more with NotEnoughMemory. */
uint32_t plan_frag_limit_exceeded(unsigned nb_frag, const char *stack, int64_t max_frags);

/* Frees p->dev_euis (p itself is the caller's). NULL is accepted. */
void job_params_free(struct job_params *p);

#endif
