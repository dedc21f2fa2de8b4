/* What sim_dev.c and sim_dev_frag.c (the TS004 part) share; not for the model's users. */
#ifndef FUOTA_SIM_DEV_INT_H
#define FUOTA_SIM_DEV_INT_H

#include <stdbool.h>
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
/* The image store of an image in parts: the device's flash for the whole image. */
struct sim_image {
	uint8_t count;       /* P */
	uint16_t full_frags; /* F */
	uint32_t frag_size;  /* S: a part of another P, F or S is another image */
	size_t cap;          /* bytes of the store: the image's M x S once the last part is set
	                      * up, P x F x S before */
	size_t len;          /* the image's length; 0 until the last part is set up */
	uint8_t *bytes;      /* cap bytes, 0xff where nothing was written (erased flash) */
	uint8_t rebuilt[32]; /* bit k: part k rebuilt (and, v2, its MIC matched) */
	uint8_t bad_mic[32]; /* bit k: part k rebuilt but its MIC did not match */
};

/* Starts the lean decoder of s (its flash slot s->flash set) for r with at most budget bytes of
 * RAM (at least frag_lean_mem_size(M, S, 0)): all M lost columns and a batch of rows when the
 * budget holds them, else as many lost columns as fit. Allocates s->mem. */
int sim_lean_init(const struct sim_dev *d, struct sim_frag *s, const struct frag_setup_req *r,
                  size_t budget);
/* A v2 session whose data block is done: FragDataBlockReceivedReq is armed when asked for. */
void sim_frag_ack_arm(struct sim_dev *d, int64_t now_ms, struct sim_frag *s);

/* sim_dev_parts.c. Reads r's Descriptor into *p (count 0: the whole image). FUOTA_OK, or
 * FUOTA_ERR_MALFORMED with the reason in why (WrongDescriptor): not a Descriptor of
 * frag_part.h, or a part other than the last whose NbFrag is not F or whose Padding is not 0. */
int sim_part_check(const struct frag_setup_req *r, struct frag_part *p, char *why, size_t n);
/* The memory a device needs to accept part p (r) on FragIndex idx: the image store, the RAM of
 * the other parts being decoded and this part's smallest decoder. */
uint64_t sim_part_need(const struct sim_dev *d, uint8_t idx, const struct frag_part *p,
                       const struct frag_setup_req *r);
/* Prepares the image store for part p (another image: the old one and its sessions are
 * dropped), erases the part's place and starts fresh's decoder there. */
int sim_part_start(struct sim_dev *d, uint8_t idx, const struct frag_part *p,
                   const struct frag_setup_req *r, struct sim_frag *fresh);
/* A part session whose decoding ended (s->done set): checks a rebuilt part (v2 MIC), records
 * it, checks the whole image once every part is rebuilt; releases the part's decoder RAM. */
void sim_part_done(struct sim_dev *d, int64_t now_ms, struct sim_frag *s);
/* Forgets the image in parts and drops every session of one of its parts (another image was
 * accepted, or the device is freed). */
void sim_image_drop(struct sim_dev *d);
/* true while an image in parts misses parts. */
bool sim_image_incomplete(const struct sim_dev *d);

/* A port 201 payload; group: the multicast group it came through, or -1 for unicast. */
void sim_frag_payload(struct sim_dev *d, int64_t now_ms, const uint8_t *data, size_t len, int group,
                      struct answer *a);

#endif
