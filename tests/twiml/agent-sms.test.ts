import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaAgentSmsDispatcher } from '../../03_twiml-api/src/agent-sms-dispatch.ts';
import { createConnectActionHandler } from '../../03_twiml-api/src/handlers/connect-action.ts';
import { agentSmsKey, createSession, getSession, putUseCase, updateProfile } from '../../layers/data/index.ts';
import { startFakeLambda, type FakeLambda } from '../messaging/fake-lambda.ts';
import { startFakeTwilio, type FakeTwilio } from '../messaging/fake-twilio.ts';
import { stubSendMessageEnv } from '../messaging/send-message-env.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { sessionFixture } from '../support/sessions.ts';
import { APARTMENT_USE_CASE, AUTH_TOKEN, captureLogger, HOST, parseTwiml, twilioPost } from './support.ts';

/**
 * Warm transfer by text, on the AWS code path at the wire: the `<Connect action>` handler invokes the agent-SMS
 * function asynchronously through the real LambdaClient (a local server speaking Lambda's Invoke API, which
 * answers an `Event` invocation 202 before running it), that function invokes 04_util-send-message's handler,
 * and its twilio SDK posts to a local server speaking Twilio's Messages API.
 */
const ACCOUNT_SID = `AC${'d4'.repeat(16)}`;
const FROM_NUMBER = '+14065550100';
const AGENT = '+14065550900';
const CALLER = '+14065550101';
const SUMMARY = 'Dana wants the two-bedroom; a tour is booked for Friday at ten and the confirmation was texted.';
const HANDOFF = JSON.stringify({ reason: 'live-agent-handoff', summary: SUMMARY });
const AGENT_SMS_FUNCTION = 'cr-test-agent-sms';

let table: TestTable;
let twilio: FakeTwilio;
let lambda: FakeLambda;
/** Holds send-message until a test lets it go: the callback's answer must not be waiting for it. */
let releaseSend: () => void = () => undefined;
let sendHeld: Promise<void> = Promise.resolve();

beforeAll(async () => {
  table = await createTestTable();
  twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  stubSendMessageEnv(table, twilio, { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM_NUMBER });
  const { handler: sendMessage } = await import('../../04_util-send-message/src/handler.ts');
  const { handler: agentSms } = await import('../../03_twiml-api/src/handlers/agent-sms.ts');
  lambda = await startFakeLambda({
    [AGENT_SMS_FUNCTION]: agentSms,
    'cr-test-send-message': async (event) => {
      await sendHeld;
      return sendMessage(event);
    },
  });
  vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', lambda.endpoint);
  await putUseCase(table, { ...APARTMENT_USE_CASE, handoff: { agentSms: true } });
  await putUseCase(table, { ...APARTMENT_USE_CASE, id: 'no-texts', name: 'No texts' });
  await putUseCase(table, { ...APARTMENT_USE_CASE, id: 'desk-phone', name: 'Desk phone', handoff: { agentSms: true, agentSmsTo: '+14065550188' } });
  await updateProfile(table, CALLER, { firstName: 'Dana', lastName: 'Reyes' });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await lambda?.close();
  await twilio?.close();
  await table?.drop();
});

beforeEach(() => {
  twilio.requests.length = 0;
  twilio.invalidNumbers.clear();
  lambda.invocations.length = 0;
  sendHeld = Promise.resolve();
});

let n = 0;
async function handoffCall(useCaseId = 'apartment-search') {
  const sessionId = `01AGENTSMS${String(++n).padStart(4, '0')}`;
  const callSid = `CA${'0'.repeat(28)}${String(n).padStart(4, '0')}`;
  await createSession(table, sessionFixture(sessionId, { callSid, from: CALLER, useCaseId }));
  const post = () =>
    twilioPost({
      path: '/connect-action',
      query: `session=${sessionId}`,
      params: { AccountSid: ACCOUNT_SID, CallSid: callSid, CallStatus: 'in-progress', From: CALLER, To: '+14065550199', SessionStatus: 'ended', HandoffData: HANDOFF },
    });
  return { sessionId, callSid, post };
}

function connectAction(agentNumber = AGENT) {
  const log = captureLogger();
  const handler = createConnectActionHandler({ table, authToken: async () => AUTH_TOKEN, agentNumber, agentSms: lambdaAgentSmsDispatcher(AGENT_SMS_FUNCTION), logger: log.logger });
  return { handler, log };
}

const claimOf = async (callSid: string) => (await table.doc.send(new GetCommand({ TableName: table.name, Key: agentSmsKey(callSid), ConsistentRead: true }))).Item;

