// The admin views' decisions: the name fields' checks and the token list's rows.
export interface TenantLike {
  id?: number;
  name?: string;
}
export interface TokenLike {
  id?: number;
  tenant_id?: number;
  name?: string;
  admin?: boolean;
  created_at?: string;
  revoked_at?: string | null;
}
export interface TokenRow extends TokenLike {
  tenantName: string;
  state: 'active' | 'revoked';
}

/** A tenant's or a token's name as the API takes it (1 to 200 characters), or why not. */
export function nameError(name: string): string | undefined {
  const n = name.trim();
  if (!n) return 'Give a name.';
  if (n.length > 200) return `At most 200 characters (${n.length}).`;
  return undefined;
}

/** The tenant chosen in the token form, or why not (the form's value is the tenant's id). */
export function tenantError(value: string, tenants: TenantLike[]): string | undefined {
  const id = Number(value);
  if (!value || !Number.isInteger(id) || id < 1) return 'Choose a tenant.';
  if (!tenants.some((t) => t.id === id)) return 'This tenant is not in the list.';
  return undefined;
}

/** The tokens with their tenant's name and state: the active ones first, then by id. */
export function tokenRows(tokens: TokenLike[], tenants: TenantLike[]): TokenRow[] {
  const names = new Map(tenants.map((t) => [t.id, t.name ?? '']));
  return tokens
    .map((t) => ({
      ...t,
      tenantName: names.get(t.tenant_id) || `tenant #${t.tenant_id ?? '?'}`,
      state: (t.revoked_at ? 'revoked' : 'active') as TokenRow['state'],
    }))
    .sort((a, b) => (a.state === b.state ? (a.id ?? 0) - (b.id ?? 0) : a.state === 'active' ? -1 : 1));
}

/** What an admin page says when the API refuses it. */
export function refusal(err: { status?: number; message: string }): string {
  if (err.status === 403) return `The API refused this page (HTTP 403, admin tokens only): ${err.message}.`;
  return err.message;
}
