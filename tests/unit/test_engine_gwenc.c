/* The engine runner's gateway table (server/engine/src/engine_gwenc.c): found by hash, not by a
 * scan, at the size of a large fleet (5,000 gateways), with what each entry holds kept across the
 * table's growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine_gwenc.h"

#define FLEET 5000

/* Gateway ids as a vendor numbers them: one prefix, a serial number. */
static void gw_id(unsigned i, char id[CS_EUI_LEN])
{
	snprintf(id, CS_EUI_LEN, "0016c001%08x", i);
}

static void test_fleet(void **state)
{
	struct engine_gwenc t = {0};
	char id[CS_EUI_LEN];
	uint64_t before;

	(void)state;
	for (unsigned i = 0; i < FLEET; i++) {
		struct engine_gwenc_entry *g;

		gw_id(i, id);
		g = engine_gwenc_get(&t, id, true);
		assert_non_null(g);
		assert_string_equal(g->id, id);
		assert_false(g->known);
		g->known = true;
		g->json = i % 3 == 0;
		g->checked_ms = (int64_t)i * 1000;
	}
	assert_int_equal(t.n, FLEET);
	assert_true(t.cap >= 2 * FLEET);

	/* Every gateway found as it was left, in about one probe each (a scan: 2,500). */
	before = t.probes;
	for (unsigned i = 0; i < FLEET; i++) {
		struct engine_gwenc_entry *g;

		gw_id(i, id);
		g = engine_gwenc_get(&t, id, false);
		assert_non_null(g);
		assert_string_equal(g->id, id);
		assert_true(g->known);
		assert_int_equal(g->json, i % 3 == 0);
		assert_int_equal(g->checked_ms, (int64_t)i * 1000);
	}
	assert_true(t.probes - before < 2 * FLEET);
	/* Again with create: the same entries, none added. */
	gw_id(4321, id);
	assert_ptr_equal(engine_gwenc_get(&t, id, true), engine_gwenc_get(&t, id, false));
	assert_int_equal(t.n, FLEET);

	/* Gateways never seen: not found, and not added by looking. */
	before = t.probes;
	for (unsigned i = FLEET; i < 2 * FLEET; i++) {
		gw_id(i, id);
		assert_null(engine_gwenc_get(&t, id, false));
	}
	assert_true(t.probes - before < 4 * FLEET);
	assert_int_equal(t.n, FLEET);
	engine_gwenc_free(&t);
	assert_int_equal(t.n, 0);
	gw_id(1, id);
	assert_null(engine_gwenc_get(&t, id, false));
}

static void test_bad_ids(void **state)
{
	struct engine_gwenc t = {0};

	(void)state;
	assert_null(engine_gwenc_get(&t, "", true));
	assert_null(engine_gwenc_get(&t, "0016c001ff10d3f6a", true)); /* 17 characters */
	assert_int_equal(t.n, 0);
	assert_non_null(engine_gwenc_get(&t, "0016c001ff10d3f6", true));
	assert_null(engine_gwenc_get(&t, "0016c001ff10d3f7", false));
	assert_int_equal(t.n, 1);
	engine_gwenc_free(&t);
	engine_gwenc_free(&t); /* twice: still fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fleet),
	        cmocka_unit_test(test_bad_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
