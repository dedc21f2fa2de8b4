import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, apiError, ApiError, must, type Device, type Firmware, type Plan } from '../api/client';
import { ErrorBox, useAsync } from '../components/Async';
import { Field, described } from '../components/Field';
import { buildRequest, defaultValues, fieldOf, type FieldErrors, type FieldName, type JobFormValues, type RegionRow } from '../lib/jobform';
import { DevicePicker } from '../components/DevicePicker';
import { PlanPanel, type RegionPlan } from '../components/PlanPanel';
import { nextRow, RegionRows } from '../components/RegionRows';
import { formatBytes, formatFrequency } from '../lib/format';
import { apiWarnings, planWarnings } from '../lib/plan';
import { uploadFirmware } from '../lib/upload';
import { listFirmware } from './Firmware';
import { useTitle } from '../lib/title';
import { drLabel, forRegion, type Region } from '../lib/regions';

async function listRegions(): Promise<Region[]> {
  const r = await must(api.GET('/api/v1/regions'));
  return r.items;
}

async function allDevices(): Promise<Device[]> {
  const out: Device[] = [];
  for (let off = 0; off < 20000; off += 500) {
    const r = await must(api.GET('/api/v1/devices', { params: { query: { limit: 500, offset: off } } }));
    const items = (r as { items?: Device[] }).items ?? [];
    out.push(...items);
    if (items.length < 500) break;
  }
  return out;
}

const inputValue = (e: Event) => (e.target as HTMLInputElement).value;

