/* The store-and-forward queue (gateway/src/gwq*.c): order, reopen, the bound and its drop count,
 * torn tails cut at every byte, a damaged cursor, the lock, the disk use per uplink, and a child
 * killed with SIGKILL while appending (the parent finds a whole, ordered prefix, never less than
 * the child saw appended, and nothing twice after consuming and reopening). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/gwq.h"

static char dir[64];
static int sync_each; /* the policy open_q opens with */

static void rm_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

static int setup(void **state)
{
	(void)state;
	sync_each = 0;
	snprintf(dir, sizeof(dir), "/tmp/gwq-test-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rm_dir();
	return 0;
}

static struct gwq *open_q(uint32_t seg, uint64_t max)
{
	struct gwq_opts o = {
	        .dir = dir, .seg_bytes = seg, .max_bytes = max, .sync_each = sync_each};
	struct gwq *q = NULL;
	assert_int_equal(gwq_open(&o, &q), FUOTA_OK);
	return q;
}

/* Record i's payload: i as text, repeated to a length that varies with i. */
static size_t payload_of(uint64_t i, uint8_t *buf)
{
	size_t n = (size_t)(i * 7 % 60);
	for (size_t k = 0; k < n; k++)
		buf[k] = (uint8_t)(i + k);
	return n;
}

/* Reads every waiting record, checks it is record first, first + 1, ... and pops it. */
static uint64_t drain(struct gwq *q, uint64_t first)
{
	uint8_t buf[256], want[256];
	uint64_t seq, n = 0;
	uint8_t kind;
	size_t len;
	int rc;

	while ((rc = gwq_peek(q, &kind, &seq, buf, sizeof(buf), &len)) == FUOTA_OK) {
		assert_int_equal(seq, first + n);
		assert_int_equal(kind, (uint8_t)(seq & 1) + 1);
		assert_int_equal(len, payload_of(seq, want));
		assert_memory_equal(buf, want, len);
		assert_int_equal(gwq_pop(q), FUOTA_OK);
		n++;
	}
	assert_int_equal(rc, FUOTA_ERR_NOT_FOUND);
	return n;
}

static void append_range(struct gwq *q, uint64_t from, uint64_t to)
{
	uint8_t buf[256];
	for (uint64_t i = from; i < to; i++)
		assert_int_equal(gwq_append(q, (uint8_t)(i & 1) + 1, buf, payload_of(i, buf)),
		                 FUOTA_OK);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void order_and_reopen(void)
{
	struct gwq *q = open_q(1024, 1 << 20);
	struct gwq_stats st;
	uint8_t buf[8];
	uint64_t seq;
	uint8_t kind;
	size_t len;

	assert_int_equal(gwq_peek(q, &kind, &seq, buf, sizeof(buf), &len), FUOTA_ERR_NOT_FOUND);
	assert_int_equal(gwq_pop(q), FUOTA_ERR_STATE);
	append_range(q, 0, 100);
	gwq_get_stats(q, &st);
	assert_int_equal(st.records, 100);
	assert_true(st.segments > 1);
	/* deliver 40, leave 60 */
	for (int i = 0; i < 40; i++) {
		uint8_t b[256];
		assert_int_equal(gwq_peek(q, &kind, &seq, b, sizeof(b), &len), FUOTA_OK);
		assert_int_equal(seq, i);
		assert_int_equal(gwq_pop(q), FUOTA_OK);
	}
	gwq_close(q);
	q = open_q(1024, 1 << 20);
	gwq_get_stats(q, &st);
	assert_int_equal(st.records, 60);
	assert_int_equal(st.next_seq, 100);
	/* a buffer too small is said so, and the record stays */
	if (gwq_peek(q, &kind, &seq, buf, 0, &len) == FUOTA_ERR_NO_SPACE)
		assert_int_equal(gwq_pop(q), FUOTA_ERR_STATE);
	assert_int_equal(drain(q, 40), 60);
	append_range(q, 100, 110);
	assert_int_equal(drain(q, 100), 10);
	gwq_close(q);
	q = open_q(1024, 1 << 20);
	gwq_get_stats(q, &st);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.segments, 1); /* delivered segments are deleted */
	/* a record larger than a segment is refused */
	assert_int_equal(gwq_append(q, 1, buf, 1024), FUOTA_ERR_INVALID_ARG);
	gwq_close(q);
	gwq_close(NULL);
}

static void test_order_and_reopen(void **state)
{
	(void)state;
	order_and_reopen();
	rm_dir();
	assert_int_equal(mkdir(dir, 0700), 0);
	sync_each = 1;
	double t0 = now_ms();
	order_and_reopen();
	/* 110 synced appends, 110 pops with a cursor save each, a few opens */
	print_message("gwq sync_each: 110 appends + 110 pops in %.0f ms\n", now_ms() - t0);
}

/* Without sync_each, a process that dies after popping (no gwq_sync, no close) has its pops
 * offered again: at-least-once. After gwq_sync they are not. */
static void test_pop_unsynced(void **state)
{
	(void)state;
	struct gwq *q = open_q(4096, 1 << 20);
	append_range(q, 0, 6);
	gwq_close(q);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gwq_opts o = {.dir = dir, .seg_bytes = 4096, .max_bytes = 1 << 20};
		uint8_t b[256], kind;
		uint64_t seq;
		size_t len;
		if (gwq_open(&o, &q) != FUOTA_OK)
			_exit(3);
		for (int i = 0; i < 3; i++)
			if (gwq_peek(q, &kind, &seq, b, sizeof(b), &len) != FUOTA_OK ||
			    gwq_pop(q) != FUOTA_OK)
				_exit(4);
		if (gwq_sync(q) != FUOTA_OK)
			_exit(5);
		for (int i = 0; i < 2; i++)
			if (gwq_peek(q, &kind, &seq, b, sizeof(b), &len) != FUOTA_OK ||
			    gwq_pop(q) != FUOTA_OK)
				_exit(4);
		_exit(0); /* no close */
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	q = open_q(4096, 1 << 20);
	assert_int_equal(drain(q, 3), 3); /* 3 and 4 again, then 5 */
	gwq_close(q);
}

static void test_bound(void **state)
{
	(void)state;
	/* 3 records of 50 bytes (67 framed) per 256-byte segment, 1024 bytes in all */
	struct gwq *q = open_q(256, 1024);
	struct gwq_stats st;
	uint8_t p[50] = {0}, b[64];
	uint64_t seq = 0, got = 0, last = 0;
	uint8_t kind;
	size_t len;

	for (int i = 0; i < 100; i++) {
		assert_int_equal(gwq_append(q, 1, p, sizeof(p)), FUOTA_OK);
		gwq_get_stats(q, &st);
		assert_true(st.bytes <= 1024);
	}
	gwq_get_stats(q, &st);
	assert_true(st.dropped > 0);
	assert_int_equal(st.dropped + st.records, 100);
	/* segments are dropped whole: at most 3 records at a time beyond what fits */
	assert_true(st.records >= 1024 / 67 - 3);
	gwq_close(q);
	q = open_q(256, 1024);
	gwq_get_stats(q, &st);
	assert_int_equal(st.dropped + st.records, 100); /* the count survives a restart */
	/* what is left is the newest, in order, ending with the last appended */
	while (gwq_peek(q, &kind, &seq, b, sizeof(b), &len) == FUOTA_OK) {
		if (got)
			assert_int_equal(seq, last + 1);
		last = seq;
		got++;
		assert_int_equal(gwq_pop(q), FUOTA_OK);
	}
	assert_int_equal(last, 99);
	assert_int_equal(got, st.records);
	gwq_close(q);
}

static char *seg_path(uint64_t first, char *p, size_t n)
{
	snprintf(p, n, "%s/%016llx.seg", dir, (unsigned long long)first);
	return p;
}

/* The last record torn at every byte: the ones before are whole, it is gone, appending goes on
 * with the next seq after the survivors. */
static void test_torn_tail(void **state)
{
	(void)state;
	char path[128];
	struct stat sb;
	uint8_t buf[256];
	size_t last_len = GWQ_REC_HDR + payload_of(4, buf);

	for (size_t cut = 0; cut < last_len; cut++) {
		rm_dir();
		assert_int_equal(mkdir(dir, 0700), 0);
		struct gwq *q = open_q(4096, 1 << 20);
		append_range(q, 0, 5);
		gwq_close(q);
		assert_int_equal(stat(seg_path(0, path, sizeof(path)), &sb), 0);
		assert_int_equal(truncate(path, sb.st_size - (off_t)last_len + (off_t)cut), 0);
		q = open_q(4096, 1 << 20);
		struct gwq_stats st;
		gwq_get_stats(q, &st);
		assert_int_equal(st.records, 4);
		assert_int_equal(st.next_seq, 4);
		append_range(q, 4, 6);
		assert_int_equal(drain(q, 0), 6);
		gwq_close(q);
	}
}

/* A flipped byte in the middle of the last segment: the records before it survive; the scan
 * stops there (a torn or damaged record is never delivered). */
static void test_bad_crc(void **state)
{
	(void)state;
	char path[128];
	uint8_t buf[256];
	struct gwq *q = open_q(4096, 1 << 20);
	append_range(q, 0, 5);
	gwq_close(q);
	off_t off = 0;
	for (uint64_t i = 0; i < 2; i++)
		off += GWQ_REC_HDR + (off_t)payload_of(i, buf);
	int fd = open(seg_path(0, path, sizeof(path)), O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, 1, off + 8), 1);
	buf[0] ^= 0x40; /* the seq of record 2 */
	assert_int_equal(pwrite(fd, buf, 1, off + 8), 1);
	close(fd);
	q = open_q(4096, 1 << 20);
	assert_int_equal(drain(q, 0), 2);
	gwq_close(q);
}

