/* Regional parameter tables: the PROTOCOL-NOTES §7 payload table, DR direction rules, band and
 * channel-grid checks, duty-cycle sub-bands and class B channel hopping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/lw_region.h"

struct dr_vector {
	const char *region;
	unsigned dr;
	enum lw_modulation mod;
	unsigned sf;
	uint32_t bw_hz;
	unsigned n;          /* not repeater-compatible */
	unsigned n_repeater; /* repeater-compatible */
};

/* PROTOCOL-NOTES §7 (brocaar band/ RP002-1.0.2/1.0.3, LoRaMac-node MaxPayloadOfDatarate*). */
static const struct dr_vector downlink_drs[] = {
        {"EU868", 0, LW_MOD_LORA, 12, 125000, 51, 51},
        {"EU868", 1, LW_MOD_LORA, 11, 125000, 51, 51},
        {"EU868", 2, LW_MOD_LORA, 10, 125000, 51, 51},
        {"EU868", 3, LW_MOD_LORA, 9, 125000, 115, 115},
        {"EU868", 4, LW_MOD_LORA, 8, 125000, 242, 222},
        {"EU868", 5, LW_MOD_LORA, 7, 125000, 242, 222},
        {"EU868", 6, LW_MOD_LORA, 7, 250000, 242, 222},
        {"EU868", 7, LW_MOD_FSK, 0, 0, 242, 222},
        {"US915", 8, LW_MOD_LORA, 12, 500000, 53, 53},
        {"US915", 9, LW_MOD_LORA, 11, 500000, 129, 129},
        {"US915", 10, LW_MOD_LORA, 10, 500000, 242, 222},
        {"US915", 11, LW_MOD_LORA, 9, 500000, 242, 222},
        {"US915", 12, LW_MOD_LORA, 8, 500000, 242, 222},
        {"US915", 13, LW_MOD_LORA, 7, 500000, 242, 222},
        /* LoRaMac-node Region{AU915,AS923,IN865,KR920}.h (dwell time 0). */
        {"AU915", 8, LW_MOD_LORA, 12, 500000, 53, 53},
        {"AU915", 9, LW_MOD_LORA, 11, 500000, 129, 129},
        {"AU915", 13, LW_MOD_LORA, 7, 500000, 242, 222},
        {"AS923", 0, LW_MOD_LORA, 12, 125000, 51, 51},
        {"AS923", 2, LW_MOD_LORA, 10, 125000, 115, 115},
        {"AS923", 6, LW_MOD_LORA, 7, 250000, 242, 222},
        {"AS923", 7, LW_MOD_FSK, 0, 0, 242, 222},
        {"IN865", 2, LW_MOD_LORA, 10, 125000, 51, 51},
        {"IN865", 5, LW_MOD_LORA, 7, 125000, 242, 222},
        {"IN865", 7, LW_MOD_FSK, 0, 0, 242, 222},
        {"KR920", 0, LW_MOD_LORA, 12, 125000, 51, 51},
        {"KR920", 3, LW_MOD_LORA, 9, 125000, 115, 115},
        {"KR920", 5, LW_MOD_LORA, 7, 125000, 242, 222},
};

static void test_downlink_dr_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(downlink_drs) / sizeof(downlink_drs[0]); i++) {
		const struct dr_vector *v = &downlink_drs[i];
		const struct lw_region *r = lw_region_find(v->region);
		const struct lw_dr *d = NULL;
		unsigned fs = 0;

		assert_non_null(r);
		assert_int_equal(lw_region_dr(r, v->dr, &d), FUOTA_OK);
		assert_int_equal(d->dr, v->dr);
		assert_int_equal(d->modulation, v->mod);
		assert_int_equal(d->max_payload, v->n);
		assert_int_equal(d->max_payload_repeater, v->n_repeater);
		if (v->mod == LW_MOD_LORA) {
			assert_int_equal(d->sf, v->sf);
			assert_int_equal(d->bandwidth_hz, v->bw_hz);
		} else {
			assert_int_equal(d->fsk_bitrate_bps, 50000);
			/* sent as gw.FskModulationInfo.frequency_deviation, as ChirpStack does */
			assert_int_equal(d->fsk_fdev_hz, 25000);
		}
		assert_int_equal(lw_region_max_frag_size(r, v->dr, false, &fs), FUOTA_OK);
		assert_int_equal(fs, v->n - 3);
		assert_int_equal(lw_region_max_frag_size(r, v->dr, true, &fs), FUOTA_OK);
		assert_int_equal(fs, v->n_repeater - 3);
	}
}

