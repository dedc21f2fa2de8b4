/* Logger: text "2025-01-01T00:00:00.000Z INFO message" or JSON {"ts","level","msg"} lines. */
#include "fuota/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

/* Process-wide by nature: every thread logs to the same stream with the same settings. */
static struct {
	enum log_level min;
	bool json;
	FILE *out;
	pthread_mutex_t lock;
} log_state = {LOG_LVL_INFO, false, NULL, PTHREAD_MUTEX_INITIALIZER};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_level min, bool json, FILE *out)
{
	log_state.min = min;
	log_state.json = json;
	log_state.out = out;
}

bool log_enabled(enum log_level lvl)
{
	return lvl >= log_state.min;
}

/* JSON string escaping of a message (quotes, backslashes, control characters). */
static void put_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static size_t escaped_len(unsigned char c)
{
	return c == '\\' ? 2 : c < 0x20 || c >= 0x7f ? 4 : 1;
}

const char *log_escape(const char *s, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t w = 0, total = 0, reserve;

	if (cap == 0)
		return out;
	for (size_t i = 0; i < len; i++)
		total += escaped_len((unsigned char)s[i]);
	reserve = total < cap ? 0 : 3; /* room kept for "..." when it cannot all fit */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t n = escaped_len(c);

		if (w + n + reserve >= cap)
			break;
		if (n == 1) {
			out[w] = (char)c;
		} else if (n == 2) {
			out[w] = '\\';
			out[w + 1] = '\\';
		} else {
			out[w] = '\\';
			out[w + 1] = 'x';
			out[w + 2] = hex[c >> 4];
			out[w + 3] = hex[c & 15];
		}
		w += n;
	}
	if (reserve && w + 3 < cap) {
		memcpy(out + w, "...", 3);
		w += 3;
	}
	out[w] = 0;
	return out;
}

/* A text line ends at its newline only: a control byte that reached a message unescaped is
 * written as \xHH (log_escape is the rule for values; this keeps one line one line). */
static void put_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
}

void log_write(enum log_level lvl, const char *fmt, ...)
{
	char msg[1024], ts[80];
	struct timespec now;
	struct tm tm;
	va_list ap;
	FILE *out = log_state.out ? log_state.out : stderr;

	if (lvl < LOG_LVL_DEBUG || lvl > LOG_LVL_ERROR)
		lvl = LOG_LVL_ERROR;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         now.tv_nsec / 1000000);
	pthread_mutex_lock(&log_state.lock);
	if (log_state.json) {
		fprintf(out, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[lvl]);
		put_json_string(out, msg);
		fputs("}\n", out);
	} else {
		fprintf(out, "%s %-5s ", ts, level_names[lvl]);
		put_text(out, msg);
		fputc('\n', out);
	}
	fflush(out);
	pthread_mutex_unlock(&log_state.lock);
}
