/* Pure parsers of SARA-R5 replies and URCs. Each takes one line as the module sent it (without CR
 * LF; the prefix included), checks every field's presence and range, and returns 0 or
 * FUOTA_ERR_MALFORMED. They never read past len and never assert on input. The examples each
 * parser accepts are quoted above it in sara_parse.c; the sources are the FW app note
 * (UBX-20033314) and CELLULAR-NOTES §3. */
#ifndef FUOTA_SARA_PARSE_H
#define FUOTA_SARA_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SARA_FIELDS_MAX 12

/* The fields of a line after its prefix, split at commas outside quotes. A quoted field is
 * unquoted (quoted true); its bytes may be anything but '"'. Fields point into the line. */
struct sara_field {
	const char *p;
	size_t len;
	bool quoted;
};

/* Splits line[0..len) after prefix (e.g. "+USOCR:"; one optional space after it is skipped).
 * FUOTA_ERR_MALFORMED when the prefix is absent, a quote is unterminated, or more than max
 * fields. An empty field (",,") is a field of length 0. */
int sara_fields(const char *line, size_t len, const char *prefix, struct sara_field *f, size_t max,
                size_t *n);
/* A field as a decimal integer in [min, max] (optional leading '-'). */
int sara_field_int(const struct sara_field *f, long min, long max, long *out);
/* A field copied NUL-terminated into out (cap ≥ len + 1, else FUOTA_ERR_NO_SPACE);
 * FUOTA_ERR_MALFORMED when it holds a NUL byte. */
int sara_field_str(const struct sara_field *f, char *out, size_t cap);

/* Registration status (+CEREG <stat>). */
enum sara_reg {
	SARA_REG_NOT = 0,
	SARA_REG_HOME = 1,
	SARA_REG_SEARCHING = 2,
	SARA_REG_DENIED = 3,
	SARA_REG_UNKNOWN = 4,
	SARA_REG_ROAMING = 5
};
struct sara_cereg {
	int n;       /* the URC mode of a read response; -1 for a URC */
	int stat;    /* enum sara_reg, or any value 0..10 the module reports */
	char tac[8]; /* "" when absent */
	char ci[12];
	int act; /* -1 when absent (the R510 also reports -1 itself) */
};
/* "+CEREG: 1" / "+CEREG: 0,1" / "+CEREG: 2,5,\"0001\",\"01A2B3C4\",7" / URC with tac, ci, act. */
int sara_parse_cereg(const char *line, size_t len, struct sara_cereg *out);
/* "+UMNOPROF: 90" */
int sara_parse_umnoprof(const char *line, size_t len, int *profile);
/* ATI9 "02.06,A00.01" → fw "02.06", app "A00.01". */
int sara_parse_ati9(const char *line, size_t len, char *fw, size_t fw_cap, char *app,
                    size_t app_cap);
/* AT+CGMR "03.15" → ver (printable, no '+' first: not some other command's line). */
int sara_parse_cgmr(const char *line, size_t len, char *ver, size_t cap);
/* AT+CGSN "004999010640000": 15 digits (14..17 accepted), or "+CGSN: <digits>". */
int sara_parse_imei(const char *line, size_t len, char *imei, size_t cap);
/* AT+IPR? "+IPR: 115200" → rate; "+IPR: 0" is autobauding. */
int sara_parse_ipr(const char *line, size_t len, uint32_t *rate);
/* "+UUPSDA: 0,\"100.108.232.233\"" → result 0 (success), ip. ip may be "" on failure lines
 * ("+UUPSDA: 1"). */
int sara_parse_uupsda(const char *line, size_t len, int *result, char *ip, size_t ip_cap);
/* "+UUPSDD: 0" → profile. */
int sara_parse_uupsdd(const char *line, size_t len, int *profile);
/* "+USOCR: 0" / "+USOCR: 0,1234" → socket, local port (0 when absent). */
int sara_parse_usocr(const char *line, size_t len, int *sock, int *port);
/* "+USOST: 0,2" / "+USOWR: 0,2" → socket, bytes (prefix picks which). */
int sara_parse_sock_len(const char *line, size_t len, const char *prefix, int *sock, size_t *bytes);
/* "+UUSORD: 0,2" / "+UUSORF: 0,2" (data waiting), "+USORD: 0,12" / "+USORF: 0,12" (pending size
 * after a 0-length read): use sara_parse_sock_len with the prefix. */
