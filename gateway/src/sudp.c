/* The Semtech UDP datagrams (PROTOCOL.TXT §3-§6): header, the JSON bodies, the six writers and
 * the txpk_ack error names. */
#include <string.h>

#include "fuota/err.h"
#include "sudp_private.h"

static const struct {
	enum cs_tx_ack_status st;
	const char *name;
} ack_names[] = {
        {CS_ACK_OK, "NONE"},
        {CS_ACK_TOO_LATE, "TOO_LATE"},
        {CS_ACK_TOO_EARLY, "TOO_EARLY"},
        {CS_ACK_COLLISION_PACKET, "COLLISION_PACKET"},
        {CS_ACK_COLLISION_BEACON, "COLLISION_BEACON"},
        {CS_ACK_TX_FREQ, "TX_FREQ"},
        {CS_ACK_TX_POWER, "TX_POWER"},
        {CS_ACK_GPS_UNLOCKED, "GPS_UNLOCKED"},
};
#define N_ACK_NAMES (sizeof(ack_names) / sizeof(ack_names[0]))

const char *sudp_ack_error_name(enum cs_tx_ack_status st)
{
	for (size_t i = 0; i < N_ACK_NAMES; i++)
		if (ack_names[i].st == st)
			return ack_names[i].name;
	return NULL;
}

int sudp_ack_error_parse(const char *name, enum cs_tx_ack_status *st)
{
	for (size_t i = 0; i < N_ACK_NAMES; i++)
		if (strcmp(ack_names[i].name, name) == 0) {
			*st = ack_names[i].st;
			return FUOTA_OK;
		}
	return FUOTA_ERR_MALFORMED;
}

static json_t *load_body(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	/* some forwarders send the string terminator too */
	if (len && buf[len - 1] == '\0')
		len--;
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		fuota_malformed(err, errlen, "JSON: %s at byte %d", jerr.text, jerr.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		fuota_malformed(err, errlen, "JSON: the body is not an object");
		return NULL;
	}
	return root;
}

static int parse_push(json_t *root, struct sudp_msg *m, char *err, size_t errlen)
{
	json_t *arr = json_object_get(root, "rxpk"), *stat = json_object_get(root, "stat");
	char inner[160];
	size_t i;
	json_t *el;

	if (arr && !json_is_array(arr))
		return fuota_malformed(err, errlen, "rxpk: not an array");
	if (arr && json_array_size(arr) > SUDP_MAX_RXPK)
		return fuota_malformed(err, errlen, "rxpk: %zu packets, more than %d",
		                       json_array_size(arr), SUDP_MAX_RXPK);
	json_array_foreach(arr, i, el)
	{
		if (sudp_rxpk_read(el, &m->rxpk[i], inner, sizeof(inner)) < 0)
			return fuota_malformed(err, errlen, "rxpk[%zu]: %s", i, inner);
		m->n_rxpk = i + 1;
	}
	if (stat) {
		if (sudp_stat_read(stat, &m->stat, err, errlen) < 0)
			return FUOTA_ERR_MALFORMED;
		m->has_stat = 1;
	}
	return FUOTA_OK;
}

static int parse_tx_ack(json_t *root, struct sudp_msg *m, char *err, size_t errlen)
{
	json_t *ack = json_object_get(root, "txpk_ack");
	const char *name = NULL;
	int rc;

	m->ack = CS_ACK_OK;
	if (!ack)
		return FUOTA_OK;
	if (!json_is_object(ack))
		return fuota_malformed(err, errlen, "txpk_ack: not an object");
	/* sx1302_hal 1.5 reports an adjusted power as "warn": the packet was sent, so OK */
	if ((rc = sudp_j_str(ack, "txpk_ack", "warn", &name, err, errlen)) < 0 ||
	    (rc = sudp_j_str(ack, "txpk_ack", "error", &name, err, errlen)) < 0)
		return rc;
	if (rc && sudp_ack_error_parse(name, &m->ack) != FUOTA_OK)
		return fuota_malformed(err, errlen, "txpk_ack.error: unknown \"%.24s\"", name);
	return FUOTA_OK;
}

/* The JSON body of the kinds that have one; body_len may be 0 only for TX_ACK. */
static int parse_body(const uint8_t *body, size_t body_len, struct sudp_msg *m, char *err,
                      size_t errlen)
{
	json_t *root;
	int rc;

	if (body_len == 0) {
		if (m->type == SUDP_TX_ACK) {
			m->ack = CS_ACK_OK;
			return FUOTA_OK;
		}
		return fuota_malformed(err, errlen, "type %u: JSON body missing",
		                       (unsigned)m->type);
	}
	if (!(root = load_body(body, body_len, err, errlen)))
		return FUOTA_ERR_MALFORMED;
	if (m->type == SUDP_PUSH_DATA)
		rc = parse_push(root, m, err, errlen);
	else if (m->type == SUDP_TX_ACK)
		rc = parse_tx_ack(root, m, err, errlen);
	else if (!json_object_get(root, "txpk"))
		rc = fuota_malformed(err, errlen, "PULL_RESP: no txpk");
	else
		rc = sudp_txpk_read(json_object_get(root, "txpk"), &m->txpk, err, errlen) < 0
		             ? FUOTA_ERR_MALFORMED
		             : FUOTA_OK;
	json_decref(root);
	return rc;
}

