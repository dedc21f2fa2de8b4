/* The firmware-update manager's state, shared by sara_fw.c (state file, events, the action loop,
 * waiting for the module, the restore) and sara_fw_xfer.c (FOAT, HTTP, FTP, UART, install, RoT). */
#ifndef FUOTA_SARA_FW_PRIVATE_H
#define FUOTA_SARA_FW_PRIVATE_H

#include "fuota/sara_fw.h"
#include "sara_private.h"

struct fwu {
	struct fwu_config cfg;
	struct sara *s;
	const struct cell_clock *clk;
	struct fwu_status st;
	struct fwu_desired want;
	unsigned pending; /* actions still to run */
	char err[256];
	const char *own_cmd; /* the one command of our own the check lets through */
	const uint8_t *pkg;  /* the FOAT package of the running fwu_foat, else NULL */
	size_t pkg_len;
	struct fwu_foat_opts foat;
	bool just_sent;    /* +UFWINSTALL just answered OK: the module has not gone silent yet */
	uint64_t sent_ms;  /* when */
	uint32_t alt_baud; /* a FOAT rate the module may answer at after the update, 0: none */
	bool started;      /* this process started an update itself (fwu_start) */
	char pkg_md5[33];  /* the package of the next update (fwu_set_package_md5), "" unknown */
	bool resending;    /* foat_resume: a package offered to a module that may not wait */
	int rot_status;    /* the last +USECFW: value, -1 unknown */
	bool vz_checked;   /* Table 3: the package URI was read for this download */
	bool vz_active;    /* ... and it is not u-blox's: the Verizon DM server drives it */
	uint64_t vz_next_ms;
};

/* Records a message (logged in the AT log, given to on_report) and returns err. */
int fwu_fail(struct fwu *u, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* ATI9 as "<fw>,<app>" into ver ("" when it cannot be read). */
void fwu_read_version(struct fwu *u, char *ver, size_t cap);
/* The START event with the module's version. */
int fwu_start(struct fwu *u, enum fwu_method m);
/* fwu_run, then 0 when the status is DONE, else an error saying it is not. */
int fwu_finish(struct fwu *u);
/* Writes the state file (temp, fsync, rename). */
int fwu_persist(struct fwu *u);
/* Table 3's Verizon case, once per loop of a host that waits (sara_fw_ufota.c). */
void fwu_verizon_tick(struct fwu *u);
/* Actions run by sara_fw_xfer.c. */
int fwu_do_install(struct fwu *u);
int fwu_do_send_package(struct fwu *u);

#endif
