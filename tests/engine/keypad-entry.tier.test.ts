import { afterEach, describe, expect, it } from 'vitest';
import { decide, type LedgerEvent, type Verdict } from '../../02_cr-application/src/engine/ledger/decide.ts';
import type { DigitEntrySpec } from '../../layers/data/digit-entry.ts';
import type { ToolManifestEntry } from '../../layers/data/index.ts';
import { emptyLedger, type Ledger } from '../../layers/data/turn-ledger.ts';
import { createEngineTier, type EngineTier } from './tier/engine-tier.ts';
import { finish, says, toolCall } from './tier/scripted-llm.ts';

/**
 * Multi-digit keypad entries. Every key is its own frame and invocation; the entry lives in the turn ledger, so
 * the decisions are a table over `decide` and the engine is driven frame by frame on a manual clock.
 */
const UNIT: DigitEntrySpec = { description: 'The unit number the caller typed.', timeoutMs: 5_000 };
const PIN: DigitEntrySpec = { description: 'The PIN the caller typed.', maxDigits: 4, tool: 'verify_pin' };

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

const keys = (digits: string, startAt: number, gapMs = 500): LedgerEvent[] => [...digits].map((digit, i) => ({ type: 'digit', at: startAt + i * gapMs, digit }));

describe('keypad entry decisions', () => {
  const cases: { name: string; events: LedgerEvent[]; last: Verdict; pending: boolean }[] = [
    { name: 'a key with no entry in progress is the keypad map\'s', events: keys('5', 0), last: { type: 'digit-free' }, pending: false },
    { name: 'digits collect while the entry is open', events: [{ type: 'digits-start', at: 0, spec: UNIT }, ...keys('42', 100)], last: { type: 'digit-collected', digits: '42', dueAt: 5_600 }, pending: true },
    {
      name: 'the finish key ends it, and is not part of the digits',
      events: [{ type: 'digits-start', at: 0, spec: UNIT }, ...keys('1234#', 100)],
      last: { type: 'digits-complete', spec: UNIT, digits: '1234', reason: 'finish-key' },
      pending: false,
    },
    {
      name: 'N digits end it without a finish key',
      events: [{ type: 'digits-start', at: 0, spec: PIN }, ...keys('9876', 100)],
      last: { type: 'digits-complete', spec: PIN, digits: '9876', reason: 'length' },
      pending: false,
    },
    {
      name: 'a key after the pause limit ends the entry with what it had, and is not part of it',
      events: [{ type: 'digits-start', at: 0, spec: UNIT }, ...keys('12', 100), { type: 'digit', at: 100 + 500 + 5_000, digit: '3' }],
      last: { type: 'digits-complete', spec: UNIT, digits: '12', reason: 'timeout' },
      pending: false,
    },
    {
      name: 'each key restarts the pause limit',
      events: [{ type: 'digits-start', at: 0, spec: UNIT }, ...keys('1234', 4_000, 4_000)],
      last: { type: 'digit-collected', digits: '1234', dueAt: 21_000 },
      pending: true,
    },
    {
      name: 'a timer check before the deadline changes nothing',
      events: [{ type: 'digits-start', at: 0, spec: UNIT }, ...keys('1', 100), { type: 'digits-check', at: 5_099, spoke: false }],
      last: { type: 'noop' },
      pending: true,
    },
    {
      name: 'a timer check at the deadline ends it',
      events: [{ type: 'digits-start', at: 0, spec: UNIT }, ...keys('1', 100), { type: 'digits-check', at: 5_100, spoke: false }],
      last: { type: 'digits-complete', spec: UNIT, digits: '1', reason: 'timeout' },
      pending: false,
    },
    {
      name: 'speaking ends it at once',
      events: [{ type: 'digits-start', at: 0, spec: UNIT }, ...keys('7', 100), { type: 'digits-check', at: 200, spoke: true }],
      last: { type: 'digits-complete', spec: UNIT, digits: '7', reason: 'spoke' },
      pending: false,
    },
    {
      name: 'a key whose invocation landed late takes its place by arrival time',
      events: [{ type: 'digits-start', at: 0, spec: UNIT }, { type: 'digit', at: 100, digit: '1' }, { type: 'digit', at: 300, digit: '3' }, { type: 'digit', at: 200, digit: '2' }],
      last: { type: 'digit-collected', digits: '123', dueAt: 5_300 },
      pending: true,
    },
    { name: 'a check with no entry is a no-op', events: [{ type: 'digits-check', at: 10, spoke: true }], last: { type: 'noop' }, pending: false },
    {
      name: 'a new entry replaces one in progress',
      events: [{ type: 'digits-start', at: 0, spec: UNIT }, ...keys('55', 100), { type: 'digits-start', at: 1_000, spec: PIN }, ...keys('1', 1_100)],
      last: { type: 'digit-collected', digits: '1', dueAt: 6_100 },
      pending: true,
    },
  ];
  it.each(cases)('$name', ({ events, last, pending }) => {
    const { ledger, verdicts } = run(events);
    expect(verdicts.at(-1)).toEqual(last);
    expect(ledger.digits !== undefined).toBe(pending);
  });

  it('leaves the turns alone: a claim during an entry keeps it', () => {
    const { ledger } = run([{ type: 'digits-start', at: 0, spec: UNIT }, { type: 'claim', promptAt: 10, userText: 'hello' }]);
    expect(ledger.digits).toEqual({ spec: UNIT, digits: '', lastAt: 0 });
    expect(run([{ type: 'digits-start', at: 0, spec: UNIT }, ...keys('12', 100)]).ledger.digits).toEqual({ spec: UNIT, digits: '12', ats: [100, 600], lastAt: 600 });
    expect(ledger.turnCount).toBe(1);
  });
});

