-- Two TS004 fragmentation sessions in one job (server/src/engine*.c). TS004 v1 and v2 devices
-- rebuild the image from different parity rows (v1 counts repeated draws, v2 draws distinct
-- coefficients), so a job whose devices speak both versions runs one session per version on its
-- one multicast group: each session has its own FragIndex (DataFragment IndexAndN bits 15..14,
-- and a device accepts only the fragments of its own session), the group keeps one FCnt sequence.

-- The session (FragIndex) a device was set up on. NULL (rows of an older engine) means 0.
ALTER TABLE job_device ADD COLUMN frag_index smallint CHECK (frag_index BETWEEN 0 AND 3);

-- The FragIndex of each TS004 version in the job, fixed by the first FragSessionSetupReq of that
-- version: the first version gets 0, the other 1, so a job of one version keeps FragIndex 0.
ALTER TABLE engine_job
	ADD COLUMN frag_index_v1 smallint CHECK (frag_index_v1 BETWEEN 0 AND 3),
	ADD COLUMN frag_index_v2 smallint CHECK (frag_index_v2 BETWEEN 0 AND 3);

-- The fragmentation sessions of a job, made with the session time (phase 'setup' -> 'session'),
-- one per version among the devices set up. engine_job.frames_sent stays the job's total;
-- engine_job.next_n is the highest N sent + 1 over every session (informative only).
CREATE TABLE engine_session (
	job_id bigint NOT NULL REFERENCES engine_job (job_id) ON DELETE CASCADE,
	frag_index smallint NOT NULL CHECK (frag_index BETWEEN 0 AND 3),
	frag_version smallint NOT NULL CHECK (frag_version IN (1, 2)), -- its parity code
	next_n integer NOT NULL DEFAULT 1,       -- next DataFragment N of this session
	frames_sent integer NOT NULL DEFAULT 0,  -- new frames (not counting those sent again)
	done boolean NOT NULL DEFAULT false,     -- no frame of it left to send (stopped)
	PRIMARY KEY (job_id, frag_index)
);

-- The session of each multicast frame, so that a refused one is built again with its FragIndex
-- and its session's code.
ALTER TABLE engine_tx ADD COLUMN frag_index smallint NOT NULL DEFAULT 0;

-- Jobs an older engine left past their setup had one session on FragIndex 0, of one version:
-- v1 when any device still in the job spoke v1 (it sent v1 rows then), else v2.
INSERT INTO engine_session (job_id, frag_index, frag_version, next_n, frames_sent)
SELECT e.job_id, 0,
	CASE WHEN EXISTS (SELECT 1 FROM job_device jd WHERE jd.job_id = e.job_id
		AND jd.step NOT IN ('failed', 'pending') AND coalesce(jd.frag_version, 1) < 2)
	THEN 1 ELSE 2 END,
	e.next_n, e.frames_sent
FROM engine_job e WHERE e.phase NOT IN ('setup', 'done');

-- Jobs still in their setup: the versions already set up went out on FragIndex 0.
UPDATE engine_job e SET
	frag_index_v1 = CASE WHEN EXISTS (SELECT 1 FROM job_device jd WHERE jd.job_id = e.job_id
		AND jd.step <> 'failed' AND jd.frag_version = 1) THEN 0 END,
	frag_index_v2 = CASE WHEN EXISTS (SELECT 1 FROM job_device jd WHERE jd.job_id = e.job_id
		AND jd.step <> 'failed' AND jd.frag_version >= 2) THEN 0 END
WHERE e.phase = 'setup';
