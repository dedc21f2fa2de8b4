/* The web UI's static file routing (fuota/web.h): which paths are files of the web root, which
 * are the API's, which are refused (directory traversal, hidden files), the router's fallback to
 * index.html and the content types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/web.h"

static enum web_route route(const char *method, const char *path, char *rel)
{
	return web_route(method, path, rel, 256);
}

static void test_files(void **state)
{
	char rel[256];

	(void)state;
	assert_int_equal(route("GET", "/", rel), WEB_FILE);
	assert_string_equal(rel, "index.html");
	assert_int_equal(route("HEAD", "/assets/index-3f2a.js", rel), WEB_FILE);
	assert_string_equal(rel, "assets/index-3f2a.js");
	assert_int_equal(route("GET", "/jobs/12", rel), WEB_FILE);
	assert_string_equal(rel, "jobs/12");
	assert_int_equal(route("GET", "/docs/", rel), WEB_FILE);
	assert_string_equal(rel, "docs/index.html");
	assert_int_equal(route("GET", "/a..b.js", rel), WEB_FILE); /* dots inside a name are fine */
	assert_string_equal(rel, "a..b.js");
}

static void test_api_paths(void **state)
{
	char rel[256];

	(void)state;
	assert_int_equal(route("GET", "/api/v1/jobs", rel), WEB_API);
	assert_int_equal(route("GET", "/api", rel), WEB_API);
	assert_int_equal(route("GET", "/healthz", rel), WEB_API);
	assert_int_equal(route("GET", "/readyz", rel), WEB_API);
	assert_int_equal(route("GET", "/metrics", rel), WEB_API);
	assert_int_equal(route("POST", "/jobs", rel), WEB_API); /* only GET and HEAD are files */
	assert_int_equal(route("DELETE", "/index.html", rel), WEB_API);
	assert_int_equal(route("GET", "relative", rel), WEB_API);
	assert_int_equal(route("GET", "/apifoo", rel), WEB_FILE);
	assert_int_equal(route("GET", "/healthz%00", rel), WEB_API); /* not the UI's index.html */
	assert_int_equal(route("GET", "/metrics%2F", rel), WEB_API);
}

static void test_traversal_refused(void **state)
{
	static const char *const bad[] = {
	        "/..",
	        "/../etc/passwd",
	        "/assets/../../etc/passwd",
	        "/assets/..",
	        "/./index.html",
	        "/.env",
	        "/assets/.hidden",
	        "/a\\..\\b",
	        "//etc/passwd",
	        "/assets//x.js",
	        "/..%2f",
	};
	char rel[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(rel, 0, sizeof(rel));
		assert_int_equal(route("GET", bad[i], rel), WEB_REFUSED);
		assert_string_equal(rel, ""); /* nothing was mapped */
	}
}

static void test_overlong(void **state)
{
	char path[300], rel[16];

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	assert_int_equal(web_route("GET", path, rel, sizeof(rel)), WEB_REFUSED);
	assert_int_equal(web_route("GET", "/abcdef/", rel, sizeof(rel)), WEB_REFUSED);
	assert_int_equal(web_route("GET", "/abc/", rel, sizeof(rel)), WEB_FILE);
	assert_string_equal(rel, "abc/index.html");
}

static void test_fallback(void **state)
{
	(void)state;
	assert_true(web_fallback("jobs/12"));
	assert_true(web_fallback("signin"));
	assert_true(web_fallback("v1.2/jobs")); /* only the last segment counts */
	assert_false(web_fallback("assets/index-3f2a.js"));
	assert_false(web_fallback("favicon.ico"));
}

static void test_content_types(void **state)
{
	(void)state;
	assert_string_equal(web_content_type("index.html"), "text/html; charset=utf-8");
	assert_string_equal(web_content_type("assets/a.js"), "text/javascript; charset=utf-8");
	assert_string_equal(web_content_type("assets/a.css"), "text/css; charset=utf-8");
	assert_string_equal(web_content_type("logo.svg"), "image/svg+xml");
	assert_string_equal(web_content_type("x.js.map"), "application/json");
	assert_string_equal(web_content_type("blob"), "application/octet-stream");
	assert_string_equal(web_content_type(".js"), "application/octet-stream");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_files),
	        cmocka_unit_test(test_api_paths),
	        cmocka_unit_test(test_traversal_refused),
	        cmocka_unit_test(test_overlong),
	        cmocka_unit_test(test_fallback),
	        cmocka_unit_test(test_content_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
