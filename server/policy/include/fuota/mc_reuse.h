/* Reuse a multicast group across jobs (issue 14, ChirpStack issue 1030). A job with
 * keep_multicast_group leaves its group on the devices that verified the image (no
 * McGroupDeleteReq) and the store records which group each of them holds. A later job whose
 * devices hold a group reuses it: those devices skip McGroupSetupReq, the others are set up in
 * the same group (same McAddr and McKey), and the group's one downlink counter goes on above the
 * last FCnt used, so no device ever sees a multicast FCnt twice (TS005: a device rejects frames
 * outside [minMcFCount, maxMcFCount] and replays). Pure: the store reads the facts, the engine
 * asks here and acts. */
#ifndef FUOTA_MC_REUSE_H
#define FUOTA_MC_REUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A group some devices of a starting job hold (the store's facts). */
struct mc_reuse_group {
	int64_t id;     /* multicast_group id, > 0 */
	size_t holders; /* devices of the starting job that hold it */
	bool busy;      /* a pending, running or paused job uses it: its counter and session are
	                   taken */
	bool key_ok;    /* its McKey box can still be opened (the job that sealed it is known) */
	uint32_t fcnt;  /* the next FCnt of the group (one above the last used) */
};

/* How long a kept group is trusted by default ([engine] keep_group_max_age_s): 30 days. */
#define MC_REUSE_MAX_AGE_S (30u * 86400u)

/* A device that kept a group at kept_ms (Unix ms) still holds it, as far as the engine
 * trusts, when kept_ms is after the time this returns for a job starting at now_ms: devices
 * reboot, lose or age their groups (a device's McGroupSetupReq state need not survive a power
 * cycle), and a stale record would make the job skip McGroupSetupReq for a device that no
 * longer has the group, failing it at the session (or costing a McGroupUndefined round trip).
 * Older records are set up again. max_age_s 0 is taken as MC_REUSE_MAX_AGE_S. */
int64_t mc_reuse_kept_after_ms(int64_t now_ms, uint32_t max_age_s);

/* The group a starting job of n_devices devices reuses among the n groups its devices hold:
 * the one most of them hold (ties: the higher id, the most recent), provided it is not busy,
 * its key can be opened and its counter has room left. 0: none, the job sets up a fresh
 * group. */
int64_t mc_reuse_pick(const struct mc_reuse_group *g, size_t n);

enum mc_reuse_step {
	MC_REUSE_SETUP = 0, /* send McGroupSetupReq */
	MC_REUSE_SKIP,      /* the device holds the job's group: go on to FragSessionSetupReq */
};

/* A device's first multicast step in a job whose group is job_group: held_group is the group
 * the device holds (0: none or unknown), job_reuses whether job_group was reused from an
 * earlier job (a fresh group is never held). */
enum mc_reuse_step mc_reuse_device(int64_t held_group, int64_t job_group, bool job_reuses);

/* minMcFCount of a McGroupSetupReq for the job's group: 0 for a fresh group, else the group's
 * next FCnt (frames of the earlier jobs must not be accepted again). */
uint32_t mc_reuse_min_fcnt(bool job_reuses, uint32_t group_fcnt);

/* A device answered McClass{B,C}SessionAns with McGroupUndefined: true when it is to be set up
 * in full (it skipped McGroupSetupReq on the store's word, and has not yet fallen back in this
 * job: fell_back), false when the answer fails it as before. */
bool mc_reuse_fall_back(bool skipped_setup, bool fell_back);

/* The unicast frames reuse saves a job: one McGroupSetupReq per device that skips it, and, when
 * the job keeps its group, one McGroupDeleteReq per device that will hold it. */
uint64_t mc_reuse_frames_saved(uint64_t n_skipped, uint64_t n_kept);

#endif
