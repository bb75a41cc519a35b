import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectActionHandler, type Deps } from '../../03_twiml-api/src/handlers/connect-action.ts';
import { readHandoff } from '../../03_twiml-api/src/handoff.ts';
import { createSession, createTable, getSession, type NewSession } from '../../layers/data/index.ts';
import { sessionFixture } from '../support/sessions.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { AUTH_TOKEN, captureLogger, closedPort, expectApology, HOST, parseTwiml, twilioPost } from './support.ts';

const AGENT = '+14065550900';
const CALL_SID = 'CAfedcba9876543210fedcba9876543210';

const newSession = (sessionId: string): NewSession =>
  sessionFixture(sessionId, { callSid: CALL_SID, from: '+14065550101', useCaseId: 'apartment-search', systemPrompt: 'You lease apartments.' });

function deps(table: TestTable, overrides: Partial<Deps> = {}) {
  const log = captureLogger();
  return { table, authToken: async () => AUTH_TOKEN, agentNumber: AGENT, logger: log.logger, ...overrides, log };
}

/** What Twilio posts to the action URL after the ConversationRelay session. */
function actionPost(sessionId: string, extra: Record<string, string> = {}, options: Partial<Parameters<typeof twilioPost>[0]> = {}) {
  return twilioPost({
    path: '/connect-action',
    query: `session=${sessionId}`,
    params: {
      AccountSid: 'AC0123456789abcdef0123456789abcdef',
      CallSid: CALL_SID,
      CallStatus: 'in-progress',
      From: '+14065550101',
      To: '+14065550199',
      SessionId: 'VX0123456789abcdef0123456789abcdef',
      SessionStatus: 'ended',
      SessionDuration: '42',
      ...extra,
    },
    ...options,
  });
}

