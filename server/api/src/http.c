/* libmicrohttpd glue: checks the request's head (no NUL byte inside a line), its framing (one
 * Content-Length, a known transfer coding, a Host, a query without NUL bytes or invalid UTF-8),
 * collects its body (bounded), calls api_handle, sends its answer; closes connections whose
 * request headers are late. */
#include "fuota/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "fuota/api_decode.h"
#include "fuota/api_error.h"
#include "fuota/bytes.h"
#include "fuota/clock.h"
#include "api_static.h"
#include "http_stream.h"
#include "fuota/err.h"
#include "fuota/log.h"

/* A connection waiting for its request headers (the first ones, or the next ones of a kept-alive
 * connection) since since_ms; the watchdog shuts it down past the header deadline. */
struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	bool waiting;
	uint64_t since_ms;
};

struct http_server {
	struct MHD_Daemon *d;
	struct api_ctx *api;
	size_t max_body;
	unsigned port;
	unsigned header_timeout_s;
	pthread_mutex_t lock; /* conns, stop */
	pthread_cond_t wake;
	struct http_conn *conns;
	struct http_streams *streams; /* the live event streams' ticker */
	bool stop, watchdog_running;
	pthread_t watchdog;
};

struct http_req {
	char *body;
	size_t len, cap;
	int too_large;
	bool started;       /* the first call (headers received) is done */
	const char *target; /* the request target as received, and its length up to a NUL */
	size_t target_len;
};

static const char *kv_get(void *conn, enum api_kv_kind kind, const char *key)
{
	return MHD_lookup_connection_value(
	        conn, kind == API_KV_HEADER ? MHD_HEADER_KIND : MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct api_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (resp->stream)
		return http_stream_queue(conn, resp->stream);
	r = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(resp->body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (resp->retry_after_s) {
		char secs[16];

		snprintf(secs, sizeof(secs), "%u", resp->retry_after_s);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	ret = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static int append(struct http_req *r, const char *data, size_t n, size_t max)
{
	if (r->len + n > max)
		return -1;
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *b;

		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		b = realloc(r->body, cap);
		if (!b)
			return -1;
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = 0;
	return 0;
}

/* The connection's headers have come (waiting = false) or its next request's are awaited. */
static void conn_waiting(struct http_server *h, struct MHD_Connection *conn, bool waiting)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct http_conn *c = ci ? ci->socket_context : NULL;

	if (!c)
		return;
	pthread_mutex_lock(&h->lock);
	c->waiting = waiting;
	c->since_ms = (uint64_t)fuota_mono_ms();
	pthread_mutex_unlock(&h->lock);
}

/* The request's headers, read in one walk (MHD_get_connection_values) for every check below. */
struct head_collect {
	const char **keys, **values; /* n of cap (a value may be NULL) */
	size_t n, cap;
	bool no_memory;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
	struct head_collect *c = cls;

	(void)kind;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		const char **k = realloc(c->keys, cap * sizeof(*k)), **v;

		if (k)
			c->keys = k;
		v = k ? realloc(c->values, cap * sizeof(*v)) : NULL;
		if (!v) {
			c->no_memory = true;
			return MHD_NO;
		}
		c->values = v;
		c->cap = cap;
	}
	c->keys[c->n] = key;
	c->values[c->n++] = value;
	return MHD_YES;
}

/* Reads the headers of conn into c (free with head_free). Returns false when libmicrohttpd
 * could not give them. */
static bool head_collect(struct MHD_Connection *conn, struct head_collect *c)
{
	memset(c, 0, sizeof(*c));
	return MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, c) >= 0;
}

static void head_free(struct head_collect *c)
{
	free(c->keys);
	free(c->values);
}

struct framing {
	int n_length, n_host, n_te;
	const char *length, *te;
	bool lengths_differ;
};

static void count_header(struct framing *f, const char *key, const char *value)
{
	if (!value)
		value = "";
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->length && strcmp(f->length, value) != 0)
			f->lengths_differ = true;
		f->length = value;
		f->n_length++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
		f->n_host++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->te = value;
		f->n_te++;
	}
}

