/* TS004 Fragmented Data Block Transport commands (port 201), v1.0.0 and v2.0.0, both directions
 * (PROTOCOL-NOTES §4.1-§4.3).
 *
 * A command is a struct frag_cmd: a type (which also fixes the direction) and one plain struct
 * per command in a union. frag_cmd_decode reads one command from bytes received from outside,
 * frag_cmd_encode writes one of our own, and struct frag_cmd_iter walks a whole FRMPayload of
 * chained commands (PROTOCOL-NOTES §2 "Chaining").
 *
 * Decoding is strict about lengths and ranges and lenient about RFU bits: every field is
 * length-checked before it is read, every sub-field is masked, RFU bits (and v2-only bits in a
 * v1 command) are ignored. Anything short or out of range is FUOTA_ERR_MALFORMED, and a struct
 * fuota_parse_err (fuota/reader.h) says which command and which field (e.g.
 * "FragSessionSetupReq: missing Descriptor (10 bytes needed, 6 left)": a short TS004 command
 * reports its whole length after the CID and the bytes that were left after the CID). */
#ifndef FUOTA_FRAG_CMD_H
#define FUOTA_FRAG_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/frag_row.h"
#include "fuota/reader.h"

#define FRAG_PORT       201 /* default FPort of TS004 */
#define FRAG_PACKAGE_ID 3   /* PackageIdentifier of TS004 */

/* Command identifiers (the first byte of every command). */
#define FRAG_CID_PACKAGE_VERSION     0x00
#define FRAG_CID_SESSION_STATUS      0x01
#define FRAG_CID_SESSION_SETUP       0x02
#define FRAG_CID_SESSION_DELETE      0x03
#define FRAG_CID_DATA_BLOCK_RECEIVED 0x04 /* v2 only */
#define FRAG_CID_DATA_FRAGMENT       0x08

/* Payload lengths without the CID byte. */
#define FRAG_SETUP_REQ_LEN_V1  10
#define FRAG_SETUP_REQ_LEN_V2  16
#define FRAG_STATUS_ANS_LEN    4
#define FRAG_DATA_FRAGMENT_HDR 2   /* IndexAndN, followed by FragSize bytes */
#define FRAG_CMD_MAX_LEN       258 /* CID + IndexAndN + 255 bytes, the longest command */
#define FRAG_MIC_LEN           4
#define FRAG_DESCRIPTOR_LEN    4

/* Direction on the air. DOWN = server to device (the "Req" side except
 * FragDataBlockReceivedAns); UP = device to server. */
enum frag_dir { FRAG_DOWN = 0, FRAG_UP = 1 };

enum frag_cmd_type {
	FRAG_CMD_PACKAGE_VERSION_REQ,     /* down, no payload */
	FRAG_CMD_PACKAGE_VERSION_ANS,     /* up */
	FRAG_CMD_SESSION_STATUS_REQ,      /* down */
	FRAG_CMD_SESSION_STATUS_ANS,      /* up; v1 and v2 field orders differ */
	FRAG_CMD_SESSION_SETUP_REQ,       /* down; v2 adds SessionCnt and MIC */
	FRAG_CMD_SESSION_SETUP_ANS,       /* up */
	FRAG_CMD_SESSION_DELETE_REQ,      /* down */
	FRAG_CMD_SESSION_DELETE_ANS,      /* up */
	FRAG_CMD_DATA_FRAGMENT,           /* down */
	FRAG_CMD_DATA_BLOCK_RECEIVED_REQ, /* up, v2 only */
	FRAG_CMD_DATA_BLOCK_RECEIVED_ANS, /* down, v2 only */
	FRAG_CMD_TYPE_COUNT
};

/* PackageVersionAns: PackageIdentifier (1) | PackageVersion (1). Any values decode; the caller
 * compares them with FRAG_PACKAGE_ID and the version it speaks. */
struct frag_package_version_ans {
	uint8_t package_id;
	uint8_t package_version;
};

/* FragSessionStatusReq.FragStatusReqParam: bit 0 Participants, bits 2..1 FragIndex. */
struct frag_status_req {
	bool participants;  /* true: every device answers; false: only those still missing frames */
	uint8_t frag_index; /* 0..3 */
};

