/* fuota-modem-sim: a u-blox SARA-R5 played on a pseudo-terminal.
 *
 * The simulator is one context (struct msim) that the event loop of main.c drives: bytes from the
 * host go in through msim_input(), bytes for the host come out of ctx->out (main.c paces them at
 * the configured baud rate), deadlines are msim timers that main.c fires, and sockets are polled by
 * main.c and reported through msim_sock_ready(). Everything below main.c runs without a pty, which
 * is what the fuzz harness (tests/fuzz/fuzz_modem_sim.c) relies on.
 *
 * Every AT command has exactly one handler, found by name in the table of msim_cmd.c; a command of
 * the firmware update (issue 11) is one more row and one more handler. */
#ifndef MSIM_H
#define MSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msim_at.h"
#include "msim_fw.h"
#include "msim_netx.h"
#include "msim_xmodem.h"

struct msim;

#define MSIM_SOCKETS   7    /* SARA-R5: sockets 0..6 */
#define MSIM_DGRAM_MAX 1024 /* bytes a datagram may carry through AT */
#define MSIM_RX_QUEUE  16   /* datagrams kept per UDP socket */
#define MSIM_TCP_BUF   8192 /* bytes kept per TCP socket before reading stops */
#define MSIM_CIDS      8    /* +CGDCONT contexts 1..8 */
#define MSIM_PROFILES  4    /* HTTP profiles 0..3 */
#define MSIM_TIMERS    32
#define MSIM_LINE_MAX  4096
#define MSIM_STR_MAX   256

/* +CME ERROR numbers (3GPP TS 27.007 §9.2) with the text +CMEE=2 prints. */
enum msim_cme {
	MSIM_CME_NOT_ALLOWED = 3,
	MSIM_CME_NOT_SUPPORTED = 4,
	MSIM_CME_MEMORY_FULL = 20,
	MSIM_CME_NOT_FOUND = 22,
	MSIM_CME_NO_SERVICE = 30,
	MSIM_CME_BAD_PARAM = 50,
	MSIM_CME_UNKNOWN = 100,
};

/* What the simulator is doing with the bytes the host sends. */
enum msim_mode {
	MSIM_MODE_COMMAND, /* AT lines */
	MSIM_MODE_RAW,     /* a counted binary payload after a '>' or '@' prompt */
	MSIM_MODE_XMODEM,  /* the Xmodem receiver owns the line */
	MSIM_MODE_OFF,     /* booting, powered off or silent: input is dropped */
};

/* The settings a real module keeps in NVM; they survive a reboot and live in the state file. */
struct msim_nvm {
	unsigned ipr;                      /* +IPR: 0 = autobaud */
	int mnoprof;                       /* +UMNOPROF */
	int cfun4;                         /* +CFUN=4 is persistent on SARA-R5 */
	int greeting;                      /* +CSGT mode */
	char greeting_text[64];            /* +CSGT text */
	char version[32];                  /* the firmware version ATI9 and +CGMR report */
	int echo;                          /* &W profile: E */
	int cmee;                          /* &W profile: +CMEE */
	char apn[MSIM_CIDS][MSIM_STR_MAX]; /* +CGDCONT <APN> per cid 1..8 ("" = undefined) */
	char pdp_type[MSIM_CIDS][8];
	int upsd_cid;   /* +UPSD=0,100 stored with +UPSDA=0,1 */
	int upsd_proto; /* +UPSD=0,0 stored with +UPSDA=0,1 */
	int hexmode;    /* +UDCONF=1: SARA-R5xxx-01B keeps the socket hex mode */
};

struct msim_dgram {
	uint32_t addr; /* host order */
	uint16_t port;
	uint16_t len;
	uint8_t data[MSIM_DGRAM_MAX];
};

struct msim_sock {
	int fd;    /* -1: free */
	int proto; /* 17 UDP, 6 TCP */
	bool connected;
	struct msim_dgram *rxq; /* UDP: MSIM_RX_QUEUE datagrams, ring */
	unsigned rx_head, rx_n;
	size_t rx_off; /* UDP: bytes of the head datagram already read */
	uint8_t *tcp;  /* TCP: MSIM_TCP_BUF bytes */
	size_t tcp_n;
	bool peer_closed;
};

/* A download from the local folder in progress (HTTP profile or FTP). */
struct msim_xfer {
	bool busy;
	int cmd; /* +UHTTPC / +UFTPC command */
	char path[MSIM_STR_MAX];
	char local[MSIM_STR_MAX];
	int err_class, err_code; /* +UHTTPER / +UFTPER of the last operation */
};

struct msim_http {
	char server[MSIM_STR_MAX];
	int port;
	struct msim_xfer x;
};