/* "+USORF: 0,\"1.2.3.4\",7,2,\"ab\"" → socket, ip, port, data (points into line), data length. */
int sara_parse_usorf(const char *line, size_t len, int *sock, char *ip, size_t ip_cap, int *port,
                     const uint8_t **data, size_t *data_len);
/* "+USORD: 0,2,\"ab\"" → socket, data (into line), length. */
int sara_parse_usord(const char *line, size_t len, int *sock, const uint8_t **data,
                     size_t *data_len);
/* "+UUSOCL: 0" → socket. */
int sara_parse_uusocl(const char *line, size_t len, int *sock);
/* "+ULSTFILE: \"updatePackage.bin\",\"b\"": calls fn for each name; "+ULSTFILE:" with no name
 * is an empty list. */
int sara_parse_ulstfile_names(const char *line, size_t len, void (*fn)(void *ctx, const char *name),
                              void *ctx);
/* "+ULSTFILE: 1234" (op 2, size) → bytes. */
int sara_parse_ulstfile_size(const char *line, size_t len, size_t *bytes);

/* +UUHTTPCR / +UUFTPCR results. md5 is "" when the URC carries none. */
struct sara_xfer {
	int profile; /* HTTP profile; -1 for FTP */
	int cmd;     /* 1 GET, 100 FOTA download, ... */
	int result;  /* 1 success, 0 failure */
	int status;  /* HTTP status (200), -1 when absent */
	char md5[33];
};
/* "+UUHTTPCR: 0,100,1,200,\"884a2d96fddaf1d957c604805b75b9f2\"", "+UUHTTPCR: 0,100,0",
 * "+UUHTTPCR: 0,1,1". */
int sara_parse_uuhttpcr(const char *line, size_t len, struct sara_xfer *out);
/* "+UUFTPCR: 1,1", "+UUFTPCR: 100,1,\"9ac81b5381d94eb0999dfa0b8c2da363\"", "+UUFTPCR: 100,0". */
int sara_parse_uuftpcr(const char *line, size_t len, struct sara_xfer *out);
/* "+UHTTPER: 0,3,23" (manual) and "+UHTTPER: 3,23" (app note Table 11); "+UFTPER: 8,12"
 * (prefix picks which). profile is -1 when absent. */
int sara_parse_xfer_error(const char *line, size_t len, const char *prefix, int *profile,
                          int *err_class, int *err_code);

/* ---- Network state (sara_parse_net.c) ---- */

/* A +CGEV packet-domain event (3GPP TS 27.007 §10.1.19), as reported after AT+CGEREP=1. */
enum sara_cgev_kind {
	SARA_CGEV_OTHER = 0, /* an event the adapter does not act on (CLASS, MODIFY, ...) */
	SARA_CGEV_PDN_ACT,   /* "ME PDN ACT <cid>" / "NW PDN ACT <cid>" */
	SARA_CGEV_PDN_DEACT, /* "NW PDN DEACT <cid>" / "ME PDN DEACT <cid>", "NW DEACT ..." */
	SARA_CGEV_DETACH     /* "NW DETACH" / "ME DETACH": every context is gone */
};
struct sara_cgev {
	enum sara_cgev_kind kind;
	bool network; /* NW (the network did it) rather than ME */
	int cid;      /* -1 when the event names none */
};
/* "+CGEV: NW PDN DEACT 1", "+CGEV: ME PDN ACT 1,0", "+CGEV: NW DETACH", "+CGEV: NW CLASS \"A\"".
 * MALFORMED unless the event starts with NW or ME, or when a cid is not 0..255. */
int sara_parse_cgev(const char *line, size_t len, struct sara_cgev *out);
/* "+CSQ: 20,99" → rssi 0..31 or 99 (unknown), ber 0..7 or 99. */
int sara_parse_csq(const char *line, size_t len, int *rssi, int *ber);
/* "+COPS: 0,0,\"fuota-sim\",7" → mode, oper (cap ≥ 33), act (-1 absent); "+COPS: 0" (no
 * operator) gives oper "". */
int sara_parse_cops(const char *line, size_t len, int *mode, char *oper, size_t cap, int *act);

#endif
