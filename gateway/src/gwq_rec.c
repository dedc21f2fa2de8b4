/* The store-and-forward queue's record framing (gwq.h), pure: little-endian fields written and
 * read with shifts, CRC-32 from zlib. */
#include <string.h>
#include <zlib.h>

#include "fuota/err.h"
#include "fuota/gwq.h"

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* CRC over seq, kind and payload (bytes 8.. of the record). */
static uint32_t rec_crc(const uint8_t *seq_kind, const uint8_t *payload, uint32_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, seq_kind, 9);
	if (len)
		c = crc32(c, payload, len);
	return (uint32_t)c;
}

void gwq_rec_encode(uint64_t seq, uint8_t kind, const void *payload, uint32_t len, uint8_t *out)
{
	put_le(out, len, 4);
	put_le(out + 8, seq, 8);
	out[16] = kind;
	if (len)
		memcpy(out + GWQ_REC_HDR, payload, len);
	put_le(out + 4, rec_crc(out + 8, out + GWQ_REC_HDR, len), 4);
}

int gwq_rec_decode(const uint8_t *buf, size_t avail, uint64_t *seq, uint8_t *kind,
                   const uint8_t **payload, uint32_t *len, size_t *rec_len)
{
	uint32_t n;

	if (avail < GWQ_REC_HDR)
		return FUOTA_ERR_NO_SPACE;
	n = (uint32_t)get_le(buf, 4);
	if (n > GWQ_MAX_PAYLOAD)
		return FUOTA_ERR_MALFORMED;
	if (avail - GWQ_REC_HDR < n)
		return FUOTA_ERR_NO_SPACE;
	if ((uint32_t)get_le(buf + 4, 4) != rec_crc(buf + 8, buf + GWQ_REC_HDR, n))
		return FUOTA_ERR_MALFORMED;
	*seq = get_le(buf + 8, 8);
	*kind = buf[16];
	*payload = buf + GWQ_REC_HDR;
	*len = n;
	*rec_len = GWQ_REC_HDR + (size_t)n;
	return FUOTA_OK;
}
