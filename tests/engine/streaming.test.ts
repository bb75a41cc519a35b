import { afterEach, describe, expect, it } from 'vitest';
import { listTurnRecords, loadConversation } from '../../layers/data/index.ts';
import { startEngine, type EngineHarness } from './support.ts';

let engine: EngineHarness | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

function postsTo(h: EngineHarness, connectionId: string) {
  return h.gateway.posts.filter((p) => p.connectionId === connectionId && p.status === 200);
}

describe('reply streaming through the real handlers', () => {
  it('streams the reply in order, ends it with exactly one last:true, loses nothing, and stores both sides off the hot path', async () => {
    const tokens = Array.from({ length: 25 }, (_, i) => `w${i} `);
    engine = await startEngine({ responder: () => ({ tokens }), timing: { tokenGapMs: 3 }, postLatencyMs: 5 });
    const call = await engine.startCall();
    call.send({ type: 'setup', sessionId: 'VX1', callSid: `CA${call.sessionId}`, from: '+14065550100', to: '+14065550199' });
    call.send({ type: 'prompt', voicePrompt: 'Say twenty five words', lang: 'en-US', last: true });
    await call.waitForReplies(1);

    const frames = call.textFrames();
    expect(frames.filter((f) => f.last)).toHaveLength(1);
    expect(frames[frames.length - 1]!.last).toBe(true);
    expect(call.replies()).toEqual([tokens.join('')]);

    // The LLM saw the system prompt and the caller's words.
    const request = engine.llm.requests[0]!.body;
    expect(request.messages[0]).toMatchObject({ role: 'system' });
    expect(request.messages[request.messages.length - 1]).toMatchObject({ role: 'user', content: 'Say twenty five words' });
    expect(request.stream).toBe(true);

    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length).toBe(1);
    const { messages, session } = await loadConversation(engine.table, call.sessionId);
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Say twenty five words'],
      ['assistant', tokens.join('')],
    ]);
    expect(session.ledger).toMatchObject({ turnCount: 1, turns: { 1: { state: 'finished', committed: true } } });
    const [record] = await listTurnRecords(engine.table, call.sessionId);
    expect(record).toMatchObject({ turn: 1, kind: 'prompt', outcome: 'completed', tokens: 25 });
    for (const mark of ['promptReceivedAt', 'llmRequestSentAt', 'llmFirstTokenAt', 'firstTokenPostedAt', 'llmLastTokenAt', 'lastTokenPostedAt'] as const) {
      expect(record![mark], mark).toBeTypeOf('number');
    }
    expect(record!.llmRequestSentAt!).toBeGreaterThanOrEqual(record!.promptReceivedAt);
    expect(record!.firstTokenPostedAt!).toBeGreaterThanOrEqual(record!.llmFirstTokenAt!);
    // Every route answered 200 with no body (a body would reach Twilio as error 64107).
    expect(engine.routeResults.every((r) => JSON.stringify(r) === '{"statusCode":200}')).toBe(true);
  });

  it('sends the second turn the history of the first', async () => {
    let n = 0;
    engine = await startEngine({ responder: () => ({ text: `Answer ${++n}.` }) });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'First question', last: true });
    await call.waitForReplies(1);
    // The caller listens to the reply before answering; by then the first turn is stored.
    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length).toBe(1);
    call.send({ type: 'prompt', voicePrompt: 'Second question', last: true });
    await call.waitForReplies(2);
    expect(call.replies()).toEqual(['Answer 1.', 'Answer 2.']);
    const second = engine.llm.requests[1]!.body.messages.map((m) => [m.role, m.content]);
    expect(second.slice(1)).toEqual([
      ['user', 'First question'],
      ['assistant', 'Answer 1.'],
      ['user', 'Second question'],
    ]);
  });

  it('coalesces tokens that arrive while a post is in flight (60 tokens 5 ms apart, 30 ms posts)', async () => {
    const tokens = Array.from({ length: 60 }, (_, i) => `t${i} `);
    engine = await startEngine({ responder: () => ({ tokens }), timing: { firstTokenMs: 20, tokenGapMs: 5 }, postLatencyMs: 30 });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'Count for me', last: true });
    await call.waitForReplies(1, 15_000);

    expect(call.replies()).toEqual([tokens.join('')]);
    const frames = call.textFrames();
    expect(frames.filter((f) => f.last)).toHaveLength(1);
    const posts = postsTo(engine, call.connectionId);
    // Far fewer posts than tokens: 60 tokens over ~300 ms at 30 ms a post is ~10-12 posts, plus the end marker.
    expect(posts.length).toBeLessThan(30);
    expect(posts.length).toBeGreaterThan(2);

    // How late the last words are (the tail lag) is a timing target: `npm run bench` measures it, not this test.

    const [record] = await (async () => {
      await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length).toBe(1);
      return listTurnRecords(engine!.table, call.sessionId);
    })();
    expect(record!.posts).toBe(posts.length);
  });
});
