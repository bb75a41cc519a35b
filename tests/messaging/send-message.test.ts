import { LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { listOutbox } from '../../04_util-send-message/src/outbox.ts';
import { loadTwilioMessagingConfig } from '../../04_util-send-message/src/twilio-config.ts';
import { createLambdaMessageSender } from '../../layers/messaging/lambda-message-sender.ts';
import { createLocalMessageSender } from '../../layers/messaging/local-message-sender.ts';
import { MessageSendError } from '../../layers/messaging/message-sender.ts';
import { logger } from '../../layers/observability/logger.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { startFakeLambda, type FakeLambda } from './fake-lambda.ts';
import { startFakeTwilio, type FakeTwilio } from './fake-twilio.ts';

const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const AUTH_TOKEN = 'test-auth-token';
const FROM = '+14065550100';
const MESSAGING_SERVICE_SID = `MG${'b2'.repeat(16)}`;
const CALLER = '+14065550123';

let twilioServer: FakeTwilio;
let table: TestTable;

beforeAll(async () => {
  twilioServer = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
});
afterAll(async () => {
  await twilioServer.close();
});
beforeEach(async () => {
  table = await createTestTable();
  twilioServer.requests.length = 0;
  twilioServer.invalidNumbers.clear();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await table.drop();
});

const twilioEnv = (extra: Record<string, string> = {}) => ({
  TWILIO_ACCOUNT_SID: ACCOUNT_SID,
  TWILIO_AUTH_TOKEN: AUTH_TOKEN,
  TWILIO_FROM_NUMBER: FROM,
  TWILIO_API_BASE_URL: twilioServer.baseUrl,
  ...extra,
});

describe('04 send-message through the twilio SDK, at the wire', () => {
  it('POSTs the Messages API with To, From, Body and basic auth, and reports the SID', async () => {
    const sender = createLocalMessageSender({ table, logger, env: twilioEnv() });
    const result = await sender.send({ to: CALLER, body: 'Your tour is booked.', channel: 'sms' });

    expect(result).toMatchObject({ delivered: true, status: 'queued' });
    expect(result.sid).toMatch(/^SM\d{32}$/);
    expect(twilioServer.requests).toHaveLength(1);
    const request = twilioServer.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(request.contentType).toContain('application/x-www-form-urlencoded');
    expect(request.auth).toEqual({ user: ACCOUNT_SID, password: AUTH_TOKEN });
    expect(request.form).toEqual({ To: CALLER, From: FROM, Body: 'Your tour is booked.' });
    expect(await listOutbox(table)).toEqual([]);
  });

  it('sends from a messaging service when one is configured, and prefixes WhatsApp addresses', async () => {
    const sender = createLocalMessageSender({ table, logger, env: twilioEnv({ TWILIO_FROM_NUMBER: '', TWILIO_MESSAGING_SERVICE_SID: MESSAGING_SERVICE_SID }) });
    await sender.send({ to: CALLER, body: 'Hello on WhatsApp', channel: 'whatsapp' });
    expect(twilioServer.requests[0]!.form).toEqual({ To: `whatsapp:${CALLER}`, MessagingServiceSid: MESSAGING_SERVICE_SID, Body: 'Hello on WhatsApp' });
  });

  it("turns Twilio's 21211 (invalid 'To') into a MessageSendError naming the code and reason", async () => {
    twilioServer.invalidNumbers.add('+15005550001');
    const sender = createLocalMessageSender({ table, logger, env: twilioEnv() });
    const failure = await sender.send({ to: '+15005550001', body: 'x' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MessageSendError);
    expect((failure as MessageSendError).twilioCode).toBe(21211);
    expect((failure as MessageSendError).message).toMatch(/error 21211.*is not a valid phone number/);
  });

  it('reports bad credentials as a refusal, not a crash', async () => {
    const sender = createLocalMessageSender({ table, logger, env: twilioEnv({ TWILIO_AUTH_TOKEN: 'wrong' }) });
    const failure = await sender.send({ to: CALLER, body: 'x' }).catch((e: unknown) => e);
    expect((failure as MessageSendError).twilioCode).toBe(20003);
  });

  it('rejects a malformed request before it reaches Twilio', async () => {
    const sender = createLocalMessageSender({ table, logger, env: twilioEnv() });
    const failure = await sender.send({ to: '4065550123', body: '' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MessageSendError);
    expect((failure as Error).message).toMatch(/to: the recipient must be an E.164 number.*body: the message is empty/);
    expect(twilioServer.requests).toHaveLength(0);
  });
});

describe('04 send-message without credentials: the local outbox', () => {
  it('stores and prints the message, clearly marked NOT SENT', async () => {
    const printed: string[] = [];
    const sender = createLocalMessageSender({ table, logger, env: {}, print: (l) => printed.push(l) });
    const result = await sender.send({ to: CALLER, body: 'Tour confirmed for Friday.' });

    expect(result).toMatchObject({ delivered: false, status: 'not-sent' });
    expect(printed).toEqual([`[OUTBOX - NOT SENT] SMS to ${CALLER}: Tour confirmed for Friday.`]);
    const outbox = await listOutbox(table);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ to: CALLER, body: 'Tour confirmed for Friday.', channel: 'sms', outboxId: result.sid });
    expect(twilioServer.requests).toHaveLength(0);
  });

  it('refuses a half-configured environment instead of silently using the outbox', async () => {
    await expect(loadTwilioMessagingConfig({ TWILIO_ACCOUNT_SID: ACCOUNT_SID })).rejects.toThrow(/TWILIO_AUTH_TOKEN/);
    await expect(loadTwilioMessagingConfig({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: 't' })).rejects.toThrow(/TWILIO_FROM_NUMBER: set a from number/);
  });

  it('reads credentials from SSM parameter names in AWS', async () => {
    const params: Record<string, string> = { '/cr/sid': ACCOUNT_SID, '/cr/token': AUTH_TOKEN, '/cr/from': FROM };
    const asked: string[] = [];
    const config = await loadTwilioMessagingConfig(
      { TWILIO_ACCOUNT_SID_PARAM: '/cr/sid', TWILIO_AUTH_TOKEN_PARAM: '/cr/token', TWILIO_FROM_NUMBER_PARAM: '/cr/from' },
      { getParameter: async (name) => (asked.push(name), params[name]) },
    );
    expect(config).toEqual({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, fromNumber: FROM });
    expect(asked.sort()).toEqual(['/cr/from', '/cr/sid', '/cr/token']);
  });
});

describe('the AWS MessageSender: Lambda Invoke of 04, then Twilio, both at the wire', () => {
  let lambda: FakeLambda;
  let client: LambdaClient;

  beforeEach(async () => {
    for (const [k, v] of Object.entries({ ...twilioEnv(), TABLE_NAME: table.name, DYNAMODB_ENDPOINT: table.endpoint })) vi.stubEnv(k, v);
    const { handler } = await import('../../04_util-send-message/src/handler.ts');
    lambda = await startFakeLambda({ 'cr-test-send-message': handler });
    client = new LambdaClient({ endpoint: lambda.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  afterEach(async () => {
    client.destroy();
    await lambda.close();
  });

  it('sends through the function and returns its result', async () => {
    const sender = createLambdaMessageSender({ functionName: 'cr-test-send-message', client });
    const result = await sender.send({ to: CALLER, body: 'Via Lambda', channel: 'sms' });
    expect(result).toMatchObject({ delivered: true, status: 'queued' });
    expect(lambda.invocations).toEqual([{ functionName: 'cr-test-send-message', payload: { to: CALLER, body: 'Via Lambda', channel: 'sms' }, invocationType: 'RequestResponse' }]);
    expect(twilioServer.requests[0]!.form).toEqual({ To: CALLER, From: FROM, Body: 'Via Lambda' });
  });

  it("carries Twilio's refusal back as a MessageSendError", async () => {
    twilioServer.invalidNumbers.add('+15005550001');
    const sender = createLambdaMessageSender({ functionName: 'cr-test-send-message', client });
    const failure = await sender.send({ to: '+15005550001', body: 'x' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MessageSendError);
    expect((failure as MessageSendError).twilioCode).toBe(21211);
  });
});
