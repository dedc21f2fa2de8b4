/* The SARA-R5 firmware-update state machine (issue 11; FW app note UBX-20033314; CELLULAR-NOTES
 * §2), pure: one set of states for every method (uFOTA, FOAT, HTTP, FTP, UART, RoT), a step
 * function (status + event → new status + actions), the URC → event mapping, the command check of
 * Appendix B, the invariants "no reset during an install" and "no second transfer over an
 * install", the plan of commands that restores what an update erased (Table 16), and the state
 * file's text codec. No I/O: sara_fw.h drives the module and writes the file.
 *
 * Ownership: every function works on the caller's structs and buffers. */
#ifndef FUOTA_SARA_FW_SM_H
#define FUOTA_SARA_FW_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fwu_method {
	FWU_M_NONE = 0,
	FWU_M_UFOTA, /* LwM2M client + u-blox uFOTA server (§3) */
	FWU_M_FOAT,  /* +UFWUPD, full package by Xmodem (§4) */
	FWU_M_HTTP,  /* +UHTTPC=..,100 then +UFWINSTALL (§5.2, §6) */
	FWU_M_FTP,   /* +UFTPC=100 then +UFWINSTALL (§5.1, §6) */
	FWU_M_UART,  /* +UDWNFILE .."FOAT" then +UFWINSTALL (§5.3, §6) */
	FWU_M_ROT    /* +USECFW=1 (§8) */
};

enum fwu_state {
	FWU_S_IDLE = 0,
	FWU_S_ACK_PENDING,   /* uFOTA wait-for-ack: the server asks (+UFOTASTAT: 0,3,0) */
	FWU_S_DOWNLOADING,   /* a package is on its way into the module */
	FWU_S_PAUSED,        /* uFOTA download paused by the host (+UFOTASTAT: 0,2,x) */
	FWU_S_UPDATE_MODE,   /* FOAT: the module is in Firmware Update Mode waiting for Xmodem */
	FWU_S_DOWNLOADED,    /* the package is in the FOAT area, MD5/size checked */
	FWU_S_INSTALL_START, /* install commanded (or uFOTA/FOAT will reboot into it) */
	FWU_S_VALIDATING,    /* +UFWPREVAL */
	FWU_S_INSTALLING,    /* +UUFWINSTALL / +UFWUPD progress */
	FWU_S_REBOOTING,     /* result 128 seen: the module reboots into the new firmware */
	FWU_S_RESTORING,     /* the module answers: the erased settings are being restored */
	FWU_S_DONE,
	FWU_S_FAILED
};
#define FWU_S_COUNT 13

/* Why the last update failed (status.fail). */
enum fwu_fail {
	FWU_F_NONE = 0,
	FWU_F_DOWNLOAD,    /* the transfer failed (detail: +UFOTASTAT p2, HTTP/FTP error, ...) */
	FWU_F_MD5,         /* the MD5 of +UUHTTPCR / +UUFTPCR differs from the package's */
	FWU_F_WINDOW,      /* FOAT: no Xmodem start inside the 109 s window; old firmware runs */
	FWU_F_VALIDATION,  /* the package failed validation; old firmware runs */
	FWU_F_INSTALL,     /* an install error ≥ 129 (detail: the code) */
	FWU_F_VERSION,     /* the module came back without a new version */
	FWU_F_TIMEOUT,     /* a phase deadline passed */
	FWU_F_CANCELLED,   /* cancelled or rejected by the host (+UFOTASTAT: 2,3,100) */
	FWU_F_REJECTED,    /* rejected by the device (uFOTA disabled) */
	FWU_F_INTERRUPTED, /* the host stopped mid-download; the partial file is stale */
	FWU_F_ROT          /* +USECFW=1 did not answer 0 */
};

/* The persisted status. */
struct fwu_status {
	enum fwu_state state;
	enum fwu_method method;
	int pct;        /* progress of the current phase, 0..100 */
	int result;     /* last install result ≥ 128, 0 when none */
	int fail;       /* enum fwu_fail */
	int fail_code;  /* the detail: install code, +UFOTASTAT p2, HTTP class*1000+code */
	int ufota_mode; /* +UFOTACONFIG mode set: 0 default, 1 download only, 2 wait for ack, 3 off
	                 */
	unsigned sends; /* FOAT: Xmodem transfers started in this update */
	uint32_t foat_baud;  /* FOAT: the rate the module speaks from +UFWUPD on (0: none) */
	uint32_t seq;        /* transitions so far */
	char ver_before[48]; /* ATI9 before the update ("" unknown) */
	char ver_after[48];  /* ATI9 after it */
	char pkg_md5[33];    /* the package's MD5 (32 hex digits) of this update, "" unknown */
};

