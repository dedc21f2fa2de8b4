/* modem-sim.files: the module file system (+UDWNFILE with its prompt, +ULSTFILE, +UDELFILE,
 * +URDFILE, the FOAT tag) and the HTTP and FTP downloads from the local folder, MD5 included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_modem_sim.h"

/* Deterministic bytes of a given seed (xorshift). */
static void fill_bytes(uint8_t *d, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		d[i] = (uint8_t)seed;
	}
}

static void write_file(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* True when the file holds exactly d[0..n). */
static bool file_is(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(n + 1);
	size_t k = f ? fread(b, 1, n + 1, f) : 0;
	bool same = f && k == n && !memcmp(b, d, n);

	if (f)
		fclose(f);
	free(b);
	return same;
}

static void md5_hex(const uint8_t *d, size_t n, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned ml;

	assert_int_equal(EVP_Digest(d, n, md, &ml, EVP_md5(), NULL), 1);
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_udwnfile(void **state)
{
	struct simh *h = *state;
	uint8_t d[3010];
	char p[300];

	fill_bytes(d, sizeof(d), 7);
	simh_send(h, "AT+UDWNFILE=\"a.bin\",3000");
	assert_int_equal(simh_wait_byte(h, '>', 2000), 0);
	simh_write(h, d, 3000);
	assert_int_equal(simh_expect(h, "OK", 3000), 0);
	assert_int_equal(simh_at(h, "AT+ULSTFILE=2,\"a.bin\"", "+ULSTFILE: 3000", "OK", NULL), 0);
	/* an existing file is appended to */
	simh_send(h, "AT+UDWNFILE=\"a.bin\",10,\"USER\"");
	assert_int_equal(simh_wait_byte(h, '>', 2000), 0);
	simh_write(h, d + 3000, 10);
	assert_int_equal(simh_expect(h, "OK", 3000), 0);
	assert_true(file_is(simh_path(h, "fs/USER/a.bin", p, sizeof(p)), d, sizeof(d)));
	assert_int_equal(simh_at(h, "AT+ULSTFILE=0", "+ULSTFILE: \"a.bin\"", "OK", NULL), 0);
	/* the FOAT area keeps its one package (FW app note Table 12) */
	simh_send(h, "AT+UDWNFILE=\"delta\",100,\"FOAT\"");
	assert_int_equal(simh_wait_byte(h, '>', 2000), 0);
	simh_write(h, d, 100);
	assert_int_equal(simh_expect(h, "OK", 3000), 0);
	assert_int_equal(simh_at(h, "AT+ULSTFILE=0,\"FOAT\"", "+ULSTFILE: \"updatePackage.bin\"",
	                         "OK", NULL),
	                 0);
	assert_int_equal(simh_at(h, "AT+UDELFILE=\"updatePackage.bin\"", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+ULSTFILE=0,\"FOAT\"", "+ULSTFILE: ", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UDELFILE=\"updatePackage.bin\"", "ERROR", NULL), 0);
	/* names that would leave the file system, and a tag that does not exist */
	assert_int_equal(simh_at(h, "AT+UDWNFILE=\"../x\",10", "ERROR", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UDWNFILE=\"x\",10,\"NOPE\"", "ERROR", NULL), 0);
	simh_send(h, "AT+UDWNFILE=\"b.txt\",5");
	assert_int_equal(simh_wait_byte(h, '>', 2000), 0);
	simh_write(h, "hello", 5);
	assert_int_equal(simh_expect(h, "OK", 3000), 0);
	assert_int_equal(
	        simh_at(h, "AT+URDFILE=\"b.txt\"", "+URDFILE: \"b.txt\",5,\"hello\"", "OK", NULL),
	        0);
}

static void test_http(void **state)
{
	struct simh *h = *state;
	static uint8_t d[100000];
	char p[300], md5[33], want[128];

	fill_bytes(d, sizeof(d), 11);
	write_file(simh_path(h, "www/pkg.bin", p, sizeof(p)), d, sizeof(d));
	md5_hex(d, sizeof(d), md5);
	/* no PDP context: the app note's failure URC, then +UHTTPER */
	assert_int_equal(simh_at(h, "AT+UHTTP=0,0,\"127.0.0.1\"", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UHTTPC=0,100,\"/pkg.bin\"", "OK", NULL), 0);
	assert_int_equal(simh_expect(h, "+UUHTTPCR: 0,100,0", 2000), 0);
	assert_int_equal(simh_at(h, "AT+UHTTPER=0", "+UHTTPER: 0,8,12", "OK", NULL), 0);
	assert_int_equal(msim_pdp_up(h), 0);
	assert_int_equal(simh_at(h, "AT+UHTTPC=0,100,\"/pkg.bin\"", "OK", NULL), 0);
	snprintf(want, sizeof(want), "+UUHTTPCR: 0,100,1,200,\"%s\"", md5);
	assert_int_equal(simh_expect(h, want, 3000), 0);
	assert_true(file_is(simh_path(h, "fs/FOAT/updatePackage.bin", p, sizeof(p)), d, sizeof(d)));
	assert_int_equal(simh_at(h, "AT+UHTTPC=0,100,\"/missing\"", "OK", NULL), 0);
	assert_int_equal(simh_expect(h, "+UUHTTPCR: 0,100,0", 2000), 0);
	assert_int_equal(simh_at(h, "AT+UHTTPER=0", "+UHTTPER: 0,10,404", "OK", NULL), 0);
	/* a GET keeps the response with its headers in a USER file */
	assert_int_equal(simh_at(h, "AT+UHTTPC=0,1,\"/pkg.bin\",\"resp\"", "OK", NULL), 0);
	assert_int_equal(simh_expect(h, "+UUHTTPCR: 0,1,1", 3000), 0);
	assert_int_equal(simh_at(h, "AT+ULSTFILE=2,\"resp\"", "+ULSTFILE: 100043", "OK", NULL), 0);
}

/* A reboot in the middle of a download forgets it: the profile is free again afterwards. */
static void test_http_reboot(void **state)
{
	struct simh *h = *state;
	static uint8_t d[400000];
	char p[300], md5[33], want[128];

	fill_bytes(d, sizeof(d), 5);
	write_file(simh_path(h, "www/big", p, sizeof(p)), d, sizeof(d)); /* 0.45 s at 1 MB/s */
	assert_int_equal(msim_pdp_up(h), 0);
	assert_int_equal(simh_at(h, "AT+UHTTP=0,0,\"127.0.0.1\"", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UHTTPC=0,100,\"/big\"", "OK", NULL), 0);
	simh_ctl(h, "reboot");
	assert_int_equal(simh_expect(h, "+UMSIM: READY", 3000), 0);
	assert_int_equal(simh_at(h, "ATE0", "ATE0", "OK", NULL), 0);
	assert_true(simh_quiet(h, 600)); /* no +UUHTTPCR from before the reboot */
	assert_int_equal(simh_at(h, "AT+ULSTFILE=0,\"FOAT\"", "+ULSTFILE: ", "OK", NULL), 0);
	assert_int_equal(msim_pdp_up(h), 0);
	assert_int_equal(simh_at(h, "AT+UHTTP=0,0,\"127.0.0.1\"", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UHTTPC=0,100,\"/big\"", "OK", NULL), 0);
	md5_hex(d, sizeof(d), md5);
	snprintf(want, sizeof(want), "+UUHTTPCR: 0,100,1,200,\"%s\"", md5);
	assert_int_equal(simh_expect(h, want, 3000), 0);
	assert_true(file_is(simh_path(h, "fs/FOAT/updatePackage.bin", p, sizeof(p)), d, sizeof(d)));
}

static void test_ftp(void **state)
{
	struct simh *h = *state;
	static uint8_t d[20000];
	char p[300], md5[33], want[128];

	fill_bytes(d, sizeof(d), 13);
	write_file(simh_path(h, "www/fw.upd", p, sizeof(p)), d, sizeof(d));
	md5_hex(d, sizeof(d), md5);
	assert_int_equal(simh_at(h, "AT+UFTP=1,\"127.0.0.1\"", "OK", NULL), 0);
	assert_int_equal(simh_at(h, "AT+UFTPC=1", "OK", NULL), 0);
	assert_int_equal(simh_expect(h, "+UUFTPCR: 1,0", 2000), 0);
	assert_int_equal(simh_at(h, "AT+UFTPER", "+UFTPER: 8,12", "OK", NULL), 0); /* Table 9 */
	assert_int_equal(msim_pdp_up(h), 0);
	assert_int_equal(simh_at(h, "AT+UFTPC=1", "OK", NULL), 0);
	assert_int_equal(simh_expect(h, "+UUFTPCR: 1,1", 2000), 0);
	assert_int_equal(simh_at(h, "AT+UFTPC=100,\"/fw.upd\"", "OK", NULL), 0);
	snprintf(want, sizeof(want), "+UUFTPCR: 100,1,\"%s\"", md5);
	assert_int_equal(simh_expect(h, want, 3000), 0);
	assert_true(file_is(simh_path(h, "fs/FOAT/updatePackage.bin", p, sizeof(p)), d, sizeof(d)));
	assert_int_equal(simh_at(h, "AT+UFTPC=4,\"fw.upd\",\"copy\"", "OK", NULL), 0);
	assert_int_equal(simh_expect(h, "+UUFTPCR: 4,1", 3000), 0);
	assert_true(file_is(simh_path(h, "fs/USER/copy", p, sizeof(p)), d, sizeof(d)));
}

int modem_sim_files(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test_setup_teardown(test_udwnfile, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_http, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_ftp, msim_setup, msim_teardown),
	        cmocka_unit_test_setup_teardown(test_http_reboot, msim_setup, msim_teardown),
	};
	return cmocka_run_group_tests_name("modem-sim.files", t, NULL, NULL);
}
