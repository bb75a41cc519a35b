import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConditionFailedError,
  createIdFactory,
  emptyLedger,
  MAX_MESSAGE_CHARS,
  MAX_TOOL_ARGUMENT_CHARS,
  NotFoundError,
  ttlSeconds,
  type Ledger,
  type LedgerTurn,
  type NewMessage,
  type NewSession,
  type TurnRecord,
} from '../../layers/data/index.ts';
import type { Store } from '../../02_cr-application/src/engine/ports.ts';
import { sessionFixture } from '../support/sessions.ts';

/**
 * The behaviour of the engine's Store port, written once and run against every implementation: the in-memory
 * store of the engine test tier and the table store on each local DynamoDB. An engine test on the memory store
 * is only worth something if the two agree; this suite is where they are made to.
 */
export interface StoreUnderTest {
  store: Store;
  /** Creates a session as call setup does (`created`, no ledger yet); `now` back-dates it. */
  seed(session: NewSession, now?: number): Promise<void>;
  /** The session's turn records, by turn (the port only writes them). */
  turnRecords(sessionId: string): Promise<TurnRecord[]>;
  dispose(): Promise<void>;
}

const turn = (userText: string, overrides: Partial<LedgerTurn> = {}): LedgerTurn => ({ state: 'streaming', promptAt: 1_000, userText, committed: false, ...overrides });