int sudp_parse(const uint8_t *buf, size_t len, struct sudp_msg *out, char *err, size_t errlen)
{
	size_t hdr;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return fuota_malformed(err, errlen, "datagram of %zu bytes, shorter than a header",
		                       len);
	if (buf[0] != SUDP_VERSION)
		return fuota_malformed(err, errlen, "protocol version %u, not 2", buf[0]);
	if (buf[3] > SUDP_TX_ACK)
		return fuota_malformed(err, errlen, "unknown identifier 0x%02x", buf[3]);
	out->version = buf[0];
	out->token = (uint16_t)((unsigned)buf[1] << 8 | buf[2]);
	out->type = (enum sudp_type)buf[3];
	hdr = 4;
	if (out->type == SUDP_PUSH_DATA || out->type == SUDP_PULL_DATA ||
	    out->type == SUDP_TX_ACK) {
		if (len < 12)
			return fuota_malformed(err, errlen,
			                       "type %u: %zu bytes, no room for the gateway EUI",
			                       buf[3], len);
		memcpy(out->eui, buf + 4, 8);
		hdr = 12;
	}
	if (out->type == SUDP_PUSH_ACK || out->type == SUDP_PULL_ACK ||
	    out->type == SUDP_PULL_DATA) {
		if (len != hdr)
			return fuota_malformed(err, errlen, "type %u: %zu bytes, expected %zu",
			                       buf[3], len, hdr);
		return FUOTA_OK;
	}
	rc = parse_body(buf + hdr, len - hdr, out, err, errlen);
	if (rc != FUOTA_OK) {
		/* nothing half-read leaks to the caller */
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

static void put_hdr(uint8_t *h, uint16_t token, enum sudp_type type)
{
	h[0] = SUDP_VERSION;
	h[1] = (uint8_t)(token >> 8);
	h[2] = (uint8_t)token;
	h[3] = (uint8_t)type;
}

int sudp_write_ack(enum sudp_type type, uint16_t token, uint8_t out[4])
{
	if (type != SUDP_PUSH_ACK && type != SUDP_PULL_ACK)
		return FUOTA_ERR_INVALID_ARG;
	put_hdr(out, token, type);
	return FUOTA_OK;
}

void sudp_write_pull_data(uint16_t token, const uint8_t eui[8], uint8_t out[12])
{
	put_hdr(out, token, SUDP_PULL_DATA);
	memcpy(out + 4, eui, 8);
}

int sudp_write_push_data(uint16_t token, const uint8_t eui[8], const struct sudp_rxpk *rx, size_t n,
                         const struct sudp_stat *stat, uint8_t **out, size_t *out_len)
{
	json_t *root = json_object(), *arr = json_array(), *o;
	uint8_t hdr[12];
	int rc = FUOTA_ERR_INVALID_ARG;

	if (!root || !arr || n > SUDP_MAX_RXPK || (n == 0 && !stat))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!(o = sudp_rxpk_write(&rx[i])))
			goto out;
		json_array_append_new(arr, o);
	}
	if (n)
		json_object_set(root, "rxpk", arr);
	if (stat) {
		if (!(o = sudp_stat_write(stat)))
			goto out;
		json_object_set_new(root, "stat", o);
	}
	put_hdr(hdr, token, SUDP_PUSH_DATA);
	memcpy(hdr + 4, eui, 8);
	rc = sudp_finish(root, hdr, sizeof(hdr), out, out_len);
out:
	json_decref(arr);
	json_decref(root);
	return rc;
}

int sudp_write_pull_resp(uint16_t token, const struct sudp_txpk *tx, uint8_t **out, size_t *out_len)
{
	json_t *root = json_object(), *o = sudp_txpk_write(tx);
	uint8_t hdr[4];
	int rc = FUOTA_ERR_INVALID_ARG;

	if (root && o) {
		json_object_set_new(root, "txpk", o);
		o = NULL;
		put_hdr(hdr, token, SUDP_PULL_RESP);
		rc = sudp_finish(root, hdr, sizeof(hdr), out, out_len);
	}
	json_decref(o);
	json_decref(root);
	return rc;
}

int sudp_write_tx_ack(uint16_t token, const uint8_t eui[8], enum cs_tx_ack_status st, uint8_t **out,
                      size_t *out_len)
{
	const char *name = sudp_ack_error_name(st);
	json_t *root;
	uint8_t hdr[12];
	int rc;

	if (!name)
		return FUOTA_ERR_INVALID_ARG;
	root = json_pack("{s:{s:s}}", "txpk_ack", "error", name);
	if (!root)
		return FUOTA_ERR_NO_MEMORY;
	put_hdr(hdr, token, SUDP_TX_ACK);
	memcpy(hdr + 4, eui, 8);
	rc = sudp_finish(root, hdr, sizeof(hdr), out, out_len);
	json_decref(root);
	return rc;
}
