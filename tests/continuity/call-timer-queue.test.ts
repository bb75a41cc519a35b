import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsCallTimer, MAX_DELAY_SECONDS } from '../../02_cr-application/src/edges/sqs-call-timer.ts';
import type { DigitsCheck, EngineCheck, GraceCheck, SilenceCheck, TimerCheck } from '../../02_cr-application/src/engine/continuity/call-timer.ts';
import { GRACE_OVER_REASON } from '../../02_cr-application/src/engine/continuity/grace.ts';
import { createCallTimerHandler } from '../../02_cr-application/src/handlers/call-timer.ts';
import { speakingMs } from '../../02_cr-application/src/engine/continuity/silence.ts';
import { decide, type LedgerEvent } from '../../02_cr-application/src/engine/ledger/decide.ts';
import { emptyLedger } from '../../layers/data/turn-ledger.ts';
import { createManualClock } from '../engine/tier/manual-clock.ts';
import { createMemoryStore } from '../engine/tier/memory-store.ts';
import { createRecordingSink } from '../engine/tier/recording-sink.ts';
import { sessionFixture } from '../support/sessions.ts';
import { logger } from '../../layers/observability/logger.ts';
import { startFakeSqs, type FakeSqs } from './fake-sqs.ts';

/**
 * The call timer's AWS edges: SendMessage through the real SQS client to a local server speaking SQS's JSON
 * protocol, and the consumer's handling of an SQS event (each kind of check, malformed messages dropped,
 * failures retried).
 */
let sqs: FakeSqs;
let endpoint: string;
let received: FakeSqs['received'];

beforeAll(async () => {
  sqs = await startFakeSqs();
  endpoint = sqs.endpoint;
  received = sqs.received;
});
afterAll(() => sqs.close());

const endpoint_ = { domainName: 'abc.example', stage: 'prod' };
const check = (dueAt: number): SilenceCheck => ({ kind: 'silence', sessionId: 's1', turn: 2, round: 0, dueAt, endpoint: endpoint_ });

