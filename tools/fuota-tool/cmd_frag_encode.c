/* fuota-tool frag encode: a file to the FRG1 frames file (README "Frames file"): the uncoded
 * fragments, the last one zero-padded, then the TS004 redundancy rows, in DataFragment order. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuota/err.h"
#include "fuota/frag_enc.h"
#include "fuota/frag_ref.h"
#include "tool.h"

#define MAX_THREADS     256u
#define MAX_PERCENT     1000u /* a percentage above 1000 % is surely a typo */
#define PERCENT_DIGITS  6u    /* decimals kept of --redundancy-percent */
#define PERCENT_MICRO_1 1000000u

static int usage(FILE *to, int rc)
{
	fprintf(to,
	        "usage: fuota-tool frag encode --frag-size S (--redundancy R | "
	        "--redundancy-percent P)\n"
	        "                              [--ts004 1|2] [--v2-seed relative|absolute]\n"
	        "                              [--threads T] INPUT OUTPUT\n"
	        "  Splits INPUT into NbFrag = ceil(size / S) fragments of S bytes (1..255, the "
	        "last\n"
	        "  padded with zeros), adds R redundancy rows (or R = ceil(P / 100 * NbFrag)), "
	        "and\n"
	        "  writes the frames file OUTPUT: \"FRG1\", u32 LE nb_frag, frag_size, "
	        "redundancy,\n"
	        "  padding, then all NbFrag + R frames in order N = 1, 2, ...\n"
	        "  --ts004 1|2          parity matrix of TS004 v1.0.0 (default) or v2.0.0\n"
	        "  --v2-seed relative   v2 seed index N - M (LBM, ChirpStack; default)\n"
	        "  --v2-seed absolute   v2 seed index N (the TS004 v2 MATLAB reading)\n"
	        "  --threads T          encode with up to T threads (default 1; small jobs use\n"
	        "                       fewer)\n"
	        "  One session carries NbFrag + R <= 16383 frames; larger files are written "
	        "with a\n"
	        "  warning.\n");
	return rc;
}

/* Parses a decimal percentage with up to PERCENT_DIGITS decimals into millionths of a percent. */
static int parse_percent(const char *s, uint64_t *micro)
{
	uint64_t whole = 0, frac = 0, scale = PERCENT_MICRO_1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10u + (uint64_t)(*p - '0');
		if (whole > MAX_PERCENT)
			return -1;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale == 1)
				return -1;
			scale /= 10u;
			frac += (uint64_t)(*p - '0') * scale;
		}
	}
	if (*p || whole * PERCENT_MICRO_1 + frac > (uint64_t)MAX_PERCENT * PERCENT_MICRO_1)
		return -1;
	*micro = whole * PERCENT_MICRO_1 + frac;
	return 0;
}

struct enc_job {
	const struct frag_enc *enc;
	uint32_t first, count;
	uint8_t *out;
	void *scratch; /* frag_enc_range_scratch_size(enc, count) bytes, or NULL: its own */
	int rc;
};

/* Transparent huge pages: the encoder reads its XOR tables and every row's line once per table
 * block, over megabytes; with 4 KiB pages those reads miss the TLB. */
#define HUGE_PAGE ((size_t)2 << 20)

/* The length mapped for len bytes: from half a huge page up, whole huge pages. The kernel maps
 * a huge page only where the whole aligned 2 MiB lies inside the mapping, so workload c's
 * 1.3 MB of frames and 1.6 MB of scratch took 4 KiB pages; zeroing a whole huge page costs less
 * than mapping and zeroing 300-400 small ones (and the encoder then misses the TLB less). */
static size_t populated_len(size_t len)
{
	if (len < HUGE_PAGE / 2u)
		return len ? len : 1u;
	return (len + HUGE_PAGE - 1u) & ~(HUGE_PAGE - 1u);
}

/* len bytes of zeroed memory, on 2 MiB-aligned huge pages where the kernel gives them, with
 * every page already mapped (MADV_POPULATE_WRITE): one kernel call maps them all instead of one
 * page fault per page on first touch, which cost the whole-process encode about as much as the
 * encoding of a 1 MiB image. Returns NULL on failure; free_populated(p, len) frees it. */
