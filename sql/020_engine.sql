-- The job engine's state (server/src/engine*.c). Times written by the engine are Unix
-- milliseconds from the engine's clock (a test drives a fake one), never now().

-- Per-device columns of a job the engine needs beyond step / attempts / deadline / failure_reason.
ALTER TABLE job_device
	ADD COLUMN frag_version smallint,          -- TS004 version of this device's session
	ADD COLUMN mc_version smallint,            -- TS005 version
	ADD COLUMN session_cnt integer,            -- v2 SessionCnt of the last FragSessionSetupReq
	ADD COLUMN mc_group_set boolean NOT NULL DEFAULT false, -- McGroupSetupAns accepted
	ADD COLUMN cleanup_mask smallint NOT NULL DEFAULT 0,    -- 1 FragSessionDeleteAns, 2 McGroupDeleteAns
	ADD COLUMN block_received boolean NOT NULL DEFAULT false, -- v2 FragDataBlockReceivedReq, no MIC error
	ADD COLUMN time_to_start_s integer,        -- from McClass{B,C}SessionAns
	ADD COLUMN resync_sent boolean NOT NULL DEFAULT false;  -- ForceDeviceResyncReq sent this job
CREATE INDEX job_device_due ON job_device (job_id, step, deadline);
CREATE INDEX job_device_eui ON job_device (dev_eui);

-- Per-device state that outlives a job. DevEUIs are globally unique (IEEE EUI-64), and uplinks
-- carry no fuotad tenant, so these tables are keyed by DevEUI alone.
CREATE TABLE engine_device (
	dev_eui text PRIMARY KEY CHECK (dev_eui ~ '^[0-9a-f]{16}$'),
	-- TS004 v2 SessionCnt: incremented (and committed) before every FragSessionSetupReq is
	-- published, so a restart never sends the same value twice (the device would refuse it).
	session_cnt integer NOT NULL DEFAULT 0 CHECK (session_cnt BETWEEN 0 AND 65535),
	last_time_req_ms bigint -- last AppTimeReq answered
);

-- Which gateways heard each device, from every uplink's rx_info: the multicast gateway set.
CREATE TABLE engine_device_gateway (
	dev_eui text NOT NULL,
	gateway_id text NOT NULL,
	quality integer NOT NULL, -- RSSI + SNR of the last uplink heard
	seen_ms bigint NOT NULL,
	PRIMARY KEY (dev_eui, gateway_id)
);

-- Per-job engine state. phase: setup, session, transmit, status, cleanup, done.
CREATE TABLE engine_job (
	job_id bigint PRIMARY KEY REFERENCES job (id) ON DELETE CASCADE,
	phase text NOT NULL DEFAULT 'setup'
		CHECK (phase IN ('setup', 'session', 'transmit', 'status', 'cleanup', 'done')),
	mc_group_id bigint REFERENCES multicast_group (id) ON DELETE SET NULL,
	frag_size integer NOT NULL,
	nb_frag integer NOT NULL,
	padding integer NOT NULL,
	redundancy integer NOT NULL,      -- fixed count, or the minimum when adaptive
	adaptive boolean NOT NULL DEFAULT false,
	redundancy_cap integer NOT NULL,
	session_timeout smallint NOT NULL, -- TS005 TimeOut
	session_start_ms bigint,           -- Unix ms, fixed when the phase becomes 'session'
	next_n integer NOT NULL DEFAULT 1, -- next DataFragment N to send
	next_tx_ms bigint,                 -- when the next frame may go
	gateways text[] NOT NULL DEFAULT '{}', -- the gateway set, fixed when transmission starts
	tx_end_ms bigint,                  -- last frame handed to the gateways
	frames_sent integer NOT NULL DEFAULT 0,
	frames_resent integer NOT NULL DEFAULT 0
);

-- Every multicast frame handed to a gateway, for its DownlinkTxAck.
CREATE TABLE engine_tx (
	downlink_id bigint PRIMARY KEY CHECK (downlink_id BETWEEN 0 AND 4294967295),
	job_id bigint NOT NULL REFERENCES job (id) ON DELETE CASCADE,
	gateway_id text NOT NULL,
	n integer NOT NULL,
	fcnt bigint NOT NULL,
	sent_ms bigint NOT NULL,
	ack text,                         -- NULL: none yet; 'OK' or the refusal's status name
	resend smallint NOT NULL DEFAULT 0 -- 1: queued to go again, 2: sent again
);
CREATE INDEX engine_tx_resend ON engine_tx (job_id, resend);
