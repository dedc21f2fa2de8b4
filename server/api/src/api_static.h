/* Private to http.c and api_static.c: the web UI's files served before the API (fuota/web.h). */
#ifndef FUOTA_API_STATIC_H
#define FUOTA_API_STATIC_H

#include <microhttpd.h>

#include "fuota/api.h"

/* Answers a GET or HEAD of a web UI path from the web root: 1 with *ret set when it did, 0 when
 * the request is the API's (or no web root is configured). */
int api_static_try(struct api_ctx *api, struct MHD_Connection *conn, const char *method,
                   const char *path, enum MHD_Result *ret);

#endif
