// The add-a-device form's checks (pure; unit-tested): each field as POST /api/v1/devices checks
// it, the refusal named by field, and the request's body. The key field takes the key that
// fits the LoRaWAN version: GenAppKey for 1.0.x, AppKey for 1.1; it is write-only.
import type { DeviceRequest } from './csvimport';

export interface DeviceForm {
  devEui: string;
  applicationId: string;
  lorawanVersion: string;
  deviceClass: string;
  region: string;
  key: string;
}

export type DeviceFormErrors = Partial<Record<keyof DeviceForm, string>>;

export const LORAWAN_VERSIONS = ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4', '1.1.0'];

/** The API's field names and the form's, for a refusal the API names by field. */
export const API_FIELD: Record<string, keyof DeviceForm> = {
  dev_eui: 'devEui',
  application_id: 'applicationId',
  lorawan_version: 'lorawanVersion',
  class: 'deviceClass',
  region: 'region',
  gen_app_key: 'key',
  app_key: 'key',
};

export function checkDeviceForm(f: DeviceForm): { errors: DeviceFormErrors; body?: DeviceRequest } {
  const errors: DeviceFormErrors = {};
  const devEui = f.devEui.trim().toLowerCase();
  const key = f.key.trim().toLowerCase();
  if (!/^[0-9a-f]{16}$/.test(devEui)) errors.devEui = '16 hexadecimal digits';
  const app = f.applicationId.trim();
  if (!app) errors.applicationId = 'Give the application.';
  else if (app.length > 100) errors.applicationId = `At most 100 characters (${app.length}).`;
  if (!LORAWAN_VERSIONS.includes(f.lorawanVersion)) errors.lorawanVersion = 'Choose a LoRaWAN version.';
  if (!['A', 'B', 'C'].includes(f.deviceClass)) errors.deviceClass = 'Choose class A, B or C.';
  if (!f.region) errors.region = 'Choose a region.';
  if (!/^[0-9a-f]{32}$/.test(key)) errors.key = '32 hexadecimal digits';
  if (Object.keys(errors).length) return { errors };
  const body: Record<string, unknown> = {
    dev_eui: devEui,
    application_id: app,
    lorawan_version: f.lorawanVersion,
    class: f.deviceClass,
    region: f.region,
  };
  body[f.lorawanVersion === '1.1.0' ? 'app_key' : 'gen_app_key'] = key;
  return { errors, body: body as unknown as DeviceRequest };
}
