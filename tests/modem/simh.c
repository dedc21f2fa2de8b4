/* The tests' scripted client of fuota-modem-sim; see simh.h. */
#define _GNU_SOURCE
#include "simh.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef MSIM_BIN
#error MSIM_BIN must name the fuota-modem-sim binary
#endif

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

const char *simh_path(const struct simh *h, const char *rel, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", h->dir, rel);
	return out;
}

static int launch(struct simh *h, const char *const *extra)
{
	char fs[300], www[300], st[300], ctl[300];
	const char *argv[64];
	int pfd[2], k = 0;
	FILE *f;
	struct termios t;

	argv[k++] = MSIM_BIN;
	argv[k++] = "--fs";
	argv[k++] = simh_path(h, "fs", fs, sizeof(fs));
	argv[k++] = "--www";
	argv[k++] = simh_path(h, "www", www, sizeof(www));
	argv[k++] = "--state";
	argv[k++] = simh_path(h, "nvm", st, sizeof(st));
	argv[k++] = "--control";
	argv[k++] = simh_path(h, "ctl", ctl, sizeof(ctl));
	for (int i = 0; extra && extra[i] && k < 62; i++)
		argv[k++] = extra[i];
	argv[k] = NULL;
	if (pipe(pfd) != 0)
		return -1;
	h->pid = fork();
	if (h->pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		char *av[64];

		memcpy(av, argv, sizeof(av)); /* execv's prototype predates const */
		execv(MSIM_BIN, av);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f || !fgets(h->pty, sizeof(h->pty), f))
		return -1;
	fclose(f);
	h->pty[strcspn(h->pty, "\n")] = '\0';
	h->fd = open(h->pty, O_RDWR | O_NOCTTY);
	if (h->fd < 0 || tcgetattr(h->fd, &t) != 0)
		return -1;
	cfmakeraw(&t);
	tcsetattr(h->fd, TCSANOW, &t); /* TCSANOW: the greeting may be waiting already */
	h->n = 0;
	return 0;
}

int simh_start(struct simh *h, const char *const *extra)
{
	char p[300];

	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/msim-test-XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	mkdir(simh_path(h, "fs", p, sizeof(p)), 0755);
	mkdir(simh_path(h, "www", p, sizeof(p)), 0755);
	return launch(h, extra);
}

int simh_kill(struct simh *h)
{
	int st = 0;

	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		waitpid(h->pid, &st, 0);
	}
	h->pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* a crash, or a sanitizer's report at exit */
		fprintf(stderr, "simh: fuota-modem-sim ended with status 0x%x\n", st);
		return -1;
	}
	return 0;
}

int simh_restart(struct simh *h, const char *const *extra)
{
	if (simh_kill(h) != 0)
		return -1;
	return launch(h, extra);
}

int simh_stop(struct simh *h)
{
	char cmd[400];
	int rc = simh_kill(h);

	if (h->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "simh: cannot remove %s\n", h->dir);
	}
	return rc;
}

void simh_write(struct simh *h, const void *d, size_t n)
{
	const char *p = d;

	while (n) {
		ssize_t k = write(h->fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

void simh_send(struct simh *h, const char *line)
{
	simh_write(h, line, strlen(line));
	simh_write(h, "\r", 1);
}

/* Reads what is there within ms: 0 when bytes came, -1 on timeout. */
static int fill(struct simh *h, int ms)
{
	struct pollfd p = {h->fd, POLLIN, 0};
	ssize_t k;

	if (ms < 0)
		ms = 0;
	if (h->n == sizeof(h->buf) || poll(&p, 1, ms) <= 0)
		return -1;
	k = read(h->fd, h->buf + h->n, sizeof(h->buf) - h->n);
	if (k <= 0)
		return -1;
	h->n += (size_t)k;
	return 0;
}

static void take(struct simh *h, size_t n)
{
	memmove(h->buf, h->buf + n, h->n - n);
	h->n -= n;
}

int simh_line(struct simh *h, char *out, size_t len, int timeout_ms)
{
	long end = now_ms() + timeout_ms;

	for (;;) {
		char *crlf = memmem(h->buf, h->n, "\r\n", 2);

		if (crlf) {
			size_t n = (size_t)(crlf - h->buf), c = n < len - 1 ? n : len - 1;

			memcpy(out, h->buf, c);
			out[c] = '\0';
			while (c && out[c - 1] == '\r')
				out[--c] = '\0'; /* the echo's own CR */
			take(h, n + 2);
			if (c)
				return 0;
			continue;
		}
		if (fill(h, (int)(end - now_ms())) != 0)
			return -1;
	}
}

int simh_expect(struct simh *h, const char *want, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	char line[4096];

	while (simh_line(h, line, sizeof(line), (int)(end - now_ms())) == 0)
		if (!strcmp(line, want))
			return 0;
	fprintf(stderr, "simh: no line '%s' within %d ms\n", want, timeout_ms);
	return -1;
}

int simh_wait_byte(struct simh *h, int c, int timeout_ms)
{
	long end = now_ms() + timeout_ms;

	for (;;) {
		char *p = memchr(h->buf, c, h->n);

		if (p) {
			take(h, (size_t)(p - h->buf) + 1);
			return 0;
		}
		h->n = 0;
		if (fill(h, (int)(end - now_ms())) != 0)
			return -1;
	}
}

int simh_at(struct simh *h, const char *cmd, ...)
{
	va_list ap;
	const char *want;
	char line[4096];
	int rc = 0;

	simh_send(h, cmd);
	va_start(ap, cmd);
	while ((want = va_arg(ap, const char *))) {
		if (simh_line(h, line, sizeof(line), 3000) != 0) {
			fprintf(stderr, "simh: %s: no line, wanted '%s'\n", cmd, want);
			rc = -1;
			break;
		}
		if (strcmp(line, want)) {
			fprintf(stderr, "simh: %s: got '%s', wanted '%s'\n", cmd, line, want);
			rc = -1;
			break;
		}
	}
	va_end(ap);
	return rc;
}

void simh_ctl(struct simh *h, const char *cmd)
{
	char p[300];
	int fd = open(simh_path(h, "ctl", p, sizeof(p)), O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, cmd, strlen(cmd)) < 0 || write(fd, "\n", 1) < 0)
		fprintf(stderr, "simh: cannot write the control FIFO\n");
	close(fd);
}

bool simh_quiet(struct simh *h, int ms)
{
	size_t before = h->n;
	long end = now_ms() + ms;

	while (now_ms() < end)
		fill(h, (int)(end - now_ms()));
	return h->n == before;
}

void simh_flush(struct simh *h)
{
	h->n = 0;
}
