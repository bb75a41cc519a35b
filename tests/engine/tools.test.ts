import type { ToolTiming } from '../../layers/data/index.ts';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../../dev/llm/index.ts';
import { getSession, listTurnRecords, loadConversation } from '../../layers/data/index.ts';
import { sleep, startEngine, tool, waitFor, type EngineHarness } from './support.ts';

let engine: EngineHarness | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

const hasToolResults = (req: ChatCompletionRequest) => req.messages.some((m) => m.role === 'tool');

describe('tool rounds', () => {
  it('runs two 200 ms tools in parallel (about 200 ms, not 400), stores calls and results, and streams the next reply', async () => {
    engine = await startEngine({
      responder: (req) =>
        hasToolResults(req)
          ? { text: 'Denver is sunny and Boise is rainy.' }
          : {
              interleaveToolCalls: true,
              toolCalls: [
                { name: 'weather', arguments: { city: 'Denver' } },
                { name: 'forecast', arguments: { city: 'Boise' } },
              ],
            },
    });
    for (const name of ['weather', 'forecast']) {
      engine.toolFunctions[`cr-test-tools-${name}`] = async (inv) => {
        await sleep(200);
        return { ok: true, result: { tool: inv.tool, city: (inv.args as { city: string }).city, caller: inv.caller.from } };
      };
    }
    const call = await engine.startCall({ tools: [tool('weather'), tool('forecast')] });
    call.send({ type: 'prompt', voicePrompt: 'Weather in Denver and Boise?', last: true });
    await call.waitForReplies(1);
    expect(call.replies()).toEqual(['Denver is sunny and Boise is rainy.']);

    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length).toBe(1);
    const [record] = await listTurnRecords(engine.table, call.sessionId);
    const timings = record!.tools!;
    expect(timings.map((t) => t.name).sort()).toEqual(['forecast', 'weather']);
    // In parallel: each tool started before the other finished (sequential calls could not overlap). Order, not
    // wall-clock bounds, so a busy machine cannot fail it.
    const [a, b] = timings as [ToolTiming, ToolTiming];
    expect(a.startedAt).toBeLessThan(b.startedAt + b.durationMs);
    expect(b.startedAt).toBeLessThan(a.startedAt + a.durationMs);

    // The second LLM request carries the calls and their results, paired by id.
    const second = engine.llm.requests[1]!.body;
    const assistant = second.messages.find((m) => m.role === 'assistant' && m.tool_calls);
    const calls = (assistant?.tool_calls ?? []) as { id: string; function: { name: string } }[];
    expect(calls.map((c) => c.function.name)).toEqual(['weather', 'forecast']);
    const results = second.messages.filter((m) => m.role === 'tool');
    expect(results.map((m) => m.tool_call_id)).toEqual(calls.map((c) => c.id));
    expect(JSON.parse(String(results[0]!.content))).toEqual({ tool: 'weather', city: 'Denver', caller: '+14065550100' });

    const { messages } = await loadConversation(engine.table, call.sessionId);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant']);
  });

  it('turns a throwing tool, a timeout, bad arguments and an unknown tool into results the LLM then talks about', async () => {
    engine = await startEngine({
      responder: (req) =>
        hasToolResults(req)
          ? { text: 'Some of that did not work, sorry.' }
          : {
              toolCalls: [
                { name: 'broken', arguments: { city: 'Denver' } },
                { name: 'slow', arguments: { city: 'Denver' } },
                { name: 'weather', arguments: '{"city": 42}' },
                { name: 'weather', arguments: '{not json' },
                { name: 'nonexistent', arguments: {} },
              ],
            },
    });
    engine.toolFunctions['cr-test-tools-broken'] = async () => {
      throw new Error('database on fire');
    };
    engine.toolFunctions['cr-test-tools-slow'] = async () => {
      await sleep(1_500);
      return { ok: true, result: 'too late' };
    };
    let weatherCalls = 0;
    engine.toolFunctions['cr-test-tools-weather'] = async () => {
      weatherCalls++;
      return { ok: true, result: 'sunny' };
    };
    const call = await engine.startCall({ tools: [tool('broken'), tool('slow', { timeoutMs: 300 }), tool('weather')] });
    call.send({ type: 'prompt', voicePrompt: 'Do everything', last: true });
    await call.waitForReplies(1);
    expect(call.replies()).toEqual(['Some of that did not work, sorry.']);
    expect(weatherCalls).toBe(0);

    const results = engine.llm.requests[1]!.body.messages.filter((m) => m.role === 'tool').map((m) => JSON.parse(String(m.content)) as { error: { code: string; message: string } });
    expect(results.map((r) => r.error.code)).toEqual(['failed', 'timeout', 'invalid_arguments', 'invalid_arguments', 'unknown_tool']);
    expect(results[0]!.error.message).toContain('database on fire');
    expect(results[2]!.error.message).toContain('city');
    expect(results[3]!.error.message).toContain('not valid JSON');
  });

  it('says the filler when tools are slow, then the answer, as one reply', async () => {
    engine = await startEngine({
      responder: (req) => (hasToolResults(req) ? { text: 'Found three apartments.' } : { toolCalls: [{ name: 'search', arguments: { city: 'Denver' } }] }),
    });
    engine.toolFunctions['cr-test-tools-search'] = async () => {
      await sleep(400);
      return { ok: true, result: { count: 3 } };
    };
    const call = await engine.startCall({ tools: [tool('search')], filler: { afterMs: 100, text: 'Let me look that up.' } });
    call.send({ type: 'prompt', voicePrompt: 'Find me an apartment', last: true });
    await call.waitForReplies(1);
    expect(call.replies()).toEqual(['Let me look that up. Found three apartments.']);
    expect(call.textFrames().filter((f) => f.last)).toHaveLength(1);
  });

  it('plays the filler audio when the use case gives one, before the answer, and does not play it for fast tools', async () => {
    engine = await startEngine({
      responder: (req) => (hasToolResults(req) ? { text: 'Found three apartments.' } : { toolCalls: [{ name: 'search', arguments: { city: 'Denver' } }] }),
    });
    let delay = 400;
    engine.toolFunctions['cr-test-tools-search'] = async () => {
      await sleep(delay);
      return { ok: true, result: { count: 3 } };
    };
    const filler = { afterMs: 100, text: 'One moment.', playUrl: 'https://example.com/hold.mp3' };
    const slow = await engine.startCall({ tools: [tool('search')], filler });
    slow.send({ type: 'prompt', voicePrompt: 'Find me an apartment', last: true });
    await slow.waitForReplies(1);
    const types = slow.frames().map((f) => f.type);
    expect(types.filter((t) => t === 'play')).toHaveLength(1);
    expect(types.indexOf('play')).toBeLessThan(types.indexOf('text'));
    expect(slow.frames().find((f) => f.type === 'play')).toMatchObject({ source: 'https://example.com/hold.mp3' });
    expect(slow.replies()).toEqual(['Found three apartments.']);

    // Fast means well inside the filler's delay: a tool round trip of 100 ms is not guaranteed on a busy machine.
    delay = 0;
    const fast = await engine.startCall({ tools: [tool('search')], filler: { ...filler, afterMs: 10_000 } });
    fast.send({ type: 'prompt', voicePrompt: 'Find me an apartment', last: true });
    await fast.waitForReplies(1);
    expect(fast.frames().some((f) => f.type === 'play')).toBe(false);
  });

  it('applies tool actions: digits, language, session changes, and ends the call with handoffData as a JSON string', async () => {
    engine = await startEngine({
      responder: (req) =>
        hasToolResults(req) ? { text: 'Transferring you now.' } : { toolCalls: [{ name: 'transfer', arguments: { city: 'Denver' } }] },
    });
    engine.toolFunctions['cr-test-tools-transfer'] = async () => ({
      ok: true,
      result: 'transferring',
      actions: [
        { type: 'sendDigits', digits: '12#' },
        { type: 'language', ttsLanguage: 'es-ES', transcriptionLanguage: 'es-ES' },
        { type: 'updateSession', tools: [tool('transfer'), tool('goodbye')] },
        { type: 'end', handoffData: { reason: 'agent', queue: 'leasing' } },
      ],
    });
    const call = await engine.startCall({ tools: [tool('transfer')] });
    call.send({ type: 'prompt', voicePrompt: 'Get me a person', last: true });
    await call.waitForReplies(1);
    await waitFor(() => call.frames().some((f) => f.type === 'end'), 15_000, 'end frame');
    const frames = call.frames();
    const types = frames.map((f) => f.type);
    expect(types.indexOf('sendDigits')).toBeLessThan(types.lastIndexOf('text'));
    expect(frames.find((f) => f.type === 'sendDigits')).toEqual({ type: 'sendDigits', digits: '12#' });
    expect(frames.find((f) => f.type === 'language')).toEqual({ type: 'language', ttsLanguage: 'es-ES', transcriptionLanguage: 'es-ES' });
    const end = frames.find((f) => f.type === 'end')!;
    expect(types.indexOf('end')).toBe(types.length - 1);
    expect(JSON.parse(end.handoffData as string)).toEqual({ reason: 'agent', queue: 'leasing' });
    await expect.poll(async () => (await getSession(engine!.table, call.sessionId))?.status).toBe('ended');
    const session = await getSession(engine.table, call.sessionId);
    expect(session?.tools.map((t) => t.name)).toEqual(['transfer', 'goodbye']);
    expect(JSON.parse(session!.handoffData!)).toEqual({ reason: 'agent', queue: 'leasing' });
  });

  it('bounds tool rounds: after maxToolRounds the LLM is asked with tool_choice none', async () => {
    engine = await startEngine({
      responder: (req) => (req.tool_choice === 'none' ? { text: 'I will stop looking now.' } : { toolCalls: [{ name: 'search', arguments: { city: 'Denver' } }] }),
    });
    engine.toolFunctions['cr-test-tools-search'] = async () => ({ ok: true, result: 'nothing yet' });
    const call = await engine.startCall({ tools: [tool('search')], llm: { maxToolRounds: 2 } });
    call.send({ type: 'prompt', voicePrompt: 'Keep searching', last: true });
    await call.waitForReplies(1);
    expect(call.replies()).toEqual(['I will stop looking now.']);
    expect(engine.llm.requests.map((r) => r.body.tool_choice)).toEqual(['auto', 'auto', 'none']);
  });

  it('keypad: says the mapped line and forces the mapped tool, recorded as a turn', async () => {
    engine = await startEngine({
      responder: (req) => (hasToolResults(req) ? { text: 'You have two viewings booked.' } : { toolCalls: [{ name: 'viewings', arguments: { city: 'Denver' } }] }),
    });
    engine.toolFunctions['cr-test-tools-viewings'] = async () => ({ ok: true, result: { viewings: 2 } });
    const call = await engine.startCall({
      tools: [tool('viewings')],
      dtmfMap: {
        '1': { say: 'Checking your viewings.', tool: 'viewings', description: 'Caller asked for their viewings' },
        '0': { say: 'Our office is open nine to five.', description: 'Caller asked for office hours' },
      },
    });
    call.send({ type: 'dtmf', digit: '1' });
    await call.waitForReplies(1);
    expect(call.replies()).toEqual(['Checking your viewings. You have two viewings booked.']);
    expect(engine.llm.requests[0]!.body.tool_choice).toEqual({ type: 'function', function: { name: 'viewings' } });

    call.send({ type: 'dtmf', digit: '0' });
    await call.waitForReplies(2);
    expect(call.replies()[1]).toBe('Our office is open nine to five.');
    expect(engine.llm.requests).toHaveLength(2);

    call.send({ type: 'dtmf', digit: '7' });
    await sleep(200);
    expect(call.replies()).toHaveLength(2);

    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).map((r) => r.kind)).toEqual(['dtmf', 'dtmf']);
    const { messages } = await loadConversation(engine.table, call.sessionId);
    const userTurns = messages.filter((m) => m.role === 'user');
    expect(userTurns.map((m) => m.source)).toEqual(['dtmf', 'dtmf']);
    expect(userTurns[0]!.content).toContain('Caller asked for their viewings');
  });
});

describe('a reply spoken across tool rounds', () => {
  it('separates the rounds with a space and measures our overhead from the first text, not the tool call', async () => {
    engine = await startEngine({
      responder: (req) =>
        hasToolResults(req)
          ? { text: 'The studio is free.' }
          : { text: 'Let me check.', toolCalls: [{ name: 'weather', arguments: { city: 'Denver' } }] },
    });
    engine.toolFunctions['cr-test-tools-weather'] = async () => ({ ok: true, result: { free: true } });
    const call = await engine.startCall({ tools: [tool('weather')] });
    call.send({ type: 'prompt', voicePrompt: 'Is the studio free?', last: true });
    await call.waitForReplies(1);
    expect(call.replies()).toEqual(['Let me check. The studio is free.']);

    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length).toBe(1);
    const [record] = await listTurnRecords(engine.table, call.sessionId);
    expect(record!.llmFirstTextAt).toBeGreaterThanOrEqual(record!.llmFirstTokenAt!);
    expect(record!.firstTokenPostedAt).toBeGreaterThanOrEqual(record!.llmFirstTextAt!);
  });
});