static void test_cursor_damaged(void **state)
{
	(void)state;
	char path[128];
	struct gwq *q = open_q(4096, 1 << 20);
	append_range(q, 0, 5);
	assert_int_equal(drain(q, 0), 5);
	append_range(q, 5, 8);
	gwq_close(q);
	snprintf(path, sizeof(path), "%s/cursor", dir);
	FILE *f = fopen(path, "r+");
	assert_non_null(f);
	fputc('x', f);
	fclose(f);
	/* at-least-once: what is still on disk is offered again */
	q = open_q(4096, 1 << 20);
	assert_int_equal(drain(q, 0), 8);
	gwq_close(q);
}

/* Batched sync and a power cut: the segment lost records the cursor had passed. Their seqs are
 * not reused, so a new record is not taken for a delivered one. */
static void test_cursor_beyond_data(void **state)
{
	(void)state;
	char path[128];
	struct gwq *q = open_q(4096, 1 << 20);
	append_range(q, 0, 5);
	assert_int_equal(drain(q, 0), 5);
	gwq_close(q);
	assert_int_equal(truncate(seg_path(0, path, sizeof(path)), 0), 0);
	q = open_q(4096, 1 << 20);
	append_range(q, 5, 7);
	assert_int_equal(drain(q, 5), 2);
	gwq_close(q);
}

