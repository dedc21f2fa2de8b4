/* The SARA-R5 reply parsers with the example lines of the FW app note (UBX-20033314) and
 * CELLULAR-NOTES §2-§3, and lines that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/sara_parse.h"

#define L(s) s, strlen(s)

static void test_fields(void **state)
{
	struct sara_field f[4];
	size_t n;
	long v;

	(void)state;
	assert_int_equal(sara_fields(L("+X: 1,\"a,b\",,-7"), "+X:", f, 4, &n), FUOTA_OK);
	assert_int_equal(n, 4);
	assert_true(f[1].quoted);
	assert_int_equal(f[1].len, 3);
	assert_int_equal(f[2].len, 0);
	assert_int_equal(sara_field_int(&f[3], -10, 10, &v), FUOTA_OK);
	assert_int_equal(v, -7);
	assert_int_equal(sara_field_int(&f[3], 0, 10, &v), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_field_int(&f[1], 0, 10, &v), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_field_int(&f[2], 0, 10, &v), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_fields(L("+X: \"open"), "+X:", f, 4, &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_fields(L("+X: \"a\"b"), "+X:", f, 4, &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_fields(L("+X: 1,2,3,4,5"), "+X:", f, 4, &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_fields(L("+Y: 1"), "+X:", f, 4, &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_fields(L("+X"), "+X:", f, 4, &n), FUOTA_ERR_MALFORMED);
}

static void test_cereg(void **state)
{
	struct sara_cereg c;

	(void)state;
	assert_int_equal(sara_parse_cereg(L("+CEREG: 1"), &c), FUOTA_OK);
	assert_int_equal(c.n, -1);
	assert_int_equal(c.stat, 1);
	assert_int_equal(c.act, -1);
	assert_int_equal(sara_parse_cereg(L("+CEREG: 0,1"), &c), FUOTA_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(c.stat, 1);
	assert_int_equal(sara_parse_cereg(L("+CEREG: 2,5,\"0001\",\"01A2B3C4\",7"), &c), FUOTA_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.stat, 5);
	assert_string_equal(c.tac, "0001");
	assert_string_equal(c.ci, "01A2B3C4");
	assert_int_equal(c.act, 7);
	assert_int_equal(sara_parse_cereg(L("+CEREG: 1,\"0001\",\"01A2B3C4\",-1"), &c), FUOTA_OK);
	assert_int_equal(c.n, -1);
	assert_int_equal(c.act, -1); /* the R510 reports AcT -1 (Particle) */
	assert_int_equal(sara_parse_cereg(L("+CEREG: 2"), &c), FUOTA_OK);
	assert_int_equal(sara_parse_cereg(L("+CEREG: 4,1,\"0001\",\"01A2B3C4\",7,,,\"00000000\","
	                                    "\"00100001\""),
	                                  &c),
	                 FUOTA_OK);
	assert_int_equal(sara_parse_cereg(L("+CEREG:"), &c), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_cereg(L("+CEREG: x"), &c), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_cereg(L("+CEREG: 11"), &c), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_cereg(L("+CEREG: 1,\"0001\""), &c), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_cereg(L("+CEREG: 1,\"000100001\",\"1\""), &c),
	                 FUOTA_ERR_MALFORMED);
}

static void test_identity(void **state)
{
	char fw[24], app[24], imei[20];
	int p;

	(void)state;
	assert_int_equal(sara_parse_umnoprof(L("+UMNOPROF: 90"), &p), FUOTA_OK);
	assert_int_equal(p, 90);
	assert_int_equal(sara_parse_umnoprof(L("+UMNOPROF: 256"), &p), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_umnoprof(L("+UMNOPROF: 1,2"), &p), FUOTA_OK);
	assert_int_equal(sara_parse_ati9(L("02.06,A00.01"), fw, sizeof(fw), app, sizeof(app)),
	                 FUOTA_OK);
	assert_string_equal(fw, "02.06");
	assert_string_equal(app, "A00.01");
	/* found by fuzz_sara_parse: a field of NUL bytes made an empty version string */
	assert_int_equal(sara_parse_ati9("\0\0\0\b 0,2", 8, fw, sizeof(fw), app, sizeof(app)),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_ati9(L("02.06"), fw, sizeof(fw), app, sizeof(app)),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_ati9(L("02.06,A00.01"), fw, 3, app, sizeof(app)),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_cgmr(L("03.15"), fw, sizeof(fw)), FUOTA_OK);
	assert_string_equal(fw, "03.15");
	assert_int_equal(sara_parse_cgmr(L(""), fw, sizeof(fw)), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_cgmr(L("+UMNOPROF: 90"), fw, sizeof(fw)), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_cgmr("03\0.15", 6, fw, sizeof(fw)), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_cgmr(L("03.15"), fw, 5), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_imei(L("004999010640000"), imei, sizeof(imei)), FUOTA_OK);
	assert_string_equal(imei, "004999010640000");
	assert_int_equal(sara_parse_imei(L("+CGSN: 004999010640000"), imei, sizeof(imei)),
	                 FUOTA_OK);
	assert_int_equal(sara_parse_imei(L("+CGSN: \"004999010640000\""), imei, sizeof(imei)),
	                 FUOTA_OK);
	assert_string_equal(imei, "004999010640000");
	assert_int_equal(sara_parse_imei(L("00499901064000X"), imei, sizeof(imei)),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_imei(L("1234"), imei, sizeof(imei)), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_imei(L("+CGSN: \""), imei, sizeof(imei)), FUOTA_ERR_MALFORMED);
}

