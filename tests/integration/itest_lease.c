/* Job leases and the instance lock against a real PostgreSQL (store_lease.c, store_lock.c,
 * store_conn.c).
 *
 *   database clock     a lease expires by the database's now(), not the claiming host's clock:
 *                      a host 60 s ahead does not take a lease that still runs, one 60 s behind
 *                      takes an expired one and holds it 30 s from the database's now
 *   lease checked      a frame (FCnt), a status frame or a phase change is written only by the
 *                      lease's owner while the lease runs: otherwise FUOTA_ERR_STATE, no FCnt
 *                      taken, nothing written
 *   lock fence         leases written under an instance lock need its session: once the lock's
 *                      session ended no claim, frame or release goes through; another session
 *                      holding the name is a conflict; retaken, the new session writes again
 *   stale session      the lock's connection broken on our side only (a dead path the server
 *                      has not noticed): a retake ends our previous session and gets the lock
 *   keepalives         pooled and lock connections carry TCP keepalives and a user timeout (a
 *                      dead path noticed in seconds); a DSN's own setting wins
 *   lock session       the lock's connection has the pooled ones' session settings (no JIT,
 *                      UTC), after a retake too
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "fuota/err.h"
#include "fuota/store.h"
#include "fuota/store_engine.h"
#include "fuota/store_lock.h"
#include "itest.h"
/* store_acquire, store_lock_conn: the connections' sockets. */
#include "../../server/store/src/store_int.h"

static struct itest_store T;
static long long tenant; /* the jobs' */

static int64_t host_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A running job in phase transmit with its group (FCnt 0) and one session; *group its id. */
static int64_t new_job(int64_t *group)
{
	char sql[1024];
	long long job;

	assert_int_equal(itest_exec(T.raw, "DELETE FROM job"), 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job (tenant_id, name, state, region, data_rate, frequency_hz, "
	         "unicast_timeout_s, unicast_attempts, multicast_class, multicast_timeout_s, plan, "
	         "device_count) VALUES (%lld, 'lease', 'running', 'EU868', 5, 869525000, 5, 1, "
	         "'C', 0, '{}', 0) RETURNING id",
	         tenant);
	job = itest_count(T.raw, sql);
	assert_true(job > 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO multicast_group (tenant_id, job_id, mc_addr, mc_key_box) VALUES "
	         "(%lld, %lld, %lld, '\\x00') RETURNING id",
	         tenant, job, 0x01000000 + job);
	*group = itest_count(T.raw, sql);
	assert_true(*group > 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO engine_job (job_id, phase, mc_group_id, frag_size, nb_frag, padding, "
	         "redundancy, redundancy_cap, session_timeout) VALUES (%lld, 'transmit', %lld, 50, "
	         "20, 0, 4, 4, 7)",
	         job, (long long)*group);
	assert_int_equal(itest_exec(T.raw, sql), 0);
	snprintf(
	        sql, sizeof(sql),
	        "INSERT INTO engine_session (job_id, frag_index, frag_version) VALUES (%lld, 0, 1)",
	        job);
	assert_int_equal(itest_exec(T.raw, sql), 0);
	return job;
}

/* The job's lease set directly: owner until the database's now() + secs. */
static void set_lease(int64_t job, const char *owner, int secs)
{
	char sql[256];

	snprintf(
	        sql, sizeof(sql),
	        "UPDATE job SET lease_owner = '%s', lease_until = now() + %d * interval '1 second' "
	        "WHERE id = %lld",
	        owner, secs, (long long)job);
	assert_int_equal(itest_exec(T.raw, sql), 0);
}

static long long fcnt_of(int64_t group)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT fcnt FROM multicast_group WHERE id = %lld",
	         (long long)group);
	return itest_count(T.raw, sql);
}

static int frame(int64_t job, int64_t group, const char *owner, int lock_pid, uint32_t n)
{
	static uint32_t downlink = 100;
	const char gws[1][SENG_EUI_LEN] = {"0000000000000a01"};
	uint32_t ids[1] = {downlink++}, fcnt = 0;
	struct seng_frame f;

	memset(&f, 0, sizeof(f));
	f.lease.owner = owner;
	f.lease.lock_pid = lock_pid;
	f.job_id = job;
	f.group_id = group;
	f.n = n;
	f.new_frame = true;
	f.gateways = gws;
	f.downlink_ids = ids;
	f.n_gateways = 1;
	f.now_ms = host_ms();
	f.next_tx_ms = f.now_ms + 100;
	return seng_frame(T.s, &f, &fcnt);
}

