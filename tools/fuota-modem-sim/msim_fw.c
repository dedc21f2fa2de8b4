/* The firmware update of the simulated module: see msim_fw.h. */
#include "msim_fw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msim_handlers.h"

static const char magic[8] = {'F', 'S', 'I', 'M', 'F', 'W', 'P', '1'};

uint32_t msim_fw_crc32(uint32_t crc, const uint8_t *d, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= d[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A NUL-padded field of 24 bytes into out, or -1 when it has no NUL. */
static int field(const uint8_t *p, char *out, size_t cap)
{
	const uint8_t *nul = memchr(p, 0, 24);

	if (!nul || (size_t)(nul - p) + 1 > cap)
		return -1;
	memcpy(out, p, (size_t)(nul - p) + 1);
	return 0;
}

int msim_fw_check(const uint8_t *d, size_t n, const char *running, char *to, size_t cap)
{
	char from[25];
	uint32_t body, crc;

	if (n < MSIM_FW_HDR || memcmp(d, magic, sizeof(magic)) != 0)
		return MSIM_FW_FORMAT;
	if (field(d + 8, from, sizeof(from)) != 0 || field(d + 32, to, cap) != 0 || !to[0])
		return MSIM_FW_FORMAT;
	body = le32(d + 56);
	if (body > n - MSIM_FW_HDR)
		return MSIM_FW_SIZE;
	for (size_t i = MSIM_FW_HDR + body; i < n; i++)
		if (d[i] != 0x1A)
			return MSIM_FW_SIZE; /* only Xmodem padding may follow */
	crc = msim_fw_crc32(0, d, 60);
	crc = msim_fw_crc32(crc, d + MSIM_FW_HDR, body);
	if (crc != le32(d + 60))
		return MSIM_FW_CORRUPTED;
	if (from[0] && strcmp(from, running) != 0)
		return MSIM_FW_MISMATCH;
	return MSIM_FW_OK;
}

void msim_fw_build(uint8_t *out, const char *from, const char *to, const uint8_t *body,
                   size_t body_len)
{
	uint32_t crc;

	memset(out, 0, MSIM_FW_HDR);
	memcpy(out, magic, sizeof(magic));
	strncpy((char *)out + 8, from, 23);
	strncpy((char *)out + 32, to, 23);
	put_le32(out + 56, (uint32_t)body_len);
	memcpy(out + MSIM_FW_HDR, body, body_len);
	crc = msim_fw_crc32(0, out, 60);
	put_le32(out + 60, msim_fw_crc32(crc, body, body_len));
}
