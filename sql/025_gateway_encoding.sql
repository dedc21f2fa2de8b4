-- The encoding each gateway speaks. ChirpStack detects JSON or protobuf per gateway from what the
-- gateway publishes and sends it its downlinks in the same (CHIRPSTACK-NOTES §9.4); fuotad learns
-- it from the gateway's acks and stats messages and publishes each DownlinkFrame in it. NULL:
-- never heard from ([mqtt] gateway_encoding applies). encoding_ms: when it was last learnt (Unix
-- ms). free_ms 0 for a gateway that has not sent a frame yet.
ALTER TABLE engine_gateway
	ADD COLUMN encoding text CHECK (encoding IN ('protobuf', 'json')),
	ADD COLUMN encoding_ms bigint;
