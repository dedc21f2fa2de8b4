import { describe, expect, it } from 'vitest';
import { buildRequest, defaultValues, fieldOf, parseDevEuis, devEuisOfCsv, regionRows } from '../../src/lib/jobform';

const EUI = '0011223344556677';

function valid() {
  return { ...defaultValues(), name: 'night update', firmwareId: '3', devices: [EUI] };
}

describe('buildRequest', () => {
  it('turns a complete form into the API request', () => {
    const r = buildRequest(valid(), false);
    expect(r.errors).toEqual({});
    expect(r.body).toEqual({
      name: 'night update',
      firmware_id: 3,
      redundancy_percent: 10,
      unicast_timeout_s: 60,
      unicast_attempts: 3,
      region: 'EU868',
      data_rate: 5,
      frequency_hz: 869525000,
      multicast_class: 'C',
      devices: [EUI],
    });
  });

  it('names every refused field, as the API bounds them', () => {
    const r = buildRequest(
      {
        ...valid(),
        name: ' ',
        firmwareId: '',
        redundancyMode: 'frames',
        redundancy: '16384',
        unicastTimeout: '0',
        unicastAttempts: '1.5',
        dataRate: '16',
        frequencyHz: 'abc',
        devices: [],
      },
      false,
    );
    expect(r.body).toBeUndefined();
    expect(Object.keys(r.errors).sort()).toEqual(
      [
        'data_rate',
        'devices',
        'firmware_id',
        'frequency_hz',
        'name',
        'redundancy_frames',
        'unicast_attempts',
        'unicast_timeout_s',
      ].sort(),
    );
    expect(r.errors.redundancy_frames).toBe('between 0 and 16383');
  });

  it('plans a file not uploaded yet by its size, and creates only with an image id', () => {
    const f = { ...valid(), firmwareId: '', fileSize: 4096 };
    expect(buildRequest(f, true).body?.firmware_size).toBe(4096);
    expect(buildRequest(f, false).body?.firmware_size).toBeUndefined();
    expect(buildRequest(f, false).body?.firmware_id).toBeUndefined();
  });

  it('asks the ping-slot periodicity for class B only', () => {
    const b = buildRequest({ ...valid(), multicastClass: 'B', pingSlotPeriodicity: '8' }, false);
    expect(b.errors.ping_slot_periodicity).toBe('between 0 and 7');
    const ok = buildRequest({ ...valid(), multicastClass: 'B', pingSlotPeriodicity: '4' }, false);
    expect(ok.body?.ping_slot_periodicity).toBe(4);
    const c = buildRequest({ ...valid(), pingSlotPeriodicity: '8' }, false);
    expect(c.body?.ping_slot_periodicity).toBeUndefined();
  });

  it('sends the multicast timeout only when given', () => {
    expect(buildRequest(valid(), false).body?.multicast_timeout_s).toBeUndefined();
    expect(buildRequest({ ...valid(), multicastTimeout: '600' }, false).body?.multicast_timeout_s).toBe(600);
  });
});

describe('fieldOf', () => {
  it('maps the API field of a refusal to the form field', () => {
    expect(fieldOf('frequency_hz')).toBe('frequency_hz');
    expect(fieldOf('devices[3]')).toBe('devices');
    expect(fieldOf('firmware_size')).toBe('firmware_id');
    expect(fieldOf('state')).toBeNull();
    expect(fieldOf(undefined)).toBeNull();
  });
});

describe('devEuisOfCsv', () => {
  it("reads the dev_eui column when the header names one (the import's file)", () => {
    const csv = 'application_id,dev_eui,class\r\napp,70B3D57ED0000001,C\napp,nothex,C\napp,70b3d57ed0000001,C\n';
    expect(devEuisOfCsv(csv)).toEqual({ euis: ['70b3d57ed0000001'], bad: ['nothex'] });
    expect(devEuisOfCsv('dev_eui;region\n70b3d57ed0000002;EU868\n').euis).toEqual(['70b3d57ed0000002']);
    expect(devEuisOfCsv('"dev_eui","region"\n"70b3d57ed0000003","EU868"\n').euis).toEqual(['70b3d57ed0000003']);
  });

  it('reads every word without such a header', () => {
    expect(devEuisOfCsv('70b3d57ed0000001\n70b3d57ed0000002, 70b3d57ed0000003\n')).toEqual({
      euis: ['70b3d57ed0000001', '70b3d57ed0000002', '70b3d57ed0000003'],
      bad: [],
    });
  });
});

describe('parseDevEuis', () => {
  it('splits on commas, spaces and new lines, lower-cases and de-duplicates', () => {
    expect(parseDevEuis(`${EUI}, 00112233445566AA\n${EUI.toUpperCase()} nope 12`)).toEqual({
      euis: [EUI, '00112233445566aa'],
      bad: ['nope', '12'],
    });
  });
});

