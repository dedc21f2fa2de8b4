/* MQTT topic matching and level extraction on topics from the broker: the input is
 * "<filter>\0<topic>" (a missing NUL makes the whole input the topic and the filter "#").
 * Checks: no crash or over-read, and a filter equal to a wildcard-free topic matches it. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/mqtt.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	const char *filter = "#";
	const char *topic = buf;
	const char *nul = memchr(buf, '\0', size);
	if (nul) {
		filter = buf;
		topic = nul + 1;
	}
	(void)mqtt_topic_match(filter, topic);
	if (!strpbrk(topic, "+#") && strncmp(topic, "$share/", 7) != 0 &&
	    !mqtt_topic_match(topic, topic))
		abort();
	char level[64];
	for (unsigned i = 0; i < 8; i++)
		if (mqtt_topic_level(topic, i, level, sizeof(level)) == FUOTA_OK &&
		    strlen(level) >= sizeof(level))
			abort();
	free(buf);
	return 0;
}
