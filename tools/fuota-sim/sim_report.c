/* What happened to every device: a summary on stdout and the JSON report (--report FILE).
 *
 * JSON layout:
 *   { "summary": { devices, in_campaign, finished, decoded, verified, failed, uplinks, downlinks,
 *                  frames_sent, frames_needed, acks: { "OK": n, ... } },
 *     "gateways": [ { gateway_id, encoding, downlinks, frames_sent, bad_messages, stats_sent,
 *                     uplinks, and with --semtech-udp semtech_udp: { push_sent, push_acked,
 *                     rxpk_acked, pull_acked, pull_resp, tx_ack_sent } } ],
 *     "devices": [ { dev_eui, index, class, lorawan_version, packages, misbehave, loss,
 *                    steps: [...], decoded, verified, sha256_ok, mic_ok, in_campaign, finished,
 *                    done_n (N of the frame that completed its decoder; 0: none),
 *                    frames: { heard, lost, accepted, mic_failures, fcnt_rejected, duplicates,
 *                              outside_session, other_session, off_slot, fragments },
 *                    fragments: { nb_frag, missing, recovered },
 *                    parts: { received, expected } (an image sent in parts, fuota/frag_part.h:
 *                             parts rebuilt, each once, of P; 0 and 0 for a whole image),
 *                    unicast: { delivered, lost, lost_requests: [ { port, cid, command,
 *                               at_s } ] },
 *                    uplinks, downlinks, answers, clock_error_ms,
 *                    failures: [ { reason, count } ] } ] } */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "sim.h"

static bool failed(const struct sim_dev_report *r)
{
	return r->n_failures > 0 || (r->finished && !r->verified);
}

static json_t *steps_json(uint32_t steps)
{
	json_t *a = json_array();
	for (uint32_t bit = 1; bit && bit <= SIM_STEP_SESSION_END; bit <<= 1)
		if (steps & bit)
			json_array_append_new(a, json_string(sim_step_name(bit)));
	return a;
}

static json_t *device_json(const struct sim_node *n, int64_t now_ms)
{
	struct sim_dev_report r;
	sim_dev_get_report(&n->dev, now_ms, &r);
	const struct sim_dev_cfg *c = &n->dev.cfg;
	char cls[2] = {n->dev_class, 0};
	json_t *fails = json_array();
	for (size_t i = 0; i < r.n_failures; i++)
		json_array_append_new(fails, json_pack("{s:s, s:i}", "reason", r.failures[i].text,
		                                       "count", (int)r.failures[i].count));
	if (n->unicast_dropped)
		json_array_append_new(fails, json_pack("{s:s, s:i}", "reason",
		                                       "network server downlink queue full",
		                                       "count", (int)n->unicast_dropped));
	json_t *d = json_object();
	json_object_set_new(d, "dev_eui", json_string(n->eui));
	json_object_set_new(d, "index", json_integer(n->index));
	json_object_set_new(d, "class", json_string(cls));
	json_object_set_new(d, "lorawan_version", json_string(c->lorawan11 ? "1.1.0" : "1.0.4"));
	json_object_set_new(d, "packages",
	                    json_pack("{s:i, s:i, s:i}", "ts003", c->clk_version, "ts004",
	                              c->frag_version, "ts005", c->mc_version));
	json_object_set_new(d, "misbehave", sim_misbehave_json(n->misbehave));
	json_object_set_new(d, "loss", json_real(n->loss));
	json_object_set_new(d, "steps", steps_json(r.steps));
	json_object_set_new(d, "decoded", json_boolean(r.decoded));
	json_object_set_new(d, "verified", json_boolean(r.verified));
	json_object_set_new(d, "sha256_ok", r.sha_checked ? json_boolean(r.sha_ok) : json_null());
	json_object_set_new(d, "mic_ok", r.mic_checked ? json_boolean(r.mic_ok) : json_null());
	json_object_set_new(d, "in_campaign", json_boolean(r.in_campaign));
	json_object_set_new(d, "finished", json_boolean(r.finished));
	json_object_set_new(d, "done_n", json_integer(r.done_n));
	json_object_set_new(d, "failed", json_boolean(failed(&r)));
	json_object_set_new(d, "frames",
	                    json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}",
	                              "heard", (int)n->frames_heard, "lost", (int)n->frames_lost,
	                              "reached_radio", (int)r.mc_frames, "accepted",
	                              (int)r.mc_accepted, "mic_failures", (int)r.mic_failures,
	                              "fcnt_rejected", (int)r.fcnt_rejected, "duplicates",
	                              (int)r.duplicates, "outside_session", (int)r.outside_session,
	                              "other_session", (int)r.other_session, "off_slot",
	                              (int)r.off_slot, "fragments", (int)r.fragments));
	json_object_set_new(d, "fragments",
	                    json_pack("{s:i, s:i, s:i}", "nb_frag", (int)r.nb_frag, "missing",
	                              (int)r.frag_missing, "recovered", (int)r.frag_recovered));
	json_object_set_new(d, "parts",
	                    json_pack("{s:i, s:i}", "received", (int)r.parts_received, "expected",
	                              (int)r.parts_expected));
	json_t *lost = json_array();
	for (size_t i = 0; i < n->n_lost; i++)
		json_array_append_new(lost, json_pack("{s:i, s:i, s:s, s:f}", "port",
		                                      n->lost[i].port, "cid", n->lost[i].cid,
		                                      "command", n->lost[i].command, "at_s",
		                                      (double)n->lost[i].at_ms / 1000.0));
	json_object_set_new(d, "unicast",
	                    json_pack("{s:i, s:i, s:o}", "delivered", (int)n->unicast_delivered,
	                              "lost", (int)n->unicast_lost, "lost_requests", lost));
	json_object_set_new(d, "uplinks", json_integer(r.uplinks));
	json_object_set_new(d, "downlinks", json_integer(r.downlinks));
	json_object_set_new(d, "answers", json_integer(r.answers));
	json_object_set_new(d, "clock_error_ms", json_integer(r.clock_error_ms));
	json_object_set_new(d, "failures", fails);
	return d;
}

