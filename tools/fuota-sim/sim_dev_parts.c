/* A device assembling an image carried in parts (fuota/frag_part.h) for fuota-sim (see
 * sim_dev.h): the image store, one decoder per part's session writing into it, the per-part MIC
 * and the whole image's SHA-256. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fuota/err.h"
#include "fuota/frag_mic.h"
#include "sim_dev.h"
#include "sim_dev_int.h"

static bool bit_get(const uint8_t *set, unsigned k)
{
	return set[k / 8] >> (k % 8) & 1u;
}

static void bit_put(uint8_t *set, unsigned k, bool on)
{
	if (on)
		set[k / 8] = (uint8_t)(set[k / 8] | 1u << (k % 8));
	else
		set[k / 8] = (uint8_t)(set[k / 8] & ~(1u << (k % 8)));
}

static uint32_t bit_count(const uint8_t *set)
{
	uint32_t n = 0;
	for (unsigned k = 0; k < 256; k++)
		n += bit_get(set, k);
	return n;
}

int sim_part_check(const struct frag_setup_req *r, struct frag_part *p, char *why, size_t n)
{
	const uint8_t *x = r->descriptor;
	memset(p, 0, sizeof(*p));
	if (frag_part_decode(x, p) != FUOTA_OK) {
		snprintf(why, n, "%02x%02x%02x%02x is not a part", x[0], x[1], x[2], x[3]);
		return FUOTA_ERR_MALFORMED;
	}
	/* Every part but the last has exactly F fragments and no padding (frag_part.h). */
	if (!frag_part_is_last(p) && (r->nb_frag != p->full_frags || r->padding != 0)) {
		snprintf(why, n, "part %u of %u: NbFrag %u Padding %u, F %u", p->index, p->count,
		         r->nb_frag, r->padding, p->full_frags);
		memset(p, 0, sizeof(*p));
		return FUOTA_ERR_MALFORMED;
	}
	return FUOTA_OK;
}

static bool same_image(const struct sim_image *img, const struct frag_part *p, uint32_t frag_size)
{
	return img && img->count == p->count && img->full_frags == p->full_frags &&
	       img->frag_size == frag_size;
}

/* The store's size once part p (r) is set up: exact from the last part on (the last part starts
 * at (P - 1) F S), P F S before. */
static uint64_t store_cap(const struct sim_dev *d, const struct frag_part *p,
                          const struct frag_setup_req *r)
{
	uint64_t s = r->frag_size, f = p->full_frags;
	if (frag_part_is_last(p))
		return frag_part_offset(p, r->frag_size) + (uint64_t)r->nb_frag * s;
	if (same_image(d->img, p, r->frag_size) && d->img->len)
		return d->img->cap;
	return (uint64_t)p->count * f * s;
}

/* RAM of the decoders of parts still decoding, FragIndex idx left out (it is replaced). */
static uint64_t others_ram(const struct sim_dev *d, uint8_t idx)
{
	uint64_t ram = 0;
	for (uint8_t i = 0; i < SIM_FRAG_SESSIONS; i++)
		if (i != idx && d->frag[i].active && d->frag[i].part.count)
			ram += d->frag[i].mem_len;
	return ram;
}

uint64_t sim_part_need(const struct sim_dev *d, uint8_t idx, const struct frag_part *p,
                       const struct frag_setup_req *r)
{
	size_t ram = frag_lean_mem_size(r->nb_frag, r->frag_size, 0);
	if (ram == 0)
		return UINT64_MAX;
	uint64_t others = same_image(d->img, p, r->frag_size) ? others_ram(d, idx) : 0;
	return store_cap(d, p, r) + others + ram;
}

void sim_image_drop(struct sim_dev *d)
{
	for (int i = 0; i < SIM_FRAG_SESSIONS; i++)
		if (d->frag[i].active && d->frag[i].part.count)
			sim_frag_drop(&d->frag[i]);
	if (d->img) {
		free(d->img->bytes);
		free(d->img);
		d->img = NULL;
	}
	d->rep.parts_expected = 0;
	d->rep.parts_received = 0;
}

bool sim_image_incomplete(const struct sim_dev *d)
{
	return d->img && bit_count(d->img->rebuilt) < d->img->count;
}

/* The store of the image part p belongs to, cap bytes (grown or cut: the bytes of other parts
 * stay where they are). */
static int image_for(struct sim_dev *d, const struct frag_part *p, uint32_t frag_size, size_t cap)
{
	if (!same_image(d->img, p, frag_size)) {
		sim_image_drop(d);
		d->img = calloc(1, sizeof(*d->img));
		if (!d->img)
			return FUOTA_ERR_NO_SPACE;
		d->img->count = p->count;
		d->img->full_frags = p->full_frags;
		d->img->frag_size = frag_size;
		/* what the report says of the image is of this one from now on */
		d->rep.sha_checked = d->rep.sha_ok = false;
		d->rep.mic_checked = d->rep.mic_ok = false;
	}
	struct sim_image *img = d->img;
	if (cap != img->cap) {
		uint8_t *b = realloc(img->bytes, cap);
		if (!b)
			return FUOTA_ERR_NO_SPACE;
		if (cap > img->cap)
			memset(b + img->cap, 0xff, cap - img->cap); /* erased */
		img->bytes = b;
		img->cap = cap;
	}
	return FUOTA_OK;
}

