-- Adaptive redundancy sized from what the devices say (engine_tx.c rounds): per fragmentation
-- session, the batch under way and the status requests sent; per device, its last
-- FragSessionStatusAns during the session. All of it survives a restart: a batch goes on to its
-- end, a wait is stored with the frame that starts it, and the answers of a round are read back
-- when the next batch is sized.
ALTER TABLE engine_session
	ADD COLUMN round integer NOT NULL DEFAULT 0,     -- multicast status requests sent
	ADD COLUMN round_end integer NOT NULL DEFAULT 0, -- N of the batch's last frame (0: not sized)
	ADD COLUMN asked_at integer NOT NULL DEFAULT 0;  -- round_end when the last request went out

ALTER TABLE job_device
	ADD COLUMN status_round integer NOT NULL DEFAULT 0, -- the round its last answer was about
	ADD COLUMN status_received integer,                 -- NbFragReceived of that answer
	ADD COLUMN status_missing integer;                  -- MissingFrag of that answer
