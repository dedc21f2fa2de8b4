/* Time on air. Expected values are worked out by hand from the Semtech formula (comments show
 * the symbol counts) and agree with the widely used LoRaWAN airtime calculators (e.g. 51-byte
 * FRMPayload: SF12/125 2793.5 ms, SF11/125 1560.6 ms, SF7/125 118.0 ms). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/lw_airtime.h"
#include "fuota/lw_region.h"

struct airtime_vector {
	const char *region;
	unsigned dr;
	size_t phy_len;
	int downlink;
	uint64_t us;
};

static const struct airtime_vector vectors[] = {
        /* SF12/125, Tsym 32768 us, LDRO: ceil((512-48+28+16)/40)=13 -> 8+65=73 symbols,
         * + 12.25 preamble = 85.25 symbols. Without CRC: ceil(492/40) = 13 as well. */
        {"EU868", 0, 64, 0, 2793472},
        {"EU868", 0, 64, 1, 2793472},
        /* SF11/125, Tsym 16384 us, LDRO: ceil(512/36)=15 -> 83 + 12.25 = 95.25 symbols. */
        {"EU868", 1, 64, 0, 1560576},
        /* SF7/125, Tsym 1024 us: ceil(528/28)=19 -> 103 + 12.25 = 115.25 symbols. */
        {"EU868", 5, 64, 0, 118016},
        /* SF7/125, 13 bytes (empty FRMPayload): up ceil(120/28)=5 -> 33 + 12.25;
         * down ceil(104/28)=4 -> 28 + 12.25: the missing downlink CRC saves a block. */
        {"EU868", 5, 13, 0, 46336},
        {"EU868", 5, 13, 1, 41216},
        /* SF7/250, Tsym 512 us: same symbols as SF7/125 at half the time. */
        {"EU868", 6, 64, 0, 59008},
        /* SF9/125, Tsym 4096 us, 128 bytes (FragSize 112 + 3 + 13) downlink:
         * ceil((1024-36+28)/36)=29 -> 8+145=153 + 12.25 = 165.25 symbols. */
        {"EU868", 3, 128, 1, 676864},
        /* FSK 50 kbps: (5 + 3 + 1 + 64 + 2) bytes * 8 / 50000 = 12 ms. */
        {"EU868", 7, 64, 1, 12000},
        /* SF12/500, Tsym 8192 us, no LDRO: ceil((528-48+28)/48)=11 -> 63 + 12.25 = 75.25. */
        {"US915", 8, 66, 1, 616448},
        /* SF7/500, Tsym 256 us, 255 bytes: ceil((2040-28+28)/28)=73 -> 373 + 12.25 = 385.25. */
        {"US915", 13, 255, 1, 98624},
        /* US915 uplink SF10/125, Tsym 8192 us, no LDRO: ceil((192-40+28+16)/40)=5 -> 33 +
         * 12.25 = 45.25 symbols. */
        {"US915", 0, 24, 0, 370688},
};

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct airtime_vector *v = &vectors[i];
		const struct lw_region *r = lw_region_find(v->region);
		const struct lw_dr *d = NULL;
		uint64_t us = 0;

		assert_non_null(r);
		assert_int_equal(
		        lw_region_dr_dir(r, v->dr, v->downlink ? LW_DIR_DOWN : LW_DIR_UP, &d),
		        FUOTA_OK);
		assert_int_equal(lw_airtime_lorawan_us(d, v->phy_len, v->downlink != 0, &us),
		                 FUOTA_OK);
		assert_int_equal(us, v->us);
	}
}

/* SF12 at 250 kHz has 16.384 ms symbols, so low-data-rate optimisation applies; SF12/500 does
 * not. Built by hand since no LoRaWAN region has SF12/250. */
static void test_ldro_rule(void **state)
{
	struct lw_dr d = {.modulation = LW_MOD_LORA, .sf = 12, .bandwidth_hz = 250000};
	struct lw_airtime_params p = {.preamble = 8, .explicit_header = true, .coding_rate = 1};
	uint64_t us = 0;

	(void)state;
	/* 64 bytes, CRC off: LDRO ceil(492/40)=13 -> 73 symbols (no LDRO would be ceil(492/48)=11
	 * -> 63). 85.25 * 16384 us. */
	assert_int_equal(lw_airtime_us(&d, 64, &p, &us), FUOTA_OK);
	assert_int_equal(us, 1396736);
	d.bandwidth_hz = 500000;
	assert_int_equal(lw_airtime_us(&d, 64, &p, &us), FUOTA_OK);
	assert_int_equal(us, (uint64_t)(4 * 8 + 17 + 4 * 63) * 8192 / 4);
}

