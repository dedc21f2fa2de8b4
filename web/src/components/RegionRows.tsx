// The regions of a job across regions in the job form: one row per region (its multicast
// session's region, data rate and frequency), rows added and removed. The job's devices are
// chosen once below the form; the API gives each region's job the devices of that region.
import type { Region } from '../lib/regions';
import { drLabel, forRegion } from '../lib/regions';
import { MAX_REGIONS, type RegionRow } from '../lib/jobform';
import { formatFrequency } from '../lib/format';

interface Props {
  rows: RegionRow[];
  /** The server's regions (GET /api/v1/regions), undefined while they load. */
  regions: Region[] | undefined;
  error?: string;
  onChange: (rows: RegionRow[]) => void;
}

/** A row for the first of the server's regions no row has yet, with its class C defaults. */
export function nextRow(rows: RegionRow[], regions: Region[] | undefined): RegionRow {
  const used = new Set(rows.map((r) => r.region.toUpperCase()));
  const r = (regions ?? []).find((x) => !used.has(x.name));
  if (!r) return { region: '', dataRate: '0', frequencyHz: '' };
  return { region: r.name, ...forRegion(r, '', '') };
}

const value = (e: Event) => (e.target as HTMLInputElement).value;

export function RegionRows({ rows, regions, error, onChange }: Props) {
  const set = (i: number, row: RegionRow) => onChange(rows.map((r, k) => (k === i ? row : r)));
  return (
    <div id="job-regions" class="regions" tabIndex={-1} aria-describedby={error ? 'job-regions-error' : undefined}>
      {error && (
        <p id="job-regions-error" class="error">
          {error}
        </p>
      )}
      {rows.map((row, i) => {
        const region = regions?.find((r) => r.name === row.region.toUpperCase());
        const id = `job-regions-${i}`;
        return (
          <div key={i} class="row region-row" role="group" aria-label={`Region ${i + 1}`} data-testid="region-row">
            <div class="field">
              <label for={`${id}-region`}>Region</label>
              <select
                id={`${id}-region`}
                value={row.region}
                onChange={(e) => {
                  const r = regions?.find((x) => x.name === value(e));
                  set(i, { region: value(e), ...(r ? forRegion(r, row.dataRate, row.frequencyHz) : { dataRate: row.dataRate, frequencyHz: row.frequencyHz }) });
                }}
              >
                {!region && <option value={row.region}>{row.region || '—'}</option>}
                {(regions ?? []).map((r) => (
                  <option key={r.name} value={r.name}>
                    {r.name}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for={`${id}-dr`}>Data rate</label>
              <select id={`${id}-dr`} value={row.dataRate} onChange={(e) => set(i, { ...row, dataRate: value(e) })}>
                {region
                  ? region.downlink_data_rates.map((d) => (
                      <option key={d.dr} value={String(d.dr)}>
                        {drLabel(d)}
                      </option>
                    ))
                  : Array.from({ length: 16 }, (_, k) => (
                      <option key={k} value={String(k)}>
                        DR{k}
                      </option>
                    ))}
              </select>
            </div>
            <div class="field">
              <label for={`${id}-freq`}>Frequency (Hz)</label>
              <input id={`${id}-freq`} inputMode="numeric" list={`${id}-freqs`} value={row.frequencyHz} onInput={(e) => set(i, { ...row, frequencyHz: value(e) })} />
              <datalist id={`${id}-freqs`}>
                {(region?.frequencies ?? []).map((f) => (
                  <option key={f} value={String(f)}>
                    {formatFrequency(f)}
                  </option>
                ))}
              </datalist>
            </div>
            <button type="button" class="remove" aria-label={`Remove region ${i + 1}`} disabled={rows.length <= 1} onClick={() => onChange(rows.filter((_, k) => k !== i))}>
              Remove
            </button>
          </div>
        );
      })}
      <button type="button" disabled={rows.length >= MAX_REGIONS} onClick={() => onChange([...rows, nextRow(rows, regions)])}>
        Add a region
      </button>
      <p class="hint">Each region gets its own multicast session on its own gateways; the job's devices are split by their region.</p>
    </div>
  );
}
