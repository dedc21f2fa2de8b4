import { describe, expect, it } from 'vitest';
import { identityText, meFromJson } from '../../src/lib/me';

const acme = { tenant_id: 7, tenant_name: 'acme', admin: false, token_id: 3, token_name: 'ci' };

describe('meFromJson', () => {
  it('takes the answer of GET /api/v1/me', () => {
    expect(meFromJson(acme)).toEqual(acme);
  });
  it('refuses an answer without the tenant or the admin flag', () => {
    expect(meFromJson(undefined)).toBeUndefined();
    expect(meFromJson(null)).toBeUndefined();
    expect(meFromJson('acme')).toBeUndefined();
    expect(meFromJson({ ...acme, tenant_id: '7' })).toBeUndefined();
    expect(meFromJson({ ...acme, tenant_id: 1.5 })).toBeUndefined();
    expect(meFromJson({ ...acme, tenant_name: undefined })).toBeUndefined();
    expect(meFromJson({ ...acme, admin: 'no' })).toBeUndefined();
  });
  it('keeps nothing but the identity (no token field passes through)', () => {
    expect(meFromJson({ ...acme, token: 'fuota_secret' })).toEqual(acme);
  });
});

describe('identityText', () => {
  it('names the tenant with its id and the token', () => {
    expect(identityText(acme)).toEqual({ tenant: 'acme (#7)', token: 'token “ci”' });
  });
  it('says when the token is an admin one, and falls back to ids', () => {
    expect(identityText({ ...acme, admin: true, token_name: '' })).toEqual({
      tenant: 'acme (#7)',
      token: 'token #3, admin',
    });
  });
});
