/* Regional parameter tables (see lw_region.h) and their lookups.
 *
 * Sources: LoRaWAN RP002-1.0.3 values as carried by brocaar/lorawan band/ ("latest" tables) and
 * LoRaMac-node src/mac/region/Region*.h (MaxPayloadOfDatarate*, RX2, beacon and ping-slot
 * defines). LR-FHSS DRs (uplink only, a different time-on-air model) are left out. */
#include <stddef.h>

#include "fuota/err.h"
#include "fuota/lw_region.h"

#define LORA(n, d, s, bw, pl, plr)                                  \
	{                                                           \
		(n), (d), LW_MOD_LORA, (s), (bw), 0, 0, (pl), (plr) \
	}
/* The deviation is half the bit rate (modulation index 1), as ChirpStack and LoRaMac-node use. */
#define FSK(n, d, rate, pl, plr)                                            \
	{                                                                   \
		(n), (d), LW_MOD_FSK, 0, 0, (rate), (rate) / 2, (pl), (plr) \
	}
#define UPDN         (LW_DIR_UP | LW_DIR_DOWN)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* EU863-870: DR0..7 in both directions. */
static const struct lw_dr eu868_drs[] = {
        LORA(0, UPDN, 12, 125000, 51, 51),  LORA(1, UPDN, 11, 125000, 51, 51),
        LORA(2, UPDN, 10, 125000, 51, 51),  LORA(3, UPDN, 9, 125000, 115, 115),
        LORA(4, UPDN, 8, 125000, 242, 222), LORA(5, UPDN, 7, 125000, 242, 222),
        LORA(6, UPDN, 7, 250000, 242, 222), FSK(7, UPDN, 50000, 242, 222),
};

/* ETSI EN 300 220-2 V3.2.1 bands (older ERC 70-03 names after the slash), split as LoRaMac-node
 * RegionEU868.c does since its PR #750: 863-865 and 868.7-869.2 are separate 0.1 % bands.
 * 865.0 MHz and 868.0 MHz belong to the 1 % band below them, as in LoRaMac-node. Power (ERC
 * 70-03 annex 1, RP002 EU863-870): 25 mW = 14 dBm ERP = 16.15 dBm EIRP everywhere but
 * 869.4-869.65 MHz, 500 mW = 27 dBm ERP = 29.15 dBm EIRP (ChirpStack sends 29 there). */
static const struct lw_subband eu868_subbands[] = {
        {"K/g", 863000000, 864999999, 1000, 16}, {"L/g", 865000000, 868000000, 100, 16},
        {"M/g1", 868000001, 868600000, 100, 16}, {"N/g2", 868700000, 869200000, 1000, 16},
        {"P/g3", 869400000, 869650000, 10, 29},  {"Q/g4", 869700000, 870000000, 100, 16},
};

/* KR920-923 (RP002, LoRaMac-node RegionKR920 GetMaxEIRP): 10 dBm EIRP below 922.1 MHz, 14 dBm
 * from there up; listen-before-talk, no duty cycle. */
static const struct lw_subband kr920_subbands[] = {
        {"low", 920900000, 922099999, 1, 10},
        {"high", 922100000, 923300000, 1, 14},
};

/* US902-928: DR0..4 uplink (125 kHz channels and the 500 kHz DR4), DR8..13 downlink. */
static const struct lw_dr us915_drs[] = {
        LORA(0, LW_DIR_UP, 10, 125000, 11, 11),     LORA(1, LW_DIR_UP, 9, 125000, 53, 53),
        LORA(2, LW_DIR_UP, 8, 125000, 125, 125),    LORA(3, LW_DIR_UP, 7, 125000, 242, 222),
        LORA(4, LW_DIR_UP, 8, 500000, 242, 222),    LORA(8, LW_DIR_DOWN, 12, 500000, 53, 53),
        LORA(9, LW_DIR_DOWN, 11, 500000, 129, 129), LORA(10, LW_DIR_DOWN, 10, 500000, 242, 222),
        LORA(11, LW_DIR_DOWN, 9, 500000, 242, 222), LORA(12, LW_DIR_DOWN, 8, 500000, 242, 222),
        LORA(13, LW_DIR_DOWN, 7, 500000, 242, 222),
};