struct msim_timer {
	uint64_t at_ms;
	void (*fn)(struct msim *m, int arg);
	int arg;
	bool used;
};

/* A pending transfer the host feeds after a prompt. */
struct msim_raw {
	size_t want, got;
	uint8_t *buf;
	uint64_t deadline_ms;
	void (*done)(struct msim *m, bool complete);
	int sock;
	char name[MSIM_STR_MAX];
	char tag[16];
	uint32_t addr;
	uint16_t port;
};

/* One-shot faults, armed from the command line or the control interface (msim_fault.c). */
struct msim_faults {
	int drop_final; /* the next N final result codes are not sent */
	int garble;     /* the next N response lines are corrupted */
	int urc_mid;    /* the next N responses carry a URC in their middle */
	char urc_text[MSIM_STR_MAX];
};

struct msim_cfg {
	const char *state_path;   /* NVM state file; NULL keeps NVM in memory only */
	const char *fs_dir;       /* the module file system: <fs_dir>/<TAG>/<name> */
	const char *www_dir;      /* HTTP and FTP downloads are served from here */
	unsigned baud;            /* the line rate while +IPR is 0 (autobaud) */
	unsigned boot_ms;         /* power-on to greeting */
	unsigned reg_ms;          /* radio on to +CEREG registered */
	unsigned net_bytes_per_s; /* HTTP/FTP download rate */
	unsigned install_ms;      /* firmware install length; 0: 60 s (a real one: 10 to 25 min) */
	unsigned xmodem_scale; /* divides the Xmodem handshake timings (1 = the app note's 109 s) */
	const char *imei;
	bool autobaud; /* model autobauding at +IPR=0: no greeting, URCs held until an "AT" */
	/* the loopback ports sockets may reach; 0,0 = all (the fuzz harness narrows it to its own)
	 */
	uint16_t port_lo, port_hi;
};

struct msim {
	struct msim_cfg cfg;
	struct msim_nvm nvm;
	uint64_t now_ms;
	/* output for the host, drained by the event loop */
	uint8_t *out;
	size_t out_n, out_cap;
	/* line assembly */
	char line[MSIM_LINE_MAX];
	size_t line_n;
	bool line_overflow;
	enum msim_mode mode;
	bool powered, silent, booting;
	/* volatile state */
	int echo, cmee, cereg_n, cereg_stat, cfun;
	bool hexmode;
	char upsd_ip[32];
	bool psd_active;
	int upsd_cid, upsd_proto;
	unsigned ipr;      /* +IPR now (0: autobaud) */
	bool urc_mid_done; /* the urc-mid fault fired in this response */
	bool in_cmd;       /* a command line runs: URCs wait for its final result */
	bool rate_known;   /* an "AT" since boot told the module the rate (see --autobaud) */
	uint8_t *urcq;     /* URCs held while a prompt or a transfer owns the line */
	size_t urcq_n, urcq_cap;
	struct msim_sock sock[MSIM_SOCKETS];
	struct msim_http http[MSIM_PROFILES];
	char ftp_server[MSIM_STR_MAX];
	bool ftp_logged_in;
	struct msim_xfer ftp;
	int factory_fs, factory_nvm; /* +UFACTORY, applied at the next reboot */
	struct msim_raw raw;
	struct msim_xrecv xr;
	char xr_name[MSIM_STR_MAX], xr_tag[16];
	long xr_size; /* bytes to keep of the received data; -1: all (padding included) */
	uint8_t *xr_buf;
	size_t xr_n, xr_cap;
	struct msim_timer timers[MSIM_TIMERS];
	struct msim_faults faults;
	unsigned boot_count;
	struct msim_fw fw;     /* survives reboots and power losses, as the module's flash */
	struct msim_netx netx; /* +CGEREP, the +CSQ level, socket faults (msim_netx.c) */
};

