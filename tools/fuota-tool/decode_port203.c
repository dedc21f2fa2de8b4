/* Placeholder until the port 203 command decoder lands; replaced by its implementation. */
#include <stdio.h>

#include "tool.h"

int tool_decode_port203(const uint8_t *p, size_t len, int up, int version, FILE *json, char *err,
                        size_t errlen)
{
	(void)p;
	(void)len;
	(void)up;
	(void)version;
	(void)json;
	snprintf(err, errlen, "port 203 decoder not built yet");
	return -1;
}
