-- A multicast session start the job could not keep (fuotad was down, or a device still had to
-- answer McClass{B,C}SessionReq after a clock resync) is moved to a later time instead of
-- failing every device that had not answered (engine.c phase_session): how many times it moved,
-- so that a job whose devices never answer stops moving it.
ALTER TABLE engine_job
	ADD COLUMN session_moves smallint NOT NULL DEFAULT 0;
