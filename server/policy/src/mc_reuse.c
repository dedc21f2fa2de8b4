/* Which multicast group a job reuses and which devices skip McGroupSetupReq
 * (fuota/mc_reuse.h). */
#include "fuota/mc_reuse.h"

/* A group whose counter is this close to 2^32 is not reused: a job of many frames would run
 * out of FCnts in the middle (a multicast frame needs one FCnt, resent frames another). */
#define MC_REUSE_FCNT_ROOM (1u << 20)

static bool usable(const struct mc_reuse_group *g)
{
	return g->id > 0 && g->holders > 0 && !g->busy && g->key_ok &&
	       g->fcnt < UINT32_MAX - MC_REUSE_FCNT_ROOM;
}

int64_t mc_reuse_kept_after_ms(int64_t now_ms, uint32_t max_age_s)
{
	return now_ms - (int64_t)(max_age_s ? max_age_s : MC_REUSE_MAX_AGE_S) * 1000;
}

int64_t mc_reuse_pick(const struct mc_reuse_group *g, size_t n)
{
	const struct mc_reuse_group *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!usable(&g[i]))
			continue;
		if (!best || g[i].holders > best->holders ||
		    (g[i].holders == best->holders && g[i].id > best->id))
			best = &g[i];
	}
	return best ? best->id : 0;
}

enum mc_reuse_step mc_reuse_device(int64_t held_group, int64_t job_group, bool job_reuses)
{
	if (job_reuses && held_group > 0 && held_group == job_group)
		return MC_REUSE_SKIP;
	return MC_REUSE_SETUP;
}

uint32_t mc_reuse_min_fcnt(bool job_reuses, uint32_t group_fcnt)
{
	return job_reuses ? group_fcnt : 0;
}

bool mc_reuse_fall_back(bool skipped_setup, bool fell_back)
{
	return skipped_setup && !fell_back;
}

uint64_t mc_reuse_frames_saved(uint64_t n_skipped, uint64_t n_kept)
{
	return n_skipped + n_kept;
}
