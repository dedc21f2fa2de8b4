/* fuota-tool frag decode: feeds the frames of an FRG1 frames file (README "Frames file") to the
 * TS004 decoder, minus the ones dropped on purpose, and writes the rebuilt image without its
 * padding. One JSON line on stdout summarises the run. Exit 0 when rebuilt, 1 when the frames
 * received do not determine the image (or on an I/O error), 2 on bad options. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuota/err.h"
#include "fuota/frag_dec.h"
#include "tool.h"

struct decode_opts {
	int version;       /* 1 or 2 */
	int absolute_seed; /* v2 seed base */
	const char *drop;  /* "N1,N2,..." or NULL */
	double loss_pct;   /* < 0: not given */
	uint64_t seed;
	int shuffle;
	int64_t max_lost; /* < 0: min(M, R), which never runs out */
};

static int usage(FILE *to, int rc)
{
	fprintf(to,
	        "usage: fuota-tool frag decode [--ts004 1|2] [--v2-seed relative|absolute]\n"
	        "                              [--drop N1,N2,... | --loss P] [--seed S] "
	        "[--shuffle]\n"
	        "                              [--max-lost L] FRAMES OUTPUT\n"
	        "  Feeds every frame of the frames file FRAMES (written by 'frag encode') to the\n"
	        "  TS004 decoder, except the dropped ones, and writes the rebuilt file (without\n"
	        "  padding) to OUTPUT. Prints one JSON line; exits 0 when rebuilt, 1 when the\n"
	        "  frames received do not determine the file (OUTPUT is then not written).\n"
	        "  --ts004 1|2          parity matrix of TS004 v1.0.0 (default) or v2.0.0\n"
	        "  --v2-seed relative   v2 seed index N - M (LBM, ChirpStack; default)\n"
	        "  --v2-seed absolute   v2 seed index N (the TS004 v2 MATLAB reading)\n"
	        "  --drop N1,N2,...     frames not delivered (DataFragment N, 1-based)\n"
	        "  --loss P             drop each frame independently with probability P %%\n"
	        "  --seed S             seed of the deterministic PRNG of --loss/--shuffle (1)\n"
	        "  --shuffle            deliver the frames in a random order\n"
	        "  --max-lost L         matrix memory for L lost fragments (default min(M, R),\n"
	        "                       which is always enough)\n");
	return rc;
}

