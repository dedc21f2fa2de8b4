import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatFrequency } from '../../src/lib/format';
import { filterDevices } from '../../src/lib/devices';
import { planWarnings } from '../../src/lib/plan';

describe('format', () => {
  it('sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(64 * 1024)).toBe('64 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
    expect(formatBytes(undefined)).toBe('–');
  });
  it('durations', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(0.44)).toBe('0.4 s');
    expect(formatDuration(59)).toBe('59 s');
    expect(formatDuration(3725)).toBe('1 h 2 min 5 s');
    expect(formatDuration(90061)).toBe('1 d 1 h 1 min');
  });
  it('frequencies', () => {
    expect(formatFrequency(869525000)).toBe('869.525 MHz');
    expect(formatFrequency(923300000)).toBe('923.3 MHz');
  });
});

describe('filterDevices', () => {
  const devs = [
    { dev_eui: '00aa000000000001', application_id: 'meters', class: 'A', region: 'EU868', lorawan_version: '1.0.4' },
    { dev_eui: '00bb000000000002', application_id: 'valves', class: 'C', region: 'US915', lorawan_version: '1.1.0' },
  ];
  it('matches every word of the query', () => {
    expect(filterDevices(devs, '').length).toBe(2);
    expect(filterDevices(devs, 'meters').map((d) => d.dev_eui)).toEqual(['00aa000000000001']);
    expect(filterDevices(devs, 'valves 1.1').map((d) => d.dev_eui)).toEqual(['00bb000000000002']);
    expect(filterDevices(devs, '00BB us915').length).toBe(1);
    expect(filterDevices(devs, 'meters us915').length).toBe(0);
  });
});

describe('planWarnings', () => {
  const base = { fragments: 100, fragment_size: 48, parity_frames: 10, sessions: 1, padding: 0, estimated_duration_s: 600 };
  const ctx = { devices: 3, multicastClass: 'C' as const, redundancy: 10 };
  it('says nothing of a sound plan', () => {
    expect(planWarnings(base, ctx)).toEqual([]);
  });
  it('warns of no parity, little parity, several sessions, no device', () => {
    expect(planWarnings({ ...base, parity_frames: 0 }, ctx)[0]).toMatch(/No parity/);
    expect(planWarnings({ ...base, parity_frames: 2 }, ctx)[0]).toMatch(/under 5 %/);
    expect(planWarnings({ ...base, sessions: 2 }, ctx)[0]).toMatch(/2 fragmentation sessions/);
    expect(planWarnings(base, { ...ctx, devices: 0 })).toContain('No device chosen.');
  });
  it('does not warn of parity when it is adaptive', () => {
    expect(planWarnings({ ...base, parity_frames: 0, adaptive: { max_parity_frames: 100 } }, ctx)).toEqual([]);
  });
});
