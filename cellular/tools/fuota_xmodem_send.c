/* fuota-xmodem-send: sends a file with fuota's Xmodem sender, to a tty or to a receiver program
 * run with its stdin and stdout on a socketpair (how the lrzsz interoperability test runs `rx`).
 *
 *   fuota-xmodem-send [--1k] [--retries N] FILE --tty PATH [--baud N]
 *   fuota-xmodem-send [--1k] [--retries N] FILE -- CMD [ARGS...]
 *
 * Exits 0 when the receiver acknowledged every block and the EOT; prints the mode, blocks,
 * resends and bytes per second on stderr. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuota/cell_serial.h"
#include "fuota/err.h"
#include "fuota/xmodem.h"

struct opts {
	bool use_1k;
	unsigned retries;
	const char *file;
	const char *tty;
	uint32_t baud;
	char **cmd;
};

static int usage(void)
{
	fprintf(stderr, "usage: fuota-xmodem-send [--1k] [--retries N] FILE --tty PATH [--baud N]\n"
	                "       fuota-xmodem-send [--1k] [--retries N] FILE -- CMD [ARGS...]\n");
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->baud = 115200;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--1k") == 0)
			o->use_1k = true;
		else if (strcmp(argv[i], "--retries") == 0 && i + 1 < argc)
			o->retries = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--tty") == 0 && i + 1 < argc)
			o->tty = argv[++i];
		else if (strcmp(argv[i], "--baud") == 0 && i + 1 < argc)
			o->baud = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
			o->cmd = argv + i + 1;
			break;
		} else if (argv[i][0] != '-' && !o->file)
			o->file = argv[i];
		else
			return -1;
	}
	return o->file && (o->tty || o->cmd) && !(o->tty && o->cmd) ? 0 : -1;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* Runs cmd with stdin and stdout on one end of a socketpair; the other end becomes *port. */
static int spawn(char **cmd, struct cell_serial *port, pid_t *pid)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return FUOTA_ERR_IO;
	*pid = fork();
	if (*pid < 0)
		return FUOTA_ERR_IO;
	if (*pid == 0) {
		close(sv[0]);
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		close(sv[1]);
		execvp(cmd[0], cmd);
		fprintf(stderr, "fuota-xmodem-send: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	return cell_serial_open_fd(port, sv[0], sv[0]);
}

static int run(const struct opts *o, const uint8_t *data, size_t len)
{
	struct cell_serial port;
	struct xm_config cfg = {.use_1k = o->use_1k, .retries = o->retries};
	struct xm_stats st;
	struct timespec a, b;
	pid_t pid = -1;
	int err, status = 0;
	double s;

	err = o->tty ? cell_serial_open_tty(&port, o->tty, o->baud) : spawn(o->cmd, &port, &pid);
	if (err != FUOTA_OK) {
		fprintf(stderr, "fuota-xmodem-send: cannot open the link: %s\n",
		        fuota_strerror(err));
		return 1;
	}
	cell_serial_io(&port, &cfg.io);
	clock_gettime(CLOCK_MONOTONIC, &a);
	err = xm_send(&cfg, data, len, &st);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cell_serial_close(&port);
	if (pid > 0 &&
	    (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		fprintf(stderr, "fuota-xmodem-send: the receiver failed (status %d)\n", status);
		if (err == FUOTA_OK)
			err = FUOTA_ERR_IO;
	}
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	fprintf(stderr,
	        "fuota-xmodem-send: %s, %s, %zu bytes, %u blocks, %u resends, %.0f B/s: %s\n",
	        st.crc ? "CRC-16" : "checksum", o->use_1k ? "1k" : "128", len, st.blocks,
	        st.resends, s > 0 ? (double)(len - 0) / s : 0.0, fuota_strerror(err));
	return err == FUOTA_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct opts o;
	uint8_t *data;
	size_t len = 0;
	int rc;

	if (parse(argc, argv, &o) != 0)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	data = slurp(o.file, &len);
	if (!data) {
		fprintf(stderr, "fuota-xmodem-send: %s: %s\n", o.file, strerror(errno));
		return 1;
	}
	rc = run(&o, data, len);
	free(data);
	return rc;
}
