// The regions' downlink data rates and frequencies, as the server lists them
// (GET /api/v1/regions): labels for the job form, and what a region change does to the form's
// data rate and frequency (pure; unit-tested).
import type { Schemas } from '../api/client';

export type Region = Schemas['Region'];
export type RegionDr = Region['downlink_data_rates'][number];

/** "DR5 · SF7 125 kHz · 239 B per fragment", "DR7 · FSK 50 kbit/s · 239 B per fragment". */
export function drLabel(d: RegionDr): string {
  const radio =
    d.modulation === 'FSK'
      ? `FSK ${Math.round((d.bitrate_bps ?? 0) / 1000)} kbit/s`
      : `SF${d.sf} ${Math.round((d.bandwidth_hz ?? 0) / 1000)} kHz`;
  return `DR${d.dr} · ${radio} · ${d.max_fragment_size} B per fragment`;
}

/** Whether hz is a downlink frequency of r (in its band, and on its grid where it has one). */
export function frequencyOk(r: Region, hz: number): boolean {
  if (!Number.isInteger(hz) || hz < (r.min_hz ?? 0) || hz > (r.max_hz ?? 0)) return false;
  const g = r.frequency_grid;
  if (!g || !g.channels) return true;
  const k = (hz - (g.first_hz ?? 0)) / (g.step_hz ?? 1);
  return Number.isInteger(k) && k >= 0 && k < g.channels;
}

/**
 * The data rate and frequency to keep when the form moves to region r: the current ones when r
 * has them, else r's class C defaults (its RX2 DR, its first usual frequency).
 */
export function forRegion(r: Region, dataRate: string, frequencyHz: string): { dataRate: string; frequencyHz: string } {
  const drs = r.downlink_data_rates.map((d) => d.dr);
  const def = r.class_c?.dr;
  const dr = drs.includes(Number(dataRate)) ? dataRate : String(def !== undefined && drs.includes(def) ? def : drs[0]);
  const f = frequencyOk(r, Number(frequencyHz)) ? frequencyHz : String(r.frequencies[0]);
  return { dataRate: dr, frequencyHz: f };
}
