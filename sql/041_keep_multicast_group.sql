-- Reuse a multicast group across jobs (issue 14, ChirpStack issue 1030).
-- A job with keep_multicast_group sends no McGroupDeleteReq to the devices that verified the
-- image; engine_device.mc_group_id then says which group each device holds (under McGroupID 0,
-- the only one the engine uses). A later job whose devices hold a group reuses it: same McAddr,
-- McKey and downlink counter (multicast_group.fcnt goes on, never back).
ALTER TABLE job
	ADD COLUMN keep_multicast_group boolean NOT NULL DEFAULT false;

-- The job whose id is the associated data of mc_key_box (job_id moves to the job using the
-- group, and is set NULL when that job is deleted; the key must still open).
ALTER TABLE multicast_group
	ADD COLUMN key_job_id bigint;
UPDATE multicast_group SET key_job_id = job_id;

ALTER TABLE engine_job
	ADD COLUMN mc_reused boolean NOT NULL DEFAULT false; -- the group came from an earlier job

ALTER TABLE job_device
	ADD COLUMN mc_reused boolean NOT NULL DEFAULT false,   -- held the group: no McGroupSetupReq
	ADD COLUMN mc_fell_back boolean NOT NULL DEFAULT false; -- said McGroupUndefined: set up again

ALTER TABLE engine_device
	ADD COLUMN mc_group_id bigint REFERENCES multicast_group (id) ON DELETE SET NULL;
CREATE INDEX engine_device_mc_group ON engine_device (mc_group_id) WHERE mc_group_id IS NOT NULL;
