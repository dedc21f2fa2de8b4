/* The AT line reader harness. Byte 0 picks the reader's settings (bit 0: expect '>', bit 1: '@',
 * bit 2: a binary field in +USORF lines, bits 3-4: a small line buffer); the rest is the byte
 * stream. Every completed line must fit the buffer and be NUL-terminated; every line that is a
 * final result must classify consistently; a prompt may only come when one is expected. */
#include <string.h>

#include "codec_walk.h"
#include "fuota/at_rx.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = {2, 16, 200, 4097};
	uint8_t buf[4097];
	struct at_rx rx;
	size_t i, cap;
	char prompt = 0;

	if (size == 0)
		return 0;
	cap = caps[(data[0] >> 3) & 3];
	at_rx_init(&rx, buf, cap);
	if (data[0] & 1)
		prompt = '>';
	else if (data[0] & 2)
		prompt = '@';
	at_rx_expect_prompt(&rx, prompt);
	if (data[0] & 4)
		at_rx_expect_binary(&rx, "+USORF:", 3);
	for (i = 1; i < size; i++) {
		enum at_rx_event ev = at_rx_feed(&rx, data[i]);
		size_t len;
		const char *line;
		char text[32];
		int final, code;

		fuzz_check(ev != AT_RX_PROMPT || (prompt && data[i] == (uint8_t)prompt));
		if (ev != AT_RX_LINE)
			continue;
		line = at_rx_line(&rx, &len);
		fuzz_check(len > 0 && len < cap && line[len] == 0);
		if (at_final_parse(line, &final, &code, text, sizeof(text)))
			fuzz_check(final >= 1 && final <= 5 && strlen(text) < sizeof(text));
		else
			fuzz_check(final == 0);
	}
	return 0;
}