/* RFC 9112 §6.3: a message with both Transfer-Encoding and Content-Length, or with different
 * Content-Lengths, is a smuggling attempt behind a proxy that reads it the other way; only the
 * chunked coding is implemented (501 for any other, at once, not after the timeout); HTTP/1.1
 * needs exactly one Host (§3.2). Returns 0 or the status to answer, *msg saying why; *length is
 * the Content-Length (NULL: none). */
static int framing_status(const struct head_collect *c, const char *version, const char **msg,
                          const char **length)
{
	struct framing f;

	memset(&f, 0, sizeof(f));
	for (size_t i = 0; i < c->n; i++)
		count_header(&f, c->keys[i], c->values[i]);
	*length = f.length;
	if (f.n_te && (f.n_te > 1 || strcasecmp(f.te, "chunked") != 0)) {
		*msg = "only the chunked transfer coding is implemented";
		return 501;
	}
	if (f.n_te && f.n_length) {
		*msg = "Content-Length and Transfer-Encoding must not be used together";
		return 400;
	}
	if (f.lengths_differ) {
		*msg = "the request has different Content-Length headers";
		return 400;
	}
	if (f.n_host > 1 || (f.n_host == 0 && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)) {
		*msg = "an HTTP/1.1 request needs exactly one Host header";
		return 400;
	}
	return 0;
}

#define QUERY_MAX_PARAMS 16

struct query_check {
	const char *bad; /* the first bad parameter's name */
	const char *why;
	char name[64];
	const char *seen[QUERY_MAX_PARAMS];
	size_t n_seen;
};

static enum MHD_Result query_bad(struct query_check *q, const char *name, const char *why)
{
	snprintf(q->name, sizeof(q->name), "%s", name);
	api_text_cut(q->name);
	q->bad = q->name;
	q->why = why;
	return MHD_NO;
}

/* A query parameter is text (no NUL, valid UTF-8) and given once: ?limit=1&limit=500 has no one
 * meaning (the first would win). */
static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
	struct query_check *q = cls;

	(void)kind;
	if (!api_text_valid(key, key_size))
		return query_bad(q, "query", "a NUL byte or invalid UTF-8 in a parameter name");
	if (!value)
		return query_bad(q, key, "has no value (name=value)");
	if (!api_text_valid(value, value_size))
		return query_bad(q, key, "a NUL byte or invalid UTF-8");
	for (size_t i = 0; i < q->n_seen; i++)
		if (strcmp(q->seen[i], key) == 0)
			return query_bad(q, key, "given twice");
	if (q->n_seen == QUERY_MAX_PARAMS)
		return query_bad(q, "query", "too many parameters");
	q->seen[q->n_seen++] = key;
	return MHD_YES;
}

/* 400 for a NUL byte inside the request line or a header (http_head_check); 503 when the
 * headers could not be collected (out of memory). Returns 0 or the status, *field the header at
 * fault. */
static int head_status(struct MHD_Connection *conn, const struct head_collect *c,
                       const char *method, const char *version, const struct http_req *r,
                       const char **field)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	struct http_head h;

	*field = NULL;
	if (c->no_memory)
		return 503;
	if (!ci || !r->target)
		return 400; /* not the head this check knows: refused rather than misread */
	h = (struct http_head){ci->header_size ? method : NULL,
	                       ci->header_size,
	                       method,
	                       r->target,
	                       version,
	                       r->target_len,
	                       c->keys,
	                       c->values,
	                       c->n};
	return http_head_check(&h, field) != 0 ? 400 : 0;
}

/* First call of a request: its headers are all there. Returns MHD_YES to go on reading, or the
 * result of queueing an early answer. */
