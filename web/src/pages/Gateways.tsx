// The gateways that heard the tenant's devices: their encoding, the devices they heard, the
// unfinished jobs that count on them, and their cellular modem (fuota-gw's): its version, its
// network and link, and a module firmware update under way.
import { useState } from 'preact/hooks';
import { api, must, type Schemas } from '../api/client';
import { ErrorBox, useAsync } from '../components/Async';
import { Pager } from '../components/Pager';
import { formatTime } from '../lib/format';
import { describeUpdate, gatewayUpdate, modemFacts } from '../lib/modem';
import { useTitle } from '../lib/title';

type Gateway = Schemas['Gateway'];
const PAGE = 100;

export function Gateways() {
  useTitle('Gateways');
  const [offset, setOffset] = useState(0);
  const page = useAsync(() => must(api.GET('/api/v1/gateways', { params: { query: { limit: PAGE, offset } } })), [offset]);
  const items: Gateway[] = (page.data as { items?: Gateway[] } | undefined)?.items ?? [];
  return (
    <section>
      <h1>Gateways</h1>
      <p class="hint">The gateways that heard your devices' uplinks; fuotad sends each multicast frame through the fewest that cover a job's devices.</p>
      <ErrorBox error={page.error} />
      {page.loading && !page.data && <p aria-live="polite">Loading…</p>}
      {page.data && items.length === 0 && <p>No gateway has heard your devices yet.</p>}
      {items.length > 0 && (
        <div class="table-wrap" role="region" aria-label="Gateways" tabIndex={0}>
          <table class="gateways">
            <thead>
              <tr>
                <th scope="col">Gateway</th>
                <th scope="col">Encoding</th>
                <th scope="col">Devices heard</th>
                <th scope="col">Best RSSI + SNR</th>
                <th scope="col">Last heard</th>
                <th scope="col">Unfinished jobs</th>
                <th scope="col">Modem</th>
                <th scope="col">Modem update</th>
              </tr>
            </thead>
            <tbody>
              {items.map((g) => (
                <tr key={g.gateway_id}>
                  <td>
                    <code>{g.gateway_id}</code>
                  </td>
                  <td>{g.encoding ?? 'not heard from yet'}</td>
                  <td>{g.device_count}</td>
                  <td>{g.best_quality}</td>
                  <td>{formatTime(g.last_seen)}</td>
                  <td>{g.live_jobs ?? 0}</td>
                  <ModemCells gateway={g} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager offset={offset} page={PAGE} count={items.length} setOffset={setOffset} />
    </section>
  );
}

function ModemCells({ gateway }: { gateway: Gateway }) {
  const facts = modemFacts(gateway.modem);
  const update = gatewayUpdate(gateway);
  if (!facts)
    return (
      <>
        <td class="hint">none reported</td>
        <td />
      </>
    );
  return (
    <>
      <td class="modem">
        <code>{facts.version}</code>
        <br />
        {facts.network}
        <br />
        {facts.link}
      </td>
      <td class="modem-update" data-updating={update ? 'yes' : 'no'}>
        {update ? (
          <>
            {describeUpdate(update)}
            {update.progress !== null && (
              <progress max={100} value={update.progress} aria-label="Modem update progress">
                {update.progress} %
              </progress>
            )}
          </>
        ) : (
          'none under way'
        )}
      </td>
    </>
  );
}
