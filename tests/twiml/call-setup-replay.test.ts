import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallSetupHandler, type Deps } from '../../03_twiml-api/src/handlers/call-setup.ts';
import { callKey, claimCallSession, getSession, putUseCase, updateProfile } from '../../layers/data/index.ts';
import { backends, createTestTable, type TestTable } from '../support/dynamo.ts';
import { APARTMENT_USE_CASE, AUTH_TOKEN, captureLogger, DEFAULT_USE_CASE, expectApology, parseTwiml, sessionItems, twilioPost, WEBSOCKET_URL } from './support.ts';

/**
 * Twilio may send the call webhook for one CallSid more than once (a retry after a slow answer, a replay). Every
 * copy must connect to one session: the first webhook's conditional write of the call's claim decides which.
 */

let counter = 0;
const sid = (n: number) => `CA${String(n).padStart(32, '0')}`;

function deps(table: TestTable): Deps & { log: ReturnType<typeof captureLogger> } {
  const log = captureLogger();
  return {
    table,
    authToken: async () => AUTH_TOKEN,
    websocketUrl: WEBSOCKET_URL,
    logger: log.logger,
    now: () => new Date('2025-11-26T03:30:00Z'),
    // Every invocation would mint its own session: only the claim can make two of them agree.
    newSessionId: () => `01REPLAYSESSION${String(++counter).padStart(4, '0')}`,
    log,
  };
}

const webhook = (callSid: string, from: string) =>
  twilioPost({ path: '/call-setup', params: { CallSid: callSid, AccountSid: 'AC0123456789abcdef0123456789abcdef', From: from, To: '+14065550199', CallStatus: 'ringing' } });

function sessionOf(body: string | undefined): string {
  const connect = parseTwiml(body ?? '').Connect as Record<string, any>;
  expect(connect?.ConversationRelay).toBeDefined();
  return new URL(connect.ConversationRelay.url as string).searchParams.get('session')!;
}

const sessionsOfCall = async (table: TestTable, callSid: string) => (await sessionItems(table)).filter((s) => s.callSid === callSid);

describe('the call-setup webhook, sent again for the same call', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await createTestTable();
    await putUseCase(table, DEFAULT_USE_CASE);
    await putUseCase(table, APARTMENT_USE_CASE);
  });
  afterAll(async () => {
    await table.drop();
  });

  it('answers a replay with the same TwiML and session, and writes no second session', async () => {
    const d = deps(table);
    const handle = createCallSetupHandler(d);
    const first = await handle(webhook(sid(1), '+14065550301'));
    const again = await handle(webhook(sid(1), '+14065550301'));
    expect(again.body).toBe(first.body);
    const sessionId = sessionOf(first.body);
    expect(await sessionsOfCall(table, sid(1))).toHaveLength(1);
    expect(await getSession(table, sessionId)).toMatchObject({ callSid: sid(1), from: '+14065550301', status: 'created' });
    expect(d.log.lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual(['Call answered', 'Call answered again (a repeated webhook): same session']);
  });

  it('connects two identical webhooks that arrive together to one session', async () => {
    const handle = createCallSetupHandler(deps(table));
    const answers = await Promise.all([handle(webhook(sid(2), '+14065550302')), handle(webhook(sid(2), '+14065550302'))]);
    const [a, b] = answers.map((r) => sessionOf(r.body));
    expect(a).toBe(b);
    expect(await sessionsOfCall(table, sid(2))).toHaveLength(1);
    expect((await getSession(table, a!))?.callSid).toBe(sid(2));
  });

  it('gives different calls different sessions', async () => {
    const handle = createCallSetupHandler(deps(table));
    const [a, b] = await Promise.all([handle(webhook(sid(3), '+14065550303')), handle(webhook(sid(4), '+14065550303'))]);
    expect(sessionOf(a.body)).not.toBe(sessionOf(b.body));
  });

  it('writes the session under the claimed id when the first webhook died between its two writes', async () => {
    await claimCallSession(table, sid(5), '01ORPHANEDCLAIM', Date.now());
    const result = await createCallSetupHandler(deps(table))(webhook(sid(5), '+14065550305'));
    expect(sessionOf(result.body)).toBe('01ORPHANEDCLAIM');
    expect(await getSession(table, '01ORPHANEDCLAIM')).toMatchObject({ callSid: sid(5), useCaseId: 'default' });
  });

  it('connects a replay to the use case the session was set up with, even if the caller has chosen another since', async () => {
    const from = '+14065550306';
    await updateProfile(table, from, { firstName: 'Ada', useCaseId: 'apartment-search' });
    const handle = createCallSetupHandler(deps(table));
    const first = await handle(webhook(sid(6), from));
    await updateProfile(table, from, { useCaseId: 'default' });
    const again = await handle(webhook(sid(6), from));
    expect(again.body).toBe(first.body);
    expect(again.body).toContain('Thanks for calling Parkview Apartments!');
  });

  it('apologises, and writes no session, when the call claim in the table is malformed', async () => {
    await table.doc.send(new PutCommand({ TableName: table.name, Item: { ...callKey(sid(7)), sessionId: 42 } }));
    expectApology(await createCallSetupHandler(deps(table))(webhook(sid(7), '+14065550307')));
    expect(await sessionsOfCall(table, sid(7))).toHaveLength(0);
  });
});

describe.each(backends())('claiming a call (%s)', (backend) => {
  let table: TestTable;
  beforeAll(async () => {
    table = await createTestTable(backend);
  });
  afterAll(async () => {
    await table.drop();
  });

  it('lets exactly one of many concurrent claims win, and tells every other the winner', async () => {
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => claimCallSession(table, sid(100), `01CANDIDATE${i}`)));
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    const winner = claims.find((c) => c.claimed)!.sessionId;
    expect(claims.every((c) => c.sessionId === winner)).toBe(true);
    expect(await claimCallSession(table, sid(100), '01LATECOMER')).toEqual({ sessionId: winner, claimed: false });
  });
});
