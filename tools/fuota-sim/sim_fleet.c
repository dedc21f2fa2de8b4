/* The simulated fleet: devices and gateways drawn from the seed, and the fleet JSON that a script
 * posts to fuotad's REST API (POST /api/v1/devices takes each element of "devices" as it is);
 * its "sim" entries add what only the simulator knows (misbehaviour, loss, gateways, the TS006
 * firmware versions fw_version and image_fw_version). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "fuota/err.h"
#include "sim.h"

uint64_t sim_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double sim_rand01(uint64_t *state)
{
	return (double)(sim_rand(state) >> 11) / 9007199254740992.0; /* [0, 1) */
}

/* The registered root key of device i: SHA-256("fuota-sim key" | seed LE64 | i LE32)[0..15], so
 * a fleet is the same for the same seed on every machine. */
static int derive_key(uint64_t seed, uint32_t i, uint8_t key[16])
{
	uint8_t in[13 + 12], md[32];
	unsigned md_len = 0;
	memcpy(in, "fuota-sim key", 13);
	for (int b = 0; b < 8; b++)
		in[13 + b] = (uint8_t)(seed >> (8 * b));
	for (int b = 0; b < 4; b++)
		in[21 + b] = (uint8_t)(i >> (8 * b));
	if (EVP_Digest(in, sizeof(in), md, &md_len, EVP_sha256(), NULL) != 1)
		return FUOTA_ERR_CRYPTO;
	memcpy(key, md, 16);
	return FUOTA_OK;
}

static uint32_t pick_misbehaviour(const struct sim_opts *o, uint32_t i, uint64_t *rng)
{
	uint32_t flags = 0;
	for (size_t k = 0; k < o->n_mb; k++) {
		const struct sim_mb_spec *m = &o->mb[k];
		double r = sim_rand01(
		        rng); /* drawn for every spec, so specs do not shift each other */
		if (m->n_idx == 0) {
			if (r < m->fraction)
				flags |= m->flag;
			continue;
		}
		for (size_t j = 0; j < m->n_idx; j++)
			if (m->idx[j] == i)
				flags |= m->flag;
	}
	return flags;
}

/* The version --fw-version / --image-fw-version give device i: the last spec that names it (or
 * names no device, so every one), else 0. */
static uint32_t fw_for(const struct sim_fw_spec *specs, size_t n, uint32_t i)
{
	uint32_t v = 0;
	for (size_t k = 0; k < n; k++) {
		bool hit = specs[k].n_idx == 0;
		for (size_t j = 0; j < specs[k].n_idx; j++)
			hit |= specs[k].idx[j] == i;
		if (hit)
			v = specs[k].version;
	}
	return v;
}

static int gw_add_dev(struct sim_gw *g, uint32_t dev)
{
	if (g->n_devs == g->cap_devs) {
		size_t cap = g->cap_devs ? 2 * g->cap_devs : 16;
		uint32_t *p = realloc(g->devs, cap * sizeof(*p));
		if (!p)
			return FUOTA_ERR_NO_MEMORY;
		g->devs = p;
		g->cap_devs = cap;
	}
	g->devs[g->n_devs++] = dev;
	return FUOTA_OK;
}