/* Segments written with a larger seg_bytes than the queue is reopened with are read whole. */
/* A window of records in flight: gwq_peek_seq reads ahead across segments without moving the
 * head, and the head's gwq_peek / gwq_pop go on as before. */
static void test_peek_seq(void **state)
{
	(void)state;
	struct gwq *q = open_q(1024, 1 << 20);
	uint8_t buf[256], want[256], kind;
	uint64_t seq;
	size_t len;

	append_range(q, 0, 100);
	for (uint64_t s = 0; s < 100; s += 7) {
		assert_int_equal(gwq_peek_seq(q, s, &kind, buf, sizeof(buf), &len), FUOTA_OK);
		assert_int_equal(len, payload_of(s, want));
		assert_memory_equal(buf, want, len);
		assert_int_equal(kind, (uint8_t)(s & 1) + 1);
	}
	assert_int_equal(gwq_peek_seq(q, 100, &kind, buf, sizeof(buf), &len), FUOTA_ERR_NOT_FOUND);
	/* the head did not move */
	assert_int_equal(gwq_peek(q, &kind, &seq, buf, sizeof(buf), &len), FUOTA_OK);
	assert_int_equal(seq, 0);
	assert_int_equal(gwq_pop(q), FUOTA_OK);
	assert_int_equal(gwq_peek_seq(q, 0, &kind, buf, sizeof(buf), &len), FUOTA_ERR_STATE);
	assert_int_equal(gwq_peek_seq(q, 99, &kind, buf, sizeof(buf), &len), FUOTA_OK);
	assert_int_equal(len, payload_of(99, want));
	assert_int_equal(drain(q, 1), 99);
	gwq_close(q);
}

static void test_smaller_segments(void **state)
{
	(void)state;
	struct gwq *q = open_q(1 << 20, UINT64_C(1) << 30);
	append_range(q, 0, 3000);
	gwq_close(q);
	q = open_q(4096, UINT64_C(1) << 30);
	append_range(q, 3000, 3100);
	assert_int_equal(drain(q, 0), 3100);
	gwq_close(q);
}

