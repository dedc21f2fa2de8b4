/* The SARA-R5 driver: start-up, identity, MNO profile, registration, the PDP context of the
 * internal IP stack, UDP/TCP sockets, the module file system, and the HTTP and FTP clients, over an
 * AT client (at_client.h). Replies are parsed by the pure functions of sara_parse.h; a reply that
 * does not parse fails the call with FUOTA_ERR_MALFORMED and sara_last_error() names the command
 * and the line.
 *
 * URCs are recorded in the driver's state (registration, socket data waiting, HTTP/FTP results)
 * and passed on to the optional event callback; the caller drives the idle loop with sara_poll().
 *
 * Ownership: the driver keeps the at_client and hardware pointers of its config; sara_destroy
 * removes its URC handlers and accepts NULL. */
#ifndef FUOTA_SARA_H
#define FUOTA_SARA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/at_client.h"
#include "fuota/sara_parse.h"

struct sara;

/* The module's control lines, where the board wires them. Each may be NULL. */
struct sara_hw {
	int (*power_pulse)(void *ctx, uint32_t ms); /* hold PWR_ON low for ms (on/off toggle) */
	int (*reset)(void *ctx, uint32_t ms);       /* hold RESET_N low for ms */
	void *ctx;
};

/* PWR_ON and RESET_N wired to the serial port's output lines (a UART adapter's DTR and RTS,
 * each through a transistor, so that an asserted line holds the module's pin low). A pulse
 * asserts the line for its ms, waiting on clock (NULL: cell_clock_monotonic()), then releases
 * it. pwr_line and reset_line are CELL_LINE_DTR, CELL_LINE_RTS or 0 (not wired). */
struct sara_hw_lines {
	struct cell_serial *serial;
	const struct cell_clock *clock;
	unsigned pwr_line;
	unsigned reset_line;
};
/* Fills hw with pulses on those lines (NULL callbacks for a line not wired); hw->ctx points at
 * lines, which must outlive hw. FUOTA_ERR_INVALID_ARG for an input line, two lines in one or the
 * same line twice. A pulse on a port without modem lines (a pty) fails FUOTA_ERR_UNSUPPORTED. */
int sara_hw_from_lines(struct sara_hw *hw, struct sara_hw_lines *lines);

enum sara_event_kind {
	SARA_EV_REG,         /* +CEREG URC: reg.stat */
	SARA_EV_PDP_UP,      /* +UUPSDA success */
	SARA_EV_PDP_DOWN,    /* +UUPSDD */
	SARA_EV_SOCK_DATA,   /* +UUSORD/+UUSORF: sock, bytes waiting */
	SARA_EV_SOCK_CLOSED, /* +UUSOCL: sock */
	SARA_EV_HTTP,        /* +UUHTTPCR: xfer */
	SARA_EV_FTP,         /* +UUFTPCR: xfer */
	SARA_EV_RECOVERY,    /* the recovery ladder acted: rung (enum at_recovery) */
	SARA_EV_CGEV         /* +CGEV packet-domain event: cgev (after sara_cgev_enable) */
};
struct sara_event {
	enum sara_event_kind kind;
	int sock;
	size_t bytes;
	struct sara_cereg reg;
	struct sara_xfer xfer;
	int rung;
	struct sara_cgev cgev;
};
typedef void (*sara_event_fn)(void *ctx, const struct sara_event *ev);

struct sara_config {
	struct at_client *at;           /* required */
	const struct cell_clock *clock; /* NULL: cell_clock_monotonic() */
	struct sara_hw hw;
	sara_event_fn on_event; /* may be NULL */
	void *event_ctx;
	int cmee; /* +CMEE mode set at boot: 1 numeric or 2 verbose; 0: 2 */
	/* Install the driver's recovery ladder on the AT client (at_set_recover): after
	 * consecutive timeouts, first sacrificial "AT"s (a sleeping UART loses the first
	 * character), then a power cycle through hw.power_pulse (2 s off, 1.5 s on), then
	 * hw.reset. After a power cycle or reset sara_needs_boot() is true until sara_boot. */
	bool recovery;
	/* The module's boot greeting (+CSGT text, UBX-20009652 §3.2.2), e.g. "FUOTA: READY"; NULL:
	 * none. sara_boot enables it (AT+CSGT=1,"<greeting>", kept in the module's NVM), and a line
	 * starting with it tells that the module restarted (sara_boots counts them): a download
	 * waiting for its result URC stops at once instead of at its timeout. The greeting needs a
	 * fixed rate: at +IPR=0 the module sends none and only the timeout is left. */
	const char *greeting;
	/* The host's line rate, to fix in the module at boot: a module at +IPR=0 (autobauding, the
	 * factory setting) sends no greeting and holds its URCs after every boot until the host's
	 * first AT (UBX-20009652 §3.2.2, §5.2). sara_boot then reads AT+IPR? and, at 0, sends
	 * AT+IPR=<fixed_baud>, waits 100 ms and stores it with AT&W (CELLULAR-NOTES §3.7). It must
	 * be the rate the port runs at. 0: +IPR is left alone. */
	uint32_t fixed_baud;
};

