import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendMessages,
  bindConnection,
  ConditionFailedError,
  createIdFactory,
  createSession,
  createTable,
  endSession,
  getProfile,
  getSession,
  getUseCase,
  listSessionsByDay,
  listTurnRecords,
  listUseCases,
  loadConversation,
  NotFoundError,
  putTurnRecord,
  putUseCase,
  sessionIdForConnection,
  StoreError,
  rewriteHeard,
  updateProfile,
  updateSession,
  type NewSession,
} from '../../layers/data/index.ts';
import { backends, createTestTable, type TestTable } from '../support/dynamo.ts';
import { sessionFixture } from '../support/sessions.ts';

const newSession = (id: string, overrides: Partial<NewSession> = {}) => sessionFixture(id, { useCaseId: 'default', ...overrides });

describe.each(backends())('data layer on %s', (backend) => {
  let table: TestTable;
  beforeAll(async () => {
    table = await createTestTable(backend);
  });
  afterAll(async () => {
    await table.drop();
  });

  it('loads a session with its whole history in one query, in write order, without turn records', async () => {
    await createSession(table, newSession('s-history'));
    await appendMessages(table, 's-history', [{ role: 'user', content: 'hello', turn: 1, source: 'speech' }]);
    await appendMessages(table, 's-history', [
      { role: 'assistant', content: null, turn: 1, toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{"a":1}' }] },
      { role: 'tool', content: '{"ok":true}', toolCallId: 'c1', toolName: 'lookup', turn: 1 },
    ]);
    await putTurnRecord(table, { sessionId: 's-history', turn: 1, useCaseId: 'default', callSid: 'CA1', kind: 'prompt', promptReceivedAt: 1, outcome: 'completed' });
    const { session, messages } = await loadConversation(table, 's-history');
    expect(session.sessionId).toBe('s-history');
    expect(session.status).toBe('created');
    expect(session.expireAt).toBeGreaterThan(Date.now() / 1000);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(messages[1]?.toolCalls).toEqual([{ id: 'c1', name: 'lookup', arguments: '{"a":1}' }]);
    expect(messages.every((m) => m.expireAt > Date.now() / 1000)).toBe(true);
    expect(await listTurnRecords(table, 's-history')).toHaveLength(1);
  });

  it('keeps 1,000 messages written concurrently within one millisecond, complete and in write order per writer', async () => {
    await createSession(table, newSession('s-burst'));
    const frozen = () => 1_750_000_000_000;
    const writers = [createIdFactory(frozen), createIdFactory(frozen)];
    const writes = Array.from({ length: 1000 }, (_, i) => {
      const writer = i % 2;
      const messageId = writers[writer]!();
      return appendMessages(table, 's-burst', [{ messageId, role: 'user', content: `w${writer}-${i}`, turn: 1 }], frozen());
    });
    await Promise.all(writes);
    const { messages } = await loadConversation(table, 's-burst', 2_000);
    expect(messages).toHaveLength(1000);
    for (const writer of [0, 1]) {
      const seq = messages.filter((m) => m.content!.startsWith(`w${writer}-`)).map((m) => Number(m.content!.split('-')[1]));
      expect(seq).toHaveLength(500);
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
    }
    // 1,000 real writes: seconds on an idle machine, far more next to another CPU-heavy process.
  }, 120_000);

  it('refuses a duplicate message id instead of overwriting', async () => {
    await createSession(table, newSession('s-dup'));
    await appendMessages(table, 's-dup', [{ messageId: 'FIXED', role: 'user', content: 'one', turn: 1 }]);
    await expect(appendMessages(table, 's-dup', [{ messageId: 'FIXED', role: 'user', content: 'two', turn: 1 }])).rejects.toBeInstanceOf(ConditionFailedError);
    const { messages } = await loadConversation(table, 's-dup');
    expect(messages.map((m) => m.content)).toEqual(['one']);
  });

  it('binds a connection once, resolves it, and refuses unknown, ended or expired sessions', async () => {
    await createSession(table, newSession('s-bind'));
    const bound = await bindConnection(table, 's-bind', 'conn-1');
    expect(bound.status).toBe('connected');
    expect(bound.connectionId).toBe('conn-1');
    expect(await sessionIdForConnection(table, 'conn-1')).toBe('s-bind');
    expect(await sessionIdForConnection(table, 'conn-unknown')).toBeUndefined();
    await expect(bindConnection(table, 's-bind', 'conn-2')).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(bindConnection(table, 's-missing', 'conn-3')).rejects.toBeInstanceOf(ConditionFailedError);
    await createSession(table, newSession('s-old'), Date.now() - 30 * 24 * 3600 * 1000);
    await expect(bindConnection(table, 's-old', 'conn-4')).rejects.toBeInstanceOf(ConditionFailedError);
  });

  it('truncates an assistant message to what was heard, and never creates a phantom one', async () => {
    await createSession(table, newSession('s-cut'));
    const [reply] = await appendMessages(table, 's-cut', [{ role: 'assistant', content: 'The studio rents for 1050 dollars a month and', turn: 1 }]);
    await rewriteHeard(table, 's-cut', reply!.messageId, 'The studio rents');
    await expect(rewriteHeard(table, 's-cut', 'NOPE', 'x')).rejects.toBeInstanceOf(ConditionFailedError);
    const { messages } = await loadConversation(table, 's-cut');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ content: 'The studio rents', interrupted: true });
  });

  it('ends a session once, keeping the first reason, and updates live session fields', async () => {
    await createSession(table, newSession('s-end'));
    await updateSession(table, 's-end', { dtmfMap: { '1': { say: 'Hi', description: 'greets' } } });
    await endSession(table, 's-end', 'handoff', { handoffData: '{"reason":"agent"}' });
    await endSession(table, 's-end', 'disconnect');
    const s = await getSession(table, 's-end');
    expect(s).toMatchObject({ status: 'ended', endReason: 'handoff', handoffData: '{"reason":"agent"}' });
    expect(s?.dtmfMap['1']?.say).toBe('Hi');
    await expect(updateSession(table, 's-nope', { outcome: 'x' })).rejects.toBeInstanceOf(ConditionFailedError);
  });

  it('lists sessions by day, newest first', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const listed = await listSessionsByDay(table, [day], 1000);
    expect(listed.map((s) => s.sessionId)).toContain('s-history');
    const times = listed.map((s) => s.createdAt);
    expect(times).toEqual([...times].sort().reverse());
  });

  it('merges caller profile fields without read-modify-write', async () => {
    expect(await getProfile(table, '+14065550123')).toBeUndefined();
    await Promise.all([
      updateProfile(table, '+14065550123', { firstName: 'Ada', lastName: 'Lovelace' }),
      updateProfile(table, '+14065550123', { useCaseId: 'apartment-search' }),
    ]);
    expect(await getProfile(table, '+14065550123')).toMatchObject({ phone: '+14065550123', firstName: 'Ada', lastName: 'Lovelace', useCaseId: 'apartment-search' });
  });

  it('stores, validates and lists use cases through the index', async () => {
    await putUseCase(table, { id: 'demo-a', name: 'A', description: 'first', promptTemplate: 'Hi' });
    await putUseCase(table, { id: 'demo-a', name: 'A2', description: 'first', promptTemplate: 'Hi' });
    await putUseCase(table, { id: 'demo-b', name: 'B', description: 'second', promptTemplate: 'Hi', listed: false });
    expect((await getUseCase(table, 'demo-a')).name).toBe('A2');
    expect((await listUseCases(table)).map((u) => u.id).sort()).toEqual(['demo-a', 'demo-b']);
    await expect(getUseCase(table, 'nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      putUseCase(table, { id: 'bad', name: 'B', description: 'd', promptTemplate: 'x', dtmfMap: { '1': { tool: 'missing', description: 'x' } } }),
    ).rejects.toThrow(/unknown tool/);
  });
});

describe('data layer errors', () => {
  it('surfaces an unreachable table as a StoreError naming the operation and key', async () => {
    const table = createTable({ name: 'nowhere', endpoint: 'http://127.0.0.1:9', region: 'local' });
    const err = await getSession(table, 'abc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(/GetItem session failed for .*session#abc/);
  });

  it('surfaces a missing table as a StoreError, not an empty result', async () => {
    const endpoint = (await createTestTable()).endpoint;
    const table = createTable({ name: 'no-such-table', endpoint, region: 'local' });
    await expect(loadConversation(table, 'x')).rejects.toBeInstanceOf(StoreError);
  });
});
