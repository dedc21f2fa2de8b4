/* fuota-tool frag lean-bench: the lean device decoder (frag_lean) against a plain implementation
 * of LoRaMac-node's FragDecoder algorithm (lean_baseline.c) and the full decoder (frag_dec), on one
 * session of random data with frames lost at random, fed in order as a device receives them. The
 * image lives in a RAM "flash" behind read/write callbacks for the two device decoders (the lean
 * one also once with the flash mapped in place, struct frag_lean_io.map). Every
 * rebuilt image is compared with the original; a difference fails the run. Memory: the lean
 * decoder's frag_lean_mem_size, LoRaMac-node's figure for the same session
 * (frag_lean_loramac_mem) and the full decoder's frag_dec_mem_size, each sized for the session's
 * lost fragments (the lean one with rows batched and a read buffer, as large as keep it at or
 * below LoRaMac-node's). Times are the thread's CPU time, the best of N runs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuota/frag_dec.h"
#include "fuota/frag_lean.h"
#include "tool.h"

struct flash {
	uint8_t *bytes;
	unsigned long reads, writes;
};

static int fl_read(void *ctx, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct flash *f = ctx;

	memcpy(buf, f->bytes + off, len);
	f->reads++;
	return 0;
}

/* The RAM flash mapped in place, as a device's memory-mapped (XIP) flash is. */
static const uint8_t *fl_map(void *ctx, uint32_t off, uint32_t len)
{
	struct flash *f = ctx;

	(void)len;
	f->reads++;
	return f->bytes + off;
}

static int fl_write(void *ctx, uint32_t off, const uint8_t *buf, uint32_t len)
{
	struct flash *f = ctx;

	memcpy(f->bytes + off, buf, len);
	f->writes++;
	return 0;
}

struct lb_cfg {
	char workload;
	unsigned loss, reps, base_reps, json;
	int version;
	uint64_t seed;
};

/* One session: its frames and which are lost. */
struct lb_sess {
	uint32_t m, s, r, lost;
	uint8_t *frames, *dropped;
	struct flash fl;
	struct frag_lean_io io, io_map; /* read callback; the same with the flash mapped */
};

/* CPU time of this thread: on a shared machine the wall clock also counts the time other
 * processes hold the CPU, which swamped the differences measured here. */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int sess_make(const struct lb_cfg *c, struct lb_sess *t)
{
	size_t bytes = c->workload == 'a' ? 64u * 1024u : 1024u * 1024u;
	uint32_t pct = c->workload == 'a' ? 10 : 25;
	struct tool_encode_opts o = {.version = c->version, .threads = 1, .quiet = 1};
	uint64_t rng = c->seed | 1u;

	t->s = c->workload == 'a' ? 48 : 200;
	t->m = (uint32_t)((bytes + t->s - 1) / t->s);
	t->r = (t->m * pct + 99) / 100;
	o.frag_size = t->s;
	t->frames = calloc((size_t)(t->m + t->r), t->s);
	t->dropped = calloc(t->m + t->r, 1);
	t->fl.bytes = malloc((size_t)t->m * t->s);
	if (!t->frames || !t->dropped || !t->fl.bytes)
		return -1;
	for (size_t i = 0; i < bytes; i++)
		t->frames[i] = (uint8_t)(xs(&rng) >> 24);
	if (tool_frag_encode_frames(&o, t->m, t->r, t->frames) != 0)
		return -1;
	t->lost = 0;
	for (uint32_t i = 0; i < t->m + t->r; i++) {
		t->dropped[i] = xs(&rng) % 1000u < c->loss * 10u;
		t->lost += i < t->m && t->dropped[i];
	}
	t->io = (struct frag_lean_io){fl_read, fl_write, &t->fl, NULL};
	t->io_map = (struct frag_lean_io){fl_read, fl_write, &t->fl, fl_map};
	return 0;
}

static const uint8_t *frame(const struct lb_sess *t, uint32_t n)
{
	return t->frames + (size_t)(n - 1) * t->s;
}

/* Each run returns its time in ms, or a negative value on failure; *used = frames fed. */
/* The largest row batch whose memory keeps the lean decoder at or below LoRaMac-node's. */
static uint32_t pick_batch(const struct lb_sess *t)
{
	size_t cap = frag_lean_loramac_mem(t->m, t->s, t->lost);
	uint32_t b = FRAG_LEAN_MAX_BATCH;

	while (b >= 2u && frag_lean_mem_size(t->m, t->s, t->lost) +
	                                  frag_lean_batch_mem(t->m, t->s, t->lost, b) >
	                          cap)
		b--;
	return b >= 2u ? b : 0u;
}

/* The read buffer (fragments, up to a word's 64) that the memory left below LoRaMac-node's
 * figure holds once the batch is picked. */
