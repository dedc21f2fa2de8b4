/* Time on air (see lw_airtime.h for the formulas and their sources). */
#include <stdint.h>

#include "fuota/err.h"
#include "fuota/lw_airtime.h"

#define LW_MAX_PHY_LEN    255u
#define FSK_SYNC_WORD_LEN 3u
#define FSK_LENGTH_LEN    1u
#define FSK_CRC_LEN       2u
#define US_PER_S          1000000u
/* Low-data-rate optimisation is on when a symbol lasts 16 ms or more (Semtech SX127x: SF11/SF12
 * at 125 kHz, SF12 at 250 kHz). */
#define LDRO_MIN_SYMBOL_US 16000u

void lw_airtime_lorawan_params(const struct lw_dr *dr, bool downlink, struct lw_airtime_params *p)
{
	if (dr && dr->modulation == LW_MOD_FSK) {
		p->preamble = LW_FSK_PREAMBLE_BYTES;
		p->crc = true;
	} else {
		p->preamble = LW_LORA_PREAMBLE_SYMBOLS;
		p->crc = !downlink;
	}
	p->explicit_header = true;
	p->coding_rate = 1;
}

static uint64_t div_round_up(uint64_t num, uint64_t den)
{
	return num / den + (num % den != 0);
}

static int lora_us(const struct lw_dr *dr, size_t phy_len, const struct lw_airtime_params *p,
                   uint64_t *us)
{
	int64_t num, den, sym_blocks;
	uint64_t quarter_symbols, chips;
	unsigned sf = dr->sf;
	bool ldro;

	if (sf < 7 || sf > 12 || dr->bandwidth_hz == 0 || p->coding_rate < 1 || p->coding_rate > 4)
		return FUOTA_ERR_INVALID_ARG;
	chips = (uint64_t)1 << sf; /* one symbol = 2^SF chips at BW chips per second */
	ldro = chips * US_PER_S >= (uint64_t)LDRO_MIN_SYMBOL_US * dr->bandwidth_hz;

	num = 8 * (int64_t)phy_len - 4 * (int64_t)sf + 28 + (p->crc ? 16 : 0) -
	      (p->explicit_header ? 0 : 20);
	den = 4 * ((int64_t)sf - (ldro ? 2 : 0));
	sym_blocks = num > 0 ? (num + den - 1) / den : 0;

	/* Count in quarter symbols so the 4.25-symbol preamble tail stays exact:
	 * 4 * (preamble + 4.25 + 8 + blocks * (CR + 4)). */
	quarter_symbols = 4u * (uint64_t)p->preamble + 17u + 32u +
	                  4u * (uint64_t)sym_blocks * (p->coding_rate + 4u);
	*us = div_round_up(quarter_symbols * chips * US_PER_S, 4u * (uint64_t)dr->bandwidth_hz);
	return FUOTA_OK;
}

static int fsk_us(const struct lw_dr *dr, size_t phy_len, const struct lw_airtime_params *p,
                  uint64_t *us)
{
	uint64_t bytes;

	if (dr->fsk_bitrate_bps == 0)
		return FUOTA_ERR_INVALID_ARG;
	bytes = (uint64_t)p->preamble + FSK_SYNC_WORD_LEN + FSK_LENGTH_LEN + phy_len +
	        (p->crc ? FSK_CRC_LEN : 0);
	*us = div_round_up(bytes * 8u * US_PER_S, dr->fsk_bitrate_bps);
	return FUOTA_OK;
}

int lw_airtime_us(const struct lw_dr *dr, size_t phy_len, const struct lw_airtime_params *p,
                  uint64_t *us)
{
	if (!dr || !p || !us || phy_len > LW_MAX_PHY_LEN)
		return FUOTA_ERR_INVALID_ARG;
	switch (dr->modulation) {
	case LW_MOD_LORA: return lora_us(dr, phy_len, p, us);
	case LW_MOD_FSK: return fsk_us(dr, phy_len, p, us);
	}
	return FUOTA_ERR_INVALID_ARG;
}

int lw_airtime_lorawan_us(const struct lw_dr *dr, size_t phy_len, bool downlink, uint64_t *us)
{
	struct lw_airtime_params p;

	if (!dr)
		return FUOTA_ERR_INVALID_ARG;
	lw_airtime_lorawan_params(dr, downlink, &p);
	return lw_airtime_us(dr, phy_len, &p, us);
}

uint64_t lw_duty_cycle_interval_us(uint64_t airtime_us, uint16_t duty_cycle_inv)
{
	if (duty_cycle_inv <= 1)
		return airtime_us;
	if (airtime_us > UINT64_MAX / duty_cycle_inv)
		return UINT64_MAX;
	return airtime_us * duty_cycle_inv;
}
