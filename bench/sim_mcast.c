/* fuota-bench-sim-mcast: what fuota-sim spends delivering one multicast frame to every device in
 * range of a gateway. N devices (fuota_simdev, set up through the sim_device tests' fixture for
 * one class C session) each hear F DataFragment frames through C gateways, as sim_air.c's
 * deliver() hands them over; prints the time per frame and per device copy.
 *
 *   fuota-bench-sim-mcast [N [F [C [S]]]]
 *
 * Defaults: 10000 devices, 20 frames, 1 gateway, S = 1: the devices share fuota-sim's
 * sim_mc_cache (each frame checked and decrypted once per group); S = 0: each device checks and
 * decrypts on its own, as fuota-sim did before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/lw_frame.h"
#include "sim_dev.h"
#include "fixture.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long arg(int argc, char **argv, int i, unsigned long def)
{
	return argc > i ? strtoul(argv[i], NULL, 10) : def;
}

int main(int argc, char **argv)
{
	size_t n = arg(argc, argv, 1, 10000), frames = arg(argc, argv, 2, 20),
	       copies = arg(argc, argv, 3, 1), shared = arg(argc, argv, 4, 1);
	static struct sim_mc_cache cache;
	if (!n || !frames || !copies || frames > 60) {
		fprintf(stderr, "usage: %s [devices [frames (1-60) [gateways]]]\n", argv[0]);
		return 2;
	}
	struct session ss;
	make_image(&ss, 16384, 238); /* the scale bench's image: M = 69 */
	struct sim_dev_cfg c = base_cfg(2);
	struct sim_dev *d = calloc(n, sizeof(*d));
	if (!d)
		return 1;
	double t0 = now_s();
	int64_t start = 0;
	for (size_t i = 0; i < n; i++) {
		c.dev_eui = 0x70b3d57ed0000001ull + i;
		c.seed = 42 + i;
		dev_init(&d[i], &c);
		d[i].mc_cache = shared ? &cache : NULL;
		start = setup_all(&d[i], &ss, 2, false);
	}
	double t1 = now_s();
	uint64_t accepted = 0, other = 0;
	double spent = 0;
	for (size_t k = 0; k < frames; k++) {
		uint8_t phy[LW_PHY_MAX_LEN];
		size_t len = mc_frame(&ss, 2, (uint32_t)k + 1, (uint32_t)k, MC_APP_S_KEY,
		                      MC_NWK_S_KEY, phy);
		int64_t t = start + 1000 + (int64_t)k * 250;
		double a = now_s();
		for (size_t g = 0; g < copies; g++)
			for (size_t i = 0; i < n; i++)
				if (sim_dev_multicast_air(&d[i], t, t, 869525000, phy, len) ==
				    FUOTA_OK)
					accepted++;
				else
					other++;
		spent += now_s() - a;
	}
	/* The fleet's timers, which fuota-sim's loop runs every SIM_TICK_MS (100 ms) besides. */
	double a = now_s();
	int64_t t_end = start + 1000 + (int64_t)frames * 250;
	for (int k = 0; k < 10; k++)
		for (size_t i = 0; i < n; i++)
			sim_dev_tick(&d[i], t_end + k * 100);
	double tick_ms = (now_s() - a) * 1000 / 10;
	uint64_t dups = 0;
	for (size_t i = 0; i < n; i++)
		dups += d[i].rep.duplicates;
	printf("devices %zu, frames %zu, gateways %zu, %s: setup %.2f s; delivery %.1f ms/frame, "
	       "%.2f us per device copy; taken %llu (duplicates %llu), refused %llu\n",
	       n, frames, copies, shared ? "shared" : "per device", t1 - t0,
	       spent * 1000 / (double)frames, spent * 1e6 / (double)(frames * copies * n),
	       (unsigned long long)accepted, (unsigned long long)dups, (unsigned long long)other);
	if (shared)
		printf("  MICs computed %llu, decryptions %llu\n",
		       (unsigned long long)cache.mic_checks, (unsigned long long)cache.decryptions);
	printf("  the fleet's timers (sim_dev_tick of every device): %.1f ms\n", tick_ms);
	for (size_t i = 0; i < n; i++)
		sim_dev_free(&d[i]);
	free(d);
	free(ss.image);
	return 0;
}
