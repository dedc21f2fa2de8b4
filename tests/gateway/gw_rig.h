/* The processes of fuota-gw's end-to-end tests: fuota-modem-sim on a pty (simh), a private
 * mosquitto (tests/e2e/mosquitto.sh), an observer on {prefix}/gateway/#, fuota-gw through the
 * simulator and fuota-sim's Semtech UDP gateway, all in a fresh temporary folder. */
#ifndef GW_RIG_H
#define GW_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
/* How long fuota-gw may take from its start to its "listening" line, which it writes once the
 * module answered and registered (modem_up). fuota-gw itself gives the module 30 s to answer
 * AT at boot (sara_boot in modem_up; past it fuota-gw exits): a process killed between
 * "AT+USOWR=<s>,<n>" and its n bytes leaves the module at the '@' prompt taking every AT as
 * socket data until its own 10 s data timeout (fuota-modem-sim's msim_expect_raw), so a restart
 * needs 3.5 s unloaded and 13.5 s after such a kill. 30 s, plus one +CEREG poll (2 s) and the
 * rest of the boot's 15 commands, under a loaded CI machine. */
#define RIG_BOOT_MS 40000

/* fuota-gw through the simulator with its extra NULL-terminated arguments (may be NULL); port 0
 * the first time (the kernel picks), else that port again. Waits (RIG_BOOT_MS) for this start's
 * "listening" line: the broker hears fuota-gw about 1 s later (relay, paho's connection). */
void rig_gw_start(struct gw_rig *r, unsigned port, const char *const *extra);
/* SIGKILL, then the same fuota-gw again on its port with extra (rig_gw_start). */
void rig_gw_restart(struct gw_rig *r, const char *const *extra);
/* fuota-sim with devices uplinking every second to fuota-gw, for timeout_s. */
void rig_sim_start(struct gw_rig *r, const char *timeout_s, const char *devices);
/* Publishes payload on {prefix}/gateway/{id}/<sub>, QoS 1, retained or not. */
void rig_publish(struct gw_rig *r, const char *sub, const char *payload, bool retain);
/* The fuota-sim report's gateway counters: PUSH_DATA uplinks acked by fuota-gw (returned) and
 * uplinks sent (*uplinks). */
unsigned rig_report_acked(const struct gw_rig *r, unsigned *uplinks);
/* command/sessions (retained): one window [start, end] (Unix seconds) of job "e2e", guard_s. */
void rig_publish_window(struct gw_rig *r, int guard_s, int64_t start, int64_t end);
/* A package of fuota-modem-sim's format at path (its README): FSIMFWP1, the version it applies
 * to and the new one (24 bytes each), the body's length, a CRC-32 of header and body, then body
 * bytes of a fixed pattern. */
void rig_write_package(const char *path, const char *from, const char *to, size_t body);
/* The MD5 of the file at path (md5sum), 32 hex digits into md5 (cap >= 33). */
void rig_md5(const char *path, char *md5, size_t cap);
/* Whether a line of the rig's file name (gw.log, at.log ...) holds what; false with no file. */
bool rig_file_has(const struct gw_rig *r, const char *name, const char *what);

#endif
