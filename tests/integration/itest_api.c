/* fuotad's REST API against a real PostgreSQL: CRUD of every resource, JSON and multipart job
 * creation, every validation error, authentication and tenant isolation, SQL metacharacters,
 * malformed HTTP, 32 concurrent clients, persistence across a restart, the OpenAPI document's
 * completeness and the metrics.
 * usage: itest_api FUOTAD SERVICES_ENV WORKDIR */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
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
#include <libpq-fe.h>
#include <openssl/evp.h>

#include "fuota/api.h"
#include "itest.h"

static struct {
	struct itest_env env;
	struct itest_fuotad fd;
	char dsn[512];
	char admin[80];
	char tenant_b[80]; /* a token of a second tenant */
	long long firmware_id;
	size_t firmware_size;
} T;

static const char *argv_bin, *argv_env, *argv_dir;

#define DEV_FMT                                                                        \
	"{\"dev_eui\":\"%s\",\"application_id\":\"%s\",\"lorawan_version\":\"1.0.3\"," \
	"\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\","        \
	"\"region\":\"EU868\"}"

static int callf(const char *method, const char *path, const char *token, json_t **out,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int callf(const char *method, const char *path, const char *token, json_t **out,
                 const char *fmt, ...)
{
	char body[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	return itest_call(method, path, token, body, out);
}

static const char *err_field(json_t *j)
{
	const char *f = json_string_value(json_object_get(json_object_get(j, "error"), "field"));

	return f ? f : "";
}

static const char *err_code(json_t *j)
{
	const char *f = json_string_value(json_object_get(json_object_get(j, "error"), "code"));

	return f ? f : "";
}

static void make_device(const char *eui, const char *app, const char *token)
{
	json_t *j;
	int st = callf("POST", "/api/v1/devices", token, &j, DEV_FMT, eui, app);

	assert_int_equal(st, 201);
	json_decref(j);
}

static long long upload_firmware(const char *token, const void *data, size_t len, const char *name,
                                 json_t **out)
{
	struct form_part parts[2] = {{"file", "fw.bin", data, len},
	                             {"name", NULL, name, strlen(name)}};
	char ct[128];
	size_t blen;
	char *body = form_build(parts, 2, &blen, ct);
	struct http_resp r;
	long long id = -1;

	assert_non_null(body);
	assert_int_equal(http_req(T.fd.port, "POST", "/api/v1/firmware", token, ct, body, blen, &r),
	                 0);
	free(body);
	if (r.status == 201) {
		json_t *j = http_json(&r);

		id = jint(j, "id");
		if (out)
			*out = j;
		else
			json_decref(j);
	}
	http_free(&r);
	return id;
}

/* A valid job body for the given devices (a JSON array text) with one field overridden. */
static void job_body_fw(char *out, size_t cap, long long firmware_id, const char *devices,
                        const char *extra)
{
	snprintf(out, cap,
	         "{\"name\":\"job\",\"firmware_id\":%lld,\"devices\":%s,\"redundancy_percent\":10,"
	         "\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":5,"
	         "\"frequency_hz\":869525000,\"region\":\"EU868\",\"multicast_class\":\"C\"%s%s}",
	         firmware_id, devices, extra[0] ? "," : "", extra);
}

static void job_body(char *out, size_t cap, const char *devices, const char *extra)
{
	job_body_fw(out, cap, T.firmware_id, devices, extra);
}

static PGconn *db(void)
{
	PGconn *c = PQconnectdb(T.dsn);

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	return c;
}

/* ---------------------------------------------------------------------------------------- */

static void test_health(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http_req(T.fd.port, "GET", "/healthz", NULL, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	http_free(&r);
	assert_int_equal(http_req(T.fd.port, "GET", "/readyz", NULL, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	http_free(&r);
	assert_int_equal(itest_call("GET", "/api/v1/nope", T.admin, NULL, NULL), 404);
	assert_int_equal(itest_call("PUT", "/api/v1/jobs", T.admin, NULL, NULL), 405);
}

static void test_auth(void **state)
{
	json_t *j;
	char bad[80];

	(void)state;
	assert_int_equal(itest_call("GET", "/api/v1/jobs", NULL, NULL, &j), 401);
	assert_string_equal(err_code(j), "unauthenticated");
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/jobs", "not-a-token", NULL, NULL), 401);
	/* Well-formed but unknown: one hex digit changed. */
	snprintf(bad, sizeof(bad), "%s", T.admin);
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	assert_int_equal(itest_call("GET", "/api/v1/jobs", bad, NULL, NULL), 401);
	assert_int_equal(itest_call("GET", "/api/v1/jobs", T.admin, NULL, NULL), 200);
}

static void test_tenants_tokens(void **state)
{
	json_t *j, *item;
	char tok[80], path[64];
	long long tenant, token_id;
	size_t i;
	int saw_secret = 0;

	(void)state;
	assert_int_equal(itest_call("POST", "/api/v1/tenants", T.admin, "{\"name\":\"acme\"}", &j),
	                 201);
	tenant = jint(j, "id");
	assert_true(tenant > 1);
	assert_string_equal(jstr(j, "name"), "acme");
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/tenants/%lld", tenant);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_string_equal(jstr(j, "name"), "acme");
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/tenants/999999", T.admin, NULL, NULL), 404);

	assert_int_equal(callf("POST", "/api/v1/tokens", T.admin, &j,
	                       "{\"tenant_id\":%lld,\"name\":\"ci\"}", tenant),
	                 201);
	snprintf(tok, sizeof(tok), "%s", jstr(j, "token"));
	token_id = jint(j, "id");
	assert_int_equal(strlen(tok), 70);
	assert_memory_equal(tok, "fuota_", 6);
	assert_false(json_is_true(json_object_get(j, "admin")));
	json_decref(j);

	/* A tenant token works on its tenant's routes, not on admin routes (403). */
	assert_int_equal(itest_call("GET", "/api/v1/jobs", tok, NULL, NULL), 200);
	assert_int_equal(itest_call("POST", "/api/v1/tenants", tok, "{\"name\":\"x\"}", NULL), 403);
	assert_int_equal(itest_call("GET", "/api/v1/tokens", tok, NULL, NULL), 403);

	/* The list never shows a secret or a hash. */
	assert_int_equal(itest_call("GET", "/api/v1/tokens", T.admin, NULL, &j), 200);
	json_array_foreach(json_object_get(j, "items"), i, item)
	{
		saw_secret |= json_object_get(item, "token") != NULL;
		saw_secret |= json_object_get(item, "token_hash") != NULL;
	}
	assert_true(json_array_size(json_object_get(j, "items")) >= 2);
	assert_false(saw_secret);
	json_decref(j);

	/* Unknown tenant, bad fields. */
	assert_int_equal(itest_call("POST", "/api/v1/tokens", T.admin,
	                            "{\"tenant_id\":987654,\"name\":\"x\"}", &j),
	                 400);
	assert_string_equal(err_field(j), "tenant_id");
	json_decref(j);
	assert_int_equal(itest_call("POST", "/api/v1/tokens", T.admin,
	                            "{\"tenant_id\":1,\"name\":\"x\",\"admin\":\"yes\"}", &j),
	                 400);
	assert_string_equal(err_field(j), "admin");
	json_decref(j);

	/* Who a token is: its tenant and name, never the token or its hash; 401 without one. */
	assert_int_equal(itest_call("GET", "/api/v1/me", tok, NULL, &j), 200);
	assert_int_equal(jint(j, "tenant_id"), tenant);
	assert_string_equal(jstr(j, "tenant_name"), "acme");
	assert_int_equal(jint(j, "token_id"), token_id);
	assert_string_equal(jstr(j, "token_name"), "ci");
	assert_false(json_is_true(json_object_get(j, "admin")));
	assert_null(json_object_get(j, "token"));
	assert_null(json_object_get(j, "token_hash"));
	assert_int_equal(json_object_size(j), 5);
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/me", T.admin, NULL, &j), 200);
	assert_int_equal(jint(j, "tenant_id"), 1);
	assert_true(json_is_true(json_object_get(j, "admin")));
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/me", NULL, NULL, NULL), 401);

	/* Revoke: the token stops working at once; revoking twice is 404. */
	snprintf(path, sizeof(path), "/api/v1/tokens/%lld", token_id);
	assert_int_equal(itest_call("DELETE", path, T.admin, NULL, NULL), 204);
	assert_int_equal(itest_call("GET", "/api/v1/jobs", tok, NULL, NULL), 401);
	assert_int_equal(itest_call("GET", "/api/v1/me", tok, NULL, NULL), 401);
	assert_int_equal(itest_call("DELETE", path, T.admin, NULL, NULL), 404);
}

/* Walks list path (by id, ascending) two items a page through next_after; checks the order and
 * that each page equals the offset page at the same place. Returns how many items. */
static long long walk_pages(const char *path, const char *token)
{
	char url[256], opath[256];
	long long prev = 0, after = 0, n = 0;
	const char *sep = strchr(path, '?') ? "&" : "?";

	for (int pages = 0; pages < 1000; pages++) {
		json_t *j, *off, *it;
		size_t i;

		if (after)
			snprintf(url, sizeof(url), "%s%slimit=2&after=%lld", path, sep, after);
		else
			snprintf(url, sizeof(url), "%s%slimit=2", path, sep);
		assert_int_equal(itest_call("GET", url, token, NULL, &j), 200);
		assert_int_equal(jint(j, "limit"), 2);
		snprintf(opath, sizeof(opath), "%s%slimit=2&offset=%lld", path, sep, n);
		assert_int_equal(itest_call("GET", opath, token, NULL, &off), 200);
		assert_true(json_equal(json_object_get(j, "items"), json_object_get(off, "items")));
		json_decref(off);
		json_array_foreach(json_object_get(j, "items"), i, it)
		{
			assert_true(jint(it, "id") > prev);
			prev = jint(it, "id");
			n++;
		}
		if (json_is_null(json_object_get(j, "next_after"))) {
			assert_true(json_array_size(json_object_get(j, "items")) < 2);
			json_decref(j);
			return n;
		}
		after = jint(j, "next_after");
		assert_int_equal(after, prev);
		json_decref(j);
	}
	fail_msg("%s: no last page after 1000 pages", path);
	return -1;
}

static long long db_count(const char *sql)
{
	PGconn *c = PQconnectdb(T.dsn);
	PGresult *res = PQexec(c, sql);
	long long n = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		n = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(c);
	return n;
}

/* Tenants, tokens and firmware are paginated like jobs (limit, offset, after), bounded. */
static void test_list_pages(void **state)
{
	char name[48], tok[80];
	json_t *j;
	long long tenant = 0;

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "{\"name\":\"paged-%d\"}", i);
		assert_int_equal(itest_call("POST", "/api/v1/tenants", T.admin, name, &j), 201);
		tenant = jint(j, "id");
		json_decref(j);
		assert_int_equal(callf("POST", "/api/v1/tokens", T.admin, &j,
		                       "{\"tenant_id\":%lld,\"name\":\"paged\"}", tenant),
		                 201);
		snprintf(tok, sizeof(tok), "%s", jstr(j, "token"));
		json_decref(j);
	}
	/* The last tenant's images: 5 of them, and none of another tenant in its list. */
	for (int i = 0; i < 5; i++)
		assert_true(upload_firmware(tok, "fw", 2, "paged", NULL) > 0);
	assert_int_equal(walk_pages("/api/v1/tenants", T.admin),
	                 db_count("SELECT count(*) FROM tenant"));
	assert_int_equal(walk_pages("/api/v1/tokens", T.admin),
	                 db_count("SELECT count(*) FROM api_token"));
	snprintf(name, sizeof(name), "/api/v1/tokens?tenant_id=%lld", tenant);
	assert_int_equal(walk_pages(name, T.admin), 1);
	assert_int_equal(walk_pages("/api/v1/firmware", tok), 5);

	/* The bounds: limit 1..500, offset 0..10^9, after a positive id; each error names it. */
	static const struct {
		const char *path, *field;
	} bad[] = {
	        {"/api/v1/tenants?limit=501", "limit"},
	        {"/api/v1/tenants?limit=0", "limit"},
	        {"/api/v1/tokens?offset=1000000001", "offset"},
	        {"/api/v1/tokens?tenant_id=abc", "tenant_id"},
	        {"/api/v1/firmware?after=-3", "after"},
	        {"/api/v1/firmware?after=99999999999999999999", "after"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st = itest_call("GET", bad[i].path,
		                    strstr(bad[i].path, "firmware") ? tok : T.admin, NULL, &j);

		if (st != 400 || strcmp(err_field(j), bad[i].field) != 0)
			fail_msg("%s: status %d field \"%s\"", bad[i].path, st, err_field(j));
		json_decref(j);
	}
	/* A page of 500 is allowed. */
	assert_int_equal(itest_call("GET", "/api/v1/tenants?limit=500", T.admin, NULL, &j), 200);
	assert_true(json_is_null(json_object_get(j, "next_after")));
	json_decref(j);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_firmware_crud(void **state)
{
	static uint8_t img[5000];
	char hex[65], path[64], ct[128];
	json_t *j;
	long long id;
	struct http_resp r;
	size_t blen;
	char *body;

	(void)state;
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7 + 3);
	id = upload_firmware(T.admin, img, sizeof(img), "v1.2.3", &j);
	assert_true(id > 0);
	sha256_hex(img, sizeof(img), hex);
	assert_int_equal(jint(j, "size"), sizeof(img));
	assert_string_equal(jstr(j, "sha256"), hex);
	assert_string_equal(jstr(j, "name"), "v1.2.3");
	json_decref(j);

	snprintf(path, sizeof(path), "/api/v1/firmware/%lld", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_string_equal(jstr(j, "sha256"), hex);
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/firmware", T.admin, NULL, &j), 200);
	assert_true(json_array_size(json_object_get(j, "items")) >= 1);
	json_decref(j);
	assert_int_equal(itest_call("DELETE", path, T.admin, NULL, NULL), 204);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, NULL), 404);
	assert_int_equal(itest_call("DELETE", path, T.admin, NULL, NULL), 404);
	assert_int_equal(itest_call("GET", "/api/v1/firmware/abc", T.admin, NULL, NULL), 404);

	/* Not multipart: 415. No file part: 400 naming "file". */
	assert_int_equal(itest_call("POST", "/api/v1/firmware", T.admin, "{}", NULL), 415);
	{
		struct form_part p = {"name", NULL, "x", 1};

		body = form_build(&p, 1, &blen, ct);
		assert_int_equal(http_req(T.fd.port, "POST", "/api/v1/firmware", T.admin, ct, body,
		                          blen, &r),
		                 0);
		free(body);
		assert_int_equal(r.status, 400);
		j = http_json(&r);
		assert_string_equal(err_field(j), "file");
		json_decref(j);
		http_free(&r);
	}
}

static void test_firmware_too_large(void **state)
{
	size_t big = 2u * 1024 * 1024 + 1024; /* the test fuotad's limit is 2 MiB */
	uint8_t *img = calloc(1, big);
	json_t *j = NULL;
	struct form_part p = {"file", "big.bin", img, big};
	char ct[128];
	size_t blen;
	char *body = form_build(&p, 1, &blen, ct);
	struct http_resp r;

	(void)state;
	assert_non_null(body);
	assert_int_equal(
	        http_req(T.fd.port, "POST", "/api/v1/firmware", T.admin, ct, body, blen, &r), 0);
	assert_int_equal(r.status, 413);
	j = http_json(&r);
	assert_string_equal(err_code(j), "too_large");
	json_decref(j);
	http_free(&r);
	free(body);
	free(img);
	/* Still serving. */
	assert_int_equal(itest_call("GET", "/api/v1/firmware", T.admin, NULL, NULL), 200);
}

static void test_devices(void **state)
{
	json_t *j;
	PGconn *c;
	PGresult *res;

	(void)state;
	assert_int_equal(callf("POST", "/api/v1/devices", T.admin, &j, DEV_FMT, "A0B1C2D3E4F50617",
	                       "app-devices"),
	                 201);
	/* Stored lowercase; the key is write-only. */
	assert_string_equal(jstr(j, "dev_eui"), "a0b1c2d3e4f50617");
	assert_null(json_object_get(j, "gen_app_key"));
	assert_null(json_object_get(j, "app_key"));
	assert_null(json_object_get(j, "key_box"));
	json_decref(j);
	assert_int_equal(callf("POST", "/api/v1/devices", T.admin, &j, DEV_FMT, "a0b1c2d3e4f50617",
	                       "app-devices"),
	                 409);
	json_decref(j);
	make_device("a0b1c2d3e4f50618", "app-other", T.admin);

	assert_int_equal(itest_call("GET", "/api/v1/devices/A0B1C2D3E4F50617", T.admin, NULL, &j),
	                 200);
	assert_string_equal(jstr(j, "application_id"), "app-devices");
	{
		char *text = json_dumps(j, 0);

		assert_null(strstr(text, "000102030405060708090a0b0c0d0e0f"));
		free(text);
	}
	json_decref(j);
	assert_int_equal(
	        itest_call("GET", "/api/v1/devices?application_id=app-devices", T.admin, NULL, &j),
	        200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);

	/* In the database the key is a 16 + 28 byte box that does not contain the key. */
	c = db();
	res = PQexec(
	        c, "SELECT length(key_box), position('\\x000102030405060708090a0b0c0d0e0f'::bytea "
	           "in key_box) FROM device WHERE dev_eui = 'a0b1c2d3e4f50617'");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 1);
	assert_string_equal(PQgetvalue(res, 0, 0), "44");
	assert_string_equal(PQgetvalue(res, 0, 1), "0");
	PQclear(res);
	PQfinish(c);

	assert_int_equal(
	        itest_call("DELETE", "/api/v1/devices/a0b1c2d3e4f50618", T.admin, NULL, NULL), 204);
	assert_int_equal(itest_call("GET", "/api/v1/devices/a0b1c2d3e4f50618", T.admin, NULL, NULL),
	                 404);
	assert_int_equal(
	        itest_call("DELETE", "/api/v1/devices/a0b1c2d3e4f50618", T.admin, NULL, NULL), 404);
	assert_int_equal(itest_call("GET", "/api/v1/devices/zz", T.admin, NULL, NULL), 404);
}

struct bad_case {
	const char *body;
	const char *field;
};

static void test_device_validation(void **state)
{
	static const struct bad_case cases[] = {
	        {"{\"dev_eui\":\"0011\",\"application_id\":\"a\",\"lorawan_version\":\"1.0.3\","
	         "\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\","
	         "\"region\":\"EU868\"}",
	         "dev_eui"},
	        {"{\"dev_eui\":\"00112233445566zz\",\"application_id\":\"a\",\"lorawan_version\":"
	         "\"1.0.3\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\","
	         "\"region\":\"EU868\"}",
	         "dev_eui"},
	        {"{\"dev_eui\":\"0011223344556601\",\"application_id\":\"a\",\"lorawan_version\":"
	         "\"1.0.3\",\"gen_app_key\":\"00010203040506070809\",\"class\":\"A\","
	         "\"region\":\"EU868\"}",
	         "gen_app_key"},
	        {"{\"dev_eui\":\"0011223344556601\",\"application_id\":\"a\",\"lorawan_version\":"
	         "\"1.0.3\",\"gen_app_key\":\"0g0102030405060708090a0b0c0d0e0f\",\"class\":\"A\","
	         "\"region\":\"EU868\"}",
	         "gen_app_key"},
	        {"{\"dev_eui\":\"0011223344556601\",\"application_id\":\"a\",\"lorawan_version\":"
	         "\"1.1.0\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\","
	         "\"region\":\"EU868\"}",
	         "gen_app_key"},
	        {"{\"dev_eui\":\"0011223344556601\",\"application_id\":\"a\",\"lorawan_version\":"
	         "\"1.1.0\",\"class\":\"A\",\"region\":\"EU868\"}",
	         "app_key"},
	        {"{\"dev_eui\":\"0011223344556601\",\"application_id\":\"a\",\"lorawan_version\":"
	         "\"2.0\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\","
	         "\"region\":\"EU868\"}",
	         "lorawan_version"},
	        {"{\"dev_eui\":\"0011223344556601\",\"application_id\":\"a\",\"lorawan_version\":"
	         "\"1.0.3\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"D\","
	         "\"region\":\"EU868\"}",
	         "class"},
	        {"{\"dev_eui\":\"0011223344556601\",\"application_id\":\"a\",\"lorawan_version\":"
	         "\"1.0.3\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\","
	         "\"region\":\"XX123\"}",
	         "region"},
	        {"{\"dev_eui\":\"0011223344556601\",\"application_id\":7,\"lorawan_version\":"
	         "\"1.0.3\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\","
	         "\"region\":\"EU868\"}",
	         "application_id"},
	        {"{\"dev_eui\":\"0011223344556601\",\"application_id\":\"a\",\"lorawan_version\":"
	         "\"1.0.3\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\","
	         "\"region\":\"EU868\",\"colour\":\"red\"}",
	         "colour"},
	        {"{\"dev_eui\":\"0011223344556601\",\"application_id\":\"a\",\"lorawan_version\":"
	         "\"1.0.3\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\","
	         "\"region\":\"EU868\",\"packages\":{\"ts004\":3}}",
	         "packages.ts004"},
	        {"{\"application_id\":\"a\",\"lorawan_version\":\"1.0.3\",\"gen_app_key\":"
	         "\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\",\"region\":\"EU868\"}",
	         "dev_eui"},
	};
	json_t *j;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = itest_call("POST", "/api/v1/devices", T.admin, cases[i].body, &j);

		if (st != 400 || strcmp(err_field(j), cases[i].field) != 0)
			fail_msg("case %zu: status %d field \"%s\", expected 400 \"%s\"", i, st,
			         err_field(j), cases[i].field);
		json_decref(j);
	}
	assert_int_equal(itest_call("GET", "/api/v1/devices/0011223344556601", T.admin, NULL, NULL),
	                 404);
}

static void setup_job_fixture(void)
{
	static uint8_t img[12000];

	if (T.firmware_id)
		return;
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i ^ (i >> 8));
	T.firmware_size = sizeof(img);
	T.firmware_id = upload_firmware(T.admin, img, sizeof(img), "job-image", NULL);
	assert_true(T.firmware_id > 0);
	make_device("1000000000000001", "app-jobs", T.admin);
	make_device("1000000000000002", "app-jobs", T.admin);
}

