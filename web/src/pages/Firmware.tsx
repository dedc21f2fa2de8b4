import { useState } from 'preact/hooks';
import { api, must, type Firmware } from '../api/client';
import { ErrorBox, useAsync } from '../components/Async';
import { Field, described } from '../components/Field';
import { ProgressBar } from '../components/Progress';
import { formatBytes, formatTime } from '../lib/format';
import { uploadFirmware } from '../lib/upload';
import { useTitle } from '../lib/title';

export async function listFirmware(): Promise<Firmware[]> {
  const r = await must(api.GET('/api/v1/firmware', { params: { query: { limit: 500 } } }));
  return (r as { items?: Firmware[] }).items ?? [];
}

export function FirmwarePage() {
  useTitle('Firmware');
  const list = useAsync(listFirmware, []);
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const [delError, setDelError] = useState<Error>();

  async function upload(e: Event) {
    e.preventDefault();
    setDone(undefined);
    if (!file) {
      setError('Choose a file.');
      return;
    }
    setError(undefined);
    setProgress(0);
    try {
      const fw = await uploadFirmware(file, name.trim(), setProgress);
      setDone(`Uploaded “${fw.name}” (#${fw.id}, ${formatBytes(fw.size)}).`);
      setFile(null);
      setName('');
      (e.target as HTMLFormElement).reset();
      list.reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setProgress(null);
    }
  }

  async function remove(fw: Firmware) {
    if (!confirm(`Delete the image “${fw.name}”?`)) return;
    setDelError(undefined);
    try {
      const r = await api.DELETE('/api/v1/firmware/{id}', { params: { path: { id: fw.id! } } });
      if (!r.response.ok) throw new Error((r.error as { error?: { message?: string } })?.error?.message ?? `HTTP ${r.response.status}`);
      list.reload();
    } catch (err) {
      setDelError(err as Error);
    }
  }

  return (
    <section>
      <h1>Firmware images</h1>
      <form class="card" onSubmit={upload} aria-labelledby="upload-title">
        <h2 id="upload-title">Upload an image</h2>
        <Field id="fw-file" label="Image file" error={error}>
          <input
            {...described('fw-file', error)}
            type="file"
            onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)}
          />
        </Field>
        <Field id="fw-name" label="Name" hint="Default: the file's name">
          <input
            {...described('fw-name', undefined, true)}
            value={name}
            maxLength={200}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </Field>
        {progress !== null && <ProgressBar value={progress} label="Upload progress" />}
        <button type="submit" disabled={progress !== null}>
          Upload
        </button>
        {done && (
          <p class="ok" role="status">
            {done}
          </p>
        )}
      </form>
      <h2>Uploaded images</h2>
      <ErrorBox error={list.error ?? delError} />
      {list.data && list.data.length === 0 && <p>No image yet.</p>}
      {list.data && list.data.length > 0 && (
        <div class="table-wrap" role="region" aria-label="Uploaded images" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Image</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256</th>
                <th scope="col">Uploaded</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((fw) => (
                <tr key={fw.id}>
                  <td>
                    #{fw.id} {fw.name}
                  </td>
                  <td>{formatBytes(fw.size)}</td>
                  <td>
                    <code class="hash" title={fw.sha256}>
                      {fw.sha256}
                    </code>
                  </td>
                  <td>{formatTime(fw.created_at)}</td>
                  <td>
                    <button type="button" class="danger" onClick={() => remove(fw)} aria-label={`Delete ${fw.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
