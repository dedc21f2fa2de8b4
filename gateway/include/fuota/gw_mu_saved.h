/* What fuota-gw keeps on disk about fuotad's modem updates, and what it takes up at start-up,
 * pure: the file {state-dir}/modem-update.gw and the start-up decision made from it and the
 * manager's own status (sara_fw_sm.h). fuota-gw writes the file whole at every change (temp
 * file, fsync, rename), so a power cut, a SIGKILL or a systemd restart leaves the old or the new
 * one, and the retained command fuotad left on the broker is judged against lastId.
 *
 *   {"v": 1, "lastId": <the last command id handled>,
 *    "waiting": {"paused": <bool>, "command": {<the start, as on command/modem-update>}},
 *    "current": {"id": <id, 0 a uFOTA push>, "method": "ufota"|"foat"|"http"|"ftp"|"uart",
 *                "seq": <the manager's transition count when it became current>,
 *                "acked": <bool>, "deferredUntil": <unix s>, "command": {<its start>}}}
 *
 * "waiting" is a start that has not begun (deferred, paused, or before the windows are known);
 * "current" the update handed to the module (or, for uFOTA, a start waiting for the server's
 * request, or a request accepted with +UFOTAACK and a delay). Both are absent when none.
 *
 * Ownership: every function works on the caller's structs; gw_mu_saved_to_json mallocs. */
#ifndef FUOTA_GW_MU_SAVED_H
#define FUOTA_GW_MU_SAVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/gw_modem_cmd.h"
#include "fuota/sara_fw_sm.h"

struct gw_mu_saved {
	int64_t last_id; /* 0: none handled */
	bool waiting;
	bool paused;          /* the waiting start was paused by fuotad */
	struct gw_mu_cmd cmd; /* the waiting start */
	/* the update under way; cur_method FWU_M_NONE when none */
	int64_t cur_id;
	enum fwu_method cur_method;
	uint32_t cur_seq;       /* fwu_status.seq when it became current */
	bool acked;             /* uFOTA: the server's request accepted (+UFOTAACK=<delay>) */
	int64_t deferred_until; /* uFOTA acked: when the module starts downloading; uFOTA paused,
	                         * not acked: when fuotad's resume, held past a window, is sent;
	                         * 0 none */
	bool have_cur_cmd;
	struct gw_mu_cmd cur_cmd; /* the start of a host transfer (foat, http, ftp, uart) */
};

/* The file's JSON, malloc'd and NUL-terminated. FUOTA_ERR_INVALID_ARG for a struct that does not
 * make a valid file (a command the parser would refuse). */
int gw_mu_saved_to_json(const struct gw_mu_saved *s, char **out, size_t *out_len);

/* Reads the file back. FUOTA_ERR_MALFORMED with a message in err for anything else than what
 * gw_mu_saved_to_json writes (not JSON, cut short, another version, a field of the wrong type
 * or out of range, a command gw_mu_cmd_parse refuses or that is not a start): *out is then
 * all zero, never half-read. Unknown fields are ignored. */
int gw_mu_saved_parse(const char *buf, size_t len, struct gw_mu_saved *out, char *err,
                      size_t errlen);

/* What fuota-gw does with the update under way when it starts. */
enum gw_mu_boot_job {
	GW_MU_BOOT_NONE = 0, /* nothing for the worker: the main loop owns the modem */
	GW_MU_BOOT_RESUME,   /* the manager goes on (an install is waited for, never re-sent) */
	GW_MU_BOOT_TRANSFER  /* the host transfer again from its command: the manager goes on
	                      * from where it stands (FOAT's package again, a stale download
	                      * afresh) */
};

struct gw_mu_boot {
	enum gw_mu_boot_job job;
	/* RESUME of an http, ftp or uart download: the manager's resume ends it failed
	 * (interrupted: a download into the FOAT area does not resume), then the transfer goes
	 * again from the saved command, afresh, as fwu_http's own tries do */
	bool redo;
	int64_t cur_id;
	enum fwu_method cur_method; /* FWU_M_NONE: nothing under way */
	bool acked;
	int64_t deferred_until;
	bool report_final; /* the current update ended while no fuota-gw ran: say so now */
	bool waiting, paused;
	struct gw_mu_cmd cmd; /* the waiting start */
	/* what event/modem-update and state/modem say of it now ("" nothing): "paused",
	 * "deferred", "starting", "downloading", "done", "failed", "cancelled" */
	char state[16];
	bool event; /* state is said again as an event (else only state/modem shows it) */
};

/* The start-up decision from the saved file s (all zero when there was none) and the manager's
 * status st (read from its own state file). Pure.
 *  - An install under way, or a host transfer under way: the manager goes on under the saved
 *    id (TRANSFER for a FOAT before its install, redo for a download, when the command was
 *    saved).
 *  - The current update ended (DONE/FAILED, the manager moved since it became current): its
 *    final state is reported under its id.
 *  - uFOTA: the server's campaign is fuotad's update while it stays current (download, pause,
 *    a resume held past a window, request, the acked request's delay); a start whose server
 *    has not asked yet stays "starting".
 *  - A waiting start waits on, paused or not (a paused one is never started by a restart).
 *  - A host transfer saved current that the manager never began (killed before the worker
 *    ran) waits again, so that it starts outside the windows like any other. */
void gw_mu_boot(const struct gw_mu_saved *s, const struct fwu_status *st, int64_t now_s,
                struct gw_mu_boot *out);

/* A command judged while the ids are lost: modem-update.gw did not read, so the last id
 * handled is unknown and the retained command on the broker may be one handled already (fuotad
 * clears it only once it has the update's final event, which may still wait in fuota-gw's
 * queue). */
enum gw_mu_lost {
	GW_MU_LOST_TAKE = 0, /* taken as a new command */
	GW_MU_LOST_DONE      /* a start whose update ran to its end: its id handled, "done" said
	                      * again under it, nothing run */
};
/* Pure. DONE for a start whose update the manager's own record st (its state file, kept apart
 * from modem-update.gw) shows done: same method, same package (the command's md5 is the one
 * the record keeps) and the module now on the version the update ended on (version_now,
 * "fw,app" as ATI9 says; NULL unknown). Anything else is TAKE: a start without md5 or whose
 * update did not end done (it waited, failed, or another package) may be new, and running an
 * old one again is refused by the module (a delta package names the version it applies to);
 * pause, resume and cancel are judged as always. */
enum gw_mu_lost gw_mu_lost_judge(const struct gw_mu_cmd *c, const struct fwu_status *st,
                                 const char *version_now);

#endif
