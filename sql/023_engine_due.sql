-- The devices a tick acts on (seng_devs_due): those in a step that waits for a deadline, the
-- earliest first. Without this index every tick read and sorted every device of the job (about
-- 7 ms for 10,000 devices, many times a second while a large job sends its unicast requests).
CREATE INDEX job_device_due_waiting ON job_device (job_id, deadline NULLS FIRST, dev_eui)
	WHERE step NOT IN ('done', 'failed', 'ready', 'session');
