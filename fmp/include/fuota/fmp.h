/* TS006 Firmware Management Protocol v1.0.0 (FPort 203, package id 4): the command codec.
 *
 * Layouts: PROTOCOL-NOTES §8 (SWL2001 firmware_management_protocol/lorawan_fmp_package.c, brocaar
 * applayer/firmwaremanagement). Pure codec: no I/O, no globals, caller-owned memory; functions
 * return FUOTA_OK or a negative enum fuota_err. */
#ifndef FUOTA_FMP_H
#define FUOTA_FMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/reader.h"

#define FMP_FPORT      203
#define FMP_PACKAGE_ID 4

enum fmp_cid {
	FMP_CID_PACKAGE_VERSION = 0x00,
	FMP_CID_DEV_VERSION = 0x01,
	FMP_CID_DEV_REBOOT_TIME = 0x02,
	FMP_CID_DEV_REBOOT_COUNTDOWN = 0x03,
	FMP_CID_DEV_UPGRADE_IMAGE = 0x04,
	FMP_CID_DEV_DELETE_IMAGE = 0x05,
};

#define FMP_REBOOT_NOW         0u          /* RebootTime / Countdown: reboot now, no answer */
#define FMP_REBOOT_TIME_CANCEL 0xFFFFFFFFu /* DevRebootTimeReq: cancel a pending reboot */
#define FMP_COUNTDOWN_CANCEL   0xFFFFFFu   /* DevRebootCountdownReq: cancel */

/* DevUpgradeImageAns UpImageStatus (bits 1..0). */
enum fmp_image_status {
	FMP_IMAGE_NONE = 0,     /* NoFirmwarePresent */
	FMP_IMAGE_CORRUPT = 1,  /* CorruptOrInvalidSignature */
	FMP_IMAGE_WRONG_HW = 2, /* IncorrectHardware */
	FMP_IMAGE_VALID = 3,    /* Valid: nextFirmwareVersion follows */
};

/* One command; the valid member of `u` follows from (cid, up). DevVersionReq and
 * DevUpgradeImageReq have no payload. */
struct fmp_cmd {
	uint8_t cid;
	bool up;
	union {
		struct {
			uint8_t package_id;
			uint8_t version;
		} pkg_ans;
		struct {
			uint32_t fw_version;
			uint32_t hw_version;
		} version_ans;
		uint32_t reboot_time; /* DevRebootTimeReq / Ans (GPS s, or seconds left in LBM) */
		uint32_t countdown;   /* DevRebootCountdownReq / Ans, 24 bits */
		struct {
			uint8_t status;           /* enum fmp_image_status */
			uint32_t next_fw_version; /* only when status is FMP_IMAGE_VALID */
		} upgrade_ans;
		uint32_t delete_version; /* DevDeleteImageReq FirmwareToDeleteVersion */
		struct {
			bool error_no_valid_image;  /* bit 0 */
			bool error_invalid_version; /* bit 1 */
		} delete_ans;
	} u;
};

/* The spec name of a command, or NULL if the CID is not defined. */
const char *fmp_cmd_name(uint8_t cid, bool up);

/* Decodes the command at buf[*pos] of a payload travelling in direction `up` and advances *pos.
 * RFU bits are ignored. Returns FUOTA_OK, FUOTA_ERR_MALFORMED (a field cut short),
 * FUOTA_ERR_UNSUPPORTED (undefined CID) or FUOTA_ERR_INVALID_ARG (*pos >= len). On error *pos is
 * unchanged and *err (may be NULL) says where. */
int fmp_decode(const uint8_t *buf, size_t len, size_t *pos, bool up, struct fmp_cmd *cmd,
               struct fuota_parse_err *err);

/* Appends cmd at buf[*pos] (capacity cap) and advances *pos. Returns FUOTA_OK, FUOTA_ERR_NO_SPACE
 * (nothing written) or FUOTA_ERR_INVALID_ARG (countdown > 0xFFFFFF, image status > 3, an undefined
 * CID). */
int fmp_encode(const struct fmp_cmd *cmd, uint8_t *buf, size_t cap, size_t *pos);

#endif
