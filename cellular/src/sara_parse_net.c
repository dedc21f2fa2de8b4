/* Pure parsers of the network-state replies the gateway adapter reads (sara_parse.h): +CGEV
 * events, +CSQ and +COPS. */
#include <string.h>

#include "fuota/err.h"
#include "fuota/sara_parse.h"

/* Whether text[*i..len) starts with the word w followed by a space or the end; moves *i past it
 * and its spaces. */
static bool word(const char *text, size_t len, size_t *i, const char *w)
{
	size_t n = strlen(w);

	if (len - *i < n || memcmp(text + *i, w, n) != 0 || (*i + n < len && text[*i + n] != ' '))
		return false;
	*i += n;
	while (*i < len && text[*i] == ' ')
		(*i)++;
	return true;
}

/* A cid 0..255 at text[i..len), up to a comma or the end. */
static int cid_at(const char *text, size_t len, size_t i, int *cid)
{
	long v = 0;
	size_t start = i;

	while (i < len && text[i] >= '0' && text[i] <= '9' && v <= 255)
		v = v * 10 + (text[i++] - '0');
	if (i == start || v > 255 || (i < len && text[i] != ','))
		return FUOTA_ERR_MALFORMED;
	*cid = (int)v;
	return FUOTA_OK;
}

/* +CGEV: NW PDN DEACT 1
 * +CGEV: ME PDN DEACT 1
 * +CGEV: ME PDN ACT 1,0
 * +CGEV: NW DETACH
 * +CGEV: NW DEACT "IP","10.1.0.3",1     (the older form: counted as a deactivation, cid unread)
 * +CGEV: NW CLASS "A"                   (OTHER) */
int sara_parse_cgev(const char *line, size_t len, struct sara_cgev *out)
{
	size_t i = 6;

	if (len < 6 || memcmp(line, "+CGEV:", 6) != 0)
		return FUOTA_ERR_MALFORMED;
	while (i < len && line[i] == ' ')
		i++;
	out->kind = SARA_CGEV_OTHER;
	out->cid = -1;
	if (word(line, len, &i, "NW"))
		out->network = true;
	else if (word(line, len, &i, "ME"))
		out->network = false;
	else
		return FUOTA_ERR_MALFORMED;
	if (word(line, len, &i, "DETACH")) {
		out->kind = SARA_CGEV_DETACH;
		return i == len ? FUOTA_OK : FUOTA_ERR_MALFORMED;
	}
	if (word(line, len, &i, "DEACT")) {
		out->kind = SARA_CGEV_PDN_DEACT;
		return FUOTA_OK;
	}
	if (!word(line, len, &i, "PDN"))
		return FUOTA_OK;
	if (word(line, len, &i, "ACT"))
		out->kind = SARA_CGEV_PDN_ACT;
	else if (word(line, len, &i, "DEACT"))
		out->kind = SARA_CGEV_PDN_DEACT;
	else
		return FUOTA_ERR_MALFORMED;
	return cid_at(line, len, i, &out->cid);
}

/* +CSQ: 20,99 */
int sara_parse_csq(const char *line, size_t len, int *rssi, int *ber)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;
	long r, b;

	if (sara_fields(line, len, "+CSQ:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n != 2 ||
	    sara_field_int(&f[0], 0, 99, &r) != FUOTA_OK ||
	    sara_field_int(&f[1], 0, 99, &b) != FUOTA_OK || (r > 31 && r != 99) ||
	    (b > 7 && b != 99))
		return FUOTA_ERR_MALFORMED;
	*rssi = (int)r;
	*ber = (int)b;
	return FUOTA_OK;
}

/* +COPS: 0,0,"fuota-sim",7
 * +COPS: 0                   (not registered: no operator) */
int sara_parse_cops(const char *line, size_t len, int *mode, char *oper, size_t cap, int *act)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n;
	long v;

	if (sara_fields(line, len, "+COPS:", f, SARA_FIELDS_MAX, &n) != FUOTA_OK || n < 1 ||
	    n == 2 || n > 4 || sara_field_int(&f[0], 0, 4, &v) != FUOTA_OK || cap == 0)
		return FUOTA_ERR_MALFORMED;
	*mode = (int)v;
	*act = -1;
	oper[0] = '\0';
	if (n == 1)
		return FUOTA_OK;
	if (sara_field_int(&f[1], 0, 2, &v) != FUOTA_OK || !f[2].quoted || f[2].len > 32 ||
	    sara_field_str(&f[2], oper, cap) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	if (n == 4) {
		if (sara_field_int(&f[3], 0, 9, &v) != FUOTA_OK)
			return FUOTA_ERR_MALFORMED;
		*act = (int)v;
	}
	return FUOTA_OK;
}
