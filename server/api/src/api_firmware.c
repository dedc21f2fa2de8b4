/* Firmware images: multipart upload ("file", "name"), list, get, delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "fuota/api_decode.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/multipart.h"

#define MAX_PARTS 32

void api_h_firmware_create(struct api_call *c)
{
	char boundary[80], name[API_NAME_MAX + 1] = "";
	struct mp_part parts[MAX_PARTS];
	const struct mp_part *file = NULL;
	struct api_error e;
	size_t n;
	char *json;
	int rc;

	if (mp_boundary(api_content_type(c), boundary, sizeof(boundary)) != FUOTA_OK) {
		api_reply(c, 415, "unsupported_media_type", NULL,
		          "upload the image as multipart/form-data with a \"file\" part");
		return;
	}
	rc = mp_parse(boundary, (const uint8_t *)c->req->body, c->req->body_len, parts, MAX_PARTS,
	              &n);
	if (rc != FUOTA_OK) {
		api_reply(c, 400, "malformed_multipart", NULL,
		          "the multipart body is malformed or truncated");
		return;
	}
	if (api_form_check(parts, n, "file", &e) != FUOTA_OK) {
		api_reply_error(c, &e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(parts[i].name, "file") == 0) {
			file = &parts[i];
		} else if (strcmp(parts[i].name, "name") == 0) {
			if (parts[i].len == 0 || parts[i].len > API_NAME_MAX ||
			    memchr(parts[i].data, 0, parts[i].len)) {
				api_reply(c, 400, "invalid_field", "name",
				          "name must be 1..%u characters", API_NAME_MAX);
				return;
			}
			memcpy(name, parts[i].data, parts[i].len);
			name[parts[i].len] = 0;
		} else {
			api_reply(c, 400, "invalid_field", parts[i].name, "unknown field \"%.40s\"",
			          parts[i].name);
			return;
		}
	}
	if (!file) {
		api_reply(c, 400, "invalid_field", "file", "the \"file\" part is required");
		return;
	}
	if (file->len > c->api->cfg->max_upload_bytes) {
		api_reply(c, 413, "too_large", "file", "the image is larger than %lu bytes",
		          c->api->cfg->max_upload_bytes);
		return;
	}
	if (!name[0]) {
		/* The filename as the name, cut to API_NAME_MAX bytes: not inside a character. */
		snprintf(name, sizeof(name), "%.200s",
		         file->filename[0] ? file->filename : "firmware");
		api_text_cut(name);
	}
	rc = store_firmware_create(c->api->store, c->auth.tenant_id, name, file->data, file->len,
	                           &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "firmware");
		return;
	}
	log_msg(LOG_LVL_INFO, "tenant %lld: firmware uploaded (%zu bytes)",
	        (long long)c->auth.tenant_id, file->len);
	api_reply_text(c, 201, json);
}

void api_h_firmware_list(struct api_call *c)
{
	struct store_paging pg;
	struct store_page page;
	int rc;

	if (!api_page_params(c, &pg))
		return;
	rc = store_firmware_list(c->api->store, c->auth.tenant_id, &pg, &page);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "firmware");
		return;
	}
	api_reply_page(c, &page, &pg);
}

void api_h_firmware_get(struct api_call *c)
{
	int64_t id;
	char *json;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_firmware_get(c->api->store, c->auth.tenant_id, id, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "firmware");
		return;
	}
	api_reply_text(c, 200, json);
}

void api_h_firmware_delete(struct api_call *c)
{
	int64_t id;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_firmware_delete(c->api->store, c->auth.tenant_id, id);
	if (rc == FUOTA_ERR_CONFLICT) {
		api_reply(c, 409, "conflict", NULL,
		          "firmware %lld is used by a job that is not "
		          "finished",
		          (long long)id);
		return;
	}
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "firmware");
		return;
	}
	c->resp->status = 204;
	c->resp->body = strdup("");
	c->resp->content_type = "application/json";
}
