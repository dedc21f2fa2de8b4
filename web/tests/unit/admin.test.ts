import { describe, expect, it } from 'vitest';
import { nameError, refusal, tenantError, tokenRows } from '../../src/lib/admin';

describe('nameError', () => {
  it('takes 1 to 200 characters, trimmed', () => {
    expect(nameError('ops')).toBeUndefined();
    expect(nameError('   ')).toBe('Give a name.');
    expect(nameError('x'.repeat(200))).toBeUndefined();
    expect(nameError('x'.repeat(201))).toMatch(/At most 200/);
  });
});

describe('tenantError', () => {
  const tenants = [{ id: 1, name: 'a' }, { id: 7, name: 'b' }];
  it('needs a listed tenant', () => {
    expect(tenantError('7', tenants)).toBeUndefined();
    expect(tenantError('', tenants)).toBe('Choose a tenant.');
    expect(tenantError('0', tenants)).toBe('Choose a tenant.');
    expect(tenantError('1.5', tenants)).toBe('Choose a tenant.');
    expect(tenantError('3', tenants)).toMatch(/not in the list/);
  });
});

describe('tokenRows', () => {
  it("names each token's tenant and puts the active ones first", () => {
    const rows = tokenRows(
      [
        { id: 1, tenant_id: 1, name: 'old', revoked_at: '2026-01-01T00:00:00Z' },
        { id: 3, tenant_id: 9, name: 'orphan' },
        { id: 2, tenant_id: 1, name: 'ui', revoked_at: null },
      ],
      [{ id: 1, name: 'ops' }],
    );
    expect(rows.map((r) => [r.id, r.state, r.tenantName])).toEqual([
      [2, 'active', 'ops'],
      [3, 'active', 'tenant #9'],
      [1, 'revoked', 'ops'],
    ]);
  });
});

describe('refusal', () => {
  it("says a 403 needs an admin token, with the API's message", () => {
    expect(refusal({ status: 403, message: 'admin only' })).toBe(
      'The API refused this page (HTTP 403, admin tokens only): admin only.',
    );
    expect(refusal({ status: 500, message: 'boom' })).toBe('boom');
  });
});
