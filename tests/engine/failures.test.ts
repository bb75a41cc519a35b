import { afterEach, describe, expect, it } from 'vitest';
import { createTable, getSession, listTurnRecords, loadConversation } from '../../layers/data/index.ts';
import { createDynamoStore } from '../../02_cr-application/src/edges/dynamo-store.ts';
import { connectionsSinkFactory } from '../../02_cr-application/src/edges/connections-sink.ts';
import { createOpenAiLlm } from '../../02_cr-application/src/edges/openai-llm.ts';
import { createDefaultHandler } from '../../02_cr-application/src/handlers/default.ts';
import { sleep, startEngine, waitFor, type EngineHarness } from './support.ts';

let engine: EngineHarness | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe('frames that must not break the call', () => {
  it('logs and ignores malformed, unknown and incomplete frames; the call goes on and no route fails', async () => {
    engine = await startEngine({ responder: () => ({ text: 'Still here.' }) });
    const call = await engine.startCall();
    call.send('this is not json');
    call.send('[1,2,3]');
    call.send({ type: 'prompt' });
    call.send({ type: 'dtmf' });
    call.send({ type: 'somethingNew', payload: 1 });
    call.send({ noType: true });
    call.send({ type: 'info', name: 'debug', value: 'x' });
    call.send({ type: 'error', description: 'Invalid message received' });
    await sleep(150);
    expect(call.frames()).toEqual([]);
    call.send({ type: 'prompt', voicePrompt: 'Are you there?', last: true, someNewField: { nested: true } });
    await call.waitForReplies(1);
    expect(call.replies()).toEqual(['Still here.']);
    expect(engine.llm.requests).toHaveLength(1);
    expect(engine.routeResults.every((r) => JSON.stringify(r) === '{"statusCode":200}')).toBe(true);
  });

  it('accumulates partial prompts and answers only the final one, with the whole utterance', async () => {
    engine = await startEngine({ responder: () => ({ text: 'Two bedrooms it is.' }) });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'I am looking for', last: false });
    call.send({ type: 'prompt', voicePrompt: 'a two bedroom', last: false });
    // Pieces are kept in the ledger in arrival order; the final prompt claims those that came before it.
    await expect.poll(async () => (await getSession(engine!.table, call.sessionId))?.ledger.partial?.length, { timeout: 15_000 }).toBe(2);
    expect(engine.llm.requests).toHaveLength(0);
    call.send({ type: 'prompt', voicePrompt: 'apartment', last: true });
    await call.waitForReplies(1);
    expect(engine.llm.requests).toHaveLength(1);
    const user = engine.llm.requests[0]!.body.messages.at(-1);
    expect(user).toMatchObject({ role: 'user', content: 'I am looking for a two bedroom apartment' });
    expect((await getSession(engine.table, call.sessionId))?.ledger.partial).toBeUndefined();
  });
});

describe('failures the caller must never hear as silence', () => {
  it('retries once fast after an LLM 500 before the first token', async () => {
    let n = 0;
    engine = await startEngine({ responder: () => (++n === 1 ? { error: { status: 500, message: 'upstream exploded' } } : { text: 'Recovered.' }) });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'Hello?', last: true });
    await call.waitForReplies(1);
    expect(call.replies()).toEqual(['Recovered.']);
    expect(engine.llm.requests).toHaveLength(2);
  });

  it('apologises (one complete reply) when the LLM answers 429 twice', async () => {
    engine = await startEngine({ responder: () => ({ error: { status: 429, message: 'slow down', retryAfterSeconds: 1 } }) });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'Hello?', last: true });
    await call.waitForReplies(1);
    expect(engine.llm.requests).toHaveLength(2);
    expect(call.replies()).toEqual(["Sorry, I'm having trouble right now. Could you say that again?"]);
    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).map((r) => r.outcome)).toEqual(['failed']);
  });

  it('does not retry a 400, and apologises at once', async () => {
    engine = await startEngine({ responder: () => ({ error: { status: 400, message: 'bad request' } }) });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'Hello?', last: true });
    await call.waitForReplies(1);
    expect(engine.llm.requests).toHaveLength(1);
    expect(call.replies()[0]).toContain('Sorry');
  });

  it('a stream cut mid-reply ends with an apology, still one last:true', async () => {
    engine = await startEngine({ responder: () => ({ tokens: ['One ', 'two ', 'three ', 'four '], failAfterTokens: 2 }) });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'Count', last: true });
    await call.waitForReplies(1);
    const reply = call.replies()[0]!;
    expect(reply.startsWith('One two ')).toBe(true);
    expect(reply).toContain('Sorry');
    expect(call.textFrames().filter((f) => f.last)).toHaveLength(1);
  });

  it('410 mid-stream: stops at once, no retries or error storm, keeps what was said', async () => {
    const tokens = Array.from({ length: 60 }, (_, i) => `w${i} `);
    engine = await startEngine({ responder: () => ({ tokens }), timing: { tokenGapMs: 20 }, postLatencyMs: 5 });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'Talk', last: true });
    await waitFor(() => call.textFrames().length >= 3, 15_000, 'streaming');
    engine.gateway.markGone(call.connectionId);
    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).map((r) => r.outcome), { timeout: 15_000 }).toEqual(['hangup']);
    const gone = engine.gateway.posts.filter((p) => p.connectionId === call.connectionId && p.status === 410);
    expect(gone).toHaveLength(1);
    expect(engine.llm.requests[0]!.aborted).toBe(true);
    const delivered = engine.gateway.posts
      .filter((p) => p.connectionId === call.connectionId && p.status === 200)
      .map((p) => (JSON.parse(p.data) as { token: string }).token)
      .join('');
    const { messages } = await loadConversation(engine.table, call.sessionId);
    expect(messages.at(-1)).toMatchObject({ role: 'assistant', content: delivered.trim(), interrupted: true });
  });

  it('a DynamoDB failure before the LLM request: logged, and the caller hears the fallback line', async () => {
    engine = await startEngine();
    const call = await engine.startCall();
    // The same handler wiring, on a table that does not exist.
    const broken = createDefaultHandler({
      store: createDynamoStore(createTable({ name: 'no-such-table', endpoint: engine.table.endpoint, region: 'local' })),
      llm: createOpenAiLlm({ baseURL: engine.llm.baseUrl, apiKey: async () => 'offline', defaultModel: 'offline-demo' }),
      tools: { invoke: async () => ({ ok: false, error: { code: 'failed', message: 'unused' } }) },
      sinkFor: connectionsSinkFactory({ CONNECTIONS_ENDPOINT: engine.gateway.connectionsEndpoint, AWS_REGION: 'us-east-1' }),
    });
    const result = await broken({
      requestContext: { connectionId: call.connectionId, routeKey: '$default', eventType: 'MESSAGE', domainName: 'localhost', stage: 'ws' },
      body: JSON.stringify({ type: 'prompt', voicePrompt: 'Hello?', last: true }),
      isBase64Encoded: false,
    });
    expect(result).toEqual({ statusCode: 200 });
    await call.waitForReplies(1);
    expect(call.replies()[0]).toContain('Sorry');
    expect(engine.llm.requests).toHaveLength(0);
  });
});
