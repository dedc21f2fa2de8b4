-- When the first request of a device's current step went out (engine_dev.c dev_send): an answer
-- the network server received before it cannot answer it (read late: kept by the broker while
-- fuotad was dead, or while the database was away), and must move nothing (policy ans_match.c).
ALTER TABLE job_device
	ADD COLUMN asked_at timestamptz;