/* AU915-928: like US915 but DR0..5 are SF12..SF7/125 and DR6 SF8/500 (uplink); maximum payloads
 * for UplinkDwellTime 0 (LoRaMac-node MaxPayloadOfDatarateDwell0AU915). */
static const struct lw_dr au915_drs[] = {
        LORA(0, LW_DIR_UP, 12, 125000, 51, 51),     LORA(1, LW_DIR_UP, 11, 125000, 51, 51),
        LORA(2, LW_DIR_UP, 10, 125000, 51, 51),     LORA(3, LW_DIR_UP, 9, 125000, 115, 115),
        LORA(4, LW_DIR_UP, 8, 125000, 242, 222),    LORA(5, LW_DIR_UP, 7, 125000, 242, 222),
        LORA(6, LW_DIR_UP, 8, 500000, 242, 222),    LORA(8, LW_DIR_DOWN, 12, 500000, 53, 53),
        LORA(9, LW_DIR_DOWN, 11, 500000, 129, 129), LORA(10, LW_DIR_DOWN, 10, 500000, 242, 222),
        LORA(11, LW_DIR_DOWN, 9, 500000, 242, 222), LORA(12, LW_DIR_DOWN, 8, 500000, 242, 222),
        LORA(13, LW_DIR_DOWN, 7, 500000, 242, 222),
};

/* AS923: DownlinkDwellTime 0 payloads (LoRaMac-node MaxPayloadOfDatarateDwell0AS923; with dwell
 * time 1 the low DRs carry less). */
static const struct lw_dr as923_drs[] = {
        LORA(0, UPDN, 12, 125000, 51, 51),   LORA(1, UPDN, 11, 125000, 51, 51),
        LORA(2, UPDN, 10, 125000, 115, 115), LORA(3, UPDN, 9, 125000, 115, 115),
        LORA(4, UPDN, 8, 125000, 242, 222),  LORA(5, UPDN, 7, 125000, 242, 222),
        LORA(6, UPDN, 7, 250000, 242, 222),  FSK(7, UPDN, 50000, 242, 222),
};

/* IN865-867: DR6 is RFU in RP002 (left out), DR7 FSK. */
static const struct lw_dr in865_drs[] = {
        LORA(0, UPDN, 12, 125000, 51, 51),  LORA(1, UPDN, 11, 125000, 51, 51),
        LORA(2, UPDN, 10, 125000, 51, 51),  LORA(3, UPDN, 9, 125000, 115, 115),
        LORA(4, UPDN, 8, 125000, 242, 222), LORA(5, UPDN, 7, 125000, 242, 222),
        FSK(7, UPDN, 50000, 242, 222),
};

/* KR920-923: DR0..5 only. */
static const struct lw_dr kr920_drs[] = {
        LORA(0, UPDN, 12, 125000, 51, 51),  LORA(1, UPDN, 11, 125000, 51, 51),
        LORA(2, UPDN, 10, 125000, 51, 51),  LORA(3, UPDN, 9, 125000, 115, 115),
        LORA(4, UPDN, 8, 125000, 242, 222), LORA(5, UPDN, 7, 125000, 242, 222),
};