static uint32_t pick_rbuf(const struct lb_sess *t)
{
	size_t cap = frag_lean_loramac_mem(t->m, t->s, t->lost);
	uint32_t b = pick_batch(t), n = FRAG_LEAN_MAX_RBUF;
	size_t base = frag_lean_mem_size(t->m, t->s, t->lost) +
	              frag_lean_batch_mem(t->m, t->s, t->lost, b);

	if (b < 2u)
		return 0;
	while (n > 0 && base + frag_lean_rbuf_mem(t->s, n) > cap)
		n--;
	return n;
}

static size_t lean_bytes(const struct lb_sess *t)
{
	return frag_lean_mem_size(t->m, t->s, t->lost) +
	       frag_lean_batch_mem(t->m, t->s, t->lost, pick_batch(t)) +
	       frag_lean_rbuf_mem(t->s, pick_rbuf(t));
}

static double run_lean(struct lb_sess *t, const struct frag_lean_io *io, void *mem, size_t len,
                       const struct frag_code *code, uint32_t *used)
{
	struct frag_lean d;
	enum frag_dec_state st = FRAG_DEC_ONGOING;
	double t0 = now_ms();

	if (frag_lean_init_buffered(&d, code, t->s, 0, io, pick_batch(t), pick_rbuf(t), mem, len) !=
	    0)
		return -1;
	for (uint32_t n = 1; n <= t->m + t->r && st == FRAG_DEC_ONGOING; n++) {
		if (t->dropped[n - 1])
			continue;
		*used = n;
		frag_lean_process(&d, n, frame(t, n), t->s, &st);
	}
	return st == FRAG_DEC_DONE ? now_ms() - t0 : -1;
}

static double run_base(struct lb_sess *t, int version, uint32_t *used)
{
	struct lean_base b;
	int done = 0;
	double t0 = now_ms(), ms = -1;

	if (lean_base_init(&b, t->m, t->s, t->lost, &t->io, version) != 0)
		goto out;
	for (uint32_t n = 1; n <= t->m + t->r && !done; n++) {
		if (t->dropped[n - 1])
			continue;
		*used = n;
		done = lean_base_process(&b, n, frame(t, n));
	}
	if (done == 1)
		ms = now_ms() - t0;
out:
	lean_base_free(&b);
	return ms;
}

static double run_full(struct lb_sess *t, void *mem, size_t len, const struct frag_code *code)
{
	struct frag_dec d;
	enum frag_dec_state st = FRAG_DEC_ONGOING;
	const uint8_t *img;
	size_t img_len;
	double t0 = now_ms(), ms;

	if (frag_dec_init(&d, code, t->s, 0, mem, len) != 0)
		return -1;
	for (uint32_t n = 1; n <= t->m + t->r && st == FRAG_DEC_ONGOING; n++)
		if (!t->dropped[n - 1])
			frag_dec_process(&d, n, frame(t, n), t->s, &st);
	ms = now_ms() - t0;
	if (st != FRAG_DEC_DONE || frag_dec_image(&d, &img, &img_len) != 0 ||
	    memcmp(img, t->frames, img_len) != 0)
		return -1;
	return ms;
}

/* Runs `reps` times, keeps the best; checks the flash after each. which: 0 lean, 1 baseline,
 * 2 full, 3 lean with the flash mapped. */
static int timed(struct lb_sess *t, int which, unsigned reps, const struct lb_cfg *c, void *mem,
                 size_t len, const struct frag_code *code, double *best, uint32_t *used)
{
	*best = -1;
	for (unsigned i = 0; i < reps; i++) {
		double ms;

		memset(t->fl.bytes, 0xff, (size_t)t->m * t->s);
		t->fl.reads = t->fl.writes = 0;
		ms = which == 0   ? run_lean(t, &t->io, mem, len, code, used)
		     : which == 1 ? run_base(t, c->version, used)
		     : which == 2 ? run_full(t, mem, len, code)
		                  : run_lean(t, &t->io_map, mem, len, code, used);
		if (ms < 0 || (which != 2 && memcmp(t->fl.bytes, t->frames, (size_t)t->m * t->s)))
			return -1;
		if (*best < 0 || ms < *best)
			*best = ms;
	}
	return 0;
}

static int parse(int argc, char **argv, struct lb_cfg *c)
{
	static const struct option opts[] = {
	        {"workload", required_argument, NULL, 'w'},
	        {"loss", required_argument, NULL, 'l'},
	        {"reps", required_argument, NULL, 'n'},
	        {"base-reps", required_argument, NULL, 'b'},
	        {"ts004", required_argument, NULL, 'v'},
	        {"seed", required_argument, NULL, 's'},
	        {"json", no_argument, NULL, 'j'},
	        {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'w' && (!strcmp(optarg, "a") || !strcmp(optarg, "c")))
			c->workload = optarg[0];
		else if (o == 'l' && !tool_parse_u64(optarg, 50, &v))
			c->loss = (unsigned)v;
		else if ((o == 'n' || o == 'b') && !tool_parse_u64(optarg, 100, &v) && v)
			*(o == 'n' ? &c->reps : &c->base_reps) = (unsigned)v;
		else if (o == 'v' && (!strcmp(optarg, "1") || !strcmp(optarg, "2")))
			c->version = optarg[0] - '0';
		else if (o == 's' && !tool_parse_u64(optarg, UINT64_MAX, &v))
			c->seed = v;
		else if (o == 'j')
			c->json = 1;
		else
			return -1;
	}
	return optind == argc ? 0 : -1;
}

