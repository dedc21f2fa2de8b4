-- The EIRP (dBm) a job's multicast frames are sent at. NULL: the most the sub-band of the job's
-- frequency allows (lorawan/ lw_region_max_eirp_dbm: EU868 869.4-869.65 MHz 29 dBm, its other
-- sub-bands 16). The API refuses a value above that; the engine caps it again per frame.
ALTER TABLE job
	ADD COLUMN tx_power_dbm smallint CHECK (tx_power_dbm BETWEEN 0 AND 100);