/* AT+IPR? in the module's words: 0 is autobauding (the factory setting, UBX-20009652 §5.2) */
static void test_ipr(void **state)
{
	uint32_t rate = 1;

	(void)state;
	assert_int_equal(sara_parse_ipr(L("+IPR: 0"), &rate), FUOTA_OK);
	assert_int_equal(rate, 0);
	assert_int_equal(sara_parse_ipr(L("+IPR: 115200"), &rate), FUOTA_OK);
	assert_int_equal(rate, 115200);
	assert_int_equal(sara_parse_ipr(L("+IPR:921600"), &rate), FUOTA_OK);
	assert_int_equal(rate, 921600);
	assert_int_equal(sara_parse_ipr(L("+IPR: -1"), &rate), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_ipr(L("+IPR: 99999999"), &rate), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_ipr(L("+IPR: \"115200\""), &rate), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_ipr(L("+IPR: 115200,0"), &rate), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_ipr(L("+IPR:"), &rate), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_ipr(L("115200"), &rate), FUOTA_ERR_MALFORMED);
}

static void test_pdp(void **state)
{
	char ip[48];
	int r, p;

	(void)state;
	assert_int_equal(sara_parse_uupsda(L("+UUPSDA: 0,\"100.108.232.233\""), &r, ip, sizeof(ip)),
	                 FUOTA_OK);
	assert_int_equal(r, 0);
	assert_string_equal(ip, "100.108.232.233");
	assert_int_equal(sara_parse_uupsda(L("+UUPSDA: 1"), &r, ip, sizeof(ip)), FUOTA_OK);
	assert_int_equal(r, 1);
	assert_string_equal(ip, "");
	assert_int_equal(sara_parse_uupsda(L("+UUPSDA: 0,100.1"), &r, ip, sizeof(ip)),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_uupsda(L("+UUPSDA: 0,\"100.108.232.233\""), &r, ip, 8),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_uupsdd(L("+UUPSDD: 0"), &p), FUOTA_OK);
	assert_int_equal(p, 0);
	assert_int_equal(sara_parse_uupsdd(L("+UUPSDD: 9"), &p), FUOTA_ERR_MALFORMED);
}

