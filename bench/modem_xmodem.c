/* fuota-bench-modem: Xmodem-1k over fuota-modem-sim's paced line (issue 10's figures).
 *
 * For each line rate, one simulator; on its line, one after the other, fuota's sender (xm_send,
 * 1k blocks, CRC) and lrzsz's `sx -k` each send the same file to the simulator's receiver
 * (AT+USIMXRECV). The time runs from the receiver's first 'C' to the sender's end (the EOT's ACK);
 * the file the simulator kept must be byte-identical. The line's limit is 1024 data bytes per
 * 1029 bytes on the wire (STX, number, complement, 1024 bytes, CRC-16) at 10 bits a byte.
 *
 *   fuota-bench-modem [--quick]     (--quick: smaller files, for a smoke run) */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/modem/simh.h"
#include "fuota/cell_serial.h"
#include "fuota/xmodem.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int make_file(const char *path, size_t n, uint8_t **data)
{
	FILE *f = fopen(path, "wb");
	uint32_t x = 2166136261u;

	*data = malloc(n);
	if (!f || !*data)
		return -1;
	for (size_t i = 0; i < n; i++) {
		x = x * 16777619u ^ (uint32_t)i;
		(*data)[i] = (uint8_t)(x >> 13);
	}
	if (fwrite(*data, 1, n, f) != n)
		n = 0;
	return fclose(f) == 0 && n ? 0 : -1;
}

/* Asks the simulator to receive and waits for its first 'C' (left unread for the sender). */
static int start_receiver(struct simh *h, size_t size)
{
	char cmd[96];
	struct pollfd p = {h->fd, POLLIN, 0};

	simh_flush(h);
	snprintf(cmd, sizeof(cmd), "AT+USIMXRECV=\"bench.bin\",%zu", size);
	simh_send(h, cmd);
	return poll(&p, 1, 5000) == 1 ? 0 : -1;
}

static int run_fuota(struct simh *h, const uint8_t *data, size_t n)
{
	struct cell_serial ser;
	struct cell_io io;
	struct xm_config xc = {.use_1k = true};
	int fd = dup(h->fd), rc;

	if (fd < 0 || cell_serial_open_fd(&ser, fd, fd) != 0)
		return -1;
	cell_serial_io(&ser, &io);
	xc.io = io;
	rc = xm_send(&xc, data, n, NULL);
	cell_serial_close(&ser);
	fcntl(h->fd, F_SETFL, fcntl(h->fd, F_GETFL) & ~O_NONBLOCK);
	return rc;
}

static int run_sx(struct simh *h, const char *file)
{
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		dup2(h->fd, 0);
		dup2(h->fd, 1);
		if (!freopen("/dev/null", "w", stderr))
			_exit(126);
		execlp("sx", "sx", "-q", "-k", file, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The simulator's report and the file it kept. */
static int check(struct simh *h, const uint8_t *data, size_t n)
{
	char line[128], want[64], path[300];
	uint8_t *got = malloc(n + 1);
	FILE *f;
	size_t k = 0;

	snprintf(want, sizeof(want), "+USIMXRECV: 0,%zu,", n);
	if (simh_line(h, line, sizeof(line), 5000) != 0 || strncmp(line, want, strlen(want)) ||
	    simh_expect(h, "OK", 2000) != 0) {
		fprintf(stderr, "bench: the receiver said '%s'\n", line);
		free(got);
		return -1;
	}
	f = fopen(simh_path(h, "fs/USER/bench.bin", path, sizeof(path)), "rb");
	if (f) {
		k = fread(got, 1, n + 1, f);
		fclose(f);
	}
	k = (k == n && !memcmp(got, data, n)) ? 0 : 1;
	free(got);
	return k ? -1 : 0;
}

static int one_rate(unsigned baud, size_t size)
{
	char rate[16], src[300];
	const char *const args[] = {"--boot-ms", "100", "--baud", rate, NULL};
	double limit = 1024.0 / 1029.0 * baud / 10.0;
	struct simh h;
	uint8_t *data = NULL;
	int rc = -1;

	snprintf(rate, sizeof(rate), "%u", baud);
	if (simh_start(&h, args) != 0 || simh_expect(&h, "+UMSIM: READY", 5000) != 0 ||
	    simh_at(&h, "ATE0", "ATE0", "OK", NULL) != 0 ||
	    make_file(simh_path(&h, "src.bin", src, sizeof(src)), size, &data) != 0)
		goto out;
	for (int s = 0; s < 2; s++) {
		double t0, dt;
		int r;

		if (start_receiver(&h, size) != 0)
			goto out;
		t0 = now_s();
		r = s == 0 ? run_fuota(&h, data, size) : run_sx(&h, src);
		dt = now_s() - t0;
		if (r != 0 || check(&h, data, size) != 0) {
			fprintf(stderr, "bench: %s failed at %u bit/s (%d)\n",
			        s ? "sx -k" : "fuota", baud, r);
			goto out;
		}
		printf("%7u  %-8s %9zu %8.2f %10.0f %8.0f %6.1f %%\n", baud, s ? "sx -k" : "fuota",
		       size, dt, (double)size / dt, limit, 100.0 * (double)size / dt / limit);
		fflush(stdout);
	}
	rc = 0;
out:
	free(data);
	if (simh_stop(&h) != 0)
		rc = -1;
	return rc;
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "--quick");

	printf("Xmodem-1k over fuota-modem-sim's paced line (8N1); limit = 1024/1029 of baud/10\n");
	printf("   baud  sender       bytes  seconds      B/s  limit B/s  of limit\n");
	if (one_rate(115200, quick ? 32768 : 262144) != 0 ||
	    one_rate(921600, quick ? 262144 : 2097152) != 0)
		return 1;
	return 0;
}
