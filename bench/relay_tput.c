/* fuota-bench-relay: the backhaul relay's throughput through fuota-modem-sim's paced line, and a
 * direct loopback TCP connection to the same server, measured in the same run.
 *
 * A server on loopback either swallows what it gets (up) or sends N bytes as soon as a client
 * connects (down). The client reaches it directly, or through the relay: a local TCP port, the AT
 * client, +USOWR / +UUSORD / +USORD over the simulator's line, the simulator's TCP socket. The time
 * runs from the connection to the last byte at the far end. The line carries 10 bits a byte each
 * way, so baud / 10 bytes/s is the ceiling the relay's payload is held against.
 *
 *   fuota-bench-relay [--quick] [--baud N]...   (default: 115200 and 921600; --quick: 16 KiB) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../tests/modem/simh.h"
#include "fuota/at_client.h"
#include "fuota/cell_serial.h"
#include "fuota/relay.h"
#include "fuota/sara.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- The far end ---- */

struct server {
	int lfd;
	uint16_t port;
	bool down; /* send n bytes to each client; else count what comes */
	size_t n;
	volatile size_t got;
	volatile double done_at;
	volatile int stop;
	pthread_t th;
};

static void serve(struct server *s, int fd)
{
	static uint8_t buf[16384];
	size_t sent = 0;

	s->got = 0;
	while (!s->stop) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t k;

		if (s->down && sent < s->n) {
			size_t m = s->n - sent < sizeof(buf) ? s->n - sent : sizeof(buf);

			k = write(fd, buf, m);
			if (k <= 0)
				return;
			sent += (size_t)k;
			continue;
		}
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((k = read(fd, buf, sizeof(buf))) <= 0)
			return;
		s->got += (size_t)k;
		if (s->got >= s->n && s->done_at <= 0)
			s->done_at = now_s();
	}
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	while (!s->stop) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		int fd;

		if (poll(&p, 1, 50) <= 0 || (fd = accept(s->lfd, NULL, NULL)) < 0)
			continue;
		serve(s, fd);
		close(fd);
	}
	return NULL;
}

static int server_start(struct server *s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);

	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s->lfd, 4) != 0 || getsockname(s->lfd, (struct sockaddr *)&sa, &sl) != 0)
		return -1;
	s->port = ntohs(sa.sin_port);
	return pthread_create(&s->th, NULL, server_main, s);
}

/* ---- One transfer ---- */