static void test_job_json(void **state)
{
	char body[4096], path[96];
	json_t *j, *plan;
	long long id;

	(void)state;
	setup_job_fixture();
	job_body(body, sizeof(body), "[\"1000000000000001\",\"1000000000000002\"]", "");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	id = jint(j, "id");
	assert_string_equal(jstr(j, "state"), "pending");
	assert_int_equal(jint(j, "device_count"), 2);
	plan = json_object_get(j, "plan");
	/* EU868 DR5: N = 242, FragSize = 239; 12000 bytes -> 51 fragments, 10 % -> 6 parity. */
	assert_int_equal(jint(plan, "max_payload"), 242);
	assert_int_equal(jint(plan, "fragment_size"), 239);
	assert_int_equal(jint(plan, "fragments"), (12000 + 238) / 239);
	assert_int_equal(jint(plan, "padding"), 51 * 239 - 12000);
	assert_int_equal(jint(plan, "parity_frames"), 6);
	assert_int_equal(jint(plan, "total_frames"), 57);
	assert_true(jint(plan, "multicast_timeout_s") >= jint(plan, "multicast_duration_s"));
	assert_int_equal(1ll << jint(plan, "multicast_timeout_exp"),
	                 jint(plan, "multicast_timeout_s"));
	assert_true(json_real_value(json_object_get(plan, "frame_airtime_ms")) > 0);
	assert_true(jint(plan, "estimated_duration_s") >= jint(plan, "multicast_timeout_s"));
	json_decref(j);

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_int_equal(jint(j, "id"), id);
	assert_int_equal(jint(j, "firmware_id"), T.firmware_id);
	json_decref(j);

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	assert_string_equal(jstr(json_array_get(json_object_get(j, "items"), 0), "dev_eui"),
	                    "1000000000000001");
	json_decref(j);

	/* The firmware of a live job cannot go; a device in it neither. */
	snprintf(path, sizeof(path), "/api/v1/firmware/%lld", T.firmware_id);
	assert_int_equal(itest_call("DELETE", path, T.admin, NULL, NULL), 409);
	assert_int_equal(
	        itest_call("DELETE", "/api/v1/devices/1000000000000001", T.admin, NULL, NULL), 409);

	/* pause -> resume -> cancel; then the state machine refuses; then delete. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	assert_int_equal(itest_call("DELETE", path, T.admin, NULL, NULL), 409);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/pause", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 200);
	assert_string_equal(jstr(j, "state"), "paused");
	json_decref(j);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, NULL), 409);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/resume", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 200);
	assert_string_equal(jstr(j, "state"), "pending");
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/cancel", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 200);
	assert_string_equal(jstr(j, "state"), "cancelled");
	json_decref(j);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 409);
	assert_string_equal(err_code(j), "invalid_state");
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/resume", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, NULL), 409);

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	/* created, paused, resumed, cancelled */
	assert_int_equal(json_array_size(json_object_get(j, "items")), 4);
	json_decref(j);

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	assert_int_equal(itest_call("DELETE", path, T.admin, NULL, NULL), 204);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, NULL), 404);
	assert_int_equal(itest_call("POST", "/api/v1/jobs/999999/cancel", T.admin, NULL, NULL),
	                 404);
}

