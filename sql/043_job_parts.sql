-- An image over several fragmentation sessions (issue 14): the plan says how many parts
-- (plan.parts) and the fragments of each but the last (plan.part_fragments); the job runs them
-- one after the other. job.part: the part under way (0-based), so that a fuotad restarted
-- mid-part goes on with it; job_device.part: the part each device is in.
ALTER TABLE job ADD COLUMN part smallint NOT NULL DEFAULT 0 CHECK (part BETWEEN 0 AND 254);
ALTER TABLE job_device ADD COLUMN part smallint NOT NULL DEFAULT 0 CHECK (part BETWEEN 0 AND 254);