static const struct lw_region regions[] = {
        {
                .name = "EU868",
                .rp_name = "EU863-870",
                .min_hz = 863000000,
                .max_hz = 870000000,
                .max_eirp_dbm = 16,
                .drs = eu868_drs,
                .n_drs = ARRAY_LEN(eu868_drs),
                .rx2_freq_hz = 869525000,
                .rx2_dr = 0,
                .beacon_freq_hz = 869525000,
                .beacon_dr = 3,
                .ping_slot_freq_hz = 869525000,
                .ping_slot_dr = 3,
                .classb_channels = 1,
                .subbands = eu868_subbands,
                .n_subbands = ARRAY_LEN(eu868_subbands),
        },
        {
                .name = "US915",
                .rp_name = "US902-928",
                .min_hz = 902000000,
                .max_hz = 928000000,
                .max_eirp_dbm = 30,
                .drs = us915_drs,
                .n_drs = ARRAY_LEN(us915_drs),
                .dl_first_hz = 923300000,
                .dl_step_hz = 600000,
                .dl_channels = 8,
                .rx2_freq_hz = 923300000,
                .rx2_dr = 8,
                .beacon_freq_hz = 923300000,
                .beacon_dr = 8,
                .ping_slot_freq_hz = 923300000,
                .ping_slot_dr = 8,
                .classb_channels = 8,
                .classb_step_hz = 600000,
        },
        {
                .name = "AU915",
                .rp_name = "AU915-928",
                .min_hz = 915000000,
                .max_hz = 928000000,
                .max_eirp_dbm = 30,
                .drs = au915_drs,
                .n_drs = ARRAY_LEN(au915_drs),
                .dl_first_hz = 923300000,
                .dl_step_hz = 600000,
                .dl_channels = 8,
                .rx2_freq_hz = 923300000,
                .rx2_dr = 8,
                .beacon_freq_hz = 923300000,
                .beacon_dr = 8,
                .ping_slot_freq_hz = 923300000,
                .ping_slot_dr = 8,
                .classb_channels = 8,
                .classb_step_hz = 600000,
        },
        /* AS923-1 defaults (RX2 923.2 MHz, beacon 923.4 MHz); AS923-2..4 shift every channel.
         * Duty cycle and listen-before-talk rules are national: no sub-band table. */
        {
                .name = "AS923",
                .rp_name = "AS923-1",
                .min_hz = 915000000,
                .max_hz = 928000000,
                .max_eirp_dbm = 16,
                .drs = as923_drs,
                .n_drs = ARRAY_LEN(as923_drs),
                .rx2_freq_hz = 923200000,
                .rx2_dr = 2,
                .beacon_freq_hz = 923400000,
                .beacon_dr = 3,
                .ping_slot_freq_hz = 923400000,
                .ping_slot_dr = 3,
                .classb_channels = 1,
        },
        {
                .name = "IN865",
                .rp_name = "IN865-867",
                .min_hz = 865000000,
                .max_hz = 867000000,
                .max_eirp_dbm = 30,
                .drs = in865_drs,
                .n_drs = ARRAY_LEN(in865_drs),
                .rx2_freq_hz = 866550000,
                .rx2_dr = 2,
                .beacon_freq_hz = 866550000,
                .beacon_dr = 4,
                .ping_slot_freq_hz = 866550000,
                .ping_slot_dr = 4,
                .classb_channels = 1,
        },
        /* KR920: 14 dBm EIRP from 922.1 MHz up, 10 dBm below (kr920_subbands). */
        {
                .name = "KR920",
                .rp_name = "KR920-923",
                .min_hz = 920900000,
                .max_hz = 923300000,
                .max_eirp_dbm = 14,
                .drs = kr920_drs,
                .n_drs = ARRAY_LEN(kr920_drs),
                .rx2_freq_hz = 921900000,
                .rx2_dr = 0,
                .beacon_freq_hz = 923100000,
                .beacon_dr = 3,
                .ping_slot_freq_hz = 923100000,
                .ping_slot_dr = 3,
                .classb_channels = 1,
                .subbands = kr920_subbands,
                .n_subbands = ARRAY_LEN(kr920_subbands),
        },
};

/* ASCII case-insensitive equality, independent of the C locale. */
static bool name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;

		if (ca >= 'a' && ca <= 'z')
			ca = (unsigned char)(ca - 'a' + 'A');
		if (cb >= 'a' && cb <= 'z')
			cb = (unsigned char)(cb - 'a' + 'A');
		if (ca != cb)
			return false;
		if (ca == '\0')
			return true;
	}
}

const struct lw_region *lw_region_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(regions); i++)
		if (name_eq(name, regions[i].name) || name_eq(name, regions[i].rp_name))
			return &regions[i];
	return NULL;
}

