/* libmicrohttpd glue: collects each request's body (bounded), calls api_handle, sends its answer.
 */
#include "fuota/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_static.h"
#include "fuota/err.h"
#include "fuota/log.h"

struct http_server {
	struct MHD_Daemon *d;
	struct api_ctx *api;
	size_t max_body;
	unsigned port;
};

struct http_req {
	char *body;
	size_t len, cap;
	int too_large;
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

	r = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(resp->body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct http_server *h = cls;
	struct http_req *r = *con_cls;
	struct api_request req;
	struct api_response resp;
	enum MHD_Result ret;

	(void)version;
	if (!r) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);

		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		/* Refuse a declared oversize body before reading a byte of it. */
		if (cl && strtoull(cl, NULL, 10) > h->max_body) {
			r->too_large = 1;
			api_error_response(&resp, 413, "too_large",
			                   "the request body is too large");
			return send_response(conn, &resp);
		}
		if (cl) {
			size_t want = (size_t)strtoull(cl, NULL, 10) + 1;

			r->body = malloc(want);
			r->cap = r->body ? want : 0;
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!r->too_large && append(r, upload_data, *upload_data_size, h->max_body) != 0)
			r->too_large = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_large) {
		api_error_response(&resp, 413, "too_large", "the request body is too large");
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

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r) {
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	log_msg(LOG_LVL_DEBUG, "http: %s", msg);
}

int http_start(struct api_ctx *api, const char *bind, unsigned port, unsigned threads,
               size_t max_body, unsigned timeout_s, struct http_server **out, char *err,
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
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, bind, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "[http] bind: %s is not an IPv4 address", bind);
		free(h);
		return FUOTA_ERR_INVALID_ARG;
	}
	h->api = api;
	h->max_body = max_body;
	h->d = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	        on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads, MHD_OPTION_NOTIFY_COMPLETED,
	        on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)timeout_s,
	        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000, MHD_OPTION_LISTENING_ADDRESS_REUSE,
	        (unsigned int)1, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "http: cannot listen on %s:%u", bind, port);
		free(h);
		return FUOTA_ERR_IO;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	*out = h;
	return FUOTA_OK;
}

unsigned http_port(const struct http_server *h)
{
	return h->port;
}

void http_stop(struct http_server *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
