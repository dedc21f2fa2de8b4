/* The module's PWR_ON and RESET_N lines driven through the serial port's output lines (sara.h,
 * sara_hw_from_lines). */
#include "fuota/sara.h"

/* Asserts line for ms, then releases it. A line the port lacks is FUOTA_ERR_UNSUPPORTED from
 * set_lines; the line is released even when the wait was cut short. */
static int pulse(const struct sara_hw_lines *l, unsigned line, uint32_t ms)
{
	const struct cell_clock *clk = l->clock ? l->clock : cell_clock_monotonic();
	struct cell_serial *ser = l->serial;
	int err = ser->ops->set_lines(ser->ctx, line, line);

	if (err != FUOTA_OK)
		return err;
	if (clk->sleep_ms)
		clk->sleep_ms(clk->ctx, ms);
	else
		cell_clock_monotonic()->sleep_ms(NULL, ms);
	return ser->ops->set_lines(ser->ctx, line, 0);
}

static int pwr_pulse(void *ctx, uint32_t ms)
{
	const struct sara_hw_lines *l = ctx;

	return pulse(l, l->pwr_line, ms);
}

static int reset_pulse(void *ctx, uint32_t ms)
{
	const struct sara_hw_lines *l = ctx;

	return pulse(l, l->reset_line, ms);
}

static bool one_output(unsigned line)
{
	return line == CELL_LINE_DTR || line == CELL_LINE_RTS;
}

int sara_hw_from_lines(struct sara_hw *hw, struct sara_hw_lines *lines)
{
	if (!hw || !lines || !lines->serial || (lines->pwr_line && !one_output(lines->pwr_line)) ||
	    (lines->reset_line && !one_output(lines->reset_line)) ||
	    (lines->pwr_line && lines->pwr_line == lines->reset_line))
		return FUOTA_ERR_INVALID_ARG;
	hw->power_pulse = lines->pwr_line ? pwr_pulse : NULL;
	hw->reset = lines->reset_line ? reset_pulse : NULL;
	hw->ctx = lines;
	return FUOTA_OK;
}
