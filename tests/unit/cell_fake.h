/* A scripted modem on a fake serial port with a fake clock, for the cellular unit tests. Steps
 * pair an expected write (NULL: unsolicited) with the reply it triggers after delay_ms. Reads hand
 * out the bytes whose time has come in chunks of `chunk` bytes (0: all, -1: random 1..7); poll
 * advances the fake clock instead of waiting. Header-only: each test program includes it once. */
#ifndef CELL_FAKE_H
#define CELL_FAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/cell_serial.h"
#include "fuota/err.h"

#define FAKE_MAX   32768
#define FAKE_STEPS 64

struct fake_step {
	const char *expect; /* bytes that trigger the reply; NULL: sent after the previous step */
	size_t expect_len;  /* 0: strlen(expect) */
	const char *reply;
	size_t reply_len; /* 0: strlen(reply) */
	uint32_t delay_ms;
};

struct fake {
	uint64_t now;
	int chunk;
	unsigned seed;
	bool hangup;
	struct fake_step steps[FAKE_STEPS];
	size_t n_steps, next;
	uint8_t tx[FAKE_MAX];
	size_t tx_len, tx_matched;
	uint64_t tx_at[FAKE_STEPS]; /* time of each write */
	size_t n_writes;
	uint8_t rx[FAKE_MAX];
	uint64_t rx_at[FAKE_MAX];
	size_t rx_len, rx_pos;
	uint32_t baud;
	struct cell_clock clock;
	struct cell_serial serial;
};

static inline uint64_t fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static inline void fake_sleep(void *ctx, uint32_t ms)
{
	((struct fake *)ctx)->now += ms;
}

static inline void fake_queue(struct fake *f, const char *bytes, size_t len, uint64_t at)
{
	size_t i;

	for (i = 0; i < len && f->rx_len < FAKE_MAX; i++) {
		f->rx[f->rx_len] = (uint8_t)bytes[i];
		f->rx_at[f->rx_len++] = at;
	}
}

/* Queues the replies of steps that need no trigger, from step f->next on. */
static inline void fake_unsolicited(struct fake *f)
{
	while (f->next < f->n_steps && !f->steps[f->next].expect) {
		const struct fake_step *s = &f->steps[f->next++];

		fake_queue(f, s->reply, s->reply_len ? s->reply_len : strlen(s->reply),
		           f->now + s->delay_ms);
	}
}

static inline void fake_match(struct fake *f)
{
	while (f->next < f->n_steps && f->steps[f->next].expect) {
		const struct fake_step *s = &f->steps[f->next];
		size_t el = s->expect_len ? s->expect_len : strlen(s->expect), i;
		bool found = false;

		for (i = f->tx_matched; i + el <= f->tx_len && !found; i++)
			found = memcmp(f->tx + i, s->expect, el) == 0;
		if (!found)
			return;
		f->tx_matched = i - 1 + el;
		f->next++;
		fake_queue(f, s->reply, s->reply_len ? s->reply_len : strlen(s->reply),
		           f->now + s->delay_ms);
		fake_unsolicited(f);
	}
}

static inline size_t fake_ready(const struct fake *f)
{
	size_t n = 0;

	while (f->rx_pos + n < f->rx_len && f->rx_at[f->rx_pos + n] <= f->now)
		n++;
	return n;
}

static inline int fake_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
	struct fake *f = ctx;
	size_t n = fake_ready(f), want = cap;

	*got = 0;
	if (n == 0 && f->hangup && f->rx_pos == f->rx_len)
		return FUOTA_ERR_IO;
	if (f->chunk > 0)
		want = (size_t)f->chunk;
	else if (f->chunk < 0)
		want = 1 + (size_t)(rand_r(&f->seed) % 7);
	if (want > cap)
		want = cap;
	if (n > want)
		n = want;
	memcpy(buf, f->rx + f->rx_pos, n);
	f->rx_pos += n;
	*got = n;
	return FUOTA_OK;
}

static inline int fake_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct fake *f = ctx;

	if (f->tx_len + len > FAKE_MAX)
		return FUOTA_ERR_IO;
	memcpy(f->tx + f->tx_len, buf, len);
	f->tx_len += len;
	if (f->n_writes < FAKE_STEPS)
		f->tx_at[f->n_writes++] = f->now;
	fake_match(f);
	return FUOTA_OK;
}

static inline int fake_poll(void *ctx, uint32_t timeout_ms, bool *readable)
{
	struct fake *f = ctx;
	uint64_t until = f->now + timeout_ms;

	*readable = fake_ready(f) > 0 || (f->hangup && f->rx_pos == f->rx_len);
	if (*readable)
		return FUOTA_OK;
	if (f->rx_pos < f->rx_len && f->rx_at[f->rx_pos] <= until) {
		f->now = f->rx_at[f->rx_pos];
		*readable = true;
		return FUOTA_OK;
	}
	f->now = until;
	return FUOTA_OK;
}

static inline int fake_set_baud(void *ctx, uint32_t baud)
{
	((struct fake *)ctx)->baud = baud;
	return FUOTA_OK;
}

static inline int fake_set_lines(void *ctx, unsigned mask, unsigned value)
{
	(void)ctx;
	(void)mask;
	(void)value;
	return FUOTA_ERR_UNSUPPORTED;
}

static inline int fake_get_lines(void *ctx, unsigned *value)
{
	(void)ctx;
	*value = 0;
	return FUOTA_ERR_UNSUPPORTED;
}

static inline void fake_close(void *ctx)
{
	(void)ctx;
}

static const struct cell_serial_ops fake_ops = {fake_read,     fake_write,     fake_poll,
                                                fake_set_baud, fake_set_lines, fake_get_lines,
                                                fake_close};

/* A fresh fake at time 1000 (0 would mean "never" to the guard time) with the given steps. */
static struct fake *fake_new(const struct fake_step *steps, size_t n, int chunk)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		abort();
	f->now = 1000;
	f->chunk = chunk;
	f->seed = 12345;
	memcpy(f->steps, steps, n * sizeof(*steps));
	f->n_steps = n;
	f->clock = (struct cell_clock){fake_now, fake_sleep, f};
	f->serial = (struct cell_serial){&fake_ops, f};
	fake_unsolicited(f);
	return f;
}

/* Whether the bytes written so far contain s. */
static inline bool fake_sent(const struct fake *f, const char *s)
{
	size_t el = strlen(s), i;

	for (i = 0; i + el <= f->tx_len; i++)
		if (memcmp(f->tx + i, s, el) == 0)
			return true;
	return false;
}

#endif