static void test_claim_database_clock(void **state)
{
	struct seng_lease b = {"host-b", 0};
	int64_t group, job = new_job(&group), ids[4];
	size_t n = 9;
	char sql[256];

	(void)state;
	/* host-a holds it 20 more seconds; host-b's clock runs 60 s ahead: not expired. */
	set_lease(job, "host-a", 20);
	assert_int_equal(seng_claim(T.s, &b, host_ms() + 60000, 30000, 4, ids, &n), FUOTA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(
	        itest_count(T.raw, "SELECT count(*) FROM job WHERE lease_owner = 'host-a'"), 1);
	/* Expired a second ago; host-b's clock runs 60 s behind: it takes it, for 30 s of the
	 * database's time (not 30 s after its own clock, already past). */
	set_lease(job, "host-a", -1);
	assert_int_equal(seng_claim(T.s, &b, host_ms() - 60000, 30000, 4, ids, &n), FUOTA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], job);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job WHERE id = %lld AND lease_owner = 'host-b' AND "
	         "lease_until BETWEEN now() + interval '29 s' AND now() + interval '31 s'",
	         (long long)job);
	assert_int_equal(itest_count(T.raw, sql), 1);
}

static int phase(int64_t job, const char *owner)
{
	struct seng_phase p;

	memset(&p, 0, sizeof(p));
	p.lease.owner = owner;
	p.from_phase = ENGINE_PHASE_TRANSMIT;
	p.to_phase = ENGINE_PHASE_STATUS;
	return seng_job_phase(T.s, job, &p);
}

static int status_frame(int64_t job, int64_t group, const char *owner)
{
	const char gws[1][SENG_EUI_LEN] = {"0000000000000a01"};
	uint32_t ids[1] = {900}, fcnt = 0;
	struct seng_status_frame f;

	memset(&f, 0, sizeof(f));
	f.lease.owner = owner;
	f.job_id = job;
	f.group_id = group;
	f.gateways = gws;
	f.downlink_ids = ids;
	f.n_gateways = 1;
	f.now_ms = host_ms();
	f.next_tx_ms = f.now_ms + 100;
	return seng_status_frame(T.s, &f, &fcnt);
}

static void test_writes_need_lease(void **state)
{
	int64_t group, job = new_job(&group);

	(void)state;
	set_lease(job, "host-a", 20);
	/* Another instance: nothing written, no FCnt taken. */
	assert_int_equal(frame(job, group, "host-b", 0, 1), FUOTA_ERR_STATE);
	assert_int_equal(status_frame(job, group, "host-b"), FUOTA_ERR_STATE);
	assert_int_equal(fcnt_of(group), 0);
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM engine_tx"), 0);
	assert_int_equal(phase(job, "host-b"), FUOTA_ERR_STATE);
	assert_int_equal(
	        itest_count(T.raw, "SELECT count(*) FROM engine_job WHERE phase = 'transmit'"), 1);
	/* The owner. */
	assert_int_equal(frame(job, group, "host-a", 0, 1), FUOTA_OK);
	assert_int_equal(fcnt_of(group), 1);
	/* The owner's lease ran out (by the database's clock): no more either. */
	set_lease(job, "host-a", -1);
	assert_int_equal(frame(job, group, "host-a", 0, 2), FUOTA_ERR_STATE);
	assert_int_equal(status_frame(job, group, "host-a"), FUOTA_ERR_STATE);
	assert_int_equal(phase(job, "host-a"), FUOTA_ERR_STATE);
	assert_int_equal(fcnt_of(group), 1);
	set_lease(job, "host-a", 20);
	assert_int_equal(phase(job, "host-a"), FUOTA_OK);
	assert_int_equal(
	        itest_count(T.raw, "SELECT count(*) FROM engine_job WHERE phase = 'status'"), 1);
}

/* Ends the session of pid, waiting up to 5 s for it to be gone. */
static void terminate(int pid)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d, 5000)::int", pid);
	assert_int_equal(itest_count(T.raw, sql), 1);
}

