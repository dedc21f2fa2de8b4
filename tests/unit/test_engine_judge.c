/* How the engine judges a device from its FragSessionStatusAns, by its stack
 * (server/policy/include/fuota/engine_judge.h, fuota/dev_stack.h; issue 16). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/dev_stack.h"
#include "fuota/engine_judge.h"
#include "fuota/err.h"
#include "fuota/frag_cmd.h"

static void test_stack_names(void **state)
{
	enum dev_stack s = DEV_STACK_LBM;

	(void)state;
	assert_int_equal(dev_stack_parse(NULL, &s), 0);
	assert_int_equal(s, DEV_STACK_TS004);
	assert_int_equal(dev_stack_parse("loramac-node", &s), 0);
	assert_int_equal(s, DEV_STACK_LORAMAC_NODE);
	assert_string_equal(dev_stack_name(s), "loramac-node");
	assert_int_equal(dev_stack_parse("lbm", &s), 0);
	assert_int_equal(s, DEV_STACK_LBM);
	assert_int_equal(dev_stack_parse("LoRaMac-node", &s), -1);
	assert_int_equal(s, DEV_STACK_LBM); /* unchanged */
	assert_int_equal(dev_stack_parse("zephyr", &s), -1);
	assert_string_equal(dev_stack_name((enum dev_stack)42), "ts004");
	/* The memory limit: the device's own, else its stack's default build, else unknown. */
	assert_int_equal(dev_stack_frag_limit(DEV_STACK_TS004, 0), 0);
	assert_int_equal(dev_stack_frag_limit(DEV_STACK_LBM, 0), 100);
	assert_int_equal(dev_stack_frag_limit(DEV_STACK_LBM, 400), 400);
	assert_int_equal(dev_stack_frag_limit(DEV_STACK_LORAMAC_NODE, 21), 21);
}

/* Decodes an uplink FragSessionStatusAns from its bytes, as the engine gets it. */
static struct frag_status_ans ans_of(const uint8_t *b, size_t len, enum frag_version v)
{
	struct frag_cmd_iter it;
	struct frag_cmd cmd;

	frag_cmd_iter_init(&it, b, len, v, FRAG_UP, 0);
	assert_true(frag_cmd_iter_more(&it));
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
	assert_int_equal(cmd.type, FRAG_CMD_SESSION_STATUS_ANS);
	return cmd.u.status_ans;
}

/* A judgement with what fuotad knows: M, frames sent, block reported, after the session. */
static void judge(enum dev_stack st, uint32_t m, uint32_t sent, bool block_ok, bool final,
                  const struct frag_status_ans *a, struct engine_judgement *j)
{
	struct engine_judge_in in = {
	        .nb_frag = m, .sent = sent, .block_ok = block_ok, .final = final};

	engine_status_judge(st, &in, a, j);
}

static void test_loramac_node(void **state)
{
	/* A LoRaMac-node device of a 9-fragment session that lost fragment 2 and rebuilt the
	 * image with the first parity row (N = 10), of 13 frames sent: `01 0a00 01 00`. */
	static const uint8_t rebuilt[] = {0x01, 0x0a, 0x00, 0x01, 0x00};
	struct frag_status_ans a = ans_of(rebuilt, sizeof(rebuilt), FRAG_V1);
	struct engine_judgement j;
	char why[256];

	(void)state;
	/* The TS004 reading calls it short of one fragment... */
	judge(DEV_STACK_TS004, 9, 13, false, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_SHORT);
	engine_judgement_reason(&j, why, sizeof(why));
	assert_string_equal(why, "FragSessionStatusAns: 1 fragments missing");
	/* ...LoRaMac-node's: counter 10, one lost: the 9 frames it can have may have filled the
	 * gap and the counter stopped before the 13th, but a device that heard nothing after
	 * frame 10 answers the same: unconfirmed, in a round as after the session. */
	for (int final = 0; final < 2; final++) {
		judge(DEV_STACK_LORAMAC_NODE, 9, 13, false, final, &a, &j);
		assert_int_equal(j.verdict, ENGINE_VERDICT_UNCONFIRMED);
		assert_false(j.counter_running);
	}
	engine_judgement_reason(&j, why, sizeof(why));
	assert_non_null(strstr(why, "unconfirmed: FragSessionStatusAns (loramac-node) counter 10, "
	                            "1 uncoded fragments lost, 13 frames sent"));
	/* The same answer in a 10-fragment session: it can hold 9 at most, one short. */
	judge(DEV_STACK_LORAMAC_NODE, 10, 13, false, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_SHORT);
	assert_int_equal(j.status.received, 9);
	assert_int_equal(j.status.missing, 1);
	assert_int_equal(engine_status_need(10, &j.status), 1);
	/* Its counter at the last frame sent (10 of 10): maybe still counting. A round sends it
	 * one more row; after the session it is not provably short. */
	judge(DEV_STACK_LORAMAC_NODE, 9, 10, false, false, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_SHORT);
	assert_true(j.counter_running);
	assert_int_equal(engine_status_need(9, &j.status), 1);
	judge(DEV_STACK_LORAMAC_NODE, 9, 10, false, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_UNCONFIRMED);
	assert_true(j.counter_running);
	/* Frames sent unknown (0): read as still counting. */
	judge(DEV_STACK_LORAMAC_NODE, 9, 0, false, false, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_SHORT);
}

