// The job form's model (pure; unit-tested): the fields as typed, checked as the API checks them
// (server/openapi.json's JobRequest), turned into the request, and the API's refusals mapped
// back to the field they name.
import Papa from 'papaparse';
import type { JobRequest } from '../api/client';

export type RedundancyMode = 'frames' | 'percent';

export interface JobFormValues {
  name: string;
  /** An uploaded image's id ('' when a file is chosen instead). */
  firmwareId: string;
  /** The size of a chosen file not uploaded yet (0: none). */
  fileSize: number;
  redundancyMode: RedundancyMode;
  redundancy: string;
  unicastTimeout: string;
  unicastAttempts: string;
  region: string;
  dataRate: string;
  frequencyHz: string;
  multicastClass: 'B' | 'C';
  pingSlotPeriodicity: string;
  multicastTimeout: string;
  devices: string[];
  /** TS006 FW_version the devices must end on ('' : no version check); decimal or 0x hex. */
  targetVersion: string;
  /** TS006 reboot after the clean-up: none, after a countdown, or at a time. */
  rebootMode: RebootMode;
  rebootIn: string;
  /** A datetime-local value (the browser's time zone), e.g. 2030-01-31T03:00. */
  rebootAt: string;
  /** One job across regions: regions below instead of region, dataRate and frequencyHz. */
  multiRegion: boolean;
  regions: RegionRow[];
}

/** A region of a job across regions: its session's region, data rate and frequency, as typed. */
export interface RegionRow {
  region: string;
  dataRate: string;
  frequencyHz: string;
}

/** The API takes at most this many regions in one job (JobRequest.regions). */
export const MAX_REGIONS = 8;

export type RebootMode = 'none' | 'in' | 'at';

/** Every form field, by the name the API gives it in a refusal. */
export type FieldName =
  | 'name'
  | 'firmware_id'
  | 'file'
  | 'redundancy_frames'
  | 'redundancy_percent'
  | 'unicast_timeout_s'
  | 'unicast_attempts'
  | 'region'
  | 'data_rate'
  | 'frequency_hz'
  | 'multicast_class'
  | 'ping_slot_periodicity'
  | 'multicast_timeout_s'
  | 'devices'
  | 'target_version'
  | 'reboot_in_s'
  | 'reboot_at'
  | 'regions';

export type FieldErrors = Partial<Record<FieldName, string>>;

export function defaultValues(): JobFormValues {
  return {
    name: '',
    firmwareId: '',
    fileSize: 0,
    redundancyMode: 'percent',
    redundancy: '10',
    unicastTimeout: '60',
    unicastAttempts: '3',
    region: 'EU868',
    dataRate: '5',
    frequencyHz: '869525000',
    multicastClass: 'C',
    pingSlotPeriodicity: '0',
    multicastTimeout: '',
    devices: [],
    targetVersion: '',
    rebootMode: 'none',
    rebootIn: '3600',
    rebootAt: '',
    multiRegion: false,
    regions: [],
  };
}

/** An integer in [min, max] from a text field; a message when it is not. */
function int(text: string, min: number, max: number): { v?: number; err?: string } {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) return { err: 'a whole number is needed' };
  const v = Number(t);
  if (v < min || v > max) return { err: `between ${min} and ${max}` };
  return { v };
}

const DEV_EUI = /^[0-9a-fA-F]{16}$/;

/** DevEUIs from text: separated by commas, spaces or new lines; duplicates removed. */
export function parseDevEuis(text: string): { euis: string[]; bad: string[] } {
  const seen = new Set<string>();
  const euis: string[] = [];
  const bad: string[] = [];
  for (const tok of text.split(/[\s,;]+/)) {
    if (!tok) continue;
    if (!DEV_EUI.test(tok)) {
      bad.push(tok);
      continue;
    }
    const e = tok.toLowerCase();
    if (!seen.has(e)) {
      seen.add(e);
      euis.push(e);
    }
  }
  return { euis, bad };
}

