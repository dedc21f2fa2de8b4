/* fuota-modem-sim: a SARA-R5 on a pseudo-terminal. Prints the pty's slave path on the first line
 * of stdout; see usage() for the options and msim_fault.c for the control commands. The event loop
 * here paces every byte both ways at the line rate (+IPR, or --baud while autobauding): 10 bits a
 * byte (8N1), as on the module's UART. */
#define _GNU_SOURCE
#include "msim.h"
#include "msim_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_FAULTS 16

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fuota-modem-sim [options]\n"
	           "  --link PATH        make PATH a symbolic link to the pty\n"
	           "  --state FILE       the module's NVM: read at every boot, rewritten at every "
	           "change\n"
	           "  --fs DIR           the module file system (DIR/USER, DIR/FOAT)\n"
	           "  --www DIR          what HTTP and FTP downloads serve\n"
	           "  --baud N           line rate while +IPR is 0 (default 115200)\n"
	           "  --no-pace          do not pace bytes at the line rate\n"
	           "  --boot-ms N        power-on to greeting (default 300)\n"
	           "  --reg-ms N         radio on to registered (default 200)\n"
	           "  --net-rate N       HTTP/FTP bytes per second (default 1000000)\n"
	           "  --xmodem-scale N   divide the Xmodem handshake timings by N (default 1)\n"
	           "  --install-ms N     a firmware install lasts N ms (default 60000)\n"
	           "  --imei DIGITS      what +CGSN answers\n"
	           "  --control PATH     a FIFO taking control commands, one a line\n"
	           "  --fault CMD        a control command applied at start (repeatable)\n"
	           "  --trace FILE       log every byte each way, with the time\n"
	           "  --autobaud         at +IPR=0: no greeting, URCs held until the host's first "
	           "AT\n");
}

struct opts {
	struct msim_cfg cfg;
	const char *link, *control, *trace;
	const char *faults[MAX_FAULTS];
	int nfaults;
	bool pace;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	        {"link", 1, 0, 'l'},         {"state", 1, 0, 's'},      {"fs", 1, 0, 'f'},
	        {"www", 1, 0, 'w'},          {"baud", 1, 0, 'b'},       {"no-pace", 0, 0, 'P'},
	        {"boot-ms", 1, 0, 'B'},      {"reg-ms", 1, 0, 'R'},     {"net-rate", 1, 0, 'N'},
	        {"xmodem-scale", 1, 0, 'X'}, {"imei", 1, 0, 'i'},       {"control", 1, 0, 'c'},
	        {"fault", 1, 0, 'F'},        {"help", 0, 0, 'h'},       {"trace", 1, 0, 'T'},
	        {"autobaud", 0, 0, 'A'},     {"install-ms", 1, 0, 'I'}, {0, 0, 0, 0}};
	int ch;

	memset(o, 0, sizeof(*o));
	o->pace = true;
	o->cfg.boot_ms = 300;
	o->cfg.reg_ms = 200;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		unsigned long v = optarg ? strtoul(optarg, NULL, 10) : 0;

		switch (ch) {
		case 'l': o->link = optarg; break;
		case 's': o->cfg.state_path = optarg; break;
		case 'f': o->cfg.fs_dir = optarg; break;
		case 'w': o->cfg.www_dir = optarg; break;
		case 'b': o->cfg.baud = (unsigned)v; break;
		case 'P': o->pace = false; break;
		case 'B': o->cfg.boot_ms = (unsigned)v; break;
		case 'R': o->cfg.reg_ms = (unsigned)v; break;
		case 'N': o->cfg.net_bytes_per_s = (unsigned)v; break;
		case 'X': o->cfg.xmodem_scale = (unsigned)v; break;
		case 'I': o->cfg.install_ms = (unsigned)v; break;
		case 'i': o->cfg.imei = optarg; break;
		case 'c': o->control = optarg; break;
		case 'T': o->trace = optarg; break;
		case 'A': o->cfg.autobaud = true; break;
		case 'F':
			if (o->nfaults == MAX_FAULTS)
				return -1;
			o->faults[o->nfaults++] = optarg;
			break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* The pty: master for us, the slave's path for the host. The slave stays open here too, so the
 * master never sees a hang-up while no host has it open. */
static int open_pty(int *master, int *slave, char *path, size_t len)
{
	struct termios t;
	int fd = posix_openpt(O_RDWR | O_NOCTTY);

	if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0 || ptsname_r(fd, path, len) != 0)
		return -1;
	*slave = open(path, O_RDWR | O_NOCTTY);
	if (*slave < 0 || tcgetattr(*slave, &t) != 0)
		return -1;
	cfmakeraw(&t);
	tcsetattr(*slave, TCSANOW, &t);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK | O_CLOEXEC);
	*master = fd;
	return 0;
}

