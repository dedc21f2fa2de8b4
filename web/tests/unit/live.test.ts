import { describe, expect, it } from 'vitest';
import { pollingFeed, type JobSnapshot, type Timers } from '../../src/lib/live';

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
  return { job: { id: 1, state } as JobSnapshot['job'], devices: [], events: [], phase: null, at: 0 };
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
