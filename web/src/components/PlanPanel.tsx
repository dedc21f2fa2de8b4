// What a job will cost, shown before it is created (POST /api/v1/jobs:plan), and the button that
// creates it.
import type { Plan } from '../api/client';
import { formatDuration } from '../lib/format';
import { planParts } from '../lib/parts';
import { ProgressBar } from './Progress';

/** A region's plan of a job across regions (POST /api/v1/jobs:plan with regions). */
export interface RegionPlan {
  region: string;
  device_count?: number;
  plan?: Plan;
}

interface Props {
  /** The plan; with regions, the totals over the regions' plans. */
  plan: Plan;
  regions?: RegionPlan[];
  warnings: string[];
  /** The image's upload progress when it is being uploaded, else null. */
  upload: number | null;
  busy: 'plan' | 'create' | null;
  deviceCount: number;
  onCreate: () => void;
}

export function PlanPanel({ plan, regions, warnings, upload, busy, deviceCount, onCreate }: Props) {
  const parts = planParts(plan);
  return (
    <section id="plan" class="card plan" tabIndex={-1} aria-labelledby="plan-title">
      <h2 id="plan-title">The plan</h2>
      {regions ? <RegionsPlan plan={plan} regions={regions} /> : (
      <dl class="facts">
        <dt>Fragments</dt>
        <dd data-plan="fragments">
          {plan.fragments} × {plan.fragment_size} B
        </dd>
        {parts && (
          <>
            <dt>Parts</dt>
            <dd data-plan="parts">{parts.fragments}</dd>
          </>
        )}
        <dt>Parity frames</dt>
        <dd data-plan="parity">
          {plan.adaptive ? `adaptive, up to ${plan.adaptive.max_parity_frames}` : parts ? parts.parity : plan.parity_frames}
        </dd>
        <dt>Frames on air</dt>
        <dd>
          {plan.total_frames}
          {plan.sessions && plan.sessions > 1 ? ` (${plan.sessions} sessions)` : ''}
        </dd>
        <dt>Airtime</dt>
        <dd data-plan="airtime">
          {formatDuration(plan.total_airtime_s)} ({plan.frame_airtime_ms?.toFixed(1)} ms a frame)
        </dd>
        <dt>Duty cycle</dt>
        <dd>{plan.duty_cycle ? `${(plan.duty_cycle * 100).toFixed(1)} %` : 'none'}</dd>
        <dt>Unicast setup</dt>
        <dd>{formatDuration(plan.unicast_setup_s)}</dd>
        <dt>Multicast session</dt>
        <dd>
          {formatDuration(plan.multicast_duration_s)} (timeout {formatDuration(plan.multicast_timeout_s)}
          {parts ? ' a part' : ''})
        </dd>
        <dt>Time estimate</dt>
        <dd data-plan="estimate">{formatDuration(plan.estimated_duration_s)}</dd>
      </dl>
      )}
      <h3>Warnings</h3>
      {warnings.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul class="warnings">
          {warnings.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      )}
      {upload !== null && <ProgressBar value={upload} label="Firmware upload" />}
      <button type="button" class="primary" onClick={onCreate} disabled={busy !== null}>
        {busy === 'create' ? 'Creating…' : `Create the job for ${deviceCount} device(s)`}
      </button>
    </section>
  );
}

/** A job across regions: each region's session side by side, the job as long as the longest. */
function RegionsPlan({ plan, regions }: { plan: Plan; regions: RegionPlan[] }) {
  return (
    <>
      <div class="table-wrap" role="region" aria-label="Plan per region" tabIndex={0}>
        <table data-plan="regions">
          <thead>
            <tr>
              <th scope="col">Region</th>
              <th scope="col">Devices</th>
              <th scope="col">Fragments</th>
              <th scope="col">Frames on air</th>
              <th scope="col">Airtime</th>
              <th scope="col">Time estimate</th>
            </tr>
          </thead>
          <tbody>
            {regions.map((r) => (
              <tr key={r.region}>
                <th scope="row">{r.region}</th>
                <td>{r.device_count}</td>
                <td>
                  {r.plan?.fragments} × {r.plan?.fragment_size} B
                </td>
                <td>{r.plan?.total_frames}</td>
                <td>{formatDuration(r.plan?.total_airtime_s)}</td>
                <td>{formatDuration(r.plan?.estimated_duration_s)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <dl class="facts">
        <dt>Frames on air</dt>
        <dd>{plan.total_frames}, in every region together</dd>
        <dt>Airtime</dt>
        <dd data-plan="airtime">{formatDuration(plan.total_airtime_s)}, in every region together</dd>
        <dt>Time estimate</dt>
        <dd data-plan="estimate">{formatDuration(plan.estimated_duration_s)} (the regions' sessions side by side)</dd>
      </dl>
    </>
  );
}
