/* fuota-gw's backhaul relay: the local client's TCP stream onto one SARA-R5 TCP socket (relay.h).
 * This file does the I/O; relay_decide (relay_decide.c) says what to do next. */
#define _GNU_SOURCE /* accept4 */
#include "fuota/relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fuota/err.h"

#define CHUNK          1024 /* bytes per +USOWR / +USORD through AT */
#define RETRY_EMPTY_MS 20   /* the send window took nothing: wait before asking again */
#define RETRY_PART_MS  5
#define STEP_ACTIONS   8 /* AT actions per turn before the local sockets are served again */

struct relay {
	struct relay_opts o;
	char remote[64];
	struct sara *s;
	int lfd, cfd, sock;
	uint16_t port;
	uint8_t *up, *down;
	size_t up_n, down_off, down_n, cap;
	size_t pending;
	bool sock_closed, client_eof, link_up;
	int64_t pdp_retry_ms, write_retry_ms;
	uint32_t backoff_ms;
	struct relay_stats st;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int listen_on(const char *host, uint16_t port, int *fd, uint16_t *bound)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	socklen_t sl = sizeof(sa);
	int one = 1;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return FUOTA_ERR_INVALID_ARG;
	*fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return FUOTA_ERR_IO;
	setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(*fd, 4) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&sa, &sl) != 0) {
		close(*fd);
		*fd = -1;
		return FUOTA_ERR_IO;
	}
	*bound = ntohs(sa.sin_port);
	return FUOTA_OK;
}

int relay_create(const struct relay_opts *o, struct sara *s, struct relay **out)
{
	struct relay *r;
	int err;

	*out = NULL;
	if (!o || !s || !o->remote_host || !o->remote_port || strlen(o->remote_host) >= 64)
		return FUOTA_ERR_INVALID_ARG;
	r = calloc(1, sizeof(*r));
	if (!r)
		return FUOTA_ERR_NO_MEMORY;
	r->o = *o;
	snprintf(r->remote, sizeof(r->remote), "%s", o->remote_host);
	r->o.remote_host = r->remote;
	r->o.op_timeout_ms = o->op_timeout_ms ? o->op_timeout_ms : 10000;
	r->cap = o->buf_bytes ? o->buf_bytes : 4096;
	r->o.backoff_min_ms = o->backoff_min_ms ? o->backoff_min_ms : 1000;
	r->o.backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : 30000;
	r->backoff_ms = r->o.backoff_min_ms;
	r->s = s;
	r->cfd = r->sock = -1;
	r->link_up = r->st.link_up = o->pdp_active;
	r->up = malloc(r->cap);
	r->down = malloc(r->cap);
	err = r->up && r->down ? listen_on(o->listen_host ? o->listen_host : "127.0.0.1",
	                                   o->listen_port, &r->lfd, &r->port)
	                       : FUOTA_ERR_NO_MEMORY;
	r->o.listen_host = NULL;
	if (err != FUOTA_OK) {
		r->lfd = -1;
		relay_destroy(r);
		return err;
	}
	*out = r;
	return FUOTA_OK;
}

void relay_destroy(struct relay *r)
{
	if (!r)
		return;
	if (r->sock >= 0)
		(void)sara_sock_close(r->s, r->sock);
	if (r->cfd >= 0)
		close(r->cfd);
	if (r->lfd >= 0)
		close(r->lfd);
	free(r->up);
	free(r->down);
	free(r);
}

uint16_t relay_port(const struct relay *r)
{
	return r->port;
}

void relay_get_stats(const struct relay *r, struct relay_stats *st)
{
	*st = r->st;
	st->link_up = r->link_up;
	st->session = r->cfd >= 0 && r->sock >= 0;
}

static void link_down(struct relay *r)
{
	if (!r->link_up)
		return;
	r->link_up = false;
	r->st.pdp_drops++;
	r->sock_closed = true;
	r->pdp_retry_ms = now_ms() + r->o.backoff_min_ms;
}

