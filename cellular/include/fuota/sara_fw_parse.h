/* Pure parsers of the SARA-R5 firmware-update URCs and replies (FW app note UBX-20033314,
 * CELLULAR-NOTES §2). Each takes one line as the module sent it (without CR LF, the prefix
 * included), checks every field's presence and range and returns 0 or FUOTA_ERR_MALFORMED; none
 * reads past len or asserts on input. The app note's example lines are quoted above each parser in
 * sara_fw_parse.c. +UUHTTPCR / +UUFTPCR are parsed by sara_parse.h. */
#ifndef FUOTA_SARA_FW_PARSE_H
#define FUOTA_SARA_FW_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "+UFOTASTAT: <event>,<p1>,<p2>" */
struct fwu_ufotastat {
	int event; /* 0 progress, 1 start/resume, 2 download result, 3 client start / FOTA status */
	int p1;
	int p2;
};
int fwu_parse_ufotastat(const char *line, size_t len, struct fwu_ufotastat *out);

/* "+UFWPREVAL: <0..100>" → validation percent. */
int fwu_parse_ufwpreval(const char *line, size_t len, int *pct);

/* "+UUFWINSTALL: <n>" and the app note's other spelling "+UFWINSTALL: <n>": n ≤ 100 is progress,
 * n ≥ 128 the result (128 success). 101..127 and > 255 are refused. */
int fwu_parse_install(const char *line, size_t len, int *n);

/* "+UFWUPD: ONGOING" (*ongoing true, *n -1) or "+UFWUPD: <n>" (progress / result as above). */
int fwu_parse_ufwupd(const char *line, size_t len, bool *ongoing, int *n);

/* "+ULWM2MSTAT: <event>,<server>,<status>" or with a quoted path for event 3. */
struct fwu_lwm2mstat {
	int event;
	int server;
	int status;    /* -1 when the third field is a path */
	char path[32]; /* "" when absent */
};
int fwu_parse_ulwm2mstat(const char *line, size_t len, struct fwu_lwm2mstat *out);

/* "+UFOTA: <state>,<total_bytes>,<downloaded_bytes>" (AT+UFOTA?). */
int fwu_parse_ufota(const char *line, size_t len, int *state, uint32_t *total, uint32_t *done);

/* "+ULWM2MREG: 721,3,86281" / "+ULWM2MREG: 721,0" → server, status, lifetime left (-1 absent). */
int fwu_parse_ulwm2mreg(const char *line, size_t len, int *server, int *status, long *left);

/* "+USECFW: <0|1|3>" (AT+USECFW=0 / =1). */
int fwu_parse_usecfw(const char *line, size_t len, int *status);

/* "+USECMODE: <n>" (AT+USECMODE?): 0 means the secure data suite is off. */
int fwu_parse_usecmode(const char *line, size_t len, int *mode);

/* "+ULWM2MREAD: {\"bn\":\"/5/0/1/\",\"e\":[{\"n\":\"1\",\"sv\":\"<uri>\"}]}" (the package URI,
 * Table 3) → uri, NUL-terminated (FUOTA_ERR_NO_SPACE when cap is too small). */
int fwu_parse_package_uri(const char *line, size_t len, char *uri, size_t cap);

/* "+ULWM2MREAD: {\"bn\":\"/1/10/\",\"e\": {\"n\":\"0\",\"v\":721}, {\"n\":\"1\",\"v\":86400}, ...}"
 * (§3.6, the server object of the uFOTA server) → the registration lifetime (resource 1) in
 * seconds. */
int fwu_parse_srlt(const char *line, size_t len, long *seconds);

/* The install result names of CELLULAR-NOTES §2.7 ("success", "flash access failure", ...);
 * "progress" for 0..100, "unknown result" otherwise. Never NULL. */
const char *fwu_install_result_name(int n);

/* Whether two MD5 strings (32 hex digits) are equal, ignoring case; false when either is not 32
 * hex digits. */
bool fwu_md5_equal(const char *a, const char *b);

#endif