static void test_loramac_node_cases(void **state)
{
	static const struct {
		uint32_t m, sent, counter, lost;
		enum engine_verdict verdict;
		uint32_t received, missing;
	} cases[] = {
	        /* Lossless: done at N = M, nothing lost. */
	        {20, 24, 20, 0, ENGINE_VERDICT_DONE, 0, 0},
	        /* Nothing lost, counter past M (a build before LoRaMac-node PR #1353 needs one
	         * parity row more): every uncoded fragment arrived, done. */
	        {20, 24, 21, 0, ENGINE_VERDICT_DONE, 0, 0},
	        /* It lost the last 5 uncoded fragments and saw nothing after: MissingFrag 0,
	         * which the TS004 reading would call done. */
	        {20, 24, 15, 0, ENGINE_VERDICT_SHORT, 15, 5},
	        /* 3 lost, the counter at 22: 19 frames at most, one short. */
	        {20, 24, 22, 3, ENGINE_VERDICT_SHORT, 19, 1},
	        /* 3 lost, counter 23 of 24 sent: may have filled them, may have left. */
	        {20, 24, 23, 3, ENGINE_VERDICT_UNCONFIRMED, 0, 0},
	        /* Issue 16's case: M = 10, 20 frames sent, 5-7 and 12-14 lost, nothing heard
	         * after 15: it holds 9 frames, c - L says 12. Not done. */
	        {10, 20, 15, 3, ENGINE_VERDICT_UNCONFIRMED, 0, 0},
	        /* Far behind: need capped at 255 for MissingFrag's 8 bits. */
	        {600, 700, 100, 0, ENGINE_VERDICT_SHORT, 100, 255},
	        /* A nonsense MissingFrag above the counter: read as counter - 1. */
	        {20, 24, 3, 9, ENGINE_VERDICT_SHORT, 1, 19},
	        /* Nothing seen at all. */
	        {20, 24, 0, 0, ENGINE_VERDICT_SHORT, 0, 20},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frag_status_ans a = {.nb_received = (uint16_t)cases[i].counter,
		                            .missing_frag = (uint8_t)cases[i].lost};
		struct engine_judgement j;

		judge(DEV_STACK_LORAMAC_NODE, cases[i].m, cases[i].sent, false, true, &a, &j);
		assert_int_equal(j.verdict, cases[i].verdict);
		if (j.verdict == ENGINE_VERDICT_SHORT) {
			assert_int_equal(j.status.received, cases[i].received);
			assert_int_equal(j.status.missing, cases[i].missing);
		}
	}
}

