/* An image carried over several fragmentation sessions: which part a session is, in its
 * FragSessionSetupReq Descriptor (the 4 bytes TS004 leaves to the application).
 *
 *     Descriptor[0]    part index k, 0-based
 *     Descriptor[1]    number of parts P (1..255)
 *     Descriptor[2..3] F, fragments in every part but the last (little-endian, 1..16383)
 *
 * Part k holds the image bytes from k * F * FragSize on: every part but the last has exactly F
 * fragments and no padding; the last has the rest and the session's padding. The all-zero
 * Descriptor (P = 0) means what it always meant here: the session carries the whole image. A
 * device assembling parts writes part k at frag_part_offset() and checks the whole image once
 * every part is rebuilt. Device stacks that ignore the Descriptor (LoRaMac-node's and LoRa
 * Basics Modem's own applications) would take each part for a whole image. */
#ifndef FUOTA_FRAG_PART_H
#define FUOTA_FRAG_PART_H

#include <stdbool.h>
#include <stdint.h>

#define FRAG_PART_DESC_LEN  4
#define FRAG_PART_MAX_PARTS 255u
#define FRAG_PART_MAX_FRAGS 16383u

struct frag_part {
	uint8_t index;       /* k, 0..count-1 */
	uint8_t count;       /* P: 0 = the whole image (not a part), else 1..255 */
	uint16_t full_frags; /* F: fragments of every part but the last, 1..16383 */
};

/* The Descriptor of p (p->count 0: four zero bytes). FUOTA_OK, or FUOTA_ERR_INVALID_ARG for a
 * p that frag_part_decode would refuse. */
int frag_part_encode(const struct frag_part *p, uint8_t desc[FRAG_PART_DESC_LEN]);

/* Reads a Descriptor. FUOTA_OK (count 0 for the all-zero Descriptor: the whole image), or
 * FUOTA_ERR_MALFORMED for anything else that is not a part: P = 0 with other bytes set,
 * k >= P, F = 0 or F > 16383. */
int frag_part_decode(const uint8_t desc[FRAG_PART_DESC_LEN], struct frag_part *p);

/* Byte offset of part p in the image for fragments of frag_size bytes (0 for count 0). */
uint64_t frag_part_offset(const struct frag_part *p, unsigned frag_size);

/* true for the last part of an image (and for the whole image, count 0). */
bool frag_part_is_last(const struct frag_part *p);

#endif