describe('<Connect action> callback', () => {
  let table: TestTable;
  let n = 0;
  const fresh = async () => {
    const id = `01ACTION${String(++n).padStart(4, '0')}`;
    await createSession(table, newSession(id));
    return id;
  };
  beforeAll(async () => {
    table = await createTestTable();
  });
  afterAll(async () => {
    await table.drop();
  });

  it('dials the configured agent after a short line when the session asked for a live agent, and records it', async () => {
    const id = await fresh();
    const handoff = JSON.stringify({ reason: 'live-agent-handoff', summary: 'Wants a tour of the studio <today> & "soon"' });
    const result = await createConnectActionHandler(deps(table))(actionPost(id, { HandoffData: handoff }));

    expect(result.statusCode).toBe(200);
    expect(String(result.headers?.['content-type'])).toMatch(/^text\/xml/);
    const response = parseTwiml(result.body ?? '');
    expect(response.Say[0]).toMatch(/connect you/i);
    // The agent hears the summary first (a warm transfer: tests/twiml/whisper.test.ts).
    expect(response.Dial.Number).toEqual({ '#text': AGENT, url: `https://${HOST}/whisper?session=${id}`, method: 'POST' });
    expect(response).not.toHaveProperty('Hangup');
    // The handoff summary is for the agent's systems, never read out.
    expect(result.body).not.toContain('studio');

    const session = await getSession(table, id);
    expect(session).toMatchObject({ status: 'ended', outcome: 'dialed-agent', endReason: 'live-agent-handoff', handoffData: handoff });
    expect(session?.endedAt).toBeTruthy();
  });

  it('hangs up without a second goodbye when the app already said one (a silent caller)', async () => {
    const id = await fresh();
    const result = await createConnectActionHandler(deps(table))(actionPost(id, { HandoffData: '{"reason":"silence","goodbyeSaid":true}' }));
    const response = parseTwiml(result.body ?? '');
    expect(response).toHaveProperty('Hangup');
    expect(response).not.toHaveProperty('Say');
    expect(await getSession(table, id)).toMatchObject({ status: 'ended', outcome: 'hung-up', endReason: 'silence' });
  });

  it('dials a SIP agent with <Sip>', async () => {
    const id = await fresh();
    const result = await createConnectActionHandler(deps(table, { agentNumber: 'sip:agents@pbx.example.test' }))(
      actionPost(id, { HandoffData: '{"liveAgent":true}' }),
    );
    expect(parseTwiml(result.body ?? '').Dial.Sip).toMatchObject({ '#text': 'sip:agents@pbx.example.test', url: `https://${HOST}/whisper?session=${id}` });
  });

  it('says goodbye and hangs up when the session ended without handoff data', async () => {
    const id = await fresh();
    const d = deps(table);
    const result = await createConnectActionHandler(d)(actionPost(id));
    const response = parseTwiml(result.body ?? '');
    expect(response.Say[0]).toMatch(/thank you for calling/i);
    expect(response).toHaveProperty('Hangup');
    expect(response).not.toHaveProperty('Dial');
    const session = await getSession(table, id);
    expect(session).toMatchObject({ status: 'ended', outcome: 'hung-up', endReason: 'relay-ended' });
    expect(session?.handoffData).toBeUndefined();
  });

  it('hangs up politely for a handoff that is not for an agent, keeping the data', async () => {
    const id = await fresh();
    const handoff = JSON.stringify({ reason: 'caller-done', bookedTour: '2025-11-28T10:00' });
    const response = parseTwiml((await createConnectActionHandler(deps(table))(actionPost(id, { HandoffData: handoff }))).body ?? '');
    expect(response).toHaveProperty('Hangup');
    expect(await getSession(table, id)).toMatchObject({ outcome: 'hung-up', endReason: 'caller-done', handoffData: handoff });
  });

  it('tells the caller no one is free when an agent is wanted but none is configured', async () => {
    const id = await fresh();
    const d = deps(table, { agentNumber: undefined });
    const response = parseTwiml((await createConnectActionHandler(d)(actionPost(id, { HandoffData: '{"reason":"live-agent-handoff"}' }))).body ?? '');
    expect(response.Say[0]).toMatch(/no one is available/i);
    expect(response).toHaveProperty('Hangup');
    expect((await getSession(table, id))?.outcome).toBe('agent-unavailable');
    expect(d.log.lines.some((l) => l.level === 'error' && /AGENT_NUMBER/.test(l.message))).toBe(true);
  });

  it('apologises when the relay session failed', async () => {
    const id = await fresh();
    expectApology(await createConnectActionHandler(deps(table))(actionPost(id, { SessionStatus: 'failed' })));
    expect((await getSession(table, id))?.outcome).toBe('session-failed');
  });

  it('treats unreadable HandoffData as no handoff, and records it as received', async () => {
    const id = await fresh();
    const d = deps(table);
    const response = parseTwiml((await createConnectActionHandler(d)(actionPost(id, { HandoffData: 'live-agent-handoff' }))).body ?? '');
    expect(response).toHaveProperty('Hangup');
    expect(await getSession(table, id)).toMatchObject({ outcome: 'hung-up', handoffData: 'live-agent-handoff' });
    expect(d.log.lines.some((l) => l.level === 'warn' && /HandoffData/.test(l.message))).toBe(true);
  });

  it('still continues the call when the session is unknown, and logs why nothing was recorded', async () => {
    const d = deps(table);
    const result = await createConnectActionHandler(d)(actionPost('01NOSUCHSESSION', { HandoffData: '{"reason":"live-agent-handoff"}' }));
    expect(parseTwiml(result.body ?? '').Dial.Number['#text']).toBe(AGENT);
    const error = d.log.lines.find((l) => l.level === 'error');
    expect(error?.message).toMatch(/record/);
    expect(error?.extra[0]).toMatchObject({ sessionId: '01NOSUCHSESSION', callSid: CALL_SID, outcome: 'dialed-agent' });
  });

  it('still dials the agent when the table is unreachable', async () => {
    const unreachable = createTable({ name: 'nowhere', endpoint: `http://127.0.0.1:${await closedPort()}`, region: 'local' });
    try {
      const d = deps(unreachable as TestTable);
      const result = await createConnectActionHandler(d)(actionPost('01ANY', { HandoffData: '{"reason":"live-agent-handoff"}' }));
      expect(result.statusCode).toBe(200);
      expect(parseTwiml(result.body ?? '').Dial.Number['#text']).toBe(AGENT);
      expect(d.log.lines.some((l) => l.level === 'error')).toBe(true);
      expect(d.log.text()).not.toContain(AUTH_TOKEN);
    } finally {
      unreachable.doc.destroy();
    }
  });

  describe('refuses unsigned or wrongly signed callbacks and leaves the session alone', () => {
    const cases: [string, (id: string) => ReturnType<typeof twilioPost>][] = [
      ['missing signature', (id) => actionPost(id, {}, { signWith: null })],
      ['wrong token', (id) => actionPost(id, {}, { signWith: 'another-token' })],
      ['handoff data added after signing', (id) => actionPost(id, {}, { tamper: (p) => ({ ...p, HandoffData: '{"reason":"live-agent-handoff"}' }) })],
      // The session id is part of the signed URL: pointing a real callback at another session fails.
      ['session id swapped', (id) => actionPost(id, {}, { signUrl: `https://${HOST}/connect-action?session=01OTHER` })],
    ];
    it.each(cases)('%s -> 403', async (_name, build) => {
      const id = await fresh();
      const d = deps(table);
      const result = await createConnectActionHandler(d)(build(id));
      expect(result.statusCode).toBe(403);
      const session = await getSession(table, id);
      expect(session?.status).toBe('created');
      expect(session?.outcome).toBeUndefined();
      expect(d.log.lines.find((l) => l.level === 'warn')?.extra[0]).toMatchObject({ route: 'connect-action' });
    });
  });
});

describe('reading HandoffData', () => {
  it.each([
    ['{"reason":"live-agent-handoff","summary":"x"}', 'live-agent'],
    ['{"reason":"Live Agent"}', 'live-agent'],
    ['{"reason":"speak-to-human"}', 'live-agent'],
    ['{"liveAgent":true}', 'live-agent'],
    ['{"reason":"completed"}', 'other'],
    ['{}', 'other'],
    ['[1,2]', 'unreadable'],
    ['"live-agent"', 'unreadable'],
    ['not json', 'unreadable'],
    ['', 'none'],
  ])('%s -> %s', (raw, kind) => {
    expect(readHandoff(raw).kind).toBe(kind);
  });
  it('no HandoffData at all -> none', () => {
    expect(readHandoff(undefined)).toEqual({ kind: 'none' });
  });
});
