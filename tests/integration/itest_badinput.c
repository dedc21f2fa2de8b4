/* The REST bad-input corpus (tests/integration/badreq, one file per theme) replayed against a real
 * fuotad over raw TCP, so that framing abuse goes out byte for byte: every request is answered 4xx
 * (413 and 501 where those are right), never 5xx, with the field named in the error body where the
 * corpus names one; fuotad is alive at the end and its memory flat over repeated passes. Then
 * slowloris: one address holding many half-sent requests does not keep the API from another
 * address.
 *
 * Corpus line: EXPECT FIELD AUTH METHOD TARGET [BODY]   or   EXPECT FIELD raw REQUEST
 *   EXPECT  a status (400; a 5xx only as 501 or 505), a class (4xx), or 4xc (4xx, or closed
 *           without an answer by libmicrohttpd); FIELD the error's "field" or -;
 *   AUTH    admin | t1 (tenant 1, not admin) | t2 (tenant 2) | none;
 *   BODY    the rest of the line; "--XB" starts a multipart body (boundary XB), anything else is
 *           sent as application/json; REQUEST a whole request.
 * Escapes: \r \n \t \\ \xHH. Placeholders: {FW1} {JOB1} {DEV1} {FW2} {JOB2} {DEV2} {TOK2} (ids of
 * tenant 1's and tenant 2's objects), {T1} {T2} {ADMIN} (tokens), {CL} (in raw requests: the
 * length of what follows the blank line), {R<n>:<text>} (text n times).
 * usage: itest_badinput FUOTAD SERVICES_ENV WORKDIR CORPUS_DIR */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuota/bytes.h"
#include "itest.h"

#define MAX_CASES 2000
#define SLOW_N    20

struct bcase {
	char file[64];
	int line;
	char expect[4]; /* "400" or "4xx" */
	char field[64];
	char *req; /* the whole request, escapes and placeholders resolved */
	size_t len;
};

static struct {
	struct itest_env env;
	struct itest_fuotad fd;
	char dsn[512];
	char admin[80], t1[80], t2[80];
	char ph[7][32]; /* FW1 JOB1 DEV1 FW2 JOB2 DEV2 TOK2 */
	struct bcase cases[MAX_CASES];
	size_t n_cases;
} T;

static const char *const ph_names[7] = {"FW1", "JOB1", "DEV1", "FW2", "JOB2", "DEV2", "TOK2"};
static const char *argv_bin, *argv_env, *argv_dir, *argv_corpus;

/* ---- corpus ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = 0;
}

static const char *placeholder(const char *name, size_t n)
{
	for (int i = 0; i < 7; i++)
		if (strlen(ph_names[i]) == n && memcmp(ph_names[i], name, n) == 0)
			return T.ph[i];
	if (n == 2 && memcmp(name, "T1", 2) == 0)
		return T.t1;
	if (n == 2 && memcmp(name, "T2", 2) == 0)
		return T.t2;
	if (n == 5 && memcmp(name, "ADMIN", 5) == 0)
		return T.admin;
	return NULL;
}

/* Resolves escapes and placeholders of s into b ({CL} is left for later). */
static void expand(const char *s, struct buf *b)
{
	while (*s) {
		if (s[0] == '\\' && s[1]) {
			char c = s[1];

			if (c == 'x' && fuota_hex_digit(s[2]) >= 0 && fuota_hex_digit(s[3]) >= 0) {
				char v = (char)(fuota_hex_digit(s[2]) * 16 + fuota_hex_digit(s[3]));

				put(b, &v, 1);
				s += 4;
				continue;
			}
			c = c == 'r' ? '\r' : c == 'n' ? '\n' : c == 't' ? '\t' : c;
			put(b, &c, 1);
			s += 2;
			continue;
		}
		if (s[0] == '{') {
			const char *end = strchr(s, '}');
			const char *v = end ? placeholder(s + 1, (size_t)(end - s - 1)) : NULL;
			int reps, used = 0;

			if (v) {
				put(b, v, strlen(v));
				s = end + 1;
				continue;
			}
			if (end && sscanf(s, "{R%d:%n", &reps, &used) == 1 && used > 0) {
				for (int i = 0; i < reps; i++)
					put(b, s + used, (size_t)(end - s - used));
				s = end + 1;
				continue;
			}
		}
		put(b, s, 1);
		s++;
	}
}

