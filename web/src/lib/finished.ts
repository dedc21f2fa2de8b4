// Devices done and failed over the job's whole life, from its event log (pure; unit-tested).
// The engine logs a "device" event ({step, reason}) at each step a device moves to, with the
// time it moved: counted in id order, they give the job's finished devices at every moment,
// before the page was opened too. A device can leave "failed" again (a job's failed devices
// retried), so the series follows each device's latest step rather than adding events up.
import type { EventLike } from './progress';

/** The series as the chart draws it: x in Unix seconds, then the two counts. */
export interface FinishedPoints {
  t: number[];
  done: number[];
  failed: number[];
}

const COUNTED = new Set(['done', 'failed']);

export class FinishedSeries {
  private readonly t: number[] = [];
  private readonly done: number[] = [];
  private readonly failed: number[] = [];
  /** The devices now done or failed, and which (every other device counts for neither). */
  private readonly where = new Map<string, string>();
  private nDone = 0;
  private nFailed = 0;
  /** Bumped at every change: the page redraws only then. */
  version = 0;

  /** Takes one event of the log, in id order; other events than a device's step are ignored. */
  add(e: EventLike): void {
    const step = e.data?.step;
    if (e.kind !== 'device' || !e.dev_eui || typeof step !== 'string' || !e.created_at) return;
    const at = Date.parse(e.created_at) / 1000;
    if (!Number.isFinite(at)) return;
    const before = this.where.get(e.dev_eui);
    if (before === step || (before === undefined && !COUNTED.has(step))) return;
    if (before === 'done') this.nDone--;
    if (before === 'failed') this.nFailed--;
    if (step === 'done') this.nDone++;
    if (step === 'failed') this.nFailed++;
    if (COUNTED.has(step)) this.where.set(e.dev_eui, step);
    else this.where.delete(e.dev_eui);
    this.push(at);
  }

  /** Appends the counts at time at (seconds), merged with the last point of the same time. */
  private push(at: number): void {
    const n = this.t.length;
    // The chart's x must not go back: a late-logged event is drawn at the last point's time.
    const x = n > 0 ? Math.max(at, this.t[n - 1]) : at;
    if (n > 0 && this.t[n - 1] === x) {
      this.done[n - 1] = this.nDone;
      this.failed[n - 1] = this.nFailed;
    } else {
      this.t.push(x);
      this.done.push(this.nDone);
      this.failed.push(this.nFailed);
    }
    this.version++;
  }

  /** The counts now and the time of the last change (Unix seconds; null before any). */
  latest(): { done: number; failed: number; at: number | null } {
    const n = this.t.length;
    return { done: this.nDone, failed: this.nFailed, at: n > 0 ? this.t[n - 1] : null };
  }

  /**
   * A copy to draw, from the job's start (startSec, when known) up to untilSec (now, for a job
   * still running), so the lines span the whole job even while nothing changes. end: a finished
   * job's counts from its summary, drawn at untilSec where the log's differ (the engine fails
   * the devices left at a job's end without an event each).
   */
  points(startSec?: number | null, untilSec?: number | null, end?: { done: number; failed: number }): FinishedPoints {
    const out = { t: this.t.slice(), done: this.done.slice(), failed: this.failed.slice() };
    if (startSec !== null && startSec !== undefined && (out.t.length === 0 || startSec < out.t[0])) {
      out.t.unshift(startSec);
      out.done.unshift(0);
      out.failed.unshift(0);
    }
    const last = out.t.length - 1;
    const done = end?.done ?? this.nDone;
    const failed = end?.failed ?? this.nFailed;
    if (untilSec === null || untilSec === undefined || last < 0) return out;
    if (untilSec > out.t[last]) {
      out.t.push(untilSec);
      out.done.push(done);
      out.failed.push(failed);
    } else {
      out.done[last] = done;
      out.failed[last] = failed;
    }
    return out;
  }
}

/** A reading of the frame counters (the job's summary) at time t (Unix seconds). */
export interface FrameSample {
  t: number;
  sent: number | null;
  fragments: number | null;
}

/**
 * The job chart's table: the times of both series merged in order, the frame counters where
 * they were read (null elsewhere: the chart bridges them) and the finished devices at every
 * time (a count holds until the next change).
 */
export function jobChartTable(
  fin: FinishedPoints,
  frames: FrameSample[],
): [number[], (number | null)[], (number | null)[], number[], number[]] {
  const x: number[] = [];
  const sent: (number | null)[] = [];
  const frags: (number | null)[] = [];
  const done: number[] = [];
  const failed: number[] = [];
  let i = 0;
  let j = 0;
  while (i < fin.t.length || j < frames.length) {
    const ti = i < fin.t.length ? fin.t[i] : Infinity;
    const tj = j < frames.length ? frames[j].t : Infinity;
    const at = Math.min(ti, tj);
    if (ti === at) i++;
    const f = tj === at ? frames[j++] : null;
    x.push(at);
    sent.push(f ? f.sent : null);
    frags.push(f ? f.fragments : null);
    done.push(i > 0 ? fin.done[i - 1] : 0);
    failed.push(i > 0 ? fin.failed[i - 1] : 0);
  }
  return [x, sent, frags, done, failed];
}

/** The chart's words for those who do not see it: the finished devices and since when. */
export function describeFinished(f: FinishedSeries | undefined, format = (sec: number) => new Date(sec * 1000).toLocaleTimeString()): string {
  const l = f?.latest();
  if (!l || l.at === null) return 'No device has finished yet.';
  return `${l.done} device(s) done and ${l.failed} failed, the last at ${format(l.at)}.`;
}
