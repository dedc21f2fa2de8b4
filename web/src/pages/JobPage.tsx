import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, apiError } from '../api/client';
import { ErrorBox, StateBadge } from '../components/Async';
import { TimeChart } from '../components/Chart';
import { ProgressBar } from '../components/Progress';
import { JobDevices } from '../components/JobDevices';
import { JobRegions, ParentLink } from '../components/JobRegions';
import { formatDuration, formatFrequency, formatTime } from '../lib/format';
import { describeFinished, jobChartTable, type FrameSample } from '../lib/finished';
import { jobSource } from '../lib/jobdata';
import { partOfJob, planParts } from '../lib/parts';
import { streamingFeed, type JobFeed, type JobSnapshot } from '../lib/live';
import { actionsFor, describeEvent, isLive, PHASE_LABEL, progressOf, STEP_LABEL, STEPS } from '../lib/progress';
import { useTitle } from '../lib/title';
import { NotFound } from './NotFound';

/** The job's feed: its event stream, or polling every second when the stream fails. */
export function feedFor(id: number): JobFeed {
  return streamingFeed(jobSource(id), 1000, (s) => isLive(s.job.state));
}

/** The frame counters read since the page opened (the API keeps no history of them). */
const FRAME_SAMPLES = 3600;

export function JobPage({ id }: { id: string }) {
  const jobId = Number(id);
  const [snap, setSnap] = useState<JobSnapshot | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [frames, setFrames] = useState<FrameSample[]>([]);
  const [actionError, setActionError] = useState<Error>();
  const [restart, setRestart] = useState(0);
  useTitle(snap ? `Job #${snap.job.id} ${snap.job.name}` : `Job #${id}`);

  useEffect(() => {
    if (!Number.isInteger(jobId) || jobId < 1) return;
    setError(null);
    const stop = feedFor(jobId).subscribe(
      (s) => {
        setSnap(s);
        setError(null);
        if (s.frames)
          setFrames((h) => [...h.slice(1 - FRAME_SAMPLES), { t: s.at / 1000, sent: s.frames?.sent ?? null, fragments: s.frames?.fragments || null }]);
      },
      (e) => setError(e as Error),
    );
    return stop;
  }, [jobId, restart]);

  // The job chart: devices finished from the whole event log (since the job began), frames sent
  // as read since the page opened; drawn again when either changes, and at each snapshot while
  // the job can change, so the lines reach the present.
  const fin = snap?.finished;
  const live = snap ? isLive(snap.job.state) : false;
  const chartData = useMemo(() => {
    const start = snap?.job.started_at ?? snap?.job.created_at;
    const end = snap?.job.finished_at;
    const until = live ? (snap?.at ?? Date.now()) / 1000 : end ? Date.parse(end) / 1000 : null;
    const counts = !live && snap ? { done: snap.counts.done ?? 0, failed: snap.counts.failed ?? 0 } : undefined;
    const points = fin ? fin.points(start ? Date.parse(start) / 1000 : null, until, counts) : { t: [], done: [], failed: [] };
    return jobChartTable(points, frames);
  }, [fin, fin?.version, frames, live ? snap?.at : 0, snap?.counts]);

  if (!Number.isInteger(jobId) || jobId < 1 || (error instanceof ApiError && error.status === 404 && !snap))
    return <NotFound what={`There is no job #${id} for your tenant.`} />;
  if (!snap)
    return (
      <section>
        <h1>Job #{id}</h1>
        {error ? <ErrorBox error={error} /> : <p aria-live="polite">Loading…</p>}
      </section>
    );

  const { job, counts, events } = snap;
  const progress = progressOf(counts, snap.total);
  const phase = snap.phase;
  const actions = actionsFor(job.state);
  const plan = job.plan;
  const multiRegion = (job.regions?.length ?? 0) > 0;

  async function act(action: 'cancel' | 'pause' | 'resume') {
    if (action === 'cancel' && !confirm(`Cancel job #${job.id}?`)) return;
    setActionError(undefined);
    const path = `/api/v1/jobs/{id}/${action}` as '/api/v1/jobs/{id}/cancel';
    const r = await api.POST(path, { params: { path: { id: jobId } } });
    if (!r.response.ok) setActionError(apiError(r.response.status, r.error));
    setRestart((n) => n + 1);
  }

  return (
    <section>
      <div class="page-head">
        <h1>
          Job #{job.id} {job.name}
        </h1>
        <div class="actions" role="group" aria-label="Job actions">
          {actions.pause && (
            <button type="button" onClick={() => act('pause')}>
              Pause
            </button>
          )}
          {actions.resume && (
            <button type="button" onClick={() => act('resume')}>
              Resume
            </button>
          )}
          {actions.cancel && (
            <button type="button" class="danger" onClick={() => act('cancel')}>
              Cancel
            </button>
          )}
        </div>
      </div>
      <ParentLink job={job} />
      <ErrorBox error={actionError ?? error ?? undefined} />
      <div class="card status" aria-live="polite">
        <p>
          State <StateBadge state={job.state} /> <span data-testid="job-state" class="sr-only">{job.state}</span>
          {phase && isLive(job.state) && <> · phase <strong data-testid="job-phase">{PHASE_LABEL[phase] ?? phase}</strong></>}
          {partOfJob(job) && (
            <>
              {' · '}
              <strong data-testid="job-part">{partOfJob(job)}</strong>
            </>
          )}
          {isLive(job.state) && (
            <span class="live" data-testid="live-mode" data-transport={snap.transport}>
              {snap.transport === 'stream' ? ' · live' : ' · refreshed every second'}
            </span>
          )}
        </p>
        {job.error && <p class="error">{job.error}</p>}
        <ProgressBar value={progress.percent} label="Devices finished" />
        <p>
          {progress.done} done, {progress.failed} failed of {progress.total} device(s)
        </p>
      </div>

      <JobRegions job={job} />

      <h2>Devices per step</h2>
      <ul class="steps">
        {STEPS.filter((s) => counts[s] > 0 || s === 'done' || s === 'failed').map((s) => (
          <li key={s} class={`step step-${s}`}>
            <span class="step-count">{counts[s]}</span> {STEP_LABEL[s]}
          </li>
        ))}
      </ul>

      {snap.frames && (
        <p data-testid="frames">
          {snap.frames.sent} frame(s) sent for {snap.frames.fragments} fragment(s)
          {snap.frames.resent ? `, ${snap.frames.resent} sent again after a gateway refused them` : ''}
        </p>
      )}
      <TimeChart
        title="Frames sent (since this page opened) and devices done and failed over the job"
        data={chartData}
        series={[
          { label: 'frames sent', stroke: '#0b57d0', scale: 'frames', spanGaps: true },
          { label: 'fragments', stroke: '#7a7a85', scale: 'frames', spanGaps: true },
          { label: 'devices done', stroke: '#1b7f3b', scale: 'devices', stepped: true },
          { label: 'devices failed', stroke: '#b3261e', scale: 'devices', stepped: true },
        ]}
        tops={{ devices: snap.total }}
      />
      <p class="hint" data-testid="finished-over-time">
        {describeFinished(fin)}
      </p>

      {plan && (
        <details class="card">
          <summary>Plan and parameters</summary>
          <dl class="facts">
            {!multiRegion && (
              <>
                <dt>Fragments</dt>
                <dd>
                  {plan.fragments} × {plan.fragment_size} B, {plan.parity_frames} parity
                </dd>
              </>
            )}
            {planParts(plan) && (
              <>
                <dt>Parts</dt>
                <dd>
                  {planParts(plan)?.fragments}; parity {planParts(plan)?.parity}
                </dd>
              </>
            )}
            <dt>Airtime</dt>
            <dd>{formatDuration(plan.total_airtime_s)}</dd>
            <dt>Estimate</dt>
            <dd>{formatDuration(plan.estimated_duration_s)}</dd>
            <dt>Radio</dt>
            <dd>
              {`${(multiRegion ? (job.regions ?? []) : [job]).map((r) => `${r.region} DR${r.data_rate} ${formatFrequency(r.frequency_hz)}`).join(', ')} class ${job.multicast_class}`}
            </dd>
            <dt>Unicast</dt>
            <dd>
              {job.unicast_attempts} × {job.unicast_timeout_s} s
            </dd>
            <dt>Started / finished</dt>
            <dd>
              {formatTime(job.started_at)} / {formatTime(job.finished_at)}
            </dd>
          </dl>
        </details>
      )}

      <JobDevices jobId={jobId} parts={job.parts ?? 1} regions={multiRegion} counts={counts} total={snap.total} version={`${job.state}:${STEPS.map((k) => counts[k]).join(',')}:${events.length ? events[events.length - 1].id : 0}`} />

      <h2>Event log</h2>
      <ol class="events" aria-label="Event log, newest first" tabIndex={0}>
        {[...events].reverse().map((e) => (
          <li key={e.id}>
            <time>{formatTime(e.created_at)}</time> {describeEvent(e)}
          </li>
        ))}
      </ol>
    </section>
  );
}
