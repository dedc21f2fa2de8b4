/* Tenants and API tokens (admin tokens only). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api_int.h"
#include "fuota/api_decode.h"
#include "fuota/err.h"
#include "fuota/log.h"

void api_h_tenant_create(struct api_call *c)
{
	char name[API_NAME_MAX + 1];
	struct api_error e;
	char *json;
	int rc;

	if (api_decode_tenant(c->req->body, c->req->body_len, name, &e) != FUOTA_OK) {
		api_reply_error(c, &e);
		return;
	}
	rc = store_tenant_create(c->api->store, name, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "tenant");
		return;
	}
	api_reply_text(c, 201, json);
}

void api_h_tenant_list(struct api_call *c)
{
	struct store_paging pg;
	struct store_page page;
	int rc;

	if (!api_page_params(c, &pg))
		return;
	rc = store_tenant_list(c->api->store, &pg, &page);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "tenant");
		return;
	}
	api_reply_page(c, &page, &pg);
}

void api_h_tenant_get(struct api_call *c)
{
	int64_t id;
	char *json;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_tenant_get(c->api->store, id, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "tenant");
		return;
	}
	api_reply_text(c, 200, json);
}

void api_h_token_create(struct api_call *c)
{
	struct api_token_req t;
	struct api_error e;
	char token[CBOX_TOKEN_LEN + 1];
	uint8_t hash[CBOX_HASH_LEN];
	json_t *row;
	char *json;
	int rc;

	if (api_decode_token(c->req->body, c->req->body_len, &t, &e) != FUOTA_OK) {
		api_reply_error(c, &e);
		return;
	}
	if (cbox_token_new(token) != FUOTA_OK ||
	    cbox_token_hash(token, CBOX_TOKEN_LEN, hash) != FUOTA_OK) {
		api_reply(c, 500, "internal", NULL, "no randomness");
		return;
	}
	rc = store_token_create(c->api->store, t.tenant_id, t.name, t.admin, hash, &json);
	if (rc == FUOTA_ERR_NOT_FOUND) {
		api_reply(c, 400, "invalid_field", "tenant_id", "unknown tenant %lld",
		          (long long)t.tenant_id);
		goto out;
	}
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "token");
		goto out;
	}
	/* The secret joins the answer here and nowhere else: shown once, stored only hashed. */
	row = json_loads(json, 0, NULL);
	free(json);
	if (!row || json_object_set_new(row, "token", json_string(token)) != 0) {
		json_decref(row);
		api_reply(c, 500, "internal", NULL, "out of memory");
		goto out;
	}
	log_msg(LOG_LVL_INFO, "token %lld created for tenant %lld%s",
	        (long long)json_integer_value(json_object_get(row, "id")), (long long)t.tenant_id,
	        t.admin ? " (admin)" : "");
	api_reply_text(c, 201, json_dumps(row, JSON_COMPACT));
	json_decref(row);
out:
	OPENSSL_cleanse(token, sizeof(token));
}

void api_h_token_list(struct api_call *c)
{
	const char *t = c->req->get(c->req->conn, API_KV_QUERY, "tenant_id");
	struct store_paging pg;
	struct store_page page;
	long long tenant = 0;
	char *end = NULL;
	int rc;

	if (t) {
		errno = 0;
		tenant = strtoll(t, &end, 10);
		if (t[0] < '1' || t[0] > '9' || *end || tenant < 1 || errno == ERANGE) {
			api_reply(c, 400, "invalid_field", "tenant_id",
			          "tenant_id must be a positive integer");
			return;
		}
	}
	if (!api_page_params(c, &pg))
		return;
	rc = store_token_list(c->api->store, tenant, &pg, &page);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "token");
		return;
	}
	api_reply_page(c, &page, &pg);
}

void api_h_token_revoke(struct api_call *c)
{
	int64_t id;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_token_revoke(c->api->store, id);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "token");
		return;
	}
	/* At once here; the other instances (and this one again) on its notification. */
	api_token_cache_drop(c->api, id);
	log_msg(LOG_LVL_INFO, "token %lld revoked", (long long)id);
	c->resp->status = 204;
	c->resp->body = strdup("");
	c->resp->content_type = "application/json";
}
