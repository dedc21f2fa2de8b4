/* The runner's reading of the gateways' modem states ({prefix}/gateway/{id}/state/modem, published
 * retained by fuota-gw, gateway/include/fuota/gw_state.h): checked, stored for the API, and a
 * malformed one logged once per gateway (until it publishes a good one again) and ignored. */
#ifndef FUOTA_ENGINE_GWMODEM_H
#define FUOTA_ENGINE_GWMODEM_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* The gateways whose last state message was malformed (logged already). Zeroed to start. */
struct engine_gwmodem {
	char (*bad)[17];
	size_t n_bad, cap_bad;
	uint64_t malformed; /* malformed messages ignored, logged or not */
};

/* A state message of gateway gw (16 lower-case hex digits, from its topic), read at now_ms.
 * Returns FUOTA_OK when stored, FUOTA_ERR_MALFORMED when ignored (an empty payload, the retained
 * message cleared, is ignored silently), or the store's error. */
int engine_gwmodem_on(struct engine_gwmodem *g, struct store *s, const char *gw,
                      const uint8_t *payload, size_t len, int64_t now_ms);

/* Frees what g holds; g may be zeroed or NULL. */
void engine_gwmodem_free(struct engine_gwmodem *g);

#endif
