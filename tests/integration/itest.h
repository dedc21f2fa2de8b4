/* Helpers of the integration tests: the stack's connection info, a private database per test
 * program, fuotad started and stopped as a child process, and a small HTTP/1.1 client over
 * sockets (so a test can also send malformed requests byte for byte). */
#ifndef FUOTA_ITEST_H
#define FUOTA_ITEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct itest_env {
	char pg_host[64];
	char pg_port[16];
	char pg_user[64];
	char pg_password[128];
	char mqtt_url[128];
};

/* Reads the KEY=VALUE file written by scripts/stack.sh services-up. Returns 0 or -1. */
int itest_env_load(const char *path, struct itest_env *e);

struct pg_conn;
/* A connection to the server's postgres database as the stack's user, or NULL (message printed).
 * PQfinish it. */
struct pg_conn *itest_admin_connect(const struct itest_env *e);

/* Drops and creates database dbname; writes its DSN into dsn. Returns 0 or -1 (message printed). */
int itest_db_create(const struct itest_env *e, const char *dbname, char *dsn, size_t cap);

struct store;
/* itest_db_create, then the store on it (a pool of pool connections, *s) migrated, and one plain
 * connection of the test's own (*raw, NULL on failure). Returns 0 or -1 (message printed). */
int itest_store_db(const struct itest_env *e, const char *dbname, unsigned pool, char *dsn,
                   size_t cap, struct store **s, struct pg_conn **raw);

/* An outage of the database behind dsn, as in a PostgreSQL restart: connections refused and every
 * session cut (down), or taken again. The instance lock's session is spared (its loss is a test of
 * its own), and so is the session whose application_name is spare (NULL: none). Returns 0 or -1
 * (message printed). */
int itest_db_outage(const struct itest_env *e, const char *dsn, bool down, const char *spare);

struct itest_fuotad {
	pid_t pid;
	unsigned port;
	char bin[512];
	char dsn[512];
	char log[512];
	char max_upload[32]; /* "" = the default */
	unsigned want_port;  /* 0: a free port; else this one (a restart on the same port) */
	char log_level[16];  /* "" = info */
};

/* A test program's fuotad made ready to start: the stack's connection info (env_path) into env,
 * a fresh database name (its DSN into dsn, cap bytes, and f->dsn), f->bin = bin, f->log =
 * dir/name.fuotad.log (an old one removed). Returns 0 or -1. */
int itest_fuotad_prepare(const char *env_path, const char *name, const char *bin, const char *dir,
                         struct itest_env *env, char *dsn, size_t cap, struct itest_fuotad *f);

/* Starts fuotad on a free loopback port with dsn and a fixed test master key, logging to log;
 * waits until /readyz answers 200. Returns 0 or -1. */
int itest_fuotad_start(struct itest_fuotad *f);
/* The fuotad of a program that tests the REST API alone, f made ready (itest_fuotad_prepare) and
 * its other fields and environment set: the job engine off (FUOTA_ENGINE_ENABLED=0: nothing moves
 * the jobs' states under the tests' feet), an admin token into admin (80 bytes), fuotad started;
 * then, with tenant_b (80 bytes) not NULL, a second tenant "tenant-b" created through the API and
 * a token of its own into tenant_b. Returns 0 or -1. */
int itest_api_start(struct itest_fuotad *f, char *admin, char *tenant_b);

/* SIGTERM, then waits: returns fuotad's exit status (0 = clean shutdown, no sanitizer report), or
 * -1 when it had to be killed or died of a signal. */
int itest_fuotad_stop(struct itest_fuotad *f);

/* Sleeps ms milliseconds. */
void sleep_ms(long ms);

/* Runs `fuotad token create [--admin] [--tenant N]` against dsn; the token into out (80 bytes).
 * Returns 0 or -1. */
int itest_token(const char *bin, const char *dsn, bool admin, long tenant, char *out);

struct http_resp {
	int status;
	char *head; /* status line and headers, malloc'd */
	char *body; /* malloc'd, NUL-terminated */
	size_t len;
};

/* One request on a fresh connection (Connection: close). token, ctype, body may be NULL. Returns
 * 0 (r filled; free with http_free) or -1 (no connection / no answer). */
int http_req(unsigned port, const char *method, const char *path, const char *token,
             const char *ctype, const void *body, size_t len, struct http_resp *r);
/* Sends raw bytes and reads whatever comes back until the server closes or timeout_s passes
 * without a byte. */
