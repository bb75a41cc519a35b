import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectActionHandler } from '../../03_twiml-api/src/handlers/connect-action.ts';
import { createWhisperHandler } from '../../03_twiml-api/src/handlers/whisper.ts';
import { createSession, getSession } from '../../layers/data/index.ts';
import { sessionFixture } from '../support/sessions.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { AUTH_TOKEN, captureLogger, HOST, parseTwiml, twilioPost } from './support.ts';

/**
 * Warm transfer: the `<Connect action>` callback dials the agent with a whisper URL; Twilio requests it (signed)
 * when the agent answers, and the agent hears the handoff's summary before the caller is connected.
 */
const AGENT = '+14065550900';
const CALL_SID = 'CA0123456789abcdef0123456789abcdef';
const SUMMARY = 'Dana Reyes wants the two-bedroom; a tour is booked for Friday at ten and the confirmation was texted.';

describe('warm transfer', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await createTestTable();
  });
  afterAll(async () => {
    await table.drop();
  });

  const deps = () => ({ table, authToken: async () => AUTH_TOKEN, logger: captureLogger().logger });
  const post = (path: string, sessionId: string, params: Record<string, string>, options: { signWith?: string | null } = {}) =>
    twilioPost({ path, query: `session=${sessionId}`, params: { AccountSid: 'AC0123456789abcdef0123456789abcdef', CallSid: CALL_SID, ...params }, ...options });

  it('dials the agent with a whisper URL; the whisper (signed) tells the agent the summary, which is stored with the session', async () => {
    await createSession(table, sessionFixture('01WHISPER0001', { callSid: CALL_SID }));
    const handoff = JSON.stringify({ reason: 'live-agent-handoff', summary: SUMMARY });
    const action = await createConnectActionHandler({ ...deps(), agentNumber: AGENT })(post('/connect-action', '01WHISPER0001', { CallStatus: 'in-progress', SessionStatus: 'ended', HandoffData: handoff }));
    const dial = parseTwiml(action.body ?? '');
    expect(dial.Say[0]).toMatch(/connect you/i);
    expect(action.body).toContain(`<Number url="https://${HOST}/whisper?session=01WHISPER0001" method="POST">${AGENT}</Number>`);
    expect(await getSession(table, '01WHISPER0001')).toMatchObject({ handoffData: handoff, outcome: 'dialed-agent' });

    // The agent's leg: Twilio requests the whisper URL with the agent call's parameters.
    const whisper = await createWhisperHandler(deps())(post('/whisper', '01WHISPER0001', { CallSid: 'CAagentleg0000000000000000000000', CallStatus: 'in-progress' }));
    expect(parseTwiml(whisper.body ?? '').Say).toEqual([`Incoming transfer from the phone assistant. ${SUMMARY}`]);
  });

  it('refuses an unsigned whisper request, and whispers only that a transfer is coming when there is no summary', async () => {
    await createSession(table, sessionFixture('01WHISPER0002', { callSid: CALL_SID }));
    const unsigned = await createWhisperHandler(deps())(post('/whisper', '01WHISPER0002', {}, { signWith: null }));
    expect(unsigned.statusCode).toBe(403);
    const plain = await createWhisperHandler(deps())(post('/whisper', '01WHISPER0002', {}));
    expect(parseTwiml(plain.body ?? '').Say).toEqual(['Incoming transfer from the phone assistant.']);
    const unknown = await createWhisperHandler(deps())(post('/whisper', 'no-such-session', {}));
    expect(parseTwiml(unknown.body ?? '').Say).toEqual(['Incoming transfer from the phone assistant.']);
  });
});
