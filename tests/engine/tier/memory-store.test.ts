import { describe, expect, it } from 'vitest';
import { ConditionFailedError, emptyLedger, StoreError, type Ledger } from '../../../layers/data/index.ts';
import { sessionFixture } from '../../support/sessions.ts';
import { createManualClock } from './manual-clock.ts';
import { createMemoryStore } from './memory-store.ts';
import { settle } from './settle.ts';

// What the store does is pinned by the contract suite (tests/contract), against DynamoDB too. These tests cover
// what only the memory store has: the clock, the inspection helpers and the hooks a test forces races with.

const claim = (ledger: Ledger, userText: string): Ledger => ({
  ...ledger,
  v: ledger.v + 1,
  turnCount: ledger.turnCount + 1,
  turns: { ...ledger.turns, [String(ledger.turnCount + 1)]: { state: 'streaming', promptAt: 0, userText, committed: false } },
});

describe('memory store', () => {
  it('never takes effect synchronously: a write lands on a later tick, as a network round trip would', async () => {
    const store = createMemoryStore();
    await store.seedSession(sessionFixture('s1'));
    const write = store.compareAndSetLedger('s1', 0, claim(emptyLedger(), 'hi'));
    expect(store.session('s1')?.ledger).toEqual(emptyLedger());
    await write;
    expect(store.session('s1')?.ledger.turnCount).toBe(1);
  });

  it('stamps times from the clock it is given, and checks expiry against it', async () => {
    const clock = createManualClock(Date.UTC(2025, 0, 1));
    const store = createMemoryStore({ clock });
    const session = await store.seedSession(sessionFixture('s1'));
    expect(session.createdAt).toBe('2025-01-01T00:00:00.000Z');
    const [message] = await store.appendMessages('s1', [{ role: 'user', content: 'hi', turn: 1 }]);
    expect(message?.createdAt).toBe('2025-01-01T00:00:00.000Z');
    await clock.advance(session.expireAt * 1_000 - clock.now());
    expect(await store.bindConnection('s1', 'c1').catch((err: unknown) => err)).toBeInstanceOf(ConditionFailedError);
  });

  it('hands out copies: changing what a call returned or was given never changes what is stored', async () => {
    const store = createMemoryStore();
    await store.seedSession(sessionFixture('s1'));
    const next = claim(emptyLedger(), 'hi');
    await store.compareAndSetLedger('s1', 0, next);
    next.turns['1']!.userText = 'changed by the caller';
    const read = await store.readLedger('s1');
    read!.ledger.turnCount = 99;
    const messages = [{ role: 'user' as const, content: 'original', turn: 1 }];
    const [stored] = await store.appendMessages('s1', messages);
    messages[0]!.content = 'changed';
    stored!.content = 'changed too';
    store.messages('s1')[0]!.content = 'and this';
    expect(store.session('s1')?.ledger).toEqual(claim(emptyLedger(), 'hi'));
    expect(store.messages('s1').map((m) => m.content)).toEqual(['original']);
  });

  it('lists sessions, messages and turn records for inspection, empty for an unknown session', async () => {
    const store = createMemoryStore();
    await store.seedSession(sessionFixture('s1'));
    await store.appendMessages('s1', [{ role: 'user', content: 'a', turn: 1 }]);
    await store.putTurnRecord({ sessionId: 's1', turn: 10, useCaseId: 'test', callSid: 'CA', kind: 'prompt', promptReceivedAt: 0, outcome: 'completed' });
    await store.putTurnRecord({ sessionId: 's1', turn: 9, useCaseId: 'test', callSid: 'CA', kind: 'dtmf', promptReceivedAt: 0, outcome: 'failed' });
    expect(store.session('s1')?.status).toBe('created');
    expect(store.turnRecords('s1').map((r) => r.turn)).toEqual([9, 10]);
    expect([store.session('nope'), store.messages('nope'), store.turnRecords('nope')]).toEqual([undefined, [], []]);
  });

  it('records every call in order with the clock time (to count reads per turn)', async () => {
    const clock = createManualClock(0);
    const store = createMemoryStore({ clock });
    await store.seedSession(sessionFixture('s1'));
    await store.readLedger('s1');
    await clock.advance(100);
    await store.readLedger('s1');
    await store.loadConversation('s1', 60);
    await store.endSession('s1', 'hangup');
    expect(store.calls.map((c) => [c.op, c.at, c.args])).toEqual([
      ['readLedger', 0, ['s1']],
      ['readLedger', 100, ['s1']],
      ['loadConversation', 100, ['s1', 60]],
      ['endSession', 100, ['s1', 'hangup', undefined]],
    ]);
  });

  it('fails the next matching call as told: a StoreError naming the operation by default, nothing written', async () => {
    const store = createMemoryStore();
    await store.seedSession(sessionFixture('s1'));
    await store.seedSession(sessionFixture('s2'));
    store.fail('appendMessages', { match: (sessionId) => sessionId === 's2', times: 2 });
    await store.appendMessages('s1', [{ role: 'user', content: 'fine', turn: 1 }]);
    for (let i = 0; i < 2; i++) {
      const err = await store.appendMessages('s2', [{ role: 'user', content: 'lost', turn: 1 }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).operation).toBe('appendMessages');
    }
    await store.appendMessages('s2', [{ role: 'user', content: 'third time', turn: 1 }]);
    expect(store.messages('s2').map((m) => m.content)).toEqual(['third time']);
    expect(store.messages('s1').map((m) => m.content)).toEqual(['fine']);
  });

  it("fails after the write when asked: it landed, but the caller hears an error (a timeout after DynamoDB's commit)", async () => {
    const store = createMemoryStore();
    await store.seedSession(sessionFixture('s1'));
    const lost = new ConditionFailedError('UpdateItem turn ledger', undefined, new Error('scripted'));
    store.fail('compareAndSetLedger', { phase: 'after', error: lost });
    expect(await store.compareAndSetLedger('s1', 0, claim(emptyLedger(), 'hi')).catch((e: unknown) => e)).toBe(lost);
    expect(store.session('s1')?.ledger.v).toBe(1);
  });

  it('holds a compare-and-set before it lands, so a rival write can win the race at that exact point', async () => {
    const store = createMemoryStore();
    await store.seedSession(sessionFixture('s1'));
    const release = store.hold('compareAndSetLedger');
    const slow = store.compareAndSetLedger('s1', 0, claim(emptyLedger(), 'slow writer'));
    const [sessionId, expected] = await release.reached;
    expect([sessionId, expected]).toEqual(['s1', 0]);
    await store.compareAndSetLedger('s1', 0, claim(emptyLedger(), 'fast writer'));
    release();
    expect(await slow.catch((e: unknown) => e)).toBeInstanceOf(ConditionFailedError);
    expect(store.session('s1')?.ledger.turns['1']?.userText).toBe('fast writer');
  });

  it('holds after the write lands: the state has changed, the caller does not know yet', async () => {
    const store = createMemoryStore();
    await store.seedSession(sessionFixture('s1'));
    const release = store.hold('appendMessages', { phase: 'after' });
    let answered = false;
    const write = store.appendMessages('s1', [{ role: 'assistant', content: 'reply', turn: 1 }]).then(() => (answered = true));
    await release.reached;
    await settle();
    expect(store.messages('s1')).toHaveLength(1);
    expect(answered).toBe(false);
    release();
    await write;
    expect(answered).toBe(true);
  });

  it('holds one call per hold, only a matching one, and a hold released before any call reached it is disarmed', async () => {
    const store = createMemoryStore();
    await store.seedSession(sessionFixture('s1'));
    await store.seedSession(sessionFixture('s2'));
    const unused = store.hold('readLedger');
    unused();
    expect(await store.readLedger('s1')).toBeDefined();

    const onlyS2 = store.hold('readLedger', { match: (sessionId) => sessionId === 's2' });
    expect((await store.readLedger('s1'))?.status).toBe('created');
    let s2Read = false;
    const held = store.readLedger('s2').then(() => (s2Read = true));
    await onlyS2.reached;
    expect((await store.readLedger('s2'))?.status).toBe('created');
    expect(s2Read).toBe(false);
    onlyS2();
    await held;
    expect(s2Read).toBe(true);
  });
});
