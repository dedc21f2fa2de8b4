import { describe, expect, it } from 'vitest';
import { API_FIELD, checkDeviceForm } from '../../src/lib/deviceform';

const good = { devEui: '70B3D57ED0000001', applicationId: ' app ', lorawanVersion: '1.0.3', deviceClass: 'C', region: 'EU868', key: '000102030405060708090A0B0C0D0E0F' };

describe('checkDeviceForm', () => {
  it('makes the request: lowercase hex, trimmed, the key named for the version', () => {
    expect(checkDeviceForm(good)).toEqual({
      errors: {},
      body: { dev_eui: '70b3d57ed0000001', application_id: 'app', lorawan_version: '1.0.3', class: 'C', region: 'EU868', gen_app_key: '000102030405060708090a0b0c0d0e0f' },
    });
    expect(checkDeviceForm({ ...good, lorawanVersion: '1.1.0' }).body).toMatchObject({ app_key: '000102030405060708090a0b0c0d0e0f' });
  });

  it('names each refused field and makes no request', () => {
    const r = checkDeviceForm({ devEui: 'xyz', applicationId: '', lorawanVersion: '2.0', deviceClass: 'D', region: '', key: '00' });
    expect(r.body).toBeUndefined();
    expect(Object.keys(r.errors).sort()).toEqual(['applicationId', 'devEui', 'deviceClass', 'key', 'lorawanVersion', 'region']);
    expect(r.errors.devEui).toBe('16 hexadecimal digits');
    expect(checkDeviceForm({ ...good, applicationId: 'a'.repeat(101) }).errors.applicationId).toMatch(/At most 100/);
  });

  it("maps the API's field names onto the form's", () => {
    expect(API_FIELD.gen_app_key).toBe('key');
    expect(API_FIELD.class).toBe('deviceClass');
  });
});
