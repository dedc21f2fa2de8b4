/* The straightforward TS004 parity encoder, shipped for comparison and as a test oracle: every row
 * line comes from the spec algorithm (frag_row_line, PROTOCOL-NOTES §4.4), and the selected
 * fragments are XORed one byte at a time. frag_enc.h is the fast encoder that must match it. */
#ifndef FUOTA_FRAG_REF_H
#define FUOTA_FRAG_REF_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/frag_row.h"

/* Computes redundancy rows n = first .. first + count - 1 of code over frags (nb_frag * frag_size
 * bytes, frags_len must equal that) into out[0 .. count * frag_size). line: caller scratch of words
 * >= frag_line_words(nb_frag) words for the row line.
 * Returns FUOTA_OK or FUOTA_ERR_INVALID_ARG (bad code, frag_size 0 or > 255, wrong frags_len,
 * first == 0, a seed that does not fit 32 bits, line too small, NULL pointer). */
int frag_ref_encode(const struct frag_code *code, uint32_t frag_size, const uint8_t *frags,
                    size_t frags_len, uint32_t first, uint32_t count, uint8_t *out, uint64_t *line,
                    size_t words);

#endif
