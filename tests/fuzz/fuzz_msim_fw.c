/* fuota-modem-sim's package validator (msim_fw_check): any bytes as a firmware package, checked
 * against a running version; a package that passes is rebuilt and must check the same. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "msim_fw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char to[32];
	int code = msim_fw_check(data, size, "03.15,A00.01", to, sizeof(to));

	if (code != MSIM_FW_OK && code != MSIM_FW_CORRUPTED && code != MSIM_FW_FORMAT &&
	    code != MSIM_FW_MISMATCH && code != MSIM_FW_SIZE)
		abort();
	if (code == MSIM_FW_OK) {
		size_t body = (size_t)data[56] | (size_t)data[57] << 8 | (size_t)data[58] << 16 |
		              (size_t)data[59] << 24;
		uint8_t *again = malloc(MSIM_FW_HDR + body + 1);
		char to2[32];

		if (!again)
			abort();
		msim_fw_build(again, (const char *)data + 8, to, data + MSIM_FW_HDR, body);
		if (msim_fw_check(again, MSIM_FW_HDR + body, "03.15,A00.01", to2, sizeof(to2)) !=
		            MSIM_FW_OK ||
		    strcmp(to, to2) != 0)
			abort();
		free(again);
	}
	return 0;
}
