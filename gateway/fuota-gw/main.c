/* fuota-gw: the cellular gateway adapter. It listens for a Semtech UDP packet forwarder on
 * loopback, acks it, keeps every uplink, stats report and downlink ack in the disk queue, and
 * hands them in order to the network server's broker as ChirpStack gateway events; downlinks
 * from the broker go back to the forwarder as PULL_RESP. The broker is reached straight over TCP
 * or, with --modem, through the SARA-R5's TCP socket by the relay (backhaul.c). Without --broker
 * the backhaul counts as down and everything stays queued. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backhaul.h"
#include "fuota/err.h"
#include "fuota/gw.h"
#include "fuota/gw_sched.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: fuota-gw --queue DIR [--bind 127.0.0.1] [--port 1700] [--queue-mb 64]\n"
	        "                [--carry-ms 300] [--broker HOST:PORT] [--modem TTY] [--baud N]\n"
	        "                [--apn APN] [--at-log FILE] [--prefix eu868] [--gateway-id EUI]\n"
	        "                [--json] [--state-s 30] [--relay-port 0] [--keepalive-s 60]\n"
	        "                [--state-dir DIR] [--http-user U] [--ftp-user U] [--ufota-ack]\n"
	        "                [--install-s 1920] [--download-s 300] [--modem-poll-ms 10000]\n"
	        "  Listens for a Semtech UDP packet forwarder, stores its traffic in DIR and\n"
	        "  forwards it to the broker (through the SARA-R5 on TTY when --modem is "
	        "given).\n"
	        "  Modem updates come from fuotad (command/modem-update, command/sessions);\n"
	        "  HTTP and FTP passwords from FUOTA_GW_HTTP_PASSWORD, FUOTA_GW_FTP_PASSWORD.\n");
}

struct args {
	struct gw_opts gw;
	struct bh_opts bh;
	const char *at_log;
};

/* A number option within [lo, hi]. */
static int num(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || *end || !*s || *v < lo || *v > hi ? -1 : 0;
}

static int host_port(const char *s, struct bh_opts *b)
{
	static char host[64];
	const char *c = strrchr(s, ':');
	unsigned long p;

	if (!c || c == s || (size_t)(c - s) >= sizeof(host) || num(c + 1, 1, 65535, &p) != 0)
		return -1;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	b->broker_host = host;
	b->broker_port = (uint16_t)p;
	return 0;
}

