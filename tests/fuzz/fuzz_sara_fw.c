/* The firmware-update manager's readers of outside bytes on the same input: the state file (a
 * file written by an earlier run, perhaps cut or corrupted) and the URC parsers with their mapping
 * to state-machine events. What decodes must re-encode to the same bytes; what parses must hold
 * the ranges the parsers promise; a step on any decoded status and parsed event must keep the
 * invariants. */
#include <string.h>

#include "codec_walk.h"
#include "fuota/sara_fw_parse.h"
#include "fuota/sara_fw_sm.h"
#include "fuzz.h"

static void state_file(const char *buf, size_t len)
{
	struct fwu_status st, st2;
	struct fwu_desired d, d2;
	char again[4096];
	size_t n;

	if (fwu_file_decode(buf, len, &st, &d) != FUOTA_OK)
		return;
	fuzz_check(st.pct >= 0 && st.pct <= 100 && (unsigned)st.state < FWU_S_COUNT);
	fuzz_check(fwu_file_encode(&st, &d, again, sizeof(again), &n) == FUOTA_OK);
	fuzz_check(n == len && memcmp(again, buf, len) == 0);
	fuzz_check(fwu_file_decode(again, n, &st2, &d2) == FUOTA_OK && st2.seq == st.seq);
}

/* What +UFOTA? says to a host back after lost URCs, in each uFOTA state: a step that keeps the
 * percentage in range and never installs or resets on its own. */
static void ufota_sync(uint32_t total, uint32_t done)
{
	static const enum fwu_state states[] = {FWU_S_DOWNLOADING, FWU_S_PAUSED, FWU_S_DOWNLOADED,
	                                        FWU_S_ACK_PENDING};
	struct fwu_status st = {.method = FWU_M_UFOTA, .ver_before = "1"}, next;
	struct fwu_event ev;
	unsigned a;

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		st.state = states[i];
		st.ufota_mode = (int)(i & 1);
		if (fwu_ufota_sync_event(&st, i == 3 ? "2" : "1", total, done, &ev) != FUOTA_OK)
			continue;
		fuzz_check(fwu_step(&st, &ev, &next, &a, NULL, 0) == FUOTA_OK);
		fuzz_check(next.pct >= 0 && next.pct <= 100);
		fuzz_check(!(a & FWU_A_INSTALL) && !(a & FWU_A_SEND_PACKAGE));
	}
}

static void urc_line(const char *line, size_t len)
{
	struct fwu_ufotastat u;
	struct fwu_lwm2mstat l;
	struct fwu_status st = {.state = FWU_S_INSTALLING, .method = FWU_M_HTTP}, next;
	struct fwu_event ev;
	uint32_t total, done;
	unsigned a;
	bool ongoing;
	char uri[64];
	long left;
	int n, m, rc;

	if (fwu_parse_ufotastat(line, len, &u) == FUOTA_OK)
		fuzz_check(u.event >= 0 && u.event <= 4 && u.p2 >= 0 && u.p2 <= 255);
	if (fwu_parse_ufwpreval(line, len, &n) == FUOTA_OK)
		fuzz_check(n >= 0 && n <= 100);
	if (fwu_parse_install(line, len, &n) == FUOTA_OK)
		fuzz_check((n >= 0 && n <= 100) || (n >= 128 && n <= 255));
	if (fwu_parse_ufwupd(line, len, &ongoing, &n) == FUOTA_OK)
		fuzz_check(ongoing ? n == -1 : ((n >= 0 && n <= 100) || (n >= 128 && n <= 255)));
	if (fwu_parse_ulwm2mstat(line, len, &l) == FUOTA_OK)
		fuzz_check(strlen(l.path) < sizeof(l.path));
	if (fwu_parse_ufota(line, len, &n, &total, &done) == FUOTA_OK) {
		fuzz_check(done <= total);
		ufota_sync(total, done);
	}
	(void)fwu_parse_ulwm2mreg(line, len, &n, &m, &left);
	(void)fwu_parse_usecfw(line, len, &n);
	(void)fwu_parse_usecmode(line, len, &n);
	if (fwu_parse_srlt(line, len, &left) == FUOTA_OK)
		fuzz_check(left >= 0);
	if (fwu_parse_package_uri(line, len, uri, sizeof(uri)) == FUOTA_OK)
		fuzz_check(uri[0] && strlen(uri) < sizeof(uri) && !strchr(uri, '"'));
	(void)fwu_cmd_check(&st, line, NULL, 0);
	rc = fwu_urc_event(&st, line, len, &ev);
	if (rc != FUOTA_OK)
		return;
	/* whatever the module says mid-install, no install command and no reset follow */
	fuzz_check(fwu_step(&st, &ev, &next, &a, NULL, 0) == FUOTA_OK || ev.kind == FWU_EV_CANCEL);
	fuzz_check(!(a & FWU_A_INSTALL) && !(a & FWU_A_SEND_PACKAGE));
	fuzz_check(next.pct >= 0 && next.pct <= 100);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[4097];

	if (size >= sizeof(line))
		return 0;
	memcpy(line, data, size);
	line[size] = 0;
	state_file(line, size);
	urc_line(line, size);
	return 0;
}
