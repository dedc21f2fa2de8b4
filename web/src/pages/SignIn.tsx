import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, apiError } from '../api/client';
import { clearToken, setAdmin, setToken } from '../lib/auth';
import { meFromJson, saveMe } from '../lib/me';
import { Field, described } from '../components/Field';
import { useTitle } from '../lib/title';

export function SignIn() {
  useTitle('Sign in');
  const { query, route } = useLocation();
  const [token, setTok] = useState('');
  const [error, setError] = useState<string | undefined>(
    query.expired ? 'Your token was refused: sign in again.' : undefined,
  );
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    if (!token.trim()) {
      setError('Paste an API token.');
      return;
    }
    setBusy(true);
    setError(undefined);
    setToken(token);
    try {
      // Who the token is: its tenant (named in every page's header) and whether it is an
      // admin's (the Admin link).
      const r = await api.GET('/api/v1/me');
      if (!r.response.ok) throw apiError(r.response.status, r.error);
      const me = meFromJson(r.data);
      if (!me) throw new Error('The API did not say who this token is.');
      saveMe(me);
      setAdmin(me.admin);
      const next = query.next && query.next.startsWith('/') && !query.next.startsWith('//') ? query.next : '/jobs';
      route(next);
    } catch (err) {
      clearToken();
      setError(
        (err as { status?: number }).status === 401
          ? 'This token is not valid (or was revoked).'
          : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="signin">
      <h1>Sign in to fuota</h1>
      <form onSubmit={submit} novalidate>
        <Field
          id="token"
          label="API token"
          hint="Kept in this tab only, until you close it. `fuotad token create` makes one."
          error={error}
        >
          <input
            {...described('token', error, true)}
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={token}
            onInput={(e) => setTok((e.target as HTMLInputElement).value)}
            required
          />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
