/* fuota-sim's program state, shared by its files:
 *   sim_opts.c    command line
 *   sim_fleet.c   the fleet (devices and gateways) from a seed; fleet JSON for registration
 *   sim_net.c     MQTT plumbing: network-server integration (uplinks, unicast downlinks at the
 *                 next uplink), gateways (gw.DownlinkFrame scheduling, time on air, duty cycle,
 *                 DownlinkTxAck)
 *   sim_air.c     the frames on air reaching the devices (the loss model), in slices
 *   sim_report.c  per-device summary on stdout and the JSON report
 *   main.c        the loop: one thread runs every device and gateway; MQTT callbacks only fill
 *                 an inbound queue (fuota_mqtt). */
#ifndef FUOTA_SIM_H
#define FUOTA_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fuota/cs_msg.h"
#include "fuota/lw_region.h"
#include "fuota/mqtt.h"
#include "sim_dev.h"
#include "sim_sched.h"

/* Net-level switch: the device holds another key than the one registered. */
#define SIM_MB_WRONG_KEY 0x100u
#define SIM_N_MISBEHAVE  9
#define SIM_UNICAST_Q    16    /* unicast downlinks queued per device, as a network server does */
#define SIM_LOST_MAX     16    /* lost unicast downlinks remembered per device for the report */
#define SIM_TICK_MS      100   /* every device's timers (sim_dev_tick) at least this often */
#define SIM_AIR_BUDGET   16384 /* deliveries of frames to devices per loop turn (sim_air.c) */

/* A misbehaviour given on the command line: for a fraction of the fleet or for listed devices. */
struct sim_mb_spec {
	uint32_t flag;
	double fraction;  /* used when n_idx == 0 */
	uint32_t idx[64]; /* device indices */
	size_t n_idx;
};

/* A TS006 firmware version given on the command line (--fw-version, --image-fw-version): for
 * every device, or for listed device indices. */
struct sim_fw_spec {
	uint32_t version;
	uint32_t idx[64]; /* device indices; none: every device */
	size_t n_idx;
};

/* How the simulated gateways encode their MQTT messages (--gw-encoding). */
enum sim_gw_encoding {
	SIM_GW_PROTOBUF = 0,
	SIM_GW_JSON,
	SIM_GW_MIXED /* odd-numbered gateways JSON, the others protobuf */
};

struct sim_opts {
	const char *mqtt_uri;
	const char *client_id;
	uint32_t n_devices;
	uint32_t n_gateways;
	uint32_t coverage;    /* gateways that hear each device */
	double gnss_fraction; /* gateways with a GNSS receiver (time_since_gps_epoch) */
	const char *region_name;
	const struct lw_region *region;
	const char *gw_prefix;  /* gateway topic prefix, default: lowercase region name */
	const char *app_prefix; /* "application" */
	const char *app_id;
	bool proto; /* binary protobuf uplinks instead of JSON */
	uint64_t seed;
	uint64_t dev_eui_base;
	uint64_t gw_eui_base;
	char dev_class;         /* 'B' or 'C' */
	double classb_fraction; /* with dev_class 'C': this fraction is B */
	double v2_fraction;
	double lw11_fraction;
	double loss_min, loss_max; /* per-device loss rate, uniform in [min, max] */
	double unicast_loss;       /* a class A downlink is lost with this probability */
	double burst_len;          /* mean burst length (Gilbert-Elliott); 1 = independent */
	double uplink_period_s;
	double clock_offset_max_s;
	double drift_ppm_max;
	uint32_t resync_s;
	size_t mem_limit;
	uint32_t late_s;
	enum frag_seed v2_seed;
	struct sim_mb_spec mb[16];
	size_t n_mb;
	struct sim_fw_spec fw[8]; /* --fw-version: the firmware the devices run (the last that
	                           * names a device wins) */
	size_t n_fw;
	struct sim_fw_spec image_fw[8]; /* --image-fw-version: the firmware they reboot into */
	size_t n_image_fw;
	bool has_sha256;
	uint8_t sha256[32];
	double gw_duty_pct; /* < 0: the region's sub-band; 0: none; else this percentage */
	double duty_window_s;
	double max_ahead_s; /* a GPS-timed frame further ahead is TOO_EARLY */
	enum sim_gw_encoding gw_encoding;
	double gw_stats_period_s; /* gw.GatewayStats every S seconds per gateway; 0: never */
	const char *fleet_out;
	bool print_fleet;
	const char *report_path;
	bool until_done;
	double done_grace_s; /* < 0: the devices' default (sim_dev_cfg.done_grace_ms) */
	double timeout_s;    /* 0: none */
	int verbose;
	/* --semtech-udp HOST:PORT[,PORT...]: gateway i forwards by Semtech UDP to the i-th port */
	char sudp_host[64];
	uint16_t sudp_ports[8];
	size_t n_sudp;
};

