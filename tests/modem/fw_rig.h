/* The rig of the firmware-update manager's end-to-end tests (test_cellular_fw.c: FOAT, HTTP,
 * UART, RoT; test_cellular_ufota.c: uFOTA): fuota-modem-sim time-scaled on its pty (install
 * 1.5 s, Xmodem window / 20), the driver and the manager on the line, a state file in the
 * simulator's folder. Set MSIM_AT_LOG=1 to see the AT log on stderr. */
#ifndef FW_RIG_H
#define FW_RIG_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fuota/at_client.h"
#include "fuota/cell_serial.h"
#include "fuota/sara.h"
#include "fuota/sara_fw.h"
#include "simh.h"

#define OLD "03.15,A00.01"
#define NEW "03.16,A00.02"

#define OLD "03.15,A00.01"
#define NEW "03.16,A00.02"

struct rig {
	struct simh h;
	struct cell_serial ser;
	struct at_client *at;
	struct sara *s;
	struct fwu *u;
	char state[300];
	int last_pct;       /* the install's progress last reported */
	unsigned restarts;  /* times the install's progress went back (a restart at boot) */
	unsigned validates; /* times validation began */
	unsigned reg102;    /* AT+ULWM2MREG=102 sent (Table 3) */
	uint64_t reg102_ms; /* when the last was sent */
};

/* One ctest case: fw_rig_main runs the case named by argv[1] between rig_setup and rig_teardown. */
struct fw_case {
	const char *name;
	CMUnitTestFunction fn;
};
int fw_rig_main(int argc, char **argv, const struct fw_case *cases, size_t n);

int rig_setup(void **state);
int rig_teardown(void **state);
/* The manager, the driver and the AT client opened on the pty again (a restarted host) / closed. */
int rig_open(struct rig *r);
void rig_close(struct rig *r);
uint64_t now_ms(void);
/* A package from -> to with a body of n pseudo-random bytes (malloc'd). */
uint8_t *package(const char *from, const char *to, size_t n, size_t *len);
/* Booted, with a desired configuration to restore: MNO profile 100, an APN on cid 1. */
void prepare(struct rig *r);
/* The module runs version, the state file is complete and says state. */
void outcome(struct rig *r, const char *version, enum fwu_state state);
/* ... and the settings the update erased are back. */
void restored(struct rig *r);
/* uFOTA (§3): a package from -> to (put_www: OLD -> NEW) in www/<name> for the campaigns. */
void put_pkg(struct rig *r, const char *name, const char *from, const char *to, size_t body);
void put_www(struct rig *r, const char *name, size_t body);
/* URCs handled until the manager's state is want (10 s at most). */
void wait_state(struct rig *r, enum fwu_state want);
/* A campaign in mode (0 default, 1 download only, 2 wait for ack, 3 disabled), URCs enabled. */
void campaign(struct rig *r, int mode);

#endif
