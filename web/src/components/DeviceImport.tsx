// Many devices from a CSV file, with a report of each row: added, or refused and why (by this
// page before any request, or by the API naming the field). Keys are sent and never shown.
import { useState } from 'preact/hooks';
import { api, apiError } from '../api/client';
import { CSV_COLUMNS, importRows, parseDeviceCsv, type ImportResult } from '../lib/csvimport';
import { ErrorBox } from './Async';

export function DeviceImport({ onDone }: { onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<Error>();
  const [progress, setProgress] = useState<{ done: number; of: number } | null>(null);
  const [report, setReport] = useState<ImportResult[] | null>(null);

  async function run(e: Event) {
    e.preventDefault();
    setError(undefined);
    setReport(null);
    if (!file) {
      setError(new Error('choose a CSV file first'));
      return;
    }
    const parsed = parseDeviceCsv(await file.text());
    if (parsed.error) {
      setError(new Error(`${file.name}: ${parsed.error}`));
      return;
    }
    setProgress({ done: 0, of: parsed.rows.length });
    const results = await importRows(
      parsed.rows,
      async (body) => {
        const r = await api.POST('/api/v1/devices', { body });
        if (!r.response.ok) throw apiError(r.response.status, r.error);
      },
      4,
      (done) => setProgress({ done, of: parsed.rows.length }),
    );
    setProgress(null);
    setReport(results);
    onDone();
  }

  const added = report?.filter((r) => r.ok).length ?? 0;
  const refused = report?.filter((r) => !r.ok) ?? [];
  return (
    <details class="card">
      <summary>Import devices from a CSV file</summary>
      <p class="hint">
        A header row naming the columns: {CSV_COLUMNS.slice(0, 7).join(', ')} (the key that fits the LoRaWAN version), and
        optionally stack, max_frags, ts003, ts004, ts005.
      </p>
      <form onSubmit={run}>
        <label for="csv-file">CSV file</label>
        <input id="csv-file" type="file" accept=".csv,text/csv" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        <button type="submit" disabled={!!progress}>
          Import
        </button>
      </form>
      <ErrorBox error={error} />
      {progress && (
        <p role="status">
          <progress max={progress.of} value={progress.done} aria-label="Rows imported" /> {progress.done} of {progress.of} row(s)
        </p>
      )}
      {report && (
        <div role="status" data-testid="import-report">
          <p>
            <strong>{added}</strong> device(s) added, <strong>{refused.length}</strong> row(s) refused.
          </p>
          {refused.length > 0 && (
            <div class="table-wrap" role="region" aria-label="Refused rows" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Line</th>
                    <th scope="col">DevEUI</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {refused.map((r) => (
                    <tr key={r.line} data-line={r.line}>
                      <td>{r.line}</td>
                      <td>
                        <code>{r.devEui}</code>
                      </td>
                      <td class="reason">{r.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </details>
  );
}