static int connect_to(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                         .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Seconds to move s->n bytes up or down over port, pumping r (NULL: direct); < 0 on failure. */
static double transfer(struct server *s, uint16_t port, struct relay *r)
{
	static uint8_t buf[16384];
	size_t moved = 0;
	double t0 = now_s(), end = t0 + 600, t_end = 0;
	int fd = connect_to(port);

	s->got = 0;
	s->done_at = 0;
	if (fd < 0)
		return -1;
	while (now_s() < end) {
		ssize_t k;

		if (r)
			relay_step(r, 2);
		if (s->down) {
			k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (k == 0)
				break;
			if (k > 0 && (moved += (size_t)k) >= s->n) {
				t_end = now_s();
				break;
			}
		} else {
			if (moved < s->n) {
				size_t m = s->n - moved < sizeof(buf) ? s->n - moved : sizeof(buf);

				if ((k = send(fd, buf, m, MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
					moved += (size_t)k;
			}
			if (s->done_at > 0)
				break;
		}
		if (!r) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			(void)poll(&p, 1, s->down ? 10 : 0);
		}
	}
	close(fd);
	if (r) /* the relay ends its session: the next transfer gets a fresh modem socket */
		for (double t = now_s(); now_s() < t + 0.5;)
			relay_step(r, 5);
	if (s->down ? moved < s->n : s->done_at <= 0)
		return -1;
	return (s->down ? t_end : s->done_at) - t0;
}

/* ---- The rig for one line rate ---- */

struct rig {
	struct simh h;
	struct cell_serial ser;
	struct at_client *at;
	struct sara *s;
	struct relay *r;
};

static void on_event(void *ctx, const struct sara_event *ev)
{
	struct rig *g = ctx;

	if (g->r)
		relay_on_event(g->r, ev);
}

static int rig_up(struct rig *g, unsigned baud, uint16_t server_port)
{
	char b[16];
	const char *args[] = {"--boot-ms", "100", "--reg-ms", "100", "--baud", b, NULL};
	struct at_config ac = {.serial = &g->ser};
	struct sara_config sc = {.on_event = on_event, .event_ctx = g};
	struct relay_opts ro = {.remote_host = "127.0.0.1", .remote_port = server_port, .cid = 1};
	int stat;

	snprintf(b, sizeof(b), "%u", baud);
	if (simh_start(&g->h, args) != 0)
		return -1;
	close(g->h.fd);
	g->h.fd = -1;
	if (cell_serial_open_tty(&g->ser, g->h.pty, baud) != 0 || at_create(&ac, &g->at) != 0)
		return -1;
	sc.at = g->at;
	if (sara_create(&sc, &g->s) != 0 || sara_boot(g->s, 10000) != 0 ||
	    sara_cgev_enable(g->s) != 0 || sara_register(g->s, "bench.apn", 10000, &stat) != 0 ||
	    relay_create(&ro, g->s, &g->r) != 0)
		return -1;
	for (double t = now_s(); now_s() < t + 5;) {
		struct relay_stats st;

		relay_step(g->r, 5);
		relay_get_stats(g->r, &st);
		if (st.link_up)
			return 0;
	}
	return -1;
}

static void rig_down(struct rig *g)
{
	relay_destroy(g->r);
	sara_destroy(g->s);
	at_destroy(g->at);
	cell_serial_close(&g->ser);
	(void)simh_stop(&g->h);
	memset(g, 0, sizeof(*g));
}

static void row(const char *what, size_t n, double direct, double relay, unsigned baud)
{
	double ceiling = baud / 10.0, bytes = (double)n;

	if (direct <= 0 || relay <= 0) {
		printf("| %u | %s | %zu | failed | failed | |\n", baud, what, n);
		return;
	}
	printf("| %u | %s | %zu | %.1f MB/s | %.2f kB/s | %.1f %% |\n", baud, what, n,
	       bytes / direct / 1e6, bytes / relay / 1e3, 100.0 * (bytes / relay) / ceiling);
}

int main(int argc, char **argv)
{
	unsigned bauds[8] = {0};
	size_t nb = 0, n = 65536;
	struct server srv = {0};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			n = 16384;
		else if (!strcmp(argv[i], "--baud") && i + 1 < argc && nb < 8)
			bauds[nb++] = (unsigned)strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: fuota-bench-relay [--quick] [--baud N]...\n");
			return 2;
		}
	}
	if (!nb) {
		bauds[nb++] = 115200;
		bauds[nb++] = 921600;
	}
	srv.n = n;
	if (server_start(&srv) != 0)
		return 1;
	printf("| baud | direction | bytes | direct TCP | through the relay | of the line's "
	       "baud/10 |\n|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < nb; i++) {
		struct rig g = {0};

		if (rig_up(&g, bauds[i], srv.port) != 0) {
			fprintf(stderr, "fuota-bench-relay: the modem rig did not come up\n");
			return 1;
		}
		for (int down = 0; down < 2; down++) {
			double d, r;

			srv.down = down;
			d = transfer(&srv, srv.port, NULL);
			r = transfer(&srv, relay_port(g.r), g.r);
			row(down ? "down (+USORD)" : "up (+USOWR)", n, d, r, bauds[i]);
			fflush(stdout);
		}
		rig_down(&g);
	}
	srv.stop = 1;
	pthread_join(srv.th, NULL);
	return 0;
}
