// One device added by hand: every field checked as the API checks it, a refusal named beside
// its field (the page's, or the API's naming the field). The key is write-only: a password
// field, cleared once the device is added, never shown again.
import { useState } from 'preact/hooks';
import { api, apiError, must } from '../api/client';
import { ErrorBox, useAsync } from './Async';
import { Field, described } from './Field';
import { API_FIELD, checkDeviceForm, LORAWAN_VERSIONS, type DeviceForm, type DeviceFormErrors } from '../lib/deviceform';

const EMPTY: DeviceForm = { devEui: '', applicationId: '', lorawanVersion: '1.0.3', deviceClass: 'C', region: 'EU868', key: '' };

export function DeviceAdd({ onDone }: { onDone: () => void }) {
  const [f, setF] = useState<DeviceForm>(EMPTY);
  const [errors, setErrors] = useState<DeviceFormErrors>({});
  const [error, setError] = useState<Error>();
  const [added, setAdded] = useState<string>();
  const [busy, setBusy] = useState(false);
  const regions = useAsync(() => must(api.GET('/api/v1/regions')), []);
  const set = (k: keyof DeviceForm) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });

  async function submit(e: Event) {
    e.preventDefault();
    setError(undefined);
    setAdded(undefined);
    const r = checkDeviceForm(f);
    setErrors(r.errors);
    const first = Object.keys(r.errors)[0];
    if (!r.body) {
      document.getElementById(`dev-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const res = await api.POST('/api/v1/devices', { body: r.body });
      if (!res.response.ok) throw apiError(res.response.status, res.error);
      setAdded(`Device ${r.body.dev_eui} added.`);
      setF({ ...EMPTY, applicationId: f.applicationId, lorawanVersion: f.lorawanVersion, deviceClass: f.deviceClass, region: f.region });
      onDone();
    } catch (err) {
      const a = err as { field?: string; message: string };
      const field = a.field ? API_FIELD[a.field] : undefined;
      if (field) {
        setErrors({ [field]: a.message });
        document.getElementById(`dev-${field}`)?.focus();
      } else setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  const field = (k: keyof DeviceForm) => ({ ...described(`dev-${k}`, errors[k]), value: f[k], onInput: set(k), onChange: set(k) });
  const choice = (k: keyof DeviceForm, label: string, values: string[]) => (
    <Field id={`dev-${k}`} label={label} error={errors[k]}>
      <select {...field(k)}>
        {values.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </Field>
  );
  return (
    <details class="card">
      <summary>Add a device</summary>
      <form onSubmit={submit} novalidate aria-label="Add a device">
        <div class="row">
          <Field id="dev-devEui" label="DevEUI" error={errors.devEui}>
            <input {...field('devEui')} autocomplete="off" spellcheck={false} maxLength={16} />
          </Field>
          <Field id="dev-applicationId" label="Application" error={errors.applicationId}>
            <input {...field('applicationId')} maxLength={100} />
          </Field>
        </div>
        <div class="row">
          {choice('lorawanVersion', 'LoRaWAN version', LORAWAN_VERSIONS)}
          {choice('deviceClass', 'Class', ['A', 'B', 'C'])}
          {choice('region', 'Region', (regions.data?.items ?? [{ name: 'EU868' }]).map((r) => r.name))}
        </div>
        <Field id="dev-key" label={f.lorawanVersion === '1.1.0' ? 'AppKey' : 'GenAppKey'} error={errors.key}>
          <input {...field('key')} type="password" autocomplete="off" spellcheck={false} maxLength={32} />
        </Field>
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>
          Add the device
        </button>
        <p role="status">{added}</p>
      </form>
    </details>
  );
}
