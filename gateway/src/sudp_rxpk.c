/* The rxpk and stat objects of PUSH_DATA (PROTOCOL.TXT §4): read with every field checked, and
 * written (for test forwarders and round trips). */
#include <string.h>
#include <time.h>

#include "fuota/err.h"
#include "sudp_private.h"

/* Reads rfch, chan, stat, rssi and lsnr (the integers and SNR of an rxpk). */
static int rxpk_radio(json_t *o, struct sudp_rxpk *rx, char *err, size_t errlen)
{
	int64_t v = 0;
	double d = 0;
	int rc;

	if ((rc = sudp_j_int(o, "rxpk", "rfch", 0, 255, &v, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "rxpk.rfch: missing");
	rx->rfch = (uint32_t)v;
	if ((rc = sudp_j_int(o, "rxpk", "chan", 0, 255, &v, err, errlen)) < 0)
		return rc;
	rx->chan = rc ? (uint32_t)v : 0;
	if ((rc = sudp_j_int(o, "rxpk", "stat", -1, 1, &v, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "rxpk.stat: missing");
	rx->stat = (int)v;
	if ((rc = sudp_j_int(o, "rxpk", "rssi", -300, 100, &v, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "rxpk.rssi: missing");
	rx->rssi = (int32_t)v;
	if ((rc = sudp_j_num(o, "rxpk", "lsnr", -100, 100, &d, err, errlen)) < 0)
		return rc;
	rx->has_lsnr = rc;
	rx->lsnr = rc ? d : 0;
	return 1;
}

int sudp_rxpk_read(json_t *o, struct sudp_rxpk *rx, char *err, size_t errlen)
{
	const char *t = NULL;
	int64_t v = 0;
	int rc;

	memset(rx, 0, sizeof(*rx));
	if (!json_is_object(o))
		return fuota_malformed(err, errlen, "rxpk: an element is not an object");
	if ((rc = sudp_j_str(o, "rxpk", "time", &t, err, errlen)) < 0)
		return rc;
	/* a gateway clock before 1970 is a broken clock, and would not write back */
	if (rc && (cs_time_parse_rfc3339(t, &rx->time) != FUOTA_OK || rx->time.sec < 0))
		return fuota_malformed(err, errlen,
		                       "rxpk.time: \"%.40s\" is not ISO 8601 UTC after 1970", t);
	rx->has_time = rc;
	/* GPS ms up to 2^53, far beyond any real date, and exact in a double */
	if ((rc = sudp_j_int(o, "rxpk", "tmms", 0, INT64_C(1) << 53, &v, err, errlen)) < 0)
		return rc;
	rx->has_tmms = rc;
	rx->tmms = rc ? (uint64_t)v : 0;
	if ((rc = sudp_j_int(o, "rxpk", "tmst", 0, UINT32_MAX, &v, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "rxpk.tmst: missing");
	rx->tmst = (uint32_t)v;
	if ((rc = sudp_j_freq(o, "rxpk", &rx->freq_hz, err, errlen)) < 0)
		return rc;
	if ((rc = rxpk_radio(o, rx, err, errlen)) < 0)
		return rc;
	if ((rc = sudp_j_mod(o, "rxpk", 1, &rx->mod, err, errlen)) < 0)
		return rc;
	if ((rc = sudp_j_data(o, "rxpk", rx->data, &rx->size, err, errlen)) < 0)
		return rc;
	return 1;
}

json_t *sudp_rxpk_write(const struct sudp_rxpk *rx)
{
	json_t *o = json_object();
	char t[48];

	if (!o)
		return NULL;
	if (rx->has_time) {
		cs_time_format_rfc3339(&rx->time, t, sizeof(t));
		json_object_set_new(o, "time", json_string(t));
	}
	if (rx->has_tmms)
		json_object_set_new(o, "tmms", json_integer((json_int_t)rx->tmms));
	json_object_set_new(o, "tmst", json_integer(rx->tmst));
	json_object_set_new(o, "chan", json_integer(rx->chan));
	json_object_set_new(o, "rfch", json_integer(rx->rfch));
	json_object_set_new(o, "freq", sudp_freq_json(rx->freq_hz));
	json_object_set_new(o, "stat", json_integer(rx->stat));
	json_object_set_new(o, "rssi", json_integer(rx->rssi));
	if (rx->has_lsnr)
		json_object_set_new(o, "lsnr", json_real(rx->lsnr));
	if (sudp_put_mod(o, &rx->mod) != FUOTA_OK ||
	    sudp_put_data(o, rx->data, rx->size) != FUOTA_OK) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* "2014-01-12 08:59:28 GMT" (the reference forwarder's strftime "%F %T %Z"). */
static int stat_time(const char *s, struct cs_time *t)
{
	char iso[32];
	size_t n = strlen(s);

	if (n != 23 || strcmp(s + 19, " GMT") != 0)
		return FUOTA_ERR_MALFORMED;
	memcpy(iso, s, 19);
	iso[19] = 'Z';
	iso[20] = '\0';
	return cs_time_parse_rfc3339(iso, t);
}

static int stat_counter(json_t *o, const char *key, uint32_t *v, char *err, size_t errlen)
{
	int64_t i = 0;
	int rc = sudp_j_int(o, "stat", key, 0, UINT32_MAX, &i, err, errlen);

	if (rc == 0)
		return fuota_malformed(err, errlen, "stat.%s: missing", key);
	*v = (uint32_t)i;
	return rc;
}

static int stat_position(json_t *o, struct sudp_stat *st, char *err, size_t errlen)
{
	int64_t alti = 0;
	int a, b, c;

	if ((a = sudp_j_num(o, "stat", "lati", -90, 90, &st->lati, err, errlen)) < 0 ||
	    (b = sudp_j_num(o, "stat", "long", -180, 180, &st->lon, err, errlen)) < 0 ||
	    (c = sudp_j_int(o, "stat", "alti", -100000, 100000, &alti, err, errlen)) < 0)
		return FUOTA_ERR_MALFORMED;
	if (a + b + c != 0 && a + b + c != 3)
		return fuota_malformed(err, errlen,
		                       "stat: lati, long and alti come together or not at all");
	st->has_pos = a;
	st->alti = (int32_t)alti;
	return 1;
}

int sudp_stat_read(json_t *o, struct sudp_stat *st, char *err, size_t errlen)
{
	const char *t = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	if (!json_is_object(o))
		return fuota_malformed(err, errlen, "stat: not an object");
	if ((rc = sudp_j_str(o, "stat", "time", &t, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "stat.time: missing");
	if (stat_time(t, &st->time) != FUOTA_OK || st->time.sec < 0)
		return fuota_malformed(
		        err, errlen, "stat.time: \"%.40s\" is not \"YYYY-MM-DD hh:mm:ss GMT\"", t);
	if (stat_position(o, st, err, errlen) < 0 ||
	    stat_counter(o, "rxnb", &st->rxnb, err, errlen) < 0 ||
	    stat_counter(o, "rxok", &st->rxok, err, errlen) < 0 ||
	    stat_counter(o, "rxfw", &st->rxfw, err, errlen) < 0 ||
	    stat_counter(o, "dwnb", &st->dwnb, err, errlen) < 0 ||
	    stat_counter(o, "txnb", &st->txnb, err, errlen) < 0)
		return FUOTA_ERR_MALFORMED;
	if ((rc = sudp_j_num(o, "stat", "ackr", 0, 100, &st->ackr, err, errlen)) <= 0)
		return rc ? rc : fuota_malformed(err, errlen, "stat.ackr: missing");
	return 1;
}

json_t *sudp_stat_write(const struct sudp_stat *st)
{
	json_t *o = json_object();
	time_t sec = (time_t)st->time.sec;
	struct tm tm;
	char t[40];

	if (!o || !gmtime_r(&sec, &tm) || !strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S GMT", &tm)) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "time", json_string(t));
	if (st->has_pos) {
		json_object_set_new(o, "lati", json_real(st->lati));
		json_object_set_new(o, "long", json_real(st->lon));
		json_object_set_new(o, "alti", json_integer(st->alti));
	}
	json_object_set_new(o, "rxnb", json_integer(st->rxnb));
	json_object_set_new(o, "rxok", json_integer(st->rxok));
	json_object_set_new(o, "rxfw", json_integer(st->rxfw));
	json_object_set_new(o, "ackr", json_real(st->ackr));
	json_object_set_new(o, "dwnb", json_integer(st->dwnb));
	json_object_set_new(o, "txnb", json_integer(st->txnb));
	return o;
}
