// The job's event stream (GET /api/v1/jobs/{id}/events/stream, Server-Sent Events) read with
// fetch, because an EventSource cannot send the Authorization header; eventsource-parser turns
// the bytes into events.
import { createParser } from 'eventsource-parser';
import { getToken } from './auth';
import type { EventLike } from './progress';

export interface StreamHandlers {
  /** One event of the job's log, in id order. */
  event(e: EventLike): void;
  /** The stream could not open or ended; it is closed. */
  fail(reason: unknown): void;
}

export interface StreamHandle {
  close(): void;
}

export type OpenStream = (after: number, h: StreamHandlers) => StreamHandle;

/** An error answer of the stream route (429 / 503: too many streams; 404: not the tenant's). */
export class StreamRefused extends Error {
  constructor(readonly status: number) {
    super(`the event stream was refused (HTTP ${status})`);
  }
}

/** Opens job id's stream after event `after`, with fetchFn (the page's fetch by default). */
export function jobStream(id: number, fetchFn: typeof fetch = (...a) => fetch(...a)): OpenStream {
  return (after, h) => {
    const abort = new AbortController();
    let done = false;
    const fail = (reason: unknown) => {
      if (done) return;
      done = true;
      abort.abort();
      h.fail(reason);
    };
    const parser = createParser({
      onEvent(msg) {
        try {
          h.event(JSON.parse(msg.data) as EventLike);
        } catch (e) {
          fail(e);
        }
      },
    });
    void (async () => {
      try {
        const token = getToken();
        const r = await fetchFn(`/api/v1/jobs/${id}/events/stream?after=${after}`, {
          headers: { Accept: 'text/event-stream', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
          signal: abort.signal,
          cache: 'no-store',
        });
        if (!r.ok || !r.body) throw new StreamRefused(r.status);
        const reader = r.body.getReader();
        const dec = new TextDecoder();
        for (;;) {
          const { value, done: end } = await reader.read();
          if (end) break;
          parser.feed(dec.decode(value, { stream: true }));
        }
        fail(new Error('the event stream ended'));
      } catch (e) {
        fail(e);
      }
    })();
    return {
      close() {
        done = true;
        abort.abort();
      },
    };
  };
}
