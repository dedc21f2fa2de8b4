-- TS006 in the campaign (issue 14): a job's target_version is the FW_version (32 bits) a device
-- reports in DevVersionAns once it runs the job's image. When set, devices with TS006 are asked
-- DevVersionReq first (job_device.step 'fw_version'); one already on it ends done, not sent the
-- image. NULL: no version check.
ALTER TABLE job
	ADD COLUMN target_version bigint CHECK (target_version BETWEEN 0 AND 4294967295);
