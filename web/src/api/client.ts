// The REST API client: typed by the paths generated from server/openapi.json (schema.d.ts, made
// by `npm run gen` at build time), so that the UI and the API cannot drift.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import { getToken } from '../lib/auth';

export type Schemas = components['schemas'];
export type Job = Schemas['Job'];
export type JobSummary = Schemas['JobSummary'];
export type JobDevice = Schemas['JobDevice'];
export type JobRequest = Schemas['JobRequest'];
export type PlanRequest = Schemas['PlanRequest'];
export type Plan = Schemas['Plan'];
export type Firmware = Schemas['Firmware'];
export type Device = Schemas['Device'];
export type JobEvent = Schemas['Event'];

/** An answer other than 2xx, with the API's error body ({"error": {code, field, message}}). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function apiError(status: number, body: unknown): ApiError {
  const e = (body as { error?: { code?: string; message?: string; field?: string } } | undefined)
    ?.error;
  return new ApiError(status, e?.code ?? 'http_' + status, e?.message ?? `HTTP ${status}`, e?.field);
}

/** Called when the API says the token is missing, invalid or revoked. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

const auth: Middleware = {
  onRequest({ request }) {
    const t = getToken();
    if (t) request.headers.set('Authorization', `Bearer ${t}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) onUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '' });
api.use(auth);

/** The data of an openapi-fetch answer, or an ApiError thrown. */
export async function must<T>(
  p: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const r = await p;
  if (!r.response.ok || r.data === undefined) throw apiError(r.response.status, r.error);
  return r.data;
}