int sara_create(const struct sara_config *cfg, struct sara **out);
void sara_destroy(struct sara *s);

/* The message of the last failure: "AT+USOCR=17: cannot parse '+USOCR: x'" etc.; "" when none. */
const char *sara_last_error(const struct sara *s);

/* Whether the recovery ladder power-cycled or reset the module since the last sara_boot (its
 * volatile settings are gone: boot again). */
bool sara_needs_boot(const struct sara *s);

/* How many boot greetings (sara_config.greeting) the driver has met since sara_create. */
unsigned sara_boots(const struct sara *s);

/* Boot detection and start-up: sends "AT" every 1 s (autobaud; the first characters may be lost)
 * until it answers or timeout_ms passes, pulsing PWR_ON once (hw.power_pulse) if nothing answers
 * within the first 6 s; then ATE0, AT+CMEE=<cmee>, AT+UDCONF=1,0 (binary sockets), AT+CEREG=2,
 * the fixed rate (sara_config.fixed_baud) and the greeting (sara_config.greeting).
 * FUOTA_ERR_TIMEOUT when the module never answered. */
int sara_boot(struct sara *s, uint32_t timeout_ms);

struct sara_info {
	char fw[24];   /* ATI9 first field, e.g. "02.06" */
	char app[24];  /* ATI9 second field, e.g. "A00.01" */
	char cgmr[32]; /* AT+CGMR */
	char imei[20]; /* AT+CGSN */
};
/* ATI9, AT+CGMR, AT+CGSN. */
int sara_info(struct sara *s, struct sara_info *info);

/* AT+UMNOPROF? */
int sara_mno_get(struct sara *s, int *profile);
/* AT+CFUN=0, AT+UMNOPROF=<profile>, AT+CFUN=16 (reboot), then sara_boot again. */
int sara_mno_set(struct sara *s, int profile, uint32_t boot_timeout_ms);

/* AT+CGDCONT=1,"IP","<apn>" (apn NULL leaves the context alone), AT+CFUN=1, then waits for
 * +CEREG stat 1 or 5 (URC or AT+CEREG? every 2 s) for up to timeout_ms. *stat gets the last one
 * seen (may be NULL). FUOTA_ERR_TIMEOUT; FUOTA_ERR_CONFLICT when registration was denied. */
int sara_register(struct sara *s, const char *apn, uint32_t timeout_ms, int *stat);
/* AT+CEREG? */
int sara_reg_get(struct sara *s, struct sara_cereg *reg);

/* AT+UPSD=<p>,0,0 (IPv4), AT+UPSD=<p>,100,<cid>, AT+UPSDA=<p>,3, then waits for +UUPSDA. ip gets
 * the address (cap ≥ 16; may be NULL). */
int sara_pdp_up(struct sara *s, int profile, int cid, uint32_t timeout_ms, char *ip, size_t cap);
/* AT+UPSDA=<p>,4 */
int sara_pdp_down(struct sara *s, int profile);

enum { SARA_TCP = 6, SARA_UDP = 17 };
/* AT+USOCR=<proto>[,<local_port>] → *sock. local_port 0: any. */
int sara_sock_open(struct sara *s, int proto, uint16_t local_port, int *sock);
/* AT+USOCO=<s>,"<host>",<port> (TCP) */
int sara_sock_connect(struct sara *s, int sock, const char *host, uint16_t port,
                      uint32_t timeout_ms);
/* AT+USOST=<s>,"<ip>",<port>,<len> → '@' → data → +USOST. len ≤ 1024. */
int sara_sock_sendto(struct sara *s, int sock, const char *ip, uint16_t port, const uint8_t *data,
                     size_t len);
/* AT+USOWR=<s>,<len> → '@' → data → +USOWR. len ≤ 1024. */
int sara_sock_write(struct sara *s, int sock, const uint8_t *data, size_t len);
/* AT+USOWR=<s>,<len> → '@' → data → "+USOWR: <s>,<taken>": what the module's send window took,
 * which may be less than len or 0 when it is full (send the rest later; nothing is lost). len ≤
 * 1024. */
int sara_sock_write_some(struct sara *s, int sock, const uint8_t *data, size_t len, size_t *taken);
/* AT+USORF=<s>,<cap> → one datagram (up to cap ≤ 1024 bytes); *got 0 when none waits. ip (cap ≥
 * 40) and port may be NULL. */
int sara_sock_recvfrom(struct sara *s, int sock, uint8_t *buf, size_t cap, size_t *got, char *ip,
                       size_t ip_cap, uint16_t *port);
