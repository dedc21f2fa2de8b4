/* The gateways' modem states (sql/039_gateway_modem.sql): written by the engine's MQTT runner. */
#include "fuota/store_engine.h"
#include "store_int.h"

int seng_gw_modem_set(struct store *s, const char *gw, const char *state_json, int64_t now_ms)
{
	char now[24];
	const char *vals[3] = {gw, state_json, store_i64(now, now_ms)};
	long rows;

	/* Every instance reads the retained message (no shared subscription: a shared one gets no
	 * retained message); the latest read wins whichever instance commits last. */
	return store_command(s,
	                     "INSERT INTO gateway_modem AS g (gateway_id, state, received_ms) "
	                     "VALUES ($1, $2::jsonb, $3) ON CONFLICT (gateway_id) DO UPDATE "
	                     "SET state = $2::jsonb, received_ms = $3 WHERE g.received_ms <= $3",
	                     3, vals, &rows);
}
