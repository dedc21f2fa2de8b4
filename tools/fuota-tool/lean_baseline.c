/* The baseline of `fuota-tool frag lean-bench`: a straightforward implementation of the algorithm
 * LoRaMac-node's FragDecoder uses (PROTOCOL-NOTES §4.9), written plainly here from that
 * description, with the same memory: a missing-index table of M entries (0 = received, k = the
 * k-th lost fragment), a packed upper-triangular bit matrix of L rows (row r starts at bit
 * r * L - r * (r - 1) / 2, MSB first), a pivot flag per row, a bit row of M bits, bit vectors of L
 * bits, one fragment-sized buffer; the image in "flash" behind read/write callbacks. Bits are read
 * and written one at a time, data XORed one byte at a time, and the slot of the k-th lost fragment
 * found by scanning the missing-index table (LoRaMac-node keeps no reverse table). The row line
 * comes from frag_row_line (the spec's prbs23, the same cost for both decoders). Not a copy of
 * LoRaMac-node's code: no line of it is used. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/frag_row.h"
#include "tool.h"

static int get_bit(const uint8_t *v, size_t i)
{
	return (v[i / 8] >> (7 - i % 8)) & 1;
}

static void put_bit(uint8_t *v, size_t i, int b)
{
	if (b)
		v[i / 8] = (uint8_t)(v[i / 8] | (1u << (7 - i % 8)));
	else
		v[i / 8] = (uint8_t)(v[i / 8] & ~(1u << (7 - i % 8)));
}

/* Bit offset of matrix row r (columns r..L-1). */
static size_t m2b_row(const struct lean_base *b, uint32_t r)
{
	return (size_t)r * b->lost - (size_t)r * (r - (r ? 1u : 0u)) / 2u;
}

static void extract_row(const struct lean_base *b, uint32_t r, uint8_t *vec)
{
	size_t off = m2b_row(b, r);

	for (uint32_t j = 0; j < b->lost; j++)
		put_bit(vec, j, j < r ? 0 : get_bit(b->m2b, off + j - r));
}

static void push_row(struct lean_base *b, uint32_t r, const uint8_t *vec)
{
	size_t off = m2b_row(b, r);

	for (uint32_t j = r; j < b->lost; j++)
		put_bit(b->m2b, off + j - r, get_bit(vec, j));
}

static int find_first_one(const uint8_t *vec, uint32_t n)
{
	for (uint32_t j = 0; j < n; j++)
		if (get_bit(vec, j))
			return (int)j;
	return -1;
}

/* The fragment index of the k-th (0-based) lost fragment: a scan of the table. */
static uint32_t find_missing(const struct lean_base *b, uint32_t k)
{
	for (uint32_t i = 0; i < b->m; i++)
		if (b->missing[i] == k + 1u)
			return i;
	return 0;
}

static void read_xor(struct lean_base *b, uint32_t x, uint8_t *data)
{
	b->io.read(b->io.ctx, x * b->s, b->tmp, b->s);
	for (uint32_t i = 0; i < b->s; i++)
		data[i] ^= b->tmp[i];
}

int lean_base_init(struct lean_base *b, uint32_t m, uint32_t s, uint32_t max_lost,
                   const struct frag_lean_io *io, int version)
{
	size_t lb = (max_lost >> 3) + 1u;

	memset(b, 0, sizeof(*b));
	b->m = m;
	b->s = s;
	b->max_lost = max_lost;
	b->io = *io;
	b->code = (struct frag_code){.nb_frag = m, .version = version == 2 ? FRAG_V2 : FRAG_V1};
	b->missing = calloc(m, sizeof(uint16_t));
	b->m2b = calloc(lb * max_lost + 1u, 1);
	b->pivot = calloc(lb, 1);
	b->row = calloc(frag_line_words(m), 8); /* the spec's bit row */
	b->vec = calloc(lb, 1);
	b->vec2 = calloc(lb, 1);
	b->tmp = malloc(s);
	b->data = malloc(s);
	if (!b->missing || !b->m2b || !b->pivot || !b->row || !b->vec || !b->vec2 || !b->tmp ||
	    !b->data)
		return -1;
	return 0;
}

void lean_base_free(struct lean_base *b)
{
	free(b->missing);
	free(b->m2b);
	free(b->pivot);
	free(b->row);
	free(b->vec);
	free(b->vec2);
	free(b->tmp);
	free(b->data);
}

static void back_substitute(struct lean_base *b)
{
	for (uint32_t i = b->lost - 1u; i-- > 0;) {
		uint32_t li = find_missing(b, i);

		b->io.read(b->io.ctx, li * b->s, b->data, b->s);
		extract_row(b, i, b->vec2);
		for (uint32_t j = b->lost - 1u; j > i; j--)
			if (get_bit(b->vec2, j))
				read_xor(b, find_missing(b, j), b->data);
		b->io.write(b->io.ctx, li * b->s, b->data, b->s);
	}
}

static int coded(struct lean_base *b, uint32_t n, const uint8_t *payload)
{
	uint32_t lb = (b->lost >> 3) + 1u;
	int first;

	if (b->lost > b->max_lost)
		return -1;
	memcpy(b->data, payload, b->s);
	frag_row_line(&b->code, n, b->row, frag_line_words(b->m), NULL);
	memset(b->vec, 0, lb);
	for (uint32_t i = 0; i < b->m; i++) {
		if (!((b->row[i / 64] >> (i % 64)) & 1u))
			continue;
		if (b->missing[i] == 0)
			read_xor(b, i, b->data);
		else
			put_bit(b->vec, b->missing[i] - 1u, 1);
	}
	first = find_first_one(b->vec, b->lost);
	while (first >= 0 && get_bit(b->pivot, (size_t)first)) {
		extract_row(b, (uint32_t)first, b->vec2);
		for (uint32_t j = 0; j < b->lost; j++)
			put_bit(b->vec, j, get_bit(b->vec, j) ^ get_bit(b->vec2, j));
		read_xor(b, find_missing(b, (uint32_t)first), b->data);
		first = find_first_one(b->vec, b->lost);
	}
	if (first < 0)
		return 0; /* no information */
	put_bit(b->pivot, (size_t)first, 1);
	push_row(b, (uint32_t)first, b->vec);
	b->io.write(b->io.ctx, find_missing(b, (uint32_t)first) * b->s, b->data, b->s);
	if (++b->rows == b->lost) {
		back_substitute(b);
		return 1;
	}
	return 0;
}

int lean_base_process(struct lean_base *b, uint32_t n, const uint8_t *payload)
{
	if (b->done || n == 0 || n > FRAG_MAX_N)
		return b->done;
	if (n <= b->last_rx)
		return 0; /* out of order: dropped */
	for (uint32_t i = b->last_rx; i + 1u < n && i < b->m; i++)
		b->missing[i] = (uint16_t)++b->lost;
	b->last_rx = n;
	if (n <= b->m) {
		b->io.write(b->io.ctx, (n - 1u) * b->s, payload, b->s);
		if (n == b->m && b->lost == 0)
			b->done = 1;
		return b->done;
	}
	b->done = coded(b, n - b->m, payload);
	return b->done < 0 ? -1 : b->done;
}
