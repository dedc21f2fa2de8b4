/* The backhaul relay (gateway/src/relay.c) against fuota-modem-sim on a pty: a local client's
 * bytes go through the relay, the AT client and the simulator's TCP socket to an echo server on
 * loopback, and come back the same way. One ctest per case, cellular.gw-relay-<case>:
 *   echo    20 kB both ways, byte for byte
 *   window  the modem's send window takes at most 100 bytes per +USOWR: 6 kB, nothing lost or
 *           reordered
 *   close   the network resets the modem socket mid-stream: the client sees the end, reconnects,
 *           and the bytes sent on each connection all come back
 *   pdp     the PDP context drops (+CGEV, +UUPSDD): the relay activates it again and a new
 *           connection carries bytes
 * MSIM_AT_LOG=1 prints the AT log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fuota/at_client.h"
#include "fuota/cell_serial.h"
#include "fuota/relay.h"
#include "fuota/sara.h"
#include "simh.h"

/* ---- A TCP echo server taking one connection after another ---- */

struct echo_srv {
	int lfd;
	uint16_t port;
	volatile int stop;
	uint64_t echoed, conns;
	pthread_t th;
};

static void echo_conn(struct echo_srv *e, int fd)
{
	uint8_t buf[4096];

	while (!e->stop) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t k;

		if (poll(&p, 1, 100) <= 0)
			continue;
		k = read(fd, buf, sizeof(buf));
		if (k <= 0)
			break;
		for (ssize_t off = 0; off < k;) {
			ssize_t w = write(fd, buf + off, (size_t)(k - off));

			if (w <= 0)
				return;
			off += w;
		}
		e->echoed += (uint64_t)k;
	}
}

static void *echo_main(void *arg)
{
	struct echo_srv *e = arg;

	while (!e->stop) {
		struct pollfd p = {.fd = e->lfd, .events = POLLIN};
		int fd;

		if (poll(&p, 1, 100) <= 0 || (fd = accept(e->lfd, NULL, NULL)) < 0)
			continue;
		e->conns++;
		echo_conn(e, fd);
		close(fd);
	}
	return NULL;
}

static void echo_srv_start(struct echo_srv *e)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);

	memset(e, 0, sizeof(*e));
	e->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(e->lfd >= 0);
	assert_int_equal(bind(e->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(e->lfd, 4), 0);
	assert_int_equal(getsockname(e->lfd, (struct sockaddr *)&sa, &sl), 0);
	e->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&e->th, NULL, echo_main, e), 0);
}

static void echo_srv_stop(struct echo_srv *e)
{
	e->stop = 1;
	pthread_join(e->th, NULL);
	close(e->lfd);
}

/* ---- The rig: simulator, driver, relay ---- */

struct rig {
	struct simh h;
	struct cell_serial ser;
	struct at_client *at;
	struct sara *s;
	struct relay *relay;
	struct echo_srv echo;
};

static void on_event(void *ctx, const struct sara_event *ev)
{
	struct rig *r = ctx;

	if (r->relay)
		relay_on_event(r->relay, ev);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int setup(void **state)
{
	static const char *const args[] = {"--boot-ms", "100",    "--reg-ms", "100",
	                                   "--baud",    "921600", NULL};
	static struct rig r;
	struct at_config ac = {.serial = &r.ser};
	struct sara_config sc = {.on_event = on_event, .event_ctx = &r};
	struct relay_opts ro = {.cid = 1, .backoff_min_ms = 200, .backoff_max_ms = 1000};
	int stat;

	memset(&r, 0, sizeof(r));
	if (simh_start(&r.h, args) != 0)
		return -1;
	close(r.h.fd);
	r.h.fd = -1;
	if (getenv("MSIM_AT_LOG"))
		ac.log_file = stderr;
	if (cell_serial_open_tty(&r.ser, r.h.pty, 921600) != 0 || at_create(&ac, &r.at) != 0)
		return -1;
	sc.at = r.at;
	if (sara_create(&sc, &r.s) != 0 || sara_boot(r.s, 10000) != 0 ||
	    sara_cgev_enable(r.s) != 0 || sara_register(r.s, "fuota.apn", 10000, &stat) != 0)
		return -1;
	echo_srv_start(&r.echo);
	ro.remote_host = "127.0.0.1";
	ro.remote_port = r.echo.port;
	if (relay_create(&ro, r.s, &r.relay) != 0)
		return -1;
	*state = &r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	relay_destroy(r->relay);
	r->relay = NULL;
	echo_srv_stop(&r->echo);
	sara_destroy(r->s);
	at_destroy(r->at);
	cell_serial_close(&r->ser);
	return simh_stop(&r->h);
}

static void pump(struct rig *r, long ms)
{
	for (long end = now_ms() + ms; now_ms() < end;)
		assert_int_equal(relay_step(r->relay, 5), 0);
}

/* A client of the relay; waits (pumping) until the relay has the link up. */
static int client(struct rig *r)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                         .sin_port = htons(relay_port(r->relay))};
	struct relay_stats st;
	int fd;

	for (long end = now_ms() + 15000; now_ms() < end;) {
		relay_get_stats(r->relay, &st);
		if (st.link_up)
			break;
		pump(r, 20);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_true(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS);
	return fd;
}