let tier: EngineTier;
afterEach(async () => {
  await tier?.drain().catch(() => undefined);
});

const tool = (name: string): ToolManifestEntry => ({ name, description: name, parameters: { type: 'object', properties: { digits: { type: 'string' } } } });
const lastUser = (i: number) => tier.llm.requests[i]!.request.messages.filter((m) => m.role === 'user').at(-1);

describe('keypad entry in the engine', () => {
  const dtmfMap = { '5': { say: 'Please type the unit number, then the pound key.', description: 'The caller pressed 5 to enter a unit number.', collect: UNIT } };

  it('a 4-digit entry ended with # reaches the LLM as one input; the keys in between say nothing', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('Unit 1204 has two bedrooms.'));
    const call = await tier.call({ dtmfMap });
    const press = async (digit: string) => {
      void call.send({ type: 'dtmf', digit });
      await tier.drain();
      await tier.clock.advance(400);
    };
    await press('5');
    expect(call.replies()).toEqual(['Please type the unit number, then the pound key.']);
    for (const digit of '1204') await press(digit);
    expect(tier.llm.requests).toHaveLength(0);
    expect(call.frames()).toHaveLength(1);
    await press('#');
    expect(lastUser(0)).toEqual({ role: 'user', content: '(typed 1204 on the keypad) The unit number the caller typed.' });
    expect(call.replies().at(-1)).toBe('Unit 1204 has two bedrooms.');
    expect(tier.store.session(call.sessionId)?.ledger.digits).toBeUndefined();
    expect(call.history()).toEqual([
      ['user', '(pressed 5) The caller pressed 5 to enter a unit number.'],
      ['assistant', 'Please type the unit number, then the pound key.'],
      ['user', '(typed 1204 on the keypad) The unit number the caller typed.'],
      ['assistant', 'Unit 1204 has two bedrooms.'],
    ]);
  });

  it('a pause past the timeout mid-entry: the call timer ends it at the deadline with the digits so far, no further frame needed', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('I got 12. Is that the whole unit number?'));
    const call = await tier.call({ dtmfMap });
    for (const digit of '512') {
      void call.send({ type: 'dtmf', digit });
      await tier.drain();
      await tier.clock.advance(300);
    }
    const deadline = tier.store.session(call.sessionId)!.ledger.digits!.lastAt + 5_000;
    await tier.clock.advance(deadline - tier.clock.now() - 1);
    await tier.drain(0);
    expect(tier.llm.requests).toHaveLength(0);
    await tier.clock.advance(1);
    await tier.drain();
    expect(lastUser(0)?.content).toBe('(typed 12 on the keypad, then stopped (the entry timed out)) The unit number the caller typed.');
    expect(call.replies().at(-1)).toBe('I got 12. Is that the whole unit number?');
    expect(tier.store.session(call.sessionId)?.ledger.digits).toBeUndefined();
    // Keys typed while the line was said leave the deadline at the line's end plus the timeout: one check.
    expect(tier.timerChecks.filter((c) => c.check.kind === 'digits').map((c) => c.outcome)).toEqual(['forwarded']);
  });

  it('speaking mid-entry ends it: the typed digits lead the utterance', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('Unit 12, got it.'));
    const call = await tier.call({ dtmfMap });
    for (const digit of '512') {
      void call.send({ type: 'dtmf', digit });
      await tier.drain();
    }
    void call.prompt('that is unit twelve');
    await tier.drain();
    expect(lastUser(0)?.content).toBe('(typed 12 on the keypad, then spoke instead) The unit number the caller typed. that is unit twelve');
  });

  it('a tool starts an entry of N digits, and the digits go to the tool the entry names', async () => {
    tier = await createEngineTier();
    tier.tools.ask_pin = async () => ({ ok: true, result: { asked: true }, actions: [{ type: 'collectDigits', entry: PIN }] });
    tier.tools.verify_pin = async () => ({ ok: true, result: { verified: true } });
    tier.llm.enqueue(
      [toolCall({ id: 'c1', name: 'ask_pin', arguments: {} }), finish('tool_calls')],
      says('Please type your four-digit PIN.'),
      [toolCall({ id: 'c2', name: 'verify_pin', arguments: { digits: '9876' } }), finish('tool_calls')],
      says('Thanks, you are verified.'),
    );
    const call = await tier.call({ tools: [tool('ask_pin'), tool('verify_pin')] });
    void call.prompt('I want to check my account');
    await tier.drain();
    expect(tier.store.session(call.sessionId)?.ledger.digits?.spec).toEqual(PIN);
    for (const digit of '9876') {
      void call.send({ type: 'dtmf', digit });
      await tier.drain();
    }
    expect(tier.llm.requests[2]!.request.toolChoice).toEqual({ name: 'verify_pin' });
    expect(lastUser(2)?.content).toBe('(typed 9876 on the keypad) The PIN the caller typed.');
    expect(call.replies().at(-1)).toBe('Thanks, you are verified.');
  });

  it('single-key actions keep working when no entry is in progress', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ dtmfMap: { '0': { say: 'Connecting you to the front desk.', description: 'The caller pressed 0.' } } });
    void call.send({ type: 'dtmf', digit: '0' });
    await tier.drain();
    expect(call.replies()).toEqual(['Connecting you to the front desk.']);
  });
});
