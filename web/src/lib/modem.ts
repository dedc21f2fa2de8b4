// A gateway's cellular modem in words, from what its fuota-gw last published (GET /gateways'
// modem; pure, unit-tested). The update member ({state, progress, method}) is present only while
// a module firmware update runs, and may be missing from an older fuotad's document: it is read
// with care rather than trusted.
import type { Schemas } from '../api/client';

type Modem = NonNullable<Schemas['GatewayModem']>;

export interface ModemUpdate {
  state: string;
  method: string | null;
  /** 0..100, null when unknown. */
  progress: number | null;
}

/** The modem's update under way, or null (none, or not an update object). */
export function modemUpdate(m: unknown): ModemUpdate | null {
  const u = (m as { update?: unknown } | null | undefined)?.update;
  if (!u || typeof u !== 'object') return null;
  const o = u as Record<string, unknown>;
  if (typeof o.state !== 'string' || o.state === '') return null;
  const p = o.progress;
  return {
    state: o.state,
    method: typeof o.method === 'string' && o.method ? o.method : null,
    progress: typeof p === 'number' && Number.isFinite(p) && p >= 0 && p <= 100 ? p : null,
  };
}

/** The update to show for a gateway: fuotad's own record of one not over yet (GET /gateways'
 * modem_update, which also knows an update still scheduled), else what the modem reports itself
 * (an update fuotad did not start, e.g. a uFOTA push). */
export function gatewayUpdate(g: { modem?: unknown; modem_update?: unknown }): ModemUpdate | null {
  return modemUpdate({ update: g.modem_update }) ?? modemUpdate(g.modem);
}

/** "downloading 40 % (http)" (a no-break space before the %). */
export function describeUpdate(u: ModemUpdate): string {
  return `${u.state}${u.progress === null ? '' : ` ${u.progress}\u00a0%`}${u.method ? ` (${u.method})` : ''}`;
}

/** The modem's facts for the gateways table: version, registration, signal, link and queue. */
export function modemFacts(m: Modem | null | undefined): { version: string; network: string; link: string } | null {
  if (!m) return null;
  const version = [m.firmware, m.app].filter((x) => x).join(' · ') || 'version not reported';
  const signal = m.rssiDbm !== undefined && m.rssiDbm !== null ? `${m.rssiDbm} dBm` : 'signal unknown';
  const network = `${m.registration ?? 'registration unknown'}${m.operator ? ` on ${m.operator}` : ''}, ${signal}`;
  const queue = m.queueDepth !== undefined ? `, ${m.queueDepth} queued` : '';
  const dropped = m.queueDropped ? `, ${m.queueDropped} dropped` : '';
  const link = `${m.linkUp === undefined ? 'link unknown' : m.linkUp ? 'link up' : 'link down'}${queue}${dropped}`;
  return { version, network, link };
}
