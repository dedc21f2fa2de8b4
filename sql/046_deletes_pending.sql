-- A device's FragSessionDeleteReq and McGroupDeleteReq survive a crash (engine_delq.c): set
-- when the engine decides to send them (a cancelled job's devices with a group, or the failed
-- ones at the job's clean-up, in the same transaction), cleared once both are published. At
-- start the engine queues the rows still set again: a fuotad killed before its queue drained
-- leaves no device holding a session and a group the server has forgotten.
ALTER TABLE job_device
	ADD COLUMN deletes_pending boolean NOT NULL DEFAULT false;
CREATE INDEX job_device_deletes_pending ON job_device (job_id) WHERE deletes_pending;
