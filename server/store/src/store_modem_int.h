/* Private to store_modem*.c: a modem_update row as the API shows it. */
#ifndef FUOTA_STORE_MODEM_INT_H
#define FUOTA_STORE_MODEM_INT_H

/* The states an update ends in; the others are scheduled, sent, deferred, starting,
 * downloading, installing, paused. */
#define MODEM_ENDED "('done', 'failed', 'cancelled', 'rejected')"

/* Whether the row m is another tenant's update, seen by tenant $1 (-1: by fuotad itself, for the
 * event to the tenant that made it). The modem is shared: every tenant that uses the gateway sees
 * that an update is planned or runs, how and when (to plan its own sessions), but not another
 * tenant's url, package or md5 (internal hosts and paths), note (it may name jobs of other
 * tenants) or error (fuota-gw's words may quote the url): those are null. A gateway's own update
 * (no tenant) hides nothing: it carries none of these from us. */
#define MODEM_OTHERS "(m.tenant_id IS NOT NULL AND $1::bigint <> -1 AND m.tenant_id <> $1::bigint)"

/* Row alias m. own: whether the tenant in $1 made it. Times as to_json writes timestamptz. */
#define MODEM_JSON                                                                               \
	"json_build_object('id', m.id, 'gateway_id', m.gateway_id, 'origin', "                   \
	"CASE WHEN m.tenant_id IS NULL THEN 'gateway' ELSE 'api' END, 'own', "                   \
	"m.tenant_id IS NOT DISTINCT FROM $1::bigint, 'method', m.method, "                      \
	"'url', CASE WHEN " MODEM_OTHERS " THEN NULL ELSE m.url END, "                           \
	"'package', CASE WHEN " MODEM_OTHERS " THEN NULL ELSE m.package END, "                   \
	"'md5', CASE WHEN " MODEM_OTHERS " THEN NULL ELSE m.md5 END, "                           \
	"'image_size', nullif(m.image_size, 0), "                                                \
	"'requested_start', to_timestamp(m.requested_start_ms / 1000.0), "                       \
	"'planned_start', to_timestamp(m.planned_start_ms / 1000.0), 'state', m.state, "         \
	"'progress', m.progress, 'deferred_until', to_timestamp(m.deferred_until_ms / 1000.0), " \
	"'firmware_before', m.firmware_before, 'firmware_after', m.firmware_after, "             \
	"'error', CASE WHEN " MODEM_OTHERS " THEN NULL ELSE m.error END, "                       \
	"'note', CASE WHEN " MODEM_OTHERS " THEN NULL ELSE m.note END, "                         \
	"'created_at', to_timestamp(m.created_ms / 1000.0), "                                    \
	"'updated_at', to_timestamp(m.updated_ms / 1000.0), "                                    \
	"'started_at', to_timestamp(m.started_ms / 1000.0), "                                    \
	"'finished_at', to_timestamp(m.finished_ms / 1000.0))"

/* Whether the tenant in $1 sees gateway g's modem: its devices were heard through g. */
#define MODEM_SEES(g)                                                                            \
	"EXISTS (SELECT 1 FROM engine_device_gateway h WHERE h.tenant_id = $1 AND h.gateway_id " \
	"= " g ")"

#endif
