/* fuota-sim: a LoRaWAN network server integration, gateways and a device fleet on MQTT, for
 * testing fuotad end to end, demos and campaign rehearsals (see sim.h for the parts).
 *
 * One thread runs everything: Paho's threads only put received messages into an inbound queue,
 * and this loop drains it between the timers of gateways and devices. It runs until SIGINT or
 * SIGTERM, --timeout, or with --until-done until the server is done with every device that took
 * part in a campaign (sim_dev_finished). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "sim.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return FUOTA_ERR_IO;
	int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0)
		return FUOTA_ERR_IO;
	return FUOTA_OK;
}

/* A FUOTA request (port 200 or 201) the network server holds for the device's next uplink. */
static bool fuota_queued(const struct sim_node *n)
{
	for (size_t k = 0; k < n->nq; k++)
		if (n->q[k].port == MC_FPORT || n->q[k].port == FRAG_PORT)
			return true;
	return false;
}

/* --until-done: every device that got a FUOTA request is finished, and at least one did; a device
 * that only synchronises its clock is in no campaign and does not count. */
static bool all_finished(const struct sim *s, int64_t now_ms)
{
	uint32_t taking_part = 0;
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		const struct sim_node *n = &s->nodes[i];
		if (fuota_queued(n))
			return false;
		if (!sim_dev_in_campaign(&n->dev))
			continue;
		if (!sim_dev_finished(&n->dev, now_ms))
			return false;
		taking_part++;
	}
	return taking_part > 0;
}

static int run(struct sim *s)
{
	int64_t deadline =
	        s->o.timeout_s > 0 ? s->start_ms + (int64_t)(s->o.timeout_s * 1000) : INT64_MAX;
	int64_t next_done_check = 0;
	while (!g_stop) {
		int64_t now = sim_gps_now_ms();
		if (now >= deadline) {
			fprintf(stderr, "fuota-sim: timeout after %.0f s\n", s->o.timeout_s);
			return s->o.until_done ? 3 : 0;
		}
		if (s->o.until_done && now >= next_done_check) {
			next_done_check = now + 250;
			if (all_finished(s, now))
				return 0;
		}
		int64_t next = sim_net_step(s, now);
		int64_t wait = next - sim_gps_now_ms();
		if (wait > 100)
			wait = 100;
		if (s->o.n_sudp && wait > 10)
			wait = 10; /* the forwarders' sockets are read between MQTT waits */
		if (wait < 0)
			wait = 0;
		struct mqtt_msg *m = NULL;
		for (int n = 0; n < 10000; n++) {
			if (mqtt_queue_pop(s->inq, n == 0 ? (uint32_t)wait : 0, &m) != FUOTA_OK)
				break;
			sim_net_handle(s, m, sim_gps_now_ms());
			mqtt_msg_free(m);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sim s;
	memset(&s, 0, sizeof(s));
	int rc = sim_opts_parse(argc, argv, &s.o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	char gw_prefix[32];
	if (!s.o.gw_prefix) {
		size_t i = 0;
		for (; s.o.region->name[i] && i < sizeof(gw_prefix) - 1; i++)
			gw_prefix[i] = (char)(s.o.region->name[i] | 0x20); /* "EU868" -> "eu868" */
		gw_prefix[i] = '\0';
		s.o.gw_prefix = gw_prefix;
	}
	s.start_ms = sim_gps_now_ms();
	int exit_code = 1;
	if (sim_fleet_build(&s, s.start_ms) != FUOTA_OK) {
		fprintf(stderr, "fuota-sim: cannot build the fleet\n");
		goto out;
	}
	if (s.o.print_fleet) {
		char *j = sim_fleet_json(&s);
		if (j)
			puts(j);
		free(j);
		exit_code = j ? 0 : 1;
		goto out;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	rc = sim_net_start(&s);
	if (rc != FUOTA_OK) {
		fprintf(stderr, "fuota-sim: MQTT %s: %s\n", s.o.mqtt_uri, fuota_strerror(rc));
		goto out;
	}
	if (mqtt_wait_subscribed(s.mqtt, 30000) != FUOTA_OK) {
		fprintf(stderr, "fuota-sim: no MQTT connection to %s within 30 s\n", s.o.mqtt_uri);
		goto out;
	}
	fprintf(stderr, "fuota-sim: %u devices, %u gateways on %s (%s, gateway prefix %s)\n",
	        s.n_nodes, s.n_gws, s.o.mqtt_uri, s.o.region->name, s.o.gw_prefix);
	/* The fleet file appears only once the subscriptions are in place, so a script that waits
	 * for it may start sending at once. */
	if (s.o.fleet_out) {
		char *j = sim_fleet_json(&s);
		if (!j || write_file(s.o.fleet_out, j) != FUOTA_OK) {
			fprintf(stderr, "fuota-sim: cannot write %s\n", s.o.fleet_out);
			free(j);
			goto out;
		}
		free(j);
	}
	exit_code = run(&s);
	int64_t end = sim_gps_now_ms();
	sim_report_print(&s, end);
	if (s.o.report_path && sim_report_write(&s, end, s.o.report_path) != FUOTA_OK) {
		fprintf(stderr, "fuota-sim: cannot write %s\n", s.o.report_path);
		exit_code = 1;
	}
out:
	sim_net_stop(&s);
	sim_fleet_free(&s);
	return exit_code;
}
