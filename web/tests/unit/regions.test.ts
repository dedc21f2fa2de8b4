import { describe, expect, it } from 'vitest';
import { drLabel, forRegion, frequencyOk, type Region } from '../../src/lib/regions';

const EU: Region = {
  name: 'EU868',
  min_hz: 863000000,
  max_hz: 870000000,
  downlink_data_rates: [
    { dr: 0, modulation: 'LoRa', sf: 12, bandwidth_hz: 125000, max_payload: 51, max_fragment_size: 48 },
    { dr: 5, modulation: 'LoRa', sf: 7, bandwidth_hz: 125000, max_payload: 242, max_fragment_size: 239 },
    { dr: 7, modulation: 'FSK', bitrate_bps: 50000, max_payload: 242, max_fragment_size: 239 },
  ],
  frequencies: [869525000],
  frequency_grid: null,
  class_c: { frequency_hz: 869525000, dr: 0 },
};
const US: Region = {
  name: 'US915',
  min_hz: 902000000,
  max_hz: 928000000,
  downlink_data_rates: [
    { dr: 8, modulation: 'LoRa', sf: 12, bandwidth_hz: 500000, max_payload: 61, max_fragment_size: 58 },
    { dr: 13, modulation: 'LoRa', sf: 7, bandwidth_hz: 500000, max_payload: 250, max_fragment_size: 247 },
  ],
  frequencies: [923300000, 923900000],
  frequency_grid: { first_hz: 923300000, step_hz: 600000, channels: 8 },
  class_c: { frequency_hz: 923300000, dr: 8 },
};

describe('regions', () => {
  it('labels a data rate with its radio and fragment size', () => {
    expect(drLabel(EU.downlink_data_rates[1])).toBe('DR5 · SF7 125 kHz · 239 B per fragment');
    expect(drLabel(EU.downlink_data_rates[2])).toBe('DR7 · FSK 50 kbit/s · 239 B per fragment');
  });

  it('knows a region\'s frequencies: its band, and its grid where it has one', () => {
    expect(frequencyOk(EU, 869525000)).toBe(true);
    expect(frequencyOk(EU, 100000000)).toBe(false);
    expect(frequencyOk(US, 923900000)).toBe(true);
    expect(frequencyOk(US, 923400000)).toBe(false); /* in the band, off the grid */
    expect(frequencyOk(US, 923300000 + 8 * 600000)).toBe(false); /* past the 8 channels */
  });

  it('keeps what the new region has, else takes its class C defaults', () => {
    expect(forRegion(US, '5', '869525000')).toEqual({ dataRate: '8', frequencyHz: '923300000' });
    expect(forRegion(US, '13', '923900000')).toEqual({ dataRate: '13', frequencyHz: '923900000' });
    expect(forRegion(EU, '13', '923900000')).toEqual({ dataRate: '0', frequencyHz: '869525000' });
    expect(forRegion(EU, '5', '868100000')).toEqual({ dataRate: '5', frequencyHz: '868100000' });
  });
});