static void *alloc_populated(size_t len)
{
	size_t want = populated_len(len), span = want + HUGE_PAGE;
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t head;

	if (p == MAP_FAILED)
		return NULL;
	head = (HUGE_PAGE - ((uintptr_t)p & (HUGE_PAGE - 1u))) & (HUGE_PAGE - 1u);
	if (head)
		munmap(p, head);
	munmap(p + head + want, span - head - want);
	p += head;
	/* both hints are best effort: without them the pages fault in on first touch */
	(void)madvise(p, want, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
	(void)madvise(p, want, MADV_POPULATE_WRITE);
#endif
	return p;
}

static void free_populated(void *p, size_t len)
{
	if (p)
		munmap(p, populated_len(len));
}

static void *enc_thread(void *arg)
{
	struct enc_job *j = arg;
	size_t len = frag_enc_range_scratch_size(j->enc, j->count);
	void *scratch = j->scratch ? j->scratch : alloc_populated(len);

	j->rc = scratch ? frag_enc_range(j->enc, j->first, j->count, j->out, scratch, len)
	                : FUOTA_ERR_NO_MEMORY;
	if (!j->scratch)
		free_populated(scratch, len);
	return NULL;
}

static int encode_ref(const struct frag_code *code, uint32_t s, uint32_t redundancy,
                      uint8_t *frames)
{
	size_t words = frag_line_words(code->nb_frag);
	uint64_t *line = malloc(words * sizeof(*line));
	int rc = FUOTA_ERR_NO_MEMORY;

	if (line)
		rc = frag_ref_encode(code, s, frames, (size_t)code->nb_frag * s, 1, redundancy,
		                     frames + (size_t)code->nb_frag * s, line, words);
	free(line);
	return rc;
}

/* Splits rows 1..redundancy into near-equal ranges over one shared encoder, one per thread
 * (fewer for a small job). Returns the number of jobs. */
static unsigned plan_jobs(const struct frag_enc *enc, uint32_t redundancy, unsigned threads,
                          struct enc_job *jobs)
{
	/* a thread costs its start and its own XOR tables: give each at least about 2^21
	 * row-fragment pairs of work (workload a of frag bench, 137 x 1366, runs on one) */
	uint64_t work = (uint64_t)redundancy * enc->code.nb_frag >> 21;

	if (threads > work)
		threads = work ? (unsigned)work : 1u;
	for (unsigned t = 0; t < threads; t++) {
		uint32_t lo = (uint32_t)((uint64_t)redundancy * t / threads);
		uint32_t hi = (uint32_t)((uint64_t)redundancy * (t + 1u) / threads);

		jobs[t] = (struct enc_job){.enc = enc, .first = 1u + lo, .count = hi - lo};
	}
	return threads;
}

/* Runs jobs[1..] on their own threads and jobs[0] here, row first + i of a job to out + (first
 * - 1 + i) * FragSize. Returns the last failure, or OK. */
static int run_jobs(struct enc_job *jobs, unsigned threads, uint8_t *out)
{
	pthread_t tid[MAX_THREADS];
	unsigned started = 0;
	int rc;

	for (unsigned t = 0; t < threads; t++)
		jobs[t].out = out + (size_t)(jobs[t].first - 1u) * jobs[t].enc->frag_size;
	for (unsigned t = 1; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, enc_thread, &jobs[t]) != 0)
			break;
		started = t;
	}
	enc_thread(&jobs[0]);
	rc = jobs[0].rc;
	for (unsigned t = 1; t <= started; t++) {
		pthread_join(tid[t], NULL);
		if (jobs[t].rc != FUOTA_OK)
			rc = jobs[t].rc;
	}
	/* a thread that could not start: its range runs here */
	for (unsigned t = started + 1u; t < threads; t++) {
		enc_thread(&jobs[t]);
		if (jobs[t].rc != FUOTA_OK)
			rc = jobs[t].rc;
	}
	return rc;
}

static int encode_fast(const struct frag_code *code, uint32_t s, uint32_t redundancy,
                       uint8_t *frames, unsigned threads, int isa)
{
	struct frag_enc enc;
	struct enc_job jobs[MAX_THREADS];
	int rc = frag_enc_init(&enc, code, s, frames, (size_t)code->nb_frag * s,
	                       (enum frag_enc_isa)isa);

	if (rc != FUOTA_OK)
		return rc;
	threads = plan_jobs(&enc, redundancy, threads, jobs);
	return run_jobs(jobs, threads, frames + (size_t)code->nb_frag * s);
}

static struct frag_code encode_code(const struct tool_encode_opts *o, uint32_t nb_frag)
{
	return (struct frag_code){
	        .nb_frag = nb_frag,
	        .version = o->version == 2 ? FRAG_V2 : FRAG_V1,
	        .seed = o->absolute_seed ? FRAG_SEED_ABSOLUTE : FRAG_SEED_RELATIVE,
	};
}