/* splitmix64: small, deterministic and the same on every platform. */
static uint64_t prng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Marks the frames of --drop in dropped[1..total]. Returns 0 or -1 (message printed). */
static int parse_drop(const char *list, uint8_t *dropped, uint32_t total)
{
	const char *p = list;

	while (*p) {
		char num[24];
		size_t k = strcspn(p, ",");
		uint64_t n;

		if (k == 0 || k >= sizeof(num)) {
			tool_err("frag decode: --drop: bad list '%s'", list);
			return -1;
		}
		memcpy(num, p, k);
		num[k] = '\0';
		if (tool_parse_u64(num, UINT32_MAX, &n) != 0 || n == 0 || n > total) {
			tool_err("frag decode: --drop: '%s' is not a frame number 1..%u", num,
			         total);
			return -1;
		}
		dropped[n] = 1;
		p += k;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct decode_opts *o)
{
	static const struct option opts[] = {
	        {"ts004", required_argument, NULL, 'v'},
	        {"v2-seed", required_argument, NULL, 'e'},
	        {"drop", required_argument, NULL, 'd'},
	        {"loss", required_argument, NULL, 'l'},
	        {"seed", required_argument, NULL, 's'},
	        {"shuffle", no_argument, NULL, 'x'},
	        {"max-lost", required_argument, NULL, 'm'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	uint64_t v;
	char *end;
	int c;

	*o = (struct decode_opts){.version = 1, .loss_pct = -1, .seed = 1, .max_lost = -1};
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			if (tool_parse_u64(optarg, 2, &v) != 0 || v < 1)
				return usage(stderr, TOOL_EXIT_USAGE);
			o->version = (int)v;
			break;
		case 'e':
			if (strcmp(optarg, "relative") && strcmp(optarg, "absolute"))
				return usage(stderr, TOOL_EXIT_USAGE);
			o->absolute_seed = !strcmp(optarg, "absolute");
			break;
		case 'd': o->drop = optarg; break;
		case 'l':
			o->loss_pct = strtod(optarg, &end);
			if (end == optarg || *end || !(o->loss_pct >= 0 && o->loss_pct <= 100)) {
				tool_err("frag decode: --loss wants a percentage 0..100");
				return TOOL_EXIT_USAGE;
			}
			break;
		case 's':
			if (tool_parse_u64(optarg, UINT64_MAX, &o->seed) != 0)
				return usage(stderr, TOOL_EXIT_USAGE);
			break;
		case 'x': o->shuffle = 1; break;
		case 'm':
			if (tool_parse_u64(optarg, FRAG_MAX_N, &v) != 0)
				return usage(stderr, TOOL_EXIT_USAGE);
			o->max_lost = (int64_t)v;
			break;
		case 'h': return usage(stdout, TOOL_EXIT_OK);
		default: return usage(stderr, TOOL_EXIT_USAGE);
		}
	}
	if (argc - optind != 2 || (o->drop && o->loss_pct >= 0))
		return usage(stderr, TOOL_EXIT_USAGE);
	if (o->absolute_seed && o->version != 2) {
		tool_err("frag decode: --v2-seed needs --ts004 2");
		return TOOL_EXIT_USAGE;
	}
	return TOOL_EXIT_OK;
}

/* Which frames are delivered, and in which order: order[0..*count). */
static int plan(const struct decode_opts *o, uint32_t total, uint32_t *order, uint32_t *count,
                uint32_t *dropped_count, uint8_t *dropped)
{
	uint64_t rng = o->seed;
	uint32_t k = 0;

	if (o->drop && parse_drop(o->drop, dropped, total) != 0)
		return -1;
	for (uint32_t n = 1; n <= total; n++) {
		/* 53 random bits against P / 100: independent per frame, same for a seed. */
		if (o->loss_pct >= 0 &&
		    (double)(prng_next(&rng) >> 11) * 0x1p-53 < o->loss_pct / 100.0)
			dropped[n] = 1;
		if (!dropped[n])
			order[k++] = n;
	}
	if (o->shuffle)
		for (uint32_t i = k; i > 1; i--) {
			uint32_t j = (uint32_t)(prng_next(&rng) % i), t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
	*count = k;
	*dropped_count = total - k;
	return 0;
}

int cmd_frag_decode(int argc, char **argv)
{
	struct decode_opts o;
	struct tool_frames f = {0};
	struct frag_code code;
	struct frag_dec dec;
	struct frag_dec_stats st;
	uint32_t total, count = 0, ndropped = 0, lost_uncoded = 0, max_lost;
	uint32_t *order = NULL;
	uint8_t *dropped = NULL;
	void *mem = NULL;
	size_t mem_len;
	const uint8_t *image;
	size_t image_len;
	enum frag_dec_state state;
	double t0, ms;
	int rc = parse_opts(argc, argv, &o);

	if (rc != TOOL_EXIT_OK || argc - optind != 2)
		return rc;
	rc = TOOL_EXIT_FAIL;
	if (tool_frames_read(argv[optind], &f) != 0)
		return TOOL_EXIT_FAIL;
	if ((uint64_t)f.nb_frag + f.redundancy > FRAG_MAX_N) {
		tool_err("frag decode: %u + %u frames exceed one TS004 session (N has 14 bits, at "
		         "most %u)",
		         f.nb_frag, f.redundancy, FRAG_MAX_N);
		goto out;
	}
	total = f.nb_frag + f.redundancy;
	code = (struct frag_code){.nb_frag = f.nb_frag,
	                          .version = o.version == 2 ? FRAG_V2 : FRAG_V1,
	                          .seed = o.absolute_seed ? FRAG_SEED_ABSOLUTE
	                                                  : FRAG_SEED_RELATIVE};
	max_lost = o.max_lost >= 0 ? (uint32_t)o.max_lost
	                           : (f.nb_frag < f.redundancy ? f.nb_frag : f.redundancy);
	mem_len = frag_dec_mem_size(f.nb_frag, f.frag_size, max_lost);
	order = malloc(sizeof(*order) * total);
	dropped = calloc(total + 1u, 1);
	mem = malloc(mem_len);
	if (!order || !dropped || !mem) {
		tool_err("frag decode: out of memory");
		goto out;
	}
	if (plan(&o, total, order, &count, &ndropped, dropped) != 0) {
		rc = TOOL_EXIT_USAGE;
		goto out;
	}
	for (uint32_t n = 1; n <= f.nb_frag; n++)
		lost_uncoded += dropped[n];
	if (frag_dec_init(&dec, &code, f.frag_size, f.padding, mem, mem_len) != FUOTA_OK) {
		tool_err("frag decode: cannot start a decoder for these parameters");
		goto out;
	}

	t0 = now_ms();
	for (uint32_t i = 0; i < count; i++) {
		uint32_t n = order[i];

		if (frag_dec_process(&dec, n, f.frames + (size_t)(n - 1) * f.frag_size, f.frag_size,
		                     NULL) != FUOTA_OK) {
			tool_err("frag decode: frame %u refused", n);
			goto out;
		}
	}
	state = frag_dec_finish(&dec);
	ms = now_ms() - t0;
	frag_dec_get_stats(&dec, &st);

	printf("{\"nb_frag\":%u,\"frag_size\":%u,\"padding\":%u,\"redundancy\":%u,\"ts004\":%d,"
	       "\"v2_seed\":\"%s\",\"frames_fed\":%u,\"frames_dropped\":%u,\"lost_uncoded\":%u,"
	       "\"coded_useful\":%u,\"coded_redundant\":%u,\"recovered\":%u,\"status\":\"%s\","
	       "\"not_enough_memory\":%s,\"decode_ms\":%.3f,\"max_lost\":%u,\"memory_bytes\":%zu}"
	       "\n",
	       f.nb_frag, f.frag_size, f.padding, f.redundancy, o.version,
	       o.absolute_seed ? "absolute" : "relative", count, ndropped, lost_uncoded,
	       st.coded_useful, st.coded_redundant, st.recovered,
	       state == FRAG_DEC_DONE ? "done" : "failed", st.not_enough_memory ? "true" : "false",
	       ms, st.max_lost, mem_len);
	if (state != FRAG_DEC_DONE) {
		tool_err("frag decode: the frames received do not determine the file%s",
		         st.not_enough_memory ? " (not enough matrix memory: raise --max-lost)"
		                              : "");
		goto out;
	}
	if (frag_dec_image(&dec, &image, &image_len) != FUOTA_OK ||
	    tool_write_file(argv[optind + 1], image, image_len) != 0)
		goto out;
	rc = TOOL_EXIT_OK;
out:
	free(order);
	free(dropped);
	free(mem);
	free(f.frames);
	return rc;
}
