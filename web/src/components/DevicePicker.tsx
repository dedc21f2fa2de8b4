// The job form's devices: found by search among the tenant's devices, pasted as DevEUIs, or
// read from a CSV file.
import { useMemo, useState } from 'preact/hooks';
import type { Device } from '../api/client';
import { filterDevices } from '../lib/devices';
import { devEuisOfCsv, parseDevEuis } from '../lib/jobform';
import { ErrorBox } from './Async';
import { Field } from './Field';

/** Devices listed at most for one search. */
const SHOWN = 200;

interface Props {
  id: string;
  devices: Device[];
  loadError?: Error;
  chosen: string[];
  onChange: (devices: string[]) => void;
  error?: string;
  /** A pasted word that is no DevEUI (message), or '' once the paste is clean. */
  onPasteError: (message: string) => void;
}

const value = (e: Event) => (e.target as HTMLInputElement).value;

export function DevicePicker({ id, devices, loadError, chosen, onChange, error, onPasteError }: Props) {
  const [search, setSearch] = useState('');
  const [paste, setPaste] = useState('');
  const matches = useMemo(() => filterDevices(devices, search).slice(0, SHOWN), [devices, search]);
  const add = (euis: string[]) => onChange([...new Set([...chosen, ...euis])]);

  return (
    <fieldset>
      <legend>Devices ({chosen.length} chosen)</legend>
      <Field id="device-search" label="Search the devices" hint="DevEUI, application, class or region">
        <input
          id="device-search"
          aria-describedby="device-search-hint"
          type="search"
          value={search}
          onInput={(e) => setSearch(value(e))}
        />
      </Field>
      <ErrorBox error={loadError} />
      <div class="toolbar">
        <button type="button" onClick={() => add(matches.map((d) => d.dev_eui!))}>
          Choose all {matches.length} shown
        </button>
        <button type="button" onClick={() => onChange([])} disabled={chosen.length === 0}>
          Clear the choice
        </button>
      </div>
      <ul
        class="device-pick"
        id={id}
        tabIndex={0}
        aria-label="Devices found"
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? id + '-error' : undefined}
      >
        {matches.map((d) => (
          <li key={d.dev_eui}>
            <label>
              <input
                type="checkbox"
                checked={chosen.includes(d.dev_eui!)}
                onChange={(e) =>
                  (e.target as HTMLInputElement).checked
                    ? add([d.dev_eui!])
                    : onChange(chosen.filter((x) => x !== d.dev_eui))
                }
              />{' '}
              <code>{d.dev_eui}</code> {d.application_id} · class {d.class} · {d.region}
            </label>
          </li>
        ))}
      </ul>
      {error && (
        <small id={id + '-error'} class="error" role="alert" data-field-error={id}>
          {error}
        </small>
      )}
      <Field id="device-paste" label="Or paste DevEUIs" hint="Separated by commas, spaces or new lines">
        <textarea
          id="device-paste"
          aria-describedby="device-paste-hint"
          rows={2}
          value={paste}
          onInput={(e) => setPaste(value(e))}
        />
      </Field>
      <button
        type="button"
        onClick={() => {
          const { euis, bad } = parseDevEuis(paste);
          add(euis);
          setPaste(bad.join(' '));
          onPasteError(bad.length ? `not a DevEUI: ${bad.join(', ')}` : '');
        }}
      >
        Add the pasted DevEUIs
      </button>
      <Field id="device-csv" label="Or a CSV file of DevEUIs" hint="Its dev_eui column, or every DevEUI in it">
        <input
          id="device-csv"
          aria-describedby="device-csv-hint"
          type="file"
          accept=".csv,.txt,text/csv,text/plain"
          onChange={async (e) => {
            const input = e.target as HTMLInputElement;
            const f = input.files?.[0];
            if (!f) return;
            const { euis, bad } = devEuisOfCsv(await f.text());
            add(euis);
            onPasteError(bad.length ? `${f.name}: not a DevEUI: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}` : '');
            input.value = '';
          }}
        />
      </Field>
    </fieldset>
  );
}
