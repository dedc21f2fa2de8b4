-- The latest modem state each gateway's fuota-gw published (retained, on
-- {prefix}/gateway/{id}/state/modem), as fuotad read it back: the fields it checked, re-written as
-- JSON. Keyed by gateway, not by tenant: the message is the gateway's own, and a tenant whose
-- device a gateway hears later must see the state it published before. GET /api/v1/gateways
-- shows it only on the gateways the tenant's devices were heard through (engine_device_gateway,
-- tenant-keyed). received_ms: when it was read (Unix ms); the latest read wins.
CREATE TABLE gateway_modem (
	gateway_id text PRIMARY KEY,
	state jsonb NOT NULL,
	received_ms bigint NOT NULL
);