static void test_job_list(void **state)
{
	char body[4096];
	json_t *j;
	long long ids[5];

	(void)state;
	setup_job_fixture();
	for (int i = 0; i < 5; i++) {
		job_body(body, sizeof(body), "[\"1000000000000001\"]", "");
		assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
		ids[i] = jint(j, "id");
		json_decref(j);
	}
	snprintf(body, sizeof(body), "/api/v1/jobs/%lld/cancel", ids[0]);
	assert_int_equal(itest_call("POST", body, T.admin, NULL, NULL), 200);

	/* Newest first, paginated. */
	assert_int_equal(itest_call("GET", "/api/v1/jobs?limit=2", T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	assert_int_equal(jint(json_array_get(json_object_get(j, "items"), 0), "id"), ids[4]);
	assert_int_equal(jint(json_array_get(json_object_get(j, "items"), 1), "id"), ids[3]);
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?limit=2&offset=2", T.admin, NULL, &j),
	                 200);
	assert_int_equal(jint(json_array_get(json_object_get(j, "items"), 0), "id"), ids[2]);
	json_decref(j);
	assert_int_equal(
	        itest_call("GET", "/api/v1/jobs?state=cancelled&limit=500", T.admin, NULL, &j),
	        200);
	{
		size_t i;
		json_t *it;
		int found = 0;

		json_array_foreach(json_object_get(j, "items"), i, it)
		{
			assert_string_equal(jstr(it, "state"), "cancelled");
			found |= jint(it, "id") == ids[0];
		}
		assert_true(found);
	}
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?state=bogus", T.admin, NULL, &j), 400);
	assert_string_equal(err_field(j), "state");
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?limit=0", T.admin, NULL, NULL), 400);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?limit=-1", T.admin, NULL, NULL), 400);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?limit=501", T.admin, NULL, NULL), 400);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?offset=x", T.admin, NULL, NULL), 400);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?after=0", T.admin, NULL, &j), 400);
	assert_string_equal(err_field(j), "after");
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?after=1x", T.admin, NULL, NULL), 400);

	/* A list item is the job's summary: the same values as GET /jobs/{id}, without the plan. */
	assert_int_equal(itest_call("GET", "/api/v1/jobs?limit=1", T.admin, NULL, &j), 200);
	{
		json_t *item = json_array_get(json_object_get(j, "items"), 0), *full;
		static const char *const same[] = {"id",           "name",       "state",
		                                   "firmware_id",  "region",     "multicast_class",
		                                   "device_count", "error",      "start_at",
		                                   "created_at",   "updated_at", "started_at",
		                                   "finished_at"};

		assert_int_equal(jint(item, "id"), ids[4]);
		assert_null(json_object_get(item, "plan"));
		assert_int_equal(jint(j, "next_after"), ids[4]);
		snprintf(body, sizeof(body), "/api/v1/jobs/%lld", ids[4]);
		assert_int_equal(itest_call("GET", body, T.admin, NULL, &full), 200);
		for (size_t k = 0; k < sizeof(same) / sizeof(same[0]); k++) {
			json_t *a = json_object_get(item, same[k]),
			       *b = json_object_get(full, same[k]);

			if (!a || !b || !json_equal(a, b))
				fail_msg("list and GET differ on %s", same[k]);
		}
		assert_non_null(strchr(jstr(item, "created_at"), 'T'));
		json_decref(full);
	}
	json_decref(j);

	/* Keyset pages (after = next_after) walk the same jobs as offset pages, newest first, each
	 * once, and the last page says so with next_after null. */
	{
		long long prev = 0, after = 0, n_keyset = 0;
		int pages = 0;

		for (;;) {
			json_t *it, *off;
			size_t i;
			char opath[96];

			if (after)
				snprintf(body, sizeof(body), "/api/v1/jobs?limit=2&after=%lld",
				         after);
			else
				snprintf(body, sizeof(body), "/api/v1/jobs?limit=2");
			assert_int_equal(itest_call("GET", body, T.admin, NULL, &j), 200);
			snprintf(opath, sizeof(opath), "/api/v1/jobs?limit=2&offset=%lld",
			         n_keyset);
			assert_int_equal(itest_call("GET", opath, T.admin, NULL, &off), 200);
			assert_true(json_equal(json_object_get(j, "items"),
			                       json_object_get(off, "items")));
			json_decref(off);
			json_array_foreach(json_object_get(j, "items"), i, it)
			{
				assert_true(prev == 0 || jint(it, "id") < prev);
				prev = jint(it, "id");
				n_keyset++;
			}
			pages++;
			if (json_is_null(json_object_get(j, "next_after"))) {
				assert_true(json_array_size(json_object_get(j, "items")) < 2);
				json_decref(j);
				break;
			}
			after = jint(j, "next_after");
			assert_int_equal(after, prev);
			json_decref(j);
			assert_true(pages < 1000);
		}
		/* Every job of the tenant, as the database counts them. */
		{
			PGconn *c = db();
			PGresult *res = PQexec(c, "SELECT count(*) FROM job WHERE tenant_id = 1");

			assert_int_equal(atoll(PQgetvalue(res, 0, 0)), n_keyset);
			PQclear(res);
			PQfinish(c);
		}
	}
	for (int i = 1; i < 5; i++) {
		snprintf(body, sizeof(body), "/api/v1/jobs/%lld/cancel", ids[i]);
		assert_int_equal(itest_call("POST", body, T.admin, NULL, NULL), 200);
	}
}

static void test_job_multipart(void **state)
{
	static uint8_t img[3000];
	struct form_part parts[] = {
	        {"name", NULL, "multipart job", 13},
	        {"file", "image.bin", img, sizeof(img)},
	        {"devices", NULL, "1000000000000001, 1000000000000002", 34},
	        {"redundancy_frames", NULL, "4", 1},
	        {"unicast_timeout_s", NULL, "30", 2},
	        {"unicast_attempts", NULL, "2", 1},
	        {"data_rate", NULL, "0", 1},
	        {"frequency_hz", NULL, "869525000", 9},
	        {"region", NULL, "EU868", 5},
	        {"multicast_class", NULL, "C", 1},
	};
	char ct[128], path[64], hex[65];
	size_t blen;
	char *body;
	struct http_resp r;
	json_t *j, *fw;

	(void)state;
	setup_job_fixture();
	memset(img, 0x5a, sizeof(img));
	body = form_build(parts, sizeof(parts) / sizeof(parts[0]), &blen, ct);
	assert_int_equal(http_req(T.fd.port, "POST", "/api/v1/jobs", T.admin, ct, body, blen, &r),
	                 0);
	assert_int_equal(r.status, 201);
	j = http_json(&r);
	/* EU868 DR0: N = 51, FragSize 48; 3000 bytes -> 63 fragments + 4 parity. */
	assert_int_equal(jint(json_object_get(j, "plan"), "fragment_size"), 48);
	assert_int_equal(jint(json_object_get(j, "plan"), "fragments"), 63);
	assert_int_equal(jint(json_object_get(j, "plan"), "parity_frames"), 4);
	assert_int_equal(jint(j, "device_count"), 2);
	/* The image became a firmware object with its SHA-256. */
	snprintf(path, sizeof(path), "/api/v1/firmware/%lld", jint(j, "firmware_id"));
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &fw), 200);
	sha256_hex(img, sizeof(img), hex);
	assert_string_equal(jstr(fw, "sha256"), hex);
	json_decref(fw);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/cancel", jint(j, "id"));
	assert_int_equal(itest_call("POST", path, T.admin, NULL, NULL), 200);
	json_decref(j);
	http_free(&r);
	free(body);

	/* A bad field in the form is named like in JSON; no firmware is left behind. */
	parts[6].data = "99";
	parts[6].len = 2;
	body = form_build(parts, sizeof(parts) / sizeof(parts[0]), &blen, ct);
	assert_int_equal(http_req(T.fd.port, "POST", "/api/v1/jobs", T.admin, ct, body, blen, &r),
	                 0);
	assert_int_equal(r.status, 400);
	j = http_json(&r);
	assert_string_equal(err_field(j), "data_rate");
	json_decref(j);
	http_free(&r);
	/* Truncated multipart: 400. */
	assert_int_equal(
	        http_req(T.fd.port, "POST", "/api/v1/jobs", T.admin, ct, body, blen - 40, &r), 0);
	assert_int_equal(r.status, 400);
	j = http_json(&r);
	assert_string_equal(err_code(j), "malformed_multipart");
	json_decref(j);
	http_free(&r);
	free(body);
}

static void test_job_validation(void **state)
{
	static const struct bad_case cases[] = {
	        {"\"data_rate\":9", "data_rate"}, /* not an EU868 downlink DR */
	        {"\"data_rate\":-1", "data_rate"},
	        {"\"data_rate\":\"5\"", "data_rate"},           /* wrong type */
	        {"\"frequency_hz\":915000000", "frequency_hz"}, /* outside EU868 */
	        {"\"frequency_hz\":0", "frequency_hz"},
	        {"\"fragment_size\":240", "fragment_size"}, /* DR5 carries 239 */
	        {"\"unicast_timeout_s\":-5", "unicast_timeout_s"},
	        {"\"unicast_attempts\":0", "unicast_attempts"},
	        {"\"multicast_timeout_s\":-1", "multicast_timeout_s"},
	        {"\"multicast_timeout_s\":1", "multicast_timeout_s"}, /* too short for 57 frames */
	        {"\"multicast_class\":\"A\"", "multicast_class"},
	        {"\"multicast_class\":\"B\",\"ping_slot_periodicity\":8", "ping_slot_periodicity"},
	        {"\"ping_slot_periodicity\":3", "ping_slot_periodicity"}, /* class C: refused */
	        {"\"region\":\"MARS\"", "region"},
	        {"\"redundancy_frames\":2", "redundancy_frames"}, /* both kinds */
	        {"\"start_at\":\"tomorrow\"", "start_at"},
	        {"\"colour\":1", "colour"}, /* unknown field */
	        {"\"firmware_size\":10", "firmware_size"},
	        {"\"tx_power_dbm\":30", "tx_power_dbm"}, /* 869.525 MHz allows 29 dBm EIRP */
	        {"\"tx_power_dbm\":-1", "tx_power_dbm"},
	        {"\"tx_power_dbm\":\"20\"", "tx_power_dbm"},
	};
	static const struct bad_case device_cases[] = {
	        {"[\"10000000000000zz\"]", "devices"},
	        {"[\"1000000000000001\",\"1000000000000001\"]", "devices"}, /* twice */
	        {"[\"2000000000000009\"]", "devices"},                      /* unknown */
	        {"[]", "devices"},
	        {"\"1000000000000001\"", "devices"},
	        {"[1]", "devices"},
	};
	char body[4096];
	json_t *j;

	(void)state;
	setup_job_fixture();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char extra[256], *text;
		json_t *base, *over;
		int st;

		/* The valid body with one field replaced (or added). */
		job_body(body, sizeof(body), "[\"1000000000000001\"]", "");
		snprintf(extra, sizeof(extra), "{%s}", cases[i].body);
		base = json_loads(body, 0, NULL);
		over = json_loads(extra, 0, NULL);
		assert_non_null(base);
		assert_non_null(over);
		json_object_update(base, over);
		text = json_dumps(base, JSON_COMPACT);
		st = itest_call("POST", "/api/v1/jobs", T.admin, text, &j);
		if (st != 400 || strcmp(err_field(j), cases[i].field) != 0)
			fail_msg("case %zu (%s): status %d field \"%s\", expected 400 \"%s\"", i,
			         text, st, err_field(j), cases[i].field);
		json_decref(j);
		json_decref(base);
		json_decref(over);
		free(text);
	}
	for (size_t i = 0; i < sizeof(device_cases) / sizeof(device_cases[0]); i++) {
		int st;

		job_body(body, sizeof(body), device_cases[i].body, "");
		st = itest_call("POST", "/api/v1/jobs", T.admin, body, &j);
		if (st != 400 || strcmp(err_field(j), "devices") != 0)
			fail_msg("device case %zu: status %d field \"%s\"", i, st, err_field(j));
		json_decref(j);
	}
	/* Unknown firmware, missing firmware, missing name. */
	assert_int_equal(
	        itest_call("POST", "/api/v1/jobs", T.admin,
	                   "{\"name\":\"x\",\"firmware_id\":424242,\"devices\":["
	                   "\"1000000000000001\"],\"redundancy_percent\":10,"
	                   "\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":5,"
	                   "\"frequency_hz\":869525000,\"region\":\"EU868\","
	                   "\"multicast_class\":\"C\"}",
	                   &j),
	        400);
	assert_string_equal(err_field(j), "firmware_id");
	json_decref(j);
	assert_int_equal(
	        itest_call("POST", "/api/v1/jobs", T.admin,
	                   "{\"name\":\"x\",\"devices\":[\"1000000000000001\"],"
	                   "\"redundancy_percent\":10,\"unicast_timeout_s\":60,"
	                   "\"unicast_attempts\":3,\"data_rate\":5,\"frequency_hz\":869525000,"
	                   "\"region\":\"EU868\",\"multicast_class\":\"C\"}",
	                   &j),
	        400);
	assert_string_equal(err_field(j), "firmware_id");
	json_decref(j);
	/* Class B with periodicity is fine. */
	job_body(body, sizeof(body), "[\"1000000000000001\"]", "\"ping_slot_periodicity\":0");
	body[strstr(body, "\"C\"") - body + 1] = 'B';
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	assert_int_equal(128ll << jint(json_object_get(j, "plan"), "multicast_timeout_exp"),
	                 jint(json_object_get(j, "plan"), "multicast_timeout_s"));
	snprintf(body, sizeof(body), "/api/v1/jobs/%lld/cancel", jint(j, "id"));
	json_decref(j);
	assert_int_equal(itest_call("POST", body, T.admin, NULL, NULL), 200);
	/* A power within the sub-band's 29 dBm EIRP is kept, in the job and its plan. */
	job_body(body, sizeof(body), "[\"1000000000000001\"]", "\"tx_power_dbm\":20");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	assert_int_equal(jint(j, "tx_power_dbm"), 20);
	assert_int_equal(jint(json_object_get(j, "plan"), "tx_power_dbm"), 20);
	snprintf(body, sizeof(body), "/api/v1/jobs/%lld/cancel", jint(j, "id"));
	json_decref(j);
	assert_int_equal(itest_call("POST", body, T.admin, NULL, NULL), 200);
}