int sim_fleet_build(struct sim *s, int64_t now_ms)
{
	const struct sim_opts *o = &s->o;
	s->n_gws = o->n_gateways;
	s->gws = calloc(s->n_gws, sizeof(*s->gws));
	s->n_nodes = o->n_devices;
	s->nodes = calloc(s->n_nodes, sizeof(*s->nodes));
	if (!s->gws || !s->nodes)
		return FUOTA_ERR_NO_MEMORY;
	uint32_t n_gnss = (uint32_t)(o->gnss_fraction * s->n_gws + 0.5);
	for (uint32_t g = 0; g < s->n_gws; g++) {
		snprintf(s->gws[g].id, sizeof(s->gws[g].id), "%016llx",
		         (unsigned long long)(o->gw_eui_base + g));
		s->gws[g].gnss = g < n_gnss;
		s->gws[g].udp_fd = -1;
		s->gws[g].json = o->gw_encoding == SIM_GW_JSON ||
		                 (o->gw_encoding == SIM_GW_MIXED && g % 2 == 1);
		s->gws[g].next_stats_ms =
		        now_ms; /* the first stats at once: the encoding is known */
	}
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		struct sim_node *n = &s->nodes[i];
		uint64_t rng = o->seed * 0x2545f4914f6cdd1dull ^ ((uint64_t)i << 32 | i);
		n->index = i;
		snprintf(n->eui, sizeof(n->eui), "%016llx",
		         (unsigned long long)(o->dev_eui_base + i));
		if (derive_key(o->seed, i, n->registered_key) != FUOTA_OK)
			return FUOTA_ERR_CRYPTO;
		bool lw11 = sim_rand01(&rng) < o->lw11_fraction;
		int version = sim_rand01(&rng) < o->v2_fraction ? 2 : 1;
		n->dev_class = o->dev_class;
		if (o->dev_class == 'C' && sim_rand01(&rng) < o->classb_fraction)
			n->dev_class = 'B';
		n->loss = o->loss_min + (o->loss_max - o->loss_min) * sim_rand01(&rng);
		double offset = (2 * sim_rand01(&rng) - 1) * o->clock_offset_max_s;
		double drift = (2 * sim_rand01(&rng) - 1) * o->drift_ppm_max;
		n->misbehave = pick_misbehaviour(o, i, &rng);
		n->rng = sim_rand(&rng);
		n->next_uplink_ms =
		        now_ms + (int64_t)(sim_rand01(&rng) * o->uplink_period_s * 1000);
		for (uint32_t k = 0; k < o->coverage; k++) {
			uint32_t g = (i + k) % s->n_gws;
			n->gws[n->n_gws++] = g;
			if (gw_add_dev(&s->gws[g], i) != FUOTA_OK)
				return FUOTA_ERR_NO_MEMORY;
		}

		struct sim_dev_cfg c;
		memset(&c, 0, sizeof(c));
		c.dev_eui = o->dev_eui_base + i;
		c.lorawan11 = lw11;
		memcpy(c.root_key, n->registered_key, 16);
		if (n->misbehave & SIM_MB_WRONG_KEY)
			c.root_key[15] ^= 0x5a; /* provisioned with another key than registered */
		c.clk_version = c.mc_version = c.frag_version = version;
		c.v2_seed = o->v2_seed;
		c.region = o->region;
		c.mem_limit = o->mem_limit;
		c.clock_offset_ms = (int64_t)(offset * 1000);
		c.drift_ppm = (int32_t)drift;
		c.misbehave = n->misbehave & ~SIM_MB_WRONG_KEY;
		c.late_s = o->late_s;
		c.fw_version = fw_for(o->fw, o->n_fw, i);
		c.image_fw_version = fw_for(o->image_fw, o->n_image_fw, i);
		c.resync_s = o->resync_s;
		c.has_expected_sha256 = o->has_sha256;
		memcpy(c.expected_sha256, o->sha256, 32);
		c.seed = sim_rand(&rng);
		c.uplink_period_ms = (uint32_t)(o->uplink_period_s * 1000);
		c.done_grace_ms = o->done_grace_s < 0 ? -1 : (int64_t)(o->done_grace_s * 1000);
		n->uc_rng = sim_rand(&rng); /* drawn last: the draws above stay as they were */
		if (sim_dev_init(&n->dev, &c, now_ms) != FUOTA_OK)
			return FUOTA_ERR_INVALID_ARG;
		n->dev.mc_cache = &s->mc_cache; /* a frame checked once per group's keys */
	}
	return FUOTA_OK;
}

