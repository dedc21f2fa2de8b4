-- Each job's devices done at the TS006 version check, kept by the same triggers as its steps
-- (sql/047_job_step_count.sql): the live page polls GET /jobs/{id}/summary every second, which
-- counted them by reading every done device's last_answer (and the job's rows by step, now
-- job_step_count's). A counter the engine kept would miss every other writer (a retry, a
-- cancel, a device's or a job's delete, psql); the triggers see every statement.
--
-- Such a device ended in step done on its DevVersionAns of step fw_version, which said it
-- already ran the target version (engine_fmp.c on_version_ans): its last_answer is that answer,
-- judged "done (already on the target version ...)". A device done after its reboot
-- (fw_check) also ends on a DevVersionAns, judged "done (rebooted into the target version)":
-- it was sent the image and is not one of them. The judged text is the only mark the row has;
-- a row is counted by this one function, in the triggers and in the fill below alike.
CREATE FUNCTION job_device_on_target(step text, last_answer jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT step = 'done' AND coalesce(last_answer->>'answer' = 'DevVersionAns'
		AND starts_with(last_answer->>'judged', 'done (already on the target version'), false)
$$;

-- No job_device write between the new function and the fill below: a transaction that changed
-- rows before waits here to commit (the fill sees its rows), one after waits for this
-- migration to commit (its trigger runs the new function). Taken first: a writer's trigger
-- waiting on the ALTER's lock of job_step_count while holding job_device would deadlock.
LOCK TABLE job_device IN SHARE ROW EXCLUSIVE MODE;

-- Counted in each row of step done (0 in the other steps' rows); sum(on_target) over a job's
-- rows is its devices done at the version check.
ALTER TABLE job_step_count ADD COLUMN on_target bigint NOT NULL DEFAULT 0;

-- As 047's, with the rows done at the version check counted beside the rows: a statement that
-- only rewrites a done device's last_answer moves it in or out of on_target.
-- SET search_path FROM CURRENT as in 047: the tables are this migration's schema's, whatever
-- search_path the session that fires the trigger has.
CREATE OR REPLACE FUNCTION job_step_count_add() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO job_step_count AS c (job_id, step, slot, n, on_target)
		SELECT job_id, step, pg_backend_pid(), count(*),
		       count(*) FILTER (WHERE job_device_on_target(step, last_answer))
		FROM job_step_new GROUP BY job_id, step
		ON CONFLICT (job_id, step, slot)
		DO UPDATE SET n = c.n + excluded.n, on_target = c.on_target + excluded.on_target;
	ELSIF TG_OP = 'UPDATE' THEN
		INSERT INTO job_step_count AS c (job_id, step, slot, n, on_target)
		SELECT job_id, step, pg_backend_pid(), sum(n), sum(t)
		FROM (SELECT job_id, step, 1 AS n,
		             job_device_on_target(step, last_answer)::int AS t FROM job_step_new
		      UNION ALL SELECT job_id, step, -1,
		             -job_device_on_target(step, last_answer)::int FROM job_step_old) u
		GROUP BY job_id, step HAVING sum(n) <> 0 OR sum(t) <> 0
		ON CONFLICT (job_id, step, slot)
		DO UPDATE SET n = c.n + excluded.n, on_target = c.on_target + excluded.on_target;
	ELSE
		INSERT INTO job_step_count AS c (job_id, step, slot, n, on_target)
		SELECT g.job_id, g.step, pg_backend_pid(), -g.n, -g.t
		FROM (SELECT job_id, step, count(*) AS n,
		             count(*) FILTER (WHERE job_device_on_target(step, last_answer)) AS t
		      FROM job_step_old GROUP BY job_id, step) g
		WHERE EXISTS (SELECT 1 FROM job j WHERE j.id = g.job_id) -- once a (job, step)
		ON CONFLICT (job_id, step, slot)
		DO UPDATE SET n = c.n + excluded.n, on_target = c.on_target + excluded.on_target;
	END IF;
	RETURN NULL;
END $$;

-- The rows a database already has, in slot 0 of step done (047's fill row, or a new one of
-- n 0 beside the other slots').
INSERT INTO job_step_count AS c (job_id, step, slot, n, on_target)
SELECT job_id, 'done', 0, 0, count(*) FROM job_device
WHERE job_device_on_target(step, last_answer) GROUP BY job_id
ON CONFLICT (job_id, step, slot) DO UPDATE SET on_target = c.on_target + excluded.on_target;

-- 047's rebuild, recounting on_target too (047's would leave it 0 in every row it writes). A job
-- deleted while it runs can deadlock with it (the delete holds the job row its cascade needs, the
-- rebuild's inserts check that row's key): PostgreSQL aborts one, and the operator runs it again.
CREATE OR REPLACE FUNCTION job_step_count_rebuild() RETURNS void LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'job_step_count_rebuild() runs in a READ COMMITTED transaction only';
	END IF;
	LOCK TABLE job_device, job_step_count IN SHARE ROW EXCLUSIVE MODE;
	DELETE FROM job_step_count;
	INSERT INTO job_step_count (job_id, step, slot, n, on_target)
	SELECT job_id, step, 0, count(*),
	       count(*) FILTER (WHERE job_device_on_target(step, last_answer))
	FROM job_device GROUP BY job_id, step;
END $$;