enum fwu_ev_kind {
	FWU_EV_START = 0,    /* host starts an update: method */
	FWU_EV_ACK_PENDING,  /* +UFOTASTAT: 0,3,0 */
	FWU_EV_TRIGGERED,    /* +UFOTASTAT: 1,0,0 */
	FWU_EV_DL_PROGRESS,  /* pct: +UFOTASTAT: 0,1,pct or Xmodem progress */
	FWU_EV_DL_PAUSED,    /* pct: +UFOTASTAT: 0,2,pct */
	FWU_EV_DL_DONE,      /* package complete in the module (MD5 checked by the caller) */
	FWU_EV_DL_FAILED,    /* fail (enum fwu_fail), code */
	FWU_EV_UPDATE_MODE,  /* +UFWUPD: ONGOING */
	FWU_EV_INSTALL_SENT, /* +UFWINSTALL answered OK (written ahead: before it is sent) */
	FWU_EV_PREVAL,       /* pct: +UFWPREVAL */
	FWU_EV_INSTALL,      /* code: +UUFWINSTALL / +UFWUPD n (≤ 100 progress, ≥ 128 result) */
	FWU_EV_MODULE_BACK,  /* AT answers again; version: ATI9 ("" when unread) */
	FWU_EV_RESTORED,     /* the desired configuration is applied */
	FWU_EV_TIMEOUT,      /* the current phase's deadline passed */
	FWU_EV_CLIENT_START, /* +UFOTASTAT: 3,1,0: LwM2M client start, NOT an installed update */
	FWU_EV_RESTART,      /* the host process started and read this status back */
	FWU_EV_CANCEL        /* host asks to cancel */
};

struct fwu_event {
	enum fwu_ev_kind kind;
	enum fwu_method method; /* START */
	int pct;
	int fail;
	int code;
	const char *version; /* MODULE_BACK, START (the version before) */
	uint32_t baud;       /* START of FOAT: the +UFWUPD rate */
	const char *md5;     /* START: the package's MD5 (32 hex digits), NULL unknown */
};

/* What the driver must do after a step (bits of step's *actions). */
enum {
	FWU_A_CLOSE_SOCKETS = 1u << 0, /* §3.7.3: close sockets before the download completes */
	FWU_A_SEND_PACKAGE = 1u << 1,  /* FOAT: Xmodem the package (again) */
	FWU_A_INSTALL = 1u << 2,       /* send AT+UFWINSTALL */
	FWU_A_WAIT_MODULE = 1u << 3,   /* poll AT until the module answers; never reset it */
	FWU_A_READ_VERSION = 1u << 4,  /* ATI9 / AT+CGMR */
	FWU_A_RESTORE = 1u << 5,       /* apply the desired configuration (Table 16) */
	FWU_A_ROT_CHECK = 1u << 6,     /* offer AT+USECFW=0 (§8) */
	FWU_A_ENABLE_URCS = 1u << 7,   /* +ULWM2MSTAT=1, +UFOTASTAT=1, +UFWINSTALL=,,,1 */
	FWU_A_REPORT = 1u << 8,        /* tell the user: done, failed or stuck */
	FWU_A_PERSIST = 1u << 9        /* the status changed: write the state file */
};

/* FOAT transfers tried in one update before the manager stops and reports. */
#define FWU_FOAT_SENDS_MAX 3

/* One step. Copies *cur to *next, applies ev and sets *actions. Returns 0, or FUOTA_ERR_STATE when
 * the event is refused in this state (a transfer over an install, a cancel during an install):
 * *next is then *cur, *actions 0, and why (may be NULL) says why. Pure. */
int fwu_step(const struct fwu_status *cur, const struct fwu_event *ev, struct fwu_status *next,
             unsigned *actions, char *why, size_t why_cap);

/* Whether the module may be reset or power-cycled in this state: false from the moment an install
 * was commanded until the module answers again (INSTALL_START, VALIDATING, INSTALLING,
 * REBOOTING) and during a FOAT Firmware Update Mode. */
bool fwu_reset_allowed(enum fwu_state s);
/* Whether a new transfer may start: only from IDLE, DONE and FAILED (and a FOAT resend in
 * UPDATE_MODE, method FOAT). */
bool fwu_transfer_allowed(enum fwu_state s, enum fwu_method m);
/* Whether an update of method m is under way in status st, so that the same update asked again
 * (a host killed mid-update runs it again) must go on from where it stands instead of starting a
 * transfer: any state of method m but IDLE, DONE and FAILED. For FOAT in UPDATE_MODE or its
 * DOWNLOADING (the +UFWUPD may have reached the module) the package goes again (§4.1.1); for a
 * download method caught downloading, resume reports it stale. Never for uFOTA, which the server
 * drives. Pure. */
bool fwu_update_under_way(const struct fwu_status *st, enum fwu_method m);
/* Whether the update of method m with the package of MD5 md5 is finished already, so that the
 * same update asked again is reported done and nothing is sent (a delta sent again to the new
 * firmware fails with 168, wrong base version): st DONE with that method and package, and the
 * module's version now (ATI9 "<fw>,<app>") the version the update ended on. Pure. */
bool fwu_update_done(const struct fwu_status *st, enum fwu_method m, const char *md5,
                     const char *version_now);