struct loop {
	struct msim *m;
	FILE *trace;
	int master, ctl;
	bool pace;
	struct msim_wire rx, tx; /* host to module, module to host */
	uint8_t rxq[4096];       /* read from the pty, still on the wire */
	size_t rxq_n;
	unsigned tx_rate; /* the rate of what is queued for the host (+IPR changes it after) */
	char ctl_buf[1024];
	size_t ctl_n;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "<s> <dir> <bytes, C-escaped>" */
static void trace(struct loop *l, const char *dir, const uint8_t *d, size_t n)
{
	if (!l->trace)
		return;
	fprintf(l->trace, "%10.6f %s ", (double)now_ns() / 1e9, dir);
	for (size_t i = 0; i < n; i++) {
		if (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '\\')
			fputc(d[i], l->trace);
		else
			fprintf(l->trace, "\\x%02x", d[i]);
	}
	fputc('\n', l->trace);
	fflush(l->trace);
}

/* Bytes for the host leave as the wire carries them. */
static void pty_write(struct loop *l)
{
	struct msim *m = l->m;
	size_t n = m->out_n;
	ssize_t k;

	if (l->pace)
		n = msim_wire_due(&l->tx, now_ns(), msim_wire_byte_ns(l->tx_rate), m->out_n);
	if (n == 0)
		return;
	k = write(l->master, m->out, n);
	if (k <= 0)
		return; /* the pty is full: the bytes wait, then go as soon as the host reads */
	trace(l, "<", m->out, (size_t)k);
	memmove(m->out, m->out + k, m->out_n - (size_t)k);
	m->out_n -= (size_t)k;
}

/* Bytes from the host: read at once, handed to the module as the wire delivers them. */
static void pty_read(struct loop *l)
{
	ssize_t k = read(l->master, l->rxq + l->rxq_n, sizeof(l->rxq) - l->rxq_n);

	if (k <= 0)
		return;
	trace(l, ">", l->rxq + l->rxq_n, (size_t)k);
	l->rxq_n += (size_t)k;
}

static void deliver(struct loop *l)
{
	size_t n = l->rxq_n;

	if (l->pace)
		n = msim_wire_due(&l->rx, now_ns(), msim_wire_byte_ns(msim_line_rate(l->m)),
		                  l->rxq_n);
	if (n == 0)
		return;
	msim_input(l->m, l->rxq, n);
	memmove(l->rxq, l->rxq + n, l->rxq_n - n);
	l->rxq_n -= n;
}

static void ctl_read(struct loop *l)
{
	ssize_t k = read(l->ctl, l->ctl_buf + l->ctl_n, sizeof(l->ctl_buf) - 1 - l->ctl_n);
	char *nl;

	if (k <= 0)
		return;
	l->ctl_n += (size_t)k;
	l->ctl_buf[l->ctl_n] = '\0';
	while ((nl = strchr(l->ctl_buf, '\n'))) {
		const char *why;

		*nl = '\0';
		if (l->ctl_buf[0] && msim_control(l->m, l->ctl_buf, &why) != 0)
			fprintf(stderr, "fuota-modem-sim: control '%s': %s\n", l->ctl_buf, why);
		l->ctl_n -= (size_t)(nl + 1 - l->ctl_buf);
		memmove(l->ctl_buf, nl + 1, l->ctl_n + 1);
	}
	if (l->ctl_n == sizeof(l->ctl_buf) - 1)
		l->ctl_n = 0; /* a line too long: dropped */
}

/* When the wire next has something to do: all queued bytes done, or within 1 ms. */
static uint64_t wire_wake(const struct msim_wire *w, uint64_t now, unsigned rate, size_t queued)
{
	uint64_t done = msim_wire_done_ns(w, now, msim_wire_byte_ns(rate), queued);

	return done < now + 1000000u ? done : now + 1000000u;
}

/* One turn: wait for the pty, the control FIFO, the sockets, the wire or the next deadline. */
static void turn(struct loop *l)
{
	struct msim *m = l->m;
	struct pollfd p[2 + MSIM_SOCKETS];
	int sock_of[2 + MSIM_SOCKETS], n = 0;
	uint64_t now = now_ns(), wake = now + 1000000000u, d = msim_next_deadline(m);
	struct timespec ts;

	if (m->out_n == 0)
		l->tx_rate = msim_line_rate(m); /* +IPR: the new rate once its OK is out */
	p[n++] = (struct pollfd){l->master, (short)(l->rxq_n < sizeof(l->rxq) ? POLLIN : 0), 0};
	if (l->ctl >= 0)
		p[n++] = (struct pollfd){l->ctl, POLLIN, 0};
	for (int i = 0; i < MSIM_SOCKETS; i++) {
		if (msim_sock_wants_read(m, i)) {
			sock_of[n] = i;
			p[n++] = (struct pollfd){m->sock[i].fd, POLLIN, 0};
		}
	}
	if (d != UINT64_MAX)
		wake = d * 1000000u < wake ? d * 1000000u : wake;
	if (l->rxq_n || m->out_n) {
		uint64_t w = l->pace ? wire_wake(&l->rx, now, msim_line_rate(m), l->rxq_n) : now;

		if (m->out_n)
			w = l->pace ? wire_wake(&l->tx, now, l->tx_rate, m->out_n) < w
			                      ? wire_wake(&l->tx, now, l->tx_rate, m->out_n)
			                      : w
			            : now;
		wake = w < wake ? w : wake;
	}
	wake = wake > now ? wake - now : 0;
	ts.tv_sec = (time_t)(wake / 1000000000u);
	ts.tv_nsec = (long)(wake % 1000000000u);
	if (ppoll(p, (nfds_t)n, &ts, NULL) < 0)
		return;
	msim_tick(m, now_ns() / 1000000u);
	if (p[0].revents & POLLIN)
		pty_read(l);
	deliver(l);
	if (m->out_n)
		pty_write(l);
	for (int i = 1; i < n; i++) {
		if (!(p[i].revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		if (p[i].fd == l->ctl)
			ctl_read(l);
		else
			msim_sock_ready(m, sock_of[i]);
	}
}

static int open_control(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 && mkfifo(path, 0600) != 0)
		return -1;
	/* O_RDWR: the FIFO never reports end of file when a writer goes away */
	return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct msim m;
	struct loop l = {.m = &m, .ctl = -1};
	char path[256];
	int slave, rc = 1;

	if (parse_opts(argc, argv, &o) != 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (msim_init(&m, &o.cfg, now_ns() / 1000000u) != 0) {
		fprintf(stderr, "fuota-modem-sim: cannot read the state file %s\n",
		        o.cfg.state_path);
		return 1;
	}
	if (open_pty(&l.master, &slave, path, sizeof(path)) != 0) {
		perror("fuota-modem-sim: pty");
		goto out;
	}
	if (o.link && (unlink(o.link), symlink(path, o.link) != 0)) {
		perror("fuota-modem-sim: --link");
		goto out;
	}
	if (o.control && (l.ctl = open_control(o.control)) < 0) {
		perror("fuota-modem-sim: --control");
		goto out;
	}
	printf("%s\n", path);
	fflush(stdout);
	msim_power_on(&m);
	for (int i = 0; i < o.nfaults; i++) {
		const char *why;

		if (msim_control(&m, o.faults[i], &why) != 0) {
			fprintf(stderr, "fuota-modem-sim: --fault '%s': %s\n", o.faults[i], why);
			goto out;
		}
	}
	if (o.trace && !(l.trace = fopen(o.trace, "w"))) {
		perror("fuota-modem-sim: --trace");
		goto out;
	}
	l.pace = o.pace;
	l.tx_rate = msim_line_rate(&m);
	while (!stop)
		turn(&l);
	rc = 0;
out:
	if (l.trace)
		fclose(l.trace);
	if (o.link)
		unlink(o.link);
	msim_free(&m);
	return rc;
}
