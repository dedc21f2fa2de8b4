/* GET /api/v1/regions: the regional parameters the server checks jobs against (lorawan/'s
 * tables), so that the web UI offers each region's valid downlink data rates and frequencies
 * instead of keeping a copy of them. */
#include <jansson.h>
#include <stdlib.h>

#include "api_int.h"
#include "fuota/lw_region.h"

static json_t *dr_json(const struct lw_dr *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "dr", json_integer(d->dr));
	json_object_set_new(o, "modulation",
	                    json_string(d->modulation == LW_MOD_FSK ? "FSK" : "LoRa"));
	if (d->modulation == LW_MOD_FSK) {
		json_object_set_new(o, "bitrate_bps", json_integer(d->fsk_bitrate_bps));
	} else {
		json_object_set_new(o, "sf", json_integer(d->sf));
		json_object_set_new(o, "bandwidth_hz", json_integer(d->bandwidth_hz));
	}
	json_object_set_new(o, "max_payload", json_integer(d->max_payload));
	/* What a job at this DR sends per DataFragment (N - 3, as the plan computes it). */
	json_object_set_new(o, "max_fragment_size",
	                    json_integer(d->max_payload > LW_FRAG_HEADER_LEN
	                                         ? d->max_payload - LW_FRAG_HEADER_LEN
	                                         : 0));
	return o;
}

/* The frequencies a job is likely to use: the downlink grid where there is one, else RX2 (the
 * usual class C channel) and the class B ping-slot channel. */
static json_t *suggested(const struct lw_region *r)
{
	json_t *a = json_array();

	if (r->dl_channels) {
		for (unsigned k = 0; k < r->dl_channels; k++)
			json_array_append_new(a, json_integer((json_int_t)r->dl_first_hz +
			                                      (json_int_t)k * r->dl_step_hz));
		return a;
	}
	json_array_append_new(a, json_integer(r->rx2_freq_hz));
	if (r->ping_slot_freq_hz && r->ping_slot_freq_hz != r->rx2_freq_hz)
		json_array_append_new(a, json_integer(r->ping_slot_freq_hz));
	return a;
}

static json_t *region_json(const struct lw_region *r)
{
	json_t *o = json_object(), *drs = json_array(), *subs = json_array();

	for (size_t i = 0; i < r->n_drs; i++)
		if (r->drs[i].dirs & LW_DIR_DOWN)
			json_array_append_new(drs, dr_json(&r->drs[i]));
	for (size_t i = 0; i < r->n_subbands; i++) {
		const struct lw_subband *s = &r->subbands[i];

		json_array_append_new(subs, json_pack("{s:s, s:I, s:I, s:f, s:i}", "name", s->name,
		                                      "min_hz", (json_int_t)s->min_hz, "max_hz",
		                                      (json_int_t)s->max_hz, "duty_cycle_percent",
		                                      100.0 / s->duty_cycle_inv, "max_eirp_dbm",
		                                      (int)s->max_eirp_dbm));
	}
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "rp_name", json_string(r->rp_name));
	json_object_set_new(o, "min_hz", json_integer(r->min_hz));
	json_object_set_new(o, "max_hz", json_integer(r->max_hz));
	json_object_set_new(o, "downlink_data_rates", drs);
	json_object_set_new(o, "frequencies", suggested(r));
	json_object_set_new(o, "frequency_grid",
	                    r->dl_channels ? json_pack("{s:I, s:I, s:i}", "first_hz",
	                                               (json_int_t)r->dl_first_hz, "step_hz",
	                                               (json_int_t)r->dl_step_hz, "channels",
	                                               (int)r->dl_channels)
	                                   : json_null());
	json_object_set_new(o, "class_c",
	                    json_pack("{s:I, s:i}", "frequency_hz", (json_int_t)r->rx2_freq_hz,
	                              "dr", (int)r->rx2_dr));
	json_object_set_new(o, "class_b",
	                    json_pack("{s:I, s:i, s:i}", "ping_slot_frequency_hz",
	                              (json_int_t)r->ping_slot_freq_hz, "dr", (int)r->ping_slot_dr,
	                              "channels", (int)r->classb_channels));
	json_object_set_new(o, "subbands", subs);
	return o;
}

void api_h_regions(struct api_call *c)
{
	json_t *items = json_array(), *root;
	char *text;

	for (size_t i = 0; i < lw_region_count(); i++)
		json_array_append_new(items, region_json(lw_region_at(i)));
	root = json_pack("{s:o}", "items", items);
	text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!text) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		return;
	}
	api_reply_text(c, 200, text);
}