int tool_frag_encode_frames(const struct tool_encode_opts *o, uint32_t nb_frag, uint32_t redundancy,
                            uint8_t *frames)
{
	struct frag_code code = encode_code(o, nb_frag);
	int rc;

	if (o->reference)
		rc = encode_ref(&code, o->frag_size, redundancy, frames);
	else
		rc = encode_fast(&code, o->frag_size, redundancy, frames,
		                 o->threads ? o->threads : 1u, o->isa);
	if (rc != FUOTA_OK) {
		tool_err("frag encode: %s", fuota_strerror(rc));
		return -1;
	}
	return 0;
}

/* Checks the sizes and derives NbFrag and R. Returns 0, or TOOL_EXIT_USAGE (message printed). */
static int plan(const struct tool_encode_opts *o, size_t len, uint32_t *nb_frag,
                uint32_t *redundancy)
{
	uint64_t m = ((uint64_t)len + o->frag_size - 1u) / o->frag_size, r = o->redundancy;
	uint64_t last_seed;

	if (m > UINT32_MAX - 64u) {
		tool_err("frag encode: %llu fragments is too many", (unsigned long long)m);
		return TOOL_EXIT_USAGE;
	}
	if (o->use_percent) /* ceil(P% * m), exact in integers: P <= 1000 % keeps this in 64 bits */
		r = (o->percent_micro * m + 100u * PERCENT_MICRO_1 - 1u) / (100u * PERCENT_MICRO_1);
	last_seed = r + (o->version == 2 && o->absolute_seed ? m : 0u);
	if (r > UINT32_MAX - m || last_seed > FRAG_ENC_MAX_SEED_INDEX) {
		tool_err("frag encode: redundancy %llu is too large (the seed 1 + 1001 * %llu of "
		         "the "
		         "last row does not fit 32 bits)",
		         (unsigned long long)r, (unsigned long long)last_seed);
		return TOOL_EXIT_USAGE;
	}
	*nb_frag = (uint32_t)m;
	*redundancy = (uint32_t)r;
	return 0;
}

/* Opens input: *len its size, *st its kind. Returns the descriptor, or -1 (message printed). */
static int open_input(const char *input, size_t *len, struct stat *st)
{
	int fd = open(input, O_RDONLY | O_CLOEXEC);
	off_t size;

	if (fd < 0) {
		tool_err("%s: %s", input, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) != 0 || (size = lseek(fd, 0, SEEK_END)) < 0 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		tool_err("%s: cannot determine size", input);
		close(fd);
		return -1;
	}
	*len = (size_t)size;
	return fd;
}

/* Reads len bytes from fd into p. Returns 0, or -1 on an error or a short file. */
static int read_all(int fd, uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 1 if output names the file open as in (encoding a file onto itself). */
static int same_file(const struct stat *in, const char *output)
{
	struct stat st;

	return stat(output, &st) == 0 && st.st_dev == in->st_dev && st.st_ino == in->st_ino;
}

/* The image mapped read-only as the encoder's data fragments (span = NbFrag * FragSize bytes):
 * no copy and no page for the kernel to zero. The padding past the image reads as zero: the
 * rest of the file's last page is zero-filled, and any page after it is the anonymous
 * reservation's. Returns NULL when the file cannot be mapped. */
static uint8_t *map_input(int fd, size_t len, size_t span)
{
	uint8_t *p = mmap(NULL, span, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mmap(p, len, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, fd, 0) == MAP_FAILED) {
		munmap(p, span);
		return NULL;
	}
	return p;
}

static size_t align64(size_t v)
{
	return (v + 63u) & ~(size_t)63u;
}

/* The guard of a mapped input. Another process that truncates the input while it is encoded
 * takes the pages past its new end out of the mapping, and the next read of one raises SIGBUS
 * (writev of one fails with EFAULT instead: tool_frames_write_parts reports it). The handler
 * cannot return into the encoder: it prints the message made beforehand and exits with
 * TOOL_EXIT_FAIL, with write(2) and _exit(2) only (async-signal-safe); the output is not open
 * yet while the encoder reads. A SIGBUS outside the mapping gets the default action back and
 * recurs, as without the guard. One guard per process: the handler cannot take an argument. */
static struct {
	uintptr_t lo, hi; /* the mapping [lo, hi) */
	size_t len;
	char msg[PATH_MAX + 96];
} input_guard;

static void input_bus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	ssize_t n;

	(void)uc;
	/* si_code > 0: a fault of the kernel's; kill(2) and sigqueue(3) give si_code <= 0, and
	 * si_addr then holds the sender's pid and uid, not an address */
	if (si->si_code > 0 && a >= input_guard.lo && a < input_guard.hi) {
		n = write(STDERR_FILENO, input_guard.msg, input_guard.len);
		(void)n; /* nothing better to do with a failed message than exit */
		_exit(TOOL_EXIT_FAIL);
	}
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
}

