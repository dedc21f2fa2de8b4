/* LoRaWAN regional parameters that a FUOTA server needs: data rates with their maximum payload,
 * band edges and downlink channel grids, the default class C (RX2) channel, class B beacon and
 * ping-slot channels (with US915-style hopping), duty-cycle sub-bands and the maximum EIRP.
 *
 * Every region is a constant table in lw_region.c (RP002-1.0.3 "latest" values, cross-checked
 * against LoRaMac-node Region*.h and brocaar/lorawan band/); adding a region is a table change.
 * The returned pointers point into those static tables: never freed, valid for the whole program,
 * safe to share between threads. */
#ifndef FUOTA_LW_REGION_H
#define FUOTA_LW_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lw_modulation { LW_MOD_LORA = 0, LW_MOD_FSK = 1 };

/* Directions a data rate may be used in (struct lw_dr.dirs). */
#define LW_DIR_UP   0x01u
#define LW_DIR_DOWN 0x02u

/* Bytes a data frame adds around FRMPayload when FOpts is empty and FPort is present:
 * MHDR (1) + DevAddr (4) + FCtrl (1) + FCnt (2) + FPort (1) + MIC (4). PHYPayload = N + 13. */
#define LW_DATA_FRAME_OVERHEAD 13u
/* DataFragment header inside FRMPayload: CID (1) + IndexAndN (2). FragSize max = N - 3. */
#define LW_FRAG_HEADER_LEN 3u

struct lw_dr {
	uint8_t dr;                    /* the DR index in its region */
	uint8_t dirs;                  /* LW_DIR_UP and/or LW_DIR_DOWN */
	enum lw_modulation modulation; /* LoRa or FSK */
	uint8_t sf;                    /* LoRa spreading factor 7..12; 0 for FSK */
	uint32_t bandwidth_hz;         /* LoRa: 125000, 250000 or 500000; 0 for FSK */
	uint32_t fsk_bitrate_bps;      /* FSK: 50000; 0 for LoRa */
	uint32_t fsk_fdev_hz; /* FSK frequency deviation: 25000 (bit rate / 2, as ChirpStack sends
	                         and LoRaMac-node transmits); 0 for LoRa */
	uint8_t max_payload;  /* N: largest FRMPayload (FOpts empty), not repeater-compat. */
	uint8_t max_payload_repeater; /* N when a repeater may sit between gateway and device */
};

/* A sub-band: a device or gateway may transmit in [min_hz, max_hz] at most 1/duty_cycle_inv of
 * the time (100 = 1 %, 1000 = 0.1 %, 10 = 10 %, 1 = no duty-cycle limit), at most max_eirp_dbm
 * EIRP. Limits given as ERP (ETSI) are converted with EIRP = ERP + 2.15 dB and rounded down to
 * whole dBm, as gw.DownlinkTxInfo.power carries whole dBm EIRP: never above the limit. */
struct lw_subband {
	const char *name;
	uint32_t min_hz; /* inclusive */
	uint32_t max_hz; /* inclusive */
	uint16_t duty_cycle_inv;
	int8_t max_eirp_dbm;
};

struct lw_region {
	const char *name;    /* canonical name: "EU868", "US915", ... */
	const char *rp_name; /* RP002 name: "EU863-870", "US902-928", ... (also accepted by find) */
	uint32_t min_hz;     /* band edges, inclusive */
	uint32_t max_hz;
	int8_t max_eirp_dbm; /* default maximum EIRP of the region (outside its sub-bands) */

	const struct lw_dr *drs; /* the defined DRs, in DR order (gaps allowed: LR-FHSS and RFU) */
	size_t n_drs;

	/* Downlink channel grid: if dl_channels > 0, a downlink frequency must be
	 * dl_first_hz + k * dl_step_hz with k < dl_channels (US915, AU915: 8 x 500 kHz channels).
	 * 0 = any frequency inside the band. */
	uint32_t dl_first_hz;
	uint32_t dl_step_hz;
	uint8_t dl_channels;

	/* RX2 = the default class C channel and DR (what servers usually put in
	 * McClassCSessionReq). */
	uint32_t rx2_freq_hz;
	uint8_t rx2_dr;

