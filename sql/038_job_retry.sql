-- Retry the failed (issue 14): a job made by POST /jobs/{id}/retry names the job it retries; the
-- retried job lists its retries through the index. A retried job deleted later leaves its retries
-- standing, unlinked.
ALTER TABLE job
	ADD COLUMN retry_of bigint REFERENCES job (id) ON DELETE SET NULL;
CREATE INDEX job_retry_of ON job (retry_of) WHERE retry_of IS NOT NULL;