/* Installs the guard over data[0 .. span) of the file input; old receives the handler to put
 * back with sigaction(SIGBUS, old, NULL). */
static void guard_input(const char *input, const uint8_t *data, size_t span, struct sigaction *old)
{
	struct sigaction sa = {.sa_sigaction = input_bus, .sa_flags = SA_SIGINFO};
	int n = snprintf(input_guard.msg, sizeof(input_guard.msg),
	                 "fuota-tool: %s: " TOOL_INPUT_CHANGED "; nothing written\n", input);

	input_guard.len = n < 0 ? 0u : (size_t)n;
	if (input_guard.len >= sizeof(input_guard.msg)) { /* a path of PATH_MAX: cut, one line */
		input_guard.len = sizeof(input_guard.msg) - 1u;
		input_guard.msg[input_guard.len - 1u] = '\n';
	}
	input_guard.lo = (uintptr_t)data;
	input_guard.hi = (uintptr_t)data + span;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, old);
}

/* Encodes the mapped image data of the file in: the redundancy rows and the first thread's
 * scratch share one mapping (the kernel zeroes one set of huge pages, not two), then the header,
 * the image and the rows are written at once. A MAP_PRIVATE mapping shows a rewrite of the file
 * in place: in's fstat is checked after the encode (output untouched) and after the write
 * (output emptied), so that rows and data frames cannot come from two versions of the file.
 * Returns 0 or -1 (message printed). */
static int encode_mapped(const struct tool_input *in, const char *output,
                         const struct tool_encode_opts *o, const struct tool_frames *f,
                         const uint8_t *data)
{
	struct frag_code code = encode_code(o, f->nb_frag);
	struct frag_enc enc;
	struct enc_job jobs[MAX_THREADS];
	struct sigaction old;
	size_t rows = align64((size_t)f->redundancy * f->frag_size), len = 0;
	size_t span = (size_t)f->nb_frag * f->frag_size;
	uint8_t *mem = NULL;
	unsigned threads;
	int rc;

	guard_input(in->name, data, span, &old);
	rc = frag_enc_init(&enc, &code, f->frag_size, data, span, (enum frag_enc_isa)o->isa);
	if (rc == FUOTA_OK) {
		threads = plan_jobs(&enc, f->redundancy, o->threads ? o->threads : 1u, jobs);
		len = rows + frag_enc_range_scratch_size(&enc, jobs[0].count);
		mem = alloc_populated(len);
		rc = mem ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
	}
	if (rc == FUOTA_OK) {
		jobs[0].scratch = mem + rows;
		rc = run_jobs(jobs, threads, mem);
	}
	if (rc != FUOTA_OK)
		tool_err("frag encode: %s", fuota_strerror(rc));
	else if (tool_input_changed(in)) {
		tool_err("%s: " TOOL_INPUT_CHANGED "; nothing written", in->name);
		rc = FUOTA_ERR_IO;
	} else
		rc = tool_frames_write_parts(output, f, data, mem, in);
	sigaction(SIGBUS, &old, NULL);
	free_populated(mem, len);
	return rc == FUOTA_OK ? 0 : -1;
}

/* Reads the image into one frames buffer (its padding zeroed), encodes and writes it: the
 * reference encoder's path, and any input that cannot be mapped or is the output itself.
 * Returns 0 or -1 (message printed). */
static int encode_read(int fd, const char *input, size_t len, const char *output,
                       const struct tool_encode_opts *o, struct tool_frames *f)
{
	size_t total = ((size_t)f->nb_frag + f->redundancy) * f->frag_size;
	int rc = -1;

	f->frames = alloc_populated(total);
	if (!f->frames) {
		tool_err("frag encode: out of memory for %zu bytes of frames", total);
		return -1;
	}
	/* the input goes straight into the frames buffer: no second copy of the image */
	if (read_all(fd, f->frames, len) != 0)
		tool_err("%s: read error", input);
	else if (tool_frag_encode_frames(o, f->nb_frag, f->redundancy, f->frames) == 0 &&
	         tool_frames_write(output, f) == 0)
		rc = 0;
	free_populated(f->frames, total);
	f->frames = NULL;
	return rc;
}

