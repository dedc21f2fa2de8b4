/* Integration-test helpers (see itest.h). */
#include "itest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/store.h"
/* store_acquire / store_run: a store function's own transaction, written out. */
#include "../../server/store/src/store_int.h"

#define TEST_MASTER_KEY "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void copy_val(char *dst, size_t cap, const char *v)
{
	snprintf(dst, cap, "%s", v);
	dst[strcspn(dst, "\r\n")] = 0;
}

int itest_env_load(const char *path, struct itest_env *e)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	memset(e, 0, sizeof(*e));
	if (!f) {
		fprintf(stderr, "itest: %s: %s (is the fuota_stack fixture up?)\n", path,
		        strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq++ = 0;
		if (strcmp(line, "PG_HOST") == 0)
			copy_val(e->pg_host, sizeof(e->pg_host), eq);
		else if (strcmp(line, "PG_PORT") == 0)
			copy_val(e->pg_port, sizeof(e->pg_port), eq);
		else if (strcmp(line, "PG_USER") == 0)
			copy_val(e->pg_user, sizeof(e->pg_user), eq);
		else if (strcmp(line, "PG_PASSWORD") == 0)
			copy_val(e->pg_password, sizeof(e->pg_password), eq);
		else if (strcmp(line, "FUOTA_MQTT") == 0)
			copy_val(e->mqtt_url, sizeof(e->mqtt_url), eq);
	}
	fclose(f);
	return e->pg_port[0] ? 0 : -1;
}

PGconn *itest_admin_connect(const struct itest_env *e)
{
	char admin[512];
	PGconn *c;

	snprintf(admin, sizeof(admin), "host=%s port=%s user=%s password=%s dbname=postgres",
	         e->pg_host, e->pg_port, e->pg_user, e->pg_password);
	c = PQconnectdb(admin);
	if (PQstatus(c) == CONNECTION_OK)
		return c;
	fprintf(stderr, "itest: %s", PQerrorMessage(c));
	PQfinish(c);
	return NULL;
}

int itest_db_create(const struct itest_env *e, const char *dbname, char *dsn, size_t cap)
{
	char sql[256];
	PGconn *c;
	PGresult *r;
	int rc = -1;

	c = itest_admin_connect(e);
	if (!c)
		goto out;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	PQclear(PQexec(c, sql));
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		rc = 0;
	else
		fprintf(stderr, "itest: %s", PQresultErrorMessage(r));
	PQclear(r);
	snprintf(dsn, cap, "host=%s port=%s user=%s password=%s dbname=%s", e->pg_host, e->pg_port,
	         e->pg_user, e->pg_password, dbname);
out:
	PQfinish(c);
	return rc;
}

int itest_store_db(const struct itest_env *e, const char *dbname, unsigned pool, char *dsn,
                   size_t cap, struct store **s, struct pg_conn **raw)
{
	char err[256];

	*raw = NULL;
	if (itest_db_create(e, dbname, dsn, cap) != 0)
		return -1;
	if (store_open(dsn, pool, s, err, sizeof(err)) != FUOTA_OK) {
		fprintf(stderr, "%s: %s\n", dbname, err);
		return -1;
	}
	if (store_migrate(*s, NULL) != FUOTA_OK) {
		fprintf(stderr, "%s: migrations failed\n", dbname);
		return -1;
	}
	*raw = PQconnectdb(dsn);
	if (PQstatus(*raw) == CONNECTION_OK)
		return 0;
	fprintf(stderr, "%s: %s", dbname, PQerrorMessage(*raw));
	return -1;
}

int itest_fuotad_prepare(const char *env_path, const char *name, const char *bin, const char *dir,
                         struct itest_env *env, char *dsn, size_t cap, struct itest_fuotad *f)
{
	if (itest_env_load(env_path, env) != 0 || itest_db_create(env, name, dsn, cap) != 0)
		return -1;
	snprintf(f->bin, sizeof(f->bin), "%s", bin);
	snprintf(f->dsn, sizeof(f->dsn), "%s", dsn);
	snprintf(f->log, sizeof(f->log), "%s/%s.fuotad.log", dir, name);
	remove(f->log);
	return 0;
}

