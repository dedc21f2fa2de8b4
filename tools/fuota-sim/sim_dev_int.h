/* What sim_dev.c and sim_dev_frag.c (the TS004 part) share; not for the model's users. */
#ifndef FUOTA_SIM_DEV_INT_H
#define FUOTA_SIM_DEV_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sim_dev.h"

/* Answers of one downlink, gathered per port into one uplink. */
struct answer {
	uint8_t data[SIM_UL_MAX];
	size_t len;
};

/* The device's own reproducible randomness (splitmix64). */
uint64_t sim_rnd(struct sim_dev *d);
/* A random delay in [0, 2^(BlockAckDelay + 4)] seconds, in ms; 0 with cfg.at_once. */
int64_t sim_ack_delay_ms(struct sim_dev *d, uint8_t block_ack_delay);
/* Records a failure of the device (the report keeps the distinct reasons). */
__attribute__((format(printf, 2, 3))) void sim_fail(struct sim_dev *d, const char *fmt, ...);
/* Something happened at now_ms that restarts the done grace (sim_dev_finished). */
void sim_touch(struct sim_dev *d, int64_t now_ms);
/* The device clock in GPS seconds modulo 2^32. */
uint32_t sim_dev_seconds(const struct sim_dev *d, int64_t now_ms);
/* Forgets a fragmentation session (its SessionCnt stays). */
void sim_frag_drop(struct sim_frag *s);
/* Queues an answer for the device's next uplink after delay_ms. */
void sim_queue_uplink(struct sim_dev *d, int64_t now_ms, uint8_t port, const uint8_t *data,
                      size_t len, int64_t delay_ms);
/* A port 201 payload; group: the multicast group it came through, or -1 for unicast. */
void sim_frag_payload(struct sim_dev *d, int64_t now_ms, const uint8_t *data, size_t len, int group,
                      struct answer *a);

#endif
