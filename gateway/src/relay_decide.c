/* The relay's next action, pure (relay.h). */
#include "fuota/relay.h"

enum relay_action relay_decide(const struct relay_view *v)
{
	if (!v->link_up) {
		if (v->client || v->sock_open)
			return RELAY_END_SESSION;
		return v->now_ms >= v->pdp_retry_ms ? RELAY_PDP_UP : RELAY_WAIT;
	}
	if (!v->client)
		return v->sock_open ? RELAY_END_SESSION : RELAY_WAIT;
	if (!v->sock_open)
		return v->client_eof ? RELAY_END_SESSION : RELAY_OPEN;
	/* what the modem holds first: it frees the broker's window and may answer the client */
	if (v->modem_pending && v->down_n < v->down_cap)
		return RELAY_READ;
	if (v->sock_closed)
		/* hand the client every byte the modem had before closing it */
		return v->down_n ? RELAY_WAIT : RELAY_END_SESSION;
	if (v->up_n && v->now_ms >= v->write_retry_ms)
		return RELAY_WRITE;
	if (v->client_eof && !v->up_n)
		return RELAY_END_SESSION;
	return RELAY_WAIT;
}
