// Devices from a CSV file (pure; unit-tested): papaparse reads the file, each row becomes the
// body of POST /api/v1/devices, and a row that cannot become one is refused here with its line
// and the reason. Columns (a header row, any order, case-insensitive): dev_eui,
// application_id, lorawan_version, class, region, gen_app_key (LoRaWAN 1.0.x) or app_key (1.1),
// and optionally stack, max_frags, ts003, ts004, ts005. The API checks everything again.
import Papa from 'papaparse';
import type { Schemas } from '../api/client';

export type DeviceRequest = Schemas['DeviceRequest'];

export interface ImportRow {
  /** The line of the file (the header is line 1). */
  line: number;
  devEui: string;
  body?: DeviceRequest;
  error?: string;
}

export const CSV_COLUMNS = ['dev_eui', 'application_id', 'lorawan_version', 'class', 'region', 'gen_app_key', 'app_key', 'stack', 'max_frags', 'ts003', 'ts004', 'ts005'];
const REQUIRED = ['dev_eui', 'application_id', 'lorawan_version', 'class', 'region'];

/** The file's rows, or an error about the file as a whole (no header, a missing column). */
export function parseDeviceCsv(text: string): { rows: ImportRow[]; error?: string } {
  const r = Papa.parse<Record<string, string>>(text.replace(/^\uFEFF/, ''), {
    header: true,
    skipEmptyLines: 'greedy',
    transformHeader: (h) => h.trim().toLowerCase(),
    transform: (v) => v.trim(),
  });
  const cols = r.meta.fields ?? [];
  const missing = REQUIRED.filter((c) => !cols.includes(c));
  if (missing.length) return { rows: [], error: `the header lacks ${missing.join(', ')}` };
  const unknown = cols.filter((c) => c && !CSV_COLUMNS.includes(c));
  if (unknown.length) return { rows: [], error: `unknown column(s): ${unknown.join(', ')}` };
  const rows = r.data.map((rec, i) => rowOf(rec, i + 2));
  for (const e of r.errors) {
    const row = rows.find((x) => x.line === (e.row ?? -1) + 2);
    if (row && !row.error) {
      row.error = e.message;
      delete row.body;
    }
  }
  return { rows };
}

function rowOf(rec: Record<string, string>, line: number): ImportRow {
  const devEui = (rec.dev_eui ?? '').toLowerCase();
  const fail = (error: string): ImportRow => ({ line, devEui, error });
  if (!/^[0-9a-f]{16}$/.test(devEui)) return fail('dev_eui must be 16 hexadecimal digits');
  if (!rec.gen_app_key && !rec.app_key) return fail('a key is needed: gen_app_key (1.0.x) or app_key (1.1)');
  const body: Record<string, unknown> = {
    dev_eui: devEui,
    application_id: rec.application_id,
    lorawan_version: rec.lorawan_version,
    class: (rec.class ?? '').toUpperCase(),
    region: (rec.region ?? '').toUpperCase(),
  };
  if (rec.gen_app_key) body.gen_app_key = rec.gen_app_key;
  if (rec.app_key) body.app_key = rec.app_key;
  if (rec.stack) body.stack = rec.stack;
  if (rec.max_frags) {
    const n = Number(rec.max_frags);
    if (!Number.isInteger(n)) return fail('max_frags must be a whole number');
    body.max_frags = n;
  }
  const packages: Record<string, number> = {};
  for (const p of ['ts003', 'ts004', 'ts005']) {
    if (!rec[p]) continue;
    const n = Number(rec[p]);
    if (!Number.isInteger(n)) return fail(`${p} must be 0, 1 or 2`);
    packages[p] = n;
  }
  if (Object.keys(packages).length) body.packages = packages;
  return { line, devEui, body: body as unknown as DeviceRequest };
}

/** The outcome of one row, for the report. */
export interface ImportResult {
  line: number;
  devEui: string;
  ok: boolean;
  message: string;
}

/**
 * Sends each row (send: POST one device; it throws an ApiError-like {message, field?} when
 * refused), `parallel` at a time, in the file's order in the report. Rows refused here are
 * reported without a request.
 */
export async function importRows(
  rows: ImportRow[],
  send: (body: DeviceRequest) => Promise<void>,
  parallel = 4,
  progress: (done: number) => void = () => {},
): Promise<ImportResult[]> {
  const out: ImportResult[] = new Array(rows.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= rows.length) return;
      const r = rows[i];
      if (!r.body) out[i] = { line: r.line, devEui: r.devEui, ok: false, message: r.error ?? 'refused' };
      else {
        try {
          await send(r.body);
          out[i] = { line: r.line, devEui: r.devEui, ok: true, message: 'added' };
        } catch (e) {
          const err = e as { message?: string; field?: string };
          out[i] = { line: r.line, devEui: r.devEui, ok: false, message: `${err.field ? err.field + ': ' : ''}${err.message ?? String(e)}` };
        }
      }
      progress(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  return out;
}
