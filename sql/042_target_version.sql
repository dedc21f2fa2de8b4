-- TS006 in the campaign (issue 14): a job's target_version is the FW_version (32 bits) a device
-- reports in DevVersionAns once it runs the job's image. When set, devices with TS006 are asked
-- DevVersionReq first (job_device.step 'fw_version'); one already on it ends done, not sent the
-- image. NULL: no version check.
ALTER TABLE job
	ADD COLUMN target_version bigint CHECK (target_version BETWEEN 0 AND 4294967295);

-- reboot_in_s: after its clean-up, a device with TS006 that has the image is sent
-- DevRebootCountdownReq with this countdown (job_device.step 'reboot'), then DevVersionReq once
-- it rebooted ('fw_check'): on target_version it is done, on another version failed. NULL: no
-- reboot ordered. A countdown is 24 bits; 0 (now, no answer) and 0xFFFFFF (cancel) are not
-- countdowns.
ALTER TABLE job
	ADD COLUMN reboot_in_s integer CHECK (reboot_in_s BETWEEN 1 AND 16777214);

-- reboot_at: DevRebootTimeReq at this time instead of a countdown (not both); asked its version
-- once it has passed (and a unicast timeout to boot).
ALTER TABLE job
	ADD COLUMN reboot_at timestamptz,
	ADD CONSTRAINT job_one_reboot CHECK (reboot_at IS NULL OR reboot_in_s IS NULL);
