/* The store's pool against a real PostgreSQL: batches (store_batch_begin ... _end), the
 * transaction the job engine runs a drained batch of inbound messages in.
 *
 *   items              a failing statement undoes its item only; the others commit together,
 *                      and nothing is visible to another connection before the commit
 *   inner transaction  a store function's own BEGIN ... COMMIT is a savepoint of the batch (its
 *                      COMMIT does not commit the batch); one that returns without its COMMIT
 *                      is undone, its item goes on
 *   failed item        an item whose statement failed is undone whole at its end, work it did
 *                      after the failure included (its caller does not act on it)
 *   inner rollback     a store function's own ROLLBACK undoes its work only, not the batch's
 *   savepoints         a batch stops taking items before it holds more subtransactions than
 *                      PostgreSQL caches (64)
 *   reset              the batch's connection killed mid-batch: the batch reports it, takes
 *                      no more, runs nothing more, and the pool's next call works again
 *
 * The pool's sessions (prepared statements, JIT) are itest_store_session's.
 * usage: itest_store_batch FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "fuota/err.h"
#include "fuota/store.h"
#include "itest.h"
/* store_acquire: the batch's connection, to end its server session. */
#include "../../server/store/src/store_int.h"

static struct itest_store T;

static void test_items(void **state)
{
	char *json = NULL;
	uint8_t hash[32] = {1, 2, 3};

	(void)state;
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	assert_int_equal(store_batch_begin(T.s), FUOTA_ERR_STATE);

	store_batch_item(T.s);
	assert_true(itest_tenant(T.s, "batch-a") > 0);
	assert_false(store_batch_item_failed(T.s));

	/* The name's CHECK fails: this item is undone, the batch goes on. */
	store_batch_item(T.s);
	assert_true(itest_tenant(T.s, "batch-b") > 0);
	assert_int_equal(itest_tenant(T.s, ""), -1);
	assert_true(store_batch_item_failed(T.s));

	store_batch_item(T.s);
	assert_false(store_batch_item_failed(T.s));
	assert_true(itest_tenant(T.s, "batch-c") > 0);
	assert_false(store_batch_item_failed(T.s));

	/* A foreign key violation (no such tenant). */
	store_batch_item(T.s);
	assert_int_not_equal(store_token_create(T.s, 999999, "t", false, hash, &json), FUOTA_OK);
	assert_true(store_batch_item_failed(T.s));

	/* An item without database work costs nothing and fails nothing. */
	store_batch_item(T.s);
	assert_false(store_batch_item_failed(T.s));

	assert_int_equal(
	        itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name LIKE 'batch-%'"), 0);
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	assert_int_equal(
	        itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name LIKE 'batch-%'"), 2);
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name = 'batch-a'"),
	                 1);
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name = 'batch-b'"),
	                 0);
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name = 'batch-c'"),
	                 1);
	assert_int_equal(store_batch_end(T.s), FUOTA_ERR_STATE);

	/* Outside a batch, every call commits on its own again. */
	assert_true(itest_tenant(T.s, "batch-d") > 0);
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name = 'batch-d'"),
	                 1);
}

static void test_inner_transaction(void **state)
{
	static const uint8_t fw[4] = {1, 2, 3, 4};
	char *json = NULL;
	int64_t t;

	(void)state;
	t = itest_tenant(T.s, "inner");
	assert_true(t > 0);
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	store_batch_item(T.s);
	assert_int_equal(store_firmware_create(T.s, t, "fw-1", fw, sizeof(fw), &json), FUOTA_OK);
	free(json);
	json = NULL;
	/* BEGIN, a row lookup that finds nothing, and a return without COMMIT. */
	assert_int_equal(store_firmware_delete(T.s, t, 987654), FUOTA_ERR_NOT_FOUND);
	assert_false(store_batch_item_failed(T.s));
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM firmware WHERE name = 'fw-1'"),
	                 0);
	store_batch_item(T.s);
	assert_int_equal(store_firmware_create(T.s, t, "fw-2", fw, sizeof(fw), &json), FUOTA_OK);
	free(json);
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM firmware WHERE name LIKE 'fw-%'"),
	                 0);
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM firmware WHERE name LIKE 'fw-%'"),
	                 2);
}

static long name_count(const char *name)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tenant WHERE name = '%s'", name);
	return itest_count(T.raw, sql);
}

