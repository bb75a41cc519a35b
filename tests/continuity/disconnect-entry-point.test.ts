import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decide } from '../../02_cr-application/src/engine/ledger/decide.ts';
import type { WebSocketEvent } from '../../02_cr-application/src/handlers/websocket-event.ts';
import { bindConnection, createSession, getSession } from '../../layers/data/index.ts';
import { compareAndSetLedger, emptyLedger } from '../../layers/data/turn-ledger.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { sessionFixture } from '../support/sessions.ts';
import { startFakeSqs, type FakeSqs } from './fake-sqs.ts';

/**
 * $disconnect as Lambda runs it: the entry point builds its AWS deps from the environment the template gives it
 * (TABLE_NAME, CALL_TIMER_QUEUE_URL), reads the table through the real SDK and sends the grace check through the
 * real SQSClient to a local server speaking SQS's protocol. Without the grace check, a dropped call whose caller
 * never comes back stays `connected` until its TTL.
 */
let table: TestTable;
let sqs: FakeSqs;
let handler: (event: WebSocketEvent) => Promise<unknown>;
let QUEUE_URL: string;
const GRACE_MS = 30_000;

beforeAll(async () => {
  table = await createTestTable();
  sqs = await startFakeSqs();
  // The SQS client sends to the queue URL's own host, as it does in AWS.
  QUEUE_URL = `${sqs.endpoint}/000000000000/cr-test-call-timer`;
  vi.stubEnv('TABLE_NAME', table.name);
  vi.stubEnv('DYNAMODB_ENDPOINT', table.endpoint);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  vi.stubEnv('CALL_TIMER_QUEUE_URL', QUEUE_URL);
  // The client's own endpoint, matching the queue's host (otherwise the SDK warns that it uses the queue's).
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', sqs.endpoint);
  ({ handler } = await import('../../02_cr-application/src/handlers/disconnect.ts'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await sqs?.close();
  await table?.drop();
});

/** A connected call whose first connection was recorded with the given grace (0: no reconnects). */
async function connectedCall(sessionId: string, connectionId: string, graceMs: number) {
  await createSession(table, sessionFixture(sessionId));
  await bindConnection(table, sessionId, connectionId);
  const next = decide(emptyLedger(), { type: 'connect', connectionId, at: Date.now(), bound: true, graceMs }).next!;
  await compareAndSetLedger(table, sessionId, emptyLedger().v, next);
}

const dropped = (connectionId: string, at: number): WebSocketEvent => ({
  requestContext: { connectionId, routeKey: '$disconnect', domainName: 'abc.example', stage: 'prod', requestTimeEpoch: at, disconnectStatusCode: 1006, disconnectReason: 'Going away' },
});

describe('$disconnect entry point (AWS deps from the environment)', () => {
  it('holds a dropped call that may reconnect and arms its grace check on the call-timer queue', async () => {
    await connectedCall('01DROP0001', 'conn-drop-1', GRACE_MS);
    const at = Date.now();
    await handler(dropped('conn-drop-1', at));
    expect(sqs.received).toHaveLength(1);
    const [sent] = sqs.received;
    expect(sent!.target).toBe('AmazonSQS.SendMessage');
    expect(sent!.body.QueueUrl).toBe(QUEUE_URL);
    expect(JSON.parse(String(sent!.body.MessageBody))).toMatchObject({
      kind: 'grace',
      sessionId: '01DROP0001',
      gen: 1,
      dueAt: at + GRACE_MS,
      endpoint: { domainName: 'abc.example', stage: 'prod' },
    });
    // Due in the grace (rounded up to the second), counted from the drop.
    expect(Number(sent!.body.DelaySeconds)).toBeGreaterThan(0);
    expect(Number(sent!.body.DelaySeconds)).toBeLessThanOrEqual(GRACE_MS / 1000);
    expect((await getSession(table, '01DROP0001'))?.status).not.toBe('ended');
  });

  it('ends a call that cannot reconnect, with nothing sent to the queue', async () => {
    sqs.received.length = 0;
    await connectedCall('01DROP0002', 'conn-drop-2', 0);
    await handler(dropped('conn-drop-2', Date.now()));
    expect(sqs.received).toEqual([]);
    expect((await getSession(table, '01DROP0002'))?.status).toBe('ended');
  });
});
