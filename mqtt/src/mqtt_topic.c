/* MQTT topic-filter matching (MQTT 3.1.1 section 4.7) and topic level extraction. */
#include <string.h>

#include "fuota/err.h"
#include "fuota/mqtt.h"

/* "$share/<group>/<filter>" -> "<filter>"; anything else unchanged. A "$share/" without a group
 * and a second '/' is left as is (it then matches only a topic spelled the same). */
static const char *skip_share(const char *filter)
{
	static const char prefix[] = "$share/";
	if (strncmp(filter, prefix, sizeof(prefix) - 1) != 0)
		return filter;
	const char *group = filter + sizeof(prefix) - 1;
	const char *slash = strchr(group, '/');
	if (!slash || slash == group)
		return filter;
	return slash + 1;
}

bool mqtt_topic_match(const char *filter, const char *topic)
{
	if (!filter || !topic)
		return false;
	filter = skip_share(filter);
	/* Wildcards at the first level never match the $SYS-style topics. */
	if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
		return false;

	const char *f = filter;
	const char *t = topic;
	for (;;) {
		/* Both at the start of a level here. */
		size_t flen = strcspn(f, "/");
		size_t tlen = strcspn(t, "/");
		if (flen == 1 && f[0] == '#') {
			/* '#' must be the last level; it matches this level and everything below,
			 * and also the parent alone ("a/#" matches "a": handled below). */
			return f[1] == '\0';
		}
		if (memchr(f, '#', flen) || (flen > 1 && memchr(f, '+', flen)))
			return false; /* a wildcard inside a level: malformed */
		if (!(flen == 1 && f[0] == '+')) {
			if (flen != tlen || memcmp(f, t, flen) != 0)
				return false;
		}
		f += flen;
		t += tlen;
		if (*f == '\0' && *t == '\0')
			return true;
		if (*f == '\0')
			return false; /* topic has more levels */
		if (*t == '\0')
			/* Filter has more levels: only "/#" can still match (the parent level). */
			return strcmp(f, "/#") == 0;
		f++; /* skip the '/' on both */
		t++;
	}
}

int mqtt_topic_level(const char *topic, unsigned index, char *out, size_t cap)
{
	if (!topic || !out || cap == 0)
		return FUOTA_ERR_INVALID_ARG;
	const char *p = topic;
	for (unsigned i = 0; i < index; i++) {
		p = strchr(p, '/');
		if (!p)
			return FUOTA_ERR_NOT_FOUND;
		p++;
	}
	size_t len = strcspn(p, "/");
	if (len + 1 > cap)
		return FUOTA_ERR_NO_SPACE;
	memcpy(out, p, len);
	out[len] = '\0';
	return FUOTA_OK;
}
