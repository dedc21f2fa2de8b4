-- Each job's devices per step, kept by the database (issue 14): a parent job's GET showed each
-- region's steps by counting its job_device rows at every call (11.7 ms for a 50,000-device
-- child), and the operator's page polls it. Statement-level triggers on job_device write, in
-- the transaction of the statement that changed the rows, how many rows of each (job, step)
-- came and went: whatever inserts, updates or deletes job_device (the API, the engine, a
-- device's or a job's delete cascading, a migration, psql), every snapshot that sees the rows
-- sees their counts.
--
-- A job's count of a step is sum(n) over its rows: one row per (job, step, slot), slot the
-- server process that wrote it (pg_backend_pid(); 0: this migration's fill). A single row per
-- (job, step) would be locked by every transaction that moves a device of the job until it
-- ends: the engine's uplink batch (one transaction, many statements) and a second instance's
-- batch or a device delete would wait on each other, and deadlock when they move devices
-- between two steps in opposite directions. A server process runs one transaction at a time
-- (fuotad prepares no two-phase transaction, which would outlive it), so no two transactions
-- ever write one row. The rows of a job are its steps times the server processes that changed
-- it (a pool's connections, new ones after reconnects), gone with the job (ON DELETE CASCADE).
--
-- When an operator runs SELECT job_step_count_rebuild() (below; it recomputes every counter from
-- job_device and folds each job's rows into one per step): after loading job_device past the
-- triggers (pg_restore or psql with session_replication_role = replica or --disable-triggers:
-- nothing counted), after a data-only restore made without --disable-triggers (the dump's
-- job_step_count rows and the triggers both count: doubled), after ALTER TABLE job_device
-- DISABLE TRIGGER, and when job_step_count has many rows (a long-running job's slots of
-- processes gone, n = 0 included: nothing else compacts them). It keeps job_device's writers
-- waiting while it runs (a GROUP BY of job_device: about as long as the parent's GET was).
-- A job's rows are not folded when it ends: in the engine's transaction that ends it (the job
-- row locked) a fold waiting on another process's uncommitted counter row can deadlock with that
-- process updating job next, and a fold of its own is not yet shown exact against a concurrent
-- writer; the rebuild is what compacts.
CREATE TABLE job_step_count (
	job_id bigint NOT NULL REFERENCES job (id) ON DELETE CASCADE,
	step text NOT NULL,
	slot integer NOT NULL,
	n bigint NOT NULL,
	PRIMARY KEY (job_id, step, slot)
);

-- Adds the statement's changes to the counters: rows came (+) in job_step_new, went (-) in
-- job_step_old. An update that moves no device (deadline, attempts, answers: most of the
-- engine's) nets to nothing and writes nothing. A job deleted by this statement (its job_device
-- rows cascading) is left out: its counters go with it.
--
-- SET search_path FROM CURRENT (on each function here): the tables are found in the schema this
-- migration ran in, whatever search_path the session that fires the trigger has (a psql session
-- with another one would fail, or two fuota schemas in one database write each other's).
CREATE FUNCTION job_step_count_add() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO job_step_count AS c (job_id, step, slot, n)
		SELECT job_id, step, pg_backend_pid(), count(*) FROM job_step_new
		GROUP BY job_id, step
		ON CONFLICT (job_id, step, slot) DO UPDATE SET n = c.n + excluded.n;
	ELSIF TG_OP = 'UPDATE' THEN
		INSERT INTO job_step_count AS c (job_id, step, slot, n)
		SELECT job_id, step, pg_backend_pid(), sum(n)
		FROM (SELECT job_id, step, 1 AS n FROM job_step_new
		      UNION ALL SELECT job_id, step, -1 FROM job_step_old) u
		GROUP BY job_id, step HAVING sum(n) <> 0
		ON CONFLICT (job_id, step, slot) DO UPDATE SET n = c.n + excluded.n;
	ELSE
		INSERT INTO job_step_count AS c (job_id, step, slot, n)
		SELECT o.job_id, o.step, pg_backend_pid(), -count(*) FROM job_step_old o
		WHERE EXISTS (SELECT 1 FROM job j WHERE j.id = o.job_id)
		GROUP BY o.job_id, o.step
		ON CONFLICT (job_id, step, slot) DO UPDATE SET n = c.n + excluded.n;
	END IF;
	RETURN NULL;
END $$;

-- One trigger per event: PostgreSQL takes transition tables only on a trigger of one event
-- and no column list. CREATE TRIGGER locks job_device against writes until this migration
-- commits, so the fill below misses no change and counts none twice.
CREATE TRIGGER job_step_count_ins AFTER INSERT ON job_device
	REFERENCING NEW TABLE AS job_step_new
	FOR EACH STATEMENT EXECUTE FUNCTION job_step_count_add();
CREATE TRIGGER job_step_count_upd AFTER UPDATE ON job_device
	REFERENCING OLD TABLE AS job_step_old NEW TABLE AS job_step_new
	FOR EACH STATEMENT EXECUTE FUNCTION job_step_count_add();
CREATE TRIGGER job_step_count_del AFTER DELETE ON job_device
	REFERENCING OLD TABLE AS job_step_old
	FOR EACH STATEMENT EXECUTE FUNCTION job_step_count_add();

-- TRUNCATE deletes no row one by one: the counters go with the rows.
CREATE FUNCTION job_step_count_clear() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
	DELETE FROM job_step_count;
	RETURN NULL;
END $$;
CREATE TRIGGER job_step_count_clear AFTER TRUNCATE ON job_device
	FOR EACH STATEMENT EXECUTE FUNCTION job_step_count_clear();

INSERT INTO job_step_count (job_id, step, slot, n)
SELECT job_id, step, 0, count(*) FROM job_device GROUP BY job_id, step;

-- Every counter recomputed from job_device, one row per (job, step) in slot 0. Writers of
-- job_device and job_step_count wait for its transaction (SHARE ROW EXCLUSIVE: itself too, so
-- two rebuilds run one after the other; readers go on), taken in the triggers' order (job_device
-- first), then a snapshot that sees every committed change: READ COMMITTED only, as a later
-- isolation level would read with a snapshot older than the lock.
CREATE FUNCTION job_step_count_rebuild() RETURNS void LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'job_step_count_rebuild() runs in a READ COMMITTED transaction only';
	END IF;
	LOCK TABLE job_device, job_step_count IN SHARE ROW EXCLUSIVE MODE;
	DELETE FROM job_step_count;
	INSERT INTO job_step_count (job_id, step, slot, n)
	SELECT job_id, step, 0, count(*) FROM job_device GROUP BY job_id, step;
END $$;