static void test_failed_item_undone(void **state)
{
	(void)state;
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	store_batch_item(T.s);
	assert_true(itest_tenant(T.s, "undo-a") > 0);

	/* The CHECK fails first; the item's caller goes on and writes more, but the item is not
	 * acted on, so nothing of it may be committed. */
	store_batch_item(T.s);
	assert_int_equal(itest_tenant(T.s, ""), -1);
	assert_true(itest_tenant(T.s, "undo-b") > 0);
	assert_true(store_batch_item_failed(T.s));

	store_batch_item(T.s);
	assert_true(itest_tenant(T.s, "undo-c") > 0);
	assert_false(store_batch_item_failed(T.s));

	/* The batch's last item fails the same way. */
	store_batch_item(T.s);
	assert_int_equal(itest_tenant(T.s, ""), -1);
	assert_true(itest_tenant(T.s, "undo-d") > 0);
	assert_true(store_batch_item_failed(T.s));
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);

	assert_int_equal(name_count("undo-a"), 1);
	assert_int_equal(name_count("undo-b"), 0);
	assert_int_equal(name_count("undo-c"), 1);
	assert_int_equal(name_count("undo-d"), 0);
}

static void test_inner_rollback(void **state)
{
	(void)state;
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	store_batch_item(T.s);
	assert_true(itest_tenant(T.s, "rb-a") > 0);
	store_batch_item(T.s);
	assert_true(itest_tenant(T.s, "rb-b") > 0);
	assert_int_equal(itest_own_transaction(T.s, "rb-gone", "ROLLBACK"), 0);
	assert_false(store_batch_item_failed(T.s));
	store_batch_item(T.s);
	assert_true(itest_tenant(T.s, "rb-c") > 0);
	/* Still one uncommitted transaction: a ROLLBACK that ended it would have let rb-c
	 * commit on its own. */
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name LIKE 'rb-%'"),
	                 0);
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	assert_int_equal(name_count("rb-a"), 1);
	assert_int_equal(name_count("rb-b"), 1);
	assert_int_equal(name_count("rb-c"), 1);
	assert_int_equal(name_count("rb-gone"), 0);
}

static void test_savepoints(void **state)
{
	char name[32];
	int items = 0;

	(void)state;
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	/* Items with no database work take none. */
	for (int i = 0; i < 100; i++)
		store_batch_item(T.s);
	assert_true(store_batch_more(T.s));
	/* Each of these takes two (its item's and its function's). */
	while (store_batch_more(T.s) && items < 64) {
		store_batch_item(T.s);
		snprintf(name, sizeof(name), "sp-%d", items++);
		assert_int_equal(itest_own_transaction(T.s, name, "COMMIT"), 0);
		assert_false(store_batch_item_failed(T.s));
	}
	assert_int_equal(items, 24);
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name LIKE 'sp-%'"),
	                 24);
}

static void test_reset(void **state)
{
	char sql[128];
	PGconn *c;
	int pid;

	(void)state;
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	store_batch_item(T.s);
	assert_true(itest_tenant(T.s, "reset-a") > 0);
	c = store_acquire(T.s);
	pid = PQbackendPID(c);
	store_release(T.s, c);
	assert_true(store_batch_more(T.s));

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_terminate_backend(%d)", pid);
	assert_int_equal(itest_count(T.raw, sql), 1);
	store_batch_item(T.s);
	assert_int_equal(itest_tenant(T.s, "reset-b"), -1);
	assert_true(store_batch_item_failed(T.s));
	assert_false(store_batch_more(T.s));
	store_batch_item(T.s);
	assert_int_equal(itest_tenant(T.s, "reset-c"), -1);
	assert_true(store_batch_item_failed(T.s));
	assert_int_equal(store_batch_end(T.s), FUOTA_ERR_IO);
	assert_int_equal(
	        itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name LIKE 'reset-%'"), 0);

	/* The connection is back (reset when the batch gave it back), its statements prepared
	 * again on the new server session: in a batch and out of one. */
	assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
	store_batch_item(T.s);
	assert_true(itest_tenant(T.s, "reset-d") > 0);
	assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	for (int i = 0; i < 3; i++) {
		snprintf(sql, sizeof(sql), "reset-e%d", i);
		assert_true(itest_tenant(T.s, sql) > 0);
	}
	assert_int_equal(
	        itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name LIKE 'reset-%'"), 4);
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_items),
	        cmocka_unit_test(test_inner_transaction),
	        cmocka_unit_test(test_failed_item_undone),
	        cmocka_unit_test(test_inner_rollback),
	        cmocka_unit_test(test_savepoints),
	        cmocka_unit_test(test_reset),
	};
	static const struct itest_store_prog p = {"itest_store_batch", 2, tests,
	                                          sizeof(tests) / sizeof(tests[0]), NULL};

	return itest_store_main(argc, argv, &T, &p);
}
