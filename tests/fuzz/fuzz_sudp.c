/* Semtech UDP datagrams from the packet forwarder (or a server): every kind goes through
 * sudp_parse; what parses is written back, parsed again and must give the same content, and the
 * conversions and the too-late rule run on it. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/gw_sched.h"
#include "fuota/sudp.h"
#include "fuzz.h"

static struct sudp_msg m, back;

static void check_push(void)
{
	uint8_t *out = NULL;
	size_t len = 0;
	struct cs_gw_uplink up;
	struct cs_gw_stats st;

	for (size_t i = 0; i < m.n_rxpk; i++)
		sudp_rxpk_to_uplink(&m.rxpk[i], m.eui, (uint32_t)i, &up);
	if (m.has_stat)
		sudp_stat_to_stats(&m.stat, m.eui, &st);
	if (m.n_rxpk == 0 && !m.has_stat)
		return;
	if (sudp_write_push_data(m.token, m.eui, m.rxpk, m.n_rxpk, m.has_stat ? &m.stat : NULL,
	                         &out, &len) != FUOTA_OK)
		abort();
	if (sudp_parse(out, len, &back, NULL, 0) != FUOTA_OK || back.n_rxpk != m.n_rxpk ||
	    back.has_stat != m.has_stat || back.stat.time.sec != m.stat.time.sec ||
	    back.stat.rxnb != m.stat.rxnb || back.stat.txnb != m.stat.txnb)
		abort();
	for (size_t i = 0; i < m.n_rxpk; i++) {
		const struct sudp_rxpk *a = &m.rxpk[i], *b = &back.rxpk[i];
		if (a->size != b->size || memcmp(a->data, b->data, a->size) ||
		    a->freq_hz != b->freq_hz || a->tmst != b->tmst || a->tmms != b->tmms ||
		    a->stat != b->stat || memcmp(&a->mod, &b->mod, sizeof(a->mod)) ||
		    a->time.sec != b->time.sec || a->time.nsec != b->time.nsec)
			abort();
	}
	free(out);
}

static void check_pull_resp(void)
{
	uint8_t *out = NULL;
	size_t len = 0;
	struct gw_timeref ref = {.has_tmst = 1, .tmst = m.txpk.tmst ^ 0x5a5a5a5au, .has_gps = 1};

	(void)gw_too_late(&m.txpk, &ref, (int64_t)m.token * 1000, 40000);
	if (sudp_write_pull_resp(m.token, &m.txpk, &out, &len) != FUOTA_OK)
		abort();
	if (sudp_parse(out, len, &back, NULL, 0) != FUOTA_OK ||
	    memcmp(&back.txpk, &m.txpk, sizeof(m.txpk)))
		abort();
	free(out);
}

static void check_header_only(const uint8_t *data, size_t size)
{
	uint8_t out[12];

	if (m.type == SUDP_PULL_DATA)
		sudp_write_pull_data(m.token, m.eui, out);
	else if (sudp_write_ack(m.type, m.token, out) != FUOTA_OK)
		abort();
	if (memcmp(out, data, size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	uint8_t *out = NULL;
	size_t len = 0;

	if (sudp_parse(data, size, &m, err, sizeof(err)) != FUOTA_OK) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	switch (m.type) {
	case SUDP_PUSH_DATA: check_push(); break;
	case SUDP_PULL_RESP: check_pull_resp(); break;
	case SUDP_TX_ACK:
		if (sudp_write_tx_ack(m.token, m.eui, m.ack, &out, &len) != FUOTA_OK ||
		    sudp_parse(out, len, &back, NULL, 0) != FUOTA_OK || back.ack != m.ack)
			abort();
		free(out);
		break;
	default: check_header_only(data, size); break;
	}
	return 0;
}
