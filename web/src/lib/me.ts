// Who the signed-in token is (GET /api/v1/me): its tenant, whether it is an admin token and its
// name. Kept beside the token for the tab's session (never the token itself) so that every page's
// header names the tenant without asking again.
import type { components } from '../api/schema';

export type Me = components['schemas']['Me'];

const KEY = 'fuota.me';

/** The answer of GET /api/v1/me when it has the fields the UI shows, else undefined. */
export function meFromJson(x: unknown): Me | undefined {
  const o = x as Partial<Record<keyof Me, unknown>> | null;
  if (!o || typeof o !== 'object') return undefined;
  if (typeof o.tenant_id !== 'number' || !Number.isInteger(o.tenant_id)) return undefined;
  if (typeof o.tenant_name !== 'string' || typeof o.admin !== 'boolean') return undefined;
  return {
    tenant_id: o.tenant_id,
    tenant_name: o.tenant_name,
    admin: o.admin,
    token_id: typeof o.token_id === 'number' ? o.token_id : 0,
    token_name: typeof o.token_name === 'string' ? o.token_name : '',
  };
}

/** The header's words for the signed-in token: the tenant's name (and id, which names tell
 * apart when two tenants share one), then the token's name and whether it is an admin's. */
export function identityText(me: Me): { tenant: string; token: string } {
  const tenant = `${me.tenant_name || 'tenant'} (#${me.tenant_id})`;
  const name = me.token_name ? `token “${me.token_name}”` : `token #${me.token_id}`;
  return { tenant, token: me.admin ? `${name}, admin` : name };
}

export function saveMe(me: Me | undefined): void {
  try {
    if (me) sessionStorage.setItem(KEY, JSON.stringify(me));
    else sessionStorage.removeItem(KEY);
  } catch {
    /* storage refused: the header asks the API again */
  }
}

export function loadMe(): Me | undefined {
  try {
    const s = sessionStorage.getItem(KEY);
    return s ? meFromJson(JSON.parse(s)) : undefined;
  } catch {
    return undefined;
  }
}