void sim_fleet_free(struct sim *s)
{
	for (uint32_t i = 0; s->nodes && i < s->n_nodes; i++)
		sim_dev_free(&s->nodes[i].dev);
	for (uint32_t g = 0; s->gws && g < s->n_gws; g++) {
		free(s->gws[g].tx);
		free(s->gws[g].devs);
	}
	free(s->nodes);
	free(s->gws);
	s->nodes = NULL;
	s->gws = NULL;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

json_t *sim_misbehave_json(uint32_t flags)
{
	json_t *a = json_array();
	if (flags & SIM_MB_SILENT)
		json_array_append_new(a, json_string("silent"));
	if (flags & SIM_MB_LATE)
		json_array_append_new(a, json_string("late"));
	if (flags & SIM_MB_WRONG_KEY)
		json_array_append_new(a, json_string("wrong-key"));
	if (flags & SIM_MB_REJECT_FRAG)
		json_array_append_new(a, json_string("reject-frag"));
	if (flags & SIM_MB_WRONG_MCKEY)
		json_array_append_new(a, json_string("wrong-mckey"));
	if (flags & SIM_MB_LORAMAC_NODE)
		json_array_append_new(a, json_string("loramac-node"));
	if (flags & SIM_MB_LBM_MISSING)
		json_array_append_new(a, json_string("lbm-missing"));
	if (flags & SIM_MB_LBM_RESYNC)
		json_array_append_new(a, json_string("lbm-resync"));
	if (flags & SIM_MB_TS006)
		json_array_append_new(a, json_string("ts006"));
	return a;
}

char *sim_fleet_json(const struct sim *s)
{
	json_t *root = json_object();
	json_t *devs = json_array();
	json_t *sims = json_array();
	json_t *gws = json_array();
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		const struct sim_node *n = &s->nodes[i];
		const struct sim_dev_cfg *c = &n->dev.cfg;
		char key[33];
		hex(n->registered_key, 16, key);
		char cls[2] = {n->dev_class, 0};
		json_t *d = json_pack(
		        "{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i, s:i}}", "dev_eui", n->eui,
		        "application_id", s->o.app_id, "lorawan_version",
		        c->lorawan11 ? "1.1.0" : "1.0.4", c->lorawan11 ? "app_key" : "gen_app_key",
		        key, "class", cls, "region", s->o.region->name, "packages", "ts003",
		        c->clk_version, "ts004", c->frag_version, "ts005", c->mc_version);
		/* The stack fuotad reads the device's status answers by (REST "stack"). */
		if (n->misbehave & SIM_MB_LORAMAC_NODE)
			json_object_set_new(d, "stack", json_string("loramac-node"));
		else if (n->misbehave & (SIM_MB_LBM_MISSING | SIM_MB_LBM_RESYNC))
			json_object_set_new(d, "stack", json_string("lbm"));
		if (n->misbehave & SIM_MB_TS006)
			json_object_set_new(json_object_get(d, "packages"), "ts006",
			                    json_integer(1));
		json_array_append_new(devs, d);
		json_t *gl = json_array();
		for (size_t k = 0; k < n->n_gws; k++)
			json_array_append_new(gl, json_string(s->gws[n->gws[k]].id));
		json_array_append_new(sims, json_pack("{s:s, s:I, s:o, s:f, s:o, s:I, s:I}",
		                                      "dev_eui", n->eui, "index", (json_int_t)i,
		                                      "misbehave", sim_misbehave_json(n->misbehave),
		                                      "loss", n->loss, "gateways", gl, "fw_version",
		                                      (json_int_t)c->fw_version, "image_fw_version",
		                                      (json_int_t)c->image_fw_version));
	}
	for (uint32_t g = 0; g < s->n_gws; g++)
		json_array_append_new(gws, json_pack("{s:s, s:b, s:s}", "gateway_id", s->gws[g].id,
		                                     "gnss", s->gws[g].gnss, "encoding",
		                                     s->gws[g].json ? "json" : "protobuf"));
	json_object_set_new(root, "region", json_string(s->o.region->name));
	json_object_set_new(root, "application_id", json_string(s->o.app_id));
	json_object_set_new(root, "seed", json_integer((json_int_t)s->o.seed));
	json_object_set_new(root, "devices", devs);
	json_object_set_new(root, "sim", sims);
	json_object_set_new(root, "gateways", gws);
	char *out = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return out;
}
