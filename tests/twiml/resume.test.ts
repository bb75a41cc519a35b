import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallSetupHandler } from '../../03_twiml-api/src/handlers/call-setup.ts';
import { MAX_RESUMED_MESSAGES } from '../../03_twiml-api/src/resume.ts';
import { appendMessages, endSession, loadConversation, putUseCase } from '../../layers/data/index.ts';
import { compareAndSetLedger } from '../../layers/data/turn-ledger.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { AUTH_TOKEN, captureLogger, DEFAULT_USE_CASE, parseTwiml, twilioPost, WEBSOCKET_URL } from './support.ts';

/**
 * Redial resume through the call-setup webhook on local DynamoDB: a caller whose call dropped and who calls the
 * same use case again within its window starts with the previous conversation and hears that we know it.
 */
const T0 = Date.parse('2026-03-02T17:00:00Z');
const MINUTE = 60_000;
let table: TestTable;
let sessions = 0;
let calls = 0;

beforeAll(async () => {
  table = await createTestTable();
  await putUseCase(table, { ...DEFAULT_USE_CASE, continuity: { resumeWindowMinutes: 10 } });
});
afterAll(async () => {
  await table.drop();
});

/** One inbound call from `from` at `at`: its session id and what ConversationRelay is told to say first. */
async function dial(from: string, at: number): Promise<{ sessionId: string; greeting: string }> {
  const handler = createCallSetupHandler({
    table,
    authToken: async () => AUTH_TOKEN,
    websocketUrl: WEBSOCKET_URL,
    logger: captureLogger().logger,
    now: () => new Date(at),
    newSessionId: () => `01RESUME${String(++sessions).padStart(6, '0')}`,
  });
  const result = await handler(twilioPost({ path: '/call-setup', params: { CallSid: `CA${String(++calls).padStart(32, '0')}`, From: from, To: '+14065550199' } }));
  const relay = parseTwiml(result.body ?? '').Connect.ConversationRelay as Record<string, string>;
  return { sessionId: new URL(relay.url!).searchParams.get('session')!, greeting: relay.welcomeGreeting! };
}

async function talk(sessionId: string, ...lines: [string, string][]): Promise<void> {
  await appendMessages(table, sessionId, lines.map(([role, content]) => ({ role: role as 'user' | 'assistant', content, turn: 1 })));
}

const history = async (sessionId: string) => (await loadConversation(table, sessionId, 100)).messages.map((m) => [m.role, m.content]);

describe('redial resume', () => {
  it('a dropped call redialled within the window resumes with its history and a greeting that says so', async () => {
    const first = await dial('+14065550301', T0);
    await talk(first.sessionId, ['user', 'Can I book a tour of the two-bedroom?'], ['assistant', 'Sure, which day works for you?'], ['user', 'Friday morning, please.']);
    await endSession(table, first.sessionId, 'disconnected: Going away', {}, T0 + 3 * MINUTE);

    const again = await dial('+14065550301', T0 + 8 * MINUTE);
    expect(again.greeting).toBe("Looks like we got cut off. You were saying: Friday morning, please. Let's pick up from there.");
    expect(await history(again.sessionId)).toEqual([
      // Every call's greeting is its first message, so the carried history starts with the first call's.
      ['assistant', 'Hi! Which demo would you like?'],
      ['user', 'Can I book a tour of the two-bedroom?'],
      ['assistant', 'Sure, which day works for you?'],
      ['user', 'Friday morning, please.'],
      ['assistant', again.greeting],
    ]);
  });

  it('outside the window, after a completed call, after a goodbye, or from another number: a fresh start', async () => {
    const late = await dial('+14065550302', T0);
    await talk(late.sessionId, ['user', 'Do you allow cats?']);
    await endSession(table, late.sessionId, 'disconnected', {}, T0 + MINUTE);
    expect(await dial('+14065550302', T0 + 12 * MINUTE)).toMatchObject({ greeting: 'Hi! Which demo would you like?' });

    const handedOff = await dial('+14065550303', T0);
    await talk(handedOff.sessionId, ['user', 'Can I talk to a person?']);
    await endSession(table, handedOff.sessionId, 'handoff', { handoffData: '{"reason":"live-agent-handoff"}' }, T0 + MINUTE);
    const fresh = await dial('+14065550303', T0 + 2 * MINUTE);
    expect(fresh.greeting).toBe('Hi! Which demo would you like?');
    expect(await history(fresh.sessionId)).toEqual([['assistant', 'Hi! Which demo would you like?']]);

    const farewell = await dial('+14065550304', T0);
    await talk(farewell.sessionId, ['user', 'Great, that is all, thanks. Bye!']);
    await endSession(table, farewell.sessionId, 'disconnected', {}, T0 + MINUTE);
    expect((await dial('+14065550304', T0 + 2 * MINUTE)).greeting).toBe('Hi! Which demo would you like?');

    expect((await dial('+14065550399', T0 + 2 * MINUTE)).greeting).toBe('Hi! Which demo would you like?');
  });

  it('a call the reconnect grace ended counts from when it dropped, not from when the grace ran out', async () => {
    const dropAt = T0;
    const within = await dial('+14065550311', T0 - MINUTE);
    const after = await dial('+14065550312', T0 - MINUTE);
    for (const call of [within, after]) {
      await talk(call.sessionId, ['user', 'Is the studio still free?']);
      // As the call timer leaves it: the connection dropped at dropAt, its five-minute grace passed, the session ended.
      const connection = { id: `c-${call.sessionId}`, gen: 1, state: 'ended' as const, at: dropAt, graceMs: 5 * MINUTE };
      await compareAndSetLedger(table, call.sessionId, 0, { v: 1, turnCount: 0, turns: {}, connection });
      await endSession(table, call.sessionId, 'disconnected: no reconnect within the grace', {}, dropAt + 5 * MINUTE);
    }
    expect((await dial('+14065550311', dropAt + 9 * MINUTE)).greeting).toMatch(/^Looks like we got cut off/);
    // Twelve minutes after the drop (seven after the grace): outside the ten-minute window.
    expect((await dial('+14065550312', dropAt + 12 * MINUTE)).greeting).toBe('Hi! Which demo would you like?');
  });

  it('carries over a bounded part of a long conversation: the newest messages', async () => {
    const long = await dial('+14065550305', T0);
    await talk(long.sessionId, ...Array.from({ length: 40 }, (_, i): [string, string] => [i % 2 ? 'assistant' : 'user', `line ${i}`]));
    await endSession(table, long.sessionId, 'disconnected', {}, T0 + MINUTE);
    const again = await dial('+14065550305', T0 + 2 * MINUTE);
    const carried = await history(again.sessionId);
    expect(carried).toHaveLength(MAX_RESUMED_MESSAGES + 1);
    expect(carried[0]).toEqual(['user', 'line 20']);
    expect(carried.at(-2)).toEqual(['assistant', 'line 39']);
  });
});
