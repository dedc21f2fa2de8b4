// The admin's views (an admin token only): the tenants, and the API tokens (create one, its
// secret shown once with a copy button; revoke one after a confirmation). A tenant token that
// opens this page gets the API's refusal. Both lists are read a page at a time; the tenants'
// names (the token list's and the token form's) are read apart, up to the API's 500.
import { useState } from 'preact/hooks';
import { api, must, type Schemas } from '../api/client';
import { ErrorBox, useAsync } from '../components/Async';
import { Field, described } from '../components/Field';
import { Pager } from '../components/Pager';
import { formatTime } from '../lib/format';
import { nameError, refusal, tenantError, tokenRows } from '../lib/admin';
import { useTitle } from '../lib/title';

type Tenant = Schemas['Tenant'];
type Token = Schemas['Token'];
type NewToken = Schemas['NewToken'];

/** Rows per page of the tenants and of the tokens. */
export const ADMIN_PAGE = 50;

export function Admin() {
  useTitle('Admin');
  const [tenantOffset, setTenantOffset] = useState(0);
  const [tokenOffset, setTokenOffset] = useState(0);
  const names = useAsync(() => must(api.GET('/api/v1/tenants', { params: { query: { limit: 500 } } })), []);
  const tenants = useAsync(
    () => must(api.GET('/api/v1/tenants', { params: { query: { limit: ADMIN_PAGE, offset: tenantOffset } } })),
    [tenantOffset],
  );
  const tokens = useAsync(
    () => must(api.GET('/api/v1/tokens', { params: { query: { limit: ADMIN_PAGE, offset: tokenOffset } } })),
    [tokenOffset],
  );
  const refused = names.error ?? tenants.error ?? tokens.error;
  if (refused)
    return (
      <section>
        <h1>Admin</h1>
        <p class="error-box" role="alert">
          {refusal(refused)}
        </p>
      </section>
    );
  const all: Tenant[] = names.data?.items ?? [];
  const shown: Tenant[] = tenants.data?.items ?? [];
  const tenantAdded = () => (names.reload(), tenants.reload());
  return (
    <section>
      <h1>Admin</h1>
      {(tenants.loading || tokens.loading) && !tenants.data && <p aria-live="polite">Loading…</p>}
      <Tenants tenants={shown} reload={tenantAdded} />
      <Pager offset={tenantOffset} page={ADMIN_PAGE} count={shown.length} setOffset={setTenantOffset} label="Tenant pages" />
      <Tokens tenants={all} tokens={tokens.data?.items ?? []} reload={tokens.reload} />
      <Pager offset={tokenOffset} page={ADMIN_PAGE} count={tokens.data?.items?.length ?? 0} setOffset={setTokenOffset} label="Token pages" />
    </section>
  );
}

