/* Devices. Root keys are sealed under the master key on the way in and never returned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api_int.h"
#include "fuota/api_decode.h"
#include "fuota/err.h"
#include "fuota/log.h"

/* Associated data of a device's key box: the row it belongs to. */
static size_t key_aad(int64_t tenant, const char *dev_eui, char *out, size_t cap)
{
	int n = snprintf(out, cap, "device:%lld:%s", (long long)tenant, dev_eui);

	return n > 0 ? (size_t)n : 0;
}

void api_h_device_create(struct api_call *c)
{
	struct api_device_req d;
	struct store_device sd;
	struct api_error e;
	uint8_t box[16 + CBOX_OVERHEAD];
	char aad[64];
	char *json = NULL;
	int rc;

	if (!c->api->cfg->have_master_key) {
		api_error_unavailable(
		        &e, "no_master_key",
		        "fuotad has no master key configured ([security] master_key)");
		api_reply_error(c, &e);
		return;
	}
	if (api_decode_device(c->req->body, c->req->body_len, &d, &e) != FUOTA_OK) {
		api_reply_error(c, &e);
		goto out;
	}
	rc = cbox_seal(c->api->cfg->master_key, d.key, sizeof(d.key), (const uint8_t *)aad,
	               key_aad(c->auth.tenant_id, d.dev_eui, aad, sizeof(aad)), box, sizeof(box));
	if (rc != FUOTA_OK) {
		api_reply(c, 500, "internal", NULL, "cannot seal the key");
		goto out;
	}
	memset(&sd, 0, sizeof(sd));
	memcpy(sd.dev_eui, d.dev_eui, sizeof(sd.dev_eui));
	sd.application_id = d.application_id;
	sd.lorawan_version = d.lorawan_version;
	sd.dev_class = d.dev_class;
	sd.region = d.region;
	sd.key_kind = d.key_kind;
	sd.key_box = box;
	sd.key_box_len = sizeof(box);
	sd.ts003_version = d.ts003_version;
	sd.ts004_version = d.ts004_version;
	sd.ts005_version = d.ts005_version;
	sd.ts006_version = d.ts006_version;
	sd.stack = d.stack;
	sd.max_frags = d.max_frags;
	rc = store_device_create(c->api->store, c->auth.tenant_id, &sd, &json);
	/* A DevEUI names one device of the network, so a tenant may not register one another
	 * tenant holds. The answer is the same whichever tenant holds it (the caller's own or
	 * another's): it says the DevEUI is taken, and nothing of who took it. */
	if (rc == FUOTA_ERR_CONFLICT) {
		api_reply(c, 409, "conflict", "dev_eui", "dev_eui %s is registered already",
		          d.dev_eui);
		goto out;
	}
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "device");
		goto out;
	}
	api_reply_text(c, 201, json);
out:
	OPENSSL_cleanse(&d, sizeof(d));
}

bool api_param_eui(struct api_call *c, char out[17], const char *not_found)
{
	const char *p = c->param;
	size_t n = strlen(p);

	if (n != 16)
		goto bad;
	for (size_t i = 0; i < 16; i++) {
		char ch = p[i];

		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			goto bad;
		out[i] = ch;
	}
	out[16] = 0;
	return true;
bad:
	api_reply(c, 404, "not_found", NULL, "%s", not_found);
	return false;
}

bool api_param_deveui(struct api_call *c, char out[17])
{
	return api_param_eui(c, out, "device not found");
}

/* The longest device search (GET /devices?q=): a DevEUI or an application id's part. */
#define API_SEARCH_MAX 100

void api_h_device_list(struct api_call *c)
{
	const char *app = c->req->get(c->req->conn, API_KV_QUERY, "application_id");
	const char *q = c->req->get(c->req->conn, API_KV_QUERY, "q");
	unsigned limit;
	unsigned long offset;
	char *json;
	int rc;

	if (!api_paging(c, &limit, &offset))
		return;
	if (q && (strlen(q) > API_SEARCH_MAX || !api_text_valid(q, strlen(q)))) {
		api_reply(c, 400, "invalid_field", "q", "q must be UTF-8 text of at most %d bytes",
		          API_SEARCH_MAX);
		return;
	}
	if (app && !api_text_valid(app, strlen(app))) {
		api_reply(c, 400, "invalid_field", "application_id",
		          "application_id must be UTF-8 text");
		return;
	}
	rc = store_device_list(c->api->store, c->auth.tenant_id, app, q && *q ? q : NULL, limit,
	                       offset, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "device");
		return;
	}
	api_reply_list(c, json, limit, offset);
}

void api_h_device_get(struct api_call *c)
{
	char eui[17];
	char *json;
	int rc;

	if (!api_param_deveui(c, eui))
		return;
	rc = store_device_get(c->api->store, c->auth.tenant_id, eui, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "device");
		return;
	}
	api_reply_text(c, 200, json);
}

void api_h_device_delete(struct api_call *c)
{
	char eui[17];
	int rc;

	if (!api_param_deveui(c, eui))
		return;
	rc = store_device_delete(c->api->store, c->auth.tenant_id, eui);
	if (rc == FUOTA_ERR_CONFLICT) {
		api_reply(c, 409, "conflict", NULL, "device %s is in a job that is not finished",
		          eui);
		return;
	}
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "device");
		return;
	}
	c->resp->status = 204;
	c->resp->body = strdup("");
	c->resp->content_type = "application/json";
}

void api_h_gateway_list(struct api_call *c)
{
	struct store_page page;
	unsigned limit;
	unsigned long offset;
	int rc;

	if (!api_paging(c, &limit, &offset))
		return;
	rc = store_gateway_list(c->api->store, c->auth.tenant_id, limit, offset, &page);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "gateway");
		return;
	}
	api_reply_list(c, page.items, limit, offset);
}
