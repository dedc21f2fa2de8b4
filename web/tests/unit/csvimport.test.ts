import { describe, expect, it } from 'vitest';
import { importRows, parseDeviceCsv } from '../../src/lib/csvimport';

const KEY = '000102030405060708090a0b0c0d0e0f';

describe('parseDeviceCsv', () => {
  it('reads each row into a device request, columns in any order and case, quoted fields too', () => {
    const { rows, error } = parseDeviceCsv(
      `\uFEFFRegion,DEV_EUI,application_id,lorawan_version,class,gen_app_key,max_frags,ts004\r\n` +
        `eu868,0102030405060708,"app, one",1.0.3,c,${KEY},120,2\r\n` +
        `\r\n` +
        `EU868,01020304050607AA,app,1.0.4,A,${KEY},,\r\n`,
    );
    expect(error).toBeUndefined();
    expect(rows).toHaveLength(2);
    expect(rows[0].line).toBe(2);
    expect(rows[0].body).toEqual({
      dev_eui: '0102030405060708',
      application_id: 'app, one',
      lorawan_version: '1.0.3',
      class: 'C',
      region: 'EU868',
      gen_app_key: KEY,
      max_frags: 120,
      packages: { ts004: 2 },
    });
    expect(rows[1].devEui).toBe('01020304050607aa');
    expect(rows[1].body?.max_frags).toBeUndefined();
  });

  it('refuses a row it cannot send, with its line and why, and keeps the others', () => {
    const { rows } = parseDeviceCsv(
      `dev_eui,application_id,lorawan_version,class,region,app_key\n` +
        `nothex,app,1.1.0,A,EU868,${KEY}\n` +
        `0102030405060709,app,1.1.0,A,EU868,\n` +
        `010203040506070a,app,1.1.0,A,EU868,${KEY}\n`,
    );
    expect(rows.map((r) => [r.line, r.error ?? 'ok'])).toEqual([
      [2, 'dev_eui must be 16 hexadecimal digits'],
      [3, 'a key is needed: gen_app_key (1.0.x) or app_key (1.1)'],
      [4, 'ok'],
    ]);
  });

  it('refuses a file without the needed columns or with unknown ones', () => {
    expect(parseDeviceCsv('dev_eui,region\n0102030405060708,EU868\n').error).toBe(
      'the header lacks application_id, lorawan_version, class',
    );
    expect(parseDeviceCsv('dev_eui,application_id,lorawan_version,class,region,nwk_key\n').error).toBe(
      'unknown column(s): nwk_key',
    );
  });
});

describe('importRows', () => {
  it('reports every row in the file order: added, refused by the API with its field, refused here', async () => {
    const { rows } = parseDeviceCsv(
      `dev_eui,application_id,lorawan_version,class,region,gen_app_key\n` +
        `0102030405060701,app,1.0.3,A,EU868,${KEY}\n` +
        `0102030405060702,app,1.0.3,A,XX999,${KEY}\n` +
        `bad,app,1.0.3,A,EU868,${KEY}\n` +
        `0102030405060704,app,1.0.3,A,EU868,${KEY}\n`,
    );
    const sent: string[] = [];
    const report = await importRows(
      rows,
      async (b) => {
        sent.push(b.dev_eui);
        await new Promise((r) => setTimeout(r, b.dev_eui.endsWith('1') ? 5 : 0));
        if (b.region === 'XX999') throw { message: 'unknown region', field: 'region' };
      },
      2,
    );
    expect(sent).toHaveLength(3);
    expect(report.map((r) => [r.line, r.ok, r.message])).toEqual([
      [2, true, 'added'],
      [3, false, 'region: unknown region'],
      [4, false, 'dev_eui must be 16 hexadecimal digits'],
      [5, true, 'added'],
    ]);
  });
});