static enum MHD_Result on_headers(struct http_server *h, struct MHD_Connection *conn,
                                  const char *method, const char *version, struct http_req *r)
{
	struct api_response resp;
	struct query_check q;
	struct head_collect hc;
	const char *msg = NULL, *fmsg = NULL, *cl = NULL;
	int st;

	conn_waiting(h, conn, false);
	if (!head_collect(conn, &hc))
		st = 400; /* not the head this check knows: refused rather than misread */
	else
		st = head_status(conn, &hc, method, version, r, &msg);
	if (!st)
		st = framing_status(&hc, version, &fmsg, &cl);
	head_free(&hc);
	if (st && !fmsg) {
		char m[160];

		r->too_large = 2;
		snprintf(m, sizeof(m), "a NUL byte or a folded line in %s%.60s",
		         msg && msg[0] ? "header " : "the request line", msg ? msg : "");
		if (st == 400) {
			api_error_response(&resp, st, "bad_request", msg && msg[0] ? msg : NULL, m);
		} else {
			struct api_error e;

			api_error_unavailable(&e, "unavailable", "out of memory");
			api_error_response_of(&resp, &e);
		}
		return send_response(conn, &resp);
	}
	if (st) {
		r->too_large = 2;
		api_error_response(&resp, st, st == 501 ? "not_implemented" : "bad_request", NULL,
		                   fmsg);
		return send_response(conn, &resp);
	}
	memset(&q, 0, sizeof(q));
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, check_arg, &q);
	if (q.bad) {
		char m[128];

		r->too_large = 2;
		snprintf(m, sizeof(m), "query parameter %s: %s", q.bad, q.why);
		api_error_response(&resp, 400, "invalid_query", q.bad, m);
		return send_response(conn, &resp);
	}
	/* Refuse a declared oversize body before reading a byte of it. */
	if (cl && strtoull(cl, NULL, 10) > h->max_body) {
		r->too_large = 1;
		api_error_response(&resp, 413, "too_large", NULL, "the request body is too large");
		return send_response(conn, &resp);
	}
	if (cl) {
		size_t want = (size_t)strtoull(cl, NULL, 10) + 1;

		r->body = malloc(want);
		r->cap = r->body ? want : 0;
	}
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct http_server *h = cls;
	struct http_req *r = *con_cls;
	struct api_request req;
	struct api_response resp;
	enum MHD_Result ret;

	if (!r)
		return MHD_NO; /* uri_log could not allocate it */
	if (!r->started) {
		r->started = true;
		return on_headers(h, conn, method, version, r);
	}
	if (r->too_large == 2) { /* answered already; the body is dropped */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!r->too_large && append(r, upload_data, *upload_data_size, h->max_body) != 0)
			r->too_large = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_large) {
		api_error_response(&resp, 413, "too_large", NULL, "the request body is too large");
		return send_response(conn, &resp);
	}
	if (api_static_try(h->api, conn, method, url, &ret))
		return ret; /* a file of the web UI */
	req.method = method;
	req.path = url;
	req.get = kv_get;
	req.conn = conn;
	req.body = r->len ? r->body : NULL;
	req.body_len = r->len;
	api_handle(h->api, &req, &resp);
	return send_response(conn, &resp);
}

/* MHD_OPTION_URI_LOG_CALLBACK: called with the request target as received, before it is split
 * and decoded; what it returns is the request's *con_cls. Its length up to a NUL is what the
 * head check compares with the target's place in the request line. */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_req *r = calloc(1, sizeof(*r));

	(void)cls;
	(void)conn;
	if (r) {
		r->target = uri;
		r->target_len = strlen(uri);
	}
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;

	(void)toe;
	/* A kept-alive connection now waits for its next request's headers. */
	conn_waiting(cls, conn, true);
	if (r) {
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct http_server *h = cls;
	struct http_conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		c = calloc(1, sizeof(*c));
		if (!c || !ci) {
			free(c);
			return; /* not watched: the inactivity timeout still applies */
		}
		c->fd = ci->connect_fd;
		c->waiting = true;
		c->since_ms = (uint64_t)fuota_mono_ms();
		pthread_mutex_lock(&h->lock);
		c->next = h->conns;
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		pthread_mutex_unlock(&h->lock);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	/* MHD closes the socket after this notification: under the lock, the watchdog never
	 * touches a closed (or reused) descriptor. */
	pthread_mutex_lock(&h->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&h->lock);
	free(c);
	*socket_context = NULL;
}

/* Slowloris: a client sending its headers a byte at a time is never idle long enough for the
 * inactivity timeout. Past the header deadline its socket is shut down; MHD then sees the end of
 * the stream and closes the connection in its own thread. */
