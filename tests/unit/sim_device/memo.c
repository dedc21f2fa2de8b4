/* fuota-sim's shared multicast work (sim_mc_cache): a frame is checked and decrypted once per
 * group's keys, whatever the number of devices and of gateways they hear it through, and each
 * device counts what it did before: one frame taken, the other copies duplicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/lw_frame.h"
#include "sim_dev.h"
#include "fixture.h"

#define FREQ 869525000u

/* Frame n (FCnt n - 1) through gws gateways to device d at t; what each copy returned must be
 * FUOTA_OK. */
static void hear(struct sim_dev *d, const struct session *ss, uint32_t n, int gws, int64_t t)
{
	uint8_t phy[LW_PHY_MAX_LEN];
	size_t len = mc_frame(ss, 2, n, n - 1, MC_APP_S_KEY, MC_NWK_S_KEY, phy);
	for (int g = 0; g < gws; g++)
		assert_int_equal(sim_dev_multicast_air(d, t, t, FREQ, phy, len), FUOTA_OK);
}

static void check_counts(const struct sim_dev *d, int64_t t, uint32_t frames, uint32_t dups)
{
	struct sim_dev_report r;
	sim_dev_get_report(d, t, &r);
	assert_int_equal(r.mc_frames, frames + dups);
	assert_int_equal(r.mc_accepted, frames);
	assert_int_equal(r.duplicates, dups);
	assert_int_equal(r.fragments, frames);
	assert_int_equal(r.mic_failures, 0);
}

void test_memo_three_gateways(void **state)
{
	(void)state;
	static struct sim_mc_cache cache;
	memset(&cache, 0, sizeof(cache));
	struct fixture a, b, plain;
	fixture_session(&a, 2, 1000, false);
	fixture_session(&b, 2, 1000, false);
	fixture_session(&plain, 2, 1000, false);
	a.d.mc_cache = b.d.mc_cache = &cache; /* plain checks and decrypts on its own */
	int64_t t = a.start + 1500;

	/* Frame 1 through 3 gateways to a: one MIC, one decryption, taken once, 2 duplicates. */
	hear(&a.d, &a.ss, 1, 3, t);
	assert_int_equal(cache.mic_checks, 1);
	assert_int_equal(cache.decryptions, 1);
	check_counts(&a.d, t, 1, 2);
	/* The same frame to b, a device of the same group: nothing computed again. */
	hear(&b.d, &b.ss, 1, 3, t);
	assert_int_equal(cache.mic_checks, 1);
	assert_int_equal(cache.decryptions, 1);
	assert_int_equal(cache.hits, 1);
	check_counts(&b.d, t, 1, 2);
	/* Counted as a device without the cache counts them. */
	hear(&plain.d, &plain.ss, 1, 3, t);
	check_counts(&plain.d, t, 1, 2);

	/* The next frame: one more of each. */
	hear(&a.d, &a.ss, 2, 3, t + 250);
	hear(&b.d, &b.ss, 2, 1, t + 250);
	assert_int_equal(cache.mic_checks, 2);
	assert_int_equal(cache.decryptions, 2);
	check_counts(&a.d, t + 250, 2, 4);
	check_counts(&b.d, t + 250, 2, 2);
	fixture_free(&a);
	fixture_free(&b);
	fixture_free(&plain);
}

/* A device holding other keys (a wrong root key) does not take the frame because another device
 * of the group did: its MIC is checked with its own keys. */
void test_memo_other_keys(void **state)
{
	(void)state;
	static struct sim_mc_cache cache;
	memset(&cache, 0, sizeof(cache));
	struct fixture a, wrong;
	fixture_session(&a, 2, 1000, false);
	fixture_session(&wrong, 2, 1000, false);
	a.d.mc_cache = wrong.d.mc_cache = &cache;
	wrong.d.groups[0].nwk_s_key[0] ^= 1;
	int64_t t = a.start + 1500;
	hear(&a.d, &a.ss, 1, 1, t);
	uint8_t phy[LW_PHY_MAX_LEN];
	size_t len = mc_frame(&a.ss, 2, 1, 0, MC_APP_S_KEY, MC_NWK_S_KEY, phy);
	assert_int_equal(sim_dev_multicast_air(&wrong.d, t, t, FREQ, phy, len),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(cache.mic_checks, 2);
	assert_int_equal(cache.decryptions, 1);
	struct sim_dev_report r;
	sim_dev_get_report(&wrong.d, t, &r);
	assert_int_equal(r.mic_failures, 1);
	assert_int_equal(r.mc_accepted, 0);
	fixture_free(&a);
	fixture_free(&wrong);
}