static void test_params(void **state)
{
	struct lw_dr d = {.modulation = LW_MOD_LORA, .sf = 7, .bandwidth_hz = 125000};
	struct lw_airtime_params p = {.preamble = 8, .explicit_header = true, .coding_rate = 4};
	uint64_t us = 0;

	(void)state;
	/* CR 4/8, CRC off, 13 bytes: ceil(104/28)=4 blocks of 8 -> 40 + 12.25 symbols. */
	assert_int_equal(lw_airtime_us(&d, 13, &p, &us), FUOTA_OK);
	assert_int_equal(us, 53504);
	/* Implicit header removes 20 bits: ceil(84/28)=3 -> 32 + 12.25. */
	p.explicit_header = false;
	assert_int_equal(lw_airtime_us(&d, 13, &p, &us), FUOTA_OK);
	assert_int_equal(us, 45312);
	/* Longer preamble: 16 symbols add 8 * 1024 us. */
	p.preamble = 16;
	assert_int_equal(lw_airtime_us(&d, 13, &p, &us), FUOTA_OK);
	assert_int_equal(us, 45312 + 8 * 1024);
	/* Empty payload: the max(..., 0) clamp leaves the 8 base symbols. */
	p.preamble = 8;
	assert_int_equal(lw_airtime_us(&d, 0, &p, &us), FUOTA_OK);
	assert_int_equal(us, (uint64_t)(4 * 8 + 17 + 32) * 1024 / 4);
}

static void test_invalid(void **state)
{
	struct lw_dr d = {.modulation = LW_MOD_LORA, .sf = 7, .bandwidth_hz = 125000};
	struct lw_airtime_params p = {.preamble = 8, .explicit_header = true, .coding_rate = 1};
	uint64_t us = 0;

	(void)state;
	assert_int_equal(lw_airtime_us(&d, 256, &p, &us), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_airtime_us(NULL, 10, &p, &us), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_airtime_us(&d, 10, NULL, &us), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_airtime_us(&d, 10, &p, NULL), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_airtime_lorawan_us(NULL, 10, true, &us), FUOTA_ERR_INVALID_ARG);
	p.coding_rate = 0;
	assert_int_equal(lw_airtime_us(&d, 10, &p, &us), FUOTA_ERR_INVALID_ARG);
	p.coding_rate = 5;
	assert_int_equal(lw_airtime_us(&d, 10, &p, &us), FUOTA_ERR_INVALID_ARG);
	p.coding_rate = 1;
	d.sf = 6;
	assert_int_equal(lw_airtime_us(&d, 10, &p, &us), FUOTA_ERR_INVALID_ARG);
	d.sf = 13;
	assert_int_equal(lw_airtime_us(&d, 10, &p, &us), FUOTA_ERR_INVALID_ARG);
	d.sf = 7;
	d.bandwidth_hz = 0;
	assert_int_equal(lw_airtime_us(&d, 10, &p, &us), FUOTA_ERR_INVALID_ARG);
	d.modulation = LW_MOD_FSK;
	assert_int_equal(lw_airtime_us(&d, 10, &p, &us), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(us, 0);
}

static void test_duty_cycle(void **state)
{
	(void)state;
	/* A 2793.472 ms frame at 1 %: one every 279.3472 s; at 10 %: 27.93472 s. */
	assert_int_equal(lw_duty_cycle_interval_us(2793472, 100), 279347200);
	assert_int_equal(lw_duty_cycle_interval_us(2793472, 10), 27934720);
	assert_int_equal(lw_duty_cycle_interval_us(2793472, 1), 2793472);
	assert_int_equal(lw_duty_cycle_interval_us(2793472, 0), 2793472);
	assert_true(lw_duty_cycle_interval_us(UINT64_MAX / 2, 1000) == UINT64_MAX);
	/* The EU868 RX2 channel sits in the 10 % sub-band. */
	const struct lw_region *eu = lw_region_find("EU868");
	assert_int_equal(lw_region_subband(eu, eu->rx2_freq_hz)->duty_cycle_inv, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vectors),    cmocka_unit_test(test_ldro_rule),
	        cmocka_unit_test(test_params),     cmocka_unit_test(test_invalid),
	        cmocka_unit_test(test_duty_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