static void *watchdog_main(void *arg)
{
	struct http_server *h = arg;
	uint64_t limit_ms = (uint64_t)h->header_timeout_s * 1000u;

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		struct timespec ts;
		uint64_t now = (uint64_t)fuota_mono_ms();

		for (struct http_conn *c = h->conns; c; c = c->next) {
			if (c->waiting && now - c->since_ms >= limit_ms) {
				c->waiting = false;
				shutdown(c->fd, SHUT_RDWR);
				log_msg(LOG_LVL_DEBUG,
				        "http: request headers not received in %u s: connection "
				        "closed",
				        h->header_timeout_s);
			}
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->wake, &h->lock, &ts);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512], esc[600];
	size_t n;

	(void)cls;
	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* libmicrohttpd's messages end with a newline and may quote the client's bytes. */
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		n--;
	log_msg(LOG_LVL_DEBUG, "http: %s", log_escape(msg, n, esc, sizeof(esc)));
}

/* Percent-decoding of the path and of query names and values (MHD_OPTION_UNESCAPE_CALLBACK). In
 * the path (it starts with '/'), %00 and %2F stay as they are: a NUL would end the path early
 * ("jobs/1%00/devices" read as job 1) and an encoded slash would route "jobs%2F1" as "jobs/1";
 * kept encoded, they name no object (404). In the query a NUL is decoded and the query check
 * (on_headers) refuses it. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	bool path = s[0] == '/';
	size_t r = 0, w = 0;

	(void)cls;
	(void)conn;
	while (s[r]) {
		int hi = s[r] == '%' ? fuota_hex_digit(s[r + 1]) : -1;
		int lo = hi >= 0 ? fuota_hex_digit(s[r + 2]) : -1;

		if (lo >= 0 && !(path && ((hi == 0 && lo == 0) || (hi == 2 && lo == 15)))) {
			s[w++] = (char)(hi * 16 + lo);
			r += 3;
		} else {
			s[w++] = s[r++];
		}
	}
	s[w] = 0;
	return w;
}

int http_start(struct api_ctx *api, const struct http_opts *o, struct http_server **out, char *err,
               size_t errlen)
{
	struct http_server *h = calloc(1, sizeof(*h));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	*out = NULL;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return FUOTA_ERR_NO_MEMORY;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->bind, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "[http] bind: %s is not an IPv4 address", o->bind);
		free(h);
		return FUOTA_ERR_INVALID_ARG;
	}
	h->api = api;
	h->max_body = o->max_body;
	h->header_timeout_s = o->header_timeout_s;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	/* STRICT_FOR_CLIENT 1: an HTTP/1.1 request without Host, and a request line with a space
	 * in its path, are refused. The connection limit is shared by the pool's threads (each
	 * gets its part of it). */
	h->d = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	                MHD_ALLOW_SUSPEND_RESUME,
	        0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)o->threads, MHD_OPTION_NOTIFY_COMPLETED,
	        on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)o->timeout_s,
	        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)o->max_connections,
	        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)o->max_connections_per_ip,
	        MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
	        MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE,
	        (unsigned int)1, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "http: cannot listen on %s:%u", o->bind, o->port);
		goto fail;
	}
	if (pthread_create(&h->watchdog, NULL, watchdog_main, h) != 0) {
		snprintf(err, errlen, "http: cannot start the header watchdog");
		MHD_stop_daemon(h->d);
		goto fail;
	}
	h->watchdog_running = true;
	if (http_streams_start(api, o->sse_poll_ms, &h->streams) != FUOTA_OK) {
		snprintf(err, errlen, "http: cannot start the event streams' ticker");
		http_stop(h);
		return FUOTA_ERR_IO;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : o->port;
	*out = h;
	return FUOTA_OK;
fail:
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return FUOTA_ERR_IO;
}

unsigned http_port(const struct http_server *h)
{
	return h->port;
}

void http_stop(struct http_server *h)
{
	if (!h)
		return;
	http_streams_stop(h->streams); /* no stream may stay suspended past here */
	if (h->watchdog_running) {
		pthread_mutex_lock(&h->lock);
		h->stop = true;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->watchdog, NULL);
	}
	MHD_stop_daemon(h->d);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