/* One gateway transmission, accepted and waiting for (or past) its start. */
struct sim_tx {
	int64_t start_ms, end_ms; /* true GPS ms */
	uint32_t freq_hz;
	uint8_t phy[CS_MAX_PAYLOAD];
	size_t phy_len;
	bool sent;
};

struct sim_gw {
	char id[CS_EUI_LEN];
	bool gnss;
	struct sim_tx *tx; /* accepted frames: waiting ones and the duty-cycle window's history */
	size_t n_tx, cap_tx;
	uint32_t *devs; /* devices in range */
	size_t n_devs, cap_devs;
	uint64_t acks[12]; /* per cs_tx_ack_status */
	uint64_t frames_sent;
	bool json;             /* speaks the JSON encoding (else binary protobuf) */
	uint64_t bad_messages; /* DownlinkFrames refused: other encoding or undecodable */
	uint64_t downlinks;    /* DownlinkFrames received (tx_packets_received) */
	uint64_t uplinks;      /* uplinks it heard (rx_packets_received) */
	uint64_t stats_sent;
	int64_t next_stats_ms;
	/* --semtech-udp: this gateway is a packet forwarder talking to an adapter (sim_sudp.c) */
	int udp_fd; /* -1: the gateway speaks MQTT itself */
	int64_t next_pull_ms, next_stat_ms;
	uint16_t token;
	uint16_t resp_token[16]; /* recent PULL_RESP tokens, for duplicate detection */
	uint64_t pull_resp, tx_ack_sent, push_sent, push_acked, pull_acked;
	struct {
		uint16_t token;
		uint8_t n_rxpk; /* 0: a free slot (or a stat-only PUSH_DATA) */
	} push_wait[64];        /* PUSH_DATA not yet acked, to count the uplinks the adapter took */
	size_t push_next;
	uint64_t rxpk_acked; /* uplinks in PUSH_DATA the adapter acked: it must deliver them */
};

struct sim_unicast {
	uint8_t port;
	uint8_t data[CS_MAX_PAYLOAD];
	size_t len;
};

/* A unicast downlink the network server sent and the device never received. */
struct sim_lost {
	uint8_t port;
	uint8_t cid;         /* its first command */
	const char *command; /* its name (static), e.g. "FragSessionSetupReq" */
	int64_t at_ms;       /* when (true GPS ms) */
};

struct sim_node {
	uint32_t index;
	char eui[CS_EUI_LEN];
	char dev_class;
	uint8_t registered_key[16]; /* what the fleet file says (a wrong-key device holds another)
	                             */
	uint32_t misbehave;         /* SIM_MB_* incl. SIM_MB_WRONG_KEY */
	double loss;
	bool burst_bad; /* Gilbert-Elliott state */
	uint64_t rng;
	uint32_t gws[8]; /* gateways that hear it */
	size_t n_gws;
	int64_t next_uplink_ms;
	struct sim_unicast q[SIM_UNICAST_Q];
	size_t nq;
	uint32_t unicast_dropped;
	uint32_t unicast_delivered;
	uint32_t unicast_lost;
	struct sim_lost lost[SIM_LOST_MAX]; /* the first SIM_LOST_MAX of them */
	size_t n_lost;
	uint64_t uc_rng;       /* the unicast loss draws (apart from the multicast ones) */
	uint32_t frames_lost;  /* multicast frames for its groups the loss model took */
	uint32_t frames_heard; /* ... that reached its radio */
	struct sim_dev dev;
};