/* FragSessionStatusAns. v1: ReceivedAndIndex (2) | MissingFrag (1) | Status (1);
 * v2: Status (1) | ReceivedAndIndex (2) | MissingFrag (1). ReceivedAndIndex: bits 13..0
 * NbFragReceived, bits 15..14 FragIndex. */
struct frag_status_ans {
	uint8_t frag_index;     /* 0..3 */
	uint16_t nb_received;   /* 0..16383 */
	uint8_t missing_frag;   /* saturating count */
	bool memory_error;      /* Status bit 0: NotEnoughMatrixMemory (v1) / MemoryError (v2) */
	bool mic_error;         /* v2 Status bit 1 (meaningful when missing_frag == 0) */
	bool session_not_exist; /* v2 Status bit 2: SessionDoesNotExist */
};

/* FragSessionSetupReq: FragSession (1) | NbFrag (2) | FragSize (1) | Control (1) |
 * Padding (1) | Descriptor (4) [v2: | SessionCnt (2) | MIC (4)]. */
struct frag_setup_req {
	uint8_t frag_index;      /* FragSession bits 5..4, 0..3 */
	uint8_t mc_group_mask;   /* FragSession bits 3..0: bit g = accept multicast group g */
	uint16_t nb_frag;        /* M, 1..16383 */
	uint8_t frag_size;       /* 1..255 */
	uint8_t block_ack_delay; /* Control bits 2..0 */
	uint8_t frag_algo;       /* Control bits 5..3; 0 = the PRBS23 parity code */
	bool ack_reception;      /* Control bit 6, v2 only */
	uint8_t padding;         /* 0..frag_size-1; image length = nb_frag * frag_size - padding */
	uint8_t descriptor[FRAG_DESCRIPTOR_LEN]; /* opaque, as transmitted */
	uint16_t session_cnt;                    /* v2 only */
	uint8_t mic[FRAG_MIC_LEN]; /* v2 only: the data-block MIC, in CMAC output order */
};

/* FragSessionSetupAns.StatusBitMask: bits 0..3 errors, bit 4 (v2) SessionCnt replay, bits 7..6
 * FragIndex. The session is accepted iff every error flag is false. */
struct frag_setup_ans {
	uint8_t frag_index;
	bool algo_unsupported;    /* bit 0: FragAlgo / EncodingUnsupported */
	bool not_enough_memory;   /* bit 1 */
	bool index_not_supported; /* bit 2: FragSessionIndexNotSupported */
	bool wrong_descriptor;    /* bit 3 */
	bool session_cnt_replay;  /* bit 4, v2 only */
};

/* FragSessionDeleteReq.Param: bits 1..0 FragIndex. */
struct frag_delete_req {
	uint8_t frag_index;
};

/* FragSessionDeleteAns.Status: bits 1..0 FragIndex, bit 2 SessionDoesNotExist. */
struct frag_delete_ans {
	uint8_t frag_index;
	bool session_not_exist;
};

/* DataFragment: IndexAndN (2: bits 13..0 N, 1-based; bits 15..14 FragIndex) | Payload.
 * payload points into the decoded buffer (not copied); on encode it is read. */
struct frag_data_fragment {
	uint8_t frag_index;
	uint16_t n; /* 1..16383: 1..M uncoded, M+1.. coded */
	const uint8_t *payload;
	size_t payload_len; /* 1..255 */
};

/* v2 FragDataBlockReceivedReq (up): bits 1..0 FragIndex, bit 2 MICError. */
struct frag_block_received_req {
	uint8_t frag_index;
	bool mic_error;
};

/* v2 FragDataBlockReceivedAns (down): bits 1..0 FragIndex. */
struct frag_block_received_ans {
	uint8_t frag_index;
};

struct frag_cmd {
	enum frag_cmd_type type;
	union {
		struct frag_package_version_ans version_ans;
		struct frag_status_req status_req;
		struct frag_status_ans status_ans;
		struct frag_setup_req setup_req;
		struct frag_setup_ans setup_ans;
		struct frag_delete_req delete_req;
		struct frag_delete_ans delete_ans;
		struct frag_data_fragment data_fragment;
		struct frag_block_received_req block_received_req;
		struct frag_block_received_ans block_received_ans;
	} u;
};