static void test_sockets(void **state)
{
	const uint8_t *d;
	size_t n;
	char ip[40];
	int s, port;

	(void)state;
	assert_int_equal(sara_parse_usocr(L("+USOCR: 0"), &s, &port), FUOTA_OK);
	assert_int_equal(s, 0);
	assert_int_equal(port, 0);
	assert_int_equal(sara_parse_usocr(L("+USOCR: 3,1234"), &s, &port), FUOTA_OK);
	assert_int_equal(port, 1234);
	assert_int_equal(sara_parse_usocr(L("+USOCR: 7"), &s, &port), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_sock_len(L("+USOST: 0,2"), "+USOST:", &s, &n), FUOTA_OK);
	assert_int_equal(n, 2);
	assert_int_equal(sara_parse_sock_len(L("+USOWR: 1,512"), "+USOWR:", &s, &n), FUOTA_OK);
	assert_int_equal(sara_parse_sock_len(L("+UUSORD: 0,2"), "+UUSORD:", &s, &n), FUOTA_OK);
	assert_int_equal(sara_parse_sock_len(L("+UUSORF: 0,2"), "+UUSORF:", &s, &n), FUOTA_OK);
	assert_int_equal(sara_parse_sock_len(L("+USOST: 0"), "+USOST:", &s, &n),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_sock_len(L("+USOST: 0,-2"), "+USOST:", &s, &n),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_usorf(L("+USORF: 0,\"195.34.89.241\",7,2,\"ab\""), &s, ip,
	                                  sizeof(ip), &port, &d, &n),
	                 FUOTA_OK);
	assert_string_equal(ip, "195.34.89.241");
	assert_int_equal(port, 7);
	assert_int_equal(n, 2);
	assert_memory_equal(d, "ab", 2);
	/* data holding quotes and commas is read by its length */
	assert_int_equal(sara_parse_usorf(L("+USORF: 0,\"1.2.3.4\",7,3,\"\",\"\""), &s, ip,
	                                  sizeof(ip), &port, &d, &n),
	                 FUOTA_OK);
	assert_memory_equal(d, "\",\"", 3);
	assert_int_equal(sara_parse_usorf(L("+USORF: 0,\"1.2.3.4\",7,3,\"ab\""), &s, ip, sizeof(ip),
	                                  &port, &d, &n),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_usorf(L("+USORF: 0,\"1.2.3.4\",7,2,ab"), &s, ip, sizeof(ip),
	                                  &port, &d, &n),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_usorf(L("+USORF: 0,12"), &s, ip, sizeof(ip), &port, &d, &n),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_usord(L("+USORD: 0,2,\"ab\""), &s, &d, &n), FUOTA_OK);
	assert_int_equal(n, 2);
	assert_int_equal(sara_parse_usord(L("+USORD: 0,2,\"a\""), &s, &d, &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_usord(L("+USORD: 0,2,\""), &s, &d, &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_usord(L("+USORD: 0,"), &s, &d, &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_uusocl(L("+UUSOCL: 0"), &s), FUOTA_OK);
	assert_int_equal(sara_parse_uusocl(L("+UUSOCL: "), &s), FUOTA_ERR_MALFORMED);
}

struct names {
	int n;
	char last[64];
};

static void on_name(void *ctx, const char *name)
{
	struct names *n = ctx;

	n->n++;
	strncpy(n->last, name, sizeof(n->last) - 1);
}

static void test_files(void **state)
{
	struct names nm = {0};
	size_t sz;

	(void)state;
	assert_int_equal(
	        sara_parse_ulstfile_names(L("+ULSTFILE: \"updatePackage.bin\""), on_name, &nm),
	        FUOTA_OK);
	assert_int_equal(nm.n, 1);
	assert_string_equal(nm.last, "updatePackage.bin");
	assert_int_equal(
	        sara_parse_ulstfile_names(L("+ULSTFILE: \"a.txt\",\"b.bin\""), on_name, &nm),
	        FUOTA_OK);
	assert_int_equal(nm.n, 3);
	assert_int_equal(sara_parse_ulstfile_names(L("+ULSTFILE:"), on_name, &nm), FUOTA_OK);
	assert_int_equal(nm.n, 3);
	/* no name reported when one of them is bad */
	assert_int_equal(sara_parse_ulstfile_names(L("+ULSTFILE: \"a\",b"), on_name, &nm),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(nm.n, 3);
	assert_int_equal(sara_parse_ulstfile_size(L("+ULSTFILE: 1234"), &sz), FUOTA_OK);
	assert_int_equal(sz, 1234);
	assert_int_equal(sara_parse_ulstfile_size(L("+ULSTFILE: \"1234\""), &sz),
	                 FUOTA_ERR_MALFORMED);
}

static void test_http_ftp(void **state)
{
	struct sara_xfer x;
	int p, c, e;

	(void)state;
	assert_int_equal(
	        sara_parse_uuhttpcr(
	                L("+UUHTTPCR: 0,100,1,200,\"884a2d96fddaf1d957c604805b75b9f2\""), &x),
	        FUOTA_OK);
	assert_int_equal(x.profile, 0);
	assert_int_equal(x.cmd, 100);
	assert_int_equal(x.result, 1);
	assert_int_equal(x.status, 200);
	assert_string_equal(x.md5, "884a2d96fddaf1d957c604805b75b9f2");
	assert_int_equal(sara_parse_uuhttpcr(L("+UUHTTPCR: 0,100,0"), &x), FUOTA_OK);
	assert_int_equal(x.result, 0);
	assert_int_equal(x.status, -1);
	assert_string_equal(x.md5, "");
	assert_int_equal(sara_parse_uuhttpcr(L("+UUHTTPCR: 0,1,1"), &x), FUOTA_OK);
	/* the app note's text copy carries a typo (an 'l' and a space in the MD5): refused */
	assert_int_equal(
	        sara_parse_uuhttpcr(
	                L("+UUHTTPCR: 0,100,1,200,\"884a2d96fddafl d957c604805b75b9f2\""), &x),
	        FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_uuhttpcr(L("+UUHTTPCR: 0,100"), &x), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_uuhttpcr(L("+UUHTTPCR: 0,100,2"), &x), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_uuftpcr(L("+UUFTPCR: 1,1"), &x), FUOTA_OK);
	assert_int_equal(x.cmd, 1);
	assert_int_equal(x.profile, -1);
	assert_int_equal(
	        sara_parse_uuftpcr(L("+UUFTPCR: 100,1,\"9ac81b5381d94eb0999dfa0b8c2da363\""), &x),
	        FUOTA_OK);
	assert_string_equal(x.md5, "9ac81b5381d94eb0999dfa0b8c2da363");
	assert_int_equal(sara_parse_uuftpcr(L("+UUFTPCR: 100,0"), &x), FUOTA_OK);
	assert_int_equal(x.result, 0);
	assert_int_equal(sara_parse_uuftpcr(L("+UUFTPCR: 100,1,\"9ac8\""), &x),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_xfer_error(L("+UHTTPER: 3,23"), "+UHTTPER:", &p, &c, &e),
	                 FUOTA_OK);
	assert_int_equal(p, -1);
	assert_int_equal(c, 3);
	assert_int_equal(e, 23);
	assert_int_equal(sara_parse_xfer_error(L("+UHTTPER: 0,3,23"), "+UHTTPER:", &p, &c, &e),
	                 FUOTA_OK);
	assert_int_equal(p, 0);
	assert_int_equal(sara_parse_xfer_error(L("+UFTPER: 8,12"), "+UFTPER:", &p, &c, &e),
	                 FUOTA_OK);
	assert_int_equal(c, 8);
	assert_int_equal(e, 12);
	assert_int_equal(sara_parse_xfer_error(L("+UFTPER: 8"), "+UFTPER:", &p, &c, &e),
	                 FUOTA_ERR_MALFORMED);
}

/* +CGEV, +CSQ, +COPS: what the gateway adapter watches (sara_parse_net.c). */
static void test_net_state(void **state)
{
	struct sara_cgev ev;
	char oper[33];
	int a, b, c;

	(void)state;
#define CGEV(s) sara_parse_cgev(s, strlen(s), &ev)
	assert_int_equal(CGEV("+CGEV: NW PDN DEACT 1"), 0);
	assert_int_equal(ev.kind, SARA_CGEV_PDN_DEACT);
	assert_true(ev.network);
	assert_int_equal(ev.cid, 1);
	assert_int_equal(CGEV("+CGEV: ME PDN ACT 8,0"), 0);
	assert_int_equal(ev.kind, SARA_CGEV_PDN_ACT);
	assert_false(ev.network);
	assert_int_equal(ev.cid, 8);
	assert_int_equal(CGEV("+CGEV: NW DETACH"), 0);
	assert_int_equal(ev.kind, SARA_CGEV_DETACH);
	assert_int_equal(ev.cid, -1);
	assert_int_equal(CGEV("+CGEV: NW DEACT \"IP\",\"10.1.0.3\",1"), 0);
	assert_int_equal(ev.kind, SARA_CGEV_PDN_DEACT);
	assert_int_equal(CGEV("+CGEV: NW CLASS \"A\""), 0);
	assert_int_equal(ev.kind, SARA_CGEV_OTHER);
	assert_int_equal(CGEV("+CGEV: XX PDN DEACT 1"), FUOTA_ERR_MALFORMED);
	assert_int_equal(CGEV("+CGEV: NW PDN DEACT 256"), FUOTA_ERR_MALFORMED);
	assert_int_equal(CGEV("+CGEV: NW PDN DEACT"), FUOTA_ERR_MALFORMED);
	assert_int_equal(CGEV("+CGEV: NW PDN DEACT 1x"), FUOTA_ERR_MALFORMED);
	assert_int_equal(CGEV("+CGEV: NW DETACH now"), FUOTA_ERR_MALFORMED);
	assert_int_equal(CGEV("+CGEV"), FUOTA_ERR_MALFORMED);
#undef CGEV
	assert_int_equal(sara_parse_csq("+CSQ: 20,99", 11, &a, &b), 0);
	assert_int_equal(a, 20);
	assert_int_equal(b, 99);
	assert_int_equal(sara_parse_csq("+CSQ: 32,0", 10, &a, &b), FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_csq("+CSQ: 20", 8, &a, &b), FUOTA_ERR_MALFORMED);
	assert_int_equal(
	        sara_parse_cops("+COPS: 0,0,\"fuota-sim\",7", 24, &a, oper, sizeof(oper), &c), 0);
	assert_string_equal(oper, "fuota-sim");
	assert_int_equal(c, 7);
	assert_int_equal(sara_parse_cops("+COPS: 0", 8, &a, oper, sizeof(oper), &c), 0);
	assert_string_equal(oper, "");
	assert_int_equal(c, -1);
	assert_int_equal(sara_parse_cops("+COPS: 0,0", 10, &a, oper, sizeof(oper), &c),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(sara_parse_cops("+COPS: 0,0,fuota,7", 18, &a, oper, sizeof(oper), &c),
	                 FUOTA_ERR_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fields),    cmocka_unit_test(test_cereg),
	        cmocka_unit_test(test_identity),  cmocka_unit_test(test_ipr),
	        cmocka_unit_test(test_pdp),       cmocka_unit_test(test_sockets),
	        cmocka_unit_test(test_files),     cmocka_unit_test(test_http_ftp),
	        cmocka_unit_test(test_net_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