describe('SQS call timer', () => {
  it('sends each check to the queue, delayed to its due time (rounded up to the second, at most 15 minutes)', async () => {
    const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const queueUrl = `${endpoint}/000000000000/cr-test-call-timer`;
    const timer = createSqsCallTimer(client, queueUrl, () => 1_000_000);
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

describe('call timer consumer (SQS event)', () => {
  const event = (...bodies: string[]): SQSEvent => ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })) }) as unknown as SQSEvent;

  async function stand() {
    // Call time from 0, so the ledgers below read as a timeline.
    const clock = createManualClock(0);
    const store = createMemoryStore({ clock });
    const sink = createRecordingSink({ clock });
    const scheduled: TimerCheck[] = [];
    const forwarded: EngineCheck[] = [];
    const handler = createCallTimerHandler({
      store,
      sinkFor: () => sink,
      timer: { schedule: async (c) => void scheduled.push(c) },
      clock,
      log: logger,
      runInEngine: async (c) => void forwarded.push(c),
    });
    /** A session whose ledger went through `events`, from its first connection `c-<id>`. */
    async function session(id: string, events: LedgerEvent[], overrides = {}) {
      await store.seedSession(sessionFixture(id, overrides), clock.now());
      await store.bindConnection(id, `c-${id}`);
      let ledger = emptyLedger();
      for (const e of events) {
        const next = decide(ledger, e).next;
        if (!next) continue;
        await store.compareAndSetLedger(id, ledger.v, next);
        ledger = next;
      }
    }
    return { clock, store, sink, scheduled, forwarded, handler, session };
  }

  it('drops a malformed message, retries one whose check failed, and runs a good one', async () => {
    const { clock, sink, scheduled, handler, session } = await stand();
    const silence = { afterSeconds: 8, reprompts: 2, lines: ['Are you still there?'], goodbye: 'Bye.' };
    // The ledger as a finished turn leaves it, with the silence armed and due.
    await session('s-ok', [
      { type: 'connect', connectionId: 'c-s-ok', at: 0, bound: true, graceMs: 0 },
      { type: 'claim', promptAt: 1, userText: 'hi' },
      { type: 'commit', turn: 1, heardApplied: false },
      { type: 'silence-arm', turn: 1, dueAt: 0 },
    ], { silence });
    const good = { ...check(0), sessionId: 's-ok', turn: 1 };
    const missing = { ...check(0), sessionId: 's-missing' };
    const result = await handler(
      event('not json', JSON.stringify({ kind: 'silence', sessionId: 's-ok' }), JSON.stringify({ ...check(0), kind: 'alarm' }), JSON.stringify(missing), JSON.stringify(good)),
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm3' }] });
    expect(sink.delivered('c-s-ok')).toEqual([{ type: 'text', token: 'Are you still there?', last: true }]);
    expect(scheduled).toEqual([{ ...good, round: 1, dueAt: clock.now() + speakingMs('Are you still there?') + 8_000 }]);
  });

  it('takes a silence check queued before checks had a kind (in flight during a deploy)', async () => {
    const { sink, handler, session } = await stand();
    await session('s-old', [
      { type: 'connect', connectionId: 'c-s-old', at: 0, bound: true, graceMs: 0 },
      { type: 'claim', promptAt: 1, userText: 'hi' },
      { type: 'commit', turn: 1, heardApplied: false },
      { type: 'silence-arm', turn: 1, dueAt: 0 },
    ], { silence: { afterSeconds: 8, reprompts: 2, lines: ['Hello?'], goodbye: 'Bye.' } });
    const { kind: _kind, ...legacy } = { ...check(0), sessionId: 's-old', turn: 1 };
    expect(await handler(event(JSON.stringify(legacy)))).toEqual({ batchItemFailures: [] });
    expect(sink.replies('c-s-old')).toEqual(['Hello?']);
  });

  it('a grace check ends a call that did not reconnect, and leaves one that did alone', async () => {
    const { clock, store, handler, session } = await stand();
    const drop = (id: string): LedgerEvent[] => [
      { type: 'connect', connectionId: `c-${id}`, at: 0, bound: true, graceMs: 60_000 },
      { type: 'disconnect', connectionId: `c-${id}`, at: 1_000 },
    ];
    await session('s-gone', drop('s-gone'));
    await session('s-back', [...drop('s-back'), { type: 'connect', connectionId: 'c-new', at: 30_000, bound: false, graceMs: 0 }]);
    await clock.advance(61_000);
    const grace = (sessionId: string): GraceCheck => ({ kind: 'grace', sessionId, gen: 1, dueAt: 61_000, endpoint: endpoint_ });
    expect(await handler(event(JSON.stringify(grace('s-gone')), JSON.stringify(grace('s-back'))))).toEqual({ batchItemFailures: [] });
    expect(store.session('s-gone')).toMatchObject({ status: 'ended', endReason: GRACE_OVER_REASON });
    expect(store.session('s-gone')?.ledger.connection).toMatchObject({ state: 'ended', at: 1_000 });
    expect(store.session('s-back')?.status).not.toBe('ended');
    expect(store.session('s-back')?.ledger.connection).toMatchObject({ id: 'c-new', gen: 2, state: 'connected' });
  });

  it('a keypad check goes to the engine only while it is the entry\'s current deadline and that has passed', async () => {
    const { clock, scheduled, forwarded, handler, session } = await stand();
    const spec = { description: 'The unit number.', timeoutMs: 5_000 };
    await session('s-keys', [
      { type: 'connect', connectionId: 'c-s-keys', at: 0, bound: true, graceMs: 0 },
      { type: 'digits-start', at: 0, spec, timed: true },
      { type: 'digit', at: 1_000, digit: '4', timed: true },
    ]);
    const digits = (dueAt: number): DigitsCheck => ({ kind: 'digits', sessionId: 's-keys', dueAt, endpoint: endpoint_ });
    // The first check was armed before the key moved the deadline: stale. The current one came early: again.
    await clock.advance(5_500);
    await handler(event(JSON.stringify(digits(5_000)), JSON.stringify(digits(6_000))));
    expect(forwarded).toEqual([]);
    expect(scheduled).toEqual([digits(6_000)]);
    await clock.advance(500);
    await handler(event(JSON.stringify(digits(6_000))));
    expect(forwarded).toEqual([digits(6_000)]);
  });
});
