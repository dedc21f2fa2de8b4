/* UART pacing; see msim_wire.h. */
#include "msim_wire.h"

uint64_t msim_wire_byte_ns(unsigned baud)
{
	return 10000000000ull / (baud ? baud : 115200);
}

static uint64_t start_of(const struct msim_wire *w, uint64_t now_ns)
{
	if (w->busy)
		return w->start_ns;
	return now_ns > w->free_ns ? now_ns : w->free_ns;
}

size_t msim_wire_due(struct msim_wire *w, uint64_t now_ns, uint64_t byte_ns, size_t queued)
{
	uint64_t n;

	if (queued == 0) {
		w->busy = false;
		return 0;
	}
	w->start_ns = start_of(w, now_ns);
	w->busy = true;
	n = now_ns > w->start_ns ? (now_ns - w->start_ns) / byte_ns : 0;
	if (n > queued)
		n = queued;
	w->start_ns += n * byte_ns;
	w->free_ns = w->start_ns;
	if (n == queued)
		w->busy = false; /* idle from free_ns: bytes queued later start then or later */
	return (size_t)n;
}

uint64_t msim_wire_done_ns(const struct msim_wire *w, uint64_t now_ns, uint64_t byte_ns,
                           size_t queued)
{
	if (queued == 0)
		return UINT64_MAX;
	return start_of(w, now_ns) + (uint64_t)queued * byte_ns;
}
