// A job across regions on its job page: each region's child job (its state, phase, progress,
// session) with a link to it; and on a child's page, the job across regions it belongs to.
import type { Job } from '../api/client';
import { StateBadge } from './Async';
import { ProgressBar } from './Progress';
import { formatFrequency } from '../lib/format';
import { PHASE_LABEL, progressOf, type StepCounts } from '../lib/progress';

export function JobRegions({ job }: { job: Job }) {
  const regions = job.regions ?? [];
  if (regions.length === 0) return null;
  return (
    <>
      <h2 id="regions-title">Regions</h2>
      <div class="table-wrap" role="region" aria-labelledby="regions-title" tabIndex={0}>
        <table data-testid="job-regions">
          <caption class="sr-only">The job's regions, each a job of its own</caption>
          <thead>
            <tr>
              <th scope="col">Region</th>
              <th scope="col">Job</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col">Session</th>
            </tr>
          </thead>
          <tbody>
            {regions.map((r) => {
              const p = progressOf((r.steps ?? {}) as StepCounts, r.device_count ?? 0);
              return (
                <tr key={r.job_id} data-region={r.region}>
                  <th scope="row">{r.region}</th>
                  <td>
                    <a href={`/jobs/${r.job_id}`}>Job #{r.job_id}</a>
                  </td>
                  <td>
                    <StateBadge state={r.state} />
                    {r.phase && (r.state === 'running' || r.state === 'paused') && <> · {PHASE_LABEL[r.phase] ?? r.phase}</>}
                    {r.error && <div class="error">{r.error}</div>}
                  </td>
                  <td>
                    <ProgressBar value={p.percent} label={`${r.region} devices finished`} />
                    {p.done} done, {p.failed} failed of {p.total}
                  </td>
                  <td>
                    DR{r.data_rate} {formatFrequency(r.frequency_hz)}
                    {r.fragment_size ? ` · ${r.fragment_size} B fragments` : ''}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** On a region's job: the job across regions it is part of. */
export function ParentLink({ job }: { job: Job }) {
  if (job.parent_id == null) return null;
  return (
    <p data-testid="parent-job">
      The {job.region} part of <a href={`/jobs/${job.parent_id}`}>job #{job.parent_id}</a>, a job across regions.
    </p>
  );
}
