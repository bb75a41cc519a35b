import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsSilenceTimer, MAX_DELAY_SECONDS } from '../../02_cr-application/src/edges/sqs-silence-timer.ts';
import type { SilenceCheck } from '../../02_cr-application/src/engine/continuity/silence.ts';
import { createSilenceHandler } from '../../02_cr-application/src/handlers/silence.ts';
import { speakingMs } from '../../02_cr-application/src/engine/continuity/silence.ts';
import { decide, type LedgerEvent } from '../../02_cr-application/src/engine/ledger/decide.ts';
import { emptyLedger } from '../../layers/data/turn-ledger.ts';
import { createManualClock } from '../engine/tier/manual-clock.ts';
import { createMemoryStore } from '../engine/tier/memory-store.ts';
import { createRecordingSink } from '../engine/tier/recording-sink.ts';
import { sessionFixture } from '../support/sessions.ts';
import { logger } from '../../layers/observability/logger.ts';

/**
 * The silence timer's AWS edges: SendMessage through the real SQS client to a local server speaking SQS's JSON
 * protocol, and the consumer's handling of an SQS event (malformed messages dropped, failures retried).
 */
let server: Server;
let endpoint: string;
const received: { target: string | undefined; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      received.push({ target: req.headers['x-amz-target'] as string | undefined, body });
      const md5 = createHash('md5').update(String(body.MessageBody)).digest('hex');
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ MessageId: `m-${received.length}`, MD5OfMessageBody: md5 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const check = (dueAt: number): SilenceCheck => ({ sessionId: 's1', turn: 2, round: 0, dueAt, endpoint: { domainName: 'abc.example', stage: 'prod' } });

describe('SQS silence timer', () => {
  it('sends each check to the queue, delayed to its due time (rounded up to the second, at most 15 minutes)', async () => {
    const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const queueUrl = `${endpoint}/000000000000/cr-test-silence`;
    const timer = createSqsSilenceTimer(client, queueUrl, () => 1_000_000);
    await timer.schedule(check(1_008_200));
    await timer.schedule(check(999_000));
    await timer.schedule(check(1_000_000 + 3_600_000));
    client.destroy();
    expect(received.map((r) => r.target)).toEqual(['AmazonSQS.SendMessage', 'AmazonSQS.SendMessage', 'AmazonSQS.SendMessage']);
    expect(received.map((r) => [r.body.QueueUrl, r.body.DelaySeconds])).toEqual([
      [queueUrl, 9],
      [queueUrl, 0],
      [queueUrl, MAX_DELAY_SECONDS],
    ]);
    expect(JSON.parse(String(received[0]!.body.MessageBody))).toEqual(check(1_008_200));
  });
});

describe('silence consumer (SQS event)', () => {
  const event = (...bodies: string[]): SQSEvent => ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })) }) as unknown as SQSEvent;

  it('drops a malformed message, retries one whose check failed, and runs a good one', async () => {
    const clock = createManualClock();
    const store = createMemoryStore({ clock });
    const sink = createRecordingSink({ clock });
    const silence = { afterSeconds: 8, reprompts: 2, lines: ['Are you still there?'], goodbye: 'Bye.' };
    await store.seedSession(sessionFixture('s-ok', { silence }), clock.now());
    await store.bindConnection('s-ok', 'c-ok');
    // The ledger as a finished turn leaves it, with the silence armed and due.
    let ledger = emptyLedger();
    for (const e of [
      { type: 'connect', connectionId: 'c-ok', at: 0, bound: true, graceMs: 0 },
      { type: 'claim', promptAt: 1, userText: 'hi' },
      { type: 'commit', turn: 1, heardApplied: false },
      { type: 'silence-arm', turn: 1, dueAt: 0 },
    ] as LedgerEvent[]) {
      const next = decide(ledger, e).next!;
      await store.compareAndSetLedger('s-ok', ledger.v, next);
      ledger = next;
    }
    const scheduled: SilenceCheck[] = [];
    const handler = createSilenceHandler({ store, sinkFor: () => sink, timer: { schedule: async (c) => void scheduled.push(c) }, clock, log: logger });
    const good = { ...check(0), sessionId: 's-ok', turn: 1 };
    const missing = { ...check(0), sessionId: 's-missing' };
    const result = await handler(event('not json', JSON.stringify({ sessionId: 's-ok' }), JSON.stringify(missing), JSON.stringify(good)));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(sink.delivered('c-ok')).toEqual([{ type: 'text', token: 'Are you still there?', last: true }]);
    expect(scheduled).toEqual([{ ...good, round: 1, dueAt: clock.now() + speakingMs('Are you still there?') + 8_000 }]);
  });
});
