/* fuota-gw's network side (backhaul.h). */
#include "backhaul.h"

#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuota/at_client.h"
#include "fuota/cell_serial.h"
#include "fuota/err.h"
#include "fuota/gw_state.h"
#include "fuota/mqtt.h"
#include "fuota/relay.h"
#include "fuota/sara.h"

#define WINDOW 16 /* events handed to paho and not yet acked; past it they wait on disk */
#define TAGS   64 /* what every unacknowledged publish was (an event or not), in order */

struct bh {
	struct bh_opts o;
	bool modem;
	struct cell_serial ser;
	struct at_client *at;
	struct sara *s;
	struct relay *relay;
	struct sara_info info;
	struct mqtt_client *mq;
	struct mqtt_queue *inq;
	uint32_t connects_seen;
	char gw_id[17];
	struct gw_modem_state cur, last;
	bool published;
	int64_t next_state_ms;
	unsigned state_refused; /* state/modem publishes refused in a row */
	/* PUBACKs come in publish order: the tags say which of them confirm a queued event */
	bool tag[TAGS];
	size_t tag_head, tag_n;
	uint64_t published_seen;
	/* modem updates: the backhaul is drained, then down while the worker owns the modem */
	struct mu *mu;
	enum { PH_NORMAL, PH_DRAIN, PH_UPDATE } phase;
	int64_t drain_until_ms;
	struct relay_opts ro;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_modem_event(void *ctx, const struct sara_event *ev)
{
	struct bh *b = ctx;

