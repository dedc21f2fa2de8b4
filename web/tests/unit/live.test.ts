import { describe, expect, it } from 'vitest';
import { pollingFeed, streamingFeed, type JobSnapshot, type LiveSource, type Timers } from '../../src/lib/live';
import type { EventLog } from '../../src/lib/progress';
import type { StreamHandlers } from '../../src/lib/sse';

/** Timers run by hand: run() fires the pending one. */
function manualTimers() {
  let pending: { fn: () => void; ms: number } | null = null;
  const t: Timers & { run(): void; pendingMs(): number | null } = {
    set(fn, ms) {
      pending = { fn, ms };
      return pending;
    },
    clear(h) {
      if (h === pending) pending = null;
    },
    run() {
      const p = pending;
      pending = null;
      p?.fn();
    },
    pendingMs: () => (pending ? pending.ms : null),
  };
  return t;
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function snap(state: string): JobSnapshot {
  return { job: { id: 1, state } as JobSnapshot['job'], counts: {}, total: 0, events: [], phase: null, at: 0, transport: 'polling' };
}

describe('pollingFeed', () => {
  it('loads at once, then every interval, until the job cannot change any more', async () => {
    const states = ['running', 'running', 'succeeded'];
    let loads = 0;
    const timers = manualTimers();
    const seen: string[] = [];
    const feed = pollingFeed(async () => snap(states[loads++]), 1000, (s) => s.job.state === 'running', timers);
    feed.subscribe((s) => seen.push(s.job.state!), () => {});
    await flush();
    expect(seen).toEqual(['running']);
    expect(timers.pendingMs()).toBe(1000);
    timers.run();
    await flush();
    timers.run();
    await flush();
    expect(seen).toEqual(['running', 'running', 'succeeded']);
    expect(timers.pendingMs()).toBeNull(); /* stopped by itself */
  });

  it('keeps polling after an error and stops on unsubscribe', async () => {
    const timers = manualTimers();
    const errors: unknown[] = [];
    let n = 0;
    const feed = pollingFeed(
      async () => {
        if (n++ === 0) throw new Error('network');
        return snap('running');
      },
      1000,
      () => true,
      timers,
    );
    const stop = feed.subscribe(() => {}, (e) => errors.push(e));
    await flush();
    expect(errors).toHaveLength(1);
    expect(timers.pendingMs()).toBe(1000);
    stop();
    expect(timers.pendingMs()).toBeNull();
  });

  it('delivers nothing once unsubscribed during a load', async () => {
    const timers = manualTimers();
    let release: (s: JobSnapshot) => void = () => {};
    const feed = pollingFeed(() => new Promise<JobSnapshot>((r) => (release = r)), 1000, () => true, timers);
    const seen: JobSnapshot[] = [];
    const stop = feed.subscribe((s) => seen.push(s), () => {});
    stop();
    release(snap('running'));
    await flush();
    expect(seen).toHaveLength(0);
    expect(timers.pendingMs()).toBeNull();
  });
});

/** A job served by hand: its state, events (a log) and a stream the test drives. */
function fakeSource(state = 'running') {
  const f = {
    state,
    events: [] as { id: number; kind: string; data: Record<string, unknown> }[],
    loads: 0,
    refreshes: 0,
    opened: [] as number[],
    handlers: null as StreamHandlers | null,
    closed: 0,
    pendingRefresh: null as null | (() => void),
    holdRefresh: false,
  };
  const snapOf = (log: EventLog): JobSnapshot => ({
    ...snap(f.state),
    events: log.recent(),
    phase: log.phase,
  });
  const source: LiveSource = {
    async load(log) {
      f.loads++;
      log.add(f.events.slice(log.offset));
      return snapOf(log);
    },
    refresh(log) {
      f.refreshes++;
      if (!f.holdRefresh) return Promise.resolve(snapOf(log));
      return new Promise((r) => (f.pendingRefresh = () => r(snapOf(log))));
    },
    open(after, h) {
      f.opened.push(after);
      f.handlers = h;
      return { close: () => f.closed++ };
    },
  };
  return { f, source };
}

describe('streamingFeed', () => {
  it('reads once, then opens the stream after the last event and re-reads on each new one', async () => {
    const { f, source } = fakeSource();
    f.events = [
      { id: 3, kind: 'state', data: { to: 'running' } },
      { id: 4, kind: 'log', data: { phase: 'setup' } },
    ];
    const seen: JobSnapshot[] = [];
    const stop = streamingFeed(source, 1000, (s) => s.job.state === 'running', manualTimers()).subscribe(
      (s) => seen.push(s),
      () => {},
    );
    await flush();
    expect(f.loads).toBe(1);
    expect(f.opened).toEqual([4]);
    expect(seen.map((s) => s.transport)).toEqual(['stream']);
    f.handlers!.event({ id: 5, kind: 'log', data: { phase: 'session' } });
    await flush();
    expect(f.refreshes).toBe(1);
    expect(seen[1].phase).toBe('session');
    expect(seen[1].events.map((e) => e.id)).toEqual([3, 4, 5]);
    /* An event the log has (a resumed stream's overlap) costs no read. */
    f.handlers!.event({ id: 5, kind: 'log', data: { phase: 'session' } });
    await flush();
    expect(f.refreshes).toBe(1);
    expect(f.loads).toBe(1); /* never polled */
    stop();
    expect(f.closed).toBe(1);
  });

  it('reads once more for the events that came during a read, not once each', async () => {
    const { f, source } = fakeSource();
    f.holdRefresh = true;
    streamingFeed(source, 1000, () => true, manualTimers()).subscribe(() => {}, () => {});
    await flush();
    for (const id of [1, 2, 3]) f.handlers!.event({ id, kind: 'device', data: {} });
    expect(f.refreshes).toBe(1);
    f.pendingRefresh!();
    await flush();
    expect(f.refreshes).toBe(2);
    f.pendingRefresh!();
    await flush();
    expect(f.refreshes).toBe(2);
  });

  it('falls back to polling when the stream fails, reading on from the log', async () => {
    const { f, source } = fakeSource();
    const timers = manualTimers();
    const seen: JobSnapshot[] = [];
    streamingFeed(source, 1000, () => true, timers).subscribe((s) => seen.push(s), () => {});
    await flush();
    f.handlers!.event({ id: 1, kind: 'device', data: {} });
    await flush();
    f.events = [
      { id: 1, kind: 'device', data: {} },
      { id: 2, kind: 'state', data: { to: 'paused' } },
    ];
    f.handlers!.fail(new Error('refused'));
    await flush();
    expect(seen[seen.length - 1].transport).toBe('polling');
    expect(seen[seen.length - 1].events.map((e) => e.id)).toEqual([1, 2]);
    expect(timers.pendingMs()).toBe(1000);
    timers.run();
    await flush();
    expect(f.loads).toBe(3);
    expect(f.opened).toHaveLength(1); /* polling from now on */
  });

  it('opens no stream for a job that cannot change, and closes it once the job is over', async () => {
    const done = fakeSource('succeeded');
    streamingFeed(done.source, 1000, (s) => s.job.state === 'running', manualTimers()).subscribe(() => {}, () => {});
    await flush();
    expect(done.f.opened).toHaveLength(0);

    const { f, source } = fakeSource();
    streamingFeed(source, 1000, (s) => s.job.state === 'running', manualTimers()).subscribe(() => {}, () => {});
    await flush();
    f.state = 'succeeded';
    f.handlers!.event({ id: 9, kind: 'state', data: { to: 'succeeded' } });
    await flush();
    expect(f.closed).toBe(1);
  });
});

describe('streamingFeed while transmitting', () => {
  it('re-reads the counts every 2 s in the transmit phase (no event per frame), not before, not after', async () => {
    const { f, source } = fakeSource();
    const timers = manualTimers();
    streamingFeed(source, 1000, () => true, timers).subscribe(() => {}, () => {});
    await flush();
    expect(timers.pendingMs()).toBeNull(); /* setting devices up: events drive it */
    f.handlers!.event({ id: 1, kind: 'log', data: { phase: 'transmit' } });
    await flush();
    expect(f.refreshes).toBe(1);
    expect(timers.pendingMs()).toBe(2000);
    timers.run();
    await flush();
    expect(f.refreshes).toBe(2);
    expect(timers.pendingMs()).toBe(2000);
    f.handlers!.event({ id: 2, kind: 'log', data: { phase: 'status' } });
    await flush();
    timers.run(); /* the tick already set fires once more... */
    await flush();
    expect(timers.pendingMs()).toBeNull(); /* ...and is not set again */
  });
});