static void test_find(void **state)
{
	(void)state;
	assert_non_null(lw_region_find("EU868"));
	assert_ptr_equal(lw_region_find("eu868"), lw_region_find("EU868"));
	assert_ptr_equal(lw_region_find("Eu863-870"), lw_region_find("EU868"));
	assert_ptr_equal(lw_region_find("us902-928"), lw_region_find("US915"));
	assert_string_equal(lw_region_find("us915")->name, "US915");
	assert_null(lw_region_find("EU86"));
	assert_null(lw_region_find("EU8688"));
	assert_null(lw_region_find(""));
	assert_null(lw_region_find(NULL));
}

static void test_list(void **state)
{
	size_t n = lw_region_count();

	(void)state;
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++) {
		const struct lw_region *r = lw_region_at(i);

		assert_non_null(r);
		assert_ptr_equal(lw_region_find(r->name), r);
		/* Every region's defaults must be consistent with its own tables. */
		const struct lw_dr *d;
		assert_int_equal(lw_region_dr(r, r->rx2_dr, &d), FUOTA_OK);
		assert_int_equal(lw_region_dr(r, r->beacon_dr, &d), FUOTA_OK);
		assert_int_equal(lw_region_dr(r, r->ping_slot_dr, &d), FUOTA_OK);
		assert_true(lw_region_dl_freq_ok(r, r->rx2_freq_hz));
		assert_true(lw_region_dl_freq_ok(r, r->beacon_freq_hz));
		assert_true(lw_region_dl_freq_ok(r, r->ping_slot_freq_hz));
		for (size_t k = 1; k < r->n_drs; k++)
			assert_true(r->drs[k].dr > r->drs[k - 1].dr);
	}
	assert_null(lw_region_at(n));
}