void relay_on_event(struct relay *r, const struct sara_event *ev)
{
	switch (ev->kind) {
	case SARA_EV_SOCK_DATA:
		if (ev->sock == r->sock && ev->bytes)
			r->pending = ev->bytes;
		break;
	case SARA_EV_SOCK_CLOSED:
		if (ev->sock == r->sock && !r->sock_closed) {
			r->sock_closed = true;
			r->st.sock_closed++;
		}
		break;
	case SARA_EV_PDP_DOWN: link_down(r); break;
	case SARA_EV_CGEV:
		if (ev->cgev.kind == SARA_CGEV_DETACH ||
		    (ev->cgev.kind == SARA_CGEV_PDN_DEACT &&
		     (ev->cgev.cid < 0 || ev->cgev.cid == r->o.cid)))
			link_down(r);
		break;
	default: break;
	}
}

/* ---- The local side ---- */

static void client_accept(struct relay *r)
{
	int fd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (r->cfd >= 0 || !r->link_up) {
		close(fd); /* one client, and none while the link is down: paho retries */
		r->st.refused++;
		return;
	}
	r->cfd = fd;
	r->up_n = r->down_n = r->down_off = 0;
	r->client_eof = false;
}

static void client_read(struct relay *r)
{
	ssize_t k = read(r->cfd, r->up + r->up_n, r->cap - r->up_n);

	if (k > 0)
		r->up_n += (size_t)k;
	else if (k == 0 || (errno != EAGAIN && errno != EINTR))
		r->client_eof = true;
}

static void client_write(struct relay *r)
{
	ssize_t k = send(r->cfd, r->down + r->down_off, r->down_n, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (k > 0) {
		r->down_off += (size_t)k;
		r->down_n -= (size_t)k;
		r->st.down_bytes += (uint64_t)k;
		if (r->down_n == 0)
			r->down_off = 0;
	} else if (k < 0 && errno != EAGAIN && errno != EINTR) {
		r->client_eof = true; /* the client went: what it did not take is dropped */
		r->down_n = r->down_off = 0;
	}
}

/* Serves the listening and client sockets, waiting up to wait_ms; true when any was ready. */
static bool local_io(struct relay *r, int wait_ms)
{
	struct pollfd p[2] = {{.fd = r->lfd, .events = POLLIN}, {.fd = r->cfd}};
	bool any;

	if (r->cfd >= 0 && !r->client_eof && r->up_n < r->cap)
		p[1].events |= POLLIN;
	if (r->cfd >= 0 && r->down_n)
		p[1].events |= POLLOUT;
	if (poll(p, r->cfd >= 0 ? 2 : 1, wait_ms) <= 0)
		return false;
	any = p[0].revents || (r->cfd >= 0 && p[1].revents);
	if (p[0].revents & POLLIN)
		client_accept(r);
	if (r->cfd >= 0 && p[1].fd == r->cfd) {
		if (p[1].revents & POLLOUT)
			client_write(r);
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && r->up_n < r->cap)
			client_read(r);
	}
	return any;
}

/* ---- The modem side ---- */

static void pdp_up(struct relay *r)
{
	char ip[48];

	if (sara_pdp_up(r->s, r->o.pdp_profile, r->o.cid, r->o.op_timeout_ms, ip, sizeof(ip)) ==
	    FUOTA_OK) {
		r->link_up = true;
		r->st.pdp_ups++;
		r->backoff_ms = r->o.backoff_min_ms;
		return;
	}
	r->pdp_retry_ms = now_ms() + r->backoff_ms;
	r->backoff_ms =
	        r->backoff_ms * 2 > r->o.backoff_max_ms ? r->o.backoff_max_ms : r->backoff_ms * 2;
}

static void session_open(struct relay *r)
{
	int sock = -1;

	r->sock_closed = false;
	r->pending = 0;
	r->write_retry_ms = 0;
	if (sara_sock_open(r->s, SARA_TCP, 0, &sock) != FUOTA_OK) {
		r->client_eof = true; /* no socket: the client is closed and retries */
		return;
	}
	r->sock = sock;
	if (sara_sock_connect(r->s, sock, r->o.remote_host, r->o.remote_port, r->o.op_timeout_ms) !=
	    FUOTA_OK) {
		r->sock_closed = true;
		return;
	}
	r->st.sessions++;
}