/* Replaces {CL} by the length of the body (what follows the first blank line). */
static void fill_length(struct buf *b)
{
	/* memmem: a request may hold NUL bytes before its {CL}. */
	char *cl = memmem(b->p, b->len, "{CL}", 4), *sep = memmem(b->p, b->len, "\r\n\r\n", 4);
	char num[24];
	size_t body, n;

	if (!cl || !sep)
		return;
	body = b->len - (size_t)(sep + 4 - b->p) - 4 * (cl > sep);
	n = (size_t)snprintf(num, sizeof(num), "%zu", body);
	memmove(cl + n, cl + 4, b->len - (size_t)(cl + 4 - b->p) + 1);
	memcpy(cl, num, n);
	b->len = b->len - 4 + n;
}

static void build(struct bcase *c, const char *auth, const char *method, const char *target,
                  const char *body)
{
	struct buf b = {0}, t = {0}, bd = {0};
	const char *tok = strcmp(auth, "admin") == 0 ? T.admin
	                  : strcmp(auth, "t1") == 0  ? T.t1
	                  : strcmp(auth, "t2") == 0  ? T.t2
	                                             : NULL;
	char head[4096];
	int n;

	expand(target, &t);
	if (body)
		expand(body, &bd);
	n = snprintf(head, sizeof(head),
	             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, t.p);
	if (tok)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Authorization: Bearer %s\r\n",
		              tok);
	if (body)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		              "Content-Type: %s\r\nContent-Length: %zu\r\n",
		              strncmp(bd.p, "--XB", 4) == 0 ? "multipart/form-data; boundary=XB"
		                                            : "application/json",
		              bd.len);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	put(&b, head, (size_t)n);
	if (bd.len)
		put(&b, bd.p, bd.len);
	c->req = b.p;
	c->len = b.len;
	free(t.p);
	free(bd.p);
}