int sim_part_start(struct sim_dev *d, uint8_t idx, const struct frag_part *p,
                   const struct frag_setup_req *r, struct sim_frag *fresh)
{
	uint64_t cap = store_cap(d, p, r);
	uint64_t others = same_image(d->img, p, r->frag_size) ? others_ram(d, idx) : 0;
	size_t slot = (size_t)r->nb_frag * r->frag_size;
	if (cap + others > d->cfg.mem_limit ||
	    image_for(d, p, r->frag_size, (size_t)cap) != FUOTA_OK)
		return FUOTA_ERR_NO_SPACE;
	struct sim_image *img = d->img;
	if (frag_part_is_last(p))
		img->len = (size_t)cap - r->padding;
	fresh->flash = malloc(sizeof(*fresh->flash));
	if (!fresh->flash)
		return FUOTA_ERR_NO_SPACE;
	fresh->flash->len = slot;
	fresh->flash->store = img;
	fresh->flash->off = (size_t)frag_part_offset(p, r->frag_size);
	/* Taken again (a restarted server): its place is erased and it counts once rebuilt. */
	memset(img->bytes + fresh->flash->off, 0xff, slot);
	bit_put(img->rebuilt, p->index, false);
	bit_put(img->bad_mic, p->index, false);
	d->rep.decoded = d->rep.verified = false;
	d->rep.parts_expected = p->count;
	d->rep.parts_received = bit_count(img->rebuilt);
	return sim_lean_init(d, fresh, r, d->cfg.mem_limit - (size_t)cap - (size_t)others);
}

/* Every part is rebuilt: the whole image against the expected SHA-256. */
static void whole_done(struct sim_dev *d)
{
	const struct sim_image *img = d->img;
	bool ok = bit_count(img->bad_mic) == 0;
	d->rep.steps |= SIM_STEP_DECODED;
	d->rep.decoded = true;
	d->rep.counts.images++;
	if (d->cfg.has_expected_sha256) {
		uint8_t md[32];
		unsigned md_len = 0;
		d->rep.sha_checked = true;
		d->rep.sha_ok =
		        EVP_Digest(img->bytes, img->len, md, &md_len, EVP_sha256(), NULL) == 1 &&
		        md_len == 32 && memcmp(md, d->cfg.expected_sha256, 32) == 0;
		if (!d->rep.sha_ok) {
			sim_fail(d,
			         "image assembled from %u parts (%zu bytes) differs from the "
			         "original (SHA-256)",
			         img->count, img->len);
			ok = false;
		}
	}
	if (ok && (d->rep.sha_checked || d->rep.mic_checked)) {
		d->rep.verified = true;
		d->rep.steps |= SIM_STEP_VERIFIED;
	}
}

/* The v2 data-block MIC of a rebuilt part, over the part's bytes (padding left out). */
static bool part_mic_ok(struct sim_dev *d, const struct sim_frag *s)
{
	uint8_t key[16], mic[4];
	struct frag_mic_params p = {.session_cnt = s->req.session_cnt,
	                            .frag_index = s->req.frag_index};
	memcpy(p.descriptor, s->req.descriptor, 4);
	bool ok = !(d->cfg.misbehave & SIM_MB_BAD_MIC) &&
	          frag_mic_key(d->cfg.root_key, key) == FUOTA_OK &&
	          frag_mic_compute(key, &p, d->img->bytes + s->flash->off,
	                           s->flash->len - s->req.padding, mic) == FUOTA_OK &&
	          memcmp(mic, s->req.mic, 4) == 0;
	memset(key, 0, sizeof(key));
	return ok;
}

void sim_part_done(struct sim_dev *d, int64_t now_ms, struct sim_frag *s)
{
	/* Its decoding is over, rebuilt or not: a device frees the decoder's RAM. */
	free(s->mem);
	s->mem = NULL;
	s->mem_len = 0;
	if (frag_lean_state(&s->dec) != FRAG_DEC_DONE || !d->img ||
	    s->flash->off + s->flash->len > d->img->cap)
		return; /* not rebuilt, or its place was cut by another last part */
	unsigned k = s->part.index;
	bool ok = true;
	d->rep.counts.parts++;
	if (d->cfg.frag_version >= 2) {
		ok = part_mic_ok(d, s);
		s->mic_error = !ok;
		d->rep.mic_checked = true;
		if (!ok)
			sim_fail(d,
			         "part k=%u of %u: data-block MIC does not match its "
			         "FragSessionSetupReq",
			         k, s->part.count);
		sim_frag_ack_arm(d, now_ms, s);
	}
	bit_put(d->img->rebuilt, k, ok);
	bit_put(d->img->bad_mic, k, !ok);
	d->rep.mic_ok = bit_count(d->img->bad_mic) == 0;
	d->rep.parts_received = bit_count(d->img->rebuilt);
	if (d->rep.parts_received == d->img->count)
		whole_done(d);
}
