/* fuota-modem-sim's reader of host bytes: the AT line assembly, the command parser, the table of
 * handlers and every handler, prompts and payloads, the Xmodem receiver, and the control-command
 * parser. An input starting with '!' is first read as control lines up to an empty line.
 * Sockets may reach only the harness's own loopback port; files go to a private folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "msim.h"

static char dir[64];
static uint16_t port;

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_modem_sim: cannot remove %s\n", dir);
}

/* A folder for the file system and a UDP port of our own, once. */
static void once(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd;

	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "/tmp/fuzz-msim-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		abort();
	port = ntohs(sa.sin_port); /* kept open: nobody else gets the port */
}

/* Control lines ("!drop-final 2\n...\n\n"): returns how many bytes they took. */
static size_t control(struct msim *m, const uint8_t *data, size_t size)
{
	size_t i = 1;

	while (i < size) {
		char line[256];
		size_t n = 0;
		const char *why;

		while (i < size && data[i] != '\n' && n < sizeof(line) - 1)
			line[n++] = (char)data[i++];
		line[n] = '\0';
		i++;
		if (n == 0)
			break;
		(void)msim_control(m, line, &why);
	}
	return i < size ? i : size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msim m;
	struct msim_cfg cfg = {.fs_dir = dir,
	                       .www_dir = dir,
	                       .boot_ms = 0,
	                       .reg_ms = 10,
	                       .xmodem_scale = 1000,
	                       .net_bytes_per_s = 100000000};
	uint64_t t = 1000;
	size_t i = 0;

	once();
	cfg.port_lo = cfg.port_hi = port;
	cfg.autobaud = size & 1; /* both ways of booting */
	if (msim_init(&m, &cfg, t) != 0)
		abort();
	msim_power_on(&m);
	msim_tick(&m, t += 1);
	if (size && data[0] == '!')
		i = control(&m, data, size);
	while (i < size) {
		size_t n = size - i < 61 ? size - i : 61;

		msim_input(&m, data + i, n);
		i += n;
		msim_tick(&m, t += 37);
		m.out_n = 0; /* the host reads everything */
	}
	msim_tick(&m, t += 100000);
	msim_free(&m);
	return 0;
}