int itest_db_outage(const struct itest_env *e, const char *dsn, bool down, const char *spare)
{
	char sql[512], name[128];
	const char *p = strstr(dsn, "dbname=");
	PGconn *c;
	PGresult *r;
	int rc = -1;

	if (!p)
		return -1;
	snprintf(name, sizeof(name), "%s", p + 7);
	name[strcspn(name, " ")] = 0;
	c = itest_admin_connect(e);
	if (!c)
		goto out;
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s WITH ALLOW_CONNECTIONS %s", name,
	         down ? "false" : "true");
	r = PQexec(c, sql);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	PQclear(r);
	if (rc == 0 && down) {
		snprintf(sql, sizeof(sql),
		         "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
		         "WHERE datname = '%s' AND application_name <> 'fuotad-instance-lock' "
		         "AND application_name <> '%s'",
		         name, spare ? spare : "fuotad-instance-lock");
		r = PQexec(c, sql);
		rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
		PQclear(r);
	}
	if (rc != 0)
		fprintf(stderr, "itest: %s", PQerrorMessage(c));
out:
	PQfinish(c);
	return rc;
}

static unsigned free_port(void)
{
	struct sockaddr_in sa;
	socklen_t n = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sa, &n) == 0)
		port = ntohs(sa.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

int itest_fuotad_start(struct itest_fuotad *f)
{
	char port[16];

	f->port = f->want_port ? f->want_port : free_port();
	snprintf(port, sizeof(port), "%u", f->port);
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0) {
		int fd = open(f->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		setenv("FUOTA_DATABASE_DSN", f->dsn, 1);
		setenv("FUOTA_HTTP_PORT", port, 1);
		setenv("FUOTA_HTTP_BIND", "127.0.0.1", 1);
		setenv("FUOTA_HTTP_THREADS", "4", 1);
		setenv("FUOTA_DATABASE_POOL_SIZE", "4", 1);
		setenv("FUOTA_SECURITY_MASTER_KEY", TEST_MASTER_KEY, 1);
		setenv("FUOTA_LOG_LEVEL", f->log_level[0] ? f->log_level : "info", 1);
		if (f->max_upload[0])
			setenv("FUOTA_HTTP_MAX_UPLOAD_BYTES", f->max_upload, 1);
		/* The test programs share the fixture's broker and topic names: fuotads of one
		 * program share their uplinks and gateway messages (as instances of one deployment
		 * do), never with another program's, which would take them away. */
		if (!getenv("FUOTA_MQTT_SHARE_GROUP")) {
			char group[40];

			snprintf(group, sizeof(group), "itest-%ld", (long)getppid());
			setenv("FUOTA_MQTT_SHARE_GROUP", group, 1);
		}
		unsetenv("FUOTA_CONFIG");
		execl(f->bin, f->bin, "run", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		struct http_resp r;
		int st;

		if (waitpid(f->pid, &st, WNOHANG) == f->pid) {
			fprintf(stderr, "itest: fuotad exited at start (see %s)\n", f->log);
			f->pid = 0;
			return -1;
		}
		if (http_req(f->port, "GET", "/readyz", NULL, NULL, NULL, 0, &r) == 0) {
			int ok = r.status == 200;

			http_free(&r);
			if (ok)
				return 0;
		}
		sleep_ms(50);
	}
	fprintf(stderr, "itest: fuotad not ready after 15 s (see %s)\n", f->log);
	itest_fuotad_stop(f);
	return -1;
}

/* The fuotad itest_call speaks to. */
static const struct itest_fuotad *api_fuotad;

int itest_api_start(struct itest_fuotad *f, char *admin, char *tenant_b)
{
	json_t *j = NULL;
	int rc = -1;

	api_fuotad = f;
	setenv("FUOTA_ENGINE_ENABLED", "0", 1);
	if (itest_token(f->bin, f->dsn, true, 1, admin) != 0 || itest_fuotad_start(f) != 0)
		return -1;
	if (!tenant_b)
		return 0;
	if (api_call(f->port, "POST", "/api/v1/tenants", admin, "{\"name\":\"tenant-b\"}", &j) ==
	            201 &&
	    itest_token(f->bin, f->dsn, false, (long)json_integer_value(json_object_get(j, "id")),
	                tenant_b) == 0)
		rc = 0;
	json_decref(j);
	return rc;
}

int itest_fuotad_stop(struct itest_fuotad *f)
{
	int st = 0;

	if (f->pid <= 0)
		return -1;
	kill(f->pid, SIGTERM);
	for (int i = 0; i < 400; i++) {
		if (waitpid(f->pid, &st, WNOHANG) == f->pid) {
			f->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		sleep_ms(50);
	}
	kill(f->pid, SIGKILL);
	waitpid(f->pid, &st, 0);
	f->pid = 0;
	return -1;
}

int itest_token(const char *bin, const char *dsn, bool admin, long tenant, char *out)
{
	char cmd[2048], tenant_s[32];
	FILE *p;
	int rc = -1;

	snprintf(tenant_s, sizeof(tenant_s), "%ld", tenant);
	/* The DSN travels in the environment, not on the command line. */
	setenv("FUOTA_DATABASE_DSN", dsn, 1);
	setenv("FUOTA_LOG_LEVEL", "warn", 1);
	snprintf(cmd, sizeof(cmd), "'%s' token create --tenant %s %s", bin, tenant_s,
	         admin ? "--admin" : "");
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fgets(out, 80, p)) {
		out[strcspn(out, "\n")] = 0;
		rc = strncmp(out, "fuota_", 6) == 0 ? 0 : -1;
	}
	if (pclose(p) != 0)
		rc = -1;
	return rc;
}

static int connect_to(unsigned port, int timeout_s)
{
	struct sockaddr_in sa;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {timeout_s, 0};

	if (s < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(s);
		return -1;
	}
	return s;
}

static int send_all(int s, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(s, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the server closes, then splits head and body. */
static int read_response(int s, struct http_resp *r)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap), *sep;

	memset(r, 0, sizeof(*r));
	if (!buf)
		return -1;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *b = realloc(buf, cap * 2);

			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
		n = recv(s, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
		free(buf);
		return -1;
	}
	*sep = 0;
	r->head = buf;
	r->len = len - (size_t)(sep + 4 - buf);
	r->body = malloc(r->len + 1);
	if (!r->body) {
		free(buf);
		return -1;
	}
	memcpy(r->body, sep + 4, r->len);
	r->body[r->len] = 0;
	return 0;
}

int http_raw(unsigned port, const void *data, size_t len, int timeout_s, struct http_resp *r)
{
	int s = connect_to(port, timeout_s), rc = -1;

	memset(r, 0, sizeof(*r));
	if (s < 0)
		return -1;
	/* A server may answer (413, 400) and close before the whole request is sent: still read. */
	send_all(s, data, len);
	shutdown(s, SHUT_WR);
	rc = read_response(s, r);
	close(s);
	return rc;
}

int http_req(unsigned port, const char *method, const char *path, const char *token,
             const char *ctype, const void *body, size_t len, struct http_resp *r)
{
	char head[2048];
	int n, s, rc;

	n = snprintf(head, sizeof(head),
	             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
	             "Content-Length: %zu\r\n",
	             method, path, body ? len : 0);
	if (token)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Authorization: Bearer %s\r\n",
		              token);
	if (ctype)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: %s\r\n", ctype);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	memset(r, 0, sizeof(*r));
	s = connect_to(port, 30);
	if (s < 0)
		return -1;
	if (send_all(s, head, (size_t)n) != 0 || (body && len && send_all(s, body, len) != 0)) {
		/* The server may refuse early (413); its answer is still there to read. */
	}
	rc = read_response(s, r);
	close(s);
	return rc;
}

void http_free(struct http_resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

json_t *http_json(const struct http_resp *r)
{
	return r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
}

int api_call(unsigned port, const char *method, const char *path, const char *token,
             const char *json_body, json_t **out)
{
	struct http_resp r;
	int status;

	if (out)
		*out = NULL;
	if (http_req(port, method, path, token, json_body ? "application/json" : NULL, json_body,
	             json_body ? strlen(json_body) : 0, &r) != 0)
		return -1;
	status = r.status;
	if (out)
		*out = http_json(&r);
	http_free(&r);
	return status;
}

int itest_call(const char *method, const char *path, const char *token, const char *json_body,
               json_t **out)
{
	if (out)
		*out = NULL;
	if (!api_fuotad)
		return -1;
	return api_call(api_fuotad->port, method, path, token, json_body, out);
}

long long itest_firmware(const char *token, const void *img, size_t len)
{
	struct form_part parts[1] = {{"file", "fw.bin", img, len}};
	struct http_resp r;
	char ct[128];
	size_t n;
	char *body = form_build(parts, 1, &n, ct);
	long long id = -1;
	json_t *j;

	if (!body || !api_fuotad)
		goto out;
	if (http_req(api_fuotad->port, "POST", "/api/v1/firmware", token, ct, body, n, &r) != 0)
		goto out;
	j = r.status == 201 ? http_json(&r) : NULL;
	if (j && json_is_integer(json_object_get(j, "id")))
		id = jint(j, "id");
	json_decref(j);
	http_free(&r);
out:
	free(body);
	return id;
}

long long jint(json_t *j, const char *key)
{
	return (long long)json_integer_value(json_object_get(j, key));
}

const char *jstr(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
}

#define BOUNDARY "itestBoundary7MA4YWxkTrZu0gW"

char *form_build(const struct form_part *parts, size_t n, size_t *len, char *content_type)
{
	size_t cap = 1024, pos = 0;
	char *b;

	for (size_t i = 0; i < n; i++)
		cap += parts[i].len + 512;
	b = malloc(cap);
	if (!b)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (parts[i].filename)
			pos += (size_t)snprintf(
			        b + pos, cap - pos,
			        "--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
			        "filename=\"%s\"\r\nContent-Type: "
			        "application/octet-stream\r\n\r\n",
			        BOUNDARY, parts[i].name, parts[i].filename);
		else
			pos += (size_t)snprintf(b + pos, cap - pos,
			                        "--%s\r\nContent-Disposition: form-data; "
			                        "name=\"%s\"\r\n\r\n",
			                        BOUNDARY, parts[i].name);
		memcpy(b + pos, parts[i].data, parts[i].len);
		pos += parts[i].len;
		memcpy(b + pos, "\r\n", 2);
		pos += 2;
	}
	pos += (size_t)snprintf(b + pos, cap - pos, "--%s--\r\n", BOUNDARY);
	*len = pos;
	snprintf(content_type, 128, "multipart/form-data; boundary=%s", BOUNDARY);
	return b;
}

int itest_sql(const char *dsn, const char *sql)
{
	PGconn *c = PQconnectdb(dsn);
	PGresult *r = PQexec(c, sql);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ? 0
	                                                                                       : -1;

	if (rc != 0)
		fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* The SQL that fmt and ap make, malloc'd; the cmocka test fails when it cannot be made. */
static char *sql_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *sql_vprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	char *sql;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	assert_true(n >= 0);
	sql = malloc((size_t)n + 1);
	assert_non_null(sql);
	vsnprintf(sql, (size_t)n + 1, fmt, ap);
	return sql;
}

void itest_sql_assert(const char *dsn, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	int rc;

	va_start(ap, fmt);
	sql = sql_vprintf(fmt, ap);
	va_end(ap);
	rc = itest_sql(dsn, sql);
	free(sql);
	assert_int_equal(rc, 0);
}

int itest_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ? 0
	                                                                                       : -1;

	if (rc != 0)
		fprintf(stderr, "%.80s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

void itest_exec_ok(PGconn *c, const char *sql)
{
	assert_int_equal(itest_exec(c, sql), 0);
}

PGresult *itest_sql_ok(PGconn *c, const char *fmt, ...)
{
	va_list ap;
	PGresult *r;
	char *sql;

	va_start(ap, fmt);
	sql = sql_vprintf(fmt, ap);
	va_end(ap);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%.300s: %s", sql, PQresultErrorMessage(r));
		free(sql);
		PQclear(r);
		fail_msg("%s", msg);
	}
	free(sql);
	return r;
}

long long itest_count(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long long v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else
		fprintf(stderr, "%.80s: no value: %s\n", sql, PQresultErrorMessage(r));
	PQclear(r);
	return v;
}

long long itest_tenant(struct store *s, const char *name)
{
	char *json = NULL;
	long long id = -1;

	if (store_tenant_create(s, name, &json) == FUOTA_OK) {
		json_t *o = json_loads(json, 0, NULL);

		if (o)
			id = json_integer_value(json_object_get(o, "id"));
		json_decref(o);
	}
	free(json);
	return id;
}

int itest_own_transaction(struct store *s, const char *name, const char *last)
{
	PGconn *c = store_acquire(s);
	const char *vals[1] = {name};
	int rc = -1;

	if (store_run(c, "BEGIN", 0, NULL, NULL) == FUOTA_OK &&
	    store_run(c, "INSERT INTO tenant (name) VALUES ($1)", 1, vals, NULL) == FUOTA_OK &&
	    store_run(c, last, 0, NULL, NULL) == FUOTA_OK)
		rc = 0;
	store_release(s, c);
	return rc;
}

int itest_device_row(PGconn *c, long long tenant, const char *eui)
{
	char sql[384];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, "
	         "region, key_kind, key_box) VALUES (%lld, '%s', 'a', '1.0.3', 'A', 'EU868', "
	         "'gen_app_key', '\\x00')",
	         tenant, eui);
	return itest_exec(c, sql);
}

