/* Helpers shared by the Semtech UDP codec's files: JSON member readers that name the field at
 * fault, and the text forms of frequency, data rate and coding rate. */
#ifndef FUOTA_SUDP_PRIVATE_H
#define FUOTA_SUDP_PRIVATE_H

#include <jansson.h>
#include <stdint.h>

#include "fuota/err.h"
#include "fuota/sudp.h"

/* Member readers: 1 when present and valid, 0 when absent, FUOTA_ERR_MALFORMED (message naming
 * obj.key) when present with the wrong type or out of [min, max]. */
int sudp_j_int(json_t *o, const char *obj, const char *key, int64_t min, int64_t max, int64_t *v,
               char *err, size_t errlen);
int sudp_j_num(json_t *o, const char *obj, const char *key, double min, double max, double *v,
               char *err, size_t errlen);
int sudp_j_str(json_t *o, const char *obj, const char *key, const char **v, char *err,
               size_t errlen);
int sudp_j_bool(json_t *o, const char *obj, const char *key, int *v, char *err, size_t errlen);

/* "freq" in MHz -> Hz, the nearest Hz; required. And Hz -> a JSON real that prints exactly. */
int sudp_j_freq(json_t *o, const char *obj, uint32_t *hz, char *err, size_t errlen);
json_t *sudp_freq_json(uint32_t hz);

/* "modu", "datr", "codr" into mod; codr is required for LoRa when need_codr. */
int sudp_j_mod(json_t *o, const char *obj, int need_codr, struct sudp_mod *mod, char *err,
               size_t errlen);
/* Adds modu, datr and (LoRa) codr to o; FUOTA_ERR_INVALID_ARG for values that cannot be written. */
int sudp_put_mod(json_t *o, const struct sudp_mod *mod);

/* "data" (base64) with "size" checked against it, into data[CS_MAX_PAYLOAD]. */
int sudp_j_data(json_t *o, const char *obj, uint8_t *data, size_t *size, char *err, size_t errlen);
/* Adds size and data. */
int sudp_put_data(json_t *o, const uint8_t *data, size_t size);

/* JSON serialisation for every writer: compact, reals with 10 significant digits (frequencies in
 * MHz to the Hz). Returns a malloc'd datagram of hdr_len header bytes followed by the text. */
int sudp_finish(json_t *root, const uint8_t *hdr, size_t hdr_len, uint8_t **out, size_t *out_len);

/* rxpk/stat (sudp_rxpk.c) and txpk (sudp_txpk.c) object readers and writers. */
int sudp_rxpk_read(json_t *o, struct sudp_rxpk *rx, char *err, size_t errlen);
json_t *sudp_rxpk_write(const struct sudp_rxpk *rx);
int sudp_stat_read(json_t *o, struct sudp_stat *st, char *err, size_t errlen);
json_t *sudp_stat_write(const struct sudp_stat *st);
int sudp_txpk_read(json_t *o, struct sudp_txpk *tx, char *err, size_t errlen);
json_t *sudp_txpk_write(const struct sudp_txpk *tx);

#endif