/* AT+USORD=<s>,<cap> → up to cap bytes of the TCP stream. */
int sara_sock_read(struct sara *s, int sock, uint8_t *buf, size_t cap, size_t *got);
/* Bytes the last +UUSORD/+UUSORF URC said are waiting on sock (0 after a read took them). */
size_t sara_sock_pending(const struct sara *s, int sock);
/* AT+USOCL=<s> */
int sara_sock_close(struct sara *s, int sock);

/* AT+UDWNFILE="<name>",<len>[,"<tag>"] → '>' → data → OK. tag NULL: the USER area. The module
 * appends when the file exists. */
int sara_file_write(struct sara *s, const char *name, const char *tag, const uint8_t *data,
                    size_t len, uint32_t timeout_ms);
/* AT+ULSTFILE=0[,"<tag>"]: fn once per name. */
int sara_file_list(struct sara *s, const char *tag, void (*fn)(void *ctx, const char *name),
                   void *ctx);
/* AT+ULSTFILE=2,"<name>"[,"<tag>"] → size. */
int sara_file_size(struct sara *s, const char *name, const char *tag, size_t *bytes);
/* AT+UDELFILE="<name>"[,"<tag>"] */
int sara_file_delete(struct sara *s, const char *name, const char *tag);

/* HTTP profile settings; NULL/0 fields are not sent. user and password are masked in the log. */
struct sara_http_cfg {
	const char *server_ip;   /* op 0 */
	const char *server_name; /* op 1 */
	const char *user;        /* op 2 */
	const char *password;    /* op 3 */
	uint16_t port;           /* op 5 */
	uint32_t timeout_s;      /* op 7 (0 is refused by some firmware: see ubxlib#179) */
};
/* AT+UHTTP=<p> (reset), then one AT+UHTTP=<p>,<op>,... per set field. */
int sara_http_config(struct sara *s, int profile, const struct sara_http_cfg *cfg);
/* AT+UHTTPC=<p>,1,"<path>","<file>" (GET into a USER file), or with file NULL
 * AT+UHTTPC=<p>,100,"<path>" (download into the FOAT area as updatePackage.bin); then waits for
 * +UUHTTPCR up to timeout_ms. out gets the URC (md5 for cmd 100). FUOTA_ERR_IO when result is 0
 * (then sara_http_error tells why). */
int sara_http_get(struct sara *s, int profile, const char *path, const char *file,
                  uint32_t timeout_ms, struct sara_xfer *out);
/* AT+UHTTPER=<p> */
int sara_http_error(struct sara *s, int profile, int *err_class, int *err_code);

struct sara_ftp_cfg {
	const char *server_name; /* op 1 */
	const char *user;        /* op 2 */
	const char *password;    /* op 3 */
	uint16_t port;           /* op 7 */
	bool passive;            /* op 6 */
};
/* AT+UFTP=<op>,... per set field. */
int sara_ftp_config(struct sara *s, const struct sara_ftp_cfg *cfg);
/* AT+UFTPC=1 → +UUFTPCR: 1,1 */
int sara_ftp_login(struct sara *s, uint32_t timeout_ms);
/* AT+UFTPC=100,"<path>" (into the FOAT area) → +UUFTPCR: 100,1,"<md5>" */
int sara_ftp_get_foat(struct sara *s, const char *path, uint32_t timeout_ms, struct sara_xfer *out);
/* AT+UFTPER */
int sara_ftp_error(struct sara *s, int *err_class, int *err_code);

/* A check every driver command passes before it is sent (the firmware-update manager's
 * fwu_cmd_check: Appendix B of the FW app note, no reset during an install): returns 0 to send,
 * or an error with why filled, which the command then returns (sara_last_error says why). */
typedef int (*sara_cmd_check_fn)(void *ctx, const char *cmd, char *why, size_t cap);
/* Installs fn (NULL: none). */
void sara_set_cmd_check(struct sara *s, sara_cmd_check_fn fn, void *ctx);

/* While held, the driver never touches PWR_ON or RESET_N: the recovery ladder stops at its "AT"
 * rung and sara_boot only polls AT. For a firmware install, which a reset may brick. */
void sara_hold_resets(struct sara *s, bool hold);
bool sara_resets_held(const struct sara *s);

/* AT+CGEREP=1: +CGEV packet-domain events reported (SARA_EV_CGEV); volatile, so again after
 * every boot. */
int sara_cgev_enable(struct sara *s);
/* AT+CSQ → rssi 0..31 (-113 + 2·rssi dBm) or 99 unknown, ber 0..7 or 99. */
int sara_signal(struct sara *s, int *rssi, int *ber);
/* AT+COPS? → the operator's name ("" when not registered; cap ≥ 33) and its access technology
 * (-1 when absent; 7 LTE-M). */
int sara_operator(struct sara *s, char *oper, size_t cap, int *act);

/* Reads the port for up to timeout_ms, dispatching URCs (the idle loop). */
int sara_poll(struct sara *s, uint32_t timeout_ms);

#endif
