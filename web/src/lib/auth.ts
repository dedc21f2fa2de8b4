// The API token: kept for this browser tab's session only (sessionStorage), never shown again.
const KEY = 'fuota.token';
// Whether the token is an admin's, as GET /api/v1/me answered at sign-in.
const ADMIN = 'fuota.admin';

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token.trim());
}

// Who the token is (lib/me.ts), dropped with it.
const ME = 'fuota.me';

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(ADMIN);
  sessionStorage.removeItem(ME);
}

export function isAdmin(): boolean {
  try {
    return sessionStorage.getItem(ADMIN) === '1';
  } catch {
    return false;
  }
}

export function setAdmin(admin: boolean): void {
  if (admin) sessionStorage.setItem(ADMIN, '1');
  else sessionStorage.removeItem(ADMIN);
}
