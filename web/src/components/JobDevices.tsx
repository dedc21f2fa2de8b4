// A job's devices, a page at a time (filtered by step on the server): a 10,000-device job's
// page never reads them all. The page is read again when the job's counts change, at most once
// a second.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { JobDevice } from '../api/client';
import { ErrorBox } from './Async';
import { formatTime } from '../lib/format';
import { loadDevicePage } from '../lib/jobdata';
import { describeAnswer, describeFragments, STEP_LABEL, STEPS, type StepCounts } from '../lib/progress';

export const DEVICE_PAGE = 50;

interface Props {
  jobId: number;
  /** The job's parts: a Part column when more than one. */
  parts: number;
  /** A job across regions: a Region column (its devices are its regions' jobs'). */
  regions?: boolean;
  counts: StepCounts;
  total: number;
  version: string;
}

export function JobDevices({ jobId, parts, regions, counts, total, version }: Props) {
  const [step, setStep] = useState('');
  const [offset, setOffset] = useState(0);
  const [rows, setRows] = useState<JobDevice[] | null>(null);
  const [error, setError] = useState<Error>();
  const last = useRef({ at: 0, timer: 0 as unknown as ReturnType<typeof setTimeout> | 0 });

  useEffect(() => {
    let live = true;
    const read = () => {
      last.current.at = Date.now();
      loadDevicePage(jobId, step, offset, DEVICE_PAGE).then(
        (p) => live && (setRows(p.items), setError(undefined)),
        (e: Error) => live && setError(e),
      );
    };
    const wait = last.current.at + 1000 - Date.now();
    if (wait <= 0) read();
    else last.current.timer = setTimeout(read, wait);
    return () => {
      live = false;
      if (last.current.timer) clearTimeout(last.current.timer);
    };
  }, [jobId, step, offset, version]);

  const of = step ? (counts[step] ?? 0) : total;
  const shown = rows ?? [];
  const choose = (s: string) => {
    setStep(s);
    setOffset(0);
    last.current.at = 0; /* a choice is read at once */
  };
  const go = (o: number) => {
    setOffset(o);
    last.current.at = 0;
  };

  return (
    <>
      <h2>Devices</h2>
      <div class="toolbar">
        <label for="step-filter">Step</label>
        <select id="step-filter" value={step} onChange={(e) => choose((e.target as HTMLSelectElement).value)}>
          <option value="">any ({total})</option>
          {STEPS.map((s) => (
            <option key={s} value={s}>
              {STEP_LABEL[s]} ({counts[s] ?? 0})
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={error} />
      <div class="table-wrap" role="region" aria-label="The job's devices" tabIndex={0}>
        <table class="job-devices">
          <thead>
            <tr>
              <th scope="col">DevEUI</th>
              {regions && <th scope="col">Region</th>}
              <th scope="col">Step</th>
              {parts > 1 && <th scope="col">Part</th>}
              <th scope="col">Attempts</th>
              <th scope="col">Missing fragments</th>
              <th scope="col">Failure reason</th>
              <th scope="col">Last answer</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <tr key={d.dev_eui} data-step={d.step}>
                <td>
                  <a href={`/devices/${d.dev_eui}`}>
                    <code>{d.dev_eui}</code>
                  </a>
                </td>
                {regions && <td class="region">{d.region}</td>}
                <td>{STEP_LABEL[d.step ?? ''] ?? d.step}</td>
                {parts > 1 && <td class="part">{d.part ? `${d.part} of ${parts}` : ''}</td>}
                <td>{d.attempts}</td>
                <td class="missing">{describeFragments(d)}</td>
                <td class="reason">{d.failure_reason ?? ''}</td>
                <td>
                  <span class="answer" title={d.last_answer ? JSON.stringify(d.last_answer) : undefined}>
                    {describeAnswer(d.last_answer)}
                  </span>
                </td>
                <td>{formatTime(d.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Device pages">
        <button type="button" disabled={offset === 0} onClick={() => go(Math.max(0, offset - DEVICE_PAGE))}>
          Previous
        </button>
        <span data-testid="device-range">
          {of === 0 ? 'none' : `${Math.min(offset + 1, of)}–${Math.min(offset + shown.length, of)} of ${of}`}
        </span>
        <button type="button" disabled={offset + DEVICE_PAGE >= of} onClick={() => go(offset + DEVICE_PAGE)}>
          Next
        </button>
      </nav>
    </>
  );
}