static void test_dr_directions(void **state)
{
	const struct lw_region *us = lw_region_find("US915");
	const struct lw_region *eu = lw_region_find("EU868");
	const struct lw_dr *d = NULL;

	(void)state;
	/* US915 DR0..4 are uplink-only, 5..7 are LR-FHSS/RFU, 14/15 RFU. */
	for (unsigned dr = 0; dr <= 7; dr++)
		assert_int_equal(lw_region_dr(us, dr, &d), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_region_dr(us, 14, &d), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_region_dr_dir(us, 0, LW_DIR_UP, &d), FUOTA_OK);
	assert_int_equal(d->sf, 10);
	assert_int_equal(d->max_payload, 11);
	assert_int_equal(lw_region_dr_dir(us, 4, LW_DIR_UP, &d), FUOTA_OK);
	assert_int_equal(d->bandwidth_hz, 500000);
	assert_int_equal(d->max_payload_repeater, 222);
	assert_int_equal(lw_region_dr_dir(us, 8, LW_DIR_UP, &d), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_region_dr_dir(eu, 3, LW_DIR_UP | LW_DIR_DOWN, &d), FUOTA_OK);
	assert_int_equal(lw_region_dr(eu, 8, &d), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_region_dr(NULL, 0, &d), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_region_dr(eu, 0, NULL), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_region_dr_dir(eu, 0, 0, &d), FUOTA_ERR_INVALID_ARG);
	unsigned fs = 7;
	assert_int_equal(lw_region_max_frag_size(us, 0, false, &fs), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(fs, 7);
}

static void test_frequencies(void **state)
{
	const struct lw_region *us = lw_region_find("US915");
	const struct lw_region *eu = lw_region_find("EU868");

	(void)state;
	assert_true(lw_region_freq_ok(eu, 863000000));
	assert_true(lw_region_freq_ok(eu, 870000000));
	assert_false(lw_region_freq_ok(eu, 862999999));
	assert_false(lw_region_freq_ok(eu, 870000001));
	assert_false(lw_region_freq_ok(eu, 923300000));
	assert_true(lw_region_dl_freq_ok(eu, 869525000));
	assert_true(lw_region_dl_freq_ok(eu, 868100000));
	assert_false(lw_region_freq_ok(NULL, 868100000));

	/* US915 downlinks: 923.3 + 0.6 k MHz, k = 0..7, i.e. up to 927.5 MHz. */
	assert_true(lw_region_freq_ok(us, 902300000));
	assert_false(lw_region_dl_freq_ok(us, 902300000));
	assert_true(lw_region_dl_freq_ok(us, 923300000));
	assert_true(lw_region_dl_freq_ok(us, 923900000));
	assert_true(lw_region_dl_freq_ok(us, 927500000));
	assert_false(lw_region_dl_freq_ok(us, 928100000));
	assert_false(lw_region_dl_freq_ok(us, 923400000));
	assert_false(lw_region_dl_freq_ok(us, 922700000));
}

static void test_eu868_subbands(void **state)
{
	const struct lw_region *eu = lw_region_find("EU868");
	static const struct {
		uint32_t hz;
		uint16_t inv; /* 0 = outside every sub-band */
	} v[] = {
	        {863000000, 1000}, {864900000, 1000}, {865000000, 100},  {867900000, 100},
	        {868000000, 100},  {868100000, 100},  {868500000, 100},  {868600000, 100},
	        {868650000, 0},    {868800000, 1000}, {869200000, 1000}, {869300000, 0},
	        {869525000, 10},   {869650000, 10},   {869700000, 100},  {870000000, 100},
	        {870000001, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const struct lw_subband *sb = lw_region_subband(eu, v[i].hz);

		if (v[i].inv == 0) {
			assert_null(sb);
			continue;
		}
		assert_non_null(sb);
		assert_int_equal(sb->duty_cycle_inv, v[i].inv);
	}
	assert_string_equal(lw_region_subband(eu, 869525000)->name, "P/g3");
	assert_null(lw_region_subband(lw_region_find("US915"), 923300000));
	assert_int_equal(eu->max_eirp_dbm, 16);
	assert_int_equal(lw_region_find("US915")->max_eirp_dbm, 30);
}

/* The highest EIRP per sub-band: ETSI's 25 mW ERP = 16.15 dBm EIRP, 500 mW ERP at 869.4-869.65
 * MHz = 29.15 dBm EIRP (rounded down); KR920 10 dBm below 922.1 MHz, 14 from there; regions
 * without sub-bands and gaps between them: the region's default. */
static void test_max_eirp(void **state)
{
	static const struct {
		const char *region;
		uint32_t hz;
		int dbm;
	} v[] = {
	        {"EU868", 863100000, 16}, {"EU868", 868100000, 16}, {"EU868", 868800000, 16},
	        {"EU868", 869300000, 16}, /* between N and P: the region's default */
	        {"EU868", 869400000, 29}, {"EU868", 869525000, 29}, {"EU868", 869650000, 29},
	        {"EU868", 869700000, 16}, {"US915", 923300000, 30}, {"AU915", 923300000, 30},
	        {"AS923", 923200000, 16}, {"IN865", 866550000, 30}, {"KR920", 920900000, 10},
	        {"KR920", 921900000, 10}, {"KR920", 922100000, 14}, {"KR920", 923300000, 14},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const struct lw_region *r = lw_region_find(v[i].region);

		assert_non_null(r);
		if (lw_region_max_eirp_dbm(r, v[i].hz) != v[i].dbm)
			fail_msg("%s %u Hz: %d dBm, expected %d", v[i].region, v[i].hz,
			         lw_region_max_eirp_dbm(r, v[i].hz), v[i].dbm);
	}
	assert_int_equal(lw_region_max_eirp_dbm(NULL, 869525000), 0);
}

/* The power a frame goes out at: the job's, capped by the band; the band's limit by default. */
static void test_tx_power_choice(void **state)
{
	const struct lw_region *eu = lw_region_find("EU868");
	const struct lw_region *kr = lw_region_find("KR920");

	(void)state;
	assert_int_equal(lw_region_tx_power_dbm(eu, 869525000, false, 0), 29);
	assert_int_equal(lw_region_tx_power_dbm(eu, 868100000, false, 0), 16);
	assert_int_equal(lw_region_tx_power_dbm(eu, 869525000, true, 20), 20);
	assert_int_equal(lw_region_tx_power_dbm(eu, 869525000, true, 29), 29);
	assert_int_equal(lw_region_tx_power_dbm(eu, 869525000, true, 30), 29);
	assert_int_equal(lw_region_tx_power_dbm(eu, 868100000, true, 27), 16);
	assert_int_equal(lw_region_tx_power_dbm(eu, 868100000, true, 0), 0);
	assert_int_equal(lw_region_tx_power_dbm(kr, 921900000, true, 14), 10);
	assert_int_equal(lw_region_tx_power_dbm(kr, 922300000, true, 14), 14);
}

static void test_other_regions(void **state)
{
	const struct lw_region *au = lw_region_find("au915");
	const struct lw_region *as = lw_region_find("AS923");
	const struct lw_region *in = lw_region_find("IN865");
	const struct lw_region *kr = lw_region_find("KR920");
	const struct lw_dr *d = NULL;

	(void)state;
	assert_true(lw_region_count() >= 6);
	assert_non_null(au);
	assert_non_null(as);
	assert_non_null(in);
	assert_non_null(kr);
	assert_ptr_equal(lw_region_find("AS923-1"), as);
	/* AU915 uplink DR0 is SF12/125 (US915 DR0 is SF10/125); DR6 SF8/500 uplink only. */
	assert_int_equal(lw_region_dr_dir(au, 0, LW_DIR_UP, &d), FUOTA_OK);
	assert_int_equal(d->sf, 12);
	assert_int_equal(lw_region_dr(au, 6, &d), FUOTA_ERR_INVALID_ARG);
	assert_true(lw_region_dl_freq_ok(au, 927500000));
	assert_false(lw_region_dl_freq_ok(au, 916800000));
	assert_int_equal(lw_region_ping_slot_freq(au, 3, 128), 923300000 + 4 * 600000);
	/* RX2 and class B defaults. */
	assert_int_equal(as->rx2_freq_hz, 923200000);
	assert_int_equal(as->rx2_dr, 2);
	assert_int_equal(lw_region_beacon_freq(as, 12345), 923400000);
	assert_int_equal(in->rx2_freq_hz, 866550000);
	assert_int_equal(in->beacon_dr, 4);
	assert_int_equal(lw_region_dr(in, 6, &d), FUOTA_ERR_INVALID_ARG); /* RFU */
	assert_int_equal(kr->rx2_freq_hz, 921900000);
	assert_int_equal(kr->beacon_freq_hz, 923100000);
	assert_int_equal(lw_region_dr(kr, 6, &d), FUOTA_ERR_INVALID_ARG);
	assert_false(lw_region_freq_ok(kr, 920800000));
	assert_int_equal(kr->max_eirp_dbm, 14);
}

static void test_class_c_b_defaults(void **state)
{
	const struct lw_region *eu = lw_region_find("EU868");
	const struct lw_region *us = lw_region_find("US915");

	(void)state;
	assert_int_equal(eu->rx2_freq_hz, 869525000);
	assert_int_equal(eu->rx2_dr, 0);
	assert_int_equal(eu->beacon_dr, 3);
	assert_int_equal(eu->ping_slot_dr, 3);
	/* EU868 does not hop. */
	assert_int_equal(lw_region_beacon_freq(eu, 0), 869525000);
	assert_int_equal(lw_region_beacon_freq(eu, 1280), 869525000);
	assert_int_equal(lw_region_ping_slot_freq(eu, 0x01020304, 1280), 869525000);

	assert_int_equal(us->rx2_freq_hz, 923300000);
	assert_int_equal(us->rx2_dr, 8);
	assert_int_equal(us->beacon_dr, 8);
	/* Beacon channel k = floor(t / 128) mod 8. */
	assert_int_equal(lw_region_beacon_freq(us, 0), 923300000);
	assert_int_equal(lw_region_beacon_freq(us, 127), 923300000);
	assert_int_equal(lw_region_beacon_freq(us, 128), 923900000);
	assert_int_equal(lw_region_beacon_freq(us, 7 * 128), 927500000);
	assert_int_equal(lw_region_beacon_freq(us, 8 * 128), 923300000);
	/* Ping slot k = (DevAddr + floor(t / 128)) mod 8; 0x01020304 mod 8 = 4. */
	assert_int_equal(lw_region_ping_slot_freq(us, 0x01020304, 0), 923300000 + 4 * 600000);
	assert_int_equal(lw_region_ping_slot_freq(us, 0x01020304, 3 * 128), 923300000 + 7 * 600000);
	assert_int_equal(lw_region_ping_slot_freq(us, 0x01020304, 4 * 128 + 5),
	                 923300000 + 0 * 600000);
	/* No 32-bit wrap: 0xffffffff mod 8 = 7, plus (2^32 / 128 + 1) mod 8 = 1, gives 0. */
	assert_int_equal(lw_region_ping_slot_freq(us, 0xffffffffu, (UINT64_C(1) << 32) + 128),
	                 923300000);
	assert_int_equal(lw_region_beacon_freq(NULL, 0), 0);
	assert_int_equal(lw_region_ping_slot_freq(NULL, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_downlink_dr_table),
	        cmocka_unit_test(test_find),
	        cmocka_unit_test(test_list),
	        cmocka_unit_test(test_dr_directions),
	        cmocka_unit_test(test_frequencies),
	        cmocka_unit_test(test_eu868_subbands),
	        cmocka_unit_test(test_class_c_b_defaults),
	        cmocka_unit_test(test_max_eirp),
	        cmocka_unit_test(test_tx_power_choice),
	        cmocka_unit_test(test_other_regions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
