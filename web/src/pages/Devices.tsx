import { useEffect, useState } from 'preact/hooks';
import { api, must, type Device } from '../api/client';
import { ErrorBox, useAsync } from '../components/Async';
import { Pager } from '../components/Pager';
import { DeviceAdd } from '../components/DeviceAdd';
import { DeviceImport } from '../components/DeviceImport';
import { formatTime } from '../lib/format';
import { useTitle } from '../lib/title';

const PAGE = 100;
/** The search is sent once typing pauses this long. */
const SEARCH_WAIT_MS = 300;

export function Devices() {
  useTitle('Devices');
  const [offset, setOffset] = useState(0);
  const [q, setQ] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const t = setTimeout(() => {
      setSearch(q.trim());
      setOffset(0);
    }, SEARCH_WAIT_MS);
    return () => clearTimeout(t);
  }, [q]);
  // Searched by the server (GET /devices?q=), so that a device on any page is found.
  const page = useAsync(
    () => must(api.GET('/api/v1/devices', { params: { query: { limit: PAGE, offset, ...(search ? { q: search } : {}) } } })),
    [offset, search],
  );
  const shown: Device[] = (page.data as { items?: Device[] } | undefined)?.items ?? [];

  return (
    <section>
      <h1>Devices</h1>
      <DeviceAdd onDone={page.reload} />
      <DeviceImport onDone={page.reload} />
      <div class="toolbar">
        <label for="dev-search">Search</label>
        <input
          id="dev-search"
          type="search"
          placeholder="a part of a DevEUI or an application"
          maxLength={100}
          value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
        />
      </div>
      <ErrorBox error={page.error} />
      {page.loading && !page.data && <p aria-live="polite">Loading…</p>}
      {page.data && shown.length === 0 && <p>No device{search ? ' matches' : ' yet'}.</p>}
      {shown.length > 0 && (
        <div class="table-wrap" role="region" aria-label="Devices" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">DevEUI</th>
                <th scope="col">Application</th>
                <th scope="col">LoRaWAN</th>
                <th scope="col">Class</th>
                <th scope="col">Region</th>
                <th scope="col">Added</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((d) => (
                <tr key={d.dev_eui}>
                  <td>
                    <a href={`/devices/${d.dev_eui}`}>
                      <code>{d.dev_eui}</code>
                    </a>
                  </td>
                  <td>{d.application_id}</td>
                  <td>{d.lorawan_version}</td>
                  <td>{d.class}</td>
                  <td>{d.region}</td>
                  <td>{formatTime(d.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager offset={offset} page={PAGE} count={shown.length} setOffset={setOffset} />
    </section>
  );
}