static void report(const struct lb_cfg *c, const struct lb_sess *t, const double ms[4],
                   const uint32_t used[2])
{
	size_t lean = lean_bytes(t);
	size_t lmn = frag_lean_loramac_mem(t->m, t->s, t->lost);
	size_t full = frag_dec_mem_size(t->m, t->s, t->lost);

	if (c->json) {
		printf("{\"workload\": \"%c\", \"ts004\": %d, \"loss_percent\": %u, \"nb_frag\": "
		       "%u, "
		       "\"frag_size\": %u, \"lost\": %u, \"batch\": %u, \"rbuf\": %u, "
		       "\"frames_used\": %u, "
		       "\"lean_ms\": %.3f, "
		       "\"baseline_ms\": %.3f, \"full_ms\": %.3f, \"speedup\": %.1f, "
		       "\"lean_map_ms\": %.3f, \"speedup_map\": %.1f, "
		       "\"lean_bytes\": %zu, \"loramac_bytes\": %zu, \"full_bytes\": %zu}\n",
		       c->workload, c->version, c->loss, t->m, t->s, t->lost, pick_batch(t),
		       pick_rbuf(t), used[0], ms[0], ms[1], ms[2], ms[1] / ms[0], ms[3],
		       ms[1] / ms[3], lean, lmn, full);
		return;
	}
	printf("workload %c, TS004 v%d: M %u, FragSize %u, %u %% of frames lost -> %u fragments "
	       "lost, done at frame %u (baseline %u); CPU time, best of runs\n",
	       c->workload, c->version, t->m, t->s, c->loss, t->lost, used[0], used[1]);
	printf("  lean      %9.2f ms  %7zu bytes of RAM (image in flash; rows batched by %u, "
	       "reads of up to %u fragments)\n",
	       ms[0], lean, pick_batch(t), pick_rbuf(t));
	printf("  lean, map %9.2f ms  the same, flash mapped in place (XIP): %.1fx\n", ms[3],
	       ms[1] / ms[3]);
	printf("  baseline  %9.2f ms  %7zu bytes (LoRaMac-node's layout)   lean is %.1fx faster\n",
	       ms[1], lmn, ms[1] / ms[0]);
	printf("  full      %9.2f ms  %7zu bytes + image in RAM (frag_dec, L = %u)\n", ms[2],
	       full - (size_t)t->m * t->s, t->lost);
}

int cmd_frag_lean_bench(int argc, char **argv)
{
	struct lb_cfg c = {.workload = 'c',
	                   .loss = 10,
	                   .reps = 5,
	                   .base_reps = 1,
	                   .version = 1,
	                   .seed = 0x5eed};
	struct lb_sess t = {0};
	struct frag_code code;
	double ms[4];
	uint32_t used[2] = {0, 0}, unused;
	size_t len;
	void *mem = NULL;
	int rc = TOOL_EXIT_FAIL;

	if (parse(argc, argv, &c) != 0) {
		fprintf(stderr, "usage: fuota-tool frag lean-bench [--workload a|c] [--loss PCT] "
		                "[--reps N] [--base-reps N] [--ts004 1|2] [--seed S] [--json]\n");
		return TOOL_EXIT_USAGE;
	}
	if (sess_make(&c, &t) != 0) {
		tool_err("frag lean-bench: cannot build the session");
		goto out;
	}
	code = (struct frag_code){.nb_frag = t.m, .version = c.version == 2 ? FRAG_V2 : FRAG_V1};
	len = frag_dec_mem_size(t.m, t.s, t.lost);
	mem = malloc(len); /* larger than frag_lean_mem_size: serves both */
	if (!mem || timed(&t, 0, c.reps, &c, mem, lean_bytes(&t), &code, &ms[0], &used[0]) ||
	    timed(&t, 3, c.reps, &c, mem, lean_bytes(&t), &code, &ms[3], &unused) ||
	    timed(&t, 1, c.base_reps, &c, mem, len, &code, &ms[1], &used[1]) ||
	    timed(&t, 2, c.reps, &c, mem, len, &code, &ms[2], &unused)) {
		tool_err("frag lean-bench: a decoder failed or rebuilt a wrong image");
		goto out;
	}
	report(&c, &t, ms, used);
	rc = TOOL_EXIT_OK;
out:
	free(mem);
	free(t.frames);
	free(t.dropped);
	free(t.fl.bytes);
	return rc;
}
