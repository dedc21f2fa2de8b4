import { describe, expect, it } from 'vitest';
import { describeUpdate, gatewayUpdate, modemFacts, modemUpdate } from '../../src/lib/modem';

describe('modemFacts', () => {
  it('gives the version, the network with its signal, the link and the queue', () => {
    expect(
      modemFacts({ firmware: '03.15', app: 'A00.01', registration: 'home', operator: 'Op', rssiDbm: -71, linkUp: true, queueDepth: 3 }),
    ).toEqual({ version: '03.15 · A00.01', network: 'home on Op, -71 dBm', link: 'link up, 3 queued' });
  });

  it('says what the modem did not report, and nothing without a modem', () => {
    expect(modemFacts({ linkUp: false, queueDepth: 0, queueDropped: 2 })).toEqual({
      version: 'version not reported',
      network: 'registration unknown, signal unknown',
      link: 'link down, 0 queued, 2 dropped',
    });
    expect(modemFacts(null)).toBeNull();
  });
});

describe('modemUpdate', () => {
  it('reads an update under way', () => {
    const u = modemUpdate({ firmware: '1', update: { id: 7, state: 'downloading', method: 'http', progress: 40 } });
    expect(u).toEqual({ state: 'downloading', method: 'http', progress: 40 });
    expect(describeUpdate(u!)).toBe('downloading 40\u00a0% (http)');
  });

  it('is null without one, and leaves out what is not what it should be', () => {
    expect(modemUpdate({ firmware: '1' })).toBeNull();
    expect(modemUpdate(null)).toBeNull();
    expect(modemUpdate({ update: 'soon' })).toBeNull();
    expect(modemUpdate({ update: { method: 'http' } })).toBeNull();
    const u = modemUpdate({ update: { state: 'deferred', progress: 140, method: 3 } });
    expect(u).toEqual({ state: 'deferred', method: null, progress: null });
    expect(describeUpdate(u!)).toBe('deferred');
  });
});

describe('gatewayUpdate', () => {
  it("prefers fuotad's record, which knows a scheduled update, to the modem's report", () => {
    const g = {
      modem: { firmware: '1', update: { state: 'downloading', method: 'http', progress: 40 } },
      modem_update: { id: 3, state: 'scheduled', method: 'ufota', progress: null },
    };
    expect(gatewayUpdate(g)).toEqual({ state: 'scheduled', method: 'ufota', progress: null });
  });

  it("falls back to the modem's report, and is null with neither", () => {
    const own = { state: 'installing', method: 'ufota', progress: 10 };
    expect(gatewayUpdate({ modem: { update: own }, modem_update: null })).toEqual(own);
    expect(gatewayUpdate({ modem: { firmware: '1' }, modem_update: null })).toBeNull();
    expect(gatewayUpdate({})).toBeNull();
  });
});