/* Files of other names in the directory are left alone, even ones strtoull would take. */
static void test_foreign_files(void **state)
{
	(void)state;
	char path[128];
	const char *names[] = {"0x00000000000001.seg", "+000000000000001.seg", "README",
	                       "000000000000000G.seg", "00000000000000001.seg"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs("not a segment", f);
		fclose(f);
	}
	struct gwq *q = open_q(4096, 1 << 20);
	append_range(q, 0, 3);
	assert_int_equal(drain(q, 0), 3);
	gwq_close(q);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		assert_int_equal(unlink(path), 0);
	}
}

static void test_lock(void **state)
{
	(void)state;
	struct gwq *q = open_q(4096, 1 << 20), *q2 = NULL;
	struct gwq_opts o = {.dir = dir, .seg_bytes = 4096, .max_bytes = 1 << 20};
	assert_int_equal(gwq_open(&o, &q2), FUOTA_ERR_CONFLICT);
	assert_null(q2);
	o.max_bytes = 4096;
	assert_int_equal(gwq_open(&o, &q2), FUOTA_ERR_INVALID_ARG);
	gwq_close(q);
}

/* Disk use per uplink: a PUSH_DATA rxpk as the forwarder writes it for a 23-byte PHYPayload. */
static void test_disk_use(void **state)
{
	(void)state;
	const char *rxpk =
	        "{\"tmst\":3512348611,\"chan\":2,\"rfch\":0,\"freq\":868.1,\"stat\":1,\"modu\":"
	        "\"LORA\","
	        "\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"rssi\":-35,\"lsnr\":5.1,\"size\":23,"
	        "\"data\":\"QAEAAAGAAQABAAECAwQFBgcICaGyw9Q=\"}";
	const int n = 10000;
	struct gwq *q = open_q(1 << 20, UINT64_C(1) << 30);
	struct gwq_stats st;
	size_t len = strlen(rxpk);
	for (int i = 0; i < n; i++)
		assert_int_equal(gwq_append(q, 1, rxpk, len), FUOTA_OK);
	gwq_get_stats(q, &st);
	assert_int_equal(st.bytes, (uint64_t)n * (GWQ_REC_HDR + len));
	print_message("gwq disk use: %zu-byte rxpk -> %.1f bytes per uplink on disk (%llu bytes, "
	              "%llu segments for %d uplinks)\n",
	              len, (double)st.bytes / n, (unsigned long long)st.bytes,
	              (unsigned long long)st.segments, n);
	gwq_close(q);
}

/* The child appends records 0, 1, ... with batched sync and counts each one gwq_append returned
 * in shared memory; it is killed at a random moment (0-40 ms). */
static void sigkill_round(unsigned seed, uint32_t seg)
{
	volatile uint64_t *done = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE,
	                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(done != MAP_FAILED);
	*done = 0;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gwq_opts o = {.dir = dir, .seg_bytes = seg, .max_bytes = UINT64_C(1) << 30};
		struct gwq *q = NULL;
		uint8_t buf[256];
		if (gwq_open(&o, &q) != FUOTA_OK)
			_exit(3);
		for (uint64_t i = 0;; i++) {
			if (gwq_append(q, (uint8_t)(i & 1) + 1, buf, payload_of(i, buf)) !=
			    FUOTA_OK)
				_exit(4);
			*done = i + 1;
		}
	}
	struct timespec ts = {0, (long)(rand_r(&seed) % 40000) * 1000};
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	uint64_t appended = *done;
	munmap((void *)done, sizeof(uint64_t));

	struct gwq *q = open_q(seg, UINT64_C(1) << 30);
	uint64_t found = drain(q, 0);
	/* every append that returned is there (one more may have been written before the count) */
	assert_true(found >= appended && found <= appended + 1);
	gwq_close(q);
	q = open_q(seg, UINT64_C(1) << 30);
	struct gwq_stats st;
	gwq_get_stats(q, &st);
	assert_int_equal(st.records, 0); /* nothing delivered twice */
	assert_int_equal(st.next_seq, found);
	gwq_close(q);
	print_message("sigkill round: %llu appended, %llu found\n", (unsigned long long)appended,
	              (unsigned long long)found);
}

static void test_sigkill(void **state)
{
	(void)state;
	for (unsigned r = 0; r < 12; r++) {
		rm_dir();
		assert_int_equal(mkdir(dir, 0700), 0);
		/* small segments: the kill often lands in a rotation's fsync; large ones:
		 * mid-append */
		sigkill_round((unsigned)time(NULL) * 31u + r, r % 2 ? 16384 : 1u << 20);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_order_and_reopen, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pop_unsynced, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_crc, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cursor_damaged, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cursor_beyond_data, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_smaller_segments, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_peek_seq, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_foreign_files, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_disk_use, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sigkill, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