function Tenants({ tenants, reload }: { tenants: Tenant[]; reload: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<string>();
  async function submit(e: Event) {
    e.preventDefault();
    const bad = nameError(name);
    setError(bad);
    setMade(undefined);
    if (bad) return;
    setBusy(true);
    try {
      const t = await must(api.POST('/api/v1/tenants', { body: { name: name.trim() } }));
      setMade(`Tenant "${t.name}" created (#${t.id}).`);
      setName('');
      reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <h2>Tenants</h2>
      {tenants.length > 0 && (
        <div class="table-wrap" role="region" aria-label="Tenants" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {tenants.map((t) => (
                <tr key={t.id}>
                  <td>{t.id}</td>
                  <td>{t.name}</td>
                  <td>{formatTime(t.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form onSubmit={submit} novalidate aria-label="New tenant">
        <Field id="tenant-name" label="New tenant's name" error={error}>
          <input
            {...described('tenant-name', error)}
            value={name}
            maxLength={200}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </Field>
        <button type="submit" disabled={busy}>
          Create the tenant
        </button>
        <p role="status" data-testid="tenant-created">
          {made}
        </p>
      </form>
    </>
  );
}

interface TokensProps {
  tenants: Tenant[];
  tokens: Token[];
  reload: () => void;
}

function Tokens({ tenants, tokens, reload }: TokensProps) {
  const [created, setCreated] = useState<NewToken>();
  const [error, setError] = useState<string>();
  async function revoke(t: Token) {
    if (!window.confirm(`Revoke the token "${t.name}"? Whoever uses it is refused from now on.`)) return;
    setError(undefined);
    try {
      const r = await api.DELETE('/api/v1/tokens/{id}', { params: { path: { id: t.id ?? 0 } } });
      if (!r.response.ok) throw new Error((r.error as { error?: { message?: string } })?.error?.message ?? `HTTP ${r.response.status}`);
      reload();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  const rows = tokenRows(tokens, tenants);
  return (
    <>
      <h2>API tokens</h2>
      <ErrorBox error={error ? new Error(error) : undefined} />
      {rows.length > 0 && (
        <div class="table-wrap" role="region" aria-label="API tokens" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Tenant</th>
                <th scope="col">Kind</th>
                <th scope="col">Created</th>
                <th scope="col">State</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id} data-token={t.id}>
                  <td>{t.id}</td>
                  <td>{t.name}</td>
                  <td>{t.tenantName}</td>
                  <td>{t.admin ? 'admin' : 'tenant'}</td>
                  <td>{formatTime(t.created_at ?? undefined)}</td>
                  <td>{t.state === 'revoked' ? `revoked ${formatTime(t.revoked_at ?? undefined)}` : 'active'}</td>
                  <td>
                    {t.state === 'active' && (
                      <button type="button" aria-label={`Revoke ${t.name} (#${t.id})`} onClick={() => revoke(t)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {created ? (
        <Secret token={created} done={() => setCreated(undefined)} />
      ) : (
        <NewTokenForm tenants={tenants} created={(t) => (setCreated(t), reload())} />
      )}
    </>
  );
}

function NewTokenForm({ tenants, created }: { tenants: Tenant[]; created: (t: NewToken) => void }) {
  const [tenant, setTenant] = useState('');
  const [name, setName] = useState('');
  const [admin, setAdminKind] = useState(false);
  const [errors, setErrors] = useState<{ tenant?: string; name?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    const bad = { tenant: tenantError(tenant, tenants), name: nameError(name) };
    setErrors(bad);
    if (bad.tenant || bad.name) return;
    setBusy(true);
    try {
      const body = { tenant_id: Number(tenant), name: name.trim(), admin };
      created(await must(api.POST('/api/v1/tokens', { body })));
    } catch (err) {
      setErrors({ form: (err as Error).message });
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} novalidate aria-label="New token">
      <Field id="token-tenant" label="Tenant of the new token" error={errors.tenant}>
        <select {...described('token-tenant', errors.tenant)} value={tenant} onChange={(e) => setTenant((e.target as HTMLSelectElement).value)}>
          <option value="">Choose…</option>
          {tenants.map((t) => (
            <option key={t.id} value={String(t.id)}>
              {t.name} (#{t.id})
            </option>
          ))}
        </select>
      </Field>
      <Field id="token-name" label="New token's name" error={errors.name}>
        <input {...described('token-name', errors.name)} value={name} maxLength={200} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </Field>
      <div class="field">
        <label>
          <input type="checkbox" checked={admin} onChange={(e) => setAdminKind((e.target as HTMLInputElement).checked)} /> Admin token (manages tenants and tokens)
        </label>
      </div>
      <ErrorBox error={errors.form ? new Error(errors.form) : undefined} />
      <button type="submit" disabled={busy}>
        Create the token
      </button>
    </form>
  );
}

/** The new token's secret: shown here once; gone when dismissed (the API never shows it again). */
function Secret({ token, done }: { token: NewToken; done: () => void }) {
  const [copied, setCopied] = useState<string>();
  async function copy() {
    try {
      await navigator.clipboard.writeText(token.token);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser refused the clipboard: select the token and copy it.');
    }
  }
  return (
    <div class="secret" role="region" aria-labelledby="secret-title">
      <h3 id="secret-title">Token "{token.name}" created</h3>
      <p>Copy it now: it is shown only this once, and fuota keeps only its hash.</p>
      <p>
        <code class="hash" data-testid="new-token">
          {token.token}
        </code>
      </p>
      <button type="button" onClick={copy}>
        Copy the token
      </button>{' '}
      <button type="button" onClick={done}>
        Done, hide it
      </button>
      <p aria-live="polite">{copied}</p>
    </div>
  );
}