static void test_job_plan(void **state)
{
	json_t *j, *plan;
	int before, after;
	PGconn *c = db();
	PGresult *res = PQexec(c, "SELECT count(*) FROM job");

	(void)state;
	before = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	/* 100 kB at EU868 DR5 (239-byte fragments): 419 fragments + 42 parity; nothing stored. */
	assert_int_equal(
	        itest_call("POST", "/api/v1/jobs:plan", T.admin,
	                   "{\"firmware_size\":100000,\"redundancy_percent\":10,"
	                   "\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":5,"
	                   "\"frequency_hz\":869525000,\"region\":\"EU868\","
	                   "\"multicast_class\":\"C\"}",
	                   &j),
	        200);
	plan = json_object_get(j, "plan");
	assert_int_equal(jint(plan, "fragments"), 419);
	assert_int_equal(jint(plan, "parity_frames"), 42);
	/* 869.525 MHz is the 10 % sub-band: each frame waits 10x its airtime. */
	assert_true(json_real_value(json_object_get(plan, "duty_cycle")) > 0.099 &&
	            json_real_value(json_object_get(plan, "duty_cycle")) < 0.101);
	assert_true(jint(plan, "multicast_duration_s") >=
	            (long long)(461 * json_real_value(json_object_get(plan, "frame_airtime_ms")) *
	                        10 / 1000));
	json_decref(j);
	res = PQexec(c, "SELECT count(*) FROM job");
	after = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(c);
	assert_int_equal(before, after);

	/* 1 MB at DR0 (48-byte fragments) is 20834 fragments: 2 parts (issue 14), but a part's
	 * session would outlast TS005's longest TimeOut: refused, naming the data rate. */
	assert_int_equal(
	        itest_call("POST", "/api/v1/jobs:plan", T.admin,
	                   "{\"firmware_size\":1000000,\"redundancy_percent\":10,"
	                   "\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":0,"
	                   "\"frequency_hz\":869525000,\"region\":\"EU868\","
	                   "\"multicast_class\":\"C\"}",
	                   &j),
	        400);
	assert_string_equal(err_field(j), "data_rate");
	assert_non_null(
	        strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
	               "longest TS005 timeout"));
	json_decref(j);
	/* 2 MB at DR5 in 100-byte fragments is 20000 fragments: 2 parts of 10000, each a session
	 * of its own with its parity, its TimeOut and its two unicast steps. */
	assert_int_equal(
	        itest_call("POST", "/api/v1/jobs:plan", T.admin,
	                   "{\"firmware_size\":2000000,\"redundancy_percent\":10,"
	                   "\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":5,"
	                   "\"fragment_size\":100,\"frequency_hz\":869525000,"
	                   "\"region\":\"EU868\",\"multicast_class\":\"C\"}",
	                   &j),
	        200);
	assert_int_equal(jint(json_object_get(j, "plan"), "parts"), 2);
	assert_int_equal(jint(json_object_get(j, "plan"), "part_fragments"), 10000);
	assert_int_equal(jint(json_object_get(j, "plan"), "total_frames"), 22000);
	assert_int_equal(jint(json_object_get(j, "plan"), "estimated_duration_s"),
	                 (3 + 2) * 3 * 60 +
	                         2 * jint(json_object_get(j, "plan"), "multicast_timeout_s"));
	json_decref(j);
	/* US915 downlink DRs are 8..13; DR2 is uplink-only. */
	assert_int_equal(
	        itest_call("POST", "/api/v1/jobs:plan", T.admin,
	                   "{\"firmware_size\":1000,\"redundancy_percent\":10,"
	                   "\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":2,"
	                   "\"frequency_hz\":923300000,\"region\":\"US915\","
	                   "\"multicast_class\":\"C\"}",
	                   &j),
	        400);
	assert_string_equal(err_field(j), "data_rate");
	json_decref(j);
	assert_int_equal(
	        itest_call("POST", "/api/v1/jobs:plan", T.admin,
	                   "{\"firmware_size\":1000,\"redundancy_percent\":10,"
	                   "\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":8,"
	                   "\"frequency_hz\":923300000,\"region\":\"US915\","
	                   "\"multicast_class\":\"C\"}",
	                   &j),
	        200);
	json_decref(j);
}

/* Issue 16: a device's stack and fragment limit, stored and returned; the plan warns of a device
 * whose limit (its own, or LoRa Basics Modem's default build of 100) is below the job's
 * fragments. */
#define STACK_DEV_FMT                                           \
	"{\"dev_eui\":\"%s\",\"application_id\":\"stk\","       \
	"\"lorawan_version\":\"1.0.4\",\"gen_app_key\":"        \
	"\"000102030405060708090a0b0c0d0e0f\",\"class\":\"C\"," \
	"\"region\":\"EU868\"%s}"

static void test_device_stack_plan(void **state)
{
	char body[512];
	json_t *j, *w;

	(void)state;
	snprintf(body, sizeof(body), STACK_DEV_FMT, "5100000000000001", ",\"stack\":\"lbm\"");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, body, &j), 201);
	assert_string_equal(jstr(j, "stack"), "lbm");
	assert_true(json_is_null(json_object_get(j, "max_frags")));
	json_decref(j);
	snprintf(body, sizeof(body), STACK_DEV_FMT, "5100000000000002",
	         ",\"stack\":\"loramac-node\",\"max_frags\":300");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, body, &j), 201);
	json_decref(j);
	snprintf(body, sizeof(body), STACK_DEV_FMT, "5100000000000003", ",\"max_frags\":200");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, body, &j), 201);
	json_decref(j);
	snprintf(body, sizeof(body), STACK_DEV_FMT, "5100000000000004", "");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, body, &j), 201);
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/devices/5100000000000002", T.admin, NULL, &j),
	                 200);
	assert_string_equal(jstr(j, "stack"), "loramac-node");
	assert_int_equal(jint(j, "max_frags"), 300);
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/devices/5100000000000004", T.admin, NULL, &j),
	                 200);
	assert_string_equal(jstr(j, "stack"), "ts004");
	json_decref(j);
	snprintf(body, sizeof(body), STACK_DEV_FMT, "5100000000000005", ",\"stack\":\"zephyr\"");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, body, &j), 400);
	assert_string_equal(err_field(j), "stack");
	json_decref(j);
	/* TS006 (issue 16): 0 or 1, returned in packages. */
	snprintf(body, sizeof(body), STACK_DEV_FMT, "5100000000000006",
	         ",\"packages\":{\"ts004\":1,\"ts006\":1}");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, body, &j), 201);
	assert_int_equal(jint(json_object_get(j, "packages"), "ts006"), 1);
	json_decref(j);
	snprintf(body, sizeof(body), STACK_DEV_FMT, "5100000000000005",
	         ",\"packages\":{\"ts006\":2}");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, body, &j), 400);
	assert_string_equal(err_field(j), "packages.ts006");
	json_decref(j);
	snprintf(body, sizeof(body), STACK_DEV_FMT, "5100000000000005", ",\"max_frags\":0");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, body, &j), 400);
	assert_string_equal(err_field(j), "max_frags");
	json_decref(j);
	/* 65725 bytes at DR5 (239-byte fragments): 275 fragments. The ts004 device that takes
	 * 200 splits the image into 2 parts of 138 (fuota/plan_parts.h); the LBM and LoRaMac-node
	 * devices do not assemble parts: warned of; the ts004 ones are not. */
	assert_int_equal(
	        itest_call("POST", "/api/v1/jobs:plan", T.admin,
	                   "{\"firmware_size\":65725,\"redundancy_percent\":10,"
	                   "\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":5,"
	                   "\"frequency_hz\":869525000,\"region\":\"EU868\","
	                   "\"multicast_class\":\"C\",\"devices\":[\"5100000000000001\","
	                   "\"5100000000000002\",\"5100000000000003\",\"5100000000000004\"]}",
	                   &j),
	        200);
	assert_int_equal(jint(json_object_get(j, "plan"), "fragments"), 275);
	assert_int_equal(jint(json_object_get(j, "plan"), "parts"), 2);
	assert_int_equal(jint(json_object_get(j, "plan"), "part_fragments"), 138);
	assert_int_equal(jint(json_object_get(j, "plan"), "last_part_fragments"), 137);
	assert_int_equal(jint(json_object_get(j, "plan"), "part_parity_frames"), 14);
	assert_int_equal(jint(json_object_get(j, "plan"), "parity_frames"), 28);
	w = json_object_get(j, "warnings");
	assert_int_equal(json_array_size(w), 2);
	assert_string_equal(jstr(json_array_get(w, 0), "dev_eui"), "5100000000000001");
	assert_string_equal(jstr(json_array_get(w, 0), "code"), "device_parts");
	assert_int_equal(jint(json_array_get(w, 0), "parts"), 2);
	assert_string_equal(jstr(json_array_get(w, 1), "dev_eui"), "5100000000000002");
	assert_string_equal(jstr(json_array_get(w, 1), "code"), "device_parts");
	json_decref(j);
	/* Without the ts004 limit: one part, and the LBM device's 100 is short of 275. */
	assert_int_equal(
	        itest_call("POST", "/api/v1/jobs:plan", T.admin,
	                   "{\"firmware_size\":65725,\"redundancy_percent\":10,"
	                   "\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":5,"
	                   "\"frequency_hz\":869525000,\"region\":\"EU868\","
	                   "\"multicast_class\":\"C\",\"devices\":[\"5100000000000001\","
	                   "\"5100000000000002\",\"5100000000000004\"]}",
	                   &j),
	        200);
	assert_int_equal(jint(json_object_get(j, "plan"), "parts"), 1);
	w = json_object_get(j, "warnings");
	assert_int_equal(json_array_size(w), 1);
	assert_string_equal(jstr(json_array_get(w, 0), "code"), "device_memory");
	assert_int_equal(jint(json_array_get(w, 0), "max_frags"), 100);
	assert_int_equal(jint(json_array_get(w, 0), "fragments"), 275);
	json_decref(j);
	/* A small image: no warning. */
	assert_int_equal(
	        itest_call("POST", "/api/v1/jobs:plan", T.admin,
	                   "{\"firmware_size\":2000,\"redundancy_percent\":10,"
	                   "\"unicast_timeout_s\":60,\"unicast_attempts\":3,\"data_rate\":5,"
	                   "\"frequency_hz\":869525000,\"region\":\"EU868\","
	                   "\"multicast_class\":\"C\",\"devices\":[\"5100000000000001\"]}",
	                   &j),
	        200);
	assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
	json_decref(j);
}

