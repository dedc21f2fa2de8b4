-- fuotad schema, version 1. Applied by fuotad at start inside one transaction (see store.c).
-- Every object belongs to a tenant; every query of the API filters by the caller's tenant.

CREATE TABLE tenant (
	id bigserial PRIMARY KEY,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	created_at timestamptz NOT NULL DEFAULT now()
);
-- Tenant 1 owns the bootstrap admin token and what it creates.
INSERT INTO tenant (name) VALUES ('default');

-- Only SHA-256 of a token is stored; the token itself is shown once at creation.
CREATE TABLE api_token (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
	name text NOT NULL,
	admin boolean NOT NULL DEFAULT false,
	token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz
);

CREATE TABLE firmware (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
	name text NOT NULL,
	size integer NOT NULL CHECK (size >= 0),
	sha256 bytea NOT NULL CHECK (length(sha256) = 32),
	data bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX firmware_tenant ON firmware (tenant_id, id);

-- Root key material (AppKey for LoRaWAN 1.1, GenAppKey for 1.0.x) is an AES-256-GCM box
-- (nonce || ciphertext || tag) under the master key, with tenant and DevEUI as associated data.
CREATE TABLE device (
	tenant_id bigint NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
	dev_eui text NOT NULL CHECK (dev_eui ~ '^[0-9a-f]{16}$'),
	application_id text NOT NULL,
	lorawan_version text NOT NULL,
	class char(1) NOT NULL CHECK (class IN ('A', 'B', 'C')),
	region text NOT NULL,
	key_kind text NOT NULL CHECK (key_kind IN ('gen_app_key', 'app_key')),
	key_box bytea NOT NULL,
	ts003_version smallint NOT NULL DEFAULT 0,
	ts004_version smallint NOT NULL DEFAULT 0,
	ts005_version smallint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, dev_eui)
);
CREATE INDEX device_application ON device (tenant_id, application_id, dev_eui);

CREATE TABLE gateway (
	tenant_id bigint NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
	gateway_id text NOT NULL CHECK (gateway_id ~ '^[0-9a-f]{16}$'),
	region text,
	last_seen_at timestamptz,
	info jsonb NOT NULL DEFAULT '{}',
	PRIMARY KEY (tenant_id, gateway_id)
);

-- States: pending (created, waiting for the engine or start_at), running, paused, succeeded,
-- failed, cancelled. paused_from remembers where resume goes back to.
CREATE TABLE job (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
	name text NOT NULL,
	firmware_id bigint REFERENCES firmware (id) ON DELETE SET NULL,
	state text NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'running', 'paused', 'succeeded', 'failed', 'cancelled')),
	paused_from text,
	region text NOT NULL,
	data_rate smallint NOT NULL,
	frequency_hz bigint NOT NULL,
	fragment_size smallint,
	redundancy_frames integer,
	redundancy_percent integer,
	unicast_timeout_s integer NOT NULL,
	unicast_attempts integer NOT NULL,
	multicast_class char(1) NOT NULL CHECK (multicast_class IN ('B', 'C')),
	multicast_timeout_s integer NOT NULL,
	ping_slot_periodicity smallint,
	start_at timestamptz,
	plan jsonb NOT NULL,
	device_count integer NOT NULL,
	error text,
	lease_owner text,
	lease_until timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	started_at timestamptz,
	finished_at timestamptz
);
CREATE INDEX job_tenant ON job (tenant_id, id);
CREATE INDEX job_tenant_state ON job (tenant_id, state, id);
CREATE INDEX job_firmware ON job (firmware_id);

-- Per-device state of a job: the engine's step, attempts, stored deadline, last answers.
CREATE TABLE job_device (
	job_id bigint NOT NULL REFERENCES job (id) ON DELETE CASCADE,
	tenant_id bigint NOT NULL,
	dev_eui text NOT NULL,
	step text NOT NULL DEFAULT 'pending',
	attempts integer NOT NULL DEFAULT 0,
	deadline timestamptz,
	last_answer jsonb,
	failure_reason text,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (job_id, dev_eui),
	FOREIGN KEY (tenant_id, dev_eui) REFERENCES device (tenant_id, dev_eui) ON DELETE CASCADE
);
CREATE INDEX job_device_device ON job_device (tenant_id, dev_eui);

-- One multicast group per job: McAddr, McKey (box under the master key), the frame counter.
CREATE TABLE multicast_group (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
	job_id bigint REFERENCES job (id) ON DELETE SET NULL,
	mc_addr bigint NOT NULL CHECK (mc_addr BETWEEN 0 AND 4294967295),
	mc_key_box bytea NOT NULL,
	fcnt bigint NOT NULL DEFAULT 0 CHECK (fcnt BETWEEN 0 AND 4294967295),
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE event (
	id bigserial PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
	job_id bigint REFERENCES job (id) ON DELETE CASCADE,
	dev_eui text,
	kind text NOT NULL,
	data jsonb NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_job ON event (job_id, id);