static void test_errors(void **state)
{
	struct frag_status_ans a;
	struct engine_judgement j;
	char why[256];

	(void)state;
	/* NotEnoughMatrixMemory fails whatever the stack. */
	memset(&a, 0, sizeof(a));
	a.nb_received = 30;
	a.missing_frag = 6;
	a.memory_error = true;
	for (int s = DEV_STACK_TS004; s <= DEV_STACK_LBM; s++) {
		judge((enum dev_stack)s, 20, 24, false, true, &a, &j);
		assert_int_equal(j.verdict, ENGINE_VERDICT_MEMORY);
	}
	engine_judgement_reason(&j, why, sizeof(why));
	assert_string_equal(why, "FragSessionStatusAns: NotEnoughMatrixMemory");
	/* MICError counts once rebuilt (MissingFrag 0); with fragments missing it is short. */
	memset(&a, 0, sizeof(a));
	a.nb_received = 20;
	a.mic_error = true;
	judge(DEV_STACK_TS004, 20, 24, false, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_MIC_ERROR);
	a.missing_frag = 2;
	judge(DEV_STACK_TS004, 20, 24, false, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_SHORT);
	assert_int_equal(j.status.missing, 2);
	memset(&a, 0, sizeof(a));
	a.session_not_exist = true;
	judge(DEV_STACK_TS004, 20, 24, false, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_NO_SESSION);
	memset(&a, 0, sizeof(a));
	a.session_not_exist = true;
	judge(DEV_STACK_TS004, 20, 24, false, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_NO_SESSION);
	engine_judgement_reason(&j, why, sizeof(why));
	assert_string_equal(why, "FragSessionStatusAns: SessionDoesNotExist");
}

/* MissingFrag 0 is a rebuilt image only from a device that counts M fragments or more. */
static void test_missing_zero(void **state)
{
	/* v1 `01 0c00 00 00`: 12 received, MissingFrag 0, in a 20-fragment session. */
	static const uint8_t few[] = {0x01, 0x0c, 0x00, 0x00, 0x00};
	struct frag_status_ans a = ans_of(few, sizeof(few), FRAG_V1);
	struct engine_judgement j;

	(void)state;
	for (int s = DEV_STACK_TS004; s <= DEV_STACK_LBM; s++) {
		judge((enum dev_stack)s, 20, 24, false, true, &a, &j);
		assert_int_equal(j.verdict, ENGINE_VERDICT_SHORT);
		assert_int_equal(j.status.received, 12);
		assert_int_equal(j.status.missing, 8);
		judge((enum dev_stack)s, 20, 24, false, false, &a, &j); /* in a round too */
		assert_int_equal(j.verdict, ENGINE_VERDICT_SHORT);
	}
	/* 20 of 20: done. */
	a.nb_received = 20;
	judge(DEV_STACK_TS004, 20, 24, false, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_DONE);
	/* A round judged it done; the answer after the session says MICError: that one counts
	 * (only a block report is final, struct engine_judge_in.block_ok). */
	a.mic_error = true;
	judge(DEV_STACK_TS004, 20, 24, false, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_MIC_ERROR);
}

static void test_block_reported(void **state)
{
	/* LoRa Basics Modem v2 after a lossless 18-fragment session: Status 0, NbFragReceived
	 * 18, MissingFrag 1 (`0100120001`), after its FragDataBlockReceivedReq without MICError.
	 */
	static const uint8_t lbm[] = {0x01, 0x00, 0x12, 0x00, 0x01};
	struct frag_status_ans a = ans_of(lbm, sizeof(lbm), FRAG_V2);
	struct engine_judgement j;

	(void)state;
	assert_int_equal(a.nb_received, 18);
	assert_int_equal(a.missing_frag, 1);
	judge(DEV_STACK_LBM, 18, 20, false, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_SHORT); /* unread, it looks short */
	judge(DEV_STACK_LBM, 18, 20, true, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_DONE);
	judge(DEV_STACK_TS004, 18, 20, true, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_DONE);
	/* No later answer fails it: not even an error bit. */
	a.memory_error = true;
	a.session_not_exist = true;
	judge(DEV_STACK_TS004, 18, 20, true, true, &a, &j);
	assert_int_equal(j.verdict, ENGINE_VERDICT_DONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_stack_names),        cmocka_unit_test(test_loramac_node),
	        cmocka_unit_test(test_loramac_node_cases), cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_missing_zero),       cmocka_unit_test(test_block_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
