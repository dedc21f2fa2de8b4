/* The web UI's static files at / (fuota/web.h): the pure routing decisions, and the serving of a
 * file from the web root through libmicrohttpd (http.c hands every request to api_static_try
 * before the API). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_int.h"
#include "api_static.h"
#include "fuota/cfg.h"
#include "fuota/log.h"
#include "fuota/web.h"

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_api_path(const char *path)
{
	return strcmp(path, "/api") == 0 || starts_with(path, "/api/") ||
	       strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
	       strcmp(path, "/metrics") == 0;
}

/* Each segment of a path below the root: no "", ".", ".." or dot file; no backslash. */
static int segments_ok(const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n > 0 && p[0] == '.')
			return 0;
		if (n == 0 && p[0] == '/')
			return 0; /* "//": an empty segment */
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

enum web_route web_route(const char *method, const char *path, char *rel, size_t rel_len)
{
	size_t n;

	if (!method || !path || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0))
		return WEB_API;
	if (path[0] != '/' || is_api_path(path))
		return WEB_API;
	path++;
	if (strchr(path, '\\') || !segments_ok(path))
		return WEB_REFUSED;
	/* The UI's own paths are plain: a percent-encoded one (/healthz%00, /metrics%2F) is no
	 * route of the UI's, and the API answers it as every path it does not know (404). */
	if (strchr(path, '%'))
		return WEB_API;
	n = strlen(path);
	if (n == 0 || path[n - 1] == '/') {
		if (n + sizeof("index.html") > rel_len)
			return WEB_REFUSED;
		snprintf(rel, rel_len, "%sindex.html", path);
		return WEB_FILE;
	}
	if (n + 1 > rel_len)
		return WEB_REFUSED;
	memcpy(rel, path, n + 1);
	return WEB_FILE;
}

int web_fallback(const char *rel)
{
	const char *last = strrchr(rel, '/');

	return strchr(last ? last + 1 : rel, '.') == NULL;
}

const char *web_content_type(const char *rel)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	        {".html", "text/html; charset=utf-8"},
	        {".js", "text/javascript; charset=utf-8"},
	        {".mjs", "text/javascript; charset=utf-8"},
	        {".css", "text/css; charset=utf-8"},
	        {".json", "application/json"},
	        {".map", "application/json"},
	        {".svg", "image/svg+xml"},
	        {".png", "image/png"},
	        {".ico", "image/x-icon"},
	        {".woff2", "font/woff2"},
	        {".txt", "text/plain; charset=utf-8"},
	};
	size_t n = strlen(rel);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && strcmp(rel + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

/* ---- serving ---- */

static char default_root[PATH_MAX];
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

/* web/ beside the folder of the running binary (build/bin/fuotad -> build/web), when it holds an
 * index.html: a fuotad built without the UI answers every path from the API, as before. */
static void find_default_root(void)
{
	char exe[PATH_MAX], index[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = 0;
	snprintf(default_root, sizeof(default_root), "%.*s/web", (int)(sizeof(exe) - 5), exe);
	snprintf(index, sizeof(index), "%s/index.html", default_root);
	if (access(index, R_OK) != 0)
		default_root[0] = 0;
}

static const char *web_root(const struct api_ctx *a)
{
	const char *r = a->cfg->http_web_root;

	if (strcmp(r, "none") == 0)
		return NULL;
	if (r[0])
		return r;
	pthread_once(&default_once, find_default_root);
	return default_root[0] ? default_root : NULL;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char *copy = strdup(msg);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!copy)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(copy), copy, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Opens root/rel as a regular file that is inside the root once symbolic links are resolved;
 * -1 with errno (ENOENT for a missing file, EACCES for one outside the root). */
static int open_inside(const char *root, const char *rel, struct stat *st)
{
	char path[PATH_MAX], real_root[PATH_MAX], real[PATH_MAX];
	size_t rl;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!realpath(root, real_root) || !realpath(path, real))
		return -1;
	rl = strlen(real_root);
	if (strncmp(real, real_root, rl) != 0 || real[rl] != '/') {
		errno = EACCES;
		return -1;
	}
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	return fd;
}

static enum MHD_Result send_file(struct MHD_Connection *conn, const char *rel, int fd,
                                 const struct stat *st)
{
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st->st_size, fd);
	enum MHD_Result ret;

	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, web_content_type(rel));
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	/* The bundler names assets by their content's hash: they never change. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        strncmp(rel, "assets/", 7) == 0
	                                ? "public, max-age=31536000, immutable"
	                                : "no-cache");
	if (strcmp(web_content_type(rel), "text/html; charset=utf-8") == 0)
		MHD_add_response_header(r, "Content-Security-Policy",
		                        "default-src 'self'; style-src 'self' 'unsafe-inline'; "
		                        "img-src 'self' data:; frame-ancestors 'none'");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int api_static_try(struct api_ctx *api, struct MHD_Connection *conn, const char *method,
                   const char *path, enum MHD_Result *ret)
{
	const char *root = web_root(api);
	char rel[1024];
	struct stat st;
	int fd;

	if (!root)
		return 0;
	switch (web_route(method, path, rel, sizeof(rel))) {
	case WEB_API: return 0;
	case WEB_REFUSED: *ret = send_text(conn, MHD_HTTP_BAD_REQUEST, "bad path\n"); return 1;
	case WEB_FILE: break;
	}
	fd = open_inside(root, rel, &st);
	if (fd < 0 && errno == ENOENT && web_fallback(rel)) {
		snprintf(rel, sizeof(rel), "index.html");
		fd = open_inside(root, rel, &st);
	}
	if (fd < 0) {
		*ret = send_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
		return 1;
	}
	*ret = send_file(conn, rel, fd, &st);
	return 1;
}