int http_raw(unsigned port, const void *data, size_t len, int timeout_s, struct http_resp *r);
void http_free(struct http_resp *r);

/* The body parsed as JSON (NULL when it is not). */
json_t *http_json(const struct http_resp *r);

/* JSON request helpers: status code, and *out (may be NULL) the parsed body (json_decref). */
int api_call(unsigned port, const char *method, const char *path, const char *token,
             const char *json_body, json_t **out);
/* api_call to the fuotad that itest_api_start started last (on its port of the moment: a restart
 * of that fuotad is followed); -1 before one was started. */
int itest_call(const char *method, const char *path, const char *token, const char *json_body,
               json_t **out);

/* Uploads img (len bytes, as fw.bin) with POST /api/v1/firmware to itest_call's fuotad with
 * token: the firmware's id, or -1 (no answer or not 201). */
long long itest_firmware(const char *token, const void *img, size_t len);

/* Member key of object j as an integer (0 when absent or no integer), and as a string ("" when
 * absent or no string). */
long long jint(json_t *j, const char *key);
const char *jstr(json_t *j, const char *key);

/* A multipart/form-data body from (name, filename or NULL, data, len) parts; boundary fixed.
 * Returns a malloc'd body and its length; content_type receives the header value (128 bytes). */
struct form_part {
	const char *name;
	const char *filename;
	const void *data;
	size_t len;
};
char *form_build(const struct form_part *parts, size_t n, size_t *len, char *content_type);

/* Runs sql on database dsn through a connection of its own: 0, or -1 after printing why. */
int itest_sql(const char *dsn, const char *sql);

/* itest_sql of the SQL that fmt and its arguments (printf) make, in a cmocka test: the test fails
 * when it does not succeed. */
void itest_sql_assert(const char *dsn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs sql on c: 0, or -1 after printing why. */
int itest_exec(struct pg_conn *c, const char *sql);
/* itest_exec in a cmocka test: the test fails when sql does not succeed. */
void itest_exec_ok(struct pg_conn *c, const char *sql);

struct pg_result;
/* Runs the SQL that fmt and its arguments (printf) make on c, in a cmocka test: its result
 * (PQclear it), or the test fails with the statement and the error. */
struct pg_result *itest_sql_ok(struct pg_conn *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The one value of the one row sql returns on c, as an integer (a count), or -1 after printing
 * why (an error, no row or NULL). */
long long itest_count(struct pg_conn *c, const char *sql);

/* A new tenant named name through the store: its id, or -1 (the store refused it). */
long long itest_tenant(struct store *s, const char *name);

/* What a store function does in a transaction of its own, on a connection of s's pool: BEGIN,
 * a tenant named name inserted, then last (COMMIT, or ROLLBACK as a function that gives up).
 * Returns 0, or -1 when a statement failed. */
int itest_own_transaction(struct store *s, const char *name, const char *last);

/* Rows written past the store, on c: a class A EU868 device eui of tenant (a placeholder
 * key_box), 0 or -1; and a class C job `name` of tenant for n_devices devices (an empty plan,
 * no device rows): its id, or -1. */
int itest_device_row(struct pg_conn *c, long long tenant, const char *eui);
long long itest_job_row(struct pg_conn *c, long long tenant, const char *name, int n_devices);

/* A program that tests the store on a database of its own, as the tests see it: the stack's
 * connection info, the database's DSN, its store and another plain connection (raw: it sees
 * committed rows only); fuotad and the work directory from the command line. */
struct itest_store {
	struct itest_env env;
	char dsn[512];
	struct store *s;
	struct pg_conn *raw;
	const char *bin, *env_path, *dir;
};

struct CMUnitTest;
struct itest_store_prog {
	const char *name; /* the program's and its database's name */
	unsigned pool;    /* connections of the store's pool */
	const struct CMUnitTest *tests;
	size_t n_tests;
	/* Runs after the store is open, before the tests (NULL: nothing): 0, or -1 to stop. */
	int (*setup)(struct itest_store *t);
};

/* The main of such a program (usage: NAME FUOTAD SERVICES_ENV WORKDIR): fills t, opens it
 * (itest_store_db of database p->name), runs p's tests (ITEST_ONLY=pattern: those of that name
 * only), closes it. Returns cmocka's result, or 2 for a wrong command line. */
int itest_store_main(int argc, char **argv, struct itest_store *t,
                     const struct itest_store_prog *p);

#endif
