import { afterEach, describe, expect, it } from 'vitest';
import { getSession, listTurnRecords, loadConversation } from '../../layers/data/index.ts';
import { connectSigned, startEngine, waitFor, type EngineHarness } from './support.ts';

/**
 * Reconnects over the real wire: the local API Gateway drops the socket from its side (as API Gateway does at its
 * idle or two-hour limit, or a deploy), $disconnect runs, and the caller opens the same signed URL again, as
 * ConversationRelay does with `applicationReconnect`.
 */
let engine: EngineHarness | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i} `);
// Whether the LLM stream was aborted depends on how far it got on a busy machine: the deterministic tier
// (continuity.tier.test.ts) asserts it; here the wire shows the reply stopped and what was kept.

describe('a dropped socket (applicationReconnect)', () => {
  it('dropped mid-reply: reconnects within the grace and the conversation goes on with the full history', async () => {
    engine = await startEngine({ responder: () => ({ tokens: words(80, 'tour') }), timing: { tokenGapMs: 25 } });
    const call = await engine.startCall({ reconnectGraceMs: 60_000 });
    call.send({ type: 'prompt', voicePrompt: 'Tell me about the tour', last: true });
    await waitFor(() => call.textFrames().length >= 3, 15_000, 'a few streamed frames');

    // A network blip: the socket is cut with no close handshake.
    await engine.gateway.drop(call.connectionId);
    expect((await call.client.closed).code).toBe(1006);
    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).map((r) => r.outcome), { timeout: 15_000 }).toEqual(['hangup']);
    expect((await getSession(engine.table, call.sessionId))?.status).toBe('connected');
    const heard = call.replies()[0]!.trim();
    const stored = (await loadConversation(engine.table, call.sessionId)).messages.map((m) => [m.role, m.content]);
    expect(stored[0]).toEqual(['user', 'Tell me about the tour']);
    // What reached the caller before the drop is kept (nothing that was not posted).
    expect(heard.startsWith(String(stored[1]?.[1] ?? ''))).toBe(true);

    const again = await engine.reconnect(call);
    engine.llm.setResponder(() => ({ text: 'Sorry about that. Tours start at ten.' }));
    again.send({ type: 'setup', sessionId: 'VX1', callSid: `CA${call.sessionId}`, from: '+14065550100', to: '+14065550199' });
    again.send({ type: 'prompt', voicePrompt: 'You cut out, when do tours start?', last: true });
    await again.waitForReplies(1);
    expect(again.replies()).toEqual(['Sorry about that. Tours start at ten.']);
    const request = engine.llm.requests[1]!.body.messages.map((m) => [m.role, m.content]);
    expect(request.slice(1)).toEqual([...stored, ['user', 'You cut out, when do tours start?']]);
    expect(call.textFrames().some((f) => f.token.includes('Tours start'))).toBe(false);
  });

  it('refuses a reconnect after the grace (and ends the session), and one to another live call', async () => {
    engine = await startEngine();
    const call = await engine.startCall({ reconnectGraceMs: 1 });
    const other = await engine.startCall({ reconnectGraceMs: 60_000 });
    await engine.gateway.disconnect(call.connectionId);
    // Connecting takes longer than the 1 ms grace, however fast the machine.
    await expect(connectSigned(engine.gateway, call.sessionId)).rejects.toThrow(/404/);
    expect(await getSession(engine.table, call.sessionId)).toMatchObject({ status: 'ended', endReason: 'disconnected: no reconnect within the grace' });

    await expect(connectSigned(engine.gateway, other.sessionId)).rejects.toThrow(/404/);
    expect((await getSession(engine.table, other.sessionId))?.ledger.connection).toMatchObject({ id: other.connectionId, gen: 1, state: 'connected' });
  });

  it('without applicationReconnect a drop ends the call as before', async () => {
    engine = await startEngine();
    const call = await engine.startCall();
    await engine.gateway.disconnect(call.connectionId);
    expect((await getSession(engine.table, call.sessionId))?.status).toBe('ended');
    await expect(connectSigned(engine.gateway, call.sessionId)).rejects.toThrow(/404/);
  });
});