/* Sends n pattern bytes (starting at pattern offset base) and reads the echo back, pumping the
 * relay; returns the bytes that came back (all checked against the pattern), or -1 on EOF. */
static long exchange(struct rig *r, int fd, size_t base, size_t n, long timeout_ms)
{
	uint8_t out[1500], in[4096];
	size_t sent = 0, got = 0;

	for (long end = now_ms() + timeout_ms; got < n && now_ms() < end;) {
		size_t k = n - sent < sizeof(out) ? n - sent : sizeof(out);
		ssize_t w, rd;

		for (size_t i = 0; i < k; i++)
			out[i] = (uint8_t)((base + sent + i) * 131u + ((base + sent + i) >> 8));
		w = k ? send(fd, out, k, MSG_DONTWAIT | MSG_NOSIGNAL) : 0;
		if (w > 0)
			sent += (size_t)w;
		assert_int_equal(relay_step(r->relay, 5), 0);
		rd = recv(fd, in, sizeof(in), MSG_DONTWAIT);
		if (rd == 0)
			return -1;
		for (ssize_t i = 0; i < rd; i++, got++)
			assert_int_equal(in[i],
			                 (uint8_t)((base + got) * 131u + ((base + got) >> 8)));
	}
	return (long)got;
}

/* Pumps until the client sees the end of its connection. */
static void wait_eof(struct rig *r, int fd)
{
	uint8_t b[256];

	for (long end = now_ms() + 10000; now_ms() < end;) {
		ssize_t k = recv(fd, b, sizeof(b), MSG_DONTWAIT);

		if (k == 0 || (k < 0 && errno != EAGAIN))
			return;
		pump(r, 10);
	}
	fail_msg("the relay never closed the client");
}

static void test_echo(void **state)
{
	struct rig *r = *state;
	struct relay_stats st;
	int fd = client(r);

	assert_int_equal(exchange(r, fd, 0, 20000, 30000), 20000);
	relay_get_stats(r->relay, &st);
	assert_int_equal(st.up_bytes, 20000);
	assert_int_equal(st.down_bytes, 20000);
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.partial_writes, 0);
	close(fd);
	pump(r, 300);
	relay_get_stats(r->relay, &st);
	assert_false(st.session); /* the client's end closed the modem socket */
}

static void test_window(void **state)
{
	struct rig *r = *state;
	struct relay_stats st;
	int fd = client(r);

	simh_ctl(&r->h, "sock-window 100");
	assert_int_equal(exchange(r, fd, 0, 6000, 60000), 6000);
	relay_get_stats(r->relay, &st);
	assert_int_equal(st.up_bytes, 6000);
	assert_true(st.partial_writes >= 10);
	assert_int_equal(r->echo.echoed, 6000);
	close(fd);
}

static void test_close(void **state)
{
	struct rig *r = *state;
	struct relay_stats st;
	int fd = client(r);

	assert_int_equal(exchange(r, fd, 0, 3000, 20000), 3000);
	simh_ctl(&r->h, "sock-close 0");
	wait_eof(r, fd);
	close(fd);
	relay_get_stats(r->relay, &st);
	assert_int_equal(st.sock_closed, 1);
	fd = client(r);
	assert_int_equal(exchange(r, fd, 3000, 5000, 20000), 5000);
	relay_get_stats(r->relay, &st);
	assert_int_equal(st.sessions, 2);
	assert_int_equal(st.up_bytes, 8000);
	assert_int_equal(st.down_bytes, 8000);
	assert_int_equal(r->echo.echoed, 8000);
	assert_int_equal(r->echo.conns, 2);
	close(fd);
}

static void test_pdp(void **state)
{
	struct rig *r = *state;
	struct relay_stats st;
	int fd = client(r);

	assert_int_equal(exchange(r, fd, 0, 2000, 20000), 2000);
	simh_ctl(&r->h, "pdp-drop");
	wait_eof(r, fd);
	close(fd);
	relay_get_stats(r->relay, &st);
	assert_int_equal(st.pdp_drops, 1);
	fd = client(r); /* waits for the relay's new activation */
	assert_int_equal(exchange(r, fd, 2000, 4000, 20000), 4000);
	relay_get_stats(r->relay, &st);
	assert_int_equal(st.pdp_ups, 2);
	assert_int_equal(st.sessions, 2);
	assert_int_equal(r->echo.echoed, 6000);
	close(fd);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest all[] = {
	        cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_window, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_close, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pdp, setup, teardown),
	};
	static const char *const names[] = {"echo", "window", "close", "pdp"};

	for (size_t i = 0; argc > 1 && i < 4; i++)
		if (!strcmp(argv[1], names[i]))
			return _cmocka_run_group_tests(names[i], &all[i], 1, NULL, NULL);
	return cmocka_run_group_tests(all, NULL, NULL);
}