	if (b->phase == PH_UPDATE)
		return; /* the update's worker drives the modem; the relay is gone */
	if (b->relay)
		relay_on_event(b->relay, ev);
	if (ev->kind == SARA_EV_REG || ev->kind == SARA_EV_PDP_DOWN || ev->kind == SARA_EV_CGEV)
		b->next_state_ms = 0; /* say it now */
}

static int modem_up(struct bh *b)
{
	struct at_config ac = {.serial = &b->ser, .log_file = b->o.at_log};
	struct sara_config sc = {.on_event = on_modem_event, .event_ctx = b};
	struct relay_opts ro = {.listen_port = (uint16_t)b->o.relay_port,
	                        .remote_host = b->o.broker_host,
	                        .remote_port = b->o.broker_port,
	                        .cid = 1};
	struct mu_opts mo = b->o.mu;
	bool away = mu_module_away(mo.state_dir);
	int stat = -1, err;

	b->ro = ro;
	if ((err = cell_serial_open_tty(&b->ser, b->o.modem, b->o.baud)) != FUOTA_OK ||
	    (err = at_create(&ac, &b->at)) != FUOTA_OK)
		return err;
	sc.at = b->at;
	if ((err = sara_create(&sc, &b->s)) != FUOTA_OK ||
	    (!away && (err = sara_boot(b->s, 30000)) != 0))
		return err;
	if (!away)
		(void)sara_info(b->s, &b->info);
	mo.apn = b->o.apn;
	mo.baud = b->o.baud;
	if ((err = mu_open(&mo, b->s, b->at, &b->ser, &b->mu)) != FUOTA_OK) {
		fprintf(stderr, "fuota-gw: modem update manager: %s\n", fuota_strerror(err));
		return err;
	}
	if (away) {
		/* fuota-gw restarted while the module installs: the update goes on first, and
		 * the relay starts after it (update_step) */
		fprintf(stderr, "fuota-gw: the modem installs an update: backhaul after it\n");
		b->phase = PH_DRAIN;
		return FUOTA_OK;
	}
	if ((err = sara_cgev_enable(b->s)) != FUOTA_OK ||
	    (err = sara_register(b->s, b->o.apn, 180000, &stat)) != FUOTA_OK) {
		fprintf(stderr, "fuota-gw: modem: %s\n", sara_last_error(b->s));
		return err;
	}
	/* A clean start: an earlier fuota-gw that died left the module's sockets and context
	 * as they were (the broker still sees its connection); close them so its last will goes
	 * out and the relay activates a fresh context. Errors only mean there was nothing. */
	for (int i = 0; i < 7; i++)
		(void)sara_sock_close(b->s, i);
	(void)sara_pdp_down(b->s, 0);
	if ((err = relay_create(&ro, b->s, &b->relay)) != FUOTA_OK)
		return err;
	b->ro.listen_port = relay_port(b->relay); /* the same port again after an update */
	return FUOTA_OK;
}

int bh_open(const struct bh_opts *o, struct bh **out)
{
	struct bh *b = calloc(1, sizeof(*b));
	int err = FUOTA_OK;

	*out = NULL;
	if (!b)
		return FUOTA_ERR_NO_MEMORY;
	b->o = *o;
	b->cur.reg_stat = b->cur.act = -1;
	b->cur.csq = b->cur.ber = 99;
	if (o->gateway_id)
		snprintf(b->gw_id, sizeof(b->gw_id), "%s", o->gateway_id);
	if (o->broker_host && o->modem) {
		b->modem = true;
		err = modem_up(b);
	}
	if (err == FUOTA_OK && o->broker_host)
		err = mqtt_queue_create(1000, &b->inq);
	if (err != FUOTA_OK) {
		bh_close(b);
		return err;
	}
	*out = b;
	return FUOTA_OK;
}

void bh_close(struct bh *b)
{
	if (!b)
		return;
	if (b->mq)
		(void)mqtt_disconnect(b->mq, 2000);
	mqtt_destroy(b->mq);
	mqtt_queue_destroy(b->inq);
	mu_close(b->mu);
	relay_destroy(b->relay);
	sara_destroy(b->s);
	at_destroy(b->at);
	cell_serial_close(&b->ser);
	free(b);
}

static bool connected(struct bh *b)
{
	struct mqtt_status st;

	if (!b->mq)
		return false;
	mqtt_get_status(b->mq, &st);
	return st.connected;
}

/* Every publish goes through here, QoS 1, so that each PUBACK is matched to what it confirms. */
static int tagged_publish(struct bh *b, const char *topic, const void *payload, size_t len,
                          int qos_flags, bool event)
{
	int rc;

	if (b->tag_n == TAGS)
		return FUOTA_ERR_NO_SPACE;
	rc = mqtt_publish(b->mq, topic, payload, len, qos_flags);
	if (rc == FUOTA_OK) {
		b->tag[(b->tag_head + b->tag_n) % TAGS] = event;
		b->tag_n++;
	}
	return rc;
}

static int publish(void *ctx, enum gw_event ev, const char *gateway_id, const uint8_t *payload,
                   size_t len)
{
	static const char *const names[] = {"", "up", "stats", "ack", "modem-update"};
	struct bh *b = ctx;
	char topic[256];

	if (!connected(b) || b->tag_n >= TAGS - 4 || ev < GW_EV_UP || ev > GW_EV_MODEM ||
	    gw_topic(topic, sizeof(topic), b->o.prefix, gateway_id, "event", names[ev]) != FUOTA_OK)
		return FUOTA_ERR_IO;
	return tagged_publish(b, topic, payload, len, 1, true);
}

/* How many more queued events the broker has acknowledged. */
static void acked(void *ctx, size_t *n)
{
	struct bh *b = ctx;
	struct mqtt_status st;

	*n = 0;
	if (!b->mq)
		return;
	mqtt_get_status(b->mq, &st);
	for (; b->published_seen < st.published && b->tag_n; b->published_seen++) {
		*n += b->tag[b->tag_head];
		b->tag_head = (b->tag_head + 1) % TAGS;
		b->tag_n--;
	}
}

struct gw_net bh_net(struct bh *b)
{
	struct gw_net n = {.ctx = b, .publish = publish, .acked = acked, .window = WINDOW};