static void parse_line(const char *file, int lineno, char *line)
{
	struct bcase *c = &T.cases[T.n_cases];
	char *save = NULL, *expect, *field, *auth, *method, *target, *rest;

	line[strcspn(line, "\n")] = 0;
	if (!line[0] || line[0] == '#')
		return;
	assert_true(T.n_cases < MAX_CASES);
	memset(c, 0, sizeof(*c));
	snprintf(c->file, sizeof(c->file), "%.60s", file);
	c->line = lineno;
	expect = strtok_r(line, " ", &save);
	field = strtok_r(NULL, " ", &save);
	auth = strtok_r(NULL, " ", &save);
	if (!expect || !field || !auth || strlen(expect) != 3)
		fail_msg("%s:%d: malformed corpus line", file, lineno);
	snprintf(c->expect, sizeof(c->expect), "%s", expect);
	if (strcmp(field, "-") != 0) {
		struct buf f = {0};

		expand(field, &f);
		snprintf(c->field, sizeof(c->field), "%s", f.p);
		free(f.p);
	}
	if (strcmp(auth, "raw") == 0) {
		struct buf b = {0};

		expand(save, &b);
		fill_length(&b);
		c->req = b.p;
		c->len = b.len;
	} else {
		method = strtok_r(NULL, " ", &save);
		target = strtok_r(NULL, " ", &save);
		rest = save && *save ? save : NULL;
		if (!method || !target)
			fail_msg("%s:%d: malformed corpus line", file, lineno);
		build(c, auth, method, target, rest);
	}
	T.n_cases++;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void load_corpus(void)
{
	struct dirent **ents;
	int n = scandir(argv_corpus, &ents, NULL, by_name);

	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		char path[1024], *line = NULL;
		size_t cap = 0;
		int lineno = 0;
		FILE *f;

		if (!strstr(ents[i]->d_name, ".txt")) {
			free(ents[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", argv_corpus, ents[i]->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		while (getline(&line, &cap, f) > 0)
			parse_line(ents[i]->d_name, ++lineno, line);
		free(line);
		fclose(f);
		free(ents[i]);
	}
	free(ents);
}

/* ---- raw connections ---- */

static int connect_from(const char *src, unsigned port, int timeout_s)
{
	struct sockaddr_in sa;
	struct timeval tv = {timeout_s, 0};
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (src) {
		inet_pton(AF_INET, src, &sa.sin_addr);
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			close(s);
			return -1;
		}
	}
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(s);
		return -1;
	}
	return s;
}

/* Sends req and reads until the server closes (or timeout_s of silence). Returns the status
 * (-1: no answer); the body into body (cap bytes) when given. */
static int exchange(const char *src, const char *req, size_t len, int timeout_s, char *body,
                    size_t cap)
{
	static char in[1 << 16];
	size_t got = 0;
	int s = connect_from(src, T.fd.port, timeout_s), st = -1;
	char *sep;

	if (body && cap)
		body[0] = 0;

	if (s < 0)
		return -1;
	for (size_t off = 0; off < len;) {
		ssize_t n = send(s, req + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break; /* an early answer (413, 400) closes before all is sent */
		off += (size_t)n;
	}
	for (;;) {
		ssize_t n = recv(s, in + got, sizeof(in) - 1 - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(in) - 1)
			break;
	}
	close(s);
	in[got] = 0;
	if (sscanf(in, "HTTP/1.%*d %d", &st) != 1)
		return -1;
	sep = strstr(in, "\r\n\r\n");
	if (body)
		snprintf(body, cap, "%s", sep ? sep + 4 : "");
	return st;
}

static bool status_ok(const struct bcase *c, int st)
{
	char s[16];

	/* 4xc: MHD itself closes on some malformed request lines, with or without its 400 (a
	 * close with unread bytes resets the connection, and the reset may overtake the answer). */
	if (st < 0)
		return strcmp(c->expect, "4xc") == 0;
	snprintf(s, sizeof(s), "%d", st);
	return s[0] == c->expect[0] && (c->expect[1] == 'x' || strcmp(s, c->expect) == 0);
}

/* One pass over the corpus: the number of cases answered otherwise than expected. */
static int replay(bool verbose)
{
	static char body[1 << 16];
	int bad = 0, n5xx = 0;

	for (size_t i = 0; i < T.n_cases; i++) {
		const struct bcase *c = &T.cases[i];
		int st = exchange(NULL, c->req, c->len, 5, body, sizeof(body));
		bool ok = status_ok(c, st);

		n5xx += st >= 500 && !ok;
		if (ok && c->field[0]) {
			json_t *j = json_loads(body, 0, NULL);
			const char *f = json_string_value(
			        json_object_get(json_object_get(j, "error"), "field"));

			ok = f && strcmp(f, c->field) == 0;
			json_decref(j);
		}
		if (!ok) {
			bad++;
			if (verbose)
				printf("%s:%d: expected %s%s%s, got %d: %.200s\n", c->file, c->line,
				       c->expect, c->field[0] ? " field " : "", c->field, st, body);
		}
	}
	if (verbose)
		printf("%zu requests replayed: %d not as expected, %d answered 5xx\n", T.n_cases,
		       bad, n5xx);
	return bad;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static void test_corpus(void **state)
{
	(void)state;
	printf("corpus: %zu requests\n", T.n_cases);
	assert_true(T.n_cases >= 250);
	assert_int_equal(replay(true), 0);
}

/* Memory flat: RSS after a warm-up pass against RSS after more passes. */
static void test_memory_flat(void **state)
{
	const int passes = 4;
	long before, after, bound_kb = SANITIZED ? 16384 : 2048;

	(void)state;
	assert_int_equal(replay(false), 0);
	before = rss_kb(T.fd.pid);
	for (int i = 0; i < passes; i++)
		assert_int_equal(replay(false), 0);
	after = rss_kb(T.fd.pid);
	printf("fuotad RSS %ld kB after the warm-up, %ld kB after %d more passes (%zu requests): "
	       "%+ld kB (bound %ld kB)\n",
	       before, after, passes, (size_t)passes * T.n_cases, after - before, bound_kb);
	assert_true(before > 0 && after > 0);
	assert_true(after - before <= bound_kb);
	assert_int_equal(kill(T.fd.pid, 0), 0);
	assert_int_equal(api_call(T.fd.port, "GET", "/healthz", NULL, NULL, NULL), 200);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True when the server has closed s (EOF or reset) within wait_ms. */
static bool closed_within(int s, int wait_ms)
{
	struct timeval tv = {wait_ms / 1000, (wait_ms % 1000) * 1000};
	char c;
	ssize_t n;

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(s, &c, 1, 0);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* HEAD on a GET route is that GET without its body (it was 405): same status and length. */
static void test_head(void **state)
{
	static const char *const paths[] = {"/healthz", "/api/v1/jobs", "/api/v1/jobs/{JOB1}",
	                                    "/api/v1/jobs/{JOB2}", "/api/v1/jobs/0{JOB1}"};
	static char body[1 << 16];

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct bcase get, head;
		int st_get, st_head;

		build(&get, "t1", "GET", paths[i], NULL);
		build(&head, "t1", "HEAD", paths[i], NULL);
		st_get = exchange(NULL, get.req, get.len, 5, NULL, 0);
		st_head = exchange(NULL, head.req, head.len, 5, body, sizeof(body));
		printf("HEAD %s: %d (GET %d), %zu body bytes\n", paths[i], st_head, st_get,
		       strlen(body));
		assert_int_equal(st_head, st_get);
		assert_int_equal(strlen(body), 0);
		free(get.req);
		free(head.req);
	}
}

/* An image named after its filename keeps API_NAME_MAX (200) bytes of it; a cut inside a UTF-8
 * character gave PostgreSQL invalid text (500). 199 "a" then two "é": the name is the 199 "a". */
static void test_filename_cut(void **state)
{
	char fn[256], want[256];
	struct form_part part = {"file", fn, "img", 3};
	struct http_resp r;
	char ct[128], *body;
	size_t len;
	json_t *j;

	(void)state;
	memset(want, 'a', 199);
	want[199] = 0;
	memcpy(fn, want, 199);
	memcpy(fn + 199, "\xc3\xa9\xc3\xa9", 5);
	body = form_build(&part, 1, &len, ct);
	assert_non_null(body);
	assert_int_equal(http_req(T.fd.port, "POST", "/api/v1/firmware", T.t1, ct, body, len, &r),
	                 0);
	free(body);
	j = http_json(&r);
	printf("upload named by a 203-byte filename: %d\n", r.status);
	assert_int_equal(r.status, 201);
	assert_string_equal(json_string_value(json_object_get(j, "name")), want);
	json_decref(j);
	http_free(&r);
}

/* A path with %0A (and CR, ESC) is logged on one line: the client cannot forge a line. fuotad
 * runs at the debug level, which logs every request's method and path. */
static void test_log_injection(void **state)
{
	static const char req[] = "GET /api/v1/jobs%0A2030-01-01T00:00:00.000Z%20INFO%20forged%0D"
	                          "%1B[2K HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char line[4096];
	int lines = 0, st;
	FILE *f;

	(void)state;
	st = exchange(NULL, req, sizeof(req) - 1, 5, NULL, 0);
	assert_int_equal(st, 404);
	f = fopen(T.fd.log, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "forged"))
			continue;
		lines++;
		printf("logged: %s", line);
		assert_non_null(strstr(line, " debug GET /api/v1/jobs\\x0a2030-01-01T00:00:00.000Z "
		                             "INFO forged\\x0d\\x1b[2K -> 404"));
	}
	fclose(f);
	assert_int_equal(lines, 1);
}

/* fuotad runs with max_connections 16, max_connections_per_ip 8, header_timeout_s 2. SLOW_ADDR
 * opens 20 connections and trickles its headers; 127.0.0.2 is still answered at once, the 12
 * connections past the address's limit are closed at once, the 8 others at the header deadline
 * although they never go silent, and then SLOW_ADDR is served again. SLOW_ADDR is used by no
 * other test: a connection an earlier test left for fuotad to reap (slow under ASan) would count
 * against the address's limit. */
#define SLOW_ADDR "127.0.0.3"
static void test_slowloris(void **state)
{
	static const char partial[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
	static const char whole[] =
	        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	int socks[SLOW_N], open_n = 0, refused = 0, st;
	double t0 = now_s(), t;

	(void)state;
	for (int i = 0; i < SLOW_N; i++) {
		socks[i] = connect_from(SLOW_ADDR, T.fd.port, 5);
		assert_true(socks[i] >= 0);
		send(socks[i], partial, sizeof(partial) - 1, MSG_NOSIGNAL);
	}
	/* Another address is served while they hold on. */
	t = now_s();
	st = exchange("127.0.0.2", whole, sizeof(whole) - 1, 3, NULL, 0);
	printf("127.0.0.2 answered %d in %.3f s while " SLOW_ADDR " holds %d connections\n", st,
	       now_s() - t, SLOW_N);
	assert_int_equal(st, 200);
	for (int i = 0; i < SLOW_N; i++) {
		if (closed_within(socks[i], 50)) {
			refused++;
			close(socks[i]);
			socks[i] = -1;
		}
	}
	printf("%d of %d connections from " SLOW_ADDR " refused at once (limit 8 per address)\n",
	       refused, SLOW_N);
	assert_int_equal(refused, SLOW_N - 8);
	/* The others trickle a byte every 300 ms: never idle, closed by the header deadline. */
	while (now_s() - t0 < 6.0) {
		open_n = 0;
		for (int i = 0; i < SLOW_N; i++) {
			if (socks[i] < 0)
				continue;
			if (send(socks[i], "a", 1, MSG_NOSIGNAL) != 1 ||
			    closed_within(socks[i], 1)) {
				close(socks[i]);
				socks[i] = -1;
				continue;
			}
			open_n++;
		}
		if (!open_n)
			break;
		struct timespec ts = {0, 300 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	printf("the trickling connections closed %.2f s after they opened (header_timeout_s 2)\n",
	       now_s() - t0);
	for (int i = 0; i < SLOW_N; i++)
		if (socks[i] >= 0)
			close(socks[i]);
	assert_int_equal(open_n, 0);
	assert_true(now_s() - t0 < 4.5);
	/* Served again once fuotad has reaped the closed connections (they count against the
	 * address until then): within a second. */
	t = now_s();
	do {
		struct timespec ts = {0, 50 * 1000 * 1000};

		st = exchange(SLOW_ADDR, whole, sizeof(whole) - 1, 3, NULL, 0);
		if (st != 200)
			nanosleep(&ts, NULL);
	} while (st != 200 && now_s() - t < 1.0);
	printf("%s served again after %.3f s\n", SLOW_ADDR, now_s() - t);
	assert_int_equal(st, 200);
}

/* ---- fixtures ---- */

static long long create(const char *path, const char *token, const char *body, const char *key)
{
	json_t *j;
	long long id = -1;

	if (api_call(T.fd.port, "POST", path, token, body, &j) == 201)
		id = (long long)json_integer_value(json_object_get(j, key));
	json_decref(j);
	return id;
}

static long long upload(const char *token)
{
	static const char img[] = "firmware image bytes for the bad-input corpus";
	struct form_part part = {"file", "fw.bin", img, sizeof(img) - 1};
	char ct[128];
	size_t len;
	char *body = form_build(&part, 1, &len, ct);
	struct http_resp r;
	long long id = -1;

	if (body &&
	    http_req(T.fd.port, "POST", "/api/v1/firmware", token, ct, body, len, &r) == 0) {
		json_t *j = http_json(&r);

		if (r.status == 201)
			id = (long long)json_integer_value(json_object_get(j, "id"));
		json_decref(j);
		http_free(&r);
	}
	free(body);
	return id;
}

#define DEV_BODY                                                                           \
	"{\"dev_eui\":\"%s\",\"application_id\":\"app\",\"lorawan_version\":\"1.0.3\","    \
	"\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\",\"region\":" \
	"\"EU868\"}"
#define JOB_BODY                                                                                 \
	"{\"name\":\"job\",\"firmware_id\":%lld,\"devices\":[\"%s\"],\"redundancy_percent\":10," \
	"\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":5,\"frequency_hz\":"      \
	"869525000,\"region\":\"EU868\",\"multicast_class\":\"C\"}"

/* One tenant's firmware, device and job; their ids into ph[0..2]. */
static int tenant_objects(const char *token, const char *eui, char (*ph)[32])
{
	char body[1024];
	long long fw = upload(token), job;

	snprintf(body, sizeof(body), DEV_BODY, eui);
	if (fw <= 0 || api_call(T.fd.port, "POST", "/api/v1/devices", token, body, NULL) != 201)
		return -1;
	snprintf(body, sizeof(body), JOB_BODY, fw, eui);
	job = create("/api/v1/jobs", token, body, "id");
	if (job <= 0)
		return -1;
	snprintf(ph[0], 32, "%lld", fw);
	snprintf(ph[1], 32, "%lld", job);
	snprintf(ph[2], 32, "%s", eui);
	return 0;
}

static int group_setup(void **state)
{
	long long t2, tok2;
	char body[128];
	json_t *j;

	(void)state;
	if (itest_env_load(argv_env, &T.env) != 0 ||
	    itest_db_create(&T.env, "itest_badinput", T.dsn, sizeof(T.dsn)) != 0)
		return -1;
	snprintf(T.fd.bin, sizeof(T.fd.bin), "%s", argv_bin);
	snprintf(T.fd.dsn, sizeof(T.fd.dsn), "%s", T.dsn);
	snprintf(T.fd.log, sizeof(T.fd.log), "%s/itest_badinput.fuotad.log", argv_dir);
	snprintf(T.fd.max_upload, sizeof(T.fd.max_upload), "%u", 64u * 1024);
	snprintf(T.fd.log_level, sizeof(T.fd.log_level), "debug");
	remove(T.fd.log);
	setenv("FUOTA_ENGINE_ENABLED", "0", 1);
	if (SANITIZED) {
		/* ASan's quarantine (256 MB) keeps every freed block for a while: RSS would
		 * grow by what the passes free, not by what they leak. A small one for fuotad. */
		char opts[1024];
		const char *cur = getenv("ASAN_OPTIONS");

		snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=4", cur ? cur : "",
		         cur && cur[0] ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
	setenv("FUOTA_HTTP_MAX_CONNECTIONS", "16", 1);
	setenv("FUOTA_HTTP_MAX_CONNECTIONS_PER_IP", "8", 1);
	setenv("FUOTA_HTTP_HEADER_TIMEOUT_S", "2", 1);
	if (itest_token(argv_bin, T.dsn, true, 1, T.admin) != 0 ||
	    itest_token(argv_bin, T.dsn, false, 1, T.t1) != 0 || itest_fuotad_start(&T.fd) != 0)
		return -1;
	t2 = create("/api/v1/tenants", T.admin, "{\"name\":\"tenant-2\"}", "id");
	snprintf(body, sizeof(body), "{\"tenant_id\":%lld,\"name\":\"t2\"}", t2);
	if (t2 <= 0 || api_call(T.fd.port, "POST", "/api/v1/tokens", T.admin, body, &j) != 201)
		return -1;
	snprintf(T.t2, sizeof(T.t2), "%s", json_string_value(json_object_get(j, "token")));
	tok2 = (long long)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	snprintf(T.ph[6], sizeof(T.ph[6]), "%lld", tok2);
	if (tenant_objects(T.t1, "00000000000000a1", T.ph) != 0 ||
	    tenant_objects(T.t2, "00000000000000b2", T.ph + 3) != 0)
		return -1;
	load_corpus();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < T.n_cases; i++)
		free(T.cases[i].req);
	/* A clean stop: exit status 0, and under ASan no leak or error report. */
	return itest_fuotad_stop(&T.fd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_corpus),    cmocka_unit_test(test_memory_flat),
	        cmocka_unit_test(test_head),      cmocka_unit_test(test_filename_cut),
	        cmocka_unit_test(test_slowloris), cmocka_unit_test(test_log_injection),
	};

	if (argc != 5) {
		fprintf(stderr, "usage: itest_badinput FUOTAD SERVICES_ENV WORKDIR CORPUS_DIR\n");
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argv[3];
	argv_corpus = argv[4];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
