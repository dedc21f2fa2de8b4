/* The txpk object of PULL_RESP (PROTOCOL.TXT §6): written for the forwarder, and read back (the
 * test forwarder, the fuzzer's round trip) with every field checked. */
#include <string.h>

#include "fuota/err.h"
#include "sudp_private.h"

/* When: "imme":true alone, or exactly one of "tmst" (counter, us) and "tmms" (GPS ms). */
static int txpk_timing(json_t *o, struct sudp_txpk *tx, char *err, size_t errlen)
{
	int64_t v = 0;
	int rc;

	if ((rc = sudp_j_bool(o, "txpk", "imme", &tx->imme, err, errlen)) < 0)
		return rc;
	if ((rc = sudp_j_int(o, "txpk", "tmst", 0, UINT32_MAX, &v, err, errlen)) < 0)
		return rc;
	tx->has_tmst = rc;
	tx->tmst = (uint32_t)v;
	if ((rc = sudp_j_int(o, "txpk", "tmms", 0, INT64_C(1) << 53, &v, err, errlen)) < 0)
		return rc;
	tx->has_tmms = rc;
	tx->tmms = rc ? (uint64_t)v : 0;
	if (tx->imme + tx->has_tmst + tx->has_tmms != 1)
		return fuota_malformed(err, errlen,
		                       "txpk: needs exactly one of imme:true, tmst, tmms");
	return 1;
}

static int txpk_radio(json_t *o, struct sudp_txpk *tx, char *err, size_t errlen)
{
	int64_t v = 0;
	int rc;

	if ((rc = sudp_j_int(o, "txpk", "rfch", 0, 255, &v, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "txpk.rfch: missing");
	tx->rfch = (uint32_t)v;
	if ((rc = sudp_j_int(o, "txpk", "powe", 0, 40, &v, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "txpk.powe: missing");
	tx->powe = (uint32_t)v;
	if ((rc = sudp_j_bool(o, "txpk", "ipol", &tx->ipol, err, errlen)) < 0 ||
	    (rc = sudp_j_bool(o, "txpk", "ncrc", &tx->ncrc, err, errlen)) < 0)
		return rc;
	if ((rc = sudp_j_int(o, "txpk", "prea", 0, 65535, &v, err, errlen)) < 0)
		return rc;
	tx->has_prea = rc;
	tx->prea = rc ? (uint32_t)v : 0;
	return 1;
}

int sudp_txpk_read(json_t *o, struct sudp_txpk *tx, char *err, size_t errlen)
{
	int64_t v = 0;
	int rc;

	memset(tx, 0, sizeof(*tx));
	if (!json_is_object(o))
		return fuota_malformed(err, errlen, "txpk: not an object");
	if ((rc = txpk_timing(o, tx, err, errlen)) < 0 ||
	    (rc = sudp_j_freq(o, "txpk", &tx->freq_hz, err, errlen)) < 0 ||
	    (rc = txpk_radio(o, tx, err, errlen)) < 0 ||
	    (rc = sudp_j_mod(o, "txpk", 1, &tx->mod, err, errlen)) < 0)
		return rc;
	if (tx->mod.fsk) {
		/* the reference forwarder refuses an FSK txpk without fdev */
		if ((rc = sudp_j_int(o, "txpk", "fdev", 1, 200000, &v, err, errlen)) <= 0)
			return rc ? rc : fuota_malformed(err, errlen, "txpk.fdev: missing (FSK)");
		tx->fdev_hz = (uint32_t)v;
	}
	return sudp_j_data(o, "txpk", tx->data, &tx->size, err, errlen);
}

json_t *sudp_txpk_write(const struct sudp_txpk *tx)
{
	json_t *o = json_object();

	if (!o || tx->imme + !!tx->has_tmst + !!tx->has_tmms != 1 || (tx->mod.fsk && !tx->fdev_hz))
		goto fail;
	if (tx->imme)
		json_object_set_new(o, "imme", json_true());
	if (tx->has_tmst)
		json_object_set_new(o, "tmst", json_integer(tx->tmst));
	if (tx->has_tmms)
		json_object_set_new(o, "tmms", json_integer((json_int_t)tx->tmms));
	json_object_set_new(o, "freq", sudp_freq_json(tx->freq_hz));
	json_object_set_new(o, "rfch", json_integer(tx->rfch));
	json_object_set_new(o, "powe", json_integer(tx->powe));
	if (sudp_put_mod(o, &tx->mod) != FUOTA_OK)
		goto fail;
	if (tx->mod.fsk)
		json_object_set_new(o, "fdev", json_integer(tx->fdev_hz));
	json_object_set_new(o, "ipol", json_boolean(tx->ipol));
	if (tx->has_prea)
		json_object_set_new(o, "prea", json_integer(tx->prea));
	if (tx->ncrc)
		json_object_set_new(o, "ncrc", json_true());
	if (sudp_put_data(o, tx->data, tx->size) != FUOTA_OK)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}
