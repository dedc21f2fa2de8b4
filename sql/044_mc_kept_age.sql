-- A kept multicast group expires (issue 14 follow-up): devices reboot, lose or age their
-- groups, and a record that a device holds one is trusted only for [engine]
-- keep_group_max_age_s (30 days by default) after the job that left it there. mc_kept_ms: when
-- the device kept mc_group_id (Unix ms, the engine's clock). A group kept before this migration
-- has no time and counts as expired: the next job sets the device up again.
ALTER TABLE engine_device
	ADD COLUMN mc_kept_ms bigint;
