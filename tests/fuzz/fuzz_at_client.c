/* The AT client and the SARA-R5 driver fed arbitrary modem output. Byte 0 picks how the bytes are
 * cut into reads (1 byte, random, all at once); the rest is everything the "modem" says, queued at
 * once on a fake port with a fake clock (tests/unit/cell_fake.h), while the driver runs a series
 * of calls that parse replies. Whatever comes back must be a result code, never a crash; strings
 * handed back must be NUL-terminated within their buffers. */
#include <string.h>

#include "../unit/cell_fake.h"
#include "codec_walk.h"
#include "fuota/sara.h"
#include "fuzz.h"

static void on_name(void *ctx, const char *name)
{
	(void)ctx;
	fuzz_check(name[0] != 0);
}

static void run(struct sara *s)
{
	struct sara_info info;
	struct sara_cereg reg;
	struct sara_xfer x;
	uint8_t buf[1024];
	char ip[48];
	uint16_t port;
	size_t got;
	int v;

	if (sara_info(s, &info) == FUOTA_OK)
		fuzz_check(strlen(info.cgmr) < sizeof(info.cgmr) && strlen(info.imei) >= 14);
	(void)sara_mno_get(s, &v);
	(void)sara_reg_get(s, &reg);
	if (sara_sock_recvfrom(s, 0, buf, sizeof(buf), &got, ip, sizeof(ip), &port) == FUOTA_OK)
		fuzz_check(got <= sizeof(buf) && strlen(ip) < sizeof(ip));
	if (sara_sock_read(s, 1, buf, 100, &got) == FUOTA_OK)
		fuzz_check(got <= 100);
	(void)sara_sock_sendto(s, 0, "10.0.0.1", 7, buf, 4);
	(void)sara_file_list(s, "FOAT", on_name, NULL);
	if (sara_http_get(s, 0, "/fw", NULL, 3000, &x) == FUOTA_OK)
		fuzz_check(x.result == 1 && strlen(x.md5) < sizeof(x.md5));
	(void)sara_pdp_up(s, 0, 1, 2000, ip, sizeof(ip));
	(void)sara_poll(s, 100);
	fuzz_check(strlen(sara_last_error(s)) < 300);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int chunks[] = {1, -1, 0, 3};
	struct fake_step st[1] = {{NULL, 0, NULL, 0, 0}};
	struct at_config ac = {0};
	struct sara_config sc = {0};
	struct at_client *at = NULL;
	struct sara *s = NULL;
	struct fake *f;

	if (size < 2 || size > FAKE_MAX)
		return 0;
	st[0].reply = (const char *)data + 1;
	st[0].reply_len = size - 1;
	f = fake_new(st, 1, chunks[data[0] & 3]);
	ac.serial = &f->serial;
	ac.clock = &f->clock;
	ac.line_max = (data[0] & 4) ? 64 : 0;
	ac.default_timeout_ms = 500;
	fuzz_check(at_create(&ac, &at) == FUOTA_OK);
	sc.at = at;
	sc.clock = &f->clock;
	sc.recovery = (data[0] & 8) != 0;
	fuzz_check(sara_create(&sc, &s) == FUOTA_OK);
	run(s);
	sara_destroy(s);
	at_destroy(at);
	free(f);
	return 0;
}
