import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAiLlm } from '../../02_cr-application/src/edges/openai-llm.ts';
import type { LlmChunk } from '../../02_cr-application/src/engine/ports.ts';
import { listTurnRecords } from '../../layers/data/index.ts';
import { startEngine, tool, type EngineHarness } from '../engine/support.ts';
import { serve } from '../llm/support.ts';

/**
 * Token usage, read from the stream: the OpenAI edge asks for it (`stream_options.include_usage`) and passes the
 * provider's numbers on as a provider-neutral chunk; the turn record sums them over the turn's LLM rounds.
 */
let engine: EngineHarness | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe('LLM token usage', () => {
  it('the OpenAI edge requests usage and yields it as one usage chunk after the finish', async () => {
    const server = await serve({ responder: () => ({ text: 'Hi there.', usage: { promptTokens: 120, completionTokens: 3, cachedTokens: 64 } }) });
    const llm = createOpenAiLlm({ baseURL: server.baseUrl, apiKey: async () => 'offline', defaultModel: 'offline-demo' });
    const chunks: LlmChunk[] = [];
    for await (const chunk of llm.stream({ messages: [{ role: 'user', content: 'Hi' }], tools: [], toolChoice: 'auto' }, new AbortController().signal)) chunks.push(chunk);
    expect(server.requests[0]!.body.stream_options).toEqual({ include_usage: true });
    expect(chunks.map((c) => c.type)).toEqual(['text', 'text', 'finish', 'usage']);
    expect(chunks.at(-1)).toEqual({ type: 'usage', usage: { inputTokens: 120, outputTokens: 3, cachedTokens: 64 } });
  });

  it('a provider that reports no cached tokens counts them as zero', async () => {
    const server = await serve({ responder: () => ({ text: 'Hi.', usage: { promptTokens: 10, completionTokens: 1 } }) });
    const llm = createOpenAiLlm({ baseURL: server.baseUrl, apiKey: async () => 'offline', defaultModel: 'offline-demo' });
    const chunks: LlmChunk[] = [];
    for await (const chunk of llm.stream({ messages: [{ role: 'user', content: 'Hi' }], tools: [], toolChoice: 'auto' }, new AbortController().signal)) chunks.push(chunk);
    expect(chunks.at(-1)).toEqual({ type: 'usage', usage: { inputTokens: 10, outputTokens: 1, cachedTokens: 0 } });
  });

  it('the turn record carries input, output and cached tokens summed over the tool round and the answer', async () => {
    let round = 0;
    engine = await startEngine({
      responder: () =>
        round++ === 0
          ? { toolCalls: [{ name: 'lookup', arguments: { city: 'Missoula' } }], usage: { promptTokens: 200, completionTokens: 12, cachedTokens: 128 } }
          : { text: 'It is sunny.', usage: { promptTokens: 260, completionTokens: 5, cachedTokens: 192 } },
    });
    engine.toolFunctions['cr-test-tools-lookup'] = async () => ({ ok: true, result: { sky: 'sunny' } });
    const call = await engine.startCall({ tools: [tool('lookup')] });
    call.send({ type: 'setup', sessionId: 'VX1', callSid: `CA${call.sessionId}`, from: '+14065550100', to: '+14065550199' });
    call.send({ type: 'prompt', voicePrompt: 'What is the weather?', lang: 'en-US', last: true });
    await call.waitForReplies(1);
    expect(call.replies()).toEqual(['It is sunny.']);
    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length).toBe(1);
    const [record] = await listTurnRecords(engine.table, call.sessionId);
    expect(record!.llmRounds).toBe(2);
    expect(record!.usage).toEqual({ inputTokens: 460, outputTokens: 17, cachedTokens: 320 });
  });
});
