import { describe, expect, it } from 'vitest';
import { actionsFor, countSteps, currentPhase, describeAnswer, describeEvent, describeFragments, EventLog, isLive, progressOf, STEP_LABEL, STEPS } from '../../src/lib/progress';

describe('countSteps / progressOf', () => {
  it('counts devices per step and the share finished', () => {
    const c = countSteps([{ step: 'done' }, { step: 'failed' }, { step: 'session' }, { step: 'done' }]);
    expect(c.done).toBe(2);
    expect(c.failed).toBe(1);
    expect(c.session).toBe(1);
    expect(c.mc_setup).toBe(0);
    expect(progressOf(c, 4)).toEqual({ total: 4, done: 2, failed: 1, percent: 75 });
  });

  it('counts an unconfirmed device as finished, apart from done', () => {
    const c = countSteps([{ step: 'done' }, { step: 'unconfirmed' }, { step: 'session' }, { step: 'failed' }]);
    expect(c.unconfirmed).toBe(1);
    expect(progressOf(c, 4)).toEqual({ total: 4, done: 1, failed: 1, percent: 75 });
  });

  it('counts the TS006 steps, each with a label', () => {
    const c = countSteps([{ step: 'fw_version' }, { step: 'reboot' }, { step: 'fw_check' }, { step: 'fw_check' }]);
    expect([c.fw_version, c.reboot, c.fw_check]).toEqual([1, 1, 2]);
    for (const s of STEPS) expect(STEP_LABEL[s], s).toBeTruthy();
    expect(STEPS.indexOf('fw_version')).toBeLessThan(STEPS.indexOf('pkg_version'));
    expect(STEPS.indexOf('fw_check')).toBeLessThan(STEPS.indexOf('done'));
  });

  it('never goes past 100 % nor divides by zero', () => {
    expect(progressOf(countSteps([]), 0).percent).toBe(0);
    expect(progressOf(countSteps([{ step: 'done' }, { step: 'done' }]), 1).percent).toBe(100);
  });
});

describe('currentPhase', () => {
  it('is the latest phase change of the event log, whatever the order', () => {
    const events = [
      { id: 7, kind: 'log', data: { phase_from: 'session', phase: 'transmit' } },
      { id: 3, kind: 'log', data: { phase_from: 'setup', phase: 'session' } },
      { id: 9, kind: 'device', data: { step: 'done' } },
    ];
    expect(currentPhase(events)).toBe('transmit');
    expect(currentPhase([])).toBeNull();
  });
});

describe('job states', () => {
  it('offers the actions the API accepts in each state', () => {
    expect(actionsFor('running')).toEqual({ cancel: true, pause: true, resume: false });
    expect(actionsFor('paused')).toEqual({ cancel: true, pause: false, resume: true });
    expect(actionsFor('succeeded')).toEqual({ cancel: false, pause: false, resume: false });
    expect(isLive('running')).toBe(true);
    expect(isLive('failed')).toBe(false);
  });

  it('describes events for a person', () => {
    expect(describeEvent({ kind: 'log', data: { phase_from: 'setup', phase: 'session' } })).toBe(
      'phase setup → session',
    );
    expect(describeEvent({ kind: 'state', data: { from: 'running', to: 'paused' } })).toBe(
      'state running → paused',
    );
  });

  it('says a job was created rather than changed from an unknown state', () => {
    expect(describeEvent({ kind: 'state', data: { to: 'pending' } })).toBe('created (pending)');
    expect(describeEvent({ kind: 'state', data: { to: 'pending', retry_of: 12 } })).toBe(
      'created (pending), a retry of job 12',
    );
    expect(describeEvent({ kind: 'state', data: { from: 'running', to: 'paused', action: 'pause' } })).toBe(
      'state running → paused (pause)',
    );
  });
});

describe('describeFragments', () => {
  it('shows the missing fragments of the last status answer, with those received', () => {
    expect(describeFragments({ missing_fragments: 3, fragments_received: 40 })).toBe('3 (40 received)');
    expect(describeFragments({ missing_fragments: 0, fragments_received: null })).toBe('0');
  });

  it('is empty when no status answer is known', () => {
    expect(describeFragments({ missing_fragments: null, fragments_received: 12 })).toBe('');
    expect(describeFragments({})).toBe('');
  });
});

describe('describeAnswer', () => {
  it('names the answer and its telling fields, without false flags', () => {
    expect(
      describeAnswer({ answer: 'FragSessionStatusAns', missing: 0, received: 6, mic_error: false, no_session: false }),
    ).toBe('FragSessionStatusAns · missing 0 · received 6');
    expect(describeAnswer({ answer: 'McGroupSetupAns', id_error: true })).toBe('McGroupSetupAns · id error');
    expect(describeAnswer(null)).toBe('');
    expect(describeAnswer({ cleanup: { frag: 'skipped' } })).toBe('cleanup {"frag":"skipped"}');
  });
});

describe('EventLog', () => {
  it('reads on from where it stopped, keeps the last events and the latest phase', () => {
    const log = new EventLog(3);
    const ev = (id: number, phase?: string) =>
      phase ? { id, kind: 'log', data: { phase } } : { id, kind: 'device', data: { step: 'ready' } };
    log.add([ev(1, 'setup'), ev(2), ev(3)]);
    expect(log.offset).toBe(3);
    expect(log.phase).toBe('setup');
    log.add([ev(4, 'session'), ev(5)]);
    expect(log.offset).toBe(5);
    expect(log.phase).toBe('session');
    expect(log.recent().map((e) => e.id)).toEqual([3, 4, 5]);
    log.add([ev(6)]); /* a page without a phase change keeps the phase */
    expect(log.phase).toBe('session');
    log.add([]);
    expect(log.offset).toBe(6);
  });

  it('skips the events it has (a stream resumed over a page just read)', () => {
    const log = new EventLog();
    expect(log.add([{ id: 1 }, { id: 2 }])).toBe(2);
    expect(log.add([{ id: 2 }, { id: 3 }])).toBe(1);
    expect(log.offset).toBe(3);
    expect(log.lastId).toBe(3);
    expect(log.recent().map((e) => e.id)).toEqual([1, 2, 3]);
  });
});
