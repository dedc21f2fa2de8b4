-- How a device's FragSessionStatusAns is judged (issue 16).
-- block_reported: the device's own TS004 v2 FragDataBlockReceivedReq without MICError, the only
-- proof no later answer overturns. block_received keeps meaning "no more rows for it": a status
-- round that judged it done sets it too, provisionally, and the answer after the session is
-- judged again.
-- Step 'unconfirmed' (final): a device whose answer cannot prove it has the image (LoRaMac-node
-- that lost uncoded fragments: its answer does not count lost parity); failure_reason says why.
ALTER TABLE job_device
	ADD COLUMN block_reported boolean NOT NULL DEFAULT false;
UPDATE job_device SET block_reported = block_received
	WHERE block_received AND coalesce(frag_version, 1) >= 2;
DROP INDEX IF EXISTS job_device_due_waiting;
CREATE INDEX job_device_due_waiting ON job_device (job_id, deadline NULLS FIRST, dev_eui)
	WHERE step NOT IN ('done', 'failed', 'unconfirmed', 'ready', 'session');
-- ts006_version: the device has TS006 Firmware Management (1) or not (0). An unconfirmed device
-- that has it is asked DevUpgradeImageReq: "Valid" makes it done, another status fails it.
ALTER TABLE device
	ADD COLUMN ts006_version smallint NOT NULL DEFAULT 0 CHECK (ts006_version BETWEEN 0 AND 1);