struct totals {
	uint32_t in_campaign, finished, decoded, verified, failed;
	uint64_t lost, heard, mic_failures;
	uint32_t frames_needed; /* the largest done_n of a verified device */
};

static void count(const struct sim *s, int64_t now_ms, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		struct sim_dev_report r;
		sim_dev_get_report(&s->nodes[i].dev, now_ms, &r);
		t->in_campaign += r.in_campaign;
		t->finished += r.finished;
		t->decoded += r.decoded;
		t->verified += r.verified;
		t->failed += failed(&r);
		t->lost += s->nodes[i].frames_lost;
		t->heard += s->nodes[i].frames_heard;
		t->mic_failures += r.mic_failures;
		if (r.verified && r.done_n > t->frames_needed)
			t->frames_needed = r.done_n;
	}
}

void sim_report_print(const struct sim *s, int64_t now_ms)
{
	struct totals t;
	count(s, now_ms, &t);
	printf("fuota-sim: %u devices, %u gateways, %.1f s\n", s->n_nodes, s->n_gws,
	       (double)(now_ms - s->start_ms) / 1000.0);
	printf("  in a campaign %u, finished %u, decoded %u, verified %u, failed %u\n",
	       t.in_campaign, t.finished, t.decoded, t.verified, t.failed);
	printf("  uplinks %llu, unicast downlinks %llu, multicast frames heard %llu, lost %llu\n",
	       (unsigned long long)s->uplinks_published, (unsigned long long)s->downlinks_received,
	       (unsigned long long)t.heard, (unsigned long long)t.lost);
	for (uint32_t g = 0; g < s->n_gws; g++) {
		const struct sim_gw *gw = &s->gws[g];
		printf("  gateway %s (%s): %llu frames on air, %llu refused, acks", gw->id,
		       gw->json ? "json" : "protobuf", (unsigned long long)gw->frames_sent,
		       (unsigned long long)gw->bad_messages);
		for (int st = 0; st < 12; st++)
			if (gw->acks[st])
				printf(" %s=%llu", cs_ack_status_name((enum cs_tx_ack_status)st),
				       (unsigned long long)gw->acks[st]);
		printf("\n");
	}
	printf("  %-16s %-5s %-3s %-8s %-8s %-6s %-6s %s\n", "dev_eui", "class", "ver", "decoded",
	       "verified", "heard", "lost", "failures");
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		const struct sim_node *n = &s->nodes[i];
		struct sim_dev_report r;
		sim_dev_get_report(&n->dev, now_ms, &r);
		printf("  %-16s %-5c v%-2d %-8s %-8s %-6u %-6u %s%s\n", n->eui, n->dev_class,
		       n->dev.cfg.frag_version, r.decoded ? "yes" : "no", r.verified ? "yes" : "no",
		       n->frames_heard, n->frames_lost, r.n_failures ? r.failures[0].text : "-",
		       r.n_failures > 1 ? " (+more)" : "");
	}
	fflush(stdout);
}

