import { afterEach, describe, expect, it } from 'vitest';
import type { LlmMessage } from '../../02_cr-application/src/engine/ports.ts';
import { createEngineTier, type EngineTier } from './tier/engine-tier.ts';
import { finish, gate, says, text } from './tier/scripted-llm.ts';
import { settle } from './tier/settle.ts';

/**
 * Call continuity in the deterministic tier: a socket that drops and comes back (ConversationRelay's
 * `applicationReconnect`), each $connect, $disconnect and frame its own invocation, on a manual clock.
 */
let tier: EngineTier;
afterEach(async () => {
  await tier?.drain().catch(() => undefined);
});

const GRACE_MS = 60_000;
const status = (code: unknown) => (code as { statusCode: number }).statusCode;
const conversation = (request: { messages: LlmMessage[] }) =>
  request.messages.filter((m) => m.role !== 'system').map((m) => [m.role, 'content' in m ? m.content : null]);

describe('reconnect', () => {
  it('a socket dropped mid-reply: the reply stops, what was posted is kept, and the reconnected call goes on with the full history', async () => {
    tier = await createEngineTier();
    const held = gate();
    tier.llm.enqueue([text('The two-bedroom is on the third floor. '), held, text('It has a balcony.'), finish()]);
    const call = await tier.call({ reconnectGraceMs: GRACE_MS });
    void call.prompt('Tell me about the two-bedroom.');
    await held.reached;
    await settle();
    await tier.clock.advance(300);
    expect(call.replies()).toEqual(['The two-bedroom is on the third floor. ']);

    expect(status(await call.drop())).toBe(200);
    await tier.clock.advance(100);
    expect(tier.llm.requests[0]!.aborted).toBe(true);
    held.open();
    await tier.drain();
    expect(tier.store.session(call.sessionId)).toMatchObject({ status: 'connected', ledger: { connection: { state: 'disconnected', gen: 1 } } });
    expect(call.history()).toEqual([
      ['user', 'Tell me about the two-bedroom.'],
      ['assistant', 'The two-bedroom is on the third floor.'],
    ]);
    expect(tier.store.turnRecords(call.sessionId).map((r) => r.outcome)).toEqual(['hangup']);

    await tier.clock.advance(GRACE_MS - 1_000);
    const { result, call: again } = await call.reconnect();
    expect(status(result)).toBe(200);
    expect(tier.store.session(call.sessionId)!.ledger.connection).toMatchObject({ id: again.connectionId, gen: 2, state: 'connected' });

    tier.llm.enqueue(says('Yes, and it has a balcony.'));
    void again.prompt('Sorry, you cut out. Does it have a balcony?');
    await tier.drain();
    expect(again.replies()).toEqual(['Yes, and it has a balcony.']);
    expect(conversation(tier.llm.requests[1]!.request)).toEqual([
      ['user', 'Tell me about the two-bedroom.'],
      ['assistant', 'The two-bedroom is on the third floor.'],
      ['user', 'Sorry, you cut out. Does it have a balcony?'],
    ]);
    // Nothing of either reply went to the wrong connection.
    expect(call.replies()).toEqual(['The two-bedroom is on the third floor. ']);
  });

  it('after the grace the reconnect is refused and the session ends', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ reconnectGraceMs: GRACE_MS });
    await call.drop();
    await tier.clock.advance(GRACE_MS + 1);
    const { result } = await call.reconnect();
    expect(status(result)).toBe(404);
    expect(tier.store.session(call.sessionId)).toMatchObject({ status: 'ended', endReason: 'disconnected: no reconnect within the grace' });
  });

  it('a call whose use case does not reconnect ends at the drop, and a reconnect is refused', async () => {
    tier = await createEngineTier();
    const call = await tier.call();
    await call.drop();
    expect(tier.store.session(call.sessionId)).toMatchObject({ status: 'ended' });
    expect(status((await call.reconnect()).result)).toBe(404);
  });

  it('a second connection to a live call is refused; an unknown session too', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ reconnectGraceMs: GRACE_MS });
    const other = await tier.call({ reconnectGraceMs: GRACE_MS });
    expect(status((await call.reconnect()).result)).toBe(404);
    expect(tier.store.session(call.sessionId)!.ledger.connection).toMatchObject({ id: call.connectionId, gen: 1 });
    expect(tier.store.session(other.sessionId)!.ledger.connection).toMatchObject({ id: other.connectionId, gen: 1 });
    await tier.store.endSession(other.sessionId, 'hangup');
    expect(status((await other.reconnect()).result)).toBe(404);
  });

  it('a reconnect that beats the old connection’s $disconnect: accepted once API Gateway says it is gone; the late $disconnect changes nothing', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ reconnectGraceMs: GRACE_MS });
    tier.gone.add(call.connectionId);
    const { result, call: again } = await call.reconnect();
    expect(status(result)).toBe(200);
    await call.drop();
    expect(tier.store.session(again.sessionId)).toMatchObject({ status: 'connected', ledger: { connection: { id: again.connectionId, state: 'connected', gen: 2 } } });

    tier.llm.enqueue(says('Still here.'));
    void again.prompt('Hello?');
    await tier.drain();
    expect(again.replies()).toEqual(['Still here.']);
  });
});

describe('replayed events after a reconnect', () => {
  it('a prompt already answered on the old connection is not answered again, nor stored twice; an interrupt already recorded changes nothing', async () => {
    tier = await createEngineTier();
    const held = gate();
    tier.llm.enqueue(says('We allow cats and dogs.'), [text('Parking is twenty dollars a month, '), held, text('covered.'), finish()]);
    const call = await tier.call({ reconnectGraceMs: GRACE_MS });
    void call.prompt('Do you allow pets?');
    await tier.drain();
    void call.prompt('What about parking?');
    await held.reached;
    await settle();
    await tier.clock.advance(300);
    void call.interrupt('parking is twenty dollars');
    await tier.clock.advance(100);
    held.open();
    await tier.drain();
    const before = call.history();

    await call.drop();
    await tier.clock.advance(2_000);
    const { call: again } = await call.reconnect();
    // Twilio replays what it had buffered: here, frames we had already handled.
    void again.prompt('Do you allow pets?');
    void again.interrupt('parking is twenty dollars');
    await tier.drain();
    expect(tier.llm.requests).toHaveLength(2);
    expect(again.frames()).toEqual([]);
    expect(call.history()).toEqual(before);
    expect(before).toEqual([
      ['user', 'Do you allow pets?'],
      ['assistant', 'We allow cats and dogs.'],
      ['user', 'What about parking?'],
      ['assistant', 'Parking is twenty dollars'],
    ]);
  });

  it('a prompt whose reply the drop cut off is answered on the new connection', async () => {
    tier = await createEngineTier();
    const held = gate();
    tier.llm.enqueue([text('Tours run '), held, text('every hour.'), finish()], says('Tours run every hour, nine to five.'));
    const call = await tier.call({ reconnectGraceMs: GRACE_MS });
    void call.prompt('When are tours?');
    await held.reached;
    await settle();
    await call.drop();
    await tier.clock.advance(100);
    held.open();
    await tier.drain();
    const { call: again } = await call.reconnect();
    void again.prompt('When are tours?');
    await tier.drain();
    expect(again.replies()).toEqual(['Tours run every hour, nine to five.']);
  });
});