/* Gives the client what is left for it (up to 1 s), then closes both ends. */
static void session_end(struct relay *r)
{
	for (int i = 0; r->cfd >= 0 && r->down_n && !r->client_eof && i < 100; i++) {
		struct pollfd p = {.fd = r->cfd, .events = POLLOUT};

		if (poll(&p, 1, 10) > 0)
			client_write(r);
	}
	if (r->sock >= 0)
		(void)sara_sock_close(r->s, r->sock); /* after +UUSOCL it frees the slot */
	if (r->cfd >= 0)
		close(r->cfd);
	r->sock = r->cfd = -1;
	r->sock_closed = r->client_eof = false;
	r->up_n = r->down_n = r->down_off = r->pending = 0;
}

static void modem_write(struct relay *r)
{
	size_t n = r->up_n < CHUNK ? r->up_n : CHUNK, taken = 0;

	if (sara_sock_write_some(r->s, r->sock, r->up, n, &taken) != FUOTA_OK) {
		r->sock_closed = true; /* the socket is gone: the session ends, paho resends */
		return;
	}
	r->st.writes++;
	r->st.up_bytes += taken;
	memmove(r->up, r->up + taken, r->up_n - taken);
	r->up_n -= taken;
	if (taken < n) {
		r->st.partial_writes++;
		r->write_retry_ms = now_ms() + (taken ? RETRY_PART_MS : RETRY_EMPTY_MS);
	}
}

static void modem_read(struct relay *r)
{
	size_t room, got = 0;

	if (r->down_n == 0)
		r->down_off = 0;
	if (r->down_off && r->down_off + r->down_n + CHUNK > r->cap) {
		memmove(r->down, r->down + r->down_off, r->down_n);
		r->down_off = 0;
	}
	room = r->cap - r->down_off - r->down_n;
	if (room > CHUNK)
		room = CHUNK;
	if (sara_sock_read(r->s, r->sock, r->down + r->down_off + r->down_n, room, &got) !=
	    FUOTA_OK) {
		r->pending = 0;
		r->sock_closed = true;
		return;
	}
	r->st.reads++;
	r->down_n += got;
	/* another +UUSORD may have come during the read, or the reply may have been cut at room:
	 * after any data ask once more until the module says nothing waits */
	r->pending = got ? (r->pending > got ? r->pending - got : 1) : 0;
}

static bool modem_act(struct relay *r)
{
	struct relay_view v = {
	        .link_up = r->link_up,
	        .client = r->cfd >= 0,
	        .sock_open = r->sock >= 0,
	        .sock_closed = r->sock_closed,
	        .client_eof = r->client_eof,
	        .up_n = r->up_n,
	        .down_n = r->down_n,
	        .down_cap = r->cap,
	        .modem_pending = r->pending,
	        .now_ms = now_ms(),
	        .pdp_retry_ms = r->pdp_retry_ms,
	        .write_retry_ms = r->write_retry_ms,
	};

	switch (relay_decide(&v)) {
	case RELAY_PDP_UP: pdp_up(r); return true;
	case RELAY_OPEN: session_open(r); return true;
	case RELAY_WRITE: modem_write(r); return true;
	case RELAY_READ: modem_read(r); return true;
	case RELAY_END_SESSION: session_end(r); return true;
	case RELAY_WAIT: break;
	}
	return false;
}

int relay_step(struct relay *r, uint32_t wait_ms)
{
	bool busy = local_io(r, 0);

	for (int i = 0; i < STEP_ACTIONS && modem_act(r); i++) {
		busy = true;
		if (r->down_n)
			(void)local_io(r, 0);
	}
	if (busy || wait_ms == 0)
		return FUOTA_OK;
	/* idle: the modem's URCs and the local sockets in turns of at most 5 ms */
	if (local_io(r, 0))
		return FUOTA_OK;
	return sara_poll(r->s, wait_ms < 5 ? wait_ms : 5) == FUOTA_OK ? FUOTA_OK : FUOTA_ERR_IO;
}
