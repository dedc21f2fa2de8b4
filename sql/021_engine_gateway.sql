-- When each gateway may transmit again (duty cycle), shared by every fuotad instance and kept
-- across restarts: an instance that takes a job over, or starts again, does not send through a
-- gateway whose sub-band budget another one has just used. Unix ms of the engine's clock.
CREATE TABLE engine_gateway (
	gateway_id text PRIMARY KEY,
	free_ms bigint NOT NULL
);
