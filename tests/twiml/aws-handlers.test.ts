import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as callSetup } from '../../03_twiml-api/src/handlers/call-setup.ts';
import { handler as connectAction } from '../../03_twiml-api/src/handlers/connect-action.ts';
import { getSession, putUseCase } from '../../layers/data/index.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { startFakeSsm, type FakeSsm } from '../security/fake-ssm.ts';
import { AUTH_TOKEN, DEFAULT_USE_CASE, expectApology, parseTwiml, twilioPost, WEBSOCKET_URL } from './support.ts';

/**
 * The exported Lambda handlers, wired from the environment exactly as in AWS: table from TABLE_NAME, the auth
 * token from SSM (a local server speaking SSM's protocol, reached through AWS_ENDPOINT_URL_SSM), built once per
 * container.
 */
const TOKEN_PARAM = '/cr-test/twilio-auth-token';
const ENV_KEYS = [
  'TABLE_NAME',
  'DYNAMODB_ENDPOINT',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_SSM',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_AUTH_TOKEN_PARAM',
  'WEBSOCKET_URL',
  'AGENT_NUMBER',
  'PUBLIC_BASE_URL',
  'DEFAULT_USE_CASE_ID',
] as const;

describe('Lambda handlers wired from the environment', () => {
  let table: TestTable;
  let ssm: FakeSsm;
  const saved: Partial<Record<string, string>> = {};

  beforeAll(async () => {
    table = await createTestTable();
    await putUseCase(table, DEFAULT_USE_CASE);
    ssm = await startFakeSsm({ [TOKEN_PARAM]: AUTH_TOKEN });
    for (const key of ENV_KEYS) saved[key] = process.env[key];
    for (const key of ENV_KEYS) delete process.env[key];
    Object.assign(process.env, {
      TABLE_NAME: table.name,
      DYNAMODB_ENDPOINT: table.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
      TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM,
      AGENT_NUMBER: '+14065550900',
    });
  });
  afterAll(async () => {
    for (const key of ENV_KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    await ssm.close();
    await table.drop();
  });

  it('apologises while misconfigured (no WEBSOCKET_URL), then recovers once it is set', async () => {
    const params = { CallSid: 'CA01', From: '+14065550101', To: '+14065550199' };
    expectApology(await callSetup(twilioPost({ path: '/call-setup', params })));
    process.env.WEBSOCKET_URL = WEBSOCKET_URL;
    const result = await callSetup(twilioPost({ path: '/call-setup', params }));
    expect(parseTwiml(result.body ?? '').Connect.ConversationRelay.url).toMatch(new RegExp(`^${WEBSOCKET_URL}\\?session=`));
  });

  it('answers calls and the action callback with the token fetched from SSM once per container', async () => {
    const answered = await Promise.all(
      ['CA02', 'CA03', 'CA04'].map((sid) => callSetup(twilioPost({ path: '/call-setup', params: { CallSid: sid, From: '+14065550102', To: '+14065550199' } }))),
    );
    const sessionIds = answered.map((r) => new URL(parseTwiml(r.body ?? '').Connect.ConversationRelay.url as string).searchParams.get('session')!);
    expect(new Set(sessionIds).size).toBe(3);

    const done = await connectAction(
      twilioPost({
        path: '/connect-action',
        query: `session=${sessionIds[0]}`,
        params: { CallSid: 'CA02', CallStatus: 'in-progress', SessionStatus: 'ended', HandoffData: '{"reason":"live-agent-handoff"}' },
      }),
    );
    expect(parseTwiml(done.body ?? '').Dial.Number['#text']).toBe('+14065550900');
    expect((await getSession(table, sessionIds[0]!))?.outcome).toBe('dialed-agent');

    expect(ssm.requests.filter((r) => r.name === TOKEN_PARAM)).toHaveLength(1);
    expect(ssm.requests[0]?.withDecryption).toBe(true);
  });

  it('still refuses an unsigned request', async () => {
    const result = await callSetup(twilioPost({ path: '/call-setup', signWith: null, params: { CallSid: 'CA05', From: '+14065550103', To: '+14065550199' } }));
    expect(result.statusCode).toBe(403);
  });
});
