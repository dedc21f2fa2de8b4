// A job's progress from what the API tells of it (pure; unit-tested).
import type { JobDevice } from '../api/client';
import { FinishedSeries } from './finished';

/** An event of the job's log (the API's Event; data is free-form). */
export interface EventLike {
  id?: number;
  kind?: string;
  dev_eui?: string | null;
  data?: Record<string, unknown>;
  created_at?: string;
}

/** The device steps of the engine, in order (server/policy/src/engine_calc.c). */
export const STEPS = [
  'pending',
  'fw_version',
  'pkg_version',
  'mc_setup',
  'frag_setup',
  'ready',
  'mc_session',
  'session',
  'frag_status',
  'confirm',
  'cleanup',
  'reboot',
  'fw_check',
  'done',
  'failed',
  'unconfirmed',
] as const;

/* The API's step enum (openapi.json) and STEPS name the same steps: a step the engine adds and
 * this list lacks, or the other way round, fails `tsc` at build time. */
type ApiStep = NonNullable<JobDevice['step']>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const STEPS_MATCH_API: Same<ApiStep, (typeof STEPS)[number]> = true;

export const STEP_LABEL: Record<string, string> = {
  pending: 'Pending',
  fw_version: 'Version check (TS006)',
  pkg_version: 'Package version',
  mc_setup: 'Multicast setup',
  frag_setup: 'Fragmentation setup',
  ready: 'Ready',
  mc_session: 'Multicast session',
  session: 'In session',
  frag_status: 'Fragmentation status',
  confirm: 'Image check (TS006)',
  cleanup: 'Clean-up',
  reboot: 'Reboot (TS006)',
  fw_check: 'Version after reboot (TS006)',
  done: 'Done',
  failed: 'Failed',
  unconfirmed: 'Unconfirmed (may have the image)',
};

export const PHASE_LABEL: Record<string, string> = {
  setup: 'Setting devices up',
  session: 'Waiting for the session',
  transmit: 'Transmitting fragments',
  status: 'Asking devices for their status',
  cleanup: 'Cleaning up',
  done: 'Done',
};

export type StepCounts = Record<string, number>;

/** How many devices are at each step (every known step present, zero or more). */
export function countSteps(devices: Pick<JobDevice, 'step'>[]): StepCounts {
  const out: StepCounts = {};
  for (const s of STEPS) out[s] = 0;
  for (const d of devices) {
    const s = d.step ?? 'pending';
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}

export interface Progress {
  total: number;
  done: number;
  failed: number;
  /** 0..100: devices finished (done, failed or unconfirmed) over all devices. */
  percent: number;
}

export function progressOf(counts: StepCounts, total: number): Progress {
  const done = counts.done ?? 0;
  const failed = counts.failed ?? 0;
  // An unconfirmed device is finished too (its answers could not prove the image).
  const unconfirmed = counts.unconfirmed ?? 0;
  const all = Math.max(total, done + failed + unconfirmed);
  const percent = all === 0 ? 0 : Math.round(((done + failed + unconfirmed) * 100) / all);
  return { total: all, done, failed, percent };
}

/** The job's phase: the latest phase change in its event log (null before the first). */
export function currentPhase(events: EventLike[]): string | null {
  let best: { id: number; phase: string } | null = null;
  for (const e of events) {
    const phase = (e.data as { phase?: unknown } | undefined)?.phase;
    if (e.kind === 'log' && typeof phase === 'string') {
      const id = e.id ?? 0;
      if (!best || id > best.id) best = { id, phase };
    }
  }
  return best ? best.phase : null;
}

/** Whether a job in this state can still change (the page keeps refreshing it). */
export function isLive(state: string | undefined): boolean {
  return state === 'pending' || state === 'running' || state === 'paused';
}

/** Which actions a job in this state offers. */
export function actionsFor(state: string | undefined): { cancel: boolean; pause: boolean; resume: boolean } {
  return {
    cancel: state === 'pending' || state === 'running' || state === 'paused',
    pause: state === 'running' || state === 'pending',
    resume: state === 'paused',
  };
}

/** One line of the event log for a person. */
export function describeEvent(e: EventLike): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  if (e.kind === 'log' && typeof d.phase === 'string')
    return `phase ${String(d.phase_from ?? '?')} → ${d.phase}`;
  if (e.kind === 'state' && typeof d.to === 'string') {
    // A job's first event has no from: it was created (a retry names its first job).
    const line = typeof d.from === 'string' ? `state ${d.from} → ${d.to}` : `created (${d.to})`;
    if (typeof d.retry_of === 'number') return `${line}, a retry of job ${d.retry_of}`;
    return typeof d.action === 'string' ? `${line} (${d.action})` : line;
  }
  if (e.dev_eui && typeof d.step === 'string')
    return `${e.dev_eui}: ${d.step}${typeof d.reason === 'string' ? ` (${d.reason})` : ''}`;
  const text = typeof d.message === 'string' ? d.message : JSON.stringify(d);
  return `${e.kind}${e.dev_eui ? ' ' + e.dev_eui : ''}: ${text}`;
}