/* The frame on air being handed to its gateway's devices (sim_air.c): gateway gi's frame that
 * starts at start_ms; devices devs[next_dev..] have not had it yet. */
struct sim_air {
	bool busy;
	uint32_t gi;
	int64_t start_ms;
	size_t next_dev;
	size_t budget;       /* deliveries per sim_air_step; 0: SIM_AIR_BUDGET */
	uint64_t deliveries; /* so far */
};

struct sim {
	struct sim_opts o;
	struct sim_node *nodes;
	uint32_t n_nodes;
	struct sim_gw *gws;
	uint32_t n_gws;
	struct mqtt_client *mqtt;
	struct mqtt_queue *inq;
	uint64_t uplinks_published;
	uint64_t downlinks_received;
	uint64_t bad_messages;
	uint32_t next_uplink_id;
	int64_t start_ms;
	struct sim_sched sched;       /* the devices by next_uplink_ms (sim_net.c) */
	int64_t next_tick_ms;         /* the fleet's next sim_dev_tick */
	struct sim_mc_cache mc_cache; /* multicast frames checked and decrypted (sim_dev.h) */
	struct sim_air air;           /* the delivery under way (sim_air.c) */
};

/* sim_opts.c: parses argv into o (defaults first). Returns 0, 1 after --help, or -1 with a
 * message on stderr. */
int sim_opts_parse(int argc, char **argv, struct sim_opts *o);

/* sim_fleet.c */
int sim_fleet_build(struct sim *s, int64_t now_ms);
void sim_fleet_free(struct sim *s);
/* The fleet as JSON: {"devices": [REST device objects], "sim": [{dev_eui, index, misbehave,
 * loss, gateways, fw_version, image_fw_version}]}. Returns a malloc'd string or NULL. */
char *sim_fleet_json(const struct sim *s);
/* ["silent", "wrong-key", ...] for SIM_MB_* flags (a new reference). */
json_t *sim_misbehave_json(uint32_t flags);
uint64_t sim_rand(uint64_t *state);
double sim_rand01(uint64_t *state);

/* sim_net.c */
int sim_net_start(struct sim *s);
void sim_net_stop(struct sim *s);
void sim_net_handle(struct sim *s, const struct mqtt_msg *m, int64_t now_ms);
/* Runs what is due at now_ms (gateway transmissions, device uplinks); returns the time of the
 * next thing to do (GPS ms). */
int64_t sim_net_step(struct sim *s, int64_t now_ms);

/* Checks a downlink as the gateway's radio would and books it (sim_net.c); CS_ACK_OK when it
 * will go on air. */
enum cs_tx_ack_status sim_gw_schedule(struct sim *s, struct sim_gw *g,
                                      const struct cs_gw_downlink *d, int64_t now_ms);

/* sim_air.c: hands the frames due by now_ms to the devices, in start-time then gateway order,
 * at most s->air.budget deliveries (SIM_AIR_BUDGET); prunes the gateways' old frames. Lowers
 * *next to now_ms while deliveries are left, else to the next frame's start. */
void sim_air_step(struct sim *s, int64_t now_ms, int64_t *next);

/* sim_sudp.c: gateways that speak Semtech UDP to an adapter (fuota-gw) instead of MQTT. */
int sim_sudp_start(struct sim *s);
void sim_sudp_stop(struct sim *s);
/* A device's uplink heard by g: one rxpk in a PUSH_DATA, the PHYPayload built and signed with
 * the device's session keys. */
void sim_sudp_uplink(struct sim *s, struct sim_gw *g, const struct sim_node *n,
                     const struct sim_uplink *ul, uint32_t freq_hz, int32_t rssi, float snr,
                     int64_t now_ms);
/* PULL_DATA keep-alives, stats, and the adapter's datagrams (acks, PULL_RESP answered with
 * TX_ACK); lowers *next to the next keep-alive. */
void sim_sudp_step(struct sim *s, int64_t now_ms, int64_t *next);

/* sim_report.c */
void sim_report_print(const struct sim *s, int64_t now_ms);
int sim_report_write(const struct sim *s, int64_t now_ms, const char *path);

/* True GPS time now, in ms (CLOCK_REALTIME, leap seconds included). */
int64_t sim_gps_now_ms(void);

#endif
