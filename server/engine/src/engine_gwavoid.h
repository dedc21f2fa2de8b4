/* Issue 12's rule on fuotad's side: a gateway whose modem updates, or is about to during the
 * session, does not carry a new multicast session (policy_modem_gw_use). Used by the session
 * phase when it picks the gateways (engine_phase.c). */
#ifndef FUOTA_ENGINE_GWAVOID_H
#define FUOTA_ENGINE_GWAVOID_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/engine_calc.h"
#include "fuota/store_engine.h"

struct engine;

/* The gateways kept out of a session and what it costs. */
struct engine_gw_skip {
	size_t n_skipped; /* gateways kept out */
	size_t n_lost;    /* devices only they heard */
	uint8_t *lost;    /* per device of the edges: 1 when only kept-out gateways heard it */
	int64_t until_ms; /* when the last of their updates is expected to be over */
	json_t *gateways; /* [{"gateway_id", "reason"}], NULL when none kept out */
};

/* Of the gateways of ed (edges[0..*n_edges) between its devices and gateways), those that may
 * not carry a session over [from_ms, to_ms) at now_ms: their edges removed (*n_edges shrinks),
 * out filled. FUOTA_OK, or the store's error (then nothing removed). */
int engine_gw_avoid(struct engine *e, const struct seng_edges *ed, struct engine_edge *edges,
                    size_t *n_edges, int64_t from_ms, int64_t to_ms, int64_t now_ms,
                    struct engine_gw_skip *out);
void engine_gw_skip_free(struct engine_gw_skip *s);

#endif
