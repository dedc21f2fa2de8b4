// What a job's plan warns of (pure; unit-tested). The API computes the plan (POST
// /api/v1/jobs:plan); these are the UI's reading of it for the operator.
import type { Plan } from '../api/client';

export interface PlanContext {
  devices: number;
  multicastClass: 'B' | 'C';
  /** The redundancy asked for, as typed: 0 means none. */
  redundancy: number;
}

export function planWarnings(p: Plan, ctx: PlanContext): string[] {
  const w: string[] = [];
  const frags = p.fragments ?? 0;
  const parity = p.parity_frames ?? 0;
  if (!p.adaptive && parity === 0)
    w.push('No parity frames: a device that loses one frame cannot rebuild the image.');
  else if (!p.adaptive && frags > 0 && parity * 100 < frags * 5)
    w.push(`Only ${parity} parity frame(s) for ${frags} fragments (under 5 %): little margin for lost frames.`);
  if ((p.sessions ?? 1) > 1)
    w.push(`The image needs ${p.sessions} fragmentation sessions: it is sent ${p.sessions} times over.`);
  if ((p.parts ?? 1) > 1)
    w.push(`The image goes in ${p.parts} parts (one fragmentation session each): the devices' application must assemble them.`);
  if ((p.duty_cycle ?? 0) > 0 && (p.duty_cycle ?? 0) < 0.1 && (p.total_airtime_s ?? 0) > 3600)
    w.push('Over an hour of airtime under a duty-cycle limit: consider a faster data rate.');
  const est = p.estimated_duration_s ?? 0;
  if (est > 24 * 3600) w.push('The job is estimated to take more than a day.');
  if (ctx.multicastClass === 'B' && (p.multicast_duration_s ?? 0) > 3 * 3600)
    w.push('Class B: the multicast session lasts more than three hours (ping slots are sparse).');
  if ((p.padding ?? 0) > 0 && (p.fragment_size ?? 0) > 0 && (p.padding ?? 0) >= (p.fragment_size ?? 0) / 2)
    w.push(`The last fragment carries ${p.padding} bytes of padding.`);
  if (ctx.devices === 0) w.push('No device chosen.');
  return w;
}

/** A warning of the API's plan (device_memory, device_parts, ...), as it answers it. */
export interface ApiPlanWarning {
  code?: string;
  dev_eui?: string;
  message?: string;
}

/**
 * The API's plan warnings in words (its message, else the code and the device it names), at
 * most `max` of them and a line counting the rest: one a device can be thousands.
 */
export function apiWarnings(ws: ApiPlanWarning[] | undefined, max = 10): string[] {
  const all = ws ?? [];
  const out = all.slice(0, max).map((w) => w.message || `${w.code ?? 'warning'}${w.dev_eui ? ` (device ${w.dev_eui})` : ''}`);
  if (all.length > max) out.push(`… and ${all.length - max} more device warning(s).`);
  return out;
}