int tool_frag_encode_file(const char *input, const char *output, const struct tool_encode_opts *o)
{
	struct tool_frames f = {0};
	struct stat st;
	size_t len = 0, span;
	int fd = open_input(input, &len, &st), rc = TOOL_EXIT_FAIL;
	uint8_t *data = NULL;

	if (fd < 0)
		return TOOL_EXIT_FAIL;
	if (len == 0) {
		tool_err("frag encode: %s is empty: nothing to send", input);
		goto out;
	}
	rc = plan(o, len, &f.nb_frag, &f.redundancy);
	if (rc != 0)
		goto out;
	if (!o->quiet && (uint64_t)f.nb_frag + f.redundancy > FRAG_MAX_N)
		fprintf(stderr,
		        "fuota-tool: warning: %u + %u frames exceed the 16383 of one fragmentation "
		        "session (14-bit FragIndex N); the file is written, but no single session "
		        "can "
		        "carry it\n",
		        f.nb_frag, f.redundancy);
	f.frag_size = o->frag_size;
	f.padding = (uint32_t)((size_t)f.nb_frag * o->frag_size - len);
	span = (size_t)f.nb_frag * o->frag_size;
	if (!o->reference && S_ISREG(st.st_mode) && !same_file(&st, output))
		data = map_input(fd, len, span);
	if (data) {
		struct tool_input in = {.name = input, .fd = fd, .st = st};

		rc = encode_mapped(&in, output, o, &f, data) == 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
	} else
		rc = encode_read(fd, input, len, output, o, &f) == 0 ? TOOL_EXIT_OK
		                                                     : TOOL_EXIT_FAIL;
	if (data)
		munmap(data, span);
out:
	close(fd);
	return rc;
}

int cmd_frag_encode(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"frag-size", required_argument, NULL, 's'},
	        {"redundancy", required_argument, NULL, 'r'},
	        {"redundancy-percent", required_argument, NULL, 'p'},
	        {"ts004", required_argument, NULL, 'v'},
	        {"v2-seed", required_argument, NULL, 'e'},
	        {"threads", required_argument, NULL, 't'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct tool_encode_opts o = {.version = 1, .threads = 1};
	uint64_t v;
	int c, have_size = 0, have_r = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (tool_parse_u64(optarg, 255, &v) != 0 || v == 0) {
				tool_err("frag encode: --frag-size must be 1..255 (got '%s')",
				         optarg);
				return TOOL_EXIT_USAGE;
			}
			o.frag_size = (uint32_t)v;
			have_size = 1;
			break;
		case 'r':
			if (tool_parse_u64(optarg, UINT32_MAX, &o.redundancy) != 0) {
				tool_err("frag encode: --redundancy must be a row count (got '%s')",
				         optarg);
				return TOOL_EXIT_USAGE;
			}
			o.use_percent = 0;
			have_r++;
			break;
		case 'p':
			if (parse_percent(optarg, &o.percent_micro) != 0) {
				tool_err("frag encode: --redundancy-percent must be 0..%u with up "
				         "to %u "
				         "decimals (got '%s')",
				         MAX_PERCENT, PERCENT_DIGITS, optarg);
				return TOOL_EXIT_USAGE;
			}
			o.use_percent = 1;
			have_r++;
			break;
		case 'v':
			if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
				tool_err("frag encode: --ts004 must be 1 or 2 (got '%s')", optarg);
				return TOOL_EXIT_USAGE;
			}
			o.version = optarg[0] - '0';
			break;
		case 'e':
			if (strcmp(optarg, "relative") && strcmp(optarg, "absolute")) {
				tool_err("frag encode: --v2-seed must be relative or absolute (got "
				         "'%s')",
				         optarg);
				return TOOL_EXIT_USAGE;
			}
			o.absolute_seed = !strcmp(optarg, "absolute");
			break;
		case 't':
			if (tool_parse_u64(optarg, MAX_THREADS, &v) != 0 || v == 0) {
				tool_err("frag encode: --threads must be 1..%u (got '%s')",
				         MAX_THREADS, optarg);
				return TOOL_EXIT_USAGE;
			}
			o.threads = (unsigned)v;
			break;
		case 'h': return usage(stdout, TOOL_EXIT_OK);
		default: return usage(stderr, TOOL_EXIT_USAGE);
		}
	}
	if (!have_size || have_r != 1 || argc - optind != 2) {
		tool_err("frag encode: needs --frag-size, exactly one of --redundancy and "
		         "--redundancy-percent, INPUT and OUTPUT");
		return usage(stderr, TOOL_EXIT_USAGE);
	}
	if (o.absolute_seed && o.version != 2) {
		tool_err("frag encode: --v2-seed applies to --ts004 2 only");
		return TOOL_EXIT_USAGE;
	}
	return tool_frag_encode_file(argv[optind], argv[optind + 1], &o);
}