	return n;
}

/* Starts paho once the gateway id is known: its last will (state/conn OFFLINE) names it. */
static void mqtt_start(struct bh *b)
{
	struct mqtt_options mo = {.keepalive_s = b->o.keepalive_s,
	                          .connect_timeout_s = 20, /* a cellular round trip or three */
	                          .reconnect_min_ms = 500,
	                          .reconnect_max_ms = 5000,
	                          .max_buffered = 1000,
	                          .clean_session = true,
	                          .will_qos = 1,
	                          .will_retained = true};
	char uri[96], client[64], will[256], down[256], mcmd[256], sess[256];
	uint8_t *off = NULL;
	size_t off_len = 0;

	if (gw_topic(will, sizeof(will), b->o.prefix, b->gw_id, "state", "conn") != FUOTA_OK ||
	    gw_topic(down, sizeof(down), b->o.prefix, b->gw_id, "command", "down") != FUOTA_OK ||
	    gw_topic(mcmd, sizeof(mcmd), b->o.prefix, b->gw_id, "command", "modem-update") !=
	            FUOTA_OK ||
	    gw_topic(sess, sizeof(sess), b->o.prefix, b->gw_id, "command", "sessions") !=
	            FUOTA_OK ||
	    gw_conn_state(b->gw_id, false, b->o.json, &off, &off_len) != FUOTA_OK ||
	    mqtt_paho_create(&b->mq) != FUOTA_OK)
		goto out;
	if (b->modem)
		snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", (unsigned)relay_port(b->relay));
	else
		snprintf(uri, sizeof(uri), "tcp://%s:%u", b->o.broker_host,
		         (unsigned)b->o.broker_port);
	snprintf(client, sizeof(client), "fuota-gw-%s", b->gw_id);
	mo.client_id = client;
	mo.will_topic = will;
	mo.will_payload = off;
	mo.will_len = off_len;
	if (mqtt_subscribe(b->mq, down, 1, mqtt_queue_on_message, b->inq) != FUOTA_OK ||
	    (b->mu &&
	     (mqtt_subscribe(b->mq, mcmd, 1, mqtt_queue_on_message, b->inq) != FUOTA_OK ||
	      mqtt_subscribe(b->mq, sess, 1, mqtt_queue_on_message, b->inq) != FUOTA_OK)) ||
	    mqtt_connect(b->mq, uri, &mo) != FUOTA_OK)
		fprintf(stderr, "fuota-gw: mqtt: cannot start towards %s\n", uri);
	else
		fprintf(stderr, "fuota-gw: gateway %s, mqtt through %s\n", b->gw_id, uri);
out:
	free(off);
}

/* After every (re)connection: state/conn ONLINE (retained) and the modem state again. */
static void on_connected(struct bh *b)
{
	char topic[256];
	uint8_t *on = NULL;
	size_t len = 0;

	if (gw_topic(topic, sizeof(topic), b->o.prefix, b->gw_id, "state", "conn") == FUOTA_OK &&
	    gw_conn_state(b->gw_id, true, b->o.json, &on, &len) == FUOTA_OK)
		(void)tagged_publish(b, topic, on, len, 1 | MQTT_RETAIN, false);
	free(on);
	b->published = false;
	b->next_state_ms = 0;
	b->state_refused = 0;
}

static void downlinks(struct bh *b, struct gw *g)
{
	struct mqtt_msg *m;
	static struct cs_gw_downlink d;
	char err[160];

	while (mqtt_queue_pop(b->inq, 0, &m) == FUOTA_OK) {
		const char *kind = strrchr(m->topic, '/');
		int rc;

		if (b->mu && kind &&
		    (!strcmp(kind, "/modem-update") || !strcmp(kind, "/sessions"))) {
			mu_command(b->mu, kind + 1, m->payload, m->len, (int64_t)time(NULL));
			mqtt_msg_free(m);
			continue;
		}
		rc = cs_payload_is_json(m->payload, m->len)
		             ? cs_gw_downlink_from_json((const char *)m->payload, m->len, &d, err,
		                                        sizeof(err))
		             : cs_gw_downlink_from_proto(m->payload, m->len, &d, err, sizeof(err));

		if (rc != FUOTA_OK)
			fprintf(stderr, "fuota-gw: %s: bad downlink: %s\n", m->topic, err);
		else if ((rc = gw_downlink(g, &d, now_ms() * 1000)) != FUOTA_OK)
			fprintf(stderr, "fuota-gw: downlink %" PRIu32 ": %s\n", d.downlink_id,
			        fuota_strerror(rc));
		mqtt_msg_free(m);
	}
}

/* Reads the modem (signal, operator, registration) and the adapter's counters. */
static void state_refresh(struct bh *b, struct gw *g)
{
	struct gw_modem_state *st = &b->cur;
	struct gwq_stats qs;
	struct relay_stats rs;
	struct sara_cereg reg;

	snprintf(st->gateway_id, sizeof(st->gateway_id), "%s", b->gw_id);
	gwq_get_stats(gw_queue(g), &qs);
	st->queue_depth = qs.records;
	st->queue_dropped = qs.dropped;
	st->link_up = connected(b);
	if (b->mu)
		mu_update_state(b->mu, &st->update);
	if (!b->modem || b->phase == PH_UPDATE)
		return;
	snprintf(st->firmware, sizeof(st->firmware), "%s", b->info.fw);
	snprintf(st->app, sizeof(st->app), "%s", b->info.app);
	snprintf(st->imei, sizeof(st->imei), "%s", b->info.imei);
	if (b->relay) {
		relay_get_stats(b->relay, &rs);
		st->link_up = rs.link_up;
		st->relay_sessions = rs.sessions;
	}
	if (sara_signal(b->s, &st->csq, &st->ber) != FUOTA_OK)
		st->csq = st->ber = 99;
	if (sara_operator(b->s, st->oper, sizeof(st->oper), &st->act) != FUOTA_OK)
		st->oper[0] = '\0';
	if (sara_reg_get(b->s, &reg) == FUOTA_OK) {
		st->reg_stat = reg.stat;
		snprintf(st->ci, sizeof(st->ci), "%s", reg.ci);
		snprintf(st->tac, sizeof(st->tac), "%s", reg.tac);
	}
}

/* Reads the modem state and publishes it (retained) when it changed: what came of it. */
static enum gw_state_look state_try(struct bh *b, struct gw *g)
{
	enum gw_state_look look = GW_STATE_REFUSED;
	char topic[256], *js = NULL;
	size_t len = 0;

