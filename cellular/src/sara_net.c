/* The SARA-R5 driver's network state for the gateway adapter (sara.h): +CGEV reports, signal
 * and operator. */
#include <string.h>

#include "sara_private.h"

int sara_cgev_enable(struct sara *s)
{
	return sara_cmd(s, NULL, 0, "AT+CGEREP=1");
}

/* The first kept line of the last response, or "" */
static const char *line0(const struct sara *s, size_t *len)
{
	*len = s->resp.n ? s->resp.len[0] : 0;
	return s->resp.n ? s->resp.line[0] : "";
}

int sara_signal(struct sara *s, int *rssi, int *ber)
{
	size_t len;
	const char *l;
	int err = sara_cmd(s, "+CSQ:", 0, "AT+CSQ");

	if (err != FUOTA_OK)
		return err;
	l = line0(s, &len);
	if (sara_parse_csq(l, len, rssi, ber) != FUOTA_OK)
		return sara_bad_reply(s, "AT+CSQ", l, len);
	return FUOTA_OK;
}

int sara_operator(struct sara *s, char *oper, size_t cap, int *act)
{
	size_t len;
	const char *l;
	int mode, err = sara_cmd(s, "+COPS:", 0, "AT+COPS?");

	if (err != FUOTA_OK)
		return err;
	l = line0(s, &len);
	if (sara_parse_cops(l, len, &mode, oper, cap, act) != FUOTA_OK)
		return sara_bad_reply(s, "AT+COPS?", l, len);
	return FUOTA_OK;
}