export function JobNew() {
  useTitle('New job');
  const { route, query } = useLocation();
  // From a device's page: the form opens for that device, in its region.
  const [v, setV] = useState<JobFormValues>(() => ({
    ...defaultValues(),
    ...(query.device && /^[0-9a-fA-F]{16}$/.test(query.device) ? { devices: [query.device.toLowerCase()] } : {}),
    ...(query.region ? { region: query.region } : {}),
  }));
  const [file, setFile] = useState<File | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [plan, setPlan] = useState<Plan | null>(null);
  const [planRegions, setPlanRegions] = useState<RegionPlan[] | undefined>();
  const [planApiWarnings, setPlanApiWarnings] = useState<string[]>([]);
  const [formError, setFormError] = useState<Error>();
  const [busy, setBusy] = useState<'plan' | 'create' | null>(null);
  const [upload, setUpload] = useState<number | null>(null);
  const firmware = useAsync(listFirmware, []);
  const devices = useAsync(allDevices, []);
  const regions = useAsync(listRegions, []);
  const region = regions.data?.find((r) => r.name === v.region.toUpperCase());

  /** Another region: keep the data rate and frequency it has, else take its defaults. */
  function setRegion(name: string) {
    const r = regions.data?.find((x) => x.name === name);
    setV((old) => ({ ...old, region: name, ...(r ? forRegion(r, old.dataRate, old.frequencyHz) : {}) }));
    setPlan(null);
  }

  /** One job across regions: the first rows are the region chosen so far and the next one. */
  function setMultiRegion(on: boolean) {
    setV((old) => {
      if (!on || old.regions.length) return { ...old, multiRegion: on };
      const first: RegionRow = { region: old.region, dataRate: old.dataRate, frequencyHz: old.frequencyHz };
      return { ...old, multiRegion: true, regions: [first, nextRow([first], regions.data)] };
    });
    setPlan(null);
  }

  /** A field changed: the plan no longer stands for the form. */
  function set<K extends keyof JobFormValues>(k: K, val: JobFormValues[K]) {
    setV((old) => ({ ...old, [k]: val }));
    setPlan(null);
  }

  /** Shows the API's refusal beside its field (or above the form). */
  function refused(err: unknown) {
    const f = err instanceof ApiError ? fieldOf(err.field) : null;
    if (f) {
      setErrors({ [f]: (err as Error).message });
      setFormError(undefined);
      setTimeout(() => document.getElementById(fieldId(f))?.focus(), 0);
    } else setFormError(err as Error);
  }

  function check(forPlan: boolean) {
    const r = buildRequest(v, forPlan);
    setErrors(r.errors);
    setFormError(undefined);
    const first = Object.keys(r.errors)[0] as FieldName | undefined;
    if (first) document.getElementById(fieldId(first))?.focus();
    return r.body;
  }

  async function showPlan(e?: Event) {
    e?.preventDefault();
    const body = check(true);
    if (!body) return;
    setBusy('plan');
    try {
      const r = await api.POST('/api/v1/jobs:plan', { body });
      if (!r.response.ok) throw apiError(r.response.status, r.error);
      if (!r.data?.plan) throw new Error("the API answered no plan");
      setPlan(r.data.plan);
      setPlanRegions(r.data.regions as RegionPlan[] | undefined);
      setPlanApiWarnings(apiWarnings(r.data.warnings));
      setTimeout(() => document.getElementById('plan')?.focus(), 0);
    } catch (err) {
      refused(err);
    } finally {
      setBusy(null);
    }
  }

  async function create() {
    let body = check(false);
    if (!body) return;
    setBusy('create');
    try {
      let fwId = v.firmwareId;
      if (!fwId && file) {
        setUpload(0);
        const fw = await uploadFirmware(file, file.name, setUpload);
        fwId = String(fw.id);
        setV((old) => ({ ...old, firmwareId: fwId, fileSize: 0 }));
        firmware.reload();
        body = buildRequest({ ...v, firmwareId: fwId }, false).body;
        if (!body) return;
      }
      const r = await api.POST('/api/v1/jobs', { body });
      if (!r.response.ok) throw apiError(r.response.status, r.error);
      route(`/jobs/${(r.data as { id: number }).id}`);
    } catch (err) {
      refused(err);
    } finally {
      setBusy(null);
      setUpload(null);
    }
  }

  const fw: Firmware | undefined = firmware.data?.find((f) => String(f.id) === v.firmwareId);
  const ctx = { devices: v.devices.length, multicastClass: v.multicastClass, redundancy: Number(v.redundancy) };
  const warnings = !plan
    ? []
    : planRegions
      ? [...planApiWarnings, ...planRegions.flatMap((r) => (r.plan ? planWarnings(r.plan, { ...ctx, devices: r.device_count ?? 0 }).map((w) => `${r.region}: ${w}`) : []))]
      : [...planApiWarnings, ...planWarnings(plan, ctx)];
  const errorList = Object.entries(errors) as [FieldName, string][];

  return (
    <section>
      <h1>New firmware update job</h1>
      {errorList.length > 0 && (
        <div class="error-box" role="alert">
          <p>Please correct:</p>
          <ul>
            {errorList.map(([f, msg]) => (
              <li key={f}>
                <a href={`#${fieldId(f)}`}>
                  {LABELS[f]}: {msg}
                </a>
              </li>
            ))}
          </ul>
        </div>
      )}
      <ErrorBox error={formError} />
      <form class="job-form" onSubmit={showPlan} novalidate>
        <fieldset>
          <legend>Job</legend>
          <Field id={fieldId('name')} label={LABELS.name} error={errors.name}>
            <input {...described(fieldId('name'), errors.name)} value={v.name} maxLength={200} onInput={(e) => set('name', inputValue(e))} />
          </Field>
        </fieldset>

        <fieldset>
          <legend>Firmware</legend>
          <Field id={fieldId('firmware_id')} label={LABELS.firmware_id} error={errors.firmware_id}>
            <select
              {...described(fieldId('firmware_id'), errors.firmware_id)}
              value={v.firmwareId}
              onChange={(e) => set('firmwareId', inputValue(e))}
            >
              <option value="">— a new file (below) —</option>
              {(firmware.data ?? []).map((f) => (
                <option key={f.id} value={String(f.id)}>
                  #{f.id} {f.name} ({formatBytes(f.size)})
                </option>
              ))}
            </select>
          </Field>
          {!v.firmwareId && (
            <Field id={fieldId('file')} label={LABELS.file} hint="Uploaded when the job is created" error={errors.file}>
              <input
                {...described(fieldId('file'), errors.file, true)}
                type="file"
                onChange={(e) => {
                  const f = (e.target as HTMLInputElement).files?.[0] ?? null;
                  setFile(f);
                  set('fileSize', f ? f.size : 0);
                }}
              />
            </Field>
          )}
          {fw && <p class="hint">SHA-256 <code class="hash">{fw.sha256}</code></p>}
        </fieldset>

        <fieldset>
          <legend>Redundancy</legend>
          <div class="radios" role="radiogroup" aria-label="Redundancy given as">
            <label>
              <input type="radio" name="red-mode" checked={v.redundancyMode === 'percent'} onChange={() => set('redundancyMode', 'percent')} /> a percentage of the fragments
            </label>
            <label>
              <input type="radio" name="red-mode" checked={v.redundancyMode === 'frames'} onChange={() => set('redundancyMode', 'frames')} /> a number of frames
            </label>
          </div>
          {v.redundancyMode === 'percent' ? (
            <Field id={fieldId('redundancy_percent')} label={LABELS.redundancy_percent} error={errors.redundancy_percent}>
              <input {...described(fieldId('redundancy_percent'), errors.redundancy_percent)} inputMode="numeric" value={v.redundancy} onInput={(e) => set('redundancy', inputValue(e))} />
            </Field>
          ) : (
              <Field id={fieldId('redundancy_frames')} label={LABELS.redundancy_frames} error={errors.redundancy_frames}>
                <input {...described(fieldId('redundancy_frames'), errors.redundancy_frames)} inputMode="numeric" value={v.redundancy} onInput={(e) => set('redundancy', inputValue(e))} />
              </Field>
          )}
        </fieldset>

        <fieldset>
          <legend>Unicast (setting devices up)</legend>
          <div class="row">
            <Field id={fieldId('unicast_timeout_s')} label={LABELS.unicast_timeout_s} error={errors.unicast_timeout_s}>
              <input {...described(fieldId('unicast_timeout_s'), errors.unicast_timeout_s)} inputMode="numeric" value={v.unicastTimeout} onInput={(e) => set('unicastTimeout', inputValue(e))} />
            </Field>
            <Field id={fieldId('unicast_attempts')} label={LABELS.unicast_attempts} error={errors.unicast_attempts}>
              <input {...described(fieldId('unicast_attempts'), errors.unicast_attempts)} inputMode="numeric" value={v.unicastAttempts} onInput={(e) => set('unicastAttempts', inputValue(e))} />
            </Field>
          </div>
        </fieldset>

        <fieldset>
          <legend>Multicast</legend>
          <label class="check">
            <input type="checkbox" checked={v.multiRegion} onChange={(e) => setMultiRegion((e.target as HTMLInputElement).checked)} /> One job across regions (a multicast session per region)
          </label>
          {v.multiRegion ? (
            <RegionRows rows={v.regions} regions={regions.data} error={errors.regions} onChange={(rows) => set('regions', rows)} />
          ) : (
          <div class="row">
            <Field id={fieldId('region')} label={LABELS.region} error={errors.region ?? (regions.error ? `the regions could not be read: ${regions.error.message}` : undefined)}>
              <select {...described(fieldId('region'), errors.region)} value={v.region} onChange={(e) => setRegion(inputValue(e))}>
                {!region && <option value={v.region}>{v.region}</option>}
                {(regions.data ?? []).map((r) => (
                  <option key={r.name} value={r.name}>
                    {r.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field id={fieldId('data_rate')} label={LABELS.data_rate} error={errors.data_rate}>
              <select {...described(fieldId('data_rate'), errors.data_rate)} value={v.dataRate} onChange={(e) => set('dataRate', inputValue(e))}>
                {region
                  ? region.downlink_data_rates.map((d) => (
                      <option key={d.dr} value={String(d.dr)}>
                        {drLabel(d)}
                      </option>
                    ))
                  : Array.from({ length: 16 }, (_, i) => (
                      <option key={i} value={String(i)}>
                        DR{i}
                      </option>
                    ))}
              </select>
            </Field>
            <Field
              id={fieldId('frequency_hz')}
              label={LABELS.frequency_hz}
              hint={`${formatFrequency(Number(v.frequencyHz))}${region ? ` · ${region.name}: ${formatFrequency(region.min_hz ?? 0)} to ${formatFrequency(region.max_hz ?? 0)}${region.frequency_grid ? `, on its ${region.frequency_grid.channels} downlink channels` : ''}` : ''}`}
              error={errors.frequency_hz}
            >
              <input {...described(fieldId('frequency_hz'), errors.frequency_hz, true)} inputMode="numeric" list="region-frequencies" value={v.frequencyHz} onInput={(e) => set('frequencyHz', inputValue(e))} />
              <datalist id="region-frequencies">
                {(region?.frequencies ?? []).map((f) => (
                  <option key={f} value={String(f)}>
                    {formatFrequency(f)}
                  </option>
                ))}
              </datalist>
            </Field>
          </div>
          )}
          <div class="radios" role="radiogroup" aria-label={LABELS.multicast_class}>
            <label>
              <input type="radio" name="mc-class" checked={v.multicastClass === 'C'} onChange={() => set('multicastClass', 'C')} /> Class C
            </label>
            <label>
              <input type="radio" name="mc-class" checked={v.multicastClass === 'B'} onChange={() => set('multicastClass', 'B')} /> Class B
            </label>
          </div>
          <div class="row">
            {v.multicastClass === 'B' && (
              <Field id={fieldId('ping_slot_periodicity')} label={LABELS.ping_slot_periodicity} hint="A ping slot every 2^p seconds" error={errors.ping_slot_periodicity}>
                <select {...described(fieldId('ping_slot_periodicity'), errors.ping_slot_periodicity, true)} value={v.pingSlotPeriodicity} onChange={(e) => set('pingSlotPeriodicity', inputValue(e))}>
                  {Array.from({ length: 8 }, (_, i) => (
                    <option key={i} value={String(i)}>
                      {i} (every {2 ** i} s)
                    </option>
                  ))}
                </select>
              </Field>
            )}
            <Field id={fieldId('multicast_timeout_s')} label={LABELS.multicast_timeout_s} hint="Empty: what the frames need" error={errors.multicast_timeout_s}>
              <input {...described(fieldId('multicast_timeout_s'), errors.multicast_timeout_s, true)} inputMode="numeric" value={v.multicastTimeout} onInput={(e) => set('multicastTimeout', inputValue(e))} />
            </Field>
          </div>
        </fieldset>

        <fieldset>
          <legend>Version check and reboot (TS006)</legend>
          <Field id={fieldId('target_version')} label={LABELS.target_version} hint="The image's FW_version as DevVersionAns reports it (decimal, or hex as 0x…). Devices already on it end done without the image. Empty: no version check" error={errors.target_version}>
            <input {...described(fieldId('target_version'), errors.target_version, true)} value={v.targetVersion} onInput={(e) => set('targetVersion', inputValue(e))} />
          </Field>
          <div class="radios" role="radiogroup" aria-label="Reboot after the update">
            <label>
              <input type="radio" name="reboot-mode" checked={v.rebootMode === 'none'} onChange={() => set('rebootMode', 'none')} /> no reboot ordered
            </label>
            <label>
              <input type="radio" name="reboot-mode" checked={v.rebootMode === 'in'} onChange={() => set('rebootMode', 'in')} /> after a countdown
            </label>
            <label>
              <input type="radio" name="reboot-mode" checked={v.rebootMode === 'at'} onChange={() => set('rebootMode', 'at')} /> at a time
            </label>
          </div>
          {v.rebootMode === 'in' && (
            <Field id={fieldId('reboot_in_s')} label={LABELS.reboot_in_s} hint="Sent to each device after its clean-up (DevRebootCountdownReq); needs a target version" error={errors.reboot_in_s}>
              <input {...described(fieldId('reboot_in_s'), errors.reboot_in_s, true)} inputMode="numeric" value={v.rebootIn} onInput={(e) => set('rebootIn', inputValue(e))} />
            </Field>
          )}
          {v.rebootMode === 'at' && (
            <Field id={fieldId('reboot_at')} label={LABELS.reboot_at} hint="In this browser's time zone (DevRebootTimeReq: the devices' clocks must be synchronised); needs a target version" error={errors.reboot_at}>
              <input {...described(fieldId('reboot_at'), errors.reboot_at, true)} type="datetime-local" value={v.rebootAt} onInput={(e) => set('rebootAt', inputValue(e))} />
            </Field>
          )}
        </fieldset>

        <DevicePicker
          devices={devices.data ?? []}
          loadError={devices.error}
          chosen={v.devices}
          onChange={(d) => set('devices', d)}
          error={errors.devices}
          onPasteError={(msg) => setErrors(msg ? { devices: msg } : {})}
          id={fieldId('devices')}
        />

        <div class="actions">
          <button type="submit" disabled={busy !== null}>
            {busy === 'plan' ? 'Planning…' : 'Show the plan'}
          </button>
        </div>
      </form>

      {plan && (
        <PlanPanel plan={plan} regions={planRegions} warnings={warnings} upload={upload} busy={busy} deviceCount={v.devices.length} onCreate={create} />
      )}
    </section>
  );
}

export const LABELS: Record<FieldName, string> = {
  name: 'Name',
  firmware_id: 'Uploaded image',
  file: 'Firmware file',
  redundancy_frames: 'Redundant frames',
  redundancy_percent: 'Redundancy (%)',
  unicast_timeout_s: 'Unicast timeout (s)',
  unicast_attempts: 'Unicast attempts',
  region: 'Region',
  data_rate: 'Data rate',
  frequency_hz: 'Frequency (Hz)',
  multicast_class: 'Multicast group type',
  ping_slot_periodicity: 'Ping-slot periodicity',
  multicast_timeout_s: 'Multicast timeout (s)',
  devices: 'Devices',
  target_version: 'Target firmware version',
  reboot_in_s: 'Reboot countdown (s)',
  reboot_at: 'Reboot at',
  regions: 'Regions',
};

export function fieldId(f: FieldName): string {
  return 'job-' + f.replace(/_/g, '-');
}
