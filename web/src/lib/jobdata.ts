// Reads a job's snapshot from the API (the polling feed's loader).
import { api, must, type JobDevice, type JobEvent } from '../api/client';
import type { JobSnapshot } from './live';

const PAGE = 500;
/** Pages read at most per snapshot (a job's page shows the first 5,000 devices for now). */
const MAX_PAGES = 10;

export async function loadDevices(id: number): Promise<JobDevice[]> {
  const out: JobDevice[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
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

export async function loadEvents(id: number): Promise<JobEvent[]> {
  const r = await must(
    api.GET('/api/v1/jobs/{id}/events', { params: { path: { id }, query: { limit: PAGE } } }),
  );
  return (r as { items?: JobEvent[] }).items ?? [];
}

export async function loadSnapshot(id: number): Promise<JobSnapshot> {
  const job = await must(api.GET('/api/v1/jobs/{id}', { params: { path: { id } } }));
  const [devices, events] = await Promise.all([loadDevices(id), loadEvents(id)]);
  return { job, devices, events, at: Date.now() };
}
