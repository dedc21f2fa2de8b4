/* The web UI's static files (web/, built into build/web by ./fuota build), served by fuotad at /
 * beside the API: every GET or HEAD outside /api/ and the probes (/healthz, /readyz, /metrics) is
 * a file of the web root, and a path naming no file and no file name extension is the UI's own
 * route (the single-page app's router): index.html answers it.
 *
 * The web root is [http] web_root (FUOTA_HTTP_WEB_ROOT); by default the folder web/ beside the
 * folder of the fuotad binary (build/web for build/bin/fuotad, /usr/local/web for
 * /usr/local/bin/fuotad), if it holds an index.html; "none" serves no file (every path goes to
 * the API, which answers 404). */
#ifndef FUOTA_WEB_H
#define FUOTA_WEB_H

#include <stddef.h>

enum web_route {
	WEB_API,     /* not a file path: the API answers it */
	WEB_FILE,    /* rel names a file of the web root (maybe missing: see web_fallback) */
	WEB_REFUSED, /* a dot segment, a hidden file, a backslash or an overlong path: 400 */
};

/* Pure: where a request goes. For WEB_FILE, rel (relative to the web root, no leading slash, no
 * "." or ".." segment, no segment starting with a dot) receives the file path; a path ending in
 * a slash names its index.html. */
enum web_route web_route(const char *method, const char *path, char *rel, size_t rel_len);

/* Pure: whether a missing file is the router's (index.html answers it): no dot in its last
 * segment. Missing /assets/x.js is a 404, missing /jobs/12 is the UI's job page. */
int web_fallback(const char *rel);

/* Pure: the Content-Type of a file by its name's extension (application/octet-stream when
 * unknown). */
const char *web_content_type(const char *rel);

#endif