/* The same through a multipart form: 3000 bytes at DR0 (63 fragments of 48) for the device of
 * max_frags 40 go in 2 parts of 32 and 31. */
static void job_in_parts_multipart(void)
{
	static uint8_t img[3000];
	struct form_part parts[] = {
	        {"name", NULL, "multipart parts", 15},     {"file", "image.bin", img, sizeof(img)},
	        {"devices", NULL, "5200000000000003", 16}, {"redundancy_percent", NULL, "10", 2},
	        {"unicast_timeout_s", NULL, "30", 2},      {"data_rate", NULL, "0", 1},
	        {"frequency_hz", NULL, "869525000", 9},    {"region", NULL, "EU868", 5},
	        {"multicast_class", NULL, "C", 1},
	};
	char ct[128];
	size_t blen;
	char *body;
	struct http_resp r;
	json_t *j;

	memset(img, 0x77, sizeof(img));
	body = form_build(parts, sizeof(parts) / sizeof(parts[0]), &blen, ct);
	assert_int_equal(http_req(T.fd.port, "POST", "/api/v1/jobs", T.admin, ct, body, blen, &r),
	                 0);
	assert_int_equal(r.status, 201);
	j = http_json(&r);
	assert_int_equal(jint(json_object_get(j, "plan"), "fragments"), 63);
	assert_int_equal(jint(json_object_get(j, "plan"), "parts"), 2);
	assert_int_equal(jint(json_object_get(j, "plan"), "part_fragments"), 32);
	assert_int_equal(jint(json_object_get(j, "plan"), "last_part_fragments"), 31);
	assert_int_equal(jint(json_object_get(j, "plan"), "parity_frames"), 4 + 4);
	assert_int_equal(jint(j, "parts"), 2);
	json_decref(j);
	http_free(&r);
	free(body);
}

/* Issue 16: a job whose image needs more fragments than a device takes is refused with 409
 * naming the device and its limit, unless the device takes parts (issue 14): then the image is
 * split. The fixture's image is 51 fragments at DR5. */
static void test_job_device_memory(void **state)
{
	char body[4096], dev[512], path[96];
	json_t *j;
	const char *msg;
	long long job;

	(void)state;
	setup_job_fixture();
	snprintf(dev, sizeof(dev), STACK_DEV_FMT, "5200000000000001",
	         ",\"stack\":\"loramac-node\",\"max_frags\":40");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, dev, NULL), 201);
	snprintf(dev, sizeof(dev), STACK_DEV_FMT, "5200000000000002", ",\"max_frags\":51");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, dev, NULL), 201);
	snprintf(dev, sizeof(dev), STACK_DEV_FMT, "5200000000000003", ",\"max_frags\":40");
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, dev, NULL), 201);
	job_body(body, sizeof(body), "[\"5200000000000002\",\"5200000000000001\"]", "");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 409);
	assert_string_equal(err_field(j), "devices");
	assert_string_equal(jstr(json_object_get(j, "error"), "code"), "device_memory");
	msg = jstr(json_object_get(j, "error"), "message");
	assert_non_null(strstr(msg, "the job sends 51 fragments, more than 1 device(s) take: "
	                            "5200000000000001 (at most 40)"));
	json_decref(j);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE dev_eui = "
	                          "'5200000000000002'"),
	                 0);
	/* A ts004 device of 40 splits the image into 2 parts of 26: the LoRaMac-node device
	 * cannot take them. */
	job_body(body, sizeof(body), "[\"5200000000000003\",\"5200000000000001\"]", "");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 409);
	assert_string_equal(jstr(json_object_get(j, "error"), "code"), "device_parts");
	msg = jstr(json_object_get(j, "error"), "message");
	assert_non_null(strstr(msg, "2 parts of 26 fragments; 1 device(s) cannot take them: "
	                            "5200000000000001 (loramac-node)"));
	json_decref(j);
	job_body(body, sizeof(body), "[\"5200000000000002\"]", "");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	assert_int_equal(jint(j, "parts"), 1);
	json_decref(j);
	/* Both ts004 devices: created, in 2 parts, part 1 under way. */
	job_body(body, sizeof(body), "[\"5200000000000003\",\"5200000000000002\"]", "");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	job = jint(j, "id");
	assert_int_equal(jint(j, "parts"), 2);
	assert_int_equal(jint(j, "part"), 1);
	assert_int_equal(jint(json_object_get(j, "plan"), "part_fragments"), 26);
	assert_int_equal(jint(json_object_get(j, "plan"), "last_part_fragments"), 25);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices", job);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_int_equal(jint(json_array_get(json_object_get(j, "items"), 0), "part"), 1);
	json_decref(j);
	job_in_parts_multipart();
}

static void test_tenant_isolation(void **state)
{
	char path[96], body[4096];
	json_t *j;
	long long job;

	(void)state;
	setup_job_fixture();
	job_body(body, sizeof(body), "[\"1000000000000001\"]", "");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	job = jint(j, "id");
	json_decref(j);

	/* Tenant B sees none of tenant 1's objects: 404, never 403; lists are empty. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", job);
	assert_int_equal(itest_call("GET", path, T.tenant_b, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices", job);
	assert_int_equal(itest_call("GET", path, T.tenant_b, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events", job);
	assert_int_equal(itest_call("GET", path, T.tenant_b, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/cancel", job);
	assert_int_equal(itest_call("POST", path, T.tenant_b, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", job);
	assert_int_equal(itest_call("DELETE", path, T.tenant_b, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/api/v1/firmware/%lld", T.firmware_id);
	assert_int_equal(itest_call("GET", path, T.tenant_b, NULL, NULL), 404);
	assert_int_equal(itest_call("DELETE", path, T.tenant_b, NULL, NULL), 404);
	assert_int_equal(
	        itest_call("GET", "/api/v1/devices/1000000000000001", T.tenant_b, NULL, NULL), 404);
	assert_int_equal(
	        itest_call("DELETE", "/api/v1/devices/1000000000000001", T.tenant_b, NULL, NULL),
	        404);
	assert_int_equal(itest_call("GET", "/api/v1/jobs", T.tenant_b, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/devices", T.tenant_b, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/firmware", T.tenant_b, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	/* Nor can it use them in a job: the firmware and the device are unknown to it. */
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.tenant_b, body, &j), 400);
	assert_string_equal(err_field(j), "firmware_id");
	json_decref(j);
	/* A DevEUI names one device of the network: tenant B cannot register tenant 1's (and
	 * so cannot make a job send to it). The answer is 409 on dev_eui, the very body tenant 1
	 * gets for its own DevEUI, with nothing of tenant 1 in it. */
	{
		char dev[512];
		struct http_resp mine, theirs;

		snprintf(dev, sizeof(dev), DEV_FMT, "1000000000000001", "app-b");
		assert_int_equal(http_req(T.fd.port, "POST", "/api/v1/devices", T.tenant_b,
		                          "application/json", dev, strlen(dev), &theirs),
		                 0);
		assert_int_equal(http_req(T.fd.port, "POST", "/api/v1/devices", T.admin,
		                          "application/json", dev, strlen(dev), &mine),
		                 0);
		assert_int_equal(theirs.status, 409);
		assert_int_equal(mine.status, 409);
		assert_string_equal(theirs.body, mine.body);
		assert_null(strstr(theirs.body, "app-jobs"));
		assert_null(strstr(theirs.body, "tenant"));
		assert_null(strstr(theirs.body, "default"));
		j = http_json(&theirs);
		assert_string_equal(err_field(j), "dev_eui");
		assert_string_equal(err_code(j), "conflict");
		json_decref(j);
		http_free(&theirs);
		http_free(&mine);
	}
	/* In either case: upper case DevEUI, and straight into the table (the database holds the
	 * rule, not only the API). */
	assert_int_equal(callf("POST", "/api/v1/devices", T.tenant_b, NULL, DEV_FMT,
	                       "1000000000000002", "app-b"),
	                 409);
	{
		PGconn *c = db();
		PGresult *res = PQexec(c, "INSERT INTO device (tenant_id, dev_eui, application_id, "
		                          "lorawan_version, class, region, key_kind, key_box) "
		                          "SELECT t.id, '1000000000000001', 'x', '1.0.3', 'A', "
		                          "'EU868', 'gen_app_key', '\\x00' FROM tenant t "
		                          "WHERE t.name = 'tenant-b'");

		assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
		assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23505");
		PQclear(res);
		/* Nor can a job_device row join a device to another tenant's job. */
		res = PQexec(c, "INSERT INTO device (tenant_id, dev_eui, application_id, "
		                "lorawan_version, class, region, key_kind, key_box) "
		                "SELECT t.id, '10000000000000b1', 'x', '1.0.3', 'A', 'EU868', "
		                "'gen_app_key', '\\x00' FROM tenant t WHERE t.name = 'tenant-b'");
		assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
		snprintf(body, sizeof(body),
		         "INSERT INTO job_device (job_id, tenant_id, dev_eui) SELECT %lld, t.id, "
		         "'10000000000000b1' FROM tenant t WHERE t.name = 'tenant-b'",
		         job);
		res = PQexec(c, body);
		assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
		assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23503");
		PQclear(res);
		res = PQexec(c, "DELETE FROM device WHERE dev_eui = '10000000000000b1'");
		PQclear(res);
		PQfinish(c);
	}
	assert_int_equal(itest_call("GET", "/api/v1/devices", T.tenant_b, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	/* A job of B (with its own image) on tenant 1's DevEUI: the device is unknown to B. */
	{
		static const uint8_t img_b[64] = {1, 2, 3};
		long long fw_b = upload_firmware(T.tenant_b, img_b, sizeof(img_b), "b-image", NULL);

		assert_true(fw_b > 0);
		job_body_fw(body, sizeof(body), fw_b, "[\"1000000000000001\"]", "");
		assert_int_equal(itest_call("POST", "/api/v1/jobs", T.tenant_b, body, &j), 400);
		assert_string_equal(err_field(j), "devices");
		json_decref(j);
		snprintf(path, sizeof(path), "/api/v1/firmware/%lld", fw_b);
		assert_int_equal(itest_call("DELETE", path, T.tenant_b, NULL, NULL), 204);
	}
	assert_int_equal(itest_call("GET", "/api/v1/devices/1000000000000001", T.admin, NULL, &j),
	                 200);
	assert_string_equal(jstr(j, "application_id"), "app-jobs");
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/cancel", job);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, NULL), 200);
}

static void test_sql_metacharacters(void **state)
{
	static const char *const evil[] = {
	        "'; DROP TABLE job; --",
	        "\\\\x00' OR '1'='1",
	        "Robert'); DELETE FROM device WHERE ('1'='1",
	        "$1 $$ E'\\\\' \\\" %s %n",
	        "\xc3\xa9t\xc3\xa9 \xe2\x9c\x93",
	        "tab\there\r\nline\x01\x1f\x7f \"q\" \\ end",
	};
	char body[4096], dev[17];
	json_t *j;
	PGconn *c;
	PGresult *res;

	(void)state;
	setup_job_fixture();
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		json_t *s = json_string(evil[i]);
		char *quoted = json_dumps(s, JSON_ENCODE_ANY);
		const char *want = json_string_value(s);

		/* tenant name, device application_id, firmware name, job name, job list filter */
		assert_int_equal(
		        callf("POST", "/api/v1/tenants", T.admin, &j, "{\"name\":%s}", quoted),
		        201);
		assert_string_equal(jstr(j, "name"), want);
		json_decref(j);
		snprintf(dev, sizeof(dev), "30000000000000%02zu", i);
		assert_int_equal(
		        callf("POST", "/api/v1/devices", T.admin, &j,
		              "{\"dev_eui\":\"%s\",\"application_id\":%s,\"lorawan_version\":"
		              "\"1.0.3\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\","
		              "\"class\":\"A\",\"region\":\"EU868\"}",
		              dev, quoted),
		        201);
		assert_string_equal(jstr(j, "application_id"), want);
		json_decref(j);
		assert_true(upload_firmware(T.admin, "x", 1, want, &j) > 0);
		assert_string_equal(jstr(j, "name"), want);
		json_decref(j);
		job_body(body, sizeof(body), "[\"1000000000000001\"]", "");
		/* body starts {"name":"job",... : put the quoted string in place of "job". */
		memmove(body + 8 + strlen(quoted), body + 13, strlen(body + 13) + 1);
		memcpy(body + 8, quoted, strlen(quoted));
		assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
		assert_string_equal(jstr(j, "name"), want);
		snprintf(body, sizeof(body), "/api/v1/jobs/%lld/cancel", jint(j, "id"));
		json_decref(j);
		/* The lists (JSON written by store_rows.c) give the same text back. */
		assert_int_equal(itest_call("GET", "/api/v1/jobs?limit=1", T.admin, NULL, &j), 200);
		assert_string_equal(jstr(json_array_get(json_object_get(j, "items"), 0), "name"),
		                    want);
		json_decref(j);
		assert_int_equal(itest_call("GET", "/api/v1/tenants?limit=500", T.admin, NULL, &j),
		                 200);
		{
			json_t *items = json_object_get(j, "items");

			assert_string_equal(
			        jstr(json_array_get(items, json_array_size(items) - 1), "name"),
			        want);
		}
		json_decref(j);
		assert_int_equal(itest_call("POST", body, T.admin, NULL, NULL), 200);
		/* As query parameters (URL-encoded by nobody: sent raw where HTTP allows). */
		assert_int_equal(
		        itest_call("GET",
		                   "/api/v1/devices?application_id=%27%3B%20DROP%20TABLE%20job",
		                   T.admin, NULL, &j),
		        200);
		json_decref(j);
		free(quoted);
		json_decref(s);
	}
	c = db();
	res = PQexec(c, "SELECT count(*) FROM job");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	res = PQexec(c, "SELECT count(*) FROM device WHERE dev_eui LIKE '30000000000000%'");
	assert_string_equal(PQgetvalue(res, 0, 0), "6");
	PQclear(res);
	PQfinish(c);
}

