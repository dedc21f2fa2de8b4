-- Modem firmware updates driven through fuotad (issue 12): one row per update of a gateway's
-- modem. An operator's (POST /api/v1/gateways/{id}/modem-updates) has its tenant and waits in
-- 'scheduled' until planned_start_ms, when the engine asks the session-window policy again and
-- either starts it (a 'start' command) or moves planned_start_ms and says why in note. One
-- fuota-gw reported without a command of ours (event id 0, a uFOTA push) has no tenant.
-- state: scheduled (ours, not yet sent), sent (the start command published, no report yet), then
-- fuota-gw's own: deferred, starting, downloading, installing, done, failed, paused, cancelled,
-- rejected. Times are Unix ms.
CREATE TABLE modem_update (
	id bigserial PRIMARY KEY,
	gateway_id text NOT NULL,
	tenant_id bigint REFERENCES tenant (id) ON DELETE CASCADE,
	method text NOT NULL CHECK (method IN ('ufota', 'foat', 'http', 'ftp', 'uart')),
	url text,
	package text,
	md5 text,
	image_size bigint NOT NULL,
	requested_start_ms bigint,
	planned_start_ms bigint,
	state text NOT NULL,
	progress int,
	deferred_until_ms bigint,
	firmware_before text,
	firmware_after text,
	error text,
	note text,
	claim_ms bigint,
	created_ms bigint NOT NULL,
	updated_ms bigint NOT NULL,
	started_ms bigint,
	finished_ms bigint
);
CREATE INDEX modem_update_gateway ON modem_update (gateway_id, id);
CREATE INDEX modem_update_due ON modem_update (planned_start_ms) WHERE state = 'scheduled';

-- The commands published on {prefix}/gateway/{id}/command/modem-update, retained. Their ids
-- come from one sequence, so they grow per gateway as fuota-gw requires (it ignores an id not
-- above the last it handled); fuota-gw's events name the command they answer. A row with
-- published_ms NULL is yet to be published (the API writes pause/resume/cancel, the engine
-- publishes them at its next loop).
CREATE TABLE modem_update_cmd (
	id bigint PRIMARY KEY,
	update_id bigint NOT NULL REFERENCES modem_update (id) ON DELETE CASCADE,
	action text NOT NULL CHECK (action IN ('start', 'pause', 'resume', 'cancel')),
	created_ms bigint NOT NULL,
	published_ms bigint
);
CREATE SEQUENCE modem_update_cmd_id;
CREATE INDEX modem_update_cmd_unsent ON modem_update_cmd (id) WHERE published_ms IS NULL;

-- Where a gateway's messages are (the region prefix of its state/modem topic), to publish its
-- commands there, and the session windows last published on its command/sessions topic.
ALTER TABLE gateway_modem
	ADD COLUMN topic_prefix text,
	ADD COLUMN sessions_sent text;

-- One operator update per modem at a time, and one of the gateway's own (the states before an
-- end: scheduled, sent, deferred, starting, downloading, installing, paused).
CREATE UNIQUE INDEX modem_update_one_ours ON modem_update (gateway_id)
	WHERE tenant_id IS NOT NULL AND state NOT IN ('done', 'failed', 'cancelled', 'rejected');
CREATE UNIQUE INDEX modem_update_one_own ON modem_update (gateway_id)
	WHERE tenant_id IS NULL AND state NOT IN ('done', 'failed', 'cancelled', 'rejected');
