/* The AT line reader: a pure state machine fed the received bytes one at a time. It frames lines
 * on CR and LF (empty lines vanish), recognises a prompt character at the start of a line when one
 * is expected, and reads a binary field of a response line by its length (struct at_binary).
 * It knows nothing about commands or URCs: the client classifies the lines it returns.
 *
 * The caller owns the buffer (buf, cap); no allocation. */
#ifndef FUOTA_AT_RX_H
#define FUOTA_AT_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum at_rx_event {
	AT_RX_NONE = 0, /* byte consumed, nothing complete */
	AT_RX_LINE,     /* a line is complete: at_rx_line() */
	AT_RX_PROMPT,   /* the expected prompt character arrived at the start of a line */
	AT_RX_OVERFLOW  /* a line longer than the buffer was cut; the rest of it is dropped */
};

struct at_rx {
	uint8_t *buf;
	size_t cap;
	size_t len;
	char prompt;            /* expected prompt, 0 when none */
	const char *bin_prefix; /* binary field spec, NULL when none */
	unsigned bin_field;
	/* scanner state of the current line */
	bool done; /* the last feed completed a line; the next one starts afresh */
	bool cut;  /* bytes of this line were dropped for want of room */
	bool in_quote;
	unsigned commas;
	size_t field_start; /* offset of the current field, and of the one before */
	size_t prev_field_start;
	size_t bin_left; /* raw bytes of a binary field still to come */
	bool in_bin;
	bool bin_close; /* the closing quote of a binary field is due */
	uint8_t term;   /* the byte that ended the last line (CR or LF) */
};

/* Initialises rx over buf (cap ≥ 2; one byte is kept for a terminating NUL). */
void at_rx_init(struct at_rx *rx, uint8_t *buf, size_t cap);
/* Expect prompt (0: none) at the start of a line. */
void at_rx_expect_prompt(struct at_rx *rx, char prompt);
/* Read a binary field in lines starting with prefix (NULL: none). prefix must outlive its use. */
void at_rx_expect_binary(struct at_rx *rx, const char *prefix, unsigned len_field);
/* Feeds one byte. After AT_RX_LINE the line stays readable until the next at_rx_feed. */
enum at_rx_event at_rx_feed(struct at_rx *rx, uint8_t byte);
/* The completed line, NUL-terminated; *len its length (it may hold NULs inside a binary field). */
const char *at_rx_line(const struct at_rx *rx, size_t *len);
/* Whether a line is partly received (used to tell a URC split across reads from idle). */
bool at_rx_busy(const struct at_rx *rx);

/* Classifies a line as a final result. Returns true for OK, ERROR, ABORTED, "+CME ERROR: x" and
 * "+CMS ERROR: x", with *final an enum at_final value, *code the number (-1 for verbose text) and
 * text the text after the colon (NUL-terminated, truncated to cap). Pure. */
bool at_final_parse(const char *line, int *final, int *code, char *text, size_t cap);

#endif