int sim_report_write(const struct sim *s, int64_t now_ms, const char *path)
{
	struct totals t;
	count(s, now_ms, &t);
	json_t *acks = json_object();
	uint64_t frames_sent = 0;
	for (int st = 0; st < 12; st++) {
		uint64_t n = 0;
		for (uint32_t g = 0; g < s->n_gws; g++)
			n += s->gws[g].acks[st];
		if (n)
			json_object_set_new(acks, cs_ack_status_name((enum cs_tx_ack_status)st),
			                    json_integer((json_int_t)n));
	}
	for (uint32_t g = 0; g < s->n_gws; g++)
		frames_sent += s->gws[g].frames_sent;
	json_t *root = json_object();
	json_t *sum = json_object();
	json_object_set_new(sum, "devices", json_integer(s->n_nodes));
	json_object_set_new(sum, "gateways", json_integer(s->n_gws));
	json_object_set_new(sum, "in_campaign", json_integer(t.in_campaign));
	json_object_set_new(sum, "finished", json_integer(t.finished));
	json_object_set_new(sum, "decoded", json_integer(t.decoded));
	json_object_set_new(sum, "verified", json_integer(t.verified));
	json_object_set_new(sum, "failed", json_integer(t.failed));
	json_object_set_new(sum, "uplinks", json_integer((json_int_t)s->uplinks_published));
	json_object_set_new(sum, "downlinks", json_integer((json_int_t)s->downlinks_received));
	json_object_set_new(sum, "frames_sent", json_integer((json_int_t)frames_sent));
	json_object_set_new(sum, "frames_lost", json_integer((json_int_t)t.lost));
	uint64_t uc_lost = 0;
	for (uint32_t i = 0; i < s->n_nodes; i++)
		uc_lost += s->nodes[i].unicast_lost;
	json_object_set_new(sum, "unicast_lost", json_integer((json_int_t)uc_lost));
	/* The oracle: the fixed count of frames (its session's N) that would have sufficed for
	 * every verified device with exactly this run's losses. */
	json_object_set_new(sum, "frames_needed", json_integer((json_int_t)t.frames_needed));
	json_object_set_new(sum, "bad_messages", json_integer((json_int_t)s->bad_messages));
	json_object_set_new(sum, "seconds", json_real((double)(now_ms - s->start_ms) / 1000.0));
	json_object_set_new(sum, "acks", acks);
	json_object_set_new(root, "summary", sum);
	json_t *gws = json_array();
	for (uint32_t g = 0; g < s->n_gws; g++) {
		const struct sim_gw *gw = &s->gws[g];
		json_t *o = json_pack(
		        "{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "gateway_id", gw->id, "encoding",
		        gw->json ? "json" : "protobuf", "downlinks", (json_int_t)gw->downlinks,
		        "frames_sent", (json_int_t)gw->frames_sent, "bad_messages",
		        (json_int_t)gw->bad_messages, "stats_sent", (json_int_t)gw->stats_sent,
		        "uplinks", (json_int_t)gw->uplinks);
		if (o && g < s->o.n_sudp)
			json_object_set_new(o, "semtech_udp",
			                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "push_sent",
			                              (json_int_t)gw->push_sent, "push_acked",
			                              (json_int_t)gw->push_acked, "rxpk_acked",
			                              (json_int_t)gw->rxpk_acked, "pull_acked",
			                              (json_int_t)gw->pull_acked, "pull_resp",
			                              (json_int_t)gw->pull_resp, "tx_ack_sent",
			                              (json_int_t)gw->tx_ack_sent));
		json_array_append_new(gws, o);
	}
	json_object_set_new(root, "gateways", gws);
	json_t *devs = json_array();
	for (uint32_t i = 0; i < s->n_nodes; i++)
		json_array_append_new(devs, device_json(&s->nodes[i], now_ms));
	json_object_set_new(root, "devices", devs);

	/* Written next to the target and renamed, so a reader never sees half a report. */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int rc = json_dump_file(root, tmp, JSON_INDENT(2)) == 0 && rename(tmp, path) == 0
	                 ? FUOTA_OK
	                 : FUOTA_ERR_IO;
	json_decref(root);
	return rc;
}
