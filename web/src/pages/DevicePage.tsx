// A device: its details, and the Firmware tab of the seed (the jobs it was in, with its step and
// result in each, and a button that opens the job form for it).
import { useState } from 'preact/hooks';
import { api, ApiError, must, type Schemas } from '../api/client';
import { ErrorBox, StateBadge, useAsync } from '../components/Async';
import { formatTime } from '../lib/format';
import { describeAnswer, STEP_LABEL } from '../lib/progress';
import { useTitle } from '../lib/title';
import { NotFound } from './NotFound';

type DeviceJob = Schemas['DeviceJob'];

const TABS = [
  { id: 'firmware', label: 'Firmware' },
  { id: 'details', label: 'Details' },
] as const;

export function DevicePage({ eui }: { eui: string }) {
  useTitle(`Device ${eui}`);
  const [tab, setTab] = useState<'firmware' | 'details'>('firmware');
  const device = useAsync(() => must(api.GET('/api/v1/devices/{dev_eui}', { params: { path: { dev_eui: eui } } })), [eui]);
  const jobs = useAsync(
    () => must(api.GET('/api/v1/devices/{dev_eui}/jobs', { params: { path: { dev_eui: eui }, query: { limit: 100 } } })),
    [eui],
  );
  if (device.error instanceof ApiError && device.error.status === 404)
    return <NotFound what={`There is no device ${eui} for your tenant.`} />;
  const d = device.data;
  const items: DeviceJob[] = (jobs.data as { items?: DeviceJob[] } | undefined)?.items ?? [];
  const pk = (d?.packages ?? {}) as Record<string, number | null>;
  const v = (n: number | null | undefined) => (n === 1 ? 'v1.0.0' : n === 2 ? 'v2.0.0' : 'unknown');

  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const next = tab === 'firmware' ? 'details' : 'firmware';
    setTab(next);
    setTimeout(() => document.getElementById(`tab-${next}`)?.focus(), 0);
  };

  return (
    <section>
      <div class="page-head">
        <h1>
          Device <code>{eui}</code>
        </h1>
        {d && (
          <div class="actions">
            <a class="button" href={`/jobs/new?device=${d.dev_eui}&region=${encodeURIComponent(d.region ?? '')}`}>
              Create Firmware Update Job
            </a>
          </div>
        )}
      </div>
      <ErrorBox error={device.error ?? jobs.error} />
      <div role="tablist" aria-label="Device" class="tabs" onKeyDown={onKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="panel-firmware" aria-labelledby="tab-firmware" hidden={tab !== 'firmware'}>
        {d && (
          <dl class="facts">
            <dt>Clock sync (TS003)</dt>
            <dd>{v(pk.ts003)}</dd>
            <dt>Fragmentation (TS004)</dt>
            <dd>{v(pk.ts004)}</dd>
            <dt>Multicast setup (TS005)</dt>
            <dd>{v(pk.ts005)}</dd>
            <dt>Stack</dt>
            <dd>
              {d.stack}
              {d.max_frags ? `, at most ${d.max_frags} fragments` : ''}
            </dd>
          </dl>
        )}
        <h2>Firmware update jobs</h2>
        {jobs.data && items.length === 0 && <p>This device has been in no job yet.</p>}
        {items.length > 0 && (
          <div class="table-wrap" role="region" aria-label="The device's jobs" tabIndex={0}>
            <table class="device-jobs">
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">State</th>
                  <th scope="col">Image</th>
                  <th scope="col">Device's step</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Result</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {items.map((j) => (
                  <tr key={j.job_id} data-step={j.step}>
                    <td>
                      <a href={`/jobs/${j.job_id}`}>
                        #{j.job_id} {j.name}
                      </a>
                    </td>
                    <td>
                      <StateBadge state={j.state} />
                    </td>
                    <td>{j.firmware_name ?? '–'}</td>
                    <td>{STEP_LABEL[j.step ?? ''] ?? j.step}</td>
                    <td>{j.attempts}</td>
                    <td class="reason">{j.failure_reason ?? describeAnswer(j.last_answer)}</td>
                    <td>{formatTime(j.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div role="tabpanel" id="panel-details" aria-labelledby="tab-details" hidden={tab !== 'details'}>
        {d && (
          <dl class="facts">
            <dt>Application</dt>
            <dd>{d.application_id}</dd>
            <dt>LoRaWAN</dt>
            <dd>{d.lorawan_version}</dd>
            <dt>Class</dt>
            <dd>{d.class}</dd>
            <dt>Region</dt>
            <dd>{d.region}</dd>
            <dt>Root key</dt>
            <dd>{d.key_kind} (write-only: never shown)</dd>
            <dt>Added</dt>
            <dd>{formatTime(d.created_at)}</dd>
          </dl>
        )}
      </div>
    </section>
  );
}
