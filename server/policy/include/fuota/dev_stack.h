/* The device stacks fuotad knows apart (issue 16): how a stack reads TS004's
 * FragSessionStatusAns, and the fragments a device of it takes at most. Pure, no I/O. */
#ifndef FUOTA_DEV_STACK_H
#define FUOTA_DEV_STACK_H

#include <stdint.h>

enum dev_stack {
	/* FragSessionStatusAns as TS004 reads it: NbFragReceived the fragments received,
	 * MissingFrag those still missing (0: the image is rebuilt). The default. */
	DEV_STACK_TS004 = 0,
	/* Semtech LoRaMac-node (FragDecoder.c): NbFragReceived is the last fragment counter the
	 * decoder saw (frozen once the image is rebuilt), MissingFrag the uncoded fragments lost
	 * so far, never lowered once parity recovered them; it answers a Participants = 0 request
	 * whenever that count is above 0, finished or not (PROTOCOL-NOTES §4.10). */
	DEV_STACK_LORAMAC_NODE,
	/* Semtech LoRa Basics Modem: reads as TS004; its default build holds at most
	 * DEV_STACK_LBM_MAX_FRAGS fragments (FRAG_MAX_NB). */
	DEV_STACK_LBM,
};

#define DEV_STACK_LBM_MAX_FRAGS 100u

/* "ts004", "loramac-node" or "lbm" (as stored and in the REST API); NULL or "" is TS004.
 * Returns 0, or -1 for an unknown name (*out unchanged). */
int dev_stack_parse(const char *name, enum dev_stack *out);
const char *dev_stack_name(enum dev_stack s);

/* The most uncoded fragments a device takes: max_frags when known (> 0), else its stack's
 * default build's limit, else 0 (unknown: no limit assumed). */
uint32_t dev_stack_frag_limit(enum dev_stack s, int64_t max_frags);

#endif
