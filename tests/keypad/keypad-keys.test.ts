import { afterEach, describe, expect, it } from 'vitest';
import { listTurnRecords } from '../../layers/data/index.ts';
import { DtmfMapSchema, keypadAction, type DtmfMap } from '../../layers/data/use-case-config.ts';
import { parseInbound } from '../../layers/protocol/conversation-relay.ts';
import { ToolOutcomeSchema } from '../../02_cr-application/src/edges/lambda-tools.ts';
import { startEngine, type EngineHarness } from '../engine/support.ts';

/**
 * Keypad keys are `0-9`, `*` and `#`, and a key is looked up among the map's own entries only: a caller (or a
 * spoofed frame) pressing "constructor" or "__proto__" must never reach an inherited member of the map.
 */

const NOT_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', '12', 'A', ' 1', ''];

describe('the dtmf frame', () => {
  it('carries one keypad key, and nothing else parses', () => {
    for (const key of ['0', '5', '9', '*', '#']) expect(parseInbound(JSON.stringify({ type: 'dtmf', digit: key }))).toMatchObject({ ok: true, message: { digit: key } });
    for (const key of NOT_KEYS) {
      expect(parseInbound(JSON.stringify({ type: 'dtmf', digit: key })), key).toMatchObject({ ok: false, reason: 'invalid', type: 'dtmf' });
    }
  });
});

describe('the keypad lookup', () => {
  const say = (text: string) => ({ say: text, description: `Caller pressed for ${text}` });

  it('finds only own entries for real keys', () => {
    const map: DtmfMap = { '1': say('one'), '#': say('hash') };
    expect(keypadAction(map, '1')).toEqual(say('one'));
    expect(keypadAction(map, '#')).toEqual(say('hash'));
    expect(keypadAction(map, '2')).toBeUndefined();
    expect(keypadAction(undefined, '1')).toBeUndefined();
    for (const key of NOT_KEYS) expect(keypadAction(map, key), key).toBeUndefined();
  });

  it('ignores a map entry under a name that is no key, even an own one', () => {
    // As a map read back from the table or a tool's answer could hold it, had it skipped validation.
    const map = JSON.parse('{"__proto__": {"say": "x", "description": "x"}, "constructor": {"say": "y", "description": "y"}, "1": {"say": "one", "description": "d"}}') as DtmfMap;
    expect(keypadAction(map, '__proto__')).toBeUndefined();
    expect(keypadAction(map, 'constructor')).toBeUndefined();
    expect(keypadAction(map, '1')).toMatchObject({ say: 'one' });
  });

  it('refuses a map with such a name, from a use-case file or from a tool', () => {
    expect(DtmfMapSchema.safeParse(JSON.parse('{"__proto__": {"say": "x", "description": "x"}}')).success).toBe(false);
    expect(DtmfMapSchema.safeParse({ constructor: { say: 'x', description: 'x' } }).success).toBe(false);
    expect(DtmfMapSchema.safeParse({ '1': { say: 'x', description: 'x' } }).success).toBe(true);
    const outcome = (dtmfMap: unknown) => ToolOutcomeSchema.safeParse({ ok: true, result: 'done', actions: [{ type: 'updateSession', dtmfMap }] }).success;
    expect(outcome({ '1': { say: 'x', description: 'x' } })).toBe(true);
    expect(outcome({ toString: { say: 'x', description: 'x' } })).toBe(false);
    expect(outcome(JSON.parse('{"__proto__": {"say": "x", "description": "x"}}'))).toBe(false);
  });
});

describe('keys pressed on a call', () => {
  let engine: EngineHarness | undefined;
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
  });

  it('act only when they are mapped keypad keys; names of object members are ignored without a turn', async () => {
    engine = await startEngine();
    const call = await engine.startCall({ dtmfMap: { '0': { say: 'Our office is open nine to five.', description: 'Caller asked for office hours' } } });
    const handled = engine.routeResults.length;
    for (const key of ['constructor', '__proto__', 'toString', '7']) call.send({ type: 'dtmf', digit: key });
    call.send({ type: 'dtmf', digit: '0' });
    await call.waitForReplies(1);
    // Every frame's invocation has returned before anything is counted.
    await expect.poll(() => engine!.routeResults.length).toBe(handled + 5);
    expect(call.replies()).toEqual(['Our office is open nine to five.']);
    expect(engine.llm.requests).toHaveLength(0);
    expect((await listTurnRecords(engine.table, call.sessionId)).map((r) => r.kind)).toEqual(['dtmf']);
  });
});
