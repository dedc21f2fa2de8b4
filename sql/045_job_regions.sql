-- One job across regions (issue 14): a job created with "regions" is a parent job (regions: the
-- regions as created, what the operator sees and acts on; no devices of its own, never run by
-- the engine) and one child job per region (parent_id: its parent), an ordinary job with that
-- region's devices, data rate and frequency. A parent has no data rate or frequency of its own.
ALTER TABLE job
	ADD COLUMN parent_id bigint REFERENCES job (id) ON DELETE CASCADE,
	ADD COLUMN regions jsonb,
	ALTER COLUMN data_rate DROP NOT NULL,
	ALTER COLUMN frequency_hz DROP NOT NULL,
	ADD CONSTRAINT job_session_params
		CHECK (regions IS NOT NULL OR (data_rate IS NOT NULL AND frequency_hz IS NOT NULL));
CREATE INDEX job_parent ON job (parent_id) WHERE parent_id IS NOT NULL;
