import { createRequire } from 'node:module';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSession } from '../../layers/data/index.ts';
import { signedHandshakeUrl } from '../../layers/security/handshake.ts';
import { createDynamoStore } from '../../02_cr-application/src/edges/dynamo-store.ts';
import { twilioHandshakeVerifier } from '../../02_cr-application/src/edges/handshake-verifier.ts';
import { createConnectHandler } from '../../02_cr-application/src/handlers/connect.ts';
import { createDisconnectHandler } from '../../02_cr-application/src/handlers/disconnect.ts';
import { createDefaultHandler } from '../../02_cr-application/src/handlers/default.ts';
import type { WebSocketEvent } from '../../02_cr-application/src/handlers/websocket-event.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { sessionFixture } from '../support/sessions.ts';

const require = createRequire(import.meta.url);
const { getExpectedTwilioSignature } = require('twilio/lib/webhooks/webhooks.js') as {
  getExpectedTwilioSignature(authToken: string, url: string, params: Record<string, string>): string;
};

const AUTH_TOKEN = 'log-test-token';
const PUBLIC_URL = 'wss://example.execute-api.us-east-1.amazonaws.com/prod';

/** What Lambda hands a handler; only its fields matter to the logger (no Lambda here). */
function lambdaContext(requestId: string): Context {
  return {
    awsRequestId: requestId,
    functionName: 'cr-test-fn',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:cr-test-fn',
    memoryLimitInMB: '1024',
    logGroupName: '/aws/lambda/cr-test-fn',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 20_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The JSON lines a real Powertools logger writes while `work` runs. */
async function linesOf(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return out.flatMap((chunk) => chunk.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function wsEvent(connectionId: string, extra: Partial<WebSocketEvent> = {}): WebSocketEvent {
  return { requestContext: { connectionId, domainName: 'example.execute-api.us-east-1.amazonaws.com', stage: 'prod' }, ...extra };
}

describe('handler log lines: cold start, request id and call SID', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await createTestTable();
  });
  afterAll(async () => {
    await table.drop();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('$connect and $disconnect lines carry cold_start, the Lambda request id and the call SID', async () => {
    // Set by Lambda for on-demand environments; Powertools reports cold starts only then.
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const log = new Logger({ serviceName: 'cr-test', logLevel: 'INFO' });
    const store = createDynamoStore(table);
    const connect = createConnectHandler({ store, verifySignature: twilioHandshakeVerifier(async () => ({ authToken: AUTH_TOKEN, publicUrl: PUBLIC_URL })), log });
    const disconnect = createDisconnectHandler({ store, log });
    await createSession(table, sessionFixture('log-s1', { callSid: 'CAlog1' }));
    await createSession(table, sessionFixture('log-s2', { callSid: 'CAlog2' }));

    const signed = (sessionId: string, connectionId: string): WebSocketEvent => {
      const event = wsEvent(connectionId, { queryStringParameters: { session: sessionId } });
      return { ...event, headers: { 'X-Twilio-Signature': getExpectedTwilioSignature(AUTH_TOKEN, signedHandshakeUrl(event, PUBLIC_URL), {}) } };
    };
    const first = await linesOf(() => connect(signed('log-s1', 'conn-1'), lambdaContext('req-1')));
    const second = await linesOf(() => connect(signed('log-s2', 'conn-2'), lambdaContext('req-2')));
    expect(first.find((l) => l.message === 'caller connected')).toMatchObject({ cold_start: true, function_request_id: 'req-1', callSid: 'CAlog1', connectionId: 'conn-1' });
    expect(second.find((l) => l.message === 'caller connected')).toMatchObject({ cold_start: false, function_request_id: 'req-2', callSid: 'CAlog2' });

    const gone = await linesOf(() => disconnect(wsEvent('conn-1'), lambdaContext('req-3')));
    expect(gone.find((l) => l.message === 'caller disconnected')).toMatchObject({ function_request_id: 'req-3', callSid: 'CAlog1', sessionId: 'log-s1' });
    expect(gone.find((l) => l.message === 'caller disconnected')).toHaveProperty('cold_start');
  });

  it('$default lines carry cold_start without a Lambda context too (the local runtime passes none)', async () => {
    const log = new Logger({ serviceName: 'cr-test', logLevel: 'INFO' });
    const store = createDynamoStore(table);
    await createSession(table, sessionFixture('log-s3', { callSid: 'CAlog3' }));
    await store.bindConnection('log-s3', 'conn-3');
    const onDefault = createDefaultHandler({
      store,
      llm: { stream: () => (async function* () {})() },
      tools: { invoke: async () => ({ ok: false, error: 'none' }) } as never,
      sinkFor: () => ({ post: async () => ({ status: 'sent' }) }),
      log,
    });
    const setup = { type: 'setup', sessionId: 'VX3', callSid: 'CAlog3', from: '+14065550100', to: '+14065550199' };
    const first = await linesOf(() => onDefault(wsEvent('conn-3', { body: JSON.stringify(setup) })));
    const second = await linesOf(() => onDefault(wsEvent('conn-3', { body: JSON.stringify(setup) })));
    expect(first.find((l) => l.message === 'call set up')).toMatchObject({ cold_start: true, callSid: 'CAlog3', connectionId: 'conn-3' });
    expect(second.find((l) => l.message === 'call set up')).toMatchObject({ cold_start: false });
    const withContext = await linesOf(() => onDefault(wsEvent('conn-3', { body: JSON.stringify(setup) }), lambdaContext('req-9')));
    expect(withContext.find((l) => l.message === 'call set up')).toMatchObject({ function_request_id: 'req-9' });
  });
});
