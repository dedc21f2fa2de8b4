/* The firmware-update URC parsers with the FW app note's lines (UBX-20033314, Tables 1-15) and
 * CELLULAR-NOTES §2.7, lines that must be refused, and URC lines mapped to state-machine events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/sara_fw_parse.h"
#include "fuota/sara_fw_sm.h"

#define L(s) s, strlen(s)

static void test_ufotastat(void **state)
{
	static const struct {
		const char *line;
		int e, p1, p2;
	} ok[] = {
	        {"+UFOTASTAT: 2,2,100", 2, 2, 100}, {"+UFOTASTAT: 0,1,63", 0, 1, 63},
	        {"+UFOTASTAT: 0,1,8", 0, 1, 8},     {"+UFOTASTAT: 0,2,10", 0, 2, 10},
	        {"+UFOTASTAT: 1,0,0", 1, 0, 0},     {"+UFOTASTAT: 2,3,100", 2, 3, 100},
	        {"+UFOTASTAT: 0,3,0", 0, 3, 0},     {"+UFOTASTAT: 3,1,0", 3, 1, 0},
	        {"+UFOTASTAT:0,1,30", 0, 1, 30},
	};
	static const char *const bad[] = {"+UFOTASTAT: 2,2",         "+UFOTASTAT: 0,1,101",
	                                  "+UFOTASTAT: 5,0,0",       "+UFOTASTAT: 2,2,1000",
	                                  "+UFOTASTAT: 2,2,x",       "+UFOTASTAT: 2,2,100,1",
	                                  "+UFOTASTAT: \"2\",2,100", "+UFOTASTAT: -1,0,0",
	                                  "+UFOTASTA: 2,2,100",      ""};
	struct fwu_ufotastat u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(fwu_parse_ufotastat(L(ok[i].line), &u), FUOTA_OK);
		assert_int_equal(u.event, ok[i].e);
		assert_int_equal(u.p1, ok[i].p1);
		assert_int_equal(u.p2, ok[i].p2);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(fwu_parse_ufotastat(L(bad[i]), &u), FUOTA_ERR_MALFORMED);
}

static void test_preval_and_install(void **state)
{
	static const int pre[] = {0, 3, 7, 90, 100};
	static const int inst[] = {1, 3, 92, 100, 128};
	char line[40];
	bool ongoing;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < 5; i++) { /* Table 13's sequence */
		snprintf(line, sizeof(line), "+UFWPREVAL: %d", pre[i]);
		assert_int_equal(fwu_parse_ufwpreval(L(line), &n), FUOTA_OK);
		assert_int_equal(n, pre[i]);
		snprintf(line, sizeof(line), "+UUFWINSTALL: %d", inst[i]);
		assert_int_equal(fwu_parse_install(L(line), &n), FUOTA_OK);
		assert_int_equal(n, inst[i]);
		snprintf(line, sizeof(line), "+UFWINSTALL: %d", inst[i]);
		assert_int_equal(fwu_parse_install(L(line), &n), FUOTA_OK);
		assert_int_equal(n, inst[i]);
		snprintf(line, sizeof(line), "+UFWUPD: %d", inst[i]);
		assert_int_equal(fwu_parse_ufwupd(L(line), &ongoing, &n), FUOTA_OK);
		assert_false(ongoing);
		assert_int_equal(n, inst[i]);
	}
	assert_int_equal(fwu_parse_ufwupd(L("+UFWUPD: ONGOING"), &ongoing, &n), FUOTA_OK);
	assert_true(ongoing);
	assert_int_equal(n, -1);
	assert_int_equal(fwu_parse_install(L("+UUFWINSTALL: 247"), &n), FUOTA_OK);
	assert_int_equal(n, 247);
	assert_int_equal(fwu_parse_ufwpreval(L("+UFWPREVAL: 101"), &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_install(L("+UUFWINSTALL: 101"), &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_install(L("+UUFWINSTALL: 127"), &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_install(L("+UUFWINSTALL: 256"), &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_install(L("+UUFWINSTALL: "), &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_install(L("+UUFWINSTALL: 1,2"), &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_ufwupd(L("+UFWUPD: ONGOIN"), &ongoing, &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_ufwupd(L("+UFWUPD: \"ONGOING\""), &ongoing, &n),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_ufwupd(L("+UFWUPD: 120"), &ongoing, &n), FUOTA_ERR_MALFORMED);
}

static void test_result_names(void **state)
{
	static const struct {
		int code;
		const char *name;
	} t[] = {
	        {128, "success"},
	        {129, "generic failure"},
	        {130, "flash access failure"},
	        {131, "delta file access failure"},
	        {140, "generic decomposition-engine error"},
	        {141, "RAM error"},
	        {144, "file not found"},
	        {148, "delta file corrupted"},
	        {158, "delta format not recognised"},
	        {160, "flash write failure"},
	        {168, "delta / flash firmware mismatch"},
	        {173, "signature mismatch"},
	        {174, "delta version not supported"},
	        {178, "RAM corruption"},
	        {180, "delta size mismatch"},
	        {195, "updated flash corruption"},
	        {224, "generic finalisation error"},
	        {227, "public key error"},
	        {247, "delta pre-validation failure"},
	        {50, "progress"},
	        {132, "unknown result"}, /* R4 / LARA-R6 only */
	        {-1, "unknown result"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(fwu_install_result_name(t[i].code), t[i].name);
}

static void test_lwm2m_ufota_rot(void **state)
{
	struct fwu_lwm2mstat l;
	uint32_t total, done;
	int st, srv, mode;
	long left;

	(void)state;
	assert_int_equal(fwu_parse_ulwm2mstat(L("+ULWM2MSTAT: 1,102,3"), &l), FUOTA_OK);
	assert_int_equal(l.event, 1);
	assert_int_equal(l.server, 102);
	assert_int_equal(l.status, 3);
	assert_int_equal(fwu_parse_ulwm2mstat(L("+ULWM2MSTAT: 3,102,\"/5/0/3/\""), &l), FUOTA_OK);
	assert_int_equal(l.status, -1);
	assert_string_equal(l.path, "/5/0/3/");
	assert_int_equal(fwu_parse_ulwm2mstat(L("+ULWM2MSTAT: 3,102,\"/5/0/3/\",1"), &l),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_ulwm2mstat(L("+ULWM2MSTAT: x,102"), &l), FUOTA_ERR_MALFORMED);

	assert_int_equal(fwu_parse_ufota(L("+UFOTA: 1,6864144,710656"), &st, &total, &done),
	                 FUOTA_OK);
	assert_int_equal(st, 1);
	assert_int_equal(total, 6864144);
	assert_int_equal(done, 710656);
	assert_int_equal(fwu_parse_ufota(L("+UFOTA: 1,100,101"), &st, &total, &done),
	                 FUOTA_ERR_MALFORMED);

	assert_int_equal(fwu_parse_ulwm2mreg(L("+ULWM2MREG: 721,3,86281"), &srv, &st, &left),
	                 FUOTA_OK);
	assert_int_equal(srv, 721);
	assert_int_equal(st, 3);
	assert_int_equal(left, 86281);
	assert_int_equal(fwu_parse_ulwm2mreg(L("+ULWM2MREG: 721,4"), &srv, &st, &left), FUOTA_OK);
	assert_int_equal(st, 4);
	assert_int_equal(left, -1);
	assert_int_equal(fwu_parse_ulwm2mreg(L("+ULWM2MREG: 721"), &srv, &st, &left),
	                 FUOTA_ERR_MALFORMED);

	assert_int_equal(fwu_parse_usecfw(L("+USECFW: 3"), &st), FUOTA_OK);
	assert_int_equal(st, 3);
	assert_int_equal(fwu_parse_usecfw(L("+USECFW: "), &st), FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_usecmode(L("+USECMODE: 0"), &mode), FUOTA_OK);
	assert_int_equal(mode, 0);
}

static void test_md5(void **state)
{
	(void)state;
	assert_true(fwu_md5_equal("884a2d96fddaf1d957c604805b75b9f2",
	                          "884A2D96FDDAF1D957C604805B75B9F2"));
	assert_false(fwu_md5_equal("884a2d96fddaf1d957c604805b75b9f2",
	                           "9ac81b5381d94eb0999dfa0b8c2da363"));
	/* the app note's own typo "fddafl d957" is no MD5 */
	assert_false(fwu_md5_equal("884a2d96fddafld957c604805b75b9f2",
	                           "884a2d96fddafld957c604805b75b9f2"));
	assert_false(fwu_md5_equal("884a2d96", "884a2d96"));
	assert_false(fwu_md5_equal(NULL, "884a2d96fddaf1d957c604805b75b9f2"));
}

static void test_urc_events(void **state)
{
	struct fwu_status st = {0};
	struct fwu_event ev;

	(void)state;
	assert_int_equal(fwu_urc_event(&st, L("+UFOTASTAT: 3,1,0"), &ev), FUOTA_OK);
	assert_int_equal(ev.kind, FWU_EV_CLIENT_START); /* not an installed update */
	assert_int_equal(fwu_urc_event(&st, L("+UFOTASTAT: 0,3,0"), &ev), FUOTA_OK);
	assert_int_equal(ev.kind, FWU_EV_ACK_PENDING);
	assert_int_equal(fwu_urc_event(&st, L("+UFOTASTAT: 0,2,10"), &ev), FUOTA_OK);
	assert_int_equal(ev.kind, FWU_EV_DL_PAUSED);
	assert_int_equal(ev.pct, 10);
	assert_int_equal(fwu_urc_event(&st, L("+UFOTASTAT: 2,3,100"), &ev), FUOTA_OK);
	assert_int_equal(ev.kind, FWU_EV_DL_FAILED);
	assert_int_equal(ev.fail, FWU_F_CANCELLED);
	st.ufota_mode = 3;
	assert_int_equal(fwu_urc_event(&st, L("+UFOTASTAT: 2,3,100"), &ev), FUOTA_OK);
	assert_int_equal(ev.fail, FWU_F_REJECTED);
	assert_int_equal(fwu_urc_event(&st, L("+UFOTASTAT: 2,3,102"), &ev), FUOTA_OK);
	assert_int_equal(ev.fail, FWU_F_DOWNLOAD);
	assert_int_equal(ev.code, 102);
	assert_int_equal(fwu_urc_event(&st, L("+UFOTASTAT: 4,0,0"), &ev), 1);
	assert_int_equal(fwu_urc_event(&st, L("+UFWUPD: ONGOING"), &ev), FUOTA_OK);
	assert_int_equal(ev.kind, FWU_EV_UPDATE_MODE);
	assert_int_equal(fwu_urc_event(&st, L("+UFWUPD: 128"), &ev), FUOTA_OK);
	assert_int_equal(ev.kind, FWU_EV_INSTALL);
	assert_int_equal(ev.code, 128);
	assert_int_equal(fwu_urc_event(&st, L("+UFWINSTALL: 92"), &ev), FUOTA_OK);
	assert_int_equal(ev.code, 92);
	assert_int_equal(fwu_urc_event(&st, L("+ULWM2MSTAT: 1,102,3"), &ev), 1);
	assert_int_equal(fwu_urc_event(&st, L("+UFWPREVAL: 1000"), &ev), FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_urc_event(&st, L("+CEREG: 1"), &ev), FUOTA_ERR_NOT_FOUND);
}

static void test_package_uri(void **state)
{
	char uri[64];

	(void)state;
	assert_int_equal(fwu_parse_package_uri(
	                         L("+ULWM2MREAD: {\"bn\":\"/5/0/1/\",\"e\":[{\"n\":\"1\",\"sv\":"
	                           "\"https://dm.example/fw/delta.bin\"}]}"),
	                         uri, sizeof(uri)),
	                 FUOTA_OK);
	assert_string_equal(uri, "https://dm.example/fw/delta.bin");
	assert_int_equal(
	        fwu_parse_package_uri(
	                L("+ULWM2MREAD: {\"bn\":\"/5/0/1/\",\"e\":[{\"n\":\"1\",\"sv\":\"abc"), uri,
	                sizeof(uri)),
	        FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_package_uri(L("+ULWM2MREAD: {\"bn\":\"/1/10/\",\"sv\":\"x\"}"),
	                                       uri, sizeof(uri)),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(
	        fwu_parse_package_uri(L("+ULWM2MREAD: {\"bn\":\"/5/0/1/\",\"sv\":\"a\\b\"}"), uri,
	                              sizeof(uri)),
	        FUOTA_ERR_MALFORMED);
	assert_int_equal(fwu_parse_package_uri(
	                         L("+ULWM2MREAD: {\"bn\":\"/5/0/1/\",\"sv\":\"abcdef\"}"), uri, 4),
	                 FUOTA_ERR_NO_SPACE);
}

static void test_srlt(void **state)
{
	long v;

	(void)state;
	/* §3.6 as the app note prints it */
	assert_int_equal(
	        fwu_parse_srlt(L("+ULWM2MREAD: {\"bn\":\"/1/10/\",\"e\": {\"n\":\"0\",\"v\":721}, "
	                         "{\"n\":\"1\",\"v\":86400}, {\"n\":\"2\",\"v\":10}, "
	                         "{\"n\":\"6\", \"bv\":false}}"),
	                       &v),
	        FUOTA_OK);
	assert_int_equal(v, 86400);
	assert_int_equal(
	        fwu_parse_srlt(L("+ULWM2MREAD: {\"bn\":\"/1/10/\",\"e\":[{\"n\":\"1\", \"v\": "
	                         "604800}]}"),
	                       &v),
	        FUOTA_OK);
	assert_int_equal(v, 604800);
	assert_int_equal(
	        fwu_parse_srlt(L("+ULWM2MREAD: {\"bn\":\"/1/10/\",\"e\":[{\"n\":\"1\",\"v\":-5}]}"),
	                       &v),
	        FUOTA_ERR_MALFORMED);
	assert_int_equal(
	        fwu_parse_srlt(L("+ULWM2MREAD: {\"bn\":\"/1/10/\",\"e\":[{\"n\":\"1\",\"v\":86400"),
	                       &v),
	        FUOTA_ERR_MALFORMED);
	assert_int_equal(
	        fwu_parse_srlt(L("+ULWM2MREAD: {\"bn\":\"/5/0/1/\",\"e\":[{\"n\":\"1\",\"v\":1}]}"),
	                       &v),
	        FUOTA_ERR_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ufotastat),    cmocka_unit_test(test_preval_and_install),
	        cmocka_unit_test(test_result_names), cmocka_unit_test(test_lwm2m_ufota_rot),
	        cmocka_unit_test(test_md5),          cmocka_unit_test(test_urc_events),
	        cmocka_unit_test(test_package_uri),  cmocka_unit_test(test_srlt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
