/* fuota-tool frag bench: the TS004 parity encoder against the straightforward reference, on fixed
 * workloads of random bytes, in one run on one machine. Each encoder is timed on the whole
 * `frag encode` path (read the input file, encode, write the frames file: the same
 * tool_frag_encode_file that cmd_frag_encode runs) and on the in-memory encode alone. Every fast
 * output is checked byte for byte against the reference output; a difference fails the run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuota/bytes.h"
#include "fuota/err.h"
#include "fuota/frag_enc.h"
#include "tool.h"

#define MAX_REPS 100u

struct workload {
	char name;
	size_t bytes;
	uint32_t frag_size;
	uint32_t percent;
};

static const struct workload workloads[] = {
        {'a', 64u * 1024u, 48, 10},
        {'b', 1024u * 1024u, 48, 10},
        {'c', 1024u * 1024u, 200, 25},
        {'d', 4u * 1024u * 1024u, 232, 10},
};
#define NB_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

struct bench_cfg {
	unsigned reps, ref_reps, threads;
	int version, json, isa;
	char dir[64];
};

/* Timings of one encoder on one workload, in milliseconds. */
struct result {
	const char *encoder;
	unsigned threads;
	double file_best, file_median, enc_best, enc_median;
};

static int usage(FILE *to, int rc)
{
	fprintf(to,
	        "usage: fuota-tool frag bench [--workloads abcd] [--reps N] [--ref-reps N]\n"
	        "                             [--threads T] [--ts004 1|2] [--json]\n"
	        "                             [--isa auto|portable|avx2|avx512]\n"
	        "  Times the reference encoder, the fast encoder on one thread and on T threads\n"
	        "  (default: every online CPU) on random data:\n"
	        "    a: 64 KiB, FragSize 48, 10 %%    b: 1 MiB, FragSize 48, 10 %%\n"
	        "    c: 1 MiB, FragSize 200, 25 %%    d: 4 MiB, FragSize 232, 10 %%\n"
	        "  'file' = the whole frag encode path (read input, encode, write frames file);\n"
	        "  'encode' = the in-memory encode alone. Best and median of N repetitions\n"
	        "  (default 5; the reference: --ref-reps, default 2). MB/s = parity bytes per\n"
	        "  second (10^6). Fast outputs are verified against the reference byte for "
	        "byte.\n"
	        "  --isa: the fast encoder's kernels (default auto: the best this CPU has).\n");
	return rc;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void best_median(double *t, unsigned n, double *best, double *median)
{
	qsort(t, n, sizeof(*t), cmp_double);
	*best = t[0];
	*median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static void random_bytes(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t s = seed | 1u;

	for (size_t i = 0; i < len; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		p[i] = (uint8_t)(s >> 32);
	}
}

/* The whole frames file the encoder must write: header + frames. */
static uint8_t *expected_file(const struct tool_encode_opts *o, uint32_t m, uint32_t r,
                              uint32_t padding, const uint8_t *frames, size_t *len)
{
	size_t body = ((size_t)m + r) * o->frag_size;
	uint8_t *f = malloc(TOOL_FRAMES_HEADER_LEN + body);

	if (!f)
		return NULL;
	memcpy(f, TOOL_FRAMES_MAGIC, 4);
	fuota_put_le32(f + 4, m);
	fuota_put_le32(f + 8, o->frag_size);
	fuota_put_le32(f + 12, r);
	fuota_put_le32(f + 16, padding);
	memcpy(f + TOOL_FRAMES_HEADER_LEN, frames, body);
	*len = TOOL_FRAMES_HEADER_LEN + body;
	return f;
}

static int same_file(const char *path, const uint8_t *want, size_t len)
{
	uint8_t *got = NULL;
	size_t got_len = 0;
	int same;

	if (tool_read_file(path, &got, &got_len) != 0)
		return 0;
	same = got_len == len && memcmp(got, want, len) == 0;
	free(got);
	return same;
}

/* Runs one encoder `reps` times both ways; checks its in-memory frames and its file against the
 * reference. Returns 0 or -1 (message printed). */
static int run_encoder(const struct bench_cfg *cfg, const struct tool_encode_opts *o,
                       const char *in, const char *out, const uint8_t *data, size_t len, uint32_t m,
                       uint32_t r, uint8_t *frames, const uint8_t *want, struct result *res)
{
	unsigned reps = o->reference ? cfg->ref_reps : cfg->reps;
	size_t body = ((size_t)m + r) * o->frag_size, flen = 0;
	double tf[MAX_REPS], te[MAX_REPS];
	uint8_t *file;
	int rc = -1;

	for (unsigned i = 0; i < reps; i++) {
		double t0;

		memset(frames, 0, body);
		memcpy(frames, data, len);
		t0 = now_ms();
		if (tool_frag_encode_frames(o, m, r, frames) != 0)
			return -1;
		te[i] = now_ms() - t0;
		if (want && memcmp(frames, want, body) != 0) {
			tool_err("frag bench: %s encoder (%u threads) differs from the reference",
			         res->encoder, o->threads);
			return -1;
		}
	}
	for (unsigned i = 0; i < reps; i++) {
		double t0 = now_ms();

		if (tool_frag_encode_file(in, out, o) != 0)
			return -1;
		tf[i] = now_ms() - t0;
	}
	file = expected_file(o, m, r, (uint32_t)((size_t)m * o->frag_size - len),
	                     want ? want : frames, &flen);
	if (!file || !same_file(out, file, flen)) {
		tool_err("frag bench: the frames file of the %s encoder (%u threads) is wrong",
		         res->encoder, o->threads);
		goto out;
	}
	best_median(tf, reps, &res->file_best, &res->file_median);
	best_median(te, reps, &res->enc_best, &res->enc_median);
	rc = 0;
out:
	free(file);
	return rc;
}

static void print_result(const struct bench_cfg *cfg, const struct result *res,
                         const struct result *ref, double parity_mb, int last)
{
	double mbs = parity_mb / (res->file_best / 1e3), ratio = ref->file_best / res->file_best;
	double enc_ratio = ref->enc_best / res->enc_best;

	if (cfg->json) {
		printf("        {\"encoder\": \"%s\", \"threads\": %u, \"file_ms_best\": %.3f, "
		       "\"file_ms_median\": %.3f, \"encode_ms_best\": %.3f, "
		       "\"encode_ms_median\": %.3f, \"parity_mb_per_s\": %.1f, "
		       "\"encode_parity_mb_per_s\": %.1f, \"ratio_file\": %.2f, "
		       "\"ratio_encode\": %.2f}%s\n",
		       res->encoder, res->threads, res->file_best, res->file_median, res->enc_best,
		       res->enc_median, mbs, parity_mb / (res->enc_best / 1e3), ratio, enc_ratio,
		       last ? "" : ",");
		return;
	}
	printf("  %-9s %2u thr | file %9.2f / %9.2f ms %8.1f MB/s %7.1fx | encode %9.2f / %9.2f "
	       "ms %7.1fx\n",
	       res->encoder, res->threads, res->file_best, res->file_median, mbs, ratio,
	       res->enc_best, res->enc_median, enc_ratio);
}

static int run_workload(const struct bench_cfg *cfg, const struct workload *w, int last)
{
	struct tool_encode_opts o = {.frag_size = w->frag_size,
	                             .use_percent = 1,
	                             .percent_micro = (uint64_t)w->percent * 1000000u,
	                             .version = cfg->version,
	                             .threads = 1,
	                             .quiet = 1,
	                             .isa = cfg->isa};
	uint32_t m = (uint32_t)((w->bytes + w->frag_size - 1) / w->frag_size);
	uint32_t r = (uint32_t)(((uint64_t)m * w->percent + 99u) / 100u);
	size_t body = ((size_t)m + r) * w->frag_size;
	char in[96], out[96];
	uint8_t *data = malloc(w->bytes), *frames = malloc(body), *want = malloc(body);
	struct result res[3] = {{.encoder = "reference", .threads = 1},
	                        {.encoder = "fuota", .threads = 1},
	                        {.encoder = "fuota", .threads = cfg->threads}};
	double parity_mb = (double)r * w->frag_size / 1e6;
	int rc = -1;

	snprintf(in, sizeof(in), "%s/%c.bin", cfg->dir, w->name);
	snprintf(out, sizeof(out), "%s/%c.frg", cfg->dir, w->name);
	if (!data || !frames || !want) {
		tool_err("frag bench: out of memory");
		goto out;
	}
	random_bytes(data, w->bytes, 0x5eed0000u + (uint64_t)w->name);
	if (tool_write_file(in, data, w->bytes) != 0)
		goto out;
	o.reference = 1;
	if (run_encoder(cfg, &o, in, out, data, w->bytes, m, r, want, NULL, &res[0]) != 0)
		goto out;
	o.reference = 0;
	if (run_encoder(cfg, &o, in, out, data, w->bytes, m, r, frames, want, &res[1]) != 0)
		goto out;
	o.threads = cfg->threads;
	if (run_encoder(cfg, &o, in, out, data, w->bytes, m, r, frames, want, &res[2]) != 0)
		goto out;
	if (cfg->json)
		printf("    {\"workload\": \"%c\", \"input_bytes\": %zu, \"frag_size\": %u, "
		       "\"redundancy_percent\": %u, \"nb_frag\": %u, \"redundancy\": %u, "
		       "\"parity_bytes\": %zu, \"verified\": true, \"results\": [\n",
		       w->name, w->bytes, w->frag_size, w->percent, m, r, (size_t)r * w->frag_size);
	else
		printf("%c: %zu bytes, FragSize %u, %u %% -> NbFrag %u, R %u, %.3f MB parity "
		       "(verified)\n",
		       w->name, w->bytes, w->frag_size, w->percent, m, r, parity_mb);
	for (int i = 0; i < 3; i++)
		print_result(cfg, &res[i], &res[0], parity_mb, i == 2);
	if (cfg->json)
		printf("    ]}%s\n", last ? "" : ",");
	rc = 0;
out:
	remove(in);
	remove(out);
	free(data);
	free(frames);
	free(want);
	return rc;
}

static void cpu_name(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(buf, len, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

static int parse_isa(const char *s, int *isa)
{
	static const enum frag_enc_isa all[] = {FRAG_ENC_ISA_PORTABLE, FRAG_ENC_ISA_AVX2,
	                                        FRAG_ENC_ISA_AVX512};

	if (!strcmp(s, "auto")) {
		*isa = FRAG_ENC_ISA_AUTO;
		return 0;
	}
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, frag_enc_isa_name(all[i]))) {
			*isa = (int)all[i];
			return 0;
		}
	return -1;
}

static int parse_opts(int argc, char **argv, struct bench_cfg *cfg, const char **which)
{
	static const struct option opts[] = {
	        {"workloads", required_argument, NULL, 'w'},
	        {"reps", required_argument, NULL, 'n'},
	        {"ref-reps", required_argument, NULL, 'R'},
	        {"threads", required_argument, NULL, 't'},
	        {"ts004", required_argument, NULL, 'v'},
	        {"json", no_argument, NULL, 'j'},
	        {"isa", required_argument, NULL, 'i'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (!*optarg || strspn(optarg, "abcd") != strlen(optarg)) {
				tool_err("frag bench: --workloads takes letters of 'abcd'");
				return TOOL_EXIT_USAGE;
			}
			*which = optarg;
			break;
		case 'n':
		case 'R':
			if (tool_parse_u64(optarg, MAX_REPS, &v) != 0 || v == 0) {
				tool_err("frag bench: repetitions must be 1..%u", MAX_REPS);
				return TOOL_EXIT_USAGE;
			}
			*(c == 'n' ? &cfg->reps : &cfg->ref_reps) = (unsigned)v;
			break;
		case 't':
			if (tool_parse_u64(optarg, 256, &v) != 0 || v == 0) {
				tool_err("frag bench: --threads must be 1..256");
				return TOOL_EXIT_USAGE;
			}
			cfg->threads = (unsigned)v;
			break;
		case 'v':
			if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
				tool_err("frag bench: --ts004 must be 1 or 2");
				return TOOL_EXIT_USAGE;
			}
			cfg->version = optarg[0] - '0';
			break;
		case 'j': cfg->json = 1; break;
		case 'i':
			if (parse_isa(optarg, &cfg->isa) != 0) {
				tool_err(
				        "frag bench: --isa must be auto, portable, avx2 or avx512");
				return TOOL_EXIT_USAGE;
			}
			break;
		case 'h': return usage(stdout, TOOL_EXIT_OK);
		default: return usage(stderr, TOOL_EXIT_USAGE);
		}
	}
	if (optind != argc)
		return usage(stderr, TOOL_EXIT_USAGE);
	return -1;
}

int cmd_frag_bench(int argc, char **argv)
{
	struct bench_cfg cfg = {.reps = 5, .ref_reps = 2, .version = 1};
	const char *which = "abcd", *tmp = getenv("TMPDIR");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char cpu[128];
	struct frag_enc probe;
	uint8_t one = 0;
	struct frag_code code = {.nb_frag = 1, .version = FRAG_V1};
	int rc = parse_opts(argc, argv, &cfg, &which), first = 1;

	if (rc >= 0)
		return rc;
	if (frag_enc_init(&probe, &code, 1, &one, 1, (enum frag_enc_isa)cfg.isa) != FUOTA_OK) {
		tool_err("frag bench: this CPU cannot run the %s kernels",
		         frag_enc_isa_name((enum frag_enc_isa)cfg.isa));
		return TOOL_EXIT_FAIL;
	}
	if (!cfg.threads)
		cfg.threads = cpus > 0 ? (unsigned)(cpus < 256 ? cpus : 256) : 1u;
	snprintf(cfg.dir, sizeof(cfg.dir), "%s/fuota-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (strlen(tmp && *tmp ? tmp : "/tmp") > 40 || !mkdtemp(cfg.dir)) {
		tool_err("frag bench: cannot create a temporary directory under %s",
		         tmp && *tmp ? tmp : "/tmp");
		return TOOL_EXIT_FAIL;
	}
	cpu_name(cpu, sizeof(cpu));
	if (cfg.json)
		printf("{\n  \"cpu\": \"%s\", \"online_cpus\": %ld, \"kernels\": \"%s\", "
		       "\"ts004\": %d, \"reps\": %u, \"ref_reps\": %u,\n  \"workloads\": [\n",
		       cpu, cpus, frag_enc_isa_name(probe.isa), cfg.version, cfg.reps,
		       cfg.ref_reps);
	else
		printf("TS004 v%d parity encoder, %s, %ld online CPUs, kernels %s\n"
		       "times: best / median of %u runs (reference: %u); ratio = reference best / "
		       "best\n",
		       cfg.version, cpu, cpus, frag_enc_isa_name(probe.isa), cfg.reps,
		       cfg.ref_reps);
	rc = TOOL_EXIT_OK;
	for (size_t i = 0; i < NB_WORKLOADS; i++) {
		static const char names[] = "abcd";

		if (!strchr(which, workloads[i].name))
			continue;
		if (!cfg.json && !first)
			printf("\n");
		first = 0;
		if (run_workload(&cfg, &workloads[i], !strpbrk(which, names + i + 1)) != 0) {
			rc = TOOL_EXIT_FAIL;
			break;
		}
		fflush(stdout);
	}
	if (cfg.json)
		printf("  ]\n}\n");
	rmdir(cfg.dir);
	return rc;
}
