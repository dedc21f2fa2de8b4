/* fuota-gw's modem updates: fuotad's commands (command/modem-update, command/sessions) carried
 * out with the firmware-update manager (sara_fw.h), deferred around the multicast session
 * windows (gw_mu_earliest), and every step reported as an event/modem-update.
 *
 * Threads. The manager lives on fuota-gw's AT client. Between updates the main loop owns the
 * modem (the relay runs, and the manager sees uFOTA's URCs there). An update runs on a worker
 * thread that owns the modem until it ends: the caller takes the backhaul down first (mu_tick
 * says when), touches neither the modem nor the AT client while mu_busy, and brings the
 * backhaul back when mu_tick says the update ended. Events cross through a locked list.
 * Private to the fuota-gw program. */
#ifndef FUOTA_GW_MODEM_UPDATE_H
#define FUOTA_GW_MODEM_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/cell_serial.h"
#include "fuota/gw_state.h"
#include "fuota/sara.h"

struct mu_opts {
	const char *state_dir; /* modem-update.gw (gw_mu_saved.h) and the manager's state file */
	const char *apn;       /* restored after an update; NULL: the module's own */
	uint32_t baud;
	const char *http_user, *http_pass; /* credentials of fuota-gw's own configuration */
	const char *ftp_user, *ftp_pass;
	int64_t install_s; /* the expected install, for the deferral; 0: 1920 (32 min) */
	int64_t dl_s;      /* the expected download of http, ftp and ufota; 0: 300 */
	bool ufota_ack;    /* puts uFOTA in wait-for-ack mode at start */
	uint32_t poll_ms;  /* the manager's AT poll while the module is away; 0: its default */
	uint32_t xfer_s;   /* the longest download; 0: 600 */
	uint32_t install_timeout_s; /* 0: the manager's 40 min */
};

struct mu;

/* Whether the manager's state file in state_dir says the module installs (it answers no AT
 * and must not be reset): the caller then neither boots nor registers it, opens the manager
 * and lets mu_tick resume the update before the backhaul starts. */
bool mu_module_away(const char *state_dir);
/* Opens the manager on the driver s (booted unless mu_module_away), sets uFOTA's mode, and
 * takes up what an earlier run left in modem-update.gw, as gw_mu_boot decides (an update under
 * way is resumed by the first mu_tick; a waiting one waits, paused or not; the state is said
 * again). A damaged file is logged and set aside, never fatal. */
int mu_open(const struct mu_opts *o, struct sara *s, struct at_client *at, struct cell_serial *ser,
            struct mu **out);
/* Waits for a running update to end (never interrupts an install), then frees. NULL ok. */
void mu_close(struct mu *m);

/* A message on command/<kind> ("modem-update" or "sessions"). Bad input is logged and ignored;
 * an id at or below the last one handled is ignored. */
void mu_command(struct mu *m, const char *kind, const void *payload, size_t len, int64_t now_s);

enum mu_tick {
	MU_IDLE = 0,  /* the main loop owns the modem */
	MU_START,     /* an update wants the modem: take the backhaul down, then mu_go */
	MU_START_NOW, /* the same, at once: the module downloads already (uFOTA, §3.7.3) */
	MU_BUSY,      /* the worker owns the modem */
	MU_ENDED      /* the worker ended and was joined: bring the backhaul back */
};
/* The main loop's turn (the deferral, uFOTA's ack, the worker's end). */
enum mu_tick mu_tick(struct mu *m, int64_t now_s);
/* Starts the worker (after MU_START, with the backhaul down). */
void mu_go(struct mu *m);
bool mu_busy(const struct mu *m);

/* The next event/modem-update JSON (malloc'd, the caller frees): true when there was one. */
bool mu_pop_event(struct mu *m, char **json, size_t *len);
/* The "update" of state/modem. */
void mu_update_state(struct mu *m, struct gw_modem_update *out);

#endif