static void test_lock_fence(void **state)
{
	struct store_lock *l = NULL;
	struct seng_lease who = {"itest-fence", 0};
	int64_t group, job = new_job(&group), ids[4];
	size_t n = 0;
	int pid;
	char err[256];

	(void)state;
	assert_int_equal(store_lock_take(T.dsn, "itest-fence", &l, err, sizeof(err)), FUOTA_OK);
	pid = store_lock_pid(l);
	assert_true(pid > 0);
	who.lock_pid = pid;
	assert_int_equal(store_lock_poll(l, true), FUOTA_OK);
	assert_int_equal(seng_claim(T.s, &who, host_ms(), 30000, 4, ids, &n), FUOTA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(frame(job, group, "itest-fence", pid, 1), FUOTA_OK);
	/* Its session ends: the lease still names us and runs, but nothing goes through. */
	terminate(pid);
	assert_int_equal(frame(job, group, "itest-fence", pid, 2), FUOTA_ERR_STATE);
	assert_int_equal(fcnt_of(group), 1);
	assert_int_equal(seng_claim(T.s, &who, host_ms(), 30000, 4, ids, &n), FUOTA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(seng_release(T.s, &who, 0), FUOTA_OK);
	assert_int_equal(
	        itest_count(T.raw, "SELECT count(*) FROM job WHERE lease_owner = 'itest-fence'"),
	        1);
	/* Seen without a query. */
	assert_int_equal(store_lock_poll(l, false), FUOTA_ERR_IO);
	assert_int_equal(store_lock_pid(l), 0);
	/* Another session took the name meanwhile: a conflict, until it lets go. */
	assert_int_equal(itest_exec(T.raw, "SELECT pg_advisory_lock(" STORE_LOCK_KEY1
	                                   ", hashtext('itest-fence'))"),
	                 0);
	assert_int_equal(store_lock_retake(l), FUOTA_ERR_CONFLICT);
	assert_int_equal(itest_exec(T.raw, "SELECT pg_advisory_unlock(" STORE_LOCK_KEY1
	                                   ", hashtext('itest-fence'))"),
	                 0);
	assert_int_equal(store_lock_retake(l), FUOTA_OK);
	who.lock_pid = store_lock_pid(l);
	assert_true(who.lock_pid > 0 && who.lock_pid != pid);
	assert_int_equal(seng_claim(T.s, &who, host_ms(), 30000, 4, ids, &n), FUOTA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(frame(job, group, "itest-fence", who.lock_pid, 2), FUOTA_OK);
	/* The old session's pid is not a way in. */
	assert_int_equal(frame(job, group, "itest-fence", pid, 3), FUOTA_ERR_STATE);
	assert_int_equal(seng_release(T.s, &who, 0), FUOTA_OK);
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM job WHERE lease_owner IS NULL"),
	                 1);
	store_lock_free(l);
}

/* The lock's connection breaks on our side only: the server's session lives on (a dead path it
 * has not noticed yet; here a duplicate of the socket keeps it open) and holds the lock. */
static void test_lock_stale_session(void **state)
{
	struct store_lock *l = NULL;
	char err[256], sql[256];
	int fd, keep, pid;

	(void)state;
	assert_int_equal(store_lock_take(T.dsn, "itest-stale", &l, err, sizeof(err)), FUOTA_OK);
	pid = store_lock_pid(l);
	fd = PQsocket(store_lock_conn(l));
	keep = dup(fd);
	assert_true(keep >= 0);
	assert_int_equal(shutdown(fd, SHUT_RD), 0);
	assert_int_equal(store_lock_poll(l, false), FUOTA_ERR_IO);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE pid = %d", pid);
	assert_int_equal(itest_count(T.raw, sql), 1);
	/* The first retake ends that session, a later one gets the lock. */
	for (int i = 0; i < 20 && store_lock_retake(l) != FUOTA_OK; i++) {
		struct timespec ts = {0, 100000000};

		nanosleep(&ts, NULL);
	}
	assert_true(store_lock_pid(l) > 0);
	assert_int_equal(itest_count(T.raw, sql), 0);
	close(keep);
	store_lock_free(l);
}

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

/* SHOW name on c. */
static void assert_setting(PGconn *c, const char *name, const char *want)
{
	char sql[64];
	PGresult *r;

	snprintf(sql, sizeof(sql), "SHOW %s", name);
	r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), want);
	PQclear(r);
}

/* The lock's connection is set up as the pooled ones are (store_session_setup), and again
 * after a retake: no JIT and UTC, whatever the database's defaults say. */
static void test_lock_session(void **state)
{
	struct store_lock *l = NULL;
	char err[256], sql[128];

	(void)state;
	assert_int_equal(itest_exec(T.raw, "ALTER DATABASE itest_lease SET jit = on"), 0);
	assert_int_equal(
	        itest_exec(T.raw, "ALTER DATABASE itest_lease SET TimeZone = 'Pacific/Auckland'"),
	        0);
	assert_int_equal(store_lock_take(T.dsn, "itest-session", &l, err, sizeof(err)), FUOTA_OK);
	assert_setting(store_lock_conn(l), "jit", "off");
	assert_setting(store_lock_conn(l), "TimeZone", "UTC");
	/* The session ended (waiting until it is gone), the lock lost, then taken again. */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_terminate_backend(%d, 5000) t WHERE t",
	         store_lock_pid(l));
	assert_int_equal(itest_count(T.raw, sql), 1);
	assert_int_equal(store_lock_poll(l, true), FUOTA_ERR_IO);
	assert_int_equal(store_lock_retake(l), FUOTA_OK);
	assert_setting(store_lock_conn(l), "jit", "off");
	assert_setting(store_lock_conn(l), "TimeZone", "UTC");
	store_lock_free(l);
	assert_int_equal(itest_exec(T.raw, "ALTER DATABASE itest_lease RESET jit"), 0);
	assert_int_equal(itest_exec(T.raw, "ALTER DATABASE itest_lease RESET TimeZone"), 0);
}

/* The tenant of the jobs. */
static int setup(struct itest_store *t)
{
	tenant = itest_tenant(t->s, "lease");
	return tenant > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_claim_database_clock),
	        cmocka_unit_test(test_writes_need_lease),
	        cmocka_unit_test(test_lock_fence),
	        cmocka_unit_test(test_lock_stale_session),
	        cmocka_unit_test(test_keepalives),
	        cmocka_unit_test(test_lock_session),
	};

	static const struct itest_store_prog p = {"itest_lease", 2, tests,
	                                          sizeof(tests) / sizeof(tests[0]), setup};

	return itest_store_main(argc, argv, &T, &p);
}
