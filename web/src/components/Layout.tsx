import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { clearToken, getToken, isAdmin } from '../lib/auth';
import { identityText, loadMe, meFromJson, saveMe, type Me } from '../lib/me';

const LINKS = [
  { href: '/jobs', label: 'Jobs' },
  { href: '/firmware', label: 'Firmware' },
  { href: '/devices', label: 'Devices' },
  { href: '/gateways', label: 'Gateways' },
];

/** Who is signed in: from the sign-in's answer, else (a tab signed in before) asked once. */
function useMe(): Me | undefined {
  const [me, setMe] = useState<Me | undefined>(loadMe);
  useEffect(() => {
    if (me || !getToken()) return;
    let live = true;
    api.GET('/api/v1/me').then(
      (r) => {
        const m = r.response.ok ? meFromJson(r.data) : undefined;
        if (m) saveMe(m);
        if (live) setMe(m);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [me]);
  return me;
}

function Identity({ me }: { me: Me | undefined }) {
  if (!me) return null;
  const t = identityText(me);
  return (
    <p class="who" data-testid="identity">
      Tenant <strong data-testid="tenant-name">{t.tenant}</strong>
      <span class="who-token"> · {t.token}</span>
    </p>
  );
}

export function Layout({ children }: { children: ComponentChildren }) {
  const { path, route } = useLocation();
  const me = useMe();
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/jobs">
          fuota
        </a>
        <nav aria-label="Main">
          <ul>
            {[...LINKS, ...(isAdmin() ? [{ href: '/admin', label: 'Admin' }] : [])].map((l) => (
              <li key={l.href}>
                <a href={l.href} aria-current={path.startsWith(l.href) ? 'page' : undefined}>
                  {l.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <Identity me={me} />
        <button
          type="button"
          class="link"
          onClick={() => {
            clearToken();
            route('/signin');
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