static void expect_raw(const char *what, const char *req, size_t len, int lo, int hi)
{
	struct http_resp r;
	/* A request that stops in the middle of its body gets no answer before the server's
	 * connection timeout: wait a little only. */
	int rc = http_raw(T.fd.port, req, len, lo == 0 ? 2 : 30, &r);

	/* A server may also just close on garbage; what matters is that it keeps serving. */
	if (rc == 0 && (r.status < lo || r.status > hi))
		fail_msg("%s: status %d, expected %d..%d", what, r.status, lo, hi);
	http_free(&r);
}

static void test_malformed_http(void **state)
{
	static const char *const bodies[] = {
	        "{",
	        "{\"name\":",
	        "[1,2,3]",
	        "\"just a string\"",
	        "{\"name\":\"a\",\"name\":\"b\"}",
	        "{\"name\":\"\\ud800\"}",
	        "nul\x01",
	        "{\"name\":1e999999}",
	};
	json_t *j;
	char *huge;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		int st = itest_call("POST", "/api/v1/tenants", T.admin, bodies[i], &j);

		if (st != 400 || !json_object_get(j, "error"))
			fail_msg("body %zu: status %d", i, st);
		json_decref(j);
	}
	assert_int_equal(itest_call("POST", "/api/v1/tenants", T.admin, NULL, &j), 400);
	json_decref(j);
	assert_int_equal(itest_call("POST", "/api/v1/tenants", T.admin, "{\"name\":[]}", &j), 400);
	assert_string_equal(err_field(j), "name");
	json_decref(j);
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, "{\"dev_eui\":12}", &j),
	                 400);
	assert_string_equal(err_field(j), "dev_eui");
	json_decref(j);

	expect_raw("garbage request line", "HELLO\r\n\r\n", 9, 400, 505);
	expect_raw("bad version", "GET /healthz HTTP/9.9\r\n\r\n", 25, 400, 505);
	{
		const char *trunc =
		        "POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
		        "Authorization: Bearer x\r\n\r\n{\"na";

		expect_raw("short body", trunc, strlen(trunc), 0, 599);
	}
	/* 200 kB of headers: refused by the connection memory limit. */
	n = 200000;
	huge = malloc(n + 256);
	assert_non_null(huge);
	strcpy(huge, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(huge + strlen(huge), 'a', n);
	strcpy(huge + strlen("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ") + n, "\r\n\r\n");
	expect_raw("huge header", huge, strlen(huge), 400, 499);
	free(huge);
	/* Declared oversize body: 413 before any of it is read. */
	{
		const char *big = "POST /api/v1/firmware HTTP/1.1\r\nHost: x\r\nContent-Length: "
		                  "999999999999\r\n\r\n";

		expect_raw("oversize", big, strlen(big), 413, 413);
	}
	/* Still alive and well. */
	assert_int_equal(itest_call("GET", "/healthz", NULL, NULL, NULL), 200);
}

struct worker {
	int index;
	int failures;
	long long job;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char body[4096], path[64], dev[17];
	json_t *j;

	snprintf(dev, sizeof(dev), "40000000000000%02x", w->index);
	if (callf("POST", "/api/v1/devices", T.admin, &j, DEV_FMT, dev, "app-conc") != 201)
		w->failures++;
	json_decref(j);
	snprintf(path, sizeof(path), "[\"%s\"]", dev);
	job_body(body, sizeof(body), path, "");
	if (itest_call("POST", "/api/v1/jobs", T.admin, body, &j) != 201) {
		w->failures++;
		json_decref(j);
		return NULL;
	}
	w->job = jint(j, "id");
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", w->job);
	for (int i = 0; i < 10; i++) {
		if (itest_call("GET", path, T.admin, NULL, &j) != 200 || jint(j, "id") != w->job)
			w->failures++;
		json_decref(j);
		if (itest_call("GET", "/api/v1/jobs?limit=5", T.admin, NULL, NULL) != 200)
			w->failures++;
	}
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/cancel", w->job);
	if (itest_call("POST", path, T.admin, NULL, NULL) != 200)
		w->failures++;
	return NULL;
}

static void test_concurrent_clients(void **state)
{
	enum { N = 32 };
	pthread_t th[N];
	struct worker w[N];

	(void)state;
	setup_job_fixture();
	for (int i = 0; i < N; i++) {
		w[i] = (struct worker){i, 0, 0};
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		assert_int_equal(w[i].failures, 0);
		for (int k = 0; k < i; k++)
			assert_true(w[i].job != w[k].job);
	}
}

/* ---- deletes racing with job creation ---- */

struct bg_call {
	const char *method;
	char path[96];
	const char *body;
	int status;
	json_t *answer;
};

static void *bg_call_main(void *arg)
{
	struct bg_call *b = arg;

	b->status = itest_call(b->method, b->path, T.admin, b->body, &b->answer);
	return NULL;
}