size_t lw_region_count(void)
{
	return ARRAY_LEN(regions);
}

const struct lw_region *lw_region_at(size_t index)
{
	return index < ARRAY_LEN(regions) ? &regions[index] : NULL;
}

int lw_region_dr_dir(const struct lw_region *r, unsigned dr, unsigned dirs,
                     const struct lw_dr **out)
{
	if (!r || !out || dirs == 0)
		return FUOTA_ERR_INVALID_ARG;
	for (size_t i = 0; i < r->n_drs; i++) {
		if (r->drs[i].dr != dr)
			continue;
		if ((r->drs[i].dirs & dirs) != dirs)
			return FUOTA_ERR_INVALID_ARG;
		*out = &r->drs[i];
		return FUOTA_OK;
	}
	return FUOTA_ERR_INVALID_ARG;
}

int lw_region_dr(const struct lw_region *r, unsigned dr, const struct lw_dr **out)
{
	return lw_region_dr_dir(r, dr, LW_DIR_DOWN, out);
}

int lw_region_max_frag_size(const struct lw_region *r, unsigned dr, bool repeater,
                            unsigned *frag_size)
{
	const struct lw_dr *d;
	int rc;

	if (!frag_size)
		return FUOTA_ERR_INVALID_ARG;
	rc = lw_region_dr(r, dr, &d);
	if (rc != FUOTA_OK)
		return rc;
	*frag_size = (unsigned)(repeater ? d->max_payload_repeater : d->max_payload) -
	             LW_FRAG_HEADER_LEN;
	return FUOTA_OK;
}

bool lw_region_freq_ok(const struct lw_region *r, uint32_t freq_hz)
{
	return r && freq_hz >= r->min_hz && freq_hz <= r->max_hz;
}

bool lw_region_dl_freq_ok(const struct lw_region *r, uint32_t freq_hz)
{
	uint32_t k;

	if (!lw_region_freq_ok(r, freq_hz))
		return false;
	if (r->dl_channels == 0)
		return true;
	if (freq_hz < r->dl_first_hz || (freq_hz - r->dl_first_hz) % r->dl_step_hz != 0)
		return false;
	k = (freq_hz - r->dl_first_hz) / r->dl_step_hz;
	return k < r->dl_channels;
}

const struct lw_subband *lw_region_subband(const struct lw_region *r, uint32_t freq_hz)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_subbands; i++)
		if (freq_hz >= r->subbands[i].min_hz && freq_hz <= r->subbands[i].max_hz)
			return &r->subbands[i];
	return NULL;
}

int lw_region_max_eirp_dbm(const struct lw_region *r, uint32_t freq_hz)
{
	const struct lw_subband *sb = lw_region_subband(r, freq_hz);

	if (!r)
		return 0;
	return sb ? sb->max_eirp_dbm : r->max_eirp_dbm;
}

int lw_region_tx_power_dbm(const struct lw_region *r, uint32_t freq_hz, bool has_request,
                           int request_dbm)
{
	int cap = lw_region_max_eirp_dbm(r, freq_hz);

	return has_request && request_dbm < cap ? request_dbm : cap;
}

uint32_t lw_region_beacon_freq(const struct lw_region *r, uint64_t beacon_time)
{
	uint64_t k;

	if (!r)
		return 0;
	if (r->classb_channels <= 1)
		return r->beacon_freq_hz;
	k = (beacon_time / 128u) % r->classb_channels;
	return r->beacon_freq_hz + (uint32_t)k * r->classb_step_hz;
}

uint32_t lw_region_ping_slot_freq(const struct lw_region *r, uint32_t dev_addr,
                                  uint64_t beacon_time)
{
	uint64_t k;

	if (!r)
		return 0;
	if (r->classb_channels <= 1)
		return r->ping_slot_freq_hz;
	/* Both terms reduced first so the sum cannot wrap. */
	k = ((uint64_t)dev_addr % r->classb_channels + (beacon_time / 128u) % r->classb_channels) %
	    r->classb_channels;
	return r->ping_slot_freq_hz + (uint32_t)k * r->classb_step_hz;
}
