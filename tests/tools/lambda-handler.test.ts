import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { getProfile, updateProfile } from '../../layers/data/profiles.ts';
import { defineTool } from '../../layers/tools/define-tool.ts';
import { toLambdaHandler } from '../../layers/tools/lambda-handler.ts';
import { startFakeLambda, type FakeLambda } from '../messaging/fake-lambda.ts';
import { startFakeTwilio, type FakeTwilio } from '../messaging/fake-twilio.ts';
import { stubSendMessageEnv } from '../messaging/send-message-env.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { CALLER, invocation } from './support.ts';

const ACCOUNT_SID = `AC${'c3'.repeat(16)}`;
const AUTH_TOKEN = 'lambda-test-token';

/** Writes to the caller's profile and texts them: exercises table and MessageSender as built from the environment. */
const remember = defineTool({
  name: 'remember_colour',
  description: "Saves the caller's favourite colour and texts it to them.",
  parameters: z.object({ colour: z.string().min(1) }),
  async handler({ colour }, { table, caller, messages }) {
    await updateProfile(table, caller.from, { firstName: colour });
    const sent = await messages.send({ to: caller.from, body: `Your colour is ${colour}.` });
    return { result: { saved: true, texted: sent.delivered } };
  },
});

let table: TestTable;
let twilioServer: FakeTwilio;
let lambda: FakeLambda;

beforeAll(async () => {
  table = await createTestTable();
  twilioServer = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  stubSendMessageEnv(table, twilioServer, { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: '+14065550100' });
  const { handler: sendMessage } = await import('../../04_util-send-message/src/handler.ts');
  lambda = await startFakeLambda({ 'cr-test-send-message': sendMessage });
  // The AWS SDK's service-specific endpoint variable: the tool function's own LambdaClient reaches the local server.
  vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', lambda.endpoint);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await lambda.close();
  await twilioServer.close();
  await table.drop();
});

describe('toLambdaHandler', () => {
  const handler = toLambdaHandler([remember]);

  it('dispatches by tool name with dependencies built from the environment (table, send-message function)', async () => {
    // Identity is the session's: a number in the arguments is refused, never used.
    expect(await handler(invocation('remember_colour', { colour: 'teal', phone: '+19995550000' }))).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    const outcome = await handler(invocation('remember_colour', { colour: 'teal' }));
    expect(outcome).toEqual({ ok: true, result: { saved: true, texted: true } });
    expect((await getProfile(table, CALLER.from))?.firstName).toBe('teal');
    expect(await getProfile(table, '+19995550000')).toBeUndefined();
    expect(lambda.invocations.at(-1)).toEqual({
      functionName: 'cr-test-send-message',
      payload: { to: CALLER.from, body: 'Your colour is teal.', channel: 'sms' },
      invocationType: 'RequestResponse',
    });
    expect(twilioServer.requests.at(-1)?.form).toMatchObject({ To: CALLER.from, Body: 'Your colour is teal.' });
  });

  it('answers a malformed payload with invalid_arguments instead of throwing', async () => {
    const outcome = await handler({ tool: 'remember_colour', args: {} });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_arguments', message: expect.stringMatching(/callId: missing; caller: missing/) } });
  });

  it('reports an unknown tool', async () => {
    expect(await handler(invocation('nope', {}))).toMatchObject({ ok: false, error: { code: 'unknown_tool' } });
  });

  it('turns bad arguments into invalid_arguments', async () => {
    expect(await handler(invocation('remember_colour', { colour: '' }))).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
  });
});
