/* TS005 session timing: class C windows, class B beacon periods and ping slots, TimeToStart.
 *
 * Times: GPS seconds (`_s`) or milliseconds (`_ms`) since 1980-01-06, as int64. SessionTime on the
 * air is GPS seconds mod 2^32; the caller lifts it into the full time line.
 *
 * Class B (LoRaWAN class B chapter, as implemented by LoRaMac-node LoRaMacClassBConfig.h /
 * LoRaMacClassB.c: CLASSB_BEACON_INTERVAL 128000 ms, CLASSB_BEACON_RESERVED 2120 ms,
 * CLASSB_PING_SLOT_WINDOW 30 ms, "add the reserved time and the ping offset"; and by ChirpStack
 * chirpstack/src/downlink/classb.rs: BEACON_RESERVED 2120 ms, SLOT_LEN 30 ms, whose
 * test_get_next_ping_slot_after vectors tests/unit/test_mc.c checks): a beacon is sent at every
 * GPS second multiple of 128 (BeaconTime). The first 2.120 s of the period are the beacon
 * reserved time; the 122.88 s beacon window after it is cut into 4096 slots of 30 ms. With
 * Periodicity p (0..7) a device opens pingNb = 2^(7-p) slots per period, one every
 * pingPeriod = 2^(5+p) slots, starting at slot pingOffset = (c[0] + 256 c[1]) mod pingPeriod,
 * c = aes128_encrypt(16 zero bytes, BeaconTime (4, LE, GPS s mod 2^32) | McAddr (4, LE) |
 * 8 zero bytes). Slot n starts at BeaconTime + 2.120 s + (pingOffset + n * pingPeriod) * 30 ms.
 *
 * Pure functions: no I/O, no globals. They return FUOTA_OK or a negative enum fuota_err. */
#ifndef FUOTA_MC_SESSION_H
#define FUOTA_MC_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#define MC_BEACON_PERIOD_S     128
#define MC_BEACON_RESERVED_MS  2120
#define MC_PING_SLOT_MS        30
#define MC_BEACON_WINDOW_SLOTS 4096

/* End (exclusive) of a class C session: session_start_s + 2^timeout s. timeout 0..15. */
int mc_classc_end(int64_t session_start_s, uint8_t timeout, int64_t *end_s);

/* SessionTime of a class B session, aligned down to its beacon period (ChirpStack v4 flow.rs). */
uint32_t mc_classb_align(uint32_t session_time);

/* End (exclusive) of a class B session: session_start_s + 2^timeout * 128 s. timeout 0..15. */
int mc_classb_end(int64_t session_start_s, uint8_t timeout, int64_t *end_s);

/* pingNb = 2^(7-p) and pingPeriod = 2^(5+p) slots for periodicity p in 0..7. */
int mc_ping_nb(uint8_t periodicity, uint32_t *ping_nb);
int mc_ping_period_slots(uint8_t periodicity, uint32_t *slots);

/* Ping offset (in slots, < pingPeriod) of McAddr in the beacon period that starts at beacon_time
 * (GPS seconds; only its value mod 2^32 enters the block). FUOTA_ERR_CRYPTO if AES fails. */
int mc_ping_offset(int64_t beacon_time_s, uint32_t mc_addr, uint8_t periodicity, uint32_t *offset);

/* Ping-slot channel plan of a region (the tables live in lorawan/): US915 hops over 8 channels,
 * 923.3 MHz + 0.6 MHz k, k = (McAddr + floor(BeaconTime / 128)) mod 8 (brocaar
 * GetPingSlotFrequency); EU868 has one channel (nb_channels 1, base 869.525 MHz, step 0). */
struct mc_classb_channels {
	uint32_t nb_channels;
	uint32_t base_hz;
	uint32_t step_hz;
};

/* Ping-slot frequency of McAddr in the beacon period starting at beacon_time_s (>= 0).
 * FUOTA_ERR_INVALID_ARG for nb_channels 0 or a frequency beyond 32 bits. */
int mc_ping_slot_freq(const struct mc_classb_channels *plan, uint32_t mc_addr,
                      int64_t beacon_time_s, uint32_t *freq_hz);

/* A class B multicast session as the server schedules it. */
struct mc_classb_session {
	uint32_t mc_addr;
	int64_t start_s;     /* SessionTime, normally a beacon-period boundary */
	uint8_t timeout;     /* 0..15: the session lasts 2^timeout beacon periods */
	uint8_t periodicity; /* 0..7 */
	uint32_t dl_freq_hz; /* DLFrequ of McClassBSessionReq; 0: hop over plan (LoRaMac-node) */
	struct mc_classb_channels plan;
};

struct mc_slot {
	int64_t start_ms;      /* when the frame must start on air, GPS ms */
	uint32_t freq_hz;      /* where */
	int64_t beacon_time_s; /* the beacon period it belongs to */
	uint32_t n;            /* index of the slot within the period, 0..pingNb-1 */
};

/* The first ping slot of the session that starts strictly after after_ms (as ChirpStack's
 * get_next_ping_slot_after) and not before the session start. Returns FUOTA_OK,
 * FUOTA_ERR_NOT_FOUND when no slot starts before the session ends, FUOTA_ERR_INVALID_ARG for
 * out-of-range parameters, FUOTA_ERR_CRYPTO. */
int mc_classb_next_slot(const struct mc_classb_session *s, int64_t after_ms, struct mc_slot *slot);

/* Device side: TimeToStart of a session answer. session_time and now_s are GPS seconds mod 2^32,
 * compared modulo 2^32. With an unsynchronised clock TimeToStart is 0xFFFFFF (Zephyr, LBM). A start
 * in the past (session_time - now < 0) sets *start_missed (Zephyr; v2 StartMissed) and leaves
 * *time_to_start 0; otherwise the difference saturates at 0xFFFFFF (24 bits). */
void mc_time_to_start(uint32_t session_time, uint32_t now_s, bool clock_synced,
                      uint32_t *time_to_start, bool *start_missed);

#endif
