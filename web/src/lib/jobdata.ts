// Reads a job's snapshots from the API (the polling feed's loader).
import { api, must, type JobDevice, type JobEvent } from '../api/client';
import { EventLog } from './progress';
import type { JobSnapshot } from './live';

const PAGE = 500;
/** Device pages read at most per snapshot (a job's page shows the first 5,000 devices for now). */
const MAX_DEVICE_PAGES = 10;
/** Event pages read at most per snapshot: a long log is caught up over a few snapshots. */
const MAX_EVENT_PAGES = 20;

export async function loadDevices(id: number): Promise<JobDevice[]> {
  const out: JobDevice[] = [];
  for (let page = 0; page < MAX_DEVICE_PAGES; page++) {
    const r = await must(
      api.GET('/api/v1/jobs/{id}/devices', {
        params: { path: { id }, query: { limit: PAGE, offset: page * PAGE } },
      }),
    );
    const items = (r as { items?: JobDevice[] }).items ?? [];
    out.push(...items);
    if (items.length < PAGE) break;
  }
  return out;
}

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

/** A loader of one job's snapshots; it remembers how far it has read the event log. */
export function snapshotLoader(id: number): () => Promise<JobSnapshot> {
  const log = new EventLog(PAGE);
  return async () => {
    const job = await must(api.GET('/api/v1/jobs/{id}', { params: { path: { id } } }));
    const [devices] = await Promise.all([loadDevices(id), readNewEvents(id, log)]);
    return { job, devices, events: log.recent(), phase: log.phase, at: Date.now() };
  };
}
