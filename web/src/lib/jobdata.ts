// Reads a job's snapshots from the API: the job, its devices counted per step (one request,
// however many devices), and its event log; and one page of its devices for the table.
import { api, must, type JobDevice, type JobEvent } from '../api/client';
import { STEPS, type EventLog, type StepCounts } from './progress';
import type { JobSnapshot, LiveSource } from './live';
import { jobStream } from './sse';

const PAGE = 500;
/** Event pages read at most per snapshot: a long log is caught up over a few snapshots. */
const MAX_EVENT_PAGES = 20;

/** Reads the events added since the last read into log. */
export async function readNewEvents(id: number, log: EventLog): Promise<void> {
  for (let page = 0; page < MAX_EVENT_PAGES; page++) {
    const r = await must(
      api.GET('/api/v1/jobs/{id}/events', {
        params: { path: { id }, query: { limit: PAGE, offset: log.offset } },
      }),
    );
    const items = (r as { items?: JobEvent[] }).items ?? [];
    log.add(items);
    if (items.length < PAGE) break;
  }
}

/** Every known step with its count (0 when the summary leaves it out). */
export function stepCounts(steps: Record<string, number> | undefined): StepCounts {
  const out: StepCounts = {};
  for (const s of STEPS) out[s] = 0;
  for (const [k, v] of Object.entries(steps ?? {})) out[k] = v;
  return out;
}

async function jobAndCounts(id: number, log: EventLog): Promise<JobSnapshot> {
  const [job, summary] = await Promise.all([
    must(api.GET('/api/v1/jobs/{id}', { params: { path: { id } } })),
    must(api.GET('/api/v1/jobs/{id}/summary', { params: { path: { id } } })),
  ]);
  return {
    job,
    counts: stepCounts(summary.steps),
    total: summary.total,
    events: log.recent(),
    phase: log.phase,
    finished: log.finished,
    at: Date.now(),
    transport: 'stream',
    frames:
      summary.frames_sent === null || summary.frames_sent === undefined
        ? null
        : { sent: summary.frames_sent, resent: summary.frames_resent ?? 0, fragments: summary.fragments ?? 0 },
  };
}

/** Job id's snapshots: the streaming feed's source (polling reads events by page). */
export function jobSource(id: number): LiveSource {
  return {
    async load(log) {
      await readNewEvents(id, log);
      return jobAndCounts(id, log);
    },
    refresh: (log) => jobAndCounts(id, log),
    open: jobStream(id),
  };
}

export interface DevicePage {
  items: JobDevice[];
  offset: number;
}

/** One page of the job's devices, of one step or of all ('' ). */
export async function loadDevicePage(id: number, step: string, offset: number, limit: number): Promise<DevicePage> {
  const r = await must(
    api.GET('/api/v1/jobs/{id}/devices', {
      params: { path: { id }, query: { limit, offset, ...(step ? { step } : {}) } },
    }),
  );
  return { items: (r as { items?: JobDevice[] }).items ?? [], offset };
}