/* msim_core.c */
int msim_init(struct msim *m, const struct msim_cfg *cfg, uint64_t now_ms);
void msim_free(struct msim *m);
void msim_input(struct msim *m, const uint8_t *data, size_t len);
void msim_tick(struct msim *m, uint64_t now_ms);
uint64_t msim_next_deadline(const struct msim *m);
void msim_power_on(struct msim *m);
void msim_power_off(struct msim *m);
void msim_reboot(struct msim *m);
unsigned msim_line_rate(const struct msim *m);
void msim_out_raw(struct msim *m, const void *data, size_t len);
void msim_reboot_later(struct msim *m); /* once what is queued for the host is on the wire */
void msim_line_bytes(struct msim *m, const void *data, size_t len); /* a line of any bytes */
void msim_line(struct msim *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void msim_urc(struct msim *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void msim_ok(struct msim *m);
void msim_error(struct msim *m, enum msim_cme cme);
int msim_timer_add(struct msim *m, unsigned delay_ms, void (*fn)(struct msim *, int), int arg);
void msim_timer_cancel(struct msim *m, void (*fn)(struct msim *, int));
void msim_expect_raw(struct msim *m, size_t want, unsigned timeout_ms,
                     void (*done)(struct msim *, bool));
void msim_xmodem_start(struct msim *m, const char *name, const char *tag, long size);

/* msim_cmd.c: the table of handlers. A handler returns 0 (done: the next command of the line runs,
 * then OK), a +CME ERROR number (enum msim_cme; MSIM_ERROR for a plain ERROR) that ends the line,
 * or MSIM_LATER when it sends the final result itself later (after a prompt, a transfer). */
#define MSIM_LATER (-1)
#define MSIM_ERROR 1000
typedef int (*msim_handler)(struct msim *m, const struct msim_cmd *c);
msim_handler msim_cmd_find(const char *name);
void msim_dispatch_line(struct msim *m, const char *line, size_t len);
void msim_final(struct msim *m, int rc);
/* msim_cmd_net.c */
void msim_net_reset(struct msim *m);
void msim_sock_ready(struct msim *m, int s);
bool msim_sock_wants_read(const struct msim *m, int s);
void msim_radio(struct msim *m, int cfun);
void msim_cereg_set(struct msim *m, int stat);
/* msim_cmd_fs.c */
int msim_fs_path(const struct msim *m, const char *tag, const char *name, char *out, size_t len);
int msim_fs_write(struct msim *m, const char *tag, const char *name, const void *data, size_t len,
                  bool append);
void msim_fs_reset(struct msim *m);

/* msim_fw_run.c */
void msim_fw_received(struct msim *m, int rc, const uint8_t *d, size_t n, unsigned long blocks);
bool msim_fw_xm_byte(struct msim *m, uint8_t *b);
bool msim_fw_boot(struct msim *m);
/* Every byte from the host: a reset command (AT+CFUN=15/16, AT+CPWROFF, AT+UFACTORY) sent while
 * the module installs or waits in Firmware Update Mode is the host's fault the app note forbids
 * (§4.1.1, §6.1.1): counted and told on stderr ("fuota-modem-sim: RESET DURING UPDATE"). */
void msim_fw_host_byte(struct msim *m, uint8_t b);
/* The fw-power-dl fault for a download into the FOAT area (+UDWNFILE, +UHTTPC/+UFTPC=..100): when
 * n bytes of it reach the fault's byte, the first bytes are written as a partial package and the
 * power goes (back 300 ms later). True when it went: the caller stops. */
bool msim_fw_dl_cut(struct msim *m, const char *tag, const char *name, const uint8_t *d, size_t n);
int msim_fw_control(struct msim *m, const char *line, const char **why);
/* The package of the FOAT area installed as +UFWINSTALL does (uFOTA's server-driven install). */
void msim_fw_install(struct msim *m);

/* msim_ufota.c: uFOTA campaigns and +USECFW. The control's "ufota-campaign FILE",
 * "ufota-pause|resume|cancel" and "rot 0|1|3"; the hooks at the end of a boot and after an
 * installed update. */
int msim_ufota_control(struct msim *m, const char *line, const char **why);
void msim_ufota_boot(struct msim *m);
void msim_ufota_updated(struct msim *m);
/* A campaign of the package FILE of --www now (vz: the Verizon DM server's): 0, or -1 with *why. */
int msim_ufota_campaign(struct msim *m, const char *file, bool vz, const char **why);
/* module_ms of the module's time in real ms at the campaign's scale ("ufota-scale N"). */
unsigned msim_ufota_ms(const struct msim *m, unsigned long module_ms);
/* A Verizon registration update came: a finished download may be installed now. */
void msim_ufota_vz_kick(struct msim *m);
/* msim_lwm2m.c: the LwM2M client (registration, SRLT, USECMODE, the Verizon DM server). */
void msim_lwm2m_boot(struct msim *m);
bool msim_lwm2m_vz_session(const struct msim *m);
int msim_lwm2m_control(struct msim *m, const char *line, const char **why);

/* msim_state.c */
void msim_nvm_defaults(struct msim_nvm *n);
int msim_nvm_load(struct msim_nvm *n, const char *path);
int msim_nvm_save(const struct msim_nvm *n, const char *path);
void msim_nvm_changed(struct msim *m);

/* msim_fault.c: a control command ("drop-final 2", "reboot", ...); 0 or -1 with *why set */
int msim_control(struct msim *m, const char *line, const char **why);

#endif
