import { describe, expect, it } from 'vitest';
import { LlmError, type LlmChunk, type LlmRequest, type LlmStreamEvents } from '../../../02_cr-application/src/engine/ports.ts';
import { createManualClock } from './manual-clock.ts';
import { createScriptedLlm, fail, finish, gate, requestSent, says, text, toolCall, waitMs } from './scripted-llm.ts';
import { settle } from './settle.ts';

const request = (content: string): LlmRequest => ({ messages: [{ role: 'user', content }], tools: [], toolChoice: 'auto' });

/** Reads a stream to its end; chunks and the error (if any) in order. */
async function read(stream: AsyncIterable<LlmChunk>, into: (LlmChunk | string)[] = []): Promise<(LlmChunk | string)[]> {
  try {
    for await (const chunk of stream) into.push(chunk);
  } catch (err) {
    into.push(`error: ${(err as Error).name}: ${(err as Error).message}`);
  }
  return into;
}

describe('scripted LLM', () => {
  it('answers each request with the next scripted reply, then with the responder, and records every request as sent', async () => {
    const clock = createManualClock(0);
    const llm = createScriptedLlm({ clock });
    llm.enqueue(says('Hello ', 'there.'), [text('Second.'), finish()]);
    llm.respond((req, index) => says(`#${index} heard ${(req.messages.at(-1) as { content: string }).content}`));
    const first = request('hi');
    const out = await read(llm.stream(first, new AbortController().signal));
    // The engine may reuse and change its message array: the recording must not follow.
    first.messages.push({ role: 'assistant', content: 'changed later' });
    await read(llm.stream(request('again'), new AbortController().signal));
    const third = await read(llm.stream(request('more'), new AbortController().signal));

    expect(out).toEqual([
      { type: 'text', text: 'Hello ' },
      { type: 'text', text: 'there.' },
      { type: 'finish', reason: 'stop' },
    ]);
    expect(third).toEqual([{ type: 'text', text: '#2 heard more' }, { type: 'finish', reason: 'stop' }]);
    expect(llm.requests.map((r) => r.request.messages)).toEqual([
      [{ role: 'user', content: 'hi' }],
      [{ role: 'user', content: 'again' }],
      [{ role: 'user', content: 'more' }],
    ]);
    expect(llm.requests.map((r) => [r.outcome, r.aborted])).toEqual([
      ['completed', false],
      ['completed', false],
      ['completed', false],
    ]);
    expect(llm.queued()).toBe(0);
  });

  it('records tools and tool choice, and streams tool calls as OpenAI does: indexed, arguments in fragments', async () => {
    const llm = createScriptedLlm({ clock: createManualClock(0) });
    llm.enqueue([
      text('Let me look. '),
      toolCall({ id: 'c1', name: 'lookup', arguments: { city: 'Denver' } }, { fragments: 3 }),
      toolCall({ id: 'c2', name: 'broken', arguments: '{"unclosed": ' }),
      finish('tool_calls'),
    ]);
    const req: LlmRequest = {
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: {} } }],
      toolChoice: { name: 'lookup' },
      model: 'm',
      temperature: 0.2,
    };
    const chunks = await read(llm.stream(req, new AbortController().signal));
    expect(chunks).toEqual([
      { type: 'text', text: 'Let me look. ' },
      { type: 'tool-call', index: 0, id: 'c1', name: 'lookup', arguments: '{"city' },
      { type: 'tool-call', index: 0, arguments: '":"Den' },
      { type: 'tool-call', index: 0, arguments: 'ver"}' },
      { type: 'tool-call', index: 1, id: 'c2', name: 'broken', arguments: '{"unclosed": ' },
      { type: 'finish', reason: 'tool_calls' },
    ]);
    expect(llm.requests[0]?.request).toEqual(req);
    expect(llm.requests[0]?.request).not.toBe(req);
  });

  it('says when the request goes out: before the first step, at requestSent(), or never for an edge that cannot tell', async () => {
    const clock = createManualClock(0);
    const order: string[] = [];
    const events: LlmStreamEvents = { onRequestSent: () => order.push('sent') };
    const llm = createScriptedLlm({ clock });
    llm.enqueue(says('a'), [waitMs(30), requestSent(), text('b'), finish()]);
    for (const chunk of await read(llm.stream(request('1'), new AbortController().signal, events))) order.push(JSON.stringify(chunk));
    const second = read(llm.stream(request('2'), new AbortController().signal, events));
    await clock.advance(30);
    for (const chunk of await second) order.push(JSON.stringify(chunk));
    expect(order).toEqual([
      'sent',
      '{"type":"text","text":"a"}',
      '{"type":"finish","reason":"stop"}',
      'sent',
      '{"type":"text","text":"b"}',
      '{"type":"finish","reason":"stop"}',
    ]);
    expect(llm.requests.map((r) => r.sentAt)).toEqual([0, 30]);

    const silent = createScriptedLlm({ clock, reportsRequestSent: false });
    silent.enqueue(says('c'));
    await read(silent.stream(request('3'), new AbortController().signal, events));
    expect(order.filter((o) => o === 'sent')).toHaveLength(2);
    expect(silent.requests[0]?.sentAt).toBeUndefined();
  });

  it('fails where the script says, with the error it was given', async () => {
    const llm = createScriptedLlm({ clock: createManualClock(0) });
    llm.enqueue([text('Hel'), fail(new LlmError('upstream 503', 503, true))], [fail(new LlmError('bad request', 400, false))]);
    const midway = await read(llm.stream(request('x'), new AbortController().signal));
    expect(midway).toEqual([{ type: 'text', text: 'Hel' }, 'error: LlmError: upstream 503']);
    const first = llm.stream(request('y'), new AbortController().signal)[Symbol.asyncIterator]();
    const error = await first.next().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect(llm.requests.map((r) => r.outcome)).toEqual(['failed', 'failed']);
  });

  it('holds a reply at a gate until the test opens it, and waits on the manual clock', async () => {
    const clock = createManualClock(0);
    const llm = createScriptedLlm({ clock });
    const stall = gate();
    llm.enqueue([text('Hello '), stall, waitMs(4_000), text('world.'), finish()]);
    const got: (LlmChunk | string)[] = [];
    const done = read(llm.stream(request('x'), new AbortController().signal), got);
    await stall.reached;
    expect(got).toEqual([{ type: 'text', text: 'Hello ' }]);
    await clock.advance(10_000);
    expect(got).toHaveLength(1);
    stall.open();
    await settle();
    expect(got).toHaveLength(1);
    await clock.advance(3_999);
    expect(got).toHaveLength(1);
    await clock.advance(1);
    await done;
    expect(got).toEqual([{ type: 'text', text: 'Hello ' }, { type: 'text', text: 'world.' }, { type: 'finish', reason: 'stop' }]);
    expect(clock.now()).toBe(14_000);
  });

  it('lets a stream pass straight through a gate that was opened before it got there', async () => {
    const llm = createScriptedLlm({ clock: createManualClock(0) });
    const early = gate();
    early.open();
    llm.enqueue([text('a'), early, text('b'), finish()]);
    expect(await read(llm.stream(request('x'), new AbortController().signal))).toHaveLength(3);
    expect(early.opened).toBe(true);
  });

  it('ends at once when aborted while it waits at a gate or on the clock, and records when', async () => {
    const clock = createManualClock(0);
    const llm = createScriptedLlm({ clock });
    const stall = gate();
    llm.enqueue([text('Hello '), stall, text('never'), finish()], [text('Hi '), waitMs(60_000), text('never'), finish()]);
    const atGate = new AbortController();
    const gated = read(llm.stream(request('gate'), atGate.signal));
    await stall.reached;
    await clock.advance(1_500);
    atGate.abort();
    expect(await gated).toEqual([{ type: 'text', text: 'Hello ' }, 'error: AbortError: This operation was aborted']);

    const onClock = new AbortController();
    const waiting = read(llm.stream(request('wait'), onClock.signal));
    await clock.advance(2_000);
    onClock.abort(new Error('superseded'));
    expect(await waiting).toEqual([{ type: 'text', text: 'Hi ' }, 'error: Error: superseded']);
    expect(clock.pendingTimers()).toBe(0);
    expect(llm.requests.map((r) => [r.outcome, r.aborted, r.abortedAt])).toEqual([
      ['aborted', true, 1_500],
      ['aborted', true, 3_500],
    ]);
  });

  it('delivers nothing more once aborted while the engine held a chunk, and an already aborted request sends nothing', async () => {
    const llm = createScriptedLlm({ clock: createManualClock(0) });
    llm.enqueue(says('one ', 'two ', 'three'), says('never'));
    const abort = new AbortController();
    const got: (LlmChunk | string)[] = [];
    const stream = llm.stream(request('x'), abort.signal)[Symbol.asyncIterator]();
    got.push((await stream.next()).value as LlmChunk);
    abort.abort();
    await stream.next().catch((err: Error) => got.push(`error: ${err.name}`));
    expect(got).toEqual([{ type: 'text', text: 'one ' }, 'error: AbortError']);
    const sent: string[] = [];
    const pre = new AbortController();
    pre.abort();
    expect(await read(llm.stream(request('y'), pre.signal, { onRequestSent: () => sent.push('sent') }))).toEqual([
      'error: AbortError: This operation was aborted',
    ]);
    expect(sent).toEqual([]);
    expect(llm.requests.map((r) => r.outcome)).toEqual(['aborted', 'aborted']);
  });

  it('records a stream the engine stopped reading without aborting as closed', async () => {
    const llm = createScriptedLlm({ clock: createManualClock(0) });
    llm.enqueue(says('one ', 'two'));
    for await (const chunk of llm.stream(request('x'), new AbortController().signal)) if (chunk.type === 'text') break;
    expect(llm.requests[0]).toMatchObject({ outcome: 'closed', aborted: false, chunks: [{ type: 'text', text: 'one ' }] });
  });

  it('says which request had nothing scripted, and counts requests for the test to wait on', async () => {
    const llm = createScriptedLlm({ clock: createManualClock(0) });
    const second = llm.requested(2);
    let reached = false;
    void second.then(() => (reached = true));
    await read(llm.stream(request('first'), new AbortController().signal));
    await settle();
    expect(reached).toBe(false);
    expect(await read(llm.stream(request('unscripted'), new AbortController().signal))).toEqual([
      'error: Error: scripted LLM: nothing scripted for request #1 (last message: {"role":"user","content":"unscripted"})',
    ]);
    await second;
    expect(llm.requests.map((r) => r.outcome)).toEqual(['failed', 'failed']);
  });
});
