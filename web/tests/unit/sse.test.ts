import { describe, expect, it } from 'vitest';
import { jobStream, StreamRefused } from '../../src/lib/sse';
import type { EventLike } from '../../src/lib/progress';

const flush = () => new Promise((r) => setTimeout(r, 0));

/** A fetch answering status with the chunks as its body, remembering what it was asked. */
function fakeFetch(status: number, chunks: string[], asked: { url?: string; headers?: Record<string, string> }) {
  return (async (url: string, init?: RequestInit) => {
    asked.url = url;
    asked.headers = init?.headers as Record<string, string>;
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(enc.encode(ch));
        c.close();
      },
    });
    return new Response(status === 200 ? body : null, { status });
  }) as unknown as typeof fetch;
}

describe('jobStream', () => {
  it('asks after the given event and delivers each event, split across chunks, in order', async () => {
    const asked: { url?: string; headers?: Record<string, string> } = {};
    const events: EventLike[] = [];
    const fails: unknown[] = [];
    const open = jobStream(7, fakeFetch(200, ['retry: 2000\n\n: heartbeat\n\nid: 4\nda', 'ta: {"id":4,"kind":"state"}\n\nid: 5\ndata: {"id":5,"kind":"log"}\n\n'], asked));
    open(3, { event: (e) => events.push(e), fail: (r) => fails.push(r) });
    await flush();
    await flush();
    expect(asked.url).toBe('/api/v1/jobs/7/events/stream?after=3');
    expect(asked.headers?.Accept).toBe('text/event-stream');
    expect(events.map((e) => e.id)).toEqual([4, 5]);
    /* The body ended: the stream says so (the feed then polls). */
    expect(fails).toHaveLength(1);
  });

  it('reports a refusal with its status', async () => {
    const fails: unknown[] = [];
    jobStream(7, fakeFetch(429, [], {}))(0, { event: () => {}, fail: (r) => fails.push(r) });
    await flush();
    expect(fails[0]).toBeInstanceOf(StreamRefused);
    expect((fails[0] as StreamRefused).status).toBe(429);
  });

  it('says nothing more once closed', async () => {
    const fails: unknown[] = [];
    const h = jobStream(7, fakeFetch(200, [], {}))(0, { event: () => {}, fail: (r) => fails.push(r) });
    h.close();
    await flush();
    await flush();
    expect(fails).toHaveLength(0);
  });
});