describe('warm transfer: the summary texted to the agent', () => {
  it('answers the Dial with the whisper URL before the text is sent, texts the agent once, and a replayed callback texts nothing more', async () => {
    const { sessionId, callSid, post } = await handoffCall();
    sendHeld = new Promise((resolve) => (releaseSend = resolve));
    const { handler } = connectAction();

    const first = await handler(post());
    // The caller is on their way to the agent while Twilio's Messages API has not been asked yet.
    expect(first.body).toContain(`<Number url="https://${HOST}/whisper?session=${sessionId}" method="POST">${AGENT}</Number>`);
    expect(parseTwiml(first.body ?? '').Say[0]).toMatch(/connect you/i);
    expect(twilio.requests).toHaveLength(0);
    expect(lambda.invocations.filter((i) => i.functionName === AGENT_SMS_FUNCTION)).toEqual([
      { functionName: AGENT_SMS_FUNCTION, invocationType: 'Event', payload: { source: 'cr.agent-sms', callSid, sessionId, agentNumber: AGENT, handoffData: HANDOFF } },
    ]);
    expect(await getSession(table, sessionId)).toMatchObject({ handoffData: HANDOFF, outcome: 'dialed-agent', status: 'ended' });

    releaseSend();
    await lambda.settled();
    expect(twilio.requests.map((r) => r.form)).toEqual([
      { To: AGENT, From: FROM_NUMBER, Body: `Transfer from the Parkview Apartments assistant.\nCaller: Dana Reyes, ${CALLER}\n${SUMMARY}` },
    ]);
    expect(await claimOf(callSid)).toMatchObject({ status: 'sent', to: AGENT, sessionId, delivered: true, messageSid: expect.stringMatching(/^SM/) });

    // Twilio requests the action URL again for the same call: the same Dial, and no second text.
    const replay = await handler(post());
    expect(replay.body).toBe(first.body);
    await lambda.settled();
    expect(lambda.invocations.filter((i) => i.functionName === AGENT_SMS_FUNCTION)).toHaveLength(2);
    expect(twilio.requests).toHaveLength(1);
  });

  it('two copies of the callback at once text the agent once', async () => {
    const { callSid, post } = await handoffCall();
    const { handler } = connectAction();
    const answers = await Promise.all([handler(post()), handler(post())]);
    expect(answers.map((a) => a.body)).toEqual([answers[0]!.body, answers[0]!.body]);
    await lambda.settled();
    expect(lambda.invocations.filter((i) => i.functionName === AGENT_SMS_FUNCTION)).toHaveLength(2);
    expect(twilio.requests).toHaveLength(1);
    expect(await claimOf(callSid)).toMatchObject({ status: 'sent' });
  });

  it('texts nobody when the use case does not ask, and texts agentSmsTo when the agent is dialed at a SIP address', async () => {
    const off = await handoffCall('no-texts');
    await connectAction().handler(off.post());
    await lambda.settled();
    expect(twilio.requests).toHaveLength(0);
    expect(await claimOf(off.callSid)).toBeUndefined();

    const desk = await handoffCall('desk-phone');
    const dialed = await connectAction('sip:leasing@pbx.example.com').handler(desk.post());
    expect(dialed.body).toContain('<Sip url=');
    await lambda.settled();
    expect(twilio.requests.map((r) => r.form.To)).toEqual(['+14065550188']);
  });

  it('a text Twilio refuses is recorded and logged; the transfer is the same', async () => {
    twilio.invalidNumbers.add(AGENT);
    const { callSid, post } = await handoffCall();
    const result = await connectAction().handler(post());
    expect(result.body).toContain(`>${AGENT}</Number>`);
    await lambda.settled();
    expect(twilio.requests).toHaveLength(1);
    expect(await claimOf(callSid)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/21211/) });
  });

  it('an agent-SMS function that cannot be invoked is logged, and the caller still reaches the agent', async () => {
    const { sessionId, post } = await handoffCall();
    const log = captureLogger();
    const handler = createConnectActionHandler({ table, authToken: async () => AUTH_TOKEN, agentNumber: AGENT, agentSms: lambdaAgentSmsDispatcher('cr-test-no-such-function'), logger: log.logger });
    const result = await handler(post());
    expect(result.body).toContain(`<Number url="https://${HOST}/whisper?session=${sessionId}" method="POST">${AGENT}</Number>`);
    expect(log.lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual(['Could not hand off the text to the agent; the transfer goes on without it']);
    expect(await getSession(table, sessionId)).toMatchObject({ outcome: 'dialed-agent' });
    expect(twilio.requests).toHaveLength(0);
  });
});