/** The next ledger after `ledger` with one more claimed turn. */
function claimed(ledger: Ledger, userText: string): Ledger {
  const n = ledger.turnCount + 1;
  return { ...ledger, v: ledger.v + 1, turnCount: n, turns: { ...ledger.turns, [String(n)]: turn(userText) } };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

export function describeStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let under: StoreUnderTest;
    let store: Store;
    // Sessions are unique per run and per test, so tests share one store without seeing each other.
    const run = randomUUID().slice(0, 8);
    let seq = 0;
    const newSessionId = () => `s-${run}-${++seq}`;
    async function seeded(overrides: Partial<NewSession> = {}, now?: number): Promise<string> {
      const sessionId = newSessionId();
      await under.seed(sessionFixture(sessionId, overrides), now);
      return sessionId;
    }

    beforeAll(async () => {
      under = await open();
      store = under.store;
    });
    afterAll(async () => {
      await under?.dispose();
    });

    describe('session', () => {
      it('reads back a new session with an empty ledger and no history; an unknown one is not found', async () => {
        const id = await seeded({ callSid: 'CA-new' });
        const { session, messages } = await store.loadConversation(id, 60);
        expect(session).toMatchObject({ sessionId: id, callSid: 'CA-new', status: 'created', ledger: emptyLedger() });
        expect(session.connectionId).toBeUndefined();
        expect(session.expireAt).toBeGreaterThan(Date.now() / 1000);
        expect(messages).toEqual([]);
        expect(await store.readLedger(id)).toEqual({ ledger: emptyLedger(), status: 'created' });
        expect(await store.callSidOf(id)).toBe('CA-new');

        const unknown = newSessionId();
        expect(await rejection(store.loadConversation(unknown, 60))).toBeInstanceOf(NotFoundError);
        expect(await store.readLedger(unknown)).toBeUndefined();
        expect(await store.callSidOf(unknown)).toBeUndefined();
        expect(await store.sessionIdForConnection(`conn-${unknown}`)).toBeUndefined();
      });

      it('binds a created session to its connection once; a second bind is refused and leaves no pointer', async () => {
        const id = await seeded({ callSid: 'CA-bind' });
        expect(await store.bindConnection(id, `conn-${id}`)).toEqual({ callSid: 'CA-bind' });
        expect(await store.sessionIdForConnection(`conn-${id}`)).toBe(id);
        const { session } = await store.loadConversation(id, 60);
        expect(session).toMatchObject({ status: 'connected', connectionId: `conn-${id}` });

        expect(await rejection(store.bindConnection(id, `conn-${id}-again`))).toBeInstanceOf(ConditionFailedError);
        expect(await store.sessionIdForConnection(`conn-${id}-again`)).toBeUndefined();
        expect((await store.loadConversation(id, 60)).session.connectionId).toBe(`conn-${id}`);
      });

      it('refuses to bind an unknown, ended or expired session', async () => {
        const unknown = newSessionId();
        expect(await rejection(store.bindConnection(unknown, `conn-${unknown}`))).toBeInstanceOf(ConditionFailedError);

        const ended = await seeded();
        await store.endSession(ended, 'hangup');
        expect(await rejection(store.bindConnection(ended, `conn-${ended}`))).toBeInstanceOf(ConditionFailedError);

        const longAgo = Date.now() - (ttlSeconds() + 3_600) * 1_000;
        const expired = await seeded({}, longAgo);
        expect(await rejection(store.bindConnection(expired, `conn-${expired}`))).toBeInstanceOf(ConditionFailedError);
        for (const id of [unknown, ended, expired]) expect(await store.sessionIdForConnection(`conn-${id}`)).toBeUndefined();
        expect((await store.readLedger(expired))?.status).toBe('created');
      });

      it('ends a session once: the first reason and end time stay, the hand-off data is kept; an unknown one is refused', async () => {
        const id = await seeded();
        await store.endSession(id, 'handoff', { handoffData: '{"reason":"agent"}' });
        const first = (await store.loadConversation(id, 60)).session;
        await store.endSession(id, 'hangup');
        const { session } = await store.loadConversation(id, 60);
        expect(session).toMatchObject({ status: 'ended', endReason: 'handoff', handoffData: '{"reason":"agent"}' });
        expect(session.endedAt).toBe(first.endedAt);
        expect((await store.readLedger(id))?.status).toBe('ended');

        const unknown = newSessionId();
        expect(await rejection(store.endSession(unknown, 'hangup'))).toBeInstanceOf(ConditionFailedError);
        expect(await store.readLedger(unknown)).toBeUndefined();
      });

      it('updates the given fields of a live session and nothing else; an unknown session is refused', async () => {
        const id = await seeded({ systemPrompt: 'before', useCaseId: 'first' });
        const tools = [{ name: 'lookup', description: 'Looks things up', parameters: { type: 'object' as const, properties: {} } }];
        await store.updateSession(id, { systemPrompt: 'after', tools, outcome: undefined });
        const { session } = await store.loadConversation(id, 60);
        expect(session).toMatchObject({ systemPrompt: 'after', tools, useCaseId: 'first', status: 'created' });
        expect(session.outcome).toBeUndefined();
        expect(await rejection(store.updateSession(newSessionId(), { systemPrompt: 'x' }))).toBeInstanceOf(ConditionFailedError);
      });
    });

    describe('turn ledger', () => {
      it('creates the ledger from version 0, then moves it one version at a time; the session read carries it', async () => {
        const id = await seeded();
        const first = claimed(emptyLedger(), 'hello');
        await store.compareAndSetLedger(id, 0, first);
        expect(await store.readLedger(id)).toEqual({ ledger: first, status: 'created' });
        const second: Ledger = {
          ...claimed(first, 'and then'),
          turns: { '1': turn('hello', { state: 'interrupted', heard: 'Hel', heardMs: 420, committed: true, replyMessageId: 'm1', heardApplied: true }), '2': turn('and then') },
          partial: [{ at: 2_000, text: 'wait' }],
          partialsUntil: 1_999,
        };
        await store.compareAndSetLedger(id, 1, second);
        expect((await store.readLedger(id))?.ledger).toEqual(second);
        expect((await store.loadConversation(id, 60)).session.ledger).toEqual(second);
      });

      it('keeps interrupt notes beside the ledger: written whatever its version, read with it oldest first, never stored in it, cleared one by one', async () => {
        const id = await seeded();
        await store.noteInterrupt(id, { at: 3_000, heard: 'Two' });
        await store.noteInterrupt(id, { at: 2_000, heard: 'One', heardMs: 300 });
        const notes = [{ at: 2_000, heard: 'One', heardMs: 300 }, { at: 3_000, heard: 'Two' }];
        expect((await store.readLedger(id))?.ledger).toEqual({ ...emptyLedger(), notes });
        const first = claimed(emptyLedger(), 'hello');
        await store.compareAndSetLedger(id, 0, { ...first, notes: [{ at: 9_999, heard: 'not stored' }] });
        expect((await store.readLedger(id))?.ledger).toEqual({ ...first, notes });
        expect((await store.loadConversation(id, 60)).session.ledger).toEqual({ ...first, notes });
        await store.clearInterruptNote(id, 2_000);
        expect((await store.readLedger(id))?.ledger.notes).toEqual([{ at: 3_000, heard: 'Two' }]);
        await store.clearInterruptNote(id, 3_000);
        await store.clearInterruptNote(id, 3_000);
        expect((await store.readLedger(id))?.ledger).toEqual(first);
        expect(await rejection(store.noteInterrupt(newSessionId(), { at: 1, heard: 'nobody' }))).toBeInstanceOf(ConditionFailedError);
      });

      it('refuses a stale version with ConditionFailedError and keeps the ledger as it was', async () => {
        const id = await seeded();
        const first = claimed(emptyLedger(), 'one');
        await store.compareAndSetLedger(id, 0, first);
        const second = claimed(first, 'two');
        await store.compareAndSetLedger(id, 1, second);
        expect(await rejection(store.compareAndSetLedger(id, 1, { ...claimed(first, 'stale'), v: 2 }))).toBeInstanceOf(ConditionFailedError);
        expect(await rejection(store.compareAndSetLedger(id, 0, first))).toBeInstanceOf(ConditionFailedError);
        expect((await store.readLedger(id))?.ledger).toEqual(second);
      });

      it('refuses a write that does not advance the version by exactly one, before it reaches the table', async () => {
        const id = await seeded();
        for (const next of [{ ...claimed(emptyLedger(), 'skip'), v: 2 }, { ...emptyLedger(), v: 0 }]) {
          const err = await rejection(store.compareAndSetLedger(id, 0, next));
          expect(err).toBeInstanceOf(Error);
          expect(err).not.toBeInstanceOf(ConditionFailedError);
          expect((err as Error).message).toMatch(/advance the version by one/);
        }
        expect(await store.readLedger(id)).toEqual({ ledger: emptyLedger(), status: 'created' });
      });

      it('refuses a ledger write for an unknown session, and creates nothing', async () => {
        const unknown = newSessionId();
        expect(await rejection(store.compareAndSetLedger(unknown, 0, claimed(emptyLedger(), 'x')))).toBeInstanceOf(ConditionFailedError);
        expect(await rejection(store.compareAndSetLedger(unknown, 3, { ...emptyLedger(), v: 4 }))).toBeInstanceOf(ConditionFailedError);
        expect(await store.readLedger(unknown)).toBeUndefined();
      });

      it('lets exactly one of two writers deciding from the same version win; the loser re-reads and builds on it', async () => {
        const id = await seeded();
        const base = claimed(emptyLedger(), 'first');
        await store.compareAndSetLedger(id, 0, base);
        const a = { ...claimed(base, 'writer a') };
        const b = { ...claimed(base, 'writer b') };
        const results = await Promise.allSettled([store.compareAndSetLedger(id, 1, a), store.compareAndSetLedger(id, 1, b)]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]).toBeInstanceOf(ConditionFailedError);
        const winner = results[0]?.status === 'fulfilled' ? a : b;
        const loser = winner === a ? 'writer b' : 'writer a';
        const now = (await store.readLedger(id))!.ledger;
        expect(now).toEqual(winner);
        await store.compareAndSetLedger(id, now.v, claimed(now, loser));
        const after = (await store.readLedger(id))!.ledger;
        expect(after.turnCount).toBe(3);
        expect(Object.values(after.turns).map((t) => t.userText).sort()).toEqual(['first', 'writer a', 'writer b']);
      });

      it('lets two first claims race for a session without a ledger: one creates it, the other is refused', async () => {
        const id = await seeded();
        const results = await Promise.allSettled([
          store.compareAndSetLedger(id, 0, claimed(emptyLedger(), 'a')),
          store.compareAndSetLedger(id, 0, claimed(emptyLedger(), 'b')),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []))[0]).toBeInstanceOf(ConditionFailedError);
        expect((await store.readLedger(id))?.ledger.v).toBe(1);
      });

      it('loses no write when many writers read, decide and compare-and-set at once, retrying on a lost race', async () => {
        const id = await seeded();
        const writers = 8;
        let conflicts = 0;
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (;;) {
              const { ledger } = (await store.readLedger(id))!;
              try {
                await store.compareAndSetLedger(id, ledger.v, claimed(ledger, `writer ${w}`));
                return;
              } catch (err) {
                if (!(err instanceof ConditionFailedError)) throw err;
                conflicts++;
              }
            }
          }),
        );
        const { ledger } = (await store.readLedger(id))!;
        expect(ledger.v).toBe(writers);
        expect(ledger.turnCount).toBe(writers);
        expect(Object.values(ledger.turns).map((t) => t.userText).sort()).toEqual(Array.from({ length: writers }, (_, w) => `writer ${w}`).sort());
        // Every lost race cost exactly one retry: the writes that landed are the writers, no more.
        expect(conflicts).toBeLessThanOrEqual((writers * (writers - 1)) / 2);
      });
    });

    describe('chat history', () => {
      it('stores messages with an id, time and expiry, and reads them back in write order across appends', async () => {
        const id = await seeded();
        const stored = await store.appendMessages(id, [{ role: 'user', content: 'hello', turn: 1, source: 'speech' }]);
        await store.appendMessages(id, [
          { role: 'assistant', content: null, turn: 1, toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{"a":1}' }] },
          { role: 'tool', content: '{"ok":true}', toolCallId: 'c1', toolName: 'lookup', turn: 1 },
        ]);
        await store.appendMessages(id, [{ role: 'assistant', content: 'Found it.', turn: 1 }]);
        expect(stored).toHaveLength(1);
        expect(stored[0]).toMatchObject({ role: 'user', content: 'hello', turn: 1, source: 'speech' });
        expect(stored[0]?.messageId).toMatch(/^\w+$/);
        expect(Date.parse(stored[0]!.createdAt)).not.toBeNaN();
        expect(stored[0]?.expireAt).toBeGreaterThan(Date.now() / 1000);

        const { messages } = await store.loadConversation(id, 60);
        expect(messages.map((m) => [m.role, m.content])).toEqual([
          ['user', 'hello'],
          ['assistant', null],
          ['tool', '{"ok":true}'],
          ['assistant', 'Found it.'],
        ]);
        expect(messages[0]).toEqual(stored[0]);
        expect(messages[1]?.toolCalls).toEqual([{ id: 'c1', name: 'lookup', arguments: '{"a":1}' }]);
        expect(messages[2]).toMatchObject({ toolCallId: 'c1', toolName: 'lookup' });
      });

      it('loads only the newest messages that fit the budget, still in write order', async () => {
        const id = await seeded();
        await store.appendMessages(id, Array.from({ length: 10 }, (_, i): NewMessage => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}`, turn: 1 + Math.floor(i / 2) })));
        expect((await store.loadConversation(id, 4)).messages.map((m) => m.content)).toEqual(['m6', 'm7', 'm8', 'm9']);
        expect((await store.loadConversation(id, 1)).messages.map((m) => m.content)).toEqual(['m9']);
        expect((await store.loadConversation(id, 60)).messages).toHaveLength(10);
      });

      it('orders history by message id, so ids minted in write order (by concurrent writers too) read back in that order', async () => {
        const id = await seeded();
        await store.appendMessages(id, [{ messageId: 'b-later-id', role: 'user', content: 'written first', turn: 1 }]);
        await store.appendMessages(id, [{ messageId: 'a-earlier-id', role: 'user', content: 'written second', turn: 1 }]);
        expect((await store.loadConversation(id, 60)).messages.map((m) => m.messageId)).toEqual(['a-earlier-id', 'b-later-id']);

        const burst = await seeded();
        const frozen = () => 1_750_000_000_000;
        const writers = [createIdFactory(frozen), createIdFactory(frozen)];
        await Promise.all(
          Array.from({ length: 60 }, (_, i) => store.appendMessages(burst, [{ messageId: writers[i % 2]!(), role: 'user', content: `w${i % 2}-${i}`, turn: 1 }])),
        );
        const { messages } = await store.loadConversation(burst, 100);
        expect(messages).toHaveLength(60);
        for (const w of [0, 1]) {
          const order = messages.filter((m) => m.content!.startsWith(`w${w}-`)).map((m) => Number(m.content!.split('-')[1]));
          expect(order).toEqual([...order].sort((x, y) => x - y));
        }
      });

      it('keeps each session to its own history, without turn records', async () => {
        const mine = await seeded();
        const other = await seeded();
        await store.appendMessages(mine, [{ role: 'user', content: 'mine', turn: 1 }]);
        await store.appendMessages(other, [{ role: 'user', content: 'theirs', turn: 1 }]);
        await store.putTurnRecord({ sessionId: mine, turn: 1, useCaseId: 'test', callSid: 'CA1', kind: 'prompt', promptReceivedAt: 1, outcome: 'completed' });
        expect((await store.loadConversation(mine, 60)).messages.map((m) => m.content)).toEqual(['mine']);
      });

      it('refuses a message id that exists instead of overwriting it', async () => {
        const id = await seeded();
        await store.appendMessages(id, [{ messageId: 'fixed', role: 'user', content: 'original', turn: 1 }]);
        expect(await rejection(store.appendMessages(id, [{ messageId: 'fixed', role: 'user', content: 'overwrite', turn: 2 }]))).toBeInstanceOf(
          ConditionFailedError,
        );
        expect(await store.getMessage(id, 'fixed')).toMatchObject({ content: 'original', turn: 1 });
        expect((await store.loadConversation(id, 60)).messages).toHaveLength(1);
      });

      it('gets one message by id, or nothing', async () => {
        const id = await seeded();
        const [stored] = await store.appendMessages(id, [{ role: 'assistant', content: 'Hi.', turn: 1 }]);
        expect(await store.getMessage(id, stored!.messageId)).toEqual(stored);
        expect(await store.getMessage(id, 'missing')).toBeUndefined();
        expect(await store.getMessage(newSessionId(), stored!.messageId)).toBeUndefined();
      });

      it('rewrites an assistant message to what was heard, and refuses any other message or a missing one without creating it', async () => {
        const id = await seeded();
        await store.appendMessages(id, [
          { messageId: 'u1', role: 'user', content: 'Tell me a story.', turn: 1 },
          { messageId: 'a1', role: 'assistant', content: 'Once upon a time there was a', turn: 1 },
        ]);
        await store.rewriteHeard(id, 'a1', 'Once upon a time');
        expect(await store.getMessage(id, 'a1')).toMatchObject({ role: 'assistant', content: 'Once upon a time', interrupted: true });

        expect(await rejection(store.rewriteHeard(id, 'u1', 'nope'))).toBeInstanceOf(ConditionFailedError);
        expect(await store.getMessage(id, 'u1')).toMatchObject({ content: 'Tell me a story.' });
        expect((await store.getMessage(id, 'u1'))?.interrupted).toBeUndefined();
        expect(await rejection(store.rewriteHeard(id, 'phantom', 'words never said'))).toBeInstanceOf(ConditionFailedError);
        expect(await store.getMessage(id, 'phantom')).toBeUndefined();
        expect((await store.loadConversation(id, 60)).messages.map((m) => m.messageId)).toEqual(['a1', 'u1']);
      });

      it('cuts text that would not fit an item (a mark says so), keeps text at the limit whole, and keeps tool arguments valid JSON', async () => {
        const id = await seeded();
        const long = 'x'.repeat(MAX_MESSAGE_CHARS + 5_000);
        const atLimit = 'y'.repeat(MAX_MESSAGE_CHARS);
        // 150,000 three-byte characters: 450 KB of UTF-8, over DynamoDB's 400 KB item limit if it were kept.
        const wide = '界'.repeat(150_000);
        const bigArgs = JSON.stringify({ q: 'z'.repeat(MAX_TOOL_ARGUMENT_CHARS) });
        const okArgs = JSON.stringify({ q: 'k'.repeat(MAX_TOOL_ARGUMENT_CHARS - '{"q":""}'.length) });
        expect(okArgs.length).toBe(MAX_TOOL_ARGUMENT_CHARS);
        const stored = await store.appendMessages(id, [
          { messageId: 'm1', role: 'user', content: long, turn: 1 },
          { messageId: 'm2', role: 'assistant', content: atLimit, turn: 1 },
          { messageId: 'm3', role: 'user', content: wide, turn: 2 },
          { messageId: 'm4', role: 'assistant', content: null, turn: 2, toolCalls: [{ id: 'c1', name: 'big', arguments: bigArgs }, { id: 'c2', name: 'ok', arguments: okArgs }] },
          { messageId: 'm5', role: 'tool', content: long, toolCallId: 'c1', toolName: 'big', turn: 2 },
        ]);
        const { messages } = await store.loadConversation(id, 60);
        expect(messages).toEqual(stored);
        const [m1, m2, m3, m4, m5] = messages;
        for (const [cut, original] of [
          [m1, long],
          [m3, wide],
          [m5, long],
        ] as const) {
          expect(cut!.content!.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
          expect(cut!.content!.startsWith(original.slice(0, MAX_MESSAGE_CHARS - 100))).toBe(true);
          expect(cut!.content).toMatch(/\[cut[^\]]*\]$/);
        }
        expect(m2!.content).toBe(atLimit);
        expect(m4!.toolCalls).toEqual([
          { id: 'c1', name: 'big', arguments: '{}' },
          { id: 'c2', name: 'ok', arguments: okArgs },
        ]);
      });
    });

    describe('turn records', () => {
      it('stores one record per turn; writing a turn again replaces it', async () => {
        const id = await seeded();
        const record = (turnNo: number, outcome: TurnRecord['outcome']): TurnRecord => ({
          sessionId: id,
          turn: turnNo,
          useCaseId: 'test',
          callSid: `CA${id}`,
          kind: 'prompt',
          promptReceivedAt: 1_000 * turnNo,
          outcome,
        });
        await store.putTurnRecord(record(2, 'completed'));
        await store.putTurnRecord({ ...record(1, 'interrupted'), interruptedAt: 1_500, tools: [{ name: 'lookup', startedAt: 1_100, durationMs: 40, ok: true }] });
        await store.putTurnRecord(record(2, 'superseded'));
        const records = await under.turnRecords(id);
        expect(records.map((r) => [r.turn, r.outcome])).toEqual([
          [1, 'interrupted'],
          [2, 'superseded'],
        ]);
        expect(records[0]).toMatchObject({ interruptedAt: 1_500, tools: [{ name: 'lookup', durationMs: 40, ok: true }] });
      });
    });
  });
}