long long itest_job_row(PGconn *c, long long tenant, const char *name, int n_devices)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO job (tenant_id, name, region, data_rate, frequency_hz, "
	         "unicast_timeout_s, unicast_attempts, multicast_class, multicast_timeout_s, plan, "
	         "device_count) VALUES (%lld, '%s', 'EU868', 5, 869525000, 5, 1, 'C', 0, '{}', %d) "
	         "RETURNING id",
	         tenant, name, n_devices);
	return itest_count(c, sql);
}

/* The program itest_store_main runs (one a process). */
static struct itest_store *store_t;
static const struct itest_store_prog *store_p;

static int store_group_setup(void **state)
{
	(void)state;
	if (itest_env_load(store_t->env_path, &store_t->env) != 0 ||
	    itest_store_db(&store_t->env, store_p->name, store_p->pool, store_t->dsn,
	                   sizeof(store_t->dsn), &store_t->s, &store_t->raw) != 0)
		return -1;
	return store_p->setup ? store_p->setup(store_t) : 0;
}

static int store_group_teardown(void **state)
{
	(void)state;
	store_close(store_t->s);
	PQfinish(store_t->raw);
	return 0;
}

int itest_store_main(int argc, char **argv, struct itest_store *t, const struct itest_store_prog *p)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s FUOTAD SERVICES_ENV WORKDIR\n", p->name);
		return 2;
	}
	t->bin = argv[1];
	t->env_path = argv[2];
	t->dir = argv[3];
	store_t = t;
	store_p = p;
	if (getenv("ITEST_ONLY"))
		cmocka_set_test_filter(getenv("ITEST_ONLY"));
	return _cmocka_run_group_tests(p->name, p->tests, p->n_tests, store_group_setup,
	                               store_group_teardown);
}