/* Name of a command type ("FragSessionSetupReq"), or "?" for an unknown value. */
const char *frag_cmd_name(enum frag_cmd_type type);

/* Direction of a command type (FRAG_DOWN or FRAG_UP). */
enum frag_dir frag_cmd_dir(enum frag_cmd_type type);

/* True when a and b are the same command with the same field values (a DataFragment's payload
 * compared by content). */
bool frag_cmd_equal(const struct frag_cmd *a, const struct frag_cmd *b);

/* Decodes ONE command starting at p[0] (its CID). version: FRAG_V1 or FRAG_V2; dir: the
 * direction the bytes travelled. frag_size: the session's FragSize when known (a DataFragment
 * then takes exactly frag_size payload bytes), or 0 when unknown (a DataFragment then takes every
 * byte left). *used receives the bytes consumed, CID included. err (optional) is filled on
 * failure.
 * Returns FUOTA_OK, FUOTA_ERR_MALFORMED (short, out of range, unknown CID for this direction and
 * version, N = 0, NbFrag = 0, FragSize = 0, Padding >= FragSize, ...) or FUOTA_ERR_INVALID_ARG
 * (NULL pointers, bad version or direction). */
int frag_cmd_decode(const uint8_t *p, size_t len, enum frag_version version, enum frag_dir dir,
                    uint32_t frag_size, struct frag_cmd *cmd, size_t *used,
                    struct fuota_parse_err *err);

/* Encodes one command (CID included) into out[0..cap); *len receives its length.
 * Fields must be in range (frag_index 0..3, N 1..16383, nb_frag 1..16383, frag_size 1..255,
 * padding < frag_size, 3-bit fields <= 7, mc_group_mask <= 15, payload 1..255 bytes,
 * nb_received <= 16383) and v2-only fields zero/false in v1; v2-only commands need FRAG_V2.
 * Returns FUOTA_OK, FUOTA_ERR_NO_SPACE (cap too small; nothing useful written) or
 * FUOTA_ERR_INVALID_ARG. */
int frag_cmd_encode(const struct frag_cmd *cmd, enum frag_version version, uint8_t *out, size_t cap,
                    size_t *len);

/* Walks a whole FRMPayload of chained commands:
 *
 *     struct frag_cmd_iter it;
 *     frag_cmd_iter_init(&it, p, len, FRAG_V2, FRAG_DOWN, 0);
 *     while (frag_cmd_iter_more(&it)) {
 *             if (frag_cmd_iter_next(&it, &cmd) != FUOTA_OK) { use it.err; break; }
 *             ...
 *     }
 *
 * Commands are read in order. TS004 v2 requires a DataFragment to be the only command of its
 * message: in v2 a DataFragment after another command is FUOTA_ERR_MALFORMED, and whatever
 * follows a DataFragment's frag_size payload bytes is skipped (as LBM v2 does). In v1 a
 * DataFragment with a known frag_size may be followed by more commands (LoRaMac-node advances by
 * FragSize). After an error the iterator stops (more() is false). The iterator borrows p. */
struct frag_cmd_iter {
	const uint8_t *p;
	size_t len;
	size_t pos;
	enum frag_version version;
	enum frag_dir dir;
	uint32_t frag_size;
	unsigned count;             /* commands decoded so far */
	bool stopped;               /* after an error or a v2 DataFragment */
	struct fuota_parse_err err; /* set when next() fails */
};

/* Initialises an iterator; it never fails (bad arguments surface from next()). */
void frag_cmd_iter_init(struct frag_cmd_iter *it, const uint8_t *p, size_t len,
                        enum frag_version version, enum frag_dir dir, uint32_t frag_size);
/* True while there are bytes left to decode and no error stopped the walk. */
bool frag_cmd_iter_more(const struct frag_cmd_iter *it);
/* Decodes the next command into *cmd. Returns FUOTA_OK, FUOTA_ERR_MALFORMED (it->err says
 * what), FUOTA_ERR_INVALID_ARG, or FUOTA_ERR_STATE when called with nothing left. */
int frag_cmd_iter_next(struct frag_cmd_iter *it, struct frag_cmd *cmd);

#endif
