-- One holder per DevEUI, and what the engine learns from uplinks kept per tenant (issue 15).
--
-- A DevEUI names one device in a LoRaWAN network. Before this migration two tenants could
-- register the same one; the engine, which matches uplinks by DevEUI, then gave tenant 1's
-- device's answers to tenant 2's job, and tenant 2 saw the gateways of tenant 1's device.

-- An old database holding a DevEUI in two tenants is refused, not repaired: which registration is
-- the right one (the device's keys, its jobs' history) is the operator's call, and deleting either
-- row would also delete that tenant's per-device job history (job_device cascades). fuotad does
-- not start until the duplicates are gone; the message lists them.
DO $$
DECLARE
	n bigint;
	list text;
BEGIN
	SELECT count(*), string_agg(dev_eui || ' (tenants ' || tenants || ')', ', ')
	INTO n, list
	FROM (SELECT dev_eui, string_agg(tenant_id::text, ', ' ORDER BY tenant_id) AS tenants
	      FROM device GROUP BY dev_eui HAVING count(*) > 1 ORDER BY dev_eui) dup;
	IF n > 0 THEN
		RAISE EXCEPTION 'migration 026: % DevEUIs are registered in more than one tenant: %. '
			'A DevEUI names one device: delete all registrations of each but one '
			'(DELETE FROM device WHERE tenant_id = ... AND dev_eui = ...), then start fuotad '
			'again', n, list;
	END IF;
END $$;

CREATE UNIQUE INDEX device_dev_eui_unique ON device (dev_eui);

-- A job's devices are its tenant's: a job_device row naming another tenant than its job's is
-- refused by the database itself (the device's foreign key already ties the row to the device's
-- tenant).
ALTER TABLE job ADD CONSTRAINT job_id_tenant UNIQUE (id, tenant_id);
ALTER TABLE job_device ADD CONSTRAINT job_device_job_tenant
	FOREIGN KEY (job_id, tenant_id) REFERENCES job (id, tenant_id) ON DELETE CASCADE;

-- The gateways that heard a device, per tenant: the tenant that held the DevEUI when the pair was
-- written (0: no tenant did). A DevEUI that changes hands (deleted by one tenant, registered by
-- another) starts with nothing the previous holder's uplinks taught; the API and the engine read
-- only the rows of the device's holder (and, for the engine's gateway choice, the rows of no one).
ALTER TABLE engine_device_gateway ADD COLUMN tenant_id bigint NOT NULL DEFAULT 0;
UPDATE engine_device_gateway g SET tenant_id = d.tenant_id FROM device d
WHERE d.dev_eui = g.dev_eui;
ALTER TABLE engine_device_gateway DROP CONSTRAINT engine_device_gateway_pkey;
ALTER TABLE engine_device_gateway ADD PRIMARY KEY (tenant_id, dev_eui, gateway_id);
ALTER TABLE engine_device_gateway ALTER COLUMN tenant_id DROP DEFAULT;