describe('the TS006 fields', () => {
  const NOW = Date.parse('2030-01-01T00:00:00Z');
  const local = (ms: number) => {
    const d = new Date(ms);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  };

  it('sends none of them by default', () => {
    const b = buildRequest(valid(), false, NOW).body;
    expect(b?.target_version).toBeUndefined();
    expect(b?.reboot_in_s).toBeUndefined();
    expect(b?.reboot_at).toBeUndefined();
  });

  it('reads the target version in decimal or hex, within 32 bits', () => {
    expect(buildRequest({ ...valid(), targetVersion: '66051' }, false, NOW).body?.target_version).toBe(66051);
    expect(buildRequest({ ...valid(), targetVersion: '0x010203' }, false, NOW).body?.target_version).toBe(66051);
    expect(buildRequest({ ...valid(), targetVersion: '4294967296' }, false, NOW).errors.target_version).toBe('between 0 and 4294967295');
    expect(buildRequest({ ...valid(), targetVersion: '1.2' }, false, NOW).errors.target_version).toMatch(/whole number/);
  });

  it('bounds the countdown and asks a target version with it, as the API does', () => {
    const f = { ...valid(), rebootMode: 'in' as const, rebootIn: '600' };
    expect(buildRequest(f, false, NOW).errors.reboot_in_s).toMatch(/needs a target version/);
    const ok = buildRequest({ ...f, targetVersion: '7' }, false, NOW).body;
    expect(ok?.reboot_in_s).toBe(600);
    expect(ok?.reboot_at).toBeUndefined();
    expect(buildRequest({ ...f, targetVersion: '7', rebootIn: '0' }, false, NOW).errors.reboot_in_s).toBe('between 1 and 16777214');
    expect(buildRequest({ ...f, targetVersion: '7', rebootIn: '16777215' }, false, NOW).errors.reboot_in_s).toBe('between 1 and 16777214');
  });

  it('sends a reboot time to come in UTC, and refuses one past or missing', () => {
    const f = { ...valid(), targetVersion: '7', rebootMode: 'at' as const };
    const later = NOW + 3 * 3600 * 1000;
    const ok = buildRequest({ ...f, rebootAt: local(later) }, false, NOW).body;
    expect(ok?.reboot_at).toBe(new Date(later).toISOString().replace('.000Z', 'Z'));
    expect(ok?.reboot_in_s).toBeUndefined();
    expect(buildRequest({ ...f, rebootAt: local(NOW - 60000) }, false, NOW).errors.reboot_at).toMatch(/past/);
    expect(buildRequest({ ...f, rebootAt: '' }, false, NOW).errors.reboot_at).toBe('a date and time are needed');
    expect(buildRequest({ ...f, targetVersion: '', rebootAt: local(later) }, false, NOW).errors.reboot_at).toMatch(/needs a target version/);
  });

  it("places the API's refusals of them beside their fields", () => {
    expect(fieldOf('reboot_at')).toBe('reboot_at');
    expect(fieldOf('reboot_in_s')).toBe('reboot_in_s');
    expect(fieldOf('target_version')).toBe('target_version');
  });
});

describe('one job across regions', () => {
  const EU = { region: 'EU868', dataRate: '5', frequencyHz: '869525000' };
  const US = { region: 'us915', dataRate: '8', frequencyHz: '923300000' };

  it('sends regions instead of region, data rate and frequency', () => {
    const r = buildRequest({ ...valid(), multiRegion: true, regions: [EU, US] }, false);
    expect(r.errors).toEqual({});
    expect(r.body?.regions).toEqual([
      { region: 'EU868', data_rate: 5, frequency_hz: 869525000 },
      { region: 'US915', data_rate: 8, frequency_hz: 923300000 },
    ]);
    expect(r.body).not.toHaveProperty('region');
    expect(r.body).not.toHaveProperty('data_rate');
    expect(r.body).not.toHaveProperty('frequency_hz');
  });

  it('names the row the API would refuse', () => {
    expect(regionRows([]).err).toBe('add at least one region');
    expect(regionRows([EU, { ...US, region: 'eu868' }]).err).toBe('region 2: EU868 is given twice');
    expect(regionRows([EU, { ...US, dataRate: '16' }]).err).toBe('region 2: data rate between 0 and 15');
    expect(regionRows([{ ...EU, frequencyHz: 'x' }]).err).toBe('region 1: frequency a whole number is needed');
    expect(regionRows([EU, { ...US, region: ' ' }]).err).toBe('region 2: a region is needed');
    expect(regionRows(Array.from({ length: 9 }, (_, i) => ({ ...EU, region: `R${i}` }))).err).toBe('at most 8 regions');
    const r = buildRequest({ ...valid(), multiRegion: true, regions: [EU, EU] }, false);
    expect(r.body).toBeUndefined();
    expect(r.errors.regions).toBe('region 2: EU868 is given twice');
  });

  it("maps the API's refusal of a region's field to the regions", () => {
    expect(fieldOf('regions[1].data_rate')).toBe('regions');
    expect(fieldOf('regions')).toBe('regions');
  });
});