/* Until a session of the test database waits for a row lock (the request in the background). */
static void wait_lock_waiter(PGconn *c)
{
	for (int i = 0; i < 500; i++) {
		PGresult *res =
		        itest_sql_ok(c, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
		                        "current_database() AND wait_event_type = 'Lock'");
		long n = atol(PQgetvalue(res, 0, 0));

		PQclear(res);
		if (n > 0)
			return;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fail_msg("no request waits for the lock");
}

/* A job in the middle of its creation (its transaction open, as store_job_create holds it) on
 * another connection: a DELETE of its firmware or of its device waits, then must see the job
 * (409) and leave it whole. Without the lock-then-look order the DELETE went through and the job
 * lost its image (firmware_id NULL) or its device. */
static void test_delete_races_job_creation(void **state)
{
	char sql[1024];
	PGconn *tx = db(), *c = db();
	PGresult *res;
	pthread_t th;
	struct bg_call del_fw = {"DELETE", "", NULL, 0, NULL}, del_dev = del_fw;
	long long fw, job;

	(void)state;
	setup_job_fixture();
	fw = upload_firmware(T.admin, "race", 4, "race", NULL);
	assert_true(fw > 0);
	make_device("5000000000000001", "app-race", T.admin);
	PQclear(itest_sql_ok(tx, "BEGIN"));
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job (tenant_id, name, firmware_id, region, data_rate, frequency_hz, "
	         "unicast_timeout_s, unicast_attempts, multicast_class, multicast_timeout_s, plan, "
	         "device_count) VALUES (1, 'race', %lld, 'EU868', 5, 869525000, 60, 3, 'C', 64, "
	         "'{}', 1) RETURNING id",
	         fw);
	res = itest_sql_ok(tx, "%s", sql);
	job = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job_device (job_id, tenant_id, dev_eui) VALUES (%lld, 1, "
	         "'5000000000000001')",
	         job);
	PQclear(itest_sql_ok(tx, "%s", sql));

	snprintf(del_fw.path, sizeof(del_fw.path), "/api/v1/firmware/%lld", fw);
	assert_int_equal(pthread_create(&th, NULL, bg_call_main, &del_fw), 0);
	wait_lock_waiter(c);
	snprintf(del_dev.path, sizeof(del_dev.path), "/api/v1/devices/5000000000000001");
	{
		pthread_t th2;

		assert_int_equal(pthread_create(&th2, NULL, bg_call_main, &del_dev), 0);
		/* Both deletes wait now; the job commits. */
		for (int i = 0; i < 500; i++) {
			res = itest_sql_ok(c,
			                   "SELECT count(*) FROM pg_stat_activity WHERE datname = "
			                   "current_database() AND wait_event_type = 'Lock'");
			i = atol(PQgetvalue(res, 0, 0)) >= 2 ? 1000 : i;
			PQclear(res);
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		PQclear(itest_sql_ok(tx, "COMMIT"));
		pthread_join(th2, NULL);
	}
	pthread_join(th, NULL);
	assert_int_equal(del_fw.status, 409);
	assert_int_equal(del_dev.status, 409);
	json_decref(del_fw.answer);
	json_decref(del_dev.answer);
	snprintf(sql, sizeof(sql),
	         "SELECT j.firmware_id, (SELECT count(*) FROM job_device d WHERE d.job_id = j.id) "
	         "FROM job j WHERE j.id = %lld",
	         job);
	res = itest_sql_ok(c, "%s", sql);
	assert_int_equal(atoll(PQgetvalue(res, 0, 0)), fw);
	assert_string_equal(PQgetvalue(res, 0, 1), "1");
	PQclear(res);

	/* The other order: the delete holds the firmware first; the job created meanwhile waits,
	 * then is refused naming firmware_id (and nothing is left half-created). */
	{
		struct bg_call create = {"POST", "/api/v1/jobs", NULL, 0, NULL};
		char body[4096];
		long long fw2 = upload_firmware(T.admin, "race", 4, "race2", NULL), before;

		res = itest_sql_ok(c, "SELECT count(*) FROM job");
		before = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
		job_body_fw(body, sizeof(body), fw2, "[\"1000000000000001\"]", "");
		create.body = body;
		PQclear(itest_sql_ok(tx, "BEGIN"));
		snprintf(sql, sizeof(sql), "SELECT 1 FROM firmware WHERE id = %lld FOR UPDATE",
		         fw2);
		PQclear(itest_sql_ok(tx, "%s", sql));
		assert_int_equal(pthread_create(&th, NULL, bg_call_main, &create), 0);
		wait_lock_waiter(c);
		snprintf(sql, sizeof(sql), "DELETE FROM firmware WHERE id = %lld", fw2);
		PQclear(itest_sql_ok(tx, "%s", sql));
		PQclear(itest_sql_ok(tx, "COMMIT"));
		pthread_join(th, NULL);
		assert_int_equal(create.status, 400);
		assert_string_equal(err_field(create.answer), "firmware_id");
		json_decref(create.answer);
		res = itest_sql_ok(c, "SELECT count(*) FROM job");
		assert_int_equal(atoll(PQgetvalue(res, 0, 0)), before);
		PQclear(res);
	}

	/* Once the job is finished both can go. */
	snprintf(sql, sizeof(sql), "UPDATE job SET state = 'cancelled' WHERE id = %lld", job);
	PQclear(itest_sql_ok(c, "%s", sql));
	snprintf(sql, sizeof(sql), "/api/v1/firmware/%lld", fw);
	assert_int_equal(itest_call("DELETE", sql, T.admin, NULL, NULL), 204);
	assert_int_equal(
	        itest_call("DELETE", "/api/v1/devices/5000000000000001", T.admin, NULL, NULL), 204);
	PQfinish(tx);
	PQfinish(c);
}

struct race_pair {
	pthread_barrier_t *go;
	long long fw, job;
	int create_status, delete_status;
};

static void *race_create(void *arg)
{
	struct race_pair *p = arg;
	char body[4096];
	json_t *j = NULL;

	job_body_fw(body, sizeof(body), p->fw, "[\"1000000000000002\"]", "");
	pthread_barrier_wait(p->go);
	p->create_status = itest_call("POST", "/api/v1/jobs", T.admin, body, &j);
	p->job = p->create_status == 201 ? jint(j, "id") : 0;
	json_decref(j);
	return NULL;
}

static void *race_delete(void *arg)
{
	struct race_pair *p = arg;
	char path[64];

	snprintf(path, sizeof(path), "/api/v1/firmware/%lld", p->fw);
	pthread_barrier_wait(p->go);
	p->delete_status = itest_call("DELETE", path, T.admin, NULL, NULL);
	return NULL;
}

/* Concurrent clients: job creation and the delete of its firmware at the same moment, many
 * times. Exactly one wins each time (201 + 409, or 400 + 204) and no job is left without its
 * image. */
static void test_firmware_delete_vs_create(void **state)
{
	enum { ROUNDS = 24 };
	pthread_barrier_t go;
	PGconn *c;
	PGresult *res;
	int created = 0, deleted = 0;

	(void)state;
	setup_job_fixture();
	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < ROUNDS; i++) {
		struct race_pair p = {&go, upload_firmware(T.admin, "r", 1, "round", NULL), 0, 0,
		                      0};
		pthread_t a, b;

		assert_true(p.fw > 0);
		pthread_create(&a, NULL, race_create, &p);
		pthread_create(&b, NULL, race_delete, &p);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		if (!((p.create_status == 201 && p.delete_status == 409) ||
		      (p.create_status == 400 && p.delete_status == 204)))
			fail_msg("round %d: create %d, delete %d", i, p.create_status,
			         p.delete_status);
		created += p.create_status == 201;
		deleted += p.delete_status == 204;
		/* Cancelled only now: a finished job lets its image go. */
		if (p.job) {
			char path[64];

			snprintf(path, sizeof(path), "/api/v1/jobs/%lld/cancel", p.job);
			assert_int_equal(itest_call("POST", path, T.admin, NULL, NULL), 200);
		}
	}
	pthread_barrier_destroy(&go);
	printf("firmware delete vs job creation: %d jobs created, %d images deleted\n", created,
	       deleted);
	c = db();
	res = itest_sql_ok(
	        c, "SELECT count(*) FROM job j WHERE j.name = 'job' AND (j.firmware_id IS NULL "
	           "OR NOT EXISTS (SELECT 1 FROM firmware f WHERE f.id = j.firmware_id)) "
	           "AND j.created_at > now() - interval '1 hour' AND j.state <> 'cancelled'");
	assert_string_equal(PQgetvalue(res, 0, 0), "0");
	PQclear(res);
	PQfinish(c);
}

/* GET /api/v1/gateways: the gateways that heard the tenant's devices (rows the engine writes
 * under the DevEUI's holder), one item per gateway with its device count, best quality and last
 * time seen. Rows of another tenant, of no tenant, or of a former holder of a DevEUI that changed
 * hands are not shown. */
static void test_gateways(void **state)
{
	PGconn *c;
	PGresult *res;
	json_t *j, *gw;

	(void)state;
	setup_job_fixture();
	make_device("10000000000000f1", "app-gw", T.admin);
	c = db();
	/* 1000000000000001, ...02 and ...f1 are tenant 1's. */
	res = itest_sql_ok(
	        c, "INSERT INTO engine_device_gateway (tenant_id, dev_eui, gateway_id, "
	           "quality, seen_ms) "
	           "VALUES (1, '1000000000000001', 'aa00000000000001', -80, 1700000000000), "
	           "(1, '1000000000000002', 'aa00000000000001', -60, 1700000005500), "
	           "(1, '1000000000000002', 'aa00000000000002', -100, 1700000001000), "
	           "(0, '1000000000000002', 'aa00000000000009', -10, 1700000009000), "
	           "(1, '10000000000000f1', 'aa00000000000003', -70, 1700000000000) "
	           "ON CONFLICT DO NOTHING");
	PQclear(res);
	res = itest_sql_ok(
	        c, "INSERT INTO engine_gateway (gateway_id, free_ms, encoding, encoding_ms) "
	           "VALUES ('aa00000000000001', 0, 'json', 1700000000000) "
	           "ON CONFLICT (gateway_id) DO UPDATE SET encoding = 'json'");
	PQclear(res);
	PQfinish(c);
	assert_int_equal(itest_call("GET", "/api/v1/gateways", T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
	gw = json_array_get(json_object_get(j, "items"), 0);
	assert_string_equal(jstr(gw, "gateway_id"), "aa00000000000001");
	assert_int_equal(jint(gw, "device_count"), 2);
	assert_int_equal(jint(gw, "best_quality"), -60);
	assert_string_equal(jstr(gw, "last_seen"), "2023-11-14T22:13:25.5+00:00");
	assert_string_equal(jstr(gw, "encoding"), "json");
	gw = json_array_get(json_object_get(j, "items"), 1);
	assert_string_equal(jstr(gw, "gateway_id"), "aa00000000000002");
	assert_int_equal(jint(gw, "device_count"), 1);
	assert_true(json_is_null(json_object_get(gw, "encoding"))); /* never heard from */
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/gateways?limit=1&offset=1", T.admin, NULL, &j),
	                 200);
	assert_string_equal(jstr(json_array_get(json_object_get(j, "items"), 0), "gateway_id"),
	                    "aa00000000000002");
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/gateways?limit=0", T.admin, NULL, NULL), 400);
	assert_int_equal(itest_call("GET", "/api/v1/gateways", NULL, NULL, NULL), 401);
	/* Tenant B holds none of these DevEUIs (it cannot register them): no gateway. */
	assert_int_equal(itest_call("GET", "/api/v1/gateways", T.tenant_b, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	/* ...f1 changes hands: tenant 1 deletes it (its rows go with it), B registers it. B sees
	 * nothing of what tenant 1's uplinks taught; tenant 1 no longer sees gateway ...03. */
	assert_int_equal(
	        itest_call("DELETE", "/api/v1/devices/10000000000000f1", T.admin, NULL, NULL), 204);
	assert_int_equal(db_count("SELECT count(*) FROM engine_device_gateway "
	                          "WHERE dev_eui = '10000000000000f1'"),
	                 0);
	c = db();
	res = itest_sql_ok(
	        c, "INSERT INTO engine_device_gateway (tenant_id, dev_eui, gateway_id, "
	           "quality, seen_ms) "
	           "VALUES (1, '10000000000000f1', 'aa00000000000003', -70, 1700000000000)");
	PQclear(res);
	PQfinish(c);
	make_device("10000000000000f1", "app-b", T.tenant_b);
	assert_int_equal(itest_call("GET", "/api/v1/gateways", T.tenant_b, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/gateways", T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	json_decref(j);
	assert_int_equal(
	        itest_call("DELETE", "/api/v1/devices/10000000000000f1", T.tenant_b, NULL, NULL),
	        204);
}

static void test_big_job(void **state)
{
	enum { N = 10000 };
	PGconn *c = db();
	PGresult *res;
	size_t cap = N * 20 + 1024, pos = 0;
	char *devs = malloc(cap), *body = malloc(cap + 4096);
	struct timespec t0, t1;
	json_t *j;
	double secs;

	(void)state;
	setup_job_fixture();
	/* 10,000 devices straight into the table (their keys do not matter here). */
	res = PQexec(c,
	             "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, "
	             "class, region, key_kind, key_box) SELECT 1, '6' || lpad(to_hex(x), 15, '0'), "
	             "'app-big', '1.0.3', 'A', 'EU868', 'gen_app_key', '\\x00' FROM "
	             "generate_series(1, 10000) x");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s", PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(c);
	devs[pos++] = '[';
	for (int i = 1; i <= N; i++) {
		pos += (size_t)snprintf(devs + pos, cap - pos, "%s\"6%015x\"", i > 1 ? "," : "", i);
	}
	devs[pos++] = ']';
	devs[pos] = 0;
	job_body(body, cap + 4096, devs, "");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("job for %d devices created in %.3f s\n", N, secs);
	assert_int_equal(jint(j, "device_count"), N);
	/* Generous bound: the ASan build and a busy CI machine included. */
	assert_true(secs < 20.0);
	snprintf(body, 64, "/api/v1/jobs/%lld/devices?limit=500&offset=9900", jint(j, "id"));
	json_decref(j);
	assert_int_equal(itest_call("GET", body, T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 100);
	json_decref(j);
	free(devs);
	free(body);
}

/* j["k1"]["k2"]... for the NULL-ended keys; NULL when one is missing. */
static json_t *dig(json_t *j, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, j);
	while (j && (k = va_arg(ap, const char *)) != NULL)
		j = json_object_get(j, k);
	va_end(ap);
	return j;
}

static void test_openapi_complete(void **state)
{
	json_t *doc, *paths;

	(void)state;
	assert_int_equal(itest_call("GET", "/api/v1/openapi.json", NULL, NULL, &doc), 200);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
	paths = json_object_get(doc, "paths");
	assert_non_null(paths);
	for (size_t i = 0; i < api_route_count(); i++) {
		const char *method, *pattern;
		char lower[16];
		json_t *ops;

		api_route_info(i, &method, &pattern);
		for (size_t k = 0; k < sizeof(lower); k++) {
			lower[k] = (char)tolower((unsigned char)method[k]);
			if (!method[k])
				break;
		}
		ops = json_object_get(paths, pattern);
		if (!ops || !json_object_get(ops, lower))
			fail_msg("route %s %s is missing from openapi.json", method, pattern);
		if (!json_object_get(json_object_get(ops, lower), "responses"))
			fail_msg("route %s %s has no responses in openapi.json", method, pattern);
	}
	/* Every query parameter the lists accept is documented, and so is the cursor they answer.
	 */
	static const struct {
		const char *path;
		const char *params[5];
	} lists[] = {
	        {"/api/v1/jobs", {"limit", "offset", "after", "state"}},
	        {"/api/v1/tenants", {"limit", "offset", "after"}},
	        {"/api/v1/tokens", {"limit", "offset", "after", "tenant_id"}},
	        {"/api/v1/firmware", {"limit", "offset", "after"}},
	        {"/api/v1/devices", {"limit", "offset", "application_id"}},
	        {"/api/v1/jobs/{id}/devices", {"limit", "offset"}},
	        {"/api/v1/jobs/{id}/events", {"limit", "offset"}},
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		json_t *get = json_object_get(json_object_get(paths, lists[i].path), "get");
		json_t *params = json_object_get(get, "parameters"), *p;
		json_t *props = dig(get, "responses", "200", "content", "application/json",
		                    "schema", "properties", NULL);

		for (size_t k = 0; k < 5 && lists[i].params[k]; k++) {
			size_t x;
			bool found = false;

			json_array_foreach(params, x, p)
			{
				found |= strcmp(jstr(p, "name"), lists[i].params[k]) == 0;
			}
			if (!found)
				fail_msg("GET %s: parameter %s missing from openapi.json",
				         lists[i].path, lists[i].params[k]);
			if (strcmp(lists[i].params[k], "after") == 0 &&
			    !json_object_get(props, "next_after"))
				fail_msg("GET %s: next_after missing from openapi.json",
				         lists[i].path);
		}
	}
	json_decref(doc);
}

static void test_metrics(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http_req(T.fd.port, "GET", "/metrics", NULL, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "fuota_http_requests_total{method=\"POST\",route=\"/api/v1/"
	                               "jobs\",status=\"201\"}"));
	assert_non_null(strstr(r.body, "fuota_http_requests_total{method=\"POST\",route=\"/api/v1/"
	                               "jobs\",status=\"400\"}"));
	assert_non_null(strstr(r.body, "fuota_http_request_duration_seconds_bucket{method=\"GET\","
	                               "route=\"/api/v1/jobs/{id}\",le=\"+Inf\"}"));
	assert_non_null(strstr(r.body, "fuota_jobs{state=\"cancelled\"} "));
	assert_null(strstr(r.body, "fuota_jobs{state=\"cancelled\"} 0\n"));
	/* No secret ever appears. */
	assert_null(strstr(r.body, T.admin));
	http_free(&r);
}

static void test_restart_persistence(void **state)
{
	char body[4096], path[64];
	json_t *j, *again;
	long long id;
	char *before, *after;
	FILE *log;
	char line[1024];

	(void)state;
	setup_job_fixture();
	job_body(body, sizeof(body), "[\"1000000000000002\"]", "");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	id = jint(j, "id");
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/pause", id);
	json_decref(j);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 200);
	before = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);

	/* A clean SIGTERM shutdown (exit 0: also no sanitizer report) and a fresh start. */
	assert_int_equal(itest_fuotad_stop(&T.fd), 0);
	assert_int_equal(itest_fuotad_start(&T.fd), 0);

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &again), 200);
	after = json_dumps(again, JSON_SORT_KEYS);
	assert_string_equal(before, after);
	json_decref(again);
	free(before);
	free(after);
	assert_int_equal(itest_call("GET", "/api/v1/devices/1000000000000002", T.admin, NULL, NULL),
	                 200);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/cancel", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, NULL), 200);

	/* The log never shows a token. */
	log = fopen(T.fd.log, "r");
	assert_non_null(log);
	while (fgets(line, sizeof(line), log)) {
		assert_null(strstr(line, T.admin));
		assert_null(strstr(line, "00112233445566778899aabbccddeeff"));
		assert_null(strstr(line, T.dsn));
	}
	fclose(log);
}

/* ---- a second fuotad on the same database: [http] timeout_s = 2, token_cache_ms = 60000 ---- */

static struct itest_fuotad B;

static int start_b(void)
{
	int rc;

	if (B.pid > 0)
		return 0;
	B = T.fd;
	B.pid = 0;
	snprintf(B.log, sizeof(B.log), "%s/itest_api.fuotad-b.log", argv_dir);
	remove(B.log);
	setenv("FUOTA_HTTP_TIMEOUT_S", "2", 1);
	setenv("FUOTA_HTTP_TOKEN_CACHE_MS", "60000", 1);
	rc = itest_fuotad_start(&B);
	unsetenv("FUOTA_HTTP_TIMEOUT_S");
	unsetenv("FUOTA_HTTP_TOKEN_CACHE_MS");
	return rc;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fresh connection on which data has been sent. */
static int open_and_send(unsigned port, const char *data)
{
	struct sockaddr_in sa;
	struct timeval tv = {10, 0};
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (data[0])
		assert_int_equal(send(s, data, strlen(data), MSG_NOSIGNAL), (ssize_t)strlen(data));
	return s;
}

/* Waits (10 s at most) until the server closes s without answering; closes s. Returns when
 * that happened (now_s), -1 when an answer came, 0 when still open after 10 s. */
static double closed_at(int s)
{
	char buf[512];
	ssize_t n;

	do
		n = recv(s, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	close(s);
	if (n > 0)
		return -1;
	/* 0: closed; ECONNRESET: closed hard; EAGAIN: the 10 s receive timeout. */
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : now_s();
}

/* A client that stops in the middle of its request body, or never sends one, holds a connection
 * for [http] timeout_s at most (2 s on B; the default is 15 s, it was 60 s). */
static void test_half_sent_request_dropped(void **state)
{
	static const char *const reqs[] = {
	        /* stops 10 bytes into a body of 100 (parenthesised: one element, not two) */
	        ("POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
	         "Content-Type: application/json\r\n\r\n{\"name\":"),
	        /* stops in the headers */
	        "GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Be",
	        "", /* sends nothing at all */
	};
	enum { N = sizeof(reqs) / sizeof(reqs[0]) };
	int socks[N];
	double sent[N];

	(void)state;
	assert_int_equal(start_b(), 0);
	/* All at once: the timeouts run side by side. */
	for (size_t i = 0; i < N; i++) {
		socks[i] = open_and_send(B.port, reqs[i]);
		sent[i] = now_s();
	}
	for (size_t i = 0; i < N; i++) {
		double at = closed_at(socks[i]), secs = at - sent[i];

		printf("half-sent request %zu closed after %.2f s (timeout_s = 2)\n", i, secs);
		if (at <= 0 || secs < 1.5 || secs > 4.0)
			fail_msg("request %zu: %s after %.2f s, expected closed after about 2 s", i,
			         at < 0    ? "answered"
			         : at == 0 ? "still open"
			                   : "closed",
			         secs);
	}
	/* A whole request is still answered, of course. */
	assert_int_equal(api_call(B.port, "GET", "/healthz", NULL, NULL, NULL), 200);
}

static int poll_until_401(unsigned port, const char *token, double limit_s, double *secs)
{
	double t0 = now_s();

	for (;;) {
		int st = api_call(port, "GET", "/api/v1/jobs?limit=1", token, NULL, NULL);

		*secs = now_s() - t0;
		if (st != 200 || *secs > limit_s)
			return st;
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/* A new token of tenant 1 into tok (80 bytes), used once through A and once through B so that
 * both have verified (and cached) it. Its id. */
static long long known_token(char *tok)
{
	json_t *j;
	long long id;

	assert_int_equal(itest_call("POST", "/api/v1/tokens", T.admin,
	                            "{\"tenant_id\":1,\"name\":\"revoke-me\"}", &j),
	                 201);
	snprintf(tok, 80, "%s", jstr(j, "token"));
	id = jint(j, "id");
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?limit=1", tok, NULL, NULL), 200);
	assert_int_equal(api_call(B.port, "GET", "/api/v1/jobs?limit=1", tok, NULL, NULL), 200);
	return id;
}

/* Revokes token id through the instance on port. */
static void revoke_on(unsigned port, long long id)
{
	char path[64];

	snprintf(path, sizeof(path), "/api/v1/tokens/%lld", id);
	assert_int_equal(api_call(port, "DELETE", path, T.admin, NULL, NULL), 204);
}

/* Until every fuotad listen connection of the test database is back, at most limit_s. */
static void wait_listeners(int n, double limit_s)
{
	double t0 = now_s();

	while (db_count("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
	                "'fuotad-listen' AND datname = current_database()") < n) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		assert_true(now_s() - t0 < limit_s);
		nanosleep(&ts, NULL);
	}
}

/* Revocation across instances (issue 15): A caches verified tokens for 2 s (the default), B for
 * 60 s. A revocation through one instance NOTIFYs the other, which refuses the token at once,
 * whatever its cache says; a revocation without a notification is not seen while B listens (its
 * cache is in use). When the listen connections are cut (a notification may be missed), each
 * instance empties its cache and asks the database until it listens again. */
static void test_revocation_across_instances(void **state)
{
	char tok[4][80], sql[128];
	long long id[4];
	double secs, worst = 0;
	PGconn *c;
	PGresult *res;

	(void)state;
	assert_int_equal(start_b(), 0);
	wait_listeners(2, 10.0);
	for (int i = 0; i < 4; i++)
		id[i] = known_token(tok[i]);
	/* Through A: B refuses well before its 60 s entry expires. */
	revoke_on(T.fd.port, id[0]);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?limit=1", tok[0], NULL, NULL), 401);
	assert_int_equal(poll_until_401(B.port, tok[0], 5.0, &secs), 401);
	printf("token revoked through A refused by B after %.3f s (B's token_cache_ms = 60000)\n",
	       secs);
	worst = secs > worst ? secs : worst;
	/* Through B: A refuses well before its 2 s entry expires. */
	revoke_on(B.port, id[1]);
	assert_int_equal(api_call(B.port, "GET", "/api/v1/jobs?limit=1", tok[1], NULL, NULL), 401);
	assert_int_equal(poll_until_401(T.fd.port, tok[1], 5.0, &secs), 401);
	printf("token revoked through B refused by A after %.3f s (A's token_cache_ms = 2000)\n",
	       secs);
	worst = secs > worst ? secs : worst;
	assert_true(worst < 0.5);
	/* A revocation written straight into the table (no notification): B, listening, still
	 * trusts its cached entry, so the cache is in use. Then the listen connections are cut:
	 * a notification may have been missed, so B empties its cache and refuses the token
	 * without being told. */
	c = db();
	snprintf(sql, sizeof(sql), "UPDATE api_token SET revoked_at = now() WHERE id = %lld",
	         id[2]);
	res = itest_sql_ok(c, "%s", sql);
	PQclear(res);
	assert_int_equal(api_call(B.port, "GET", "/api/v1/jobs?limit=1", tok[2], NULL, NULL), 200);
	res = itest_sql_ok(c,
	                   "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
	                   "application_name = 'fuotad-listen' AND datname = current_database()");
	assert_int_equal(PQntuples(res), 2);
	PQclear(res);
	PQfinish(c);
	assert_int_equal(poll_until_401(B.port, tok[2], 5.0, &secs), 401);
	printf("listen connection cut: B refused a token revoked without notice after %.3f s\n",
	       secs);
	assert_true(secs < 0.5);
	/* Both listen again (retried every second) and notifications flow again. */
	wait_listeners(2, 10.0);
	assert_int_equal(api_call(B.port, "GET", "/api/v1/jobs?limit=1", tok[3], NULL, NULL), 200);
	revoke_on(T.fd.port, id[3]);
	assert_int_equal(poll_until_401(B.port, tok[3], 5.0, &secs), 401);
	printf("after reconnecting: refused by B after %.3f s\n", secs);
	assert_true(secs < 0.5);
}

static int group_setup(void **state)
{
	(void)state;
	if (itest_fuotad_prepare(argv_env, "itest_api", argv_bin, argv_dir, &T.env, T.dsn,
	                         sizeof(T.dsn), &T.fd) != 0)
		return -1;
	snprintf(T.fd.max_upload, sizeof(T.fd.max_upload), "%u", 2u * 1024 * 1024);
	/* The API alone, and a second tenant with its own (non-admin) token. */
	return itest_api_start(&T.fd, T.admin, T.tenant_b);
}

static int group_teardown(void **state)
{
	(void)state;
	/* fuotad must stop cleanly: exit status 0 (under ASan, no leak or error report). */
	int b = B.pid > 0 ? itest_fuotad_stop(&B) : 0;

	return itest_fuotad_stop(&T.fd) == 0 && b == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_health),
	        cmocka_unit_test(test_auth),
	        cmocka_unit_test(test_tenants_tokens),
	        cmocka_unit_test(test_list_pages),
	        cmocka_unit_test(test_firmware_crud),
	        cmocka_unit_test(test_firmware_too_large),
	        cmocka_unit_test(test_devices),
	        cmocka_unit_test(test_device_validation),
	        cmocka_unit_test(test_job_json),
	        cmocka_unit_test(test_job_list),
	        cmocka_unit_test(test_job_multipart),
	        cmocka_unit_test(test_job_validation),
	        cmocka_unit_test(test_job_plan),
	        cmocka_unit_test(test_job_device_memory),
	        cmocka_unit_test(test_device_stack_plan),
	        cmocka_unit_test(test_tenant_isolation),
	        cmocka_unit_test(test_sql_metacharacters),
	        cmocka_unit_test(test_malformed_http),
	        cmocka_unit_test(test_concurrent_clients),
	        cmocka_unit_test(test_delete_races_job_creation),
	        cmocka_unit_test(test_firmware_delete_vs_create),
	        cmocka_unit_test(test_half_sent_request_dropped),
	        cmocka_unit_test(test_gateways),
	        cmocka_unit_test(test_revocation_across_instances),
	        cmocka_unit_test(test_big_job),
	        cmocka_unit_test(test_openapi_complete),
	        cmocka_unit_test(test_metrics),
	        cmocka_unit_test(test_restart_persistence),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: itest_api FUOTAD SERVICES_ENV WORKDIR\n");
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argv[3];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
