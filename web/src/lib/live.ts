// A job's live view: a feed of snapshots (the job, its devices counted per step, its event log).
// The streaming feed reads the job once, then follows its Server-Sent Events and re-reads the
// job and its counts when an event comes (never more than one read at a time); if the stream
// cannot open or breaks, it falls back to polling every second. The page does not know which.
import type { Job } from '../api/client';
import type { FinishedSeries } from './finished';
import { EventLog, type EventLike, type StepCounts } from './progress';
import type { OpenStream, StreamHandle } from './sse';

export interface JobSnapshot {
  job: Job;
  /** Devices per step (every known step present) and in all. */
  counts: StepCounts;
  total: number;
  /** The last events of the log, oldest first. */
  events: EventLike[];
  /** The job's phase: the latest phase change in its whole log (null before the first). */
  phase: string | null;
  /** Date.now() when it was read. */
  at: number;
  /** How the page is kept up to date: pushed by the server, or polled. */
  transport: 'stream' | 'polling';
  /** Devices done and failed over the job's life, from its whole event log (grows in place:
   * its version tells a change). */
  finished?: FinishedSeries;
  /** The engine's frame counters (null before it took the job up). */
  frames?: { sent: number; resent: number; fragments: number } | null;
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

/** What the streaming feed reads a job with (jobdata.ts; fakes in the unit tests). */
export interface LiveSource {
  /** The job, its counts, and the events after the log's last one (read into log). */
  load(log: EventLog): Promise<JobSnapshot>;
  /** The job and its counts only (the log is fed by the stream). */
  refresh(log: EventLog): Promise<JobSnapshot>;
  open: OpenStream;
}

/** While the frames go out (no event per frame), the stream's page re-reads the counts this often. */
export const TRANSMIT_REFRESH_MS = 2000;

/**
 * Reads the job, then follows its event stream: each new event re-reads the job and its counts
 * (one read at a time; events that come during a read cause one more). While the job is in its
 * transmit phase, which logs no event per frame, the counts are also re-read every
 * TRANSMIT_REFRESH_MS for the frames chart. Falls back to pollingFeed(source.load) when the
 * stream is refused or breaks. Stops, as the polling feed does, once the job cannot change any
 * more.
 */
export function streamingFeed(
  source: LiveSource,
  pollMs = 1000,
  keepGoing: (s: JobSnapshot) => boolean = () => true,
  timers: Timers = realTimers,
): JobFeed {
  return {
    subscribe(onSnapshot, onError) {
      const log = new EventLog(500);
      let stopped = false;
      let stream: StreamHandle | null = null;
      let stopPolling: (() => void) | null = null;
      let reading = false;
      let again = false;
      let tick: unknown = null;

      const deliver = (s: JobSnapshot) => {
        if (stopped) return;
        onSnapshot(s);
        if (!keepGoing(s)) stop();
        else if (s.transport === 'stream' && s.phase === 'transmit' && tick === null && stream)
          tick = timers.set(() => {
            tick = null;
            void refresh();
          }, TRANSMIT_REFRESH_MS);
      };
      const refresh = async () => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          deliver({ ...(await source.refresh(log)), transport: 'stream' });
        } catch (e) {
          if (!stopped) onError(e);
        }
        reading = false;
        if (again && !stopped) {
          again = false;
          void refresh();
        }
      };
      const fallBack = () => {
        stream = null;
        if (tick !== null) timers.clear(tick);
        tick = null;
        if (stopped || stopPolling) return;
        const poll = pollingFeed(() => source.load(log), pollMs, keepGoing, timers);
        stopPolling = poll.subscribe((s) => deliver({ ...s, transport: 'polling' }), onError);
      };
      const stop = () => {
        stopped = true;
        if (tick !== null) timers.clear(tick);
        stream?.close();
        stopPolling?.();
      };
      void (async () => {
        try {
          const first = await source.load(log);
          deliver({ ...first, transport: 'stream' });
        } catch (e) {
          if (!stopped) onError(e);
          fallBack();
          return;
        }
        if (stopped) return;
        stream = source.open(log.lastId, {
          event: (e) => {
            if (log.add([e]) > 0) void refresh();
          },
          fail: fallBack,
        });
        if (log.phase === 'transmit') void refresh(); /* starts the frame counter's ticks */
      })();
      return stop;
    },
  };
}
