/* Time on air of a LoRa or FSK frame, and the duty-cycle arithmetic built on it.
 *
 * LoRa: Semtech SX127x datasheet / AN1200.13 formula,
 *   Tsym     = 2^SF / BW
 *   Tpre     = (preamble_symbols + 4.25) * Tsym
 *   nPayload = 8 + max(ceil((8 PL - 4 SF + 28 + 16 CRC - 20 IH) / (4 (SF - 2 DE))) * (CR + 4), 0)
 *   T        = Tpre + nPayload * Tsym
 * with PL = PHYPayload bytes, IH = 1 for an implicit header, DE = 1 (low-data-rate optimisation)
 * when Tsym >= 16 ms (SF11 and SF12 at 125 kHz, SF12 at 250 kHz), CR = 1..4 for 4/5..4/8.
 * FSK: (preamble bytes + 3 sync-word bytes + 1 length byte + PL + 2 CRC bytes if CRC) * 8 bits at
 * the DR's bit rate.
 * LoRaWAN uses an 8-symbol LoRa preamble, explicit header, CR 4/5, a payload CRC on uplinks only
 * (downlinks have none), and for FSK a 5-byte preamble with CRC in both directions. */
#ifndef FUOTA_LW_AIRTIME_H
#define FUOTA_LW_AIRTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/lw_region.h"

#define LW_LORA_PREAMBLE_SYMBOLS 8u /* LoRaWAN LoRa preamble */
#define LW_FSK_PREAMBLE_BYTES    5u /* LoRaWAN FSK preamble */

struct lw_airtime_params {
	uint16_t preamble; /* LoRa: preamble symbols; FSK: preamble bytes */
	bool explicit_header;
	bool crc;            /* payload CRC present */
	uint8_t coding_rate; /* LoRa: 1..4 = 4/5..4/8 (ignored for FSK) */
};

/* Fills p with the LoRaWAN settings for dr's modulation: LoRa 8 symbols, explicit header,
 * CR 4/5, CRC only if !downlink; FSK 5 bytes with CRC. */
void lw_airtime_lorawan_params(const struct lw_dr *dr, bool downlink, struct lw_airtime_params *p);

/* Time on air of a frame of phy_len PHYPayload bytes (a data frame with FPort and no FOpts is
 * FRMPayload + LW_DATA_FRAME_OVERHEAD), rounded up to whole microseconds, in *us.
 * Returns FUOTA_OK, or FUOTA_ERR_INVALID_ARG for NULL pointers, phy_len > 255, a LoRa SF outside
 * 7..12, a zero bandwidth or bit rate, or a coding rate outside 1..4. */
int lw_airtime_us(const struct lw_dr *dr, size_t phy_len, const struct lw_airtime_params *p,
                  uint64_t *us);

/* lw_airtime_us with lw_airtime_lorawan_params(dr, downlink). */
int lw_airtime_lorawan_us(const struct lw_dr *dr, size_t phy_len, bool downlink, uint64_t *us);

/* Shortest start-to-start interval between frames of airtime_us each that keeps a transmitter
 * within a 1/duty_cycle_inv duty cycle (the frame plus its off time): airtime_us * duty_cycle_inv.
 * duty_cycle_inv 0 or 1 means no limit (returns airtime_us). Saturates at UINT64_MAX. */
uint64_t lw_duty_cycle_interval_us(uint64_t airtime_us, uint16_t duty_cycle_inv);

#endif