/**
 * A device's last answer in a few words: the answer's name, then its other fields, leaving out
 * false flags ({"answer":"FragSessionStatusAns","missing":0,"mic_error":false} ->
 * "FragSessionStatusAns missing 0").
 */
export function describeAnswer(a: unknown): string {
  if (a === null || a === undefined) return '';
  if (typeof a !== 'object') return String(a);
  const o = a as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof o.answer === 'string') parts.push(o.answer);
  for (const [k, v] of Object.entries(o)) {
    if (k === 'answer' || v === false || v === null || v === undefined) continue;
    if (v === true) parts.push(k.replace(/_/g, ' '));
    else if (typeof v === 'object') parts.push(`${k.replace(/_/g, ' ')} ${JSON.stringify(v)}`);
    else parts.push(`${k.replace(/_/g, ' ')} ${String(v)}`);
  }
  return parts.join(' · ');
}

/**
 * A device's fragments from its last FragSessionStatusAns (the API's missing_fragments and
 * fragments_received): "3 of 40 missing"-like words for the table, '' when none is known.
 */
export function describeFragments(d: { missing_fragments?: number | null; fragments_received?: number | null }): string {
  const missing = d.missing_fragments;
  if (missing === null || missing === undefined) return '';
  const received = d.fragments_received;
  return received === null || received === undefined ? `${missing}` : `${missing} (${received} received)`;
}

/**
 * A job's event log read as it grows, by pages (the API lists events oldest first with an
 * offset) or pushed one by one by the event stream. Events are only ever added, in id order;
 * one already seen (a stream resumed over a page just read) is skipped, so `offset` stays the
 * count of distinct events and `lastId` the stream's resume point. Keeps the latest phase and
 * the last `keep` events (what the page shows).
 */
export class EventLog {
  offset = 0;
  lastId = 0;
  phase: string | null = null;
  /** Devices done and failed over time, from every event of the log (not only the kept ones). */
  readonly finished = new FinishedSeries();
  private last: EventLike[] = [];

  constructor(readonly keep = 500) {}

  /** Adds the events not seen yet; returns how many were new. */
  add(items: EventLike[]): number {
    const fresh = items.filter((e) => (e.id ?? 0) > this.lastId);
    for (const e of fresh) this.lastId = Math.max(this.lastId, e.id ?? 0);
    this.offset += fresh.length;
    for (const e of fresh) this.finished.add(e);
    const p = currentPhase(fresh);
    if (p !== null) this.phase = p;
    this.last.push(...fresh);
    if (this.last.length > this.keep) this.last = this.last.slice(-this.keep);
    return fresh.length;
  }

  recent(): EventLike[] {
    return this.last.slice();
  }
}
