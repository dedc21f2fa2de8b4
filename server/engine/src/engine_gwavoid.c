/* Gateways kept from a new multicast session while their modem updates (engine_gwavoid.h). */
#include "engine_gwavoid.h"

#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/modem_gw.h"
#include "fuota/store_modem.h"

/* A running update whose expected end has passed is still running (the gateway says when it is
 * over): it is waited for this much longer. */
#define OVERDUE_WAIT_MS (10 * 60 * 1000)

/* The updates of gateway gw among busy[0..n), as the policy counts them: *until_ms the latest
 * expected end. */
static enum modem_gw_use gw_use(const struct seng_modem_busy *busy, size_t n, const char *gw,
                                int64_t from_ms, int64_t to_ms, int64_t now_ms, int64_t *until_ms)
{
	struct modem_gw_update u[8];
	size_t k = 0;

	for (size_t i = 0; i < n && k < 8; i++) {
		enum modem_method m = MODEM_UFOTA;
		int64_t dur = 0, end;

		if (strcmp(busy[i].gw, gw) != 0)
			continue;
		(void)policy_modem_method_parse(busy[i].method, &m);
		if (policy_modem_update_ms(m,
		                           busy[i].image_size > 0 ? (uint64_t)busy[i].image_size
		                                                  : UINT64_C(6) << 20,
		                           &dur) != FUOTA_OK)
			dur = 0;
		u[k].running = strcmp(busy[i].state, "scheduled") != 0;
		u[k].start_ms = busy[i].start_ms;
		u[k].duration_ms = dur;
		end = busy[i].start_ms + dur;
		if (u[k].running && end < now_ms + OVERDUE_WAIT_MS)
			end = now_ms + OVERDUE_WAIT_MS;
		if (end > *until_ms)
			*until_ms = end;
		k++;
	}
	return policy_modem_gw_use(u, k, from_ms, to_ms);
}

/* Drops the edges of kept-out gateways (skip[g] set) and marks the devices left without any. */
static void drop_edges(const struct seng_edges *ed, struct engine_edge *edges, size_t *n_edges,
                       const uint8_t *skip, struct engine_gw_skip *out)
{
	uint8_t *had = calloc(ed->n_dev + 1, 1), *has = calloc(ed->n_dev + 1, 1);
	size_t k = 0;

	for (size_t i = 0; i < *n_edges; i++) {
		if (had)
			had[edges[i].dev] = 1;
		if (skip[edges[i].gw])
			continue;
		if (has)
			has[edges[i].dev] = 1;
		edges[k++] = edges[i];
	}
	*n_edges = k;
	for (size_t d = 0; had && has && d < ed->n_dev; d++)
		if (had[d] && !has[d]) {
			out->lost[d] = 1;
			out->n_lost++;
		}
	free(had);
	free(has);
}

int engine_gw_avoid(struct engine *e, const struct seng_edges *ed, struct engine_edge *edges,
                    size_t *n_edges, int64_t from_ms, int64_t to_ms, int64_t now_ms,
                    struct engine_gw_skip *out)
{
	struct seng_modem_busy *busy = NULL;
	uint8_t *skip = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->lost = calloc(ed->n_dev + 1, 1);
	skip = calloc(ed->n_gw + 1, 1);
	if (!out->lost || !skip) {
		free(skip);
		return FUOTA_ERR_NO_MEMORY;
	}
	rc = seng_modem_busy(e->store, (const char(*)[17])ed->gw_ids, ed->n_gw, &busy, &n);
	for (size_t g = 0; rc == FUOTA_OK && n > 0 && g < ed->n_gw; g++) {
		enum modem_gw_use v =
		        gw_use(busy, n, ed->gw_ids[g], from_ms, to_ms, now_ms, &out->until_ms);

		if (v == MODEM_GW_FREE)
			continue;
		skip[g] = 1;
		out->n_skipped++;
		if (!out->gateways)
			out->gateways = json_array();
		json_array_append_new(out->gateways,
		                      json_pack("{s:s, s:s}", "gateway_id", ed->gw_ids[g], "reason",
		                                policy_modem_gw_use_str(v)));
	}
	if (rc == FUOTA_OK && out->n_skipped > 0)
		drop_edges(ed, edges, n_edges, skip, out);
	free(busy);
	free(skip);
	return rc;
}

void engine_gw_skip_free(struct engine_gw_skip *s)
{
	if (!s)
		return;
	free(s->lost);
	json_decref(s->gateways);
	memset(s, 0, sizeof(*s));
}
