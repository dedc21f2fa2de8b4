import { describe, expect, it } from 'vitest';
import { describeFinished, FinishedSeries, jobChartTable } from '../../src/lib/finished';
import { EventLog } from '../../src/lib/progress';

const T0 = Date.parse('2026-12-07T10:00:00Z') / 1000;
const at = (s: number) => new Date((T0 + s) * 1000).toISOString();
const dev = (id: number, eui: string, step: string, s: number) => ({ id, kind: 'device', dev_eui: eui, data: { step }, created_at: at(s) });

describe('FinishedSeries', () => {
  it('counts the devices done and failed at each step event, from the whole log', () => {
    const f = new FinishedSeries();
    f.add(dev(1, 'a', 'mc_setup', 1)); /* not finished: no point */
    f.add(dev(2, 'a', 'done', 10));
    f.add(dev(3, 'b', 'failed', 10)); /* same second: one point */
    f.add({ id: 4, kind: 'log', data: { phase: 'done' }, created_at: at(11) });
    f.add(dev(5, 'c', 'done', 20));
    expect(f.points()).toEqual({ t: [T0 + 10, T0 + 20], done: [1, 2], failed: [1, 1] });
  });

  it('follows a failed device retried: it leaves the failed count', () => {
    const f = new FinishedSeries();
    f.add(dev(1, 'a', 'failed', 5));
    f.add(dev(2, 'a', 'pending', 6));
    f.add(dev(3, 'a', 'done', 9));
    expect(f.points()).toEqual({ t: [T0 + 5, T0 + 6, T0 + 9], done: [0, 0, 1], failed: [1, 0, 0] });
  });

  it('never draws time backwards, and spans the job from its start to now', () => {
    const f = new FinishedSeries();
    f.add(dev(1, 'a', 'done', 10));
    f.add(dev(2, 'b', 'done', 8)); /* logged late */
    const p = f.points(T0, T0 + 30);
    expect(p.t).toEqual([T0, T0 + 10, T0 + 30]);
    expect(p.done).toEqual([0, 2, 2]);
  });

  it("ends a finished job on its summary's counts (devices failed at its end without events)", () => {
    const f = new FinishedSeries();
    f.add(dev(1, 'a', 'done', 10));
    expect(f.points(T0, T0 + 40, { done: 1, failed: 2 })).toEqual({ t: [T0, T0 + 10, T0 + 40], done: [0, 1, 1], failed: [0, 0, 2] });
    expect(f.points(null, T0 + 10, { done: 1, failed: 3 })).toEqual({ t: [T0 + 10], done: [1], failed: [3] });
  });

  it('ignores events without a device, a step or a time', () => {
    const f = new FinishedSeries();
    f.add({ id: 1, kind: 'device', dev_eui: null, data: { step: 'done' }, created_at: at(1) });
    f.add({ id: 2, kind: 'device', dev_eui: 'a', data: {}, created_at: at(1) });
    f.add({ id: 3, kind: 'device', dev_eui: 'a', data: { step: 'done' }, created_at: 'soon' });
    expect(f.version).toBe(0);
    expect(f.points().t).toEqual([]);
  });

  it('is fed by the event log, each event once however often it is read', () => {
    const log = new EventLog(1);
    log.add([dev(1, 'a', 'done', 3), dev(2, 'b', 'done', 4)]);
    log.add([dev(2, 'b', 'done', 4)]); /* a stream resumed over a page */
    expect(log.finished.points().done).toEqual([1, 2]);
  });
});

describe('jobChartTable', () => {
  it('merges the frame readings with the finished devices, the counts held between changes', () => {
    const fin = { t: [T0 + 10, T0 + 20], done: [1, 3], failed: [0, 1] };
    const frames = [
      { t: T0 + 5, sent: 4, fragments: 40 },
      { t: T0 + 10, sent: 9, fragments: 40 },
      { t: T0 + 15, sent: 20, fragments: 40 },
    ];
    expect(jobChartTable(fin, frames)).toEqual([
      [T0 + 5, T0 + 10, T0 + 15, T0 + 20],
      [4, 9, 20, null],
      [40, 40, 40, null],
      [0, 1, 1, 3],
      [0, 0, 0, 1],
    ]);
  });

  it('is empty with nothing to draw', () => {
    expect(jobChartTable({ t: [], done: [], failed: [] }, [])).toEqual([[], [], [], [], []]);
  });
});

describe('describeFinished', () => {
  it('says the counts and the time of the last change', () => {
    const f = new FinishedSeries();
    expect(describeFinished(f)).toBe('No device has finished yet.');
    f.add(dev(1, 'a', 'done', 10));
    f.add(dev(2, 'b', 'failed', 12));
    expect(describeFinished(f, (s) => String(s - T0))).toBe('1 device(s) done and 1 failed, the last at 12.');
  });
});