	/* Class B. classb_channels = 1: one fixed beacon and one fixed ping-slot channel;
	 * classb_channels > 1: both hop over classb_channels channels spaced classb_step_hz apart,
	 * starting at beacon_freq_hz / ping_slot_freq_hz (see lw_region_beacon_freq). */
	uint32_t beacon_freq_hz;
	uint8_t beacon_dr;
	uint32_t ping_slot_freq_hz;
	uint8_t ping_slot_dr;
	uint8_t classb_channels;
	uint32_t classb_step_hz;

	const struct lw_subband *subbands; /* sub-bands; n_subbands 0 = none (US915) */
	size_t n_subbands;
};

/* Looks a region up by its canonical or RP002 name, case-insensitively ("eu868", "EU863-870").
 * Returns NULL for NULL or an unknown name. */
const struct lw_region *lw_region_find(const char *name);

/* The known regions, for listing: index 0 .. lw_region_count() - 1; NULL past the end. */
size_t lw_region_count(void);
const struct lw_region *lw_region_at(size_t index);

/* The downlink DR `dr` of region r in *out. Returns FUOTA_OK, or FUOTA_ERR_INVALID_ARG if r or
 * out is NULL or the DR is not defined for downlinks in r (US915 DR0..4 are uplink-only). */
int lw_region_dr(const struct lw_region *r, unsigned dr, const struct lw_dr **out);

/* As lw_region_dr for any direction mask (LW_DIR_UP, LW_DIR_DOWN or both): the DR must allow
 * every direction in dirs. */
int lw_region_dr_dir(const struct lw_region *r, unsigned dr, unsigned dirs,
                     const struct lw_dr **out);

/* Largest DataFragment FragSize for downlink DR `dr`: N - 3 (N repeater-compatible if repeater).
 * Returns FUOTA_OK or FUOTA_ERR_INVALID_ARG (as lw_region_dr). */
int lw_region_max_frag_size(const struct lw_region *r, unsigned dr, bool repeater,
                            unsigned *frag_size);

/* true if freq_hz lies inside the region's band (inclusive edges). false for r == NULL. */
bool lw_region_freq_ok(const struct lw_region *r, uint32_t freq_hz);

/* true if freq_hz is a valid downlink frequency: inside the band and, where the region has a
 * downlink channel grid (US915, AU915), on it. */
bool lw_region_dl_freq_ok(const struct lw_region *r, uint32_t freq_hz);

/* The duty-cycle sub-band containing freq_hz, or NULL if the region has none there (or r is
 * NULL). */
const struct lw_subband *lw_region_subband(const struct lw_region *r, uint32_t freq_hz);

/* The highest EIRP (whole dBm) a downlink on freq_hz may use in r: the limit of the sub-band
 * holding freq_hz, or the region's max_eirp_dbm outside every sub-band. 0 if r is NULL. */
int lw_region_max_eirp_dbm(const struct lw_region *r, uint32_t freq_hz);

/* The EIRP (dBm) to send a downlink on freq_hz at: request_dbm when has_request and it is at
 * most the band's limit (lw_region_max_eirp_dbm), otherwise that limit: a request above it is
 * capped, never sent. */
int lw_region_tx_power_dbm(const struct lw_region *r, uint32_t freq_hz, bool has_request,
                           int request_dbm);

/* Class B beacon frequency for the beacon at beacon_time (GPS seconds, the start of its 128 s
 * period): channel k = floor(beacon_time / 128) mod classb_channels. Returns 0 if r is NULL. */
uint32_t lw_region_beacon_freq(const struct lw_region *r, uint64_t beacon_time);

/* Class B ping-slot frequency for device or multicast address dev_addr (McAddr for multicast)
 * in the beacon period that starts at beacon_time (GPS seconds):
 * k = (dev_addr + floor(beacon_time / 128)) mod classb_channels. Returns 0 if r is NULL. */
uint32_t lw_region_ping_slot_freq(const struct lw_region *r, uint32_t dev_addr,
                                  uint64_t beacon_time);

#endif