static int option(int c, const char *v, struct args *a)
{
	unsigned long n;

	switch (c) {
	case 'q': a->gw.queue.dir = v; return 0;
	case 'b': a->gw.bind_host = v; return 0;
	case 'B': return host_port(v, &a->bh);
	case 'M': a->bh.modem = v; return 0;
	case 'A': a->bh.apn = v; return 0;
	case 'L': a->at_log = v; return 0;
	case 'P': a->bh.prefix = v; return 0;
	case 'G': a->bh.gateway_id = v; return strlen(v) == 16 ? 0 : -1;
	case 'J':
		a->bh.json = true;
		a->gw.json = 1;
		return 0;
	case 'p': return num(v, 0, 65535, &n) ? -1 : (a->gw.port = (uint16_t)n, 0);
	case 'm': return num(v, 1, 65536, &n) ? -1 : (a->gw.queue.max_bytes = (uint64_t)n << 20, 0);
	case 'c': return num(v, 0, 60000, &n) ? -1 : (a->gw.carry_us = (int64_t)n * 1000, 0);
	case 'r': return num(v, 1200, 4000000, &n) ? -1 : (a->bh.baud = (uint32_t)n, 0);
	case 's': return num(v, 1, 86400, &n) ? -1 : (a->bh.state_every_ms = (uint32_t)n * 1000, 0);
	case 'R': return num(v, 0, 65535, &n) ? -1 : (a->bh.relay_port = (uint32_t)n, 0);
	case 'K': return num(v, 2, 3600, &n) ? -1 : (a->bh.keepalive_s = (uint32_t)n, 0);
	case 'S': a->bh.mu.state_dir = v; return 0;
	case 'H': a->bh.mu.http_user = v; return 0;
	case 'F': a->bh.mu.ftp_user = v; return 0;
	case 'U': a->bh.mu.ufota_ack = true; return 0;
	case 'i': return num(v, 1, 7200, &n) ? -1 : (a->bh.mu.install_s = (int64_t)n, 0);
	case 'd': return num(v, 1, 7200, &n) ? -1 : (a->bh.mu.dl_s = (int64_t)n, 0);
	case 'o': return num(v, 50, 60000, &n) ? -1 : (a->bh.mu.poll_ms = (uint32_t)n, 0);
	default: return -1;
	}
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {{"queue", 1, NULL, 'q'},
	                                     {"bind", 1, NULL, 'b'},
	                                     {"port", 1, NULL, 'p'},
	                                     {"queue-mb", 1, NULL, 'm'},
	                                     {"carry-ms", 1, NULL, 'c'},
	                                     {"broker", 1, NULL, 'B'},
	                                     {"modem", 1, NULL, 'M'},
	                                     {"baud", 1, NULL, 'r'},
	                                     {"apn", 1, NULL, 'A'},
	                                     {"at-log", 1, NULL, 'L'},
	                                     {"prefix", 1, NULL, 'P'},
	                                     {"gateway-id", 1, NULL, 'G'},
	                                     {"json", 0, NULL, 'J'},
	                                     {"state-s", 1, NULL, 's'},
	                                     {"relay-port", 1, NULL, 'R'},
	                                     {"keepalive-s", 1, NULL, 'K'},
	                                     {"state-dir", 1, NULL, 'S'},
	                                     {"http-user", 1, NULL, 'H'},
	                                     {"ftp-user", 1, NULL, 'F'},
	                                     {"ufota-ack", 0, NULL, 'U'},
	                                     {"install-s", 1, NULL, 'i'},
	                                     {"download-s", 1, NULL, 'd'},
	                                     {"modem-poll-ms", 1, NULL, 'o'},
	                                     {"help", 0, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?' || option(c, optarg, a) != 0)
			return -1;
	}
	return a->gw.queue.dir && optind == argc && (!a->bh.modem || a->bh.broker_host) ? 0 : -1;
}

static void run(struct gw *g, struct bh *b)
{
	int64_t last_sync_us = 0;
	int rc;

	while (!stop) {
		struct pollfd p = {.fd = gw_fd(g), .events = POLLIN};
		size_t sent = 0;

		if (poll(&p, 1, 0) > 0 && (rc = gw_on_readable(g, mono_us())) != FUOTA_OK)
			fprintf(stderr, "fuota-gw: %s\n", fuota_strerror(rc));
		bh_step(b, g, 5);
		/* the batched fsync policy: one sync a second */
		if (mono_us() - last_sync_us >= 1000000) {
			last_sync_us = mono_us();
			if ((rc = gwq_sync(gw_queue(g))) != FUOTA_OK)
				fprintf(stderr, "fuota-gw: queue sync: %s\n", fuota_strerror(rc));
		}
		if ((rc = gw_flush(g, &sent)) != FUOTA_OK)
			fprintf(stderr, "fuota-gw: queue: %s\n", fuota_strerror(rc));
	}
}

int main(int argc, char **argv)
{
	/* 1 MiB segments: a whole segment is what the bound drops at once (1/64 of the default) */
	struct args a = {
	        .gw = {.bind_host = "127.0.0.1",
	               .port = 1700,
	               .queue = {.seg_bytes = 1u << 20, .max_bytes = UINT64_C(64) << 20},
	               .carry_us = 300000},
	        .bh = {.baud = 115200, .prefix = "", .state_every_ms = 30000, .keepalive_s = 60}};
	struct gw_net net;
	struct gw *g = NULL;
	struct bh *b = NULL;
	struct gwq_stats st;
	struct sigaction sa = {.sa_handler = on_signal};
	int rc;

	if (parse_args(argc, argv, &a) != 0) {
		usage(stderr);
		return 2;
	}
	if (!a.bh.mu.state_dir)
		a.bh.mu.state_dir = a.gw.queue.dir;
	(void)mkdir(a.bh.mu.state_dir, 0700); /* the queue's own, made early: the manager writes */
	a.bh.mu.http_pass = getenv("FUOTA_GW_HTTP_PASSWORD");
	a.bh.mu.ftp_pass = getenv("FUOTA_GW_FTP_PASSWORD");
	if (a.gw.carry_us < GW_FWD_LEAD_US)
		a.gw.carry_us = GW_FWD_LEAD_US;
	if (a.at_log && !(a.bh.at_log = fopen(a.at_log, "a"))) {
		fprintf(stderr, "fuota-gw: cannot open %s\n", a.at_log);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((rc = bh_open(&a.bh, &b)) != FUOTA_OK) {
		fprintf(stderr, "fuota-gw: backhaul: %s\n", fuota_strerror(rc));
		return 1;
	}
	net = bh_net(b);
	if ((rc = gw_open(&a.gw, &net, &g)) != FUOTA_OK) {
		fprintf(stderr, "fuota-gw: cannot start on %s:%u with queue %s: %s\n",
		        a.gw.bind_host, (unsigned)a.gw.port, a.gw.queue.dir, fuota_strerror(rc));
		bh_close(b);
		return 1;
	}
	gwq_get_stats(gw_queue(g), &st);
	fprintf(stderr, "fuota-gw: listening on %s:%u, %" PRIu64 " queued, %" PRIu64 " dropped\n",
	        a.gw.bind_host, (unsigned)gw_port(g), st.records, st.dropped);
	run(g, b);
	gwq_get_stats(gw_queue(g), &st);
	fprintf(stderr, "fuota-gw: stopping, %" PRIu64 " queued, %" PRIu64 " bad datagrams\n",
	        st.records, gw_counters(g)->bad_datagrams);
	gw_close(g);
	bh_close(b);
	if (a.bh.at_log)
		fclose(a.bh.at_log);
	return 0;
}