/**
 * DevEUIs from a CSV file: its dev_eui column when the first row names one (the device import's
 * file does), else every word of it as parseDevEuis reads a paste.
 */
export function devEuisOfCsv(text: string): { euis: string[]; bad: string[] } {
  const rows = Papa.parse<string[]>(text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n'), { skipEmptyLines: 'greedy' }).data;
  const col = (rows[0] ?? []).map((h) => h.trim().toLowerCase()).indexOf('dev_eui');
  if (col < 0) return parseDevEuis(rows.map((r) => r.join(' ')).join('\n'));
  return parseDevEuis(rows.slice(1).map((r) => (r[col] ?? '').trim()).join('\n'));
}

/**
 * The request the form stands for, and the fields that the API would refuse. With `forPlan`,
 * an image not uploaded yet is planned by its size (firmware_size).
 */
export function buildRequest(
  f: JobFormValues,
  forPlan: boolean,
  nowMs: number = Date.now(),
): { body?: JobRequest & { firmware_size?: number }; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const body: Partial<JobRequest> & { firmware_size?: number } = {};
  const name = f.name.trim();
  if (!name) errors.name = 'a name is needed';
  else if (name.length > 200) errors.name = 'at most 200 characters';
  else body.name = name;

  if (f.firmwareId) {
    const r = int(f.firmwareId, 1, Number.MAX_SAFE_INTEGER);
    if (r.err) errors.firmware_id = r.err;
    else body.firmware_id = r.v;
  } else if (f.fileSize > 0) {
    if (forPlan) body.firmware_size = f.fileSize;
  } else errors.firmware_id = 'choose an uploaded image or a file';

  const red =
    f.redundancyMode === 'frames' ? int(f.redundancy, 0, 16383) : int(f.redundancy, 0, 1000);
  const redField = f.redundancyMode === 'frames' ? 'redundancy_frames' : 'redundancy_percent';
  if (red.err) errors[redField] = red.err;
  else body[redField] = red.v;

  const ut = int(f.unicastTimeout, 1, 86400);
  if (ut.err) errors.unicast_timeout_s = ut.err;
  else body.unicast_timeout_s = ut.v;
  const ua = int(f.unicastAttempts, 1, 100);
  if (ua.err) errors.unicast_attempts = ua.err;
  else body.unicast_attempts = ua.v;

  if (f.multiRegion) {
    const rs = regionRows(f.regions);
    if (rs.err) errors.regions = rs.err;
    else body.regions = rs.v;
  } else {
    if (!f.region.trim()) errors.region = 'a region is needed';
    else body.region = f.region.trim();
    const dr = int(f.dataRate, 0, 15);
    if (dr.err) errors.data_rate = dr.err;
    else body.data_rate = dr.v;
    const fq = int(f.frequencyHz, 1, 4294967295);
    if (fq.err) errors.frequency_hz = fq.err;
    else body.frequency_hz = fq.v;
  }

  body.multicast_class = f.multicastClass;
  if (f.multicastClass === 'B') {
    const ps = int(f.pingSlotPeriodicity, 0, 7);
    if (ps.err) errors.ping_slot_periodicity = ps.err;
    else body.ping_slot_periodicity = ps.v;
  }
  if (f.multicastTimeout.trim()) {
    const mt = int(f.multicastTimeout, 1, 2147483647);
    if (mt.err) errors.multicast_timeout_s = mt.err;
    else body.multicast_timeout_s = mt.v;
  }

  if (f.devices.length === 0) errors.devices = 'choose at least one device';
  else if (f.devices.length > 100000) errors.devices = 'at most 100000 devices';
  else body.devices = f.devices;

  ts006(f, nowMs, body, errors);

  if (Object.keys(errors).length) return { errors };
  return { body: body as JobRequest & { firmware_size?: number }, errors };
}

/**
 * The regions of a job across regions as the API takes them (JobRequest.regions), checked as it
 * checks them: 1 to MAX_REGIONS rows, each region once, a data rate and a frequency each. The
 * message names the row (1-based) it is about.
 */
export function regionRows(rows: RegionRow[]): { v?: NonNullable<JobRequest['regions']>; err?: string } {
  if (rows.length === 0) return { err: 'add at least one region' };
  if (rows.length > MAX_REGIONS) return { err: `at most ${MAX_REGIONS} regions` };
  const out: NonNullable<JobRequest['regions']> = [];
  const seen = new Set<string>();
  for (const [i, r] of rows.entries()) {
    const name = r.region.trim().toUpperCase();
    if (!name) return { err: `region ${i + 1}: a region is needed` };
    if (seen.has(name)) return { err: `region ${i + 1}: ${name} is given twice` };
    seen.add(name);
    const dr = int(r.dataRate, 0, 15);
    if (dr.err) return { err: `region ${i + 1}: data rate ${dr.err}` };
    const fq = int(r.frequencyHz, 1, 4294967295);
    if (fq.err) return { err: `region ${i + 1}: frequency ${fq.err}` };
    out.push({ region: name, data_rate: dr.v!, frequency_hz: fq.v! });
  }
  return { v: out };
}

/** A TS006 FW_version (32 bits): decimal, or hex with 0x. */
export function parseVersion(text: string): { v?: number; err?: string } {
  const t = text.trim();
  const v = /^0x[0-9a-f]{1,8}$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (Number.isNaN(v)) return { err: 'a whole number is needed (decimal, or hex as 0x…)' };
  if (v > 4294967295) return { err: 'between 0 and 4294967295' };
  return { v };
}

/**
 * The TS006 fields, checked as the API checks them (server/api/src/api_decode.c get_fmp and
 * job_reboot_at_check): a reboot needs target_version; reboot_at is a time still to come.
 */
function ts006(f: JobFormValues, nowMs: number, body: Partial<JobRequest>, errors: FieldErrors): void {
  const hasVersion = f.targetVersion.trim() !== '';
  if (hasVersion) {
    const tv = parseVersion(f.targetVersion);
    if (tv.err) errors.target_version = tv.err;
    else body.target_version = tv.v;
  }
  const needs = (field: string) =>
    `${field} needs a target version (the version the devices must report after the reboot)`;
  if (f.rebootMode === 'in') {
    const ri = int(f.rebootIn, 1, 16777214);
    if (ri.err) errors.reboot_in_s = ri.err;
    else if (!hasVersion) errors.reboot_in_s = needs('a reboot countdown');
    else body.reboot_in_s = ri.v;
  } else if (f.rebootMode === 'at') {
    const at = f.rebootAt.trim() ? new Date(f.rebootAt.trim()) : null;
    if (!at || Number.isNaN(at.getTime())) errors.reboot_at = 'a date and time are needed';
    else if (at.getTime() <= nowMs) errors.reboot_at = 'this time is past: give a later one';
    else if (!hasVersion) errors.reboot_at = needs('a reboot time');
    else body.reboot_at = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

/** The form field an API refusal names: "devices[3]" -> devices; unknown names -> null. */
export function fieldOf(apiField: string | undefined): FieldName | null {
  if (!apiField) return null;
  const base = apiField.replace(/\[.*$/, '').replace(/\..*$/, '');
  if (base === 'firmware_size') return 'firmware_id';
  const known: FieldName[] = [
    'name',
    'firmware_id',
    'file',
    'redundancy_frames',
    'redundancy_percent',
    'unicast_timeout_s',
    'unicast_attempts',
    'region',
    'data_rate',
    'frequency_hz',
    'multicast_class',
    'ping_slot_periodicity',
    'multicast_timeout_s',
    'devices',
    'target_version',
    'reboot_in_s',
    'reboot_at',
    'regions',
  ];
  return (known as string[]).includes(base) ? (base as FieldName) : null;
}
