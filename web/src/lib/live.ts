// A job's live view: a feed of snapshots (the job, its devices, its event log). Today the feed
// polls the API every second; the Server-Sent Events route will be another JobFeed behind the
// same interface, and the page will not change.
import type { Job, JobDevice } from '../api/client';
import type { EventLike } from './progress';

export interface JobSnapshot {
  job: Job;
  devices: JobDevice[];
  /** The last events of the log, oldest first. */
  events: EventLike[];
  /** The job's phase: the latest phase change in its whole log (null before the first). */
  phase: string | null;
  /** Date.now() when it was read. */
  at: number;
}

export interface JobFeed {
  /** Starts delivering snapshots; the returned function stops it. */
  subscribe(onSnapshot: (s: JobSnapshot) => void, onError: (e: unknown) => void): () => void;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Polls load() every intervalMs, never two loads at once; stops by itself after the first
 * snapshot of a job that can no longer change (keepGoing false), and on unsubscribe.
 */
export function pollingFeed(
  load: () => Promise<JobSnapshot>,
  intervalMs = 1000,
  keepGoing: (s: JobSnapshot) => boolean = () => true,
  timers: Timers = realTimers,
): JobFeed {
  return {
    subscribe(onSnapshot, onError) {
      let stopped = false;
      let handle: unknown = null;
      const tick = async () => {
        handle = null;
        let again = true;
        try {
          const s = await load();
          if (stopped) return;
          onSnapshot(s);
          again = keepGoing(s);
        } catch (e) {
          if (stopped) return;
          onError(e);
        }
        if (!stopped && again) handle = timers.set(tick, intervalMs);
      };
      void tick();
      return () => {
        stopped = true;
        if (handle !== null) timers.clear(handle);
      };
    },
  };
}
