/* The processes of fuota-gw's end-to-end tests: fuota-modem-sim on a pty (simh), a private
 * mosquitto (tests/e2e/mosquitto.sh), an observer on {prefix}/gateway/#, fuota-gw through the
 * simulator and fuota-sim's Semtech UDP gateway, all in a fresh temporary folder. */
#ifndef GW_RIG_H
#define GW_RIG_H

#include <stdbool.h>
#include <sys/types.h>

#include "fuota/mqtt.h"
#include "simh.h"

#define RIG_PREFIX "eu868"
#define RIG_GW_ID  "0016c001ff000000"

struct gw_rig {
	char dir[256], broker_dir[300];
	unsigned broker_port, gw_port;
	struct simh h;
	pid_t gw, sim;
	struct mqtt_client *mq;
	struct mqtt_queue *q;
	bool json; /* fuota-gw and fuota-sim's gateway in the JSON mapping */
};

long rig_now_ms(void);
/* Forks argv[0] with stdout and stderr appended to log. */
pid_t rig_spawn(const char *const *argv, const char *log);
/* kill(sig) and waitpid, then *pid = 0 (nothing when 0). */
void rig_stop_pid(pid_t *pid, int sig);
/* A fresh folder, the simulator (its extra NULL-terminated arguments), the broker and the
 * observer: 0, or -1. */
int rig_setup(struct gw_rig *r, bool json, const char *const *sim_args);
/* Stops everything; removes the folder unless GW_E2E_KEEP is set. */
void rig_teardown(struct gw_rig *r);
/* fuota-gw through the simulator with its extra NULL-terminated arguments (may be NULL); port 0
 * the first time (the kernel picks). Waits for its "listening" line. */
void rig_gw_start(struct gw_rig *r, unsigned port, const char *const *extra);
/* fuota-sim with devices uplinking every second to fuota-gw, for timeout_s. */
void rig_sim_start(struct gw_rig *r, const char *timeout_s, const char *devices);
/* Publishes payload on {prefix}/gateway/{id}/<sub>, QoS 1, retained or not. */
void rig_publish(struct gw_rig *r, const char *sub, const char *payload, bool retain);
/* The fuota-sim report's gateway counters: PUSH_DATA uplinks acked by fuota-gw (returned) and
 * uplinks sent (*uplinks). */
unsigned rig_report_acked(const struct gw_rig *r, unsigned *uplinks);

#endif
