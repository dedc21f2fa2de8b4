/* Every SARA-R5 reply parser on the same line (the whole input). Whatever parses must hold what
 * the parser promises: ranges, NUL-terminated strings, binary data inside the line. */
#include <string.h>

#include "codec_walk.h"
#include "fuota/sara_parse.h"
#include "fuzz.h"

static void on_name(void *ctx, const char *name)
{
	size_t *n = ctx;

	fuzz_check(name[0] != 0);
	(*n)++;
}

static void sockets(const char *line, size_t len)
{
	static const char *const prefixes[] = {
	        "+USOST:", "+USOWR:", "+UUSORD:", "+UUSORF:", "+USORF:", "+USORD:"};
	const uint8_t *d;
	size_t n, i;
	char ip[40];
	int s, port;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (sara_parse_sock_len(line, len, prefixes[i], &s, &n) == 0)
			fuzz_check(s >= 0 && s <= 6);
	if (sara_parse_usorf(line, len, &s, ip, sizeof(ip), &port, &d, &n) == 0)
		fuzz_check(d >= (const uint8_t *)line && d + n < (const uint8_t *)line + len &&
		           port >= 0 && port <= 65535 && n <= 1024 && strlen(ip) < sizeof(ip));
	if (sara_parse_usord(line, len, &s, &d, &n) == 0)
		fuzz_check(d >= (const uint8_t *)line && d + n < (const uint8_t *)line + len);
	if (sara_parse_usocr(line, len, &s, &port) == 0)
		fuzz_check(s >= 0 && s <= 6 && port >= 0 && port <= 65535);
	if (sara_parse_uusocl(line, len, &s) == 0)
		fuzz_check(s >= 0 && s <= 6);
}

static void others(const char *line, size_t len)
{
	struct sara_cereg c;
	struct sara_xfer x;
	char a[24], b[24], ip[48];
	size_t n = 0;
	int v, w, z;

	if (sara_parse_cereg(line, len, &c) == 0)
		fuzz_check(c.stat >= 0 && c.stat <= 10 && strlen(c.tac) < sizeof(c.tac));
	if (sara_parse_umnoprof(line, len, &v) == 0)
		fuzz_check(v >= 0 && v <= 255);
	{
		uint32_t rate;

		if (sara_parse_ipr(line, len, &rate) == 0)
			fuzz_check(rate <= 4000000);
	}
	if (sara_parse_ati9(line, len, a, sizeof(a), b, sizeof(b)) == 0)
		fuzz_check(a[0] && b[0]);
	if (sara_parse_cgmr(line, len, a, sizeof(a)) == 0)
		fuzz_check(strlen(a) == len && a[0] != '+');
	if (sara_parse_imei(line, len, a, sizeof(a)) == 0)
		fuzz_check(strlen(a) >= 14 && strlen(a) <= 17);
	if (sara_parse_uupsda(line, len, &v, ip, sizeof(ip)) == 0)
		fuzz_check(strlen(ip) < sizeof(ip));
	(void)sara_parse_uupsdd(line, len, &v);
	(void)sara_parse_ulstfile_names(line, len, on_name, &n);
	(void)sara_parse_ulstfile_size(line, len, &n);
	if (sara_parse_uuhttpcr(line, len, &x) == 0)
		fuzz_check(x.md5[0] == 0 || strlen(x.md5) == 32);
	if (sara_parse_uuftpcr(line, len, &x) == 0)
		fuzz_check(x.profile == -1 && (x.md5[0] == 0 || strlen(x.md5) == 32));
	(void)sara_parse_xfer_error(line, len, "+UHTTPER:", &v, &w, &z);
	(void)sara_parse_xfer_error(line, len, "+UFTPER:", &v, &w, &z);
}

/* The network-state parsers the gateway adapter reads (sara_parse_net.c). */
static void net(const char *line, size_t len)
{
	struct sara_cgev ev;
	char oper[33];
	int a, b, c;

	if (sara_parse_cgev(line, len, &ev) == 0)
		fuzz_check(ev.kind <= SARA_CGEV_DETACH && ev.cid >= -1 && ev.cid <= 255);
	if (sara_parse_csq(line, len, &a, &b) == 0)
		fuzz_check((a <= 31 || a == 99) && a >= 0 && (b <= 7 || b == 99) && b >= 0);
	if (sara_parse_cops(line, len, &a, oper, sizeof(oper), &c) == 0)
		fuzz_check(a >= 0 && a <= 4 && c >= -1 && c <= 9 && strlen(oper) <= 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[4097];

	if (size >= sizeof(line))
		return 0;
	/* the AT client hands parsers a NUL-terminated copy */
	memcpy(line, data, size);
	line[size] = 0;
	sockets(line, size);
	others(line, size);
	net(line, size);
	return 0;
}
