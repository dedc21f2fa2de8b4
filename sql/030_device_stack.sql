-- How a device's stack reads TS004, and how many fragments it can hold (issue 16).
-- stack: 'ts004' reads FragSessionStatusAns as TS004 says; 'loramac-node' as Semtech's
-- LoRaMac-node does (NbFragReceived is the last fragment counter seen, MissingFrag the uncoded
-- fragments lost so far, never lowered once parity recovered them); 'lbm' is LoRa Basics Modem,
-- which reads as TS004 and whose default build holds at most 100 fragments.
-- max_frags: the most uncoded fragments (FragSessionSetupReq NbFrag) the device takes; NULL:
-- unknown (for 'lbm', its default build's 100).
ALTER TABLE device
	ADD COLUMN stack text NOT NULL DEFAULT 'ts004'
		CHECK (stack IN ('ts004', 'loramac-node', 'lbm')),
	ADD COLUMN max_frags integer CHECK (max_frags BETWEEN 1 AND 16383);
