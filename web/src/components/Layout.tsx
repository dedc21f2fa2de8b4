import type { ComponentChildren } from 'preact';
import { useLocation } from 'preact-iso';
import { clearToken, isAdmin } from '../lib/auth';

const LINKS = [
  { href: '/jobs', label: 'Jobs' },
  { href: '/firmware', label: 'Firmware' },
  { href: '/devices', label: 'Devices' },
  { href: '/gateways', label: 'Gateways' },
];

export function Layout({ children }: { children: ComponentChildren }) {
  const { path, route } = useLocation();
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
