/* An image carried over several fragmentation sessions (issue 14, fuota/plan_parts.h), the job
 * engine against a real PostgreSQL with fuota-sim's device model (which assembles the parts by
 * their Descriptor and checks the whole image's SHA-256 after the last one):
 *
 *   three parts         the devices' max_frags (7) splits the 20-fragment image into parts of
 *                       7, 7 and 6 (plan_compute): each part a session of its own with its
 *                       Descriptor, the group set up once, every device rebuilds the whole image
 *   part lost           a device out of range from part 2 on fails, its reason naming part 2;
 *                       an LBM device is not set up (its stack does not assemble parts); the
 *                       others end done
 *   restart             an engine dies mid-part 2; another takes the job over from job.part
 *                       and every device ends done with the whole image
 *
 * The helpers are in itest_engine_lib.c.
 * usage: itest_engine_parts FUOTAD SERVICES_ENV WORKDIR */
#include "fuota/frag_part.h"
#include "itest_engine_lib.h"

#define PART_LIMIT 7u

/* A job of devices first..first+count-1 (parity 2 per part) whose plan splits the image for
 * devices of at most PART_LIMIT fragments, as the API's plan does; its plan's parts. */
static int64_t parts_job(size_t first, size_t count, unsigned *parts)
{
	int64_t job = add_job(first, count, 2);
	struct job_params p;
	struct job_plan pl;
	struct api_error e;
	char sql[256];

	job_params_init(&p);
	snprintf(p.region, sizeof(p.region), "EU868");
	p.data_rate = 5;
	p.frequency_hz = 869525000;
	p.fragment_size = FRAG_SIZE;
	p.redundancy_frames = 2;
	p.multicast_class = 'C';
	p.unicast_timeout_s = 5;
	p.unicast_attempts = 3;
	p.part_frag_limit = PART_LIMIT;
	assert_int_equal(plan_compute(&p, FW_SIZE, &pl, &e), FUOTA_OK);
	snprintf(sql, sizeof(sql),
	         "UPDATE job SET plan = jsonb_build_object('parts', %u, 'part_fragments', %u) "
	         "WHERE id = %lld",
	         pl.parts, pl.part_frags, (long long)job);
	db_exec(sql);
	*parts = pl.parts;
	return job;
}

static void assert_parts(const struct tdev *d, unsigned parts)
{
	assert_image(d);
	assert_int_equal(d->m.rep.parts_expected, parts);
	assert_int_equal(d->m.rep.parts_received, parts);
	/* one group for every part, one session setup per part (and not more) */
	assert_int_equal(d->m.rep.counts.mc_setup, 1);
	assert_int_equal(d->m.rep.counts.frag_setup, parts);
}

static void test_three_parts(void **state)
{
	struct engine *e;
	unsigned parts = 0;
	int64_t job;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("00000000000007a1", 0x41, 2);
	add_dev("00000000000007a2", 0x42, 2);
	add_dev("00000000000007a3", 0x43, 1);
	job = parts_job(0, 3, &parts);
	assert_int_equal(parts, 3);
	assert_int_equal(db_count("SELECT (plan->>'part_fragments')::int FROM job"), PART_LIMIT);
	e = new_engine("itest-a", false);
	run(e, job, 6000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_all_done(job, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_parts(&T.devs[i], 3);
		/* the last Descriptor: part 3 of 3, F = 7 */
		assert_int_equal(T.devs[i].setup.descriptor[0], 2);
		assert_int_equal(T.devs[i].setup.descriptor[1], 3);
		assert_int_equal(T.devs[i].setup.descriptor[2], PART_LIMIT);
		assert_int_equal(T.devs[i].setup.nb_frag, FW_SIZE / FRAG_SIZE - 2 * PART_LIMIT);
	}
	assert_fcnts_increase();
	/* Two sessions (v1 and v2) in each part: the plan says their frames over every part
	 * (7 + 2, 7 + 2 and 6 + 2 each) and a TimeOut per part. */
	assert_int_equal(db_count("SELECT (plan->>'sessions')::int FROM job"), 2);
	assert_int_equal(db_count("SELECT (plan->>'total_frames')::int FROM job"), 2 * 26);
	assert_int_equal(db_count("SELECT (plan->>'estimated_duration_s')::bigint FROM job"),
	                 3 * (1ll << db_count("SELECT (plan->>'multicast_timeout_exp')::int "
	                                      "FROM job")));
	assert_int_equal(db_count("SELECT part FROM job"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE part = 2"), 3);
	assert_int_equal(
	        db_count("SELECT count(*) FROM event WHERE kind = 'log' AND data ? 'part'"), 2);
	engine_destroy(e);
}

static void test_part_lost(void **state)
{
	struct engine *e;
	unsigned parts = 0;
	int64_t job;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("00000000000007b1", 0x51, 2);
	add_dev("00000000000007b2", 0x52, 2);
	add_dev("00000000000007b3", 0x53, 2);
	add_dev("00000000000007b4", 0x54, 2);
	/* Its stack's own application would write each part over the first: not set up. */
	set_stack("00000000000007b4", "lbm");
	job = parts_job(0, 4, &parts);
	e = new_engine("itest-a", false);
	run_to_part(e, job, 1, "setup");
	T.devs[2].mute = true; /* out of range from part 2 on */
	run(e, job, 6000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_parts(&T.devs[0], 3);
	assert_parts(&T.devs[1], 3);
	assert_false(T.devs[2].m.rep.sha_checked);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'done'"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'failed' AND "
	                          "failure_reason LIKE 'part 2 of 3: %' AND part = 1"),
	                 1);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'failed' AND "
	                          "failure_reason LIKE 'part 1 of 3: FragSessionSetupReq not "
	                          "sent: the image is in 3 parts and a lbm device does not "
	                          "assemble parts%' AND part = 0"),
	                 1);
	assert_int_equal(T.devs[3].m.rep.counts.frag_setup, 0);
	engine_destroy(e);
}

static void test_restart_mid_part(void **state)
{
	struct engine *a, *b;
	unsigned parts = 0;
	int64_t job;
	size_t before;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("00000000000007c1", 0x61, 2);
	add_dev("00000000000007c2", 0x62, 1);
	job = parts_job(0, 2, &parts);
	a = new_engine("itest-a", false);
	run_to_part(a, job, 1, "transmit");
	before = T.n_fcnts;
	run(a, job, 6000, before + 3);
	/* Engine a dies mid-part 2 (three of its frames out); b takes the job over. */
	lease_runs_out();
	b = new_engine("itest-b", false);
	run(b, job, 6000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_all_done(job, 2);
	assert_parts(&T.devs[0], 3);
	assert_parts(&T.devs[1], 3);
	assert_fcnts_increase();
	engine_destroy(a);
	engine_destroy(b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_three_parts),
	        cmocka_unit_test(test_part_lost),
	        cmocka_unit_test(test_restart_mid_part),
	};

	return itest_engine_main(argc, argv, "itest_engine_parts", tests,
	                         sizeof(tests) / sizeof(tests[0]));
}
