// Device search (pure; unit-tested): every word of the query must match a field.
import type { Device } from '../api/client';

export function filterDevices<T extends Pick<Device, 'dev_eui' | 'application_id' | 'class' | 'region' | 'lorawan_version'>>(
  devices: T[],
  query: string,
): T[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return devices;
  return devices.filter((d) => {
    const hay = [d.dev_eui, d.application_id, d.class && `class ${d.class}`, d.class, d.region, d.lorawan_version]
      .filter(Boolean)
      .join(' ')
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}
