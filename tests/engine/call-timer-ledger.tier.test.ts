import { describe, expect, it } from 'vitest';
import { decide, type LedgerEvent, type Verdict } from '../../02_cr-application/src/engine/ledger/decide.ts';
import { emptyLedger, type Ledger } from '../../layers/data/turn-ledger.ts';

/**
 * The turn ledger's decisions for the call timer's checks, as a table: the reconnect grace (`grace-due` against
 * `connect`), the silence after the greeting and the speaker events (`silence-arm` turn 0, `agent-speech`,
 * `caller-speech`), and a keypad entry owned by the timer (`digits-arm`, timed `digit`).
 */
function run(events: LedgerEvent[], from: Ledger = emptyLedger()): { ledger: Ledger; verdicts: Verdict[] } {
  let ledger = from;
  const verdicts: Verdict[] = [];
  for (const event of events) {
    const d = decide(ledger, event);
    verdicts.push(d.verdict);
    if (d.next) {
      expect(d.next.v).toBe(ledger.v + 1);
      ledger = d.next;
    }
  }
  return { ledger, verdicts };
}

const connected: LedgerEvent = { type: 'connect', connectionId: 'c1', at: 0, bound: true, graceMs: 60_000 };
const dropped: LedgerEvent[] = [connected, { type: 'disconnect', connectionId: 'c1', at: 1_000 }];
const reconnect = (at: number): LedgerEvent => ({ type: 'connect', connectionId: 'c2', at, bound: false, graceMs: 0 });

describe('grace-due', () => {
  const cases: { name: string; events: LedgerEvent[]; last: Verdict }[] = [
    { name: 'before the end of the grace: not yet', events: [...dropped, { type: 'grace-due', gen: 1, at: 60_999 }], last: { type: 'grace-not-yet', dueAt: 61_000 } },
    { name: 'at the end of the grace: the call is over', events: [...dropped, { type: 'grace-due', gen: 1, at: 61_000 }], last: { type: 'grace-over' } },
    { name: 'a repeated check says it again (the session end is retried)', events: [...dropped, { type: 'grace-due', gen: 1, at: 61_000 }, { type: 'grace-due', gen: 1, at: 62_000 }], last: { type: 'grace-over' } },
    { name: 'after a reconnect: stale', events: [...dropped, reconnect(30_000), { type: 'grace-due', gen: 1, at: 61_000 }], last: { type: 'grace-stale' } },
    { name: 'for a connection that never dropped: stale', events: [connected, { type: 'grace-due', gen: 1, at: 61_000 }], last: { type: 'grace-stale' } },
    { name: 'a reconnect after the expiry was written is refused, though it left within the grace', events: [...dropped, { type: 'grace-due', gen: 1, at: 61_000 }, reconnect(60_000)], last: { type: 'connect-refused', reason: 'grace-over' } },
    { name: 'the late $disconnect of an ended connection changes nothing', events: [...dropped, { type: 'grace-due', gen: 1, at: 61_000 }, { type: 'disconnect', connectionId: 'c1', at: 62_000 }], last: { type: 'disconnect-stale' } },
  ];
  it.each(cases)('$name', ({ events, last }) => {
    expect(run(events).verdicts.at(-1)).toEqual(last);
  });

  it('marks the connection ended, keeping when it dropped', () => {
    expect(run([...dropped, { type: 'grace-due', gen: 1, at: 61_000 }]).ledger.connection).toEqual({ id: 'c1', gen: 1, state: 'ended', at: 1_000, graceMs: 60_000 });
  });
});

