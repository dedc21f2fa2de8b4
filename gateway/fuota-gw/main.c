/* fuota-gw, first slice: the packet forwarder's side of the cellular gateway adapter. It listens
 * for Semtech UDP on loopback, acks the forwarder and keeps every uplink, stats report and
 * downlink ack in the disk queue. The network side (MQTT through the SARA-R5) is not wired yet:
 * the backhaul counts as down, so everything is stored, in order, until it is. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* No backhaul yet: every event stays queued. */
static int offline_publish(void *ctx, enum gw_event ev, const char *gateway_id,
                           const uint8_t *payload, size_t len)
{
	(void)ctx, (void)ev, (void)gateway_id, (void)payload, (void)len;
	return FUOTA_ERR_IO;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fuota-gw --queue DIR [--bind 127.0.0.1] [--port 1700] "
	           "[--queue-mb 64] [--carry-ms 300]\n"
	           "  Listens for a Semtech UDP packet forwarder and stores its traffic in DIR.\n");
}

static int parse_args(int argc, char **argv, struct gw_opts *o)
{
	static const struct option opts[] = {{"queue", required_argument, NULL, 'q'},
	                                     {"bind", required_argument, NULL, 'b'},
	                                     {"port", required_argument, NULL, 'p'},
	                                     {"queue-mb", required_argument, NULL, 'm'},
	                                     {"carry-ms", required_argument, NULL, 'c'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	char *end;
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?')
			return -1;
		if (c == 'q' || c == 'b') {
			*(c == 'q' ? &o->queue.dir : &o->bind_host) = optarg;
			continue;
		}
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || *end || !*optarg || (c == 'p' && v > 65535) ||
		    (c == 'm' && (!v || v > 65536)) || (c == 'c' && v > 60000))
			return -1;
		if (c == 'p')
			o->port = (uint16_t)v;
		else if (c == 'm')
			o->queue.max_bytes = (uint64_t)v << 20;
		else
			o->carry_us = (int64_t)v * 1000;
	}
	return o->queue.dir && optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
	/* 1 MiB segments: a whole segment is what the bound drops at once (1/64 of the default) */
	struct gw_opts o = {.bind_host = "127.0.0.1",
	                    .port = 1700,
	                    .queue = {.seg_bytes = 1u << 20, .max_bytes = UINT64_C(64) << 20},
	                    .carry_us = 300000};
	struct gw_net net = {.publish = offline_publish};
	struct gw *g = NULL;
	struct gwq_stats st;
	struct sigaction sa = {.sa_handler = on_signal};
	int64_t last_sync_us = 0;
	int rc;

	if (parse_args(argc, argv, &o) != 0) {
		usage(stderr);
		return 2;
	}
	if (o.carry_us < GW_FWD_LEAD_US)
		o.carry_us = GW_FWD_LEAD_US;
	if ((rc = gw_open(&o, &net, &g)) != FUOTA_OK) {
		fprintf(stderr, "fuota-gw: cannot start on %s:%u with queue %s: %s\n", o.bind_host,
		        (unsigned)o.port, o.queue.dir, fuota_strerror(rc));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	gwq_get_stats(gw_queue(g), &st);
	fprintf(stderr, "fuota-gw: listening on %s:%u, %" PRIu64 " queued, %" PRIu64 " dropped\n",
	        o.bind_host, (unsigned)gw_port(g), st.records, st.dropped);
	while (!stop) {
		struct pollfd p = {.fd = gw_fd(g), .events = POLLIN};
		size_t sent = 0;
		if (poll(&p, 1, 1000) > 0 && (rc = gw_on_readable(g, mono_us())) != FUOTA_OK)
			fprintf(stderr, "fuota-gw: %s\n", fuota_strerror(rc));
		/* the batched fsync policy: one sync a second */
		if (mono_us() - last_sync_us >= 1000000) {
			last_sync_us = mono_us();
			if ((rc = gwq_sync(gw_queue(g))) != FUOTA_OK)
				fprintf(stderr, "fuota-gw: queue sync: %s\n", fuota_strerror(rc));
		}
		if ((rc = gw_flush(g, &sent)) != FUOTA_OK)
			fprintf(stderr, "fuota-gw: queue: %s\n", fuota_strerror(rc));
	}
	gwq_get_stats(gw_queue(g), &st);
	fprintf(stderr, "fuota-gw: stopping, %" PRIu64 " queued, %" PRIu64 " bad datagrams\n",
	        st.records, gw_counters(g)->bad_datagrams);
	gw_close(g);
	return 0;
}
