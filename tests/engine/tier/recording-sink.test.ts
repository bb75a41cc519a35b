import { describe, expect, it } from 'vitest';
import type { TextMessage } from '../../../layers/protocol/conversation-relay.ts';
import { createManualClock } from './manual-clock.ts';
import { createRecordingSink } from './recording-sink.ts';
import { settle } from './settle.ts';

const token = (t: string, last = false): TextMessage => ({ type: 'text', token: t, last });

describe('recording sink', () => {
  it('records every post in order with the clock time, and splits what the caller heard into replies', async () => {
    const clock = createManualClock(0);
    const sink = createRecordingSink({ clock });
    expect(await sink.post('c1', token('Hello '))).toEqual({ status: 'sent' });
    await clock.advance(120);
    await sink.post('c1', token('there.', true));
    await sink.post('c2', { type: 'play', source: 'https://example.com/jingle.mp3' });
    await sink.post('c1', token('Next '));
    expect(sink.posts.map((p) => [p.seq, p.connectionId, p.postedAt, p.settledAt, p.state])).toEqual([
      [0, 'c1', 0, 0, 'sent'],
      [1, 'c1', 120, 120, 'sent'],
      [2, 'c2', 120, 120, 'sent'],
      [3, 'c1', 120, 120, 'sent'],
    ]);
    expect(sink.replies('c1')).toEqual(['Hello there.', 'Next ']);
    expect(sink.texts('c1')).toEqual([
      { token: 'Hello ', last: false },
      { token: 'there.', last: true },
      { token: 'Next ', last: false },
    ]);
    expect(sink.delivered('c2')).toEqual([{ type: 'play', source: 'https://example.com/jingle.mp3' }]);
    expect(sink.delivered()).toHaveLength(4);
  });

  it('answers a post asynchronously, and keeps a copy of the frame as it was posted', async () => {
    const sink = createRecordingSink({ clock: createManualClock(0) });
    const frame = token('a');
    let answered = false;
    const pending = sink.post('c1', frame).then(() => (answered = true));
    expect(answered).toBe(false);
    expect(sink.inFlight('c1')).toBe(1);
    frame.token = 'mutated';
    await pending;
    expect(sink.delivered('c1')).toEqual([token('a')]);
    expect(sink.inFlight()).toBe(0);
  });

  it('refuses an invalid frame as the connections sink does: answered invalid, never delivered', async () => {
    const sink = createRecordingSink();
    const result = await sink.post('c1', { type: 'sendDigits', digits: 'not digits' });
    expect(result).toEqual({ status: 'invalid' });
    expect(sink.posts[0]?.state).toBe('invalid');
    expect(sink.delivered()).toEqual([]);
  });

  it('answers gone for a hung-up connection from then on, and failed as many times as told, other connections unaffected', async () => {
    const sink = createRecordingSink();
    const error = new Error('throttled');
    sink.answer('c1', 'failed', { times: 2, error });
    expect(await sink.post('c1', token('a'))).toEqual({ status: 'failed', error });
    expect(await sink.post('c2', token('b'))).toEqual({ status: 'sent' });
    expect(await sink.post('c1', token('a'))).toEqual({ status: 'failed', error });
    expect(await sink.post('c1', token('a'))).toEqual({ status: 'sent' });
    sink.answer('c1', 'gone');
    for (let i = 0; i < 3; i++) expect(await sink.post('c1', token('x'))).toEqual({ status: 'gone' });
    sink.answer('c1', 'sent');
    expect(await sink.post('c1', token('back'))).toEqual({ status: 'sent' });
    expect(sink.posts.map((p) => p.state)).toEqual(['failed', 'sent', 'failed', 'sent', 'gone', 'gone', 'gone', 'sent']);
    expect(sink.replies('c1')).toEqual(['aback']);
  });

  it('holds a post in flight until released; the caller hears frames in the order they arrive, not the order they left', async () => {
    const clock = createManualClock(0);
    const sink = createRecordingSink({ clock });
    const held = sink.hold('old');
    const oldReply = sink.post('old', token('stale words'));
    const parked = await held.reached;
    expect(parked).toMatchObject({ seq: 0, connectionId: 'old', state: 'in-flight' });
    // Other connections (and later holds) are not affected by a hold on one connection.
    await sink.post('new', token('Fresh reply.', true));
    await settle();
    expect(sink.inFlight('old')).toBe(1);
    await clock.advance(40);
    held();
    expect(await oldReply).toEqual({ status: 'sent' });
    expect(sink.posts.map((p) => [p.connectionId, p.postedAt, p.settledAt])).toEqual([
      ['old', 0, 40],
      ['new', 0, 0],
    ]);
    expect(sink.delivered().map((m) => (m.type === 'text' ? m.token : m.type))).toEqual(['Fresh reply.', 'stale words']);
  });

  it('counts posts in flight per connection and remembers the most at once', async () => {
    const sink = createRecordingSink();
    const first = sink.hold('c1');
    const second = sink.hold('c1');
    const a = sink.post('c1', token('a'));
    const b = sink.post('c1', token('b'));
    const c = sink.post('c2', token('c'));
    await Promise.all([first.reached, second.reached, c]);
    expect([sink.inFlight('c1'), sink.inFlight('c2'), sink.inFlight()]).toEqual([2, 0, 2]);
    second('gone');
    first();
    expect(await Promise.all([a, b])).toEqual([{ status: 'sent' }, { status: 'gone' }]);
    expect([sink.maxInFlight('c1'), sink.maxInFlight('c2'), sink.maxInFlight(), sink.maxInFlight('never')]).toEqual([2, 1, 3, 0]);
  });

  it('disarms a hold released before any post reached it', async () => {
    const sink = createRecordingSink();
    const unused = sink.hold();
    unused();
    expect(await sink.post('c1', token('straight through'))).toEqual({ status: 'sent' });
  });
});
