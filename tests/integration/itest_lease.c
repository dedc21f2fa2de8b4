/* Database connections against a real PostgreSQL (store_conn.c).
 *
 *   keepalives         pooled and lock connections carry TCP keepalives and a user timeout (a
 *                      dead path noticed in seconds); a DSN's own setting wins
 *
 * usage: itest_lease FUOTAD SERVICES_ENV WORKDIR */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "fuota/err.h"
#include "fuota/store.h"
#include "fuota/store_lock.h"
#include "itest.h"
/* store_acquire, store_lock_conn: the connections' sockets. */
#include "../../server/store/src/store_int.h"

static const char *argv_env;

static struct {
	struct itest_env env;
	char dsn[512];
	struct store *s;
	PGconn *raw;
} T;

static int sockopt(PGconn *c, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(PQsocket(c), level, name, &v, &len), 0);
	return v;
}

static void assert_keepalives(PGconn *c, int idle_s)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	assert_int_equal(getsockname(PQsocket(c), (struct sockaddr *)&sa, &len), 0);
	assert_true(sa.ss_family == AF_INET || sa.ss_family == AF_INET6); /* TCP here */
	assert_int_equal(sockopt(c, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(sockopt(c, IPPROTO_TCP, TCP_KEEPIDLE), idle_s);
	assert_int_equal(sockopt(c, IPPROTO_TCP, TCP_KEEPINTVL), 2);
	assert_int_equal(sockopt(c, IPPROTO_TCP, TCP_KEEPCNT), 2);
	assert_int_equal(sockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT), 9000);
}

static void test_keepalives(void **state)
{
	struct store_lock *l = NULL;
	struct store *s = NULL;
	char err[256], dsn[600];
	PGconn *c;

	(void)state;
	c = store_acquire(T.s);
	assert_keepalives(c, 5);
	store_release(T.s, c);
	assert_int_equal(store_lock_take(T.dsn, "itest-keepalive", &l, err, sizeof(err)), FUOTA_OK);
	assert_keepalives(store_lock_conn(l), 5);
	store_lock_free(l);
	/* The DSN's own value wins. */
	snprintf(dsn, sizeof(dsn), "%s keepalives_idle=7", T.dsn);
	assert_int_equal(store_open(dsn, 1, &s, err, sizeof(err)), FUOTA_OK);
	c = store_acquire(s);
	assert_keepalives(c, 7);
	store_release(s, c);
	store_close(s);
}

static int group_setup(void **state)
{
	char err[256];

	(void)state;
	if (itest_env_load(argv_env, &T.env) != 0)
		return -1;
	if (itest_db_create(&T.env, "itest_lease", T.dsn, sizeof(T.dsn)) != 0)
		return -1;
	if (store_open(T.dsn, 2, &T.s, err, sizeof(err)) != FUOTA_OK) {
		fprintf(stderr, "itest_lease: %s\n", err);
		return -1;
	}
	if (store_migrate(T.s, NULL) != FUOTA_OK)
		return -1;
	T.raw = PQconnectdb(T.dsn);
	if (PQstatus(T.raw) != CONNECTION_OK)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	store_close(T.s);
	PQfinish(T.raw);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_keepalives),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: itest_lease FUOTAD SERVICES_ENV WORKDIR\n");
		return 2;
	}
	argv_env = argv[2];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
