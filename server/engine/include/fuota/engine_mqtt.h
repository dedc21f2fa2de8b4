/* The job engine on MQTT (ChirpStack v4 topics, CHIRPSTACK-NOTES §9): one thread that drains the
 * uplinks and gateway acks of shared subscriptions into engine_on_uplink / engine_on_ack and calls
 * engine_tick when a deadline is due; the engine's messages go out through fuota_mqtt with QoS 1.
 *
 *   in   $share/{group}/{app_topic}/+/device/+/event/up       UplinkEvent, JSON or protobuf
 *                                                             (detected per message)
 *   in   $share/{group}/{region_prefix}/gateway/+/event/ack   DownlinkTxAck, JSON or protobuf
 *   in   $share/{group}/{region_prefix}/gateway/+/event/stats GatewayStats: its encoding only
 *   out  {app_topic}/{app}/device/{dev_eui}/command/down      DownlinkCommand
 *   out  {region_prefix}/gateway/{gateway_id}/command/down    gw.DownlinkFrame, in the encoding
 *                                                             the gateway was last heard in
 *                                                             (engine_gateway.encoding), else
 *                                                             [mqtt] gateway_encoding
 *   out  {event_prefix}/{tenant}/job/{id}/event/{kind}         JSON events */
#ifndef FUOTA_ENGINE_MQTT_H
#define FUOTA_ENGINE_MQTT_H

#include <stdbool.h>
#include <stddef.h>

#include "fuota/engine.h"

struct cfg;
struct mqtt_client;
struct engine_runner;

/* Parses the region list of the configuration, "EU868:eu868:on, US915:us915:off" (name, topic
 * prefix, duty-cycle enforcement; prefix and flag optional: lowercase name, default_dc) into c.
 * Returns FUOTA_OK or FUOTA_ERR_INVALID_ARG with a message in err. */
int engine_cfg_parse_regions(struct engine_cfg *c, const char *spec, bool default_dc, char *err,
                             size_t errlen);

/* Starts the engine from fuotad's configuration: its own database connections (dsn), an MQTT
 * client on c->mqtt_url, the subscriptions and the engine thread. Returns FUOTA_OK,
 * FUOTA_ERR_INVALID_ARG (bad engine settings, message logged), FUOTA_ERR_IO (database) or
 * FUOTA_ERR_NO_MEMORY. The broker need not be up: the client keeps connecting. */
int engine_runner_start(const struct cfg *c, struct engine_runner **out);

/* As engine_runner_start over an existing store and MQTT client (both borrowed): for tests. */
int engine_runner_start_with(struct store *s, struct mqtt_client *mqtt,
                             const struct engine_cfg *ecfg, const char *share_group,
                             struct engine_runner **out);

/* Whether the engine stopped for good because another process took its instance id after its
 * instance lock was lost (fuota/ilock.h): fuotad then exits with an error. */
bool engine_runner_refused(const struct engine_runner *r);

/* Stops the thread, flushes the MQTT outbox (up to 2 s), releases the engine's leases and frees
 * everything it created; NULL accepted. */
void engine_runner_stop(struct engine_runner *r);

#endif