/* Appendix B (Table 17) and the two invariants, for a command about to be sent in status st:
 * FUOTA_ERR_STATE with why filled when cmd must not be sent, else 0. cmd is the text without CR
 * ("AT+USODL=0"). Pure. */
int fwu_cmd_check(const struct fwu_status *st, const char *cmd, char *why, size_t cap);
/* Whether cmd, about to be sent in status st, is a software reset (AT+CFUN=15/16, AT+CFUN=1,1,
 * AT+CPWROFF, AT+UFACTORY) during a uFOTA download (DOWNLOADING or PAUSED), which must then be
 * preceded by AT+COPS=2 for the download to resume after it (FW app note §3.2.2). Pure. */
bool fwu_cmd_needs_dereg(const struct fwu_status *st, const char *cmd);

/* Maps one URC line to an event for a manager in status st. Returns 0 with *ev filled, 1 when the
 * line is understood but carries nothing for the state machine (+ULWM2MSTAT, +UFOTASTAT event 4),
 * FUOTA_ERR_MALFORMED when it does not parse, FUOTA_ERR_NOT_FOUND for other prefixes. Pure. */
int fwu_urc_event(const struct fwu_status *st, const char *line, size_t len, struct fwu_event *ev);

/* A uFOTA campaign runs in the module alone: its URCs are lost while no host listens. From what
 * the module says when a host comes back (version_now: ATI9 "<fw>,<app>", "" unknown; AT+UFOTA?'s
 * total and done bytes), the event that brings status st up to date: MODULE_BACK when the module
 * runs another version than before the campaign (it was installed meanwhile), DL_DONE when the
 * whole package is there in download-only mode, DL_PROGRESS while it downloads. Returns 0 with *ev
 * filled, 1 when st is not a uFOTA download or nothing is new. Pure. */
int fwu_ufota_sync_event(const struct fwu_status *st, const char *version_now, uint32_t total,
                         uint32_t done, struct fwu_event *ev);

/* The settings the host keeps and re-applies after an update (Table 16; CELLULAR-NOTES §2.8). */
#define FWU_APNS 4
struct fwu_desired {
	int mno; /* +UMNOPROF, -1 to leave alone */
	struct {
		int cid;          /* 0: unused slot */
		char pdp_type[8]; /* "IP", "IPV6", "IPV4V6", "NONIP" */
		char apn[64];
	} apn[FWU_APNS];
	int psm;            /* -1 leave alone, 0 off, 1 on */
	char psm_tau[9];    /* T3412 ext., 8 bits as "00000110" ("" module default) */
	char psm_active[9]; /* T3324 */
	int edrx;           /* -1 leave alone, 0 off, 1 on */
	int edrx_act;       /* +CEDRXS AcT: 4 LTE-M, 5 NB-IoT */
	char edrx_value[5]; /* "0101" */
	bool urcs;          /* +ULWM2MSTAT=1, +UFOTASTAT=1, +UFWINSTALL=,,,1 */
	bool urcs_install;  /* the variant supports +UFWINSTALL=,,,1 (not 00B-00) */
};

/* Fills d with "leave everything alone". */
void fwu_desired_init(struct fwu_desired *d);

/* The commands that restore d, in order, one per row of cmds (each NUL-terminated, < 160 bytes):
 * first whether the MNO profile must change (*mno_change true: the caller runs AT+CFUN=0,
 * +UMNOPROF, the extra reboot, before the rest), then +CGDCONT per APN, +CPSMS, +CEDRXS and the
 * URC enables. cur_mno is the profile the module reports (-1 unknown). FUOTA_ERR_NO_SPACE when
 * max rows are too few; FUOTA_ERR_INVALID_ARG for a value with a quote or control byte. Pure. */
int fwu_restore_plan(const struct fwu_desired *d, int cur_mno, bool *mno_change, char (*cmds)[160],
                     size_t max, size_t *n);

/* The state file: "fuota-modem-state 1\n", key=value lines, then "crc=<8 hex>\n" over every byte
 * before it. fwu_file_encode writes into buf (FUOTA_ERR_NO_SPACE when cap is too small) and sets
 * *len. fwu_file_decode reads it back: FUOTA_ERR_MALFORMED for anything but a complete file
 * (missing or extra key, value out of range, bad CRC, bytes after the CRC line) so a file cut
 * at any length is refused, never half-read. Pure. */
int fwu_file_encode(const struct fwu_status *st, const struct fwu_desired *d, char *buf, size_t cap,
                    size_t *len);
int fwu_file_decode(const char *buf, size_t len, struct fwu_status *st, struct fwu_desired *d);

/* Names for logs and --json: "downloading", "foat", "md5 mismatch", ...; never NULL. */
const char *fwu_state_name(enum fwu_state s);
const char *fwu_method_name(enum fwu_method m);
const char *fwu_fail_name(int f);
/* Parses "ufota" / "foat" / "http" / "ftp" / "uart" / "rot"; FUOTA_ERR_INVALID_ARG otherwise. */
int fwu_method_parse(const char *s, enum fwu_method *m);

#endif
