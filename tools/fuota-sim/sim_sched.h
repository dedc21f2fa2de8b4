/* When each simulated device sends its next uplink: a binary min-heap of (time, device index),
 * so that a loop turn finds the due devices in O(log N) each instead of looking at all N of them
 * (100,000 devices: the scan of the whole fleet at every turn was most of fuota-sim's CPU). Pure:
 * no I/O, one allocation at init. */
#ifndef FUOTA_SIM_SCHED_H
#define FUOTA_SIM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_sched_entry {
	int64_t at_ms;
	uint32_t idx;
};

struct sim_sched {
	struct sim_sched_entry *e; /* owned; heap order: e[i].at_ms <= its children's */
	size_t n, cap;
};

/* Room for cap entries (one per device). FUOTA_OK or FUOTA_ERR_NO_MEMORY. */
int sim_sched_init(struct sim_sched *h, size_t cap);
/* Releases the entries. Accepts NULL and a zeroed struct. */
void sim_sched_free(struct sim_sched *h);
/* Adds idx due at at_ms. FUOTA_ERR_NO_SPACE when cap entries are in already. */
int sim_sched_push(struct sim_sched *h, uint32_t idx, int64_t at_ms);
/* The earliest entry (ties: any of them) into *idx, *at_ms; false when empty. */
bool sim_sched_peek(const struct sim_sched *h, uint32_t *idx, int64_t *at_ms);
/* Removes the earliest entry (nothing when empty). */
void sim_sched_pop(struct sim_sched *h);

#endif
