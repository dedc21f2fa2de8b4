import { useState } from 'preact/hooks';
import { api, must, type JobSummary } from '../api/client';
import { ErrorBox, StateBadge, useAsync } from '../components/Async';
import { formatTime } from '../lib/format';
import { useTitle } from '../lib/title';

const STATES = ['', 'pending', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;

export function Jobs() {
  useTitle('Jobs');
  const [state, setState] = useState<(typeof STATES)[number]>('');
  const [after, setAfter] = useState<number[]>([]);
  const cursor = after.length ? after[after.length - 1] : undefined;
  const jobs = useAsync(
    () =>
      must(
        api.GET('/api/v1/jobs', {
          params: { query: { limit: 50, after: cursor, state: state || undefined } },
        }),
      ),
    [state, cursor],
  );
  // A job across regions is listed as its parent; its regions' jobs are on the parent's page.
  const items: JobSummary[] = (jobs.data?.items ?? []).filter((j) => j.parent_id == null);

  return (
    <section>
      <div class="page-head">
        <h1>Firmware update jobs</h1>
        <a class="button" href="/jobs/new">
          New job
        </a>
      </div>
      <div class="toolbar">
        <label for="state-filter">State</label>
        <select
          id="state-filter"
          value={state}
          onChange={(e) => {
            setAfter([]);
            setState((e.target as HTMLSelectElement).value as (typeof STATES)[number]);
          }}
        >
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s || 'any'}
            </option>
          ))}
        </select>
        <button type="button" onClick={jobs.reload}>
          Refresh
        </button>
      </div>
      <ErrorBox error={jobs.error} />
      {jobs.loading && !jobs.data && <p aria-live="polite">Loading…</p>}
      {jobs.data && items.length === 0 && <p>No job yet. Create one with “New job”.</p>}
      {items.length > 0 && (
        <div class="table-wrap" role="region" aria-label="Jobs" tabIndex={0}>
          <table>
            <caption class="sr-only">Jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">State</th>
                <th scope="col">Devices</th>
                <th scope="col">Region / class</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((j) => (
                <tr key={j.id}>
                  <td>
                    <a href={`/jobs/${j.id}`}>
                      #{j.id} {j.name}
                    </a>
                  </td>
                  <td>
                    <StateBadge state={j.state} />
                  </td>
                  <td>{j.device_count}</td>
                  <td>
                    {j.region?.includes(',') ? <span data-testid="job-regions-list">{j.region.split(',').length} regions: {j.region.split(',').join(', ')}</span> : j.region} / {j.multicast_class}
                  </td>
                  <td>{formatTime(j.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="pager">
        {after.length > 0 && (
          <button type="button" onClick={() => setAfter(after.slice(0, -1))}>
            Newer jobs
          </button>
        )}
        {jobs.data?.next_after != null && (
          <button type="button" onClick={() => setAfter([...after, jobs.data!.next_after as number])}>
            Older jobs
          </button>
        )}
      </div>
    </section>
  );
}