describe('silence after the greeting and speaker events', () => {
  const armGreeting: LedgerEvent = { type: 'silence-arm', turn: 0, dueAt: 12_000, afterMs: 8_000 };

  it('arms after the greeting only while no turn has started', () => {
    expect(run([connected, armGreeting]).verdicts.at(-1)).toEqual({ type: 'silence-armed', dueAt: 12_000 });
    expect(run([connected, { type: 'claim', promptAt: 5, userText: 'hi' }, armGreeting]).verdicts.at(-1)).toEqual({ type: 'silence-cancelled' });
  });

  it('an interrupt of the greeting stops the count', () => {
    const { ledger, verdicts } = run([connected, armGreeting, { type: 'interrupt', at: 2_000, heard: 'Hi' }]);
    expect(verdicts.at(-1)).toEqual({ type: 'interrupt-ignored', reason: 'no-reply-yet' });
    expect(ledger.silence).toBeUndefined();
  });

  it('the agent speaking holds the reprompt; its stop moves the due time to a silence after it', () => {
    const speaking = run([connected, armGreeting, { type: 'agent-speech', speaking: true, at: 1_000 }]);
    expect(speaking.ledger.silence).toMatchObject({ speaking: true, dueAt: 12_000 });
    const due = decide(speaking.ledger, { type: 'silence-due', turn: 0, round: 0, at: 12_000, maxReprompts: 2, nextDueAt: 20_000 });
    expect(due.verdict).toEqual({ type: 'silence-not-yet', dueAt: 20_000 });
    const stopped = decide(speaking.ledger, { type: 'agent-speech', speaking: false, at: 3_000 });
    expect(stopped.verdict).toEqual({ type: 'silence-moved', turn: 0, round: 0, dueAt: 11_000 });
    expect(stopped.next?.silence).toEqual({ turn: 0, round: 0, dueAt: 11_000, afterMs: 8_000 });
  });

  it('speaker events with no silence armed change nothing; the caller speaking clears an armed one', () => {
    expect(decide(run([connected]).ledger, { type: 'agent-speech', speaking: false, at: 1 })).toEqual({ verdict: { type: 'noop' } });
    expect(decide(run([connected]).ledger, { type: 'caller-speech', at: 1 })).toEqual({ verdict: { type: 'noop' } });
    const { ledger, verdicts } = run([connected, armGreeting, { type: 'caller-speech', at: 2_000 }]);
    expect(verdicts.at(-1)).toEqual({ type: 'silence-cancelled' });
    expect(ledger.silence).toBeUndefined();
  });
});

describe('a keypad entry owned by the call timer', () => {
  const spec = { description: 'The unit number.', timeoutMs: 5_000 };
  const opened: LedgerEvent = { type: 'digits-start', at: 0, spec };

  it('digits-arm counts the timeout from the end of the line that asked, once, before any key', () => {
    expect(run([opened, { type: 'digits-arm', at: 3_000 }]).verdicts.at(-1)).toEqual({ type: 'digits-armed', dueAt: 8_000 });
    expect(run([opened, { type: 'digit', at: 1_000, digit: '1' }, { type: 'digits-arm', at: 3_000 }]).verdicts.at(-1)).toEqual({ type: 'noop' });
    expect(run([{ type: 'digits-arm', at: 3_000 }]).verdicts.at(-1)).toEqual({ type: 'noop' });
  });

  it('a key that lands before the timer\'s check is part of the entry, even past the deadline; the check then finds nothing due', () => {
    const { ledger, verdicts } = run([opened, { type: 'digits-arm', at: 0 }, { type: 'digit', at: 5_200, digit: '4', timed: true }]);
    expect(verdicts.at(-1)).toEqual({ type: 'digit-collected', digits: '4', dueAt: 10_200 });
    expect(decide(ledger, { type: 'digits-check', at: 5_300, spoke: false }).verdict).toEqual({ type: 'noop' });
  });

  it('a key that lands after the timer\'s check finds no entry: it is a key of its own', () => {
    const closed = run([opened, { type: 'digits-arm', at: 0 }, { type: 'digit', at: 1_000, digit: '1', timed: true }, { type: 'digits-check', at: 6_000, spoke: false }]);
    expect(closed.verdicts.at(-1)).toEqual({ type: 'digits-complete', spec, digits: '1', reason: 'timeout' });
    expect(decide(closed.ledger, { type: 'digit', at: 5_900, digit: '2', timed: true }).verdict).toEqual({ type: 'digit-free' });
  });

  it('a key that leaves the armed deadline where it was asks for no new check', () => {
    // The line ends at 3 s; keys typed over it do not move the deadline (8 s).
    const { verdicts } = run([opened, { type: 'digits-arm', at: 3_000 }, { type: 'digit', at: 1_000, digit: '1', timed: true }]);
    expect(verdicts.at(-1)).toEqual({ type: 'digit-collected', digits: '1' });
  });

  it('a key clears a silence armed before the entry, and an open entry refuses the silence', () => {
    const silence: LedgerEvent = { type: 'silence-arm', turn: 0, dueAt: 9_000, afterMs: 8_000 };
    expect(run([connected, silence, opened, { type: 'digit', at: 1_000, digit: '1' }]).ledger.silence).toBeUndefined();
    expect(run([connected, opened, silence]).verdicts.at(-1)).toEqual({ type: 'silence-cancelled' });
  });

  it('the second try after an incomplete entry says so when it completes', () => {
    const pin = { description: 'The PIN.', maxDigits: 4, incompleteLine: 'Please type all four digits.' };
    const { verdicts } = run([{ type: 'digits-start', at: 0, spec: pin, retry: true }, { type: 'digits-check', at: 5_000, spoke: false }]);
    expect(verdicts.at(-1)).toEqual({ type: 'digits-complete', spec: pin, digits: '', reason: 'timeout', retried: true });
  });
});
