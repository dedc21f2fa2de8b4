/* The simulator's firmware update (issue 11): FOAT (+UFWUPD) with its baud switch and Xmodem
 * receiver, +UFWINSTALL of the package in the FOAT area, the validation and install URCs, the
 * reboot into the new version and what the update makes the module forget (FW app note Table 16).
 *
 * The package format is the simulator's own (a real .upd/.dof is u-blox's secret):
 *   0   8  magic "FSIMFWP1"
 *   8  24  from: the ATI9 string the package applies to, NUL-padded ("" = any: a full package)
 *   32 24  to: the ATI9 string after the update, NUL-padded, not empty
 *   56  4  body length, little endian
 *   60  4  CRC-32 (IEEE) of bytes 0..59 and the body, little endian
 *   64  …  the body
 * Bytes after the body are allowed only as Xmodem padding (0x1A). */
#ifndef MSIM_FW_H
#define MSIM_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSIM_FW_HDR     64
#define MSIM_FW_PKG_MAX (64L << 20)

/* Install and FOAT result codes (CELLULAR-NOTES §2.7). */
enum {
	MSIM_FW_OK = 128,
	MSIM_FW_CORRUPTED = 148,   /* checksum mismatch */
	MSIM_FW_FORMAT = 158,      /* not a package */
	MSIM_FW_MISMATCH = 168,    /* the package is for another version */
	MSIM_FW_SIZE = 180,        /* shorter than its header says */
	MSIM_FW_PREVAL_FAIL = 247, /* the validation fault */
};

enum msim_fw_phase {
	MSIM_FW_IDLE,
	MSIM_FW_UPDATE_MODE, /* FOAT: the Xmodem receiver waits; survives a power loss */
	MSIM_FW_INSTALLING,  /* validation and install URCs; resumes at boot after a power loss */
};

/* A uFOTA campaign (msim_ufota.c). */
enum msim_uf_phase {
	MSIM_UF_NONE,   /* no campaign */
	MSIM_UF_ACK,    /* wait-for-ack mode: the server's request waits for +UFOTAACK */
	MSIM_UF_WAIT,   /* accepted: the download starts soon */
	MSIM_UF_DL,     /* downloading */
	MSIM_UF_PAUSED, /* paused by the host or the server (survives a reboot) */
	MSIM_UF_DONE    /* the package is in the FOAT area */
};

struct msim_ufota {
	int mode;  /* +UFOTACONFIG: 0 default, 1 download only, 2 wait for ack, 3 disabled */
	bool urcs; /* +UFOTASTAT=1 */
	enum msim_uf_phase phase;
	char pkg[256];    /* the campaign's package: a file of --www */
	long total, done; /* bytes */
	int rot;          /* +USECFW: 0 up to date, 1 update needed, 3 no update file */
	unsigned scale;   /* module seconds per real second of the campaign's timers; 0:
	                     --xmodem-scale */
	/* §3.2.2 signal loss: no download, retries 60, 120, 180, 240 s apart, then failure */
	bool sig_lost, stalled;
	int retries;
	/* §3.2.2: a +CFUN=16 resumes the download only after +COPS=2; any other reset restarts it
	 */
	bool cops2;      /* +COPS=2 since the last boot or +COPS=0/1 */
	bool keep_bytes; /* the reboot under way is such a +CFUN=16 */
	/* the LwM2M client (msim_lwm2m.c, §3.1.1, §3.6, Table 3) */
	bool lw_urcs;         /* +ULWM2MSTAT=1 */
	bool secmode_off;     /* +USECMODE: 0, the secure data suite off (1 by default) */
	bool psk;             /* a first registration with the suite on gave the client its PSK */
	int reg;              /* server 721: 0 deregistered, 3 registered, 4 registration failed */
	long srlt;            /* /1/10 resource 1, seconds; 0: the factory 86400 */
	unsigned checkins;    /* registration updates with server 721 */
	char offer[256];      /* a campaign the server holds for the next check-in */
	bool vz;              /* the campaign is the Verizon DM server's (id 102, Table 3) */
	uint64_t vz_until_ms; /* the DM server's session lasts until then */
	bool vz_failed;       /* the Verizon campaign failed (2,3,x): no more =102 wanted */
	unsigned reg102;      /* AT+ULWM2MREG=102 since the campaign began */
	unsigned reg102_late; /* ... after the module reported the campaign's failure */
	bool no_install_urcs; /* SARA-R5xx-00B-00: no +UFWPREVAL / +UUFWINSTALL for uFOTA */
	bool quiet_install;   /* the running install is such a uFOTA one */
};

struct msim_fw {
	enum msim_fw_phase phase;
	int method;     /* 1 FOAT, 2 +UFWINSTALL */
	unsigned rate;  /* FOAT: the line rate of Firmware Update Mode; 0: the usual one */
	int step;       /* install progress: 0..4 validation, then 1..100 */
	char to[32];    /* the version being installed */
	size_t dl_seen; /* FOAT: bytes received in this session */
	/* faults, one-shot */
	long power_dl_byte; /* power lost when the download reaches this byte; -1 off */
	int power_pct;      /* power lost when the install reaches this percent; -1 off */
	bool broken;        /* a transfer broke off: the package must come again */
	int lose_128;       /* the next N 128 URCs are not sent */
	int validate_fail;  /* the next validation fails with this code; 0 off */
	long xm_corrupt; /* flip a bit of this Xmodem byte (1-based) of the next session; 0 off */
	unsigned install_ms; /* the install's length (validation a tenth of it) */
	char tail[16];       /* the host's last bytes, for the reset check */
	unsigned resets;     /* reset commands the host sent during an update */
	struct msim_ufota uf;
};

/* CRC-32 (IEEE 802.3, reflected, init and xorout 0xFFFFFFFF) over d, continuing crc (0 first). */
uint32_t msim_fw_crc32(uint32_t crc, const uint8_t *d, size_t n);
/* Validates a package against the running version: MSIM_FW_OK with *to set (≥ 24 + 1 bytes), or
 * the result code of its first defect. */
int msim_fw_check(const uint8_t *d, size_t n, const char *running, char *to, size_t cap);
/* Builds a package into out (MSIM_FW_HDR + body_len bytes). */
void msim_fw_build(uint8_t *out, const char *from, const char *to, const uint8_t *body,
                   size_t body_len);

#endif
