// Firmware upload with progress (fetch cannot report an upload's progress; XMLHttpRequest can).
import { apiError, type Firmware } from '../api/client';
import { getToken } from './auth';

export function uploadFirmware(
  file: File,
  name: string,
  onProgress: (percent: number) => void,
): Promise<Firmware> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    form.append('name', name || file.name);
    form.append('file', file);
    xhr.open('POST', '/api/v1/firmware');
    const t = getToken();
    if (t) xhr.setRequestHeader('Authorization', `Bearer ${t}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress((e.loaded * 100) / e.total);
    };
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(100);
        resolve(body as Firmware);
      } else reject(apiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new Error('the upload failed (network)'));
    xhr.send(form);
  });
}
