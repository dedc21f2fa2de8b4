/* The AT log: timestamped lines to a file and/or a callback, binary bytes escaped, credentials
 * masked (the FW app note asks for an AT log; STYLE.md forbids logging secrets). */
#include <stdio.h>
#include <string.h>

#include "at_private.h"

/* Commands that carry secrets (credentials, and the APN: it names the operator's private
 * network, issue 10 asks it masked), and which of their arguments are secret. sel is the argument
 * that holds the op/param number (-1: none), ops the op values whose arguments are secret (bit n:
 * op n), from..to the secret arguments (to -1: every one after from). */
#define OP(n) (1u << (n))
static const struct {
	const char *name;
	int sel;
	unsigned ops;
	int from, to;
} secret_cmds[] = {
        /* AT+UHTTP=<p>,<op>,"<value>": ops 2 user, 3 password */
        {"+UHTTP", 1, OP(2) | OP(3), 2, -1},
        /* AT+UFTP=<op>,"<value>": ops 2 user, 3 password */
        {"+UFTP", 0, OP(2) | OP(3), 1, -1},
        /* AT+UPSD=<p>,<param>,"<value>": params 1 APN, 2 user, 3 password */
        {"+UPSD", 1, OP(1) | OP(2) | OP(3), 2, -1},
        /* AT+CGDCONT=<cid>,"<PDP_type>","<APN>"[,...] and its read response: the APN only */
        {"+CGDCONT", -1, 0, 2, 2},
        /* AT+CGAUTH=<cid>,<auth>,"<user>","<password>" */
        {"+CGAUTH", -1, 0, 2, -1},
        {"+UAUTHREQ", -1, 0, 2, -1}, /* the same on u-blox */
        {"+USECMNG", -1, 0, 2, -1},  /* key material and its passwords */
};

/* The argument number at text (0-based index sel) as an integer, -1 if none. */
static long arg_int(const char *args, int sel)
{
	const char *p = args;
	long v = 0;
	int i;

	for (i = 0; i < sel && p; i++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (!p || *p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9' && v < 1000)
		v = v * 10 + (*p++ - '0');
	return v;
}

/* Index of the first secret argument of cmd, -1 when it carries none; *args the arguments, *to
 * the last secret argument (-1: to the end). */
static int secret_from(const char *cmd, const char **args, int *to)
{
	const char *name = strncmp(cmd, "AT", 2) == 0 ? cmd + 2 : cmd;
	size_t i, n = strcspn(name, "=:");

	if (name[n] == 0)
		return -1;
	*args = name + n + 1;
	while (**args == ' ')
		(*args)++;
	for (i = 0; i < sizeof(secret_cmds) / sizeof(secret_cmds[0]); i++) {
		long op;

		if (strlen(secret_cmds[i].name) != n || strncmp(name, secret_cmds[i].name, n) != 0)
			continue;
		*to = secret_cmds[i].to;
		if (secret_cmds[i].sel < 0)
			return secret_cmds[i].from;
		op = arg_int(*args, secret_cmds[i].sel);
		return op >= 0 && op < 32 && (secret_cmds[i].ops & OP(op)) ? secret_cmds[i].from
		                                                           : -1;
	}
	return -1;
}

static void out_put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	while (n-- > 0 && *o + 1 < cap)
		out[(*o)++] = *s++;
}

void at_mask_secrets(const char *cmd, char *out, size_t cap)
{
	const char *args = NULL, *p;
	int to = -1, from = secret_from(cmd, &args, &to), idx = 0;
	bool q = false;
	size_t o = 0;

	if (cap == 0)
		return;
	if (from < 0) {
		out_put(out, cap, &o, cmd, strlen(cmd));
		out[o] = 0;
		return;
	}
	out_put(out, cap, &o, cmd, (size_t)(args - cmd));
	for (p = args; *p; p++) {
		if (*p == '"')
			q = !q;
		if (*p == ',' && !q) {
			idx++;
			out_put(out, cap, &o, ",", 1);
			if (idx >= from && (to < 0 || idx <= to))
				out_put(out, cap, &o, "***", 3);
			continue;
		}
		if (idx < from || (to >= 0 && idx > to))
			out_put(out, cap, &o, p, 1);
	}
	out[o] = 0;
}

static void emit(struct at_client *at, const char *text)
{
	uint64_t t = at->clk->now_ms(at->clk->ctx) - at->t0_ms;
	char line[700];

	snprintf(line, sizeof(line), "[%6llu.%03u] %s", (unsigned long long)(t / 1000u),
	         (unsigned)(t % 1000u), text);
	if (at->cfg.log_file) {
		fprintf(at->cfg.log_file, "%s\n", line);
		fflush(at->cfg.log_file);
	}
	if (at->cfg.log_fn)
		at->cfg.log_fn(at->cfg.log_ctx, line);
}

void at_log_line(struct at_client *at, const char *dir, const char *line, size_t len)
{
	char esc[512], masked[512], text[600];
	size_t i, o = 0;

	if (!at->cfg.log_file && !at->cfg.log_fn)
		return;
	for (i = 0; i < len && o + 5 < sizeof(esc); i++) {
		unsigned char c = (unsigned char)line[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			esc[o++] = (char)c;
		else
			o += (size_t)snprintf(esc + o, sizeof(esc) - o, "\\x%02x", c);
	}
	esc[o] = 0;
	at_mask_secrets(esc, masked, sizeof(masked));
	snprintf(text, sizeof(text), "%s %s%s", dir, masked, i < len ? " [...]" : "");
	emit(at, text);
}

void at_log_note(struct at_client *at, const char *note)
{
	if (at->cfg.log_file || at->cfg.log_fn)
		emit(at, note);
}