	state_refresh(b, g);
	if ((b->published && !gw_modem_changed(&b->last, &b->cur)) || !connected(b))
		return GW_STATE_SAME;
	if (gw_topic(topic, sizeof(topic), b->o.prefix, b->gw_id, "state", "modem") == FUOTA_OK &&
	    gw_modem_to_json(&b->cur, &js, &len) == FUOTA_OK &&
	    tagged_publish(b, topic, js, len, 1 | MQTT_RETAIN, false) == FUOTA_OK) {
		b->last = b->cur;
		b->published = true;
		look = GW_STATE_SENT;
	}
	free(js);
	return look;
}

/* The modem state when due: the next look a period later once the client took it, sooner
 * after a refusal (gw_state_next_ms). */
static void state_publish(struct bh *b, struct gw *g)
{
	int64_t now = now_ms();
	enum gw_state_look look;

	if (now < b->next_state_ms)
		return;
	/* A modem event during the look (its AT replies carry URCs) sets 0: say it at once. */
	b->next_state_ms = INT64_MAX;
	look = state_try(b, g);
	b->state_refused = look == GW_STATE_REFUSED ? b->state_refused + 1 : 0;
	if (b->next_state_ms == INT64_MAX)
		b->next_state_ms =
		        gw_state_next_ms(look, b->state_refused, now, b->o.state_every_ms);
	if (look == GW_STATE_REFUSED && b->state_refused == 1)
		fprintf(stderr,
		        "fuota-gw: state/modem not accepted by the MQTT client; again in "
		        "%d ms\n",
		        GW_STATE_RETRY_MS);
}

/* The modem update's events into the disk queue, behind the uplinks. */
static void update_events(struct bh *b, struct gw *g)
{
	char *js;
	size_t len;
	int rc;

	while (mu_pop_event(b->mu, &js, &len)) {
		if ((rc = gw_enqueue(g, GW_EV_MODEM, js, len)) != FUOTA_OK)
			fprintf(stderr, "fuota-gw: modem update event lost: %s\n",
			        fuota_strerror(rc));
		free(js);
	}
}

/* The update's phases: drained (state/modem with the update flag and the events handed to the
 * broker, for up to 3 s), then the relay closed (its socket with it, §3.7.3) and the worker
 * started; after it, the relay again on the same port, and paho reconnects. */
static void update_step(struct bh *b, struct gw *g)
{
	enum mu_tick t = mu_tick(b->mu, (int64_t)time(NULL));
	struct gwq_stats qs;

	update_events(b, g);
	if ((t == MU_START || t == MU_START_NOW) && b->phase == PH_NORMAL) {
		b->phase = PH_DRAIN;
		b->drain_until_ms = t == MU_START_NOW ? 0 : now_ms() + 3000;
		b->next_state_ms = 0;
		if (t == MU_START)
			return;
	}
	gwq_get_stats(gw_queue(g), &qs);
	if (b->phase == PH_DRAIN &&
	    (now_ms() >= b->drain_until_ms || (b->published && b->tag_n == 0 && qs.records == 0))) {
		relay_destroy(b->relay);
		b->relay = NULL;
		b->phase = PH_UPDATE;
		fprintf(stderr, "fuota-gw: backhaul down for the modem update\n");
		mu_go(b->mu);
		if (!mu_busy(b->mu))
			t = MU_ENDED;
	}
	if (t == MU_ENDED && b->phase == PH_UPDATE) {
		(void)sara_info(b->s, &b->info);
		/* a module that did not reboot (a uFOTA download paused) keeps the context the
		 * relay had: down first, or the relay's activation is refused */
		(void)sara_pdp_down(b->s, 0);
		if (relay_create(&b->ro, b->s, &b->relay) != FUOTA_OK)
			fprintf(stderr, "fuota-gw: relay: cannot listen again on port %u\n",
			        (unsigned)b->ro.listen_port);
		else
			b->ro.listen_port = relay_port(b->relay);
		b->phase = PH_NORMAL;
		b->next_state_ms = 0;
		fprintf(stderr, "fuota-gw: backhaul back after the modem update, firmware %s\n",
		        b->info.fw);
	}
}

void bh_step(struct bh *b, struct gw *g, uint32_t wait_ms)
{
	struct mqtt_status st;

	if (b->relay && b->phase != PH_UPDATE)
		(void)relay_step(b->relay, wait_ms);
	else
		(void)poll(NULL, 0, (int)wait_ms);
	if (!b->inq)
		return;
	if (b->mu)
		update_step(b, g);
	if (!b->mq && !b->gw_id[0] && gw_gateway_id(g))
		snprintf(b->gw_id, sizeof(b->gw_id), "%s", gw_gateway_id(g));
	if (!b->mq && b->gw_id[0] && (!b->modem || b->relay))
		mqtt_start(b);
	if (!b->mq)
		return;
	mqtt_get_status(b->mq, &st);
	if (st.connected && st.connects != b->connects_seen) {
		b->connects_seen = st.connects;
		on_connected(b);
	}
	downlinks(b, g);
	state_publish(b, g);
}
